//! Packing: one image per app recipe from its verified files, the files of the recipes it
//! includes, its SBOM, its OpenVEX document and the base contents (what goes in:
//! [`super::contents`]); the image check of runtime files against the image; `--user`
//! variants; the image key and the stamp that skips an unchanged image; the binaries beside it.

use std::path::{Path, PathBuf};

use super::contents::{file_mode, image_config, image_safety, image_user, platform_images};
use super::vex::ImageVex;
use super::{Built, PipelineError, Settings};
use crate::arch::Arch;
use crate::build::AppFile;
use crate::image;
use crate::plan;
use crate::progress::{Event, Finished, Progress};
use crate::recipe::{self, Recipe};
use crate::sbom;
use crate::verify;
use crate::vex;
use std::collections::BTreeMap;

/// What an image is made of: the recipe (its image settings), the contents of its
/// `[[image.file]]`s, each arch's cache key, the date ([`image_created`]), this program's version,
/// how layers are compressed ([`crate::image::LAYER_FORMAT`]) and the SBOM. The same key means the same image bytes.
pub(super) fn image_key(
    settings: &Settings,
    r: &Recipe,
    keys: &[&str],
    (sbom, vex): (&sbom::ImageSbom, &ImageVex),
    per_arch: &[ArchFiles],
) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(plan::graph::BUILD_LOGIC);
    h.update(env!("CARGO_PKG_VERSION"));
    h.update(crate::image::LAYER_FORMAT);
    h.update(r.meaning());
    // The files beside the recipe: their declaration is in the text, their bytes are not.
    for f in &r.image.files {
        h.update(&f.to);
        h.update(f.contents.as_ref().map_or("unread", |c| c.sha256.as_str()));
    }
    h.update(image_created(settings, per_arch).to_le_bytes());
    for k in keys {
        h.update(k);
    }
    h.update(&sbom.combined);
    for (arch, doc) in &sbom.per_arch {
        h.update(arch.name());
        h.update(doc);
    }
    // The VEX inside the image; the one beside it follows from it and the image's digest.
    h.update(vex.inside.as_deref().unwrap_or(b"no vex"));
    hex::encode(h.finalize())
}

/// The image's `created` (and its files' mtime): an explicit SOURCE_DATE_EPOCH, else the newest
/// source date of its parts (the app's and its included recipes' entries, every arch), else 0.
pub(super) fn image_created(settings: &Settings, per_arch: &[ArchFiles]) -> u64 {
    settings
        .source_date_epoch
        .unwrap_or_else(|| per_arch.iter().filter_map(|f| f.date).max().unwrap_or(0))
}

/// Written beside a finished image: its key and summary. Written last, so it only ever
/// describes a complete layout and archive.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stamp {
    key: String,
    written: image::Written,
    /// What `recipe check` said of the image when it was written (every executable of every
    /// platform distroless-ready), so that an unchanged image is not read again to say it. A
    /// stamp without it (an older `recipe`'s), or saying no (from before an image that is not
    /// distroless failed its build), means "write the image again".
    #[serde(default)]
    distroless: Option<bool>,
}

/// The files of one arch's image: the app's (verified, also copied beside the image) and those
/// of the recipes it includes.
pub(super) struct ArchFiles {
    pub(super) arch: Arch,
    /// The newest source date of the app's and the included recipes' entries (their
    /// `meta.json`), if any has one.
    pub(super) date: Option<u64>,
    pub(super) app: Vec<AppFile>,
    pub(super) extra: Vec<AppFile>,
    /// The app files `[app] compress` packed, as they were before (from the cache entry).
    pub(super) packed: Vec<crate::build::compress::Packed>,
    /// What verification learned of the ELF files among `app` and `extra` (their jobs'
    /// records), by image path: nothing here parses them again.
    pub(super) reports: crate::verify::Reports,
}

