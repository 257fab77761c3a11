//! A BuildKit build context of an image: a Dockerfile (`FROM scratch`, one `COPY` of the
//! target platform's tree, the image config) and one folder per platform holding the same file
//! tree as that platform's layer, written from the same entries (checked and completed by the
//! same `layer::plan`), so the context and the image cannot drift.
//!
//! What a context cannot carry exactly: `COPY` makes everything root-owned, so every entry not
//! owned by root gets its own `COPY --chown=UID:GID` line after the main one (for a folder, that
//! copies its contents with that owner; whether the folder itself changes owner is up to the
//! builder), and builders may set their own mtimes (the files here have the image's).

use std::fs;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use super::layer::{self, PlannedKind};
use super::layout::{parent_and_name, replace_dir};
use super::oci;
use super::{ImageConfig, ImageError, PlatformImage};
use crate::arch::Arch;

fn werr(path: &Path) -> impl FnOnce(io::Error) -> ImageError + '_ {
    move |source| ImageError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// The platform as BuildKit spells `TARGETPLATFORM` (`linux/amd64`, `linux/arm/v7`), from the
/// arch table: the folder of that platform's tree in a context.
pub fn platform_dir(arch: Arch) -> String {
    let p = oci::platform(arch);
    let mut s = format!("{}/{}", p.os(), p.architecture());
    if let Some(v) = p.variant() {
        s.push('/');
        s.push_str(v);
    }
    s
}

/// A Dockerfile double-quoted string: `\`, `"` and `$` escaped (no variable expansion).
fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' | '"' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array for the exec forms (ENTRYPOINT, CMD, VOLUME).
fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialise")
}

/// The Dockerfile of a context: `FROM scratch`, the platform's tree copied to `/`, one
/// `COPY --chown` per entry in `owned` (relative path, uid, gid, is a folder), then the config.
/// `platforms` and `title` only go into the comment at the top.
pub fn dockerfile(
    config: &ImageConfig,
    owned: &[(String, u32, u32, bool)],
    platforms: &[Arch],
    title: &str,
) -> String {
    let list: Vec<String> = platforms.iter().map(|a| platform_dir(*a)).collect();
    let mut s = format!(
        "# {title}: written by recipe (`recipe build --emit-context`).\n\
         # docker buildx build --platform {} .\n\
         FROM scratch\n\
         ARG TARGETPLATFORM\n\
         COPY ${{TARGETPLATFORM}}/ /\n",
        list.join(",")
    );
    for (rel, uid, gid, dir) in owned {
        let slash = if *dir { "/" } else { "" };
        let rel = rel.replace('$', "\\$");
        s.push_str(&format!(
            "COPY --chown={uid}:{gid} [\"${{TARGETPLATFORM}}/{rel}{slash}\", \"/{rel}{slash}\"]\n"
        ));
    }
    if !config.user.is_empty() {
        s.push_str(&format!("USER {}\n", config.user));
    }
    for e in &config.env {
        let (k, v) = e.split_once('=').unwrap_or((e, ""));
        s.push_str(&format!("ENV {k}={}\n", quoted(v)));
    }
    if let Some(w) = &config.workdir {
        s.push_str(&format!("WORKDIR {w}\n"));
    }
    for p in &config.exposed_ports {
        s.push_str(&format!("EXPOSE {p}\n"));
    }
    if !config.volumes.is_empty() {
        s.push_str(&format!("VOLUME {}\n", json_array(&config.volumes)));
    }
    for (k, v) in &config.labels {
        s.push_str(&format!("LABEL {}={}\n", quoted(k), quoted(v)));
    }
    if !config.entrypoint.is_empty() {
        s.push_str(&format!("ENTRYPOINT {}\n", json_array(&config.entrypoint)));
    }
    if !config.cmd.is_empty() {
        s.push_str(&format!("CMD {}\n", json_array(&config.cmd)));
    }
    s
}

