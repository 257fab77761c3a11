//! What an image holds besides its build: its configuration (user, entrypoint, environment
//! with the CA bundle's variable, labels, health), the entries of its app and included files
//! with their modes, the recipe's own `[[image.file]]`s, the base root entries, each
//! platform's image, and the safety checks of image paths and the user.

use std::collections::BTreeMap;
use std::path::Path;

use super::pack::{ArchFiles, image_created};
use super::vex::ImageVex;
use super::{PipelineError, Settings};
use crate::build::AppFile;
use crate::image;
use crate::recipe::{self, Recipe};
use crate::{sbom, vex};

/// The image's user, as the image writer takes it.
pub(super) fn image_user(r: &Recipe) -> image::User {
    image::User {
        uid: r.image.user.uid,
        gid: r.image.user.gid,
        name: r.image.user.name.clone(),
    }
}

/// The CA bundle path OpenSSL, curl and Go look at first; `SSL_CERT_FILE` names it.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The image configuration of `r`: user, entrypoint, environment (with `SSL_CERT_FILE` when
/// every arch includes the CA bundle), labels (OCI annotations and accepted needs), health.
pub(super) fn image_config(
    settings: &Settings,
    r: &Recipe,
    per_arch: &[ArchFiles],
    user: &image::User,
) -> image::ImageConfig {
    let mut labels = r.image.labels.clone();
    labels.insert("org.opencontainers.image.title".into(), r.name.clone());
    labels.insert("org.opencontainers.image.version".into(), r.version.clone());
    labels.insert(
        "org.opencontainers.image.licenses".into(),
        r.license.clone(),
    );
    labels.insert("org.opencontainers.image.url".into(), r.homepage.clone());
    for (code, why) in &r.accept {
        labels.insert(format!("{}{code}", recipe::ACCEPT_LABEL), why.clone());
    }
    let has_ca = per_arch
        .iter()
        .all(|f| f.extra.iter().any(|e| e.image_path == CA_BUNDLE));
    let env = image_env(r, has_ca)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    image::ImageConfig {
        user: format!("{}:{}", user.uid, user.gid),
        entrypoint: r.image.entrypoint.clone(),
        cmd: r.image.cmd.clone(),
        env,
        workdir: r.image.workdir.clone(),
        exposed_ports: r.image.ports.clone(),
        volumes: r.image.volumes.clone(),
        labels,
        created_epoch: image_created(settings, per_arch),
        healthcheck: r.image.health.as_ref().map(|h| image::Healthcheck {
            argv: h.argv(),
            interval_secs: h.interval_secs,
            timeout_secs: h.timeout_secs,
            start_period_secs: h.start_period_secs,
            retries: h.retries,
        }),
    }
}