/// The files an included recipe puts in an image: an app's verified files, or every file of a
/// library's tree (e.g. the CA bundle).
pub(super) fn part_files(
    node: &plan::Node,
    app_files: &[AppFile],
    cache_root: &Path,
) -> Result<Vec<AppFile>, PipelineError> {
    if !node.recipe.is_library() {
        return Ok(app_files.to_vec());
    }
    let dest = plan::graph::entry_dest(cache_root, &node.key);
    let entries = crate::walk::walk(&dest).map_err(|e| PipelineError::Io {
        path: e.path,
        source: e.source,
    })?;
    let mut files = Vec::new();
    for e in entries {
        let image_path = format!("/{}", e.rel.display());
        if e.file_type.is_file() {
            files.push(AppFile {
                image_path,
                host_path: e.path,
                link: None,
            });
        } else if e.file_type.is_symlink() {
            // Kept as a link when it stays inside the tree; never read through to the host.
            let r = crate::build::install::resolve(&dest, &image_path).map_err(|reason| {
                PipelineError::Build(crate::build::BuildError::BadLink {
                    recipe: node.recipe.name.clone(),
                    arch: node.arch,
                    reason,
                })
            })?;
            files.push(AppFile {
                image_path,
                host_path: r.host,
                link: r.link.map(|l| (l, r.image_path)),
            });
        }
    }
    Ok(files)
}

/// Checks each ELF file of each platform image against the image's whole file list: a binary
/// that reads a CA bundle, zoneinfo or the user database the image lacks gets a warning that
/// names the file (and the `include` that would add it).
fn image_check(
    r: &Recipe,
    images: &[image::PlatformImage],
    per_arch: &[ArchFiles],
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    for img in images {
        let expect = verify::Expect {
            arch: Some(img.arch),
            go: None,
            image_files: Some(img.entries.iter().map(|e| e.path.clone()).collect()),
        };
        let packed = per_arch
            .iter()
            .find(|a| a.arch == img.arch)
            .map_or(&[][..], |a| a.packed.as_slice());
        for e in &img.entries {
            let image::EntryKind::File(image::FileSource::Path(host)) = &e.kind else {
                continue;
            };
            let findings = match packed.iter().find(|p| p.path == e.path) {
                // A packed program hides its strings: the paths read before packing stand in.
                Some(p) => {
                    let files: Vec<verify::RuntimeFile> = p
                        .runtime
                        .iter()
                        .filter_map(|path| {
                            verify::RuntimeKind::PATHS
                                .iter()
                                .find(|(known, _)| known == path)
                                .map(|&(_, kind)| verify::RuntimeFile {
                                    path: path.clone(),
                                    kind,
                                })
                        })
                        .collect();
                    let mut findings = Vec::new();
                    verify::runtime::runtime_file_findings(&files, &expect, &mut findings);
                    findings
                }
                None => match per_arch
                    .iter()
                    .find(|a| a.arch == img.arch)
                    .and_then(|a| a.reports.get(&e.path))
                    .and_then(|(_, r)| r.facts.as_ref())
                {
                    // Its job's record: the runtime files it reads, against this image's files.
                    Some(facts) => {
                        let mut findings = Vec::new();
                        verify::runtime::runtime_file_findings(
                            &facts.runtime_files,
                            &expect,
                            &mut findings,
                        );
                        findings
                    }
                    None => {
                        let bytes = verify::read_file(host).map_err(io(host))?;
                        if !bytes.starts_with(b"\x7fELF") {
                            continue;
                        }
                        verify::check_elf_with(&bytes, &expect).findings
                    }
                },
            };
            for f in findings
                .iter()
                .filter(|f| f.severity == verify::Severity::Warning)
            {
                let verify::Code::RuntimeFile(kind) = f.code else {
                    continue;
                };
                let hint = match kind {
                    verify::RuntimeKind::CaBundle => {
                        " (add `include = [\"ca-certificates\"]` to [image])"
                    }
                    verify::RuntimeKind::Zoneinfo => " (add `include = [\"tzdata\"]` to [image])",
                    _ => "",
                };
                progress.warn(
                    &format!("{}/{}", r.name, img.arch),
                    &format!("{}: {}{hint}", e.path, f.message),
                );
            }
        }
    }
    Ok(())
}