/// Sets the mtime (and atime) of `path`, not following a symlink, to `epoch`.
fn set_mtime(path: &Path, epoch: u64) -> Result<(), ImageError> {
    let t = filetime::FileTime::from_unix_time(epoch as i64, 0);
    filetime::set_symlink_file_times(path, t, t).map_err(werr(path))
}

/// Writes one platform's tree under `root` (which exists): every planned entry with its mode
/// and the image's mtime.
fn write_tree(root: &Path, image: &PlatformImage) -> Result<(), ImageError> {
    let plan = layer::plan(&image.entries)?;
    let mut written: Vec<(PathBuf, u32, bool)> = Vec::new();
    for p in &plan {
        let path = root.join(&p.rel);
        match p.kind {
            PlannedKind::Dir => {
                fs::create_dir(&path).map_err(werr(&path))?;
                written.push((path, p.mode, true));
            }
            PlannedKind::Bytes(b) => {
                fs::write(&path, b).map_err(werr(&path))?;
                written.push((path, p.mode, true));
            }
            PlannedKind::Path(src) => {
                let meta = fs::metadata(src).map_err(|source| ImageError::Read {
                    path: src.to_path_buf(),
                    source,
                })?;
                if !meta.is_file() {
                    return Err(ImageError::NotAFile {
                        source_path: src.to_path_buf(),
                        image_path: format!("/{}", p.rel),
                    });
                }
                fs::copy(src, &path).map_err(|source| ImageError::Read {
                    path: src.to_path_buf(),
                    source,
                })?;
                written.push((path, p.mode, true));
            }
            PlannedKind::Symlink(t) => {
                symlink(t, &path).map_err(werr(&path))?;
                written.push((path, 0, false));
            }
        }
    }
    // Children before parents, so a read-only folder is made read-only last.
    for (path, mode, chmod) in written.iter().rev() {
        if *chmod {
            fs::set_permissions(path, fs::Permissions::from_mode(*mode)).map_err(werr(path))?;
        }
        set_mtime(path, image.config.created_epoch)?;
    }
    Ok(())
}