/// The image's environment, in order: PATH, `SSL_CERT_FILE` when it includes the CA bundle
/// (`has_ca`) and `[image] env` does not set it, then `[image] env`.
pub(super) fn image_env(r: &Recipe, has_ca: bool) -> Vec<(String, String)> {
    let mut env = vec![(
        "PATH".to_string(),
        "/usr/local/bin:/usr/bin:/bin".to_string(),
    )];
    if has_ca && !r.image.env.contains_key("SSL_CERT_FILE") {
        env.push(("SSL_CERT_FILE".into(), CA_BUNDLE.into()));
    }
    env.extend(r.image.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// Whether `files` hold the CA bundle at its place.
pub(super) fn has_ca_bundle(files: &[AppFile]) -> bool {
    files.iter().any(|e| e.image_path == CA_BUNDLE)
}

/// The files of one arch's image but its SBOM and VEX: the base contents, the app's and
/// included recipes' files (`extra`), the recipe's `[[image.file]]`s.
pub(super) fn root_entries(
    r: &Recipe,
    app: &[AppFile],
    extra: &[AppFile],
    user: &image::User,
) -> Vec<image::Entry> {
    let mut entries = image::base_entries(user, &r.image.writable);
    entries.extend(file_entries(app.iter().chain(extra)));
    entries.extend(recipe_file_entries(r, user));
    entries
}

/// One platform image per arch: the base contents, the app's and included recipes' files, the
/// recipe's `[[image.file]]`s, that arch's SBOM and the VEX (the same for every arch).
pub(super) fn platform_images(
    r: &Recipe,
    per_arch: &[ArchFiles],
    (sbom, vex): (&sbom::ImageSbom, &ImageVex),
    user: &image::User,
    config: &image::ImageConfig,
) -> Vec<image::PlatformImage> {
    per_arch
        .iter()
        .map(|f| {
            let mut entries = root_entries(r, &f.app, &f.extra, user);
            let doc = sbom.for_arch(f.arch).to_vec();
            entries.push(image::Entry::bytes(sbom::image_path(&r.name), 0o644, doc));
            if let Some(doc) = &vex.inside {
                entries.push(image::Entry::bytes(
                    vex::image_path(&r.name),
                    0o644,
                    doc.clone(),
                ));
            }
            image::PlatformImage {
                arch: f.arch,
                entries,
                config: config.clone(),
                history: format!("recipe build {} {}", r.name, r.version),
            }
        })
        .collect()
}

/// The entries of the recipe's `[[image.file]]`s: the bytes read at load time, the declared
/// mode, owned by root or by `user` (the image's user, a `--user` variant's too).
pub(super) fn recipe_file_entries(r: &Recipe, user: &image::User) -> Vec<image::Entry> {
    r.image
        .files
        .iter()
        .map(|f| {
            let bytes = f
                .contents
                .as_ref()
                .map(|c| c.bytes.to_vec())
                .unwrap_or_default();
            let (uid, gid) = match f.owner {
                recipe::Owner::Root => (0, 0),
                recipe::Owner::User => (user.uid, user.gid),
            };
            image::Entry {
                path: f.to.clone(),
                kind: image::EntryKind::File(image::FileSource::Bytes(bytes)),
                mode: f.mode,
                uid,
                gid,
            }
        })
        .collect()
}

/// The load-time rules once more, where the image's users and folders are written: whatever
/// called this, an image never gets a root user, a forged passwd line, a writable system
/// folder, an unread, setuid or world-writable image file or a user-owned one outside the
/// writable folders.
pub(super) fn image_safety(r: &Recipe, user: &image::User) -> Result<(), PipelineError> {
    let mut programs = r.app_files.clone();
    programs.extend(r.image.entrypoint.first().cloned());
    let check = recipe::rules::user_ids(user.uid, user.gid)
        .and_then(|_| recipe::rules::user_name(&user.name, user.uid))
        .and_then(|_| {
            r.image
                .writable
                .iter()
                .try_for_each(|w| recipe::rules::writable(w, &programs).map(|_| ()))
        })
        .and_then(|_| {
            r.image.files.iter().try_for_each(|f| {
                if f.contents.is_none() {
                    return Err(recipe::rules::Refusal {
                        message: format!(
                            "image file `{}` was never read from `{}`",
                            crate::text::escape(&f.to),
                            crate::text::escape(&f.from)
                        ),
                        help: String::new(),
                    });
                }
                recipe::rules::file_mode(&format!("{:o}", f.mode)).and_then(|mode| {
                    recipe::rules::file_owner(
                        &f.to,
                        mode,
                        f.owner == recipe::Owner::User,
                        &r.image.writable,
                    )
                })
            })
        });
    check.map_err(|refusal| PipelineError::UnsafeImage {
        recipe: r.name.clone(),
        reason: refusal.message,
    })
}

/// The image entries of installed files: each file once, owned by root, mode 0755 or 0644; a
/// file the install made a symlink stays one (relative), and the file it names is added.
pub(super) fn file_entries<'a>(files: impl Iterator<Item = &'a AppFile>) -> Vec<image::Entry> {
    let mut by_path: BTreeMap<String, image::Entry> = BTreeMap::new();
    let file = |path: &str, host: &Path| image::Entry {
        path: path.to_string(),
        kind: image::EntryKind::File(image::FileSource::Path(host.to_path_buf())),
        mode: file_mode(host),
        uid: 0,
        gid: 0,
    };
    for f in files {
        match &f.link {
            None => {
                by_path.insert(f.image_path.clone(), file(&f.image_path, &f.host_path));
            }
            Some((target, real)) => {
                by_path.insert(
                    f.image_path.clone(),
                    image::Entry {
                        path: f.image_path.clone(),
                        kind: image::EntryKind::Symlink(target.clone()),
                        mode: 0o777,
                        uid: 0,
                        gid: 0,
                    },
                );
                by_path
                    .entry(real.clone())
                    .or_insert_with(|| file(real, &f.host_path));
            }
        }
    }
    by_path.into_values().collect()
}

/// The image mode of an installed file: executables 0755, others 0644.
pub(super) fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0o644);
    if mode & 0o111 != 0 { 0o755 } else { 0o644 }
}