/// The SBOM of `r`'s image: its recipe, every library its nodes reach through `depends` (host
/// tools are not linked in), the Go build info of each arch's app files, and the crates of a
/// cargo build.
pub(super) fn image_sbom(
    settings: &Settings,
    r: &Recipe,
    graph: &plan::Graph,
    roots: &[usize],
    per_arch: &[ArchFiles],
) -> Result<sbom::ImageSbom, PipelineError> {
    let libs: BTreeMap<String, Recipe> = graph
        .linked(roots)
        .into_iter()
        .filter(|i| !roots.contains(i))
        .map(|i| {
            (
                graph.nodes[i].recipe.name.clone(),
                graph.nodes[i].recipe.clone(),
            )
        })
        .collect();
    let mut go = Vec::new();
    for ArchFiles {
        arch,
        app,
        packed,
        reports,
        ..
    } in per_arch
    {
        let mut infos = Vec::new();
        for f in app {
            // A packed file hides its build info: the one read before packing stands in.
            if let Some(p) = packed.iter().find(|p| p.path == f.image_path) {
                infos.extend(p.go.clone());
                continue;
            }
            // No report: not an ELF file (its job's verification made none of it).
            if let Some((_, report)) = reports.get(&f.image_path) {
                infos.extend(report.facts.as_ref().and_then(|f| f.go.clone()));
            }
        }
        go.push((*arch, infos));
    }
    let libs: Vec<Recipe> = libs.into_values().collect();
    // Dated like the image itself (its `created`), so the three agree and stay reproducible.
    let created = image_created(settings, per_arch);
    let crates = roots
        .iter()
        .map(|&i| app_crates(settings, &graph.nodes[i]).map(|c| (graph.nodes[i].arch, c)))
        .collect::<Result<Vec<_>, _>>()?;
    let licences = debian_licences(settings, graph, roots);
    Ok(sbom::image_sbom(
        (r, &libs),
        &go,
        &crates,
        &licences,
        created,
    ))
}

/// What Debian's copyright file says of the licences of each Debian-sourced recipe the image
/// holds (the app's nodes and every library they reach), read from their cache entries.
fn debian_licences(
    settings: &Settings,
    graph: &plan::Graph,
    roots: &[usize],
) -> BTreeMap<String, sbom::Licences> {
    let cache = crate::cache::Cache::new(&settings.cache);
    let mut out = BTreeMap::new();
    for i in graph.linked(roots) {
        let node = &graph.nodes[i];
        if let Ok(meta) = cache.meta(&node.key)
            && let Some(l) = meta.debian.and_then(|d| d.licences)
        {
            out.entry(node.recipe.name.clone()).or_insert(l);
        }
    }
    out
}

/// The crates a cargo build recorded in its cache entry (none for other builds).
fn app_crates(settings: &Settings, node: &plan::Node) -> Result<Vec<sbom::Crate>, PipelineError> {
    if node.recipe.build.system != crate::recipe::System::Cargo {
        return Ok(Vec::new());
    }
    crate::cache::Cache::new(&settings.cache)
        .meta(&node.key)
        .map(|m| m.crates)
        .map_err(|why| PipelineError::EntryMeta {
            id: node.id(),
            key: node.key.clone(),
            why,
        })
}

/// The documents of an image: its SBOM and VEX (in the image and beside it) and its SLSA
/// provenance predicate (beside it, for `recipe push --signing-key` to attest).
pub(super) struct Documents<'a> {
    pub sbom: &'a sbom::ImageSbom,
    pub vex: &'a ImageVex,
    pub provenance: &'a [u8],
}

/// Where one image (the recipe's, or a `--user` variant) goes and what it is called.
struct Target {
    /// For progress lines: `redis`, or `redis as 99:100`.
    id: String,
    dir: PathBuf,
    /// The image tag: the version, or `VERSION-UID-GID` for a variant.
    tag: String,
    /// The image key (a variant's names its user).
    key: String,
    user: image::User,
    layout: PathBuf,
    archive: PathBuf,
    stamp: PathBuf,
    sbom: PathBuf,
    /// The OpenVEX document beside the image (written only when it states something).
    vex: PathBuf,
    /// The SLSA provenance predicate beside the image.
    provenance: PathBuf,
    bin_dirs: Vec<(Arch, PathBuf)>,
}