/// Writes a BuildKit build context at `dir`: `Dockerfile` and one folder per platform
/// ([`platform_dir`]: `linux/amd64`, `linux/arm64`, `linux/arm/v7`) holding the file tree of
/// that platform's layer. Every platform must have the same config (a Dockerfile has one).
///
/// Atomic: written into a temporary sibling and renamed over `dir` when complete.
pub fn write_context(dir: &Path, images: &[PlatformImage]) -> Result<(), ImageError> {
    let mut sorted: Vec<&PlatformImage> = images.iter().collect();
    sorted.sort_by_key(|i| i.arch);
    let Some(first) = sorted.first() else {
        return Err(ImageError::NoPlatforms);
    };
    for w in sorted.windows(2) {
        if w[0].arch == w[1].arch {
            return Err(ImageError::DuplicateArch(w[0].arch));
        }
        if w[0].config != w[1].config {
            return Err(ImageError::ConfigsDiffer);
        }
    }
    // Entries not owned by root, by path, over every platform (the base ones are the same).
    let mut owned: Vec<(String, u32, u32, bool)> = Vec::new();
    for i in &sorted {
        for p in layer::plan(&i.entries)? {
            if (p.uid, p.gid) != (0, 0) && !owned.iter().any(|o| o.0 == p.rel) {
                owned.push((p.rel.clone(), p.uid, p.gid, p.kind == PlannedKind::Dir));
            }
        }
    }
    owned.sort();

    let (parent, name) = parent_and_name(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(werr(&parent))?;
    for image in &sorted {
        let root = tmp.path().join(platform_dir(image.arch));
        fs::create_dir_all(&root).map_err(werr(&root))?;
        write_tree(&root, image)?;
    }
    let arches: Vec<Arch> = sorted.iter().map(|i| i.arch).collect();
    let text = dockerfile(&first.config, &owned, &arches, &first.history);
    let df = tmp.path().join("Dockerfile");
    fs::write(&df, text).map_err(werr(&df))?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).map_err(werr(tmp.path()))?;
    replace_dir(tmp, dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Entry, User, base_entries};
    use std::os::unix::fs::MetadataExt;

    fn images(t: &Path) -> Vec<PlatformImage> {
        Arch::ALL
            .iter()
            .map(|&arch| {
                let bin = t.join(format!("bin-{arch}"));
                fs::write(&bin, format!("binary for {arch}")).unwrap();
                let mut entries = base_entries(&User::default(), &["/data".to_string()]);
                entries.push(Entry::file("/usr/local/bin/app", 0o755, &bin));
                entries.push(Entry::symlink("/usr/bin/app", "/usr/local/bin/app"));
                PlatformImage {
                    arch,
                    entries,
                    config: ImageConfig {
                        entrypoint: vec!["/usr/local/bin/app".into()],
                        cmd: vec!["--port".into(), "6379".into()],
                        env: vec!["PATH=/bin".into(), "GREETING=a \"b\" $c".into()],
                        workdir: Some("/data".into()),
                        exposed_ports: vec!["6379/tcp".into()],
                        volumes: vec!["/data".into()],
                        created_epoch: 1_700_000_000,
                        ..ImageConfig::default()
                    },
                    history: "recipe build app 1.0".into(),
                }
            })
            .collect()
    }

    #[test]
    fn platform_dirs_come_from_the_arch_table() {
        assert_eq!(platform_dir(Arch::Amd64), "linux/amd64");
        assert_eq!(platform_dir(Arch::Arm64), "linux/arm64");
        assert_eq!(platform_dir(Arch::Armv7), "linux/arm/v7");
    }

    #[test]
    fn writes_trees_and_dockerfile() {
        let t = tempfile::tempdir().unwrap();
        let ctx = t.path().join("ctx");
        fs::create_dir(&ctx).unwrap();
        fs::write(ctx.join("stale"), "x").unwrap();
        write_context(&ctx, &images(t.path())).unwrap();
        assert!(!ctx.join("stale").exists());
        let arm = ctx.join("linux/arm/v7");
        assert_eq!(
            fs::read_to_string(arm.join("usr/local/bin/app")).unwrap(),
            "binary for armv7"
        );
        let m = fs::metadata(arm.join("usr/local/bin/app")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o755);
        assert_eq!(m.mtime(), 1_700_000_000);
        assert_eq!(
            fs::metadata(arm.join("tmp")).unwrap().mode() & 0o7777,
            0o1777
        );
        assert_eq!(
            fs::read_link(arm.join("usr/bin/app")).unwrap(),
            Path::new("/usr/local/bin/app")
        );
        // The link itself has the image's mtime; its target (here a host path) is not touched.
        assert_eq!(
            fs::symlink_metadata(arm.join("usr/bin/app"))
                .unwrap()
                .mtime(),
            1_700_000_000
        );
        let df = fs::read_to_string(ctx.join("Dockerfile")).unwrap();
        let expected = "\
# recipe build app 1.0: written by recipe (`recipe build --emit-context`).
# docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 .
FROM scratch
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/ /
COPY --chown=1000:1000 [\"${TARGETPLATFORM}/data/\", \"/data/\"]
USER 1000:1000
ENV PATH=\"/bin\"
ENV GREETING=\"a \\\"b\\\" \\$c\"
WORKDIR /data
EXPOSE 6379/tcp
VOLUME [\"/data\"]
ENTRYPOINT [\"/usr/local/bin/app\"]
CMD [\"--port\",\"6379\"]
";
        assert_eq!(df, expected);
        let names: Vec<_> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }

    #[test]
    fn differing_configs_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let mut imgs = images(t.path());
        imgs[1].config.user = "0:0".into();
        assert!(matches!(
            write_context(&t.path().join("ctx"), &imgs),
            Err(ImageError::ConfigsDiffer)
        ));
        assert!(!t.path().join("ctx").exists());
    }
}