impl Target {
    /// Removes everything an image leaves in its folder (layout, archive, SBOM, VEX, binaries,
    /// stamp), whichever run wrote it; a removal that fails is an error, not a leftover.
    fn remove_all(&self) -> Result<(), PipelineError> {
        let dirs = std::iter::once(&self.layout).chain(self.bin_dirs.iter().map(|(_, d)| d));
        for dir in dirs {
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(dir)(e)),
                _ => {}
            }
        }
        for file in [
            &self.archive,
            &self.sbom,
            &self.vex,
            &self.provenance,
            &self.stamp,
        ] {
            match std::fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(file)(e)),
                _ => {}
            }
        }
        Ok(())
    }

    fn new(
        settings: &Settings,
        r: &Recipe,
        per_arch: &[ArchFiles],
        key: &str,
        variant: Option<&recipe::User>,
    ) -> Target {
        let (id, dir, tag, key, user) = match variant {
            None => (
                r.name.clone(),
                settings.out.join(&r.name),
                r.version.clone(),
                key.to_string(),
                image_user(r),
            ),
            Some(u) => (
                format!("{} as {}:{}", r.name, u.uid, u.gid),
                settings.out.join(format!("{}-{}-{}", r.name, u.uid, u.gid)),
                format!("{}-{}-{}", r.version, u.uid, u.gid),
                format!("{key}-user-{}-{}", u.uid, u.gid),
                image::User {
                    uid: u.uid,
                    gid: u.gid,
                    name: if u.name.is_empty() {
                        "app".into()
                    } else {
                        u.name.clone()
                    },
                },
            ),
        };
        Target {
            layout: dir.join("oci"),
            archive: dir.join(format!("{}-{tag}.oci.tar", r.name)),
            stamp: dir.join(".recipe-image.json"),
            sbom: dir.join(sbom::file_name(r)),
            vex: dir.join(vex::file_name(&r.name, &r.version)),
            provenance: dir.join(crate::sign::provenance::file_name(&r.name, &r.version)),
            bin_dirs: per_arch
                .iter()
                .map(|f| (f.arch, dir.join("bin").join(f.arch.name())))
                .collect(),
            id,
            dir,
            tag,
            key,
            user,
        }
    }

    fn built(&self, r: &Recipe, written: image::Written, distroless: bool) -> Built {
        Built {
            distroless,
            recipe: r.clone(),
            image: format!("{}:{}", r.name, self.tag),
            user: format!("{}:{}", self.user.uid, self.user.gid),
            layout: self.layout.clone(),
            archive: self.archive.clone(),
            written,
            binaries: self.bin_dirs.clone(),
        }
    }

    /// What the stamp says was written, when it is this image and all its parts are there.
    fn unchanged(&self, vex: &ImageVex) -> Option<(image::Written, bool)> {
        let bytes = std::fs::read(&self.stamp).ok()?;
        let stamp = serde_json::from_slice::<Stamp>(&bytes).ok()?;
        let whole = stamp.key == self.key
            && self.layout.join("index.json").is_file()
            && self.archive.is_file()
            && self.sbom.is_file()
            && self.vex.is_file() == vex.inside.is_some()
            && self.bin_dirs.iter().all(|(_, d)| d.is_dir());
        // A stamp saying no is from before that failed the build: the image is written again.
        (whole && stamp.distroless == Some(true)).then_some((stamp.written, true))
    }
}

pub(super) fn pack(
    settings: &Settings,
    r: &Recipe,
    per_arch: &[ArchFiles],
    docs: &Documents,
    key: &str,
    variant: Option<&recipe::User>,
    progress: &dyn Progress,
) -> Result<Built, PipelineError> {
    let (sbom, vex) = (docs.sbom, docs.vex);
    let t = Target::new(settings, r, per_arch, key, variant);
    progress.event(Event::Started { job: &t.id });
    let started = std::time::Instant::now();
    let finished = |how| Event::Finished {
        job: &t.id,
        how,
        elapsed: started.elapsed(),
    };
    image_safety(r, &t.user)?;
    // One `recipe` at a time writes an image folder; a second one waits, then finds the stamp.
    let _lock = lock_image_dir(&t.dir)?;
    // The same image is already there: nothing to write.
    // (--emit-context writes the image again: the context is made from its entries.)
    if settings.emit_context.is_none()
        && let Some((written, distroless)) = t.unchanged(vex)
    {
        // The provenance names who ran this build (the image's bytes do not): written anew.
        publish_file(&t.provenance, docs.provenance)?;
        progress.step(&t.id, "image (unchanged)");
        progress.event(finished(Finished::Cached));
        return Ok(t.built(r, written, distroless));
    }
    let _ = std::fs::remove_file(&t.stamp);
    progress.step(&t.id, "image");
    let config = image_config(settings, r, per_arch, &t.user);
    let images = platform_images(r, per_arch, (sbom, vex), &t.user, &config);
    let err = |source| PipelineError::Image {
        recipe: r.name.clone(),
        source,
    };
    image_check(r, &images, per_arch, progress)?;
    let written =
        image::write_layout(&t.layout, &format!("{}:{}", r.name, t.tag), &images).map_err(err)?;
    // What `recipe check` says of the image just written, every platform: not distroless fails,
    // and nothing of this image (nor of an earlier one in its folder) is left for `recipe test`,
    // `recipe push` or a pipeline to take.
    let known = per_arch
        .iter()
        .flat_map(|a| {
            a.reports
                .values()
                .map(|(sha, r)| ((a.arch, sha.clone()), r.clone()))
        })
        .collect();
    if let Err(e) = super::check::distroless(r, &t.layout, std::sync::Arc::new(known)) {
        t.remove_all()?;
        return Err(e);
    }
    if let (Some(ctx), None) = (&settings.emit_context, variant) {
        image::write_context(ctx, &images).map_err(err)?;
    }
    image::write_archive(&t.layout, &t.archive).map_err(err)?;
    // The SBOM, beside the image (for every arch; each layer holds its own arch's).
    publish_file(&t.sbom, &sbom.combined)?;
    // The VEX beside it names the image by the digest just written; none when nothing is
    // stated (and an earlier one goes).
    match vex.beside(r, &written.index_digest) {
        Some(doc) => publish_file(&t.vex, &doc)?,
        None => match std::fs::remove_file(&t.vex) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&t.vex)(e)),
            _ => {}
        },
    }
    publish_file(&t.provenance, docs.provenance)?;
    write_binaries(&t, per_arch)?;
    let stamp = serde_json::to_vec_pretty(&Stamp {
        key: t.key.clone(),
        written: written.clone(),
        distroless: Some(true),
    })
    .expect("stamp serialises");
    publish_file(&t.stamp, &stamp)?;
    progress.event(finished(Finished::Built));
    Ok(t.built(r, written, true))
}

/// The app binaries beside the image, one folder per arch, each folder replaced whole.
fn write_binaries(t: &Target, per_arch: &[ArchFiles]) -> Result<(), PipelineError> {
    for (ArchFiles { app, .. }, (_, bin_dir)) in per_arch.iter().zip(&t.bin_dirs) {
        let tmp = crate::publish::temp_dir_beside(bin_dir).map_err(io(bin_dir))?;
        for f in app {
            let name = Path::new(&f.image_path).file_name().unwrap();
            copy_binary(&f.host_path, &tmp.path().join(name))?;
        }
        crate::publish::replace_dir(&tmp.keep(), bin_dir).map_err(io(bin_dir))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` ([`crate::publish::write_file`]).
fn publish_file(path: &Path, bytes: &[u8]) -> Result<(), PipelineError> {
    crate::publish::write_file(path, bytes).map_err(io(path))
}

/// An I/O error about `path`, for `map_err`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PipelineError + use<> {
    let path = path.to_path_buf();
    move |source| PipelineError::Io { path, source }
}

/// Takes the lock of an image folder (`DIR/.lock`, held until dropped) and removes what a run
/// killed while holding it left behind (its temporary names start with a dot).
fn lock_image_dir(dir: &Path) -> Result<std::fs::File, PipelineError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(".lock");
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    file.lock().map_err(io(&path))?;
    let bin = dir.join("bin");
    let here = std::fs::read_dir(dir).map_err(io(dir))?;
    for e in here
        .chain(std::fs::read_dir(&bin).into_iter().flatten())
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        // Every hidden name in an image folder but the lock and the stamp is a temporary one
        // of ours (`.bin-*`, `.NAME.spdx.json.PID`, `.oci.tmp-*`, `.oci.old-*`, `.*.oci.tar.tmp-*`).
        let leftover = name.starts_with('.') && name != ".lock" && name != ".recipe-image.json";
        if leftover {
            let p = e.path();
            let _ = if e.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
    Ok(file)
}

/// Copies an app binary beside the image with a normal mode: 0755 when executable, else
/// 0644; never setuid, setgid or writable by others, whatever the install gave it.
fn copy_binary(from: &Path, to: &Path) -> Result<(), PipelineError> {
    use std::os::unix::fs::PermissionsExt;
    let mut src = std::fs::File::open(from).map_err(io(from))?;
    let mut dst = std::fs::File::create(to).map_err(io(to))?;
    std::io::copy(&mut src, &mut dst).map_err(io(from))?;
    dst.set_permissions(std::fs::Permissions::from_mode(file_mode(from)))
        .map_err(io(to))
}
