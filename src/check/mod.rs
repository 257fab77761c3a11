//! `recipe check`: can this app go distroless? Reads a file, a directory (a root filesystem, an
//! unpacked .deb), an OCI layout or an OCI/docker archive, classifies every file as it goes by
//! ([`classify`]), and gives each app a verdict with reasons ([`verdict`]).
//!
//! Hostile input never panics, hangs or allocates by a size it gives: only regular files are
//! opened (a FIFO, a device or a socket is refused or skipped with a note), JSON is capped
//! ([`Options::max_json`]), one file is read whole only up to [`Options::max_file_size`], layers
//! are capped in entries, name length, decompressed bytes and count ([`limits`]), loops are
//! bounded and symlinks resolve with a hop limit.

pub mod advice;
pub mod analyse;
pub mod classify;
pub mod image;
pub mod limits;
pub mod registry;
pub mod render;
pub mod report;
pub mod tree;
pub mod verdict;

use std::fs::File;
use std::io::{Read, Seek};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub use analyse::analyse_image;
pub use classify::{FileInfo, FileKind};
pub use report::{App, Evidence, PlatformReport, Report, Summary, TargetKind};
pub use verdict::{Judgement, Verdict, judge};

use crate::arch::Arch;
use crate::text::{Escaped, path as shown};
use analyse::{Context, app};
use tree::{Node, Tree};

/// What to check and the limits that keep hostile input cheap.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only this platform of an image; for files, the arch they must be for.
    pub arch: Option<Arch>,
    /// Largest JSON blob (index, manifest, config) read: 16 MiB.
    pub max_json: u64,
    /// Largest single file read whole (out of a layer, or mapped from a directory): 512 MiB
    /// (a larger ELF is "too large to check"; other files are judged by their head).
    pub max_file_size: u64,
    /// Most bytes one layer may decompress to ([`limits::MAX_LAYER_BYTES`]).
    pub max_layer_bytes: u64,
    /// Most bytes the layers of one target may decompress to ([`limits::MAX_IMAGE_BYTES`]).
    pub max_image_bytes: u64,
    /// Most entries applied (read or replayed) and judged for one target, every platform
    /// together ([`limits::MAX_TARGET_ENTRIES`]).
    pub max_target_entries: usize,
    /// Reports already made of ELF files, by (arch, hex sha256 of the bytes): the records of
    /// the jobs whose image `recipe build` checks right after writing it. A file with these
    /// bytes, checked for that arch, takes its report instead of being parsed again.
    pub known: Known,
}

/// See [`Options::known`].
pub type Known =
    std::sync::Arc<std::collections::BTreeMap<(Arch, String), crate::verify::ElfReport>>;

impl Default for Options {
    fn default() -> Self {
        Options {
            arch: None,
            max_json: 16 << 20,
            max_file_size: 512 << 20,
            max_layer_bytes: limits::MAX_LAYER_BYTES,
            max_image_bytes: limits::MAX_IMAGE_BYTES,
            max_target_entries: limits::MAX_TARGET_ENTRIES,
            known: Known::default(),
        }
    }
}

impl Options {
    /// These options with [`limits::ENV_MAX_UNPACKED`] applied: the one place it is read.
    pub(crate) fn with_env(&self) -> Result<Options, CheckError> {
        let mut o = self.clone();
        match limits::unpacked_from_env() {
            Ok(None) => {}
            Ok(Some(cap)) => {
                o.max_image_bytes = cap;
                o.max_layer_bytes = o.max_layer_bytes.min(cap);
            }
            Err(value) => return Err(CheckError::Env { value }),
        }
        Ok(o)
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CheckError {
    #[error("cannot read {}: {error}", shown(path))]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Something inside the target is wrong; [`check_path`] adds the target's path.
    #[error("{}", Escaped(what))]
    Corrupt { what: String },
    #[error("{}: {}", shown(path), Escaped(what))]
    #[diagnostic(help(
        "recipe check reads a file, a directory, an OCI layout, or an OCI or docker archive"
    ))]
    Target { path: PathBuf, what: String },
    #[error("`{}` is `{}`: not a size", limits::ENV_MAX_UNPACKED, Escaped(value))]
    #[diagnostic(help("a size in bytes, or with a suffix: `512M`, `16G`"))]
    Env { value: String },
    /// An argument that is no file here and names no registry.
    #[error(
        "`{}`: no such file or directory, and no image reference with a registry",
        Escaped(target)
    )]
    #[diagnostic(help(
        "a registry image is `HOST[:PORT]/REPO[:TAG|@DIGEST]` or `docker://REFERENCE`; a local \
         engine's image `podman:IMAGE` or `docker-daemon:IMAGE`"
    ))]
    NoTarget { target: String },
    #[error("invalid image reference `{}`: {reason}", Escaped(target))]
    Reference { target: String, reason: String },
    /// Something inside a pulled or saved image is wrong.
    #[error("`{reference}`: {}", Escaped(what))]
    Pulled { reference: String, what: String },
    /// The registry did not give an object of the image.
    #[error("cannot read the {object} of `{reference}`: {failure}")]
    Fetch {
        reference: String,
        /// `layer sha256:… of linux/arm64`.
        object: String,
        failure: crate::registry::Failure,
    },
    #[error(
        "the {object} of `{reference}` is {size} bytes, more than {}, the limit for {cap}",
        crate::size::Bytes(*limit)
    )]
    #[diagnostic(help(
        "layers are limited by `RECIPE_CHECK_MAX_UNPACKED` (64 GiB for a whole image, 16 GiB for \
         one layer by default); manifests to 4 MiB, image JSON to 16 MiB"
    ))]
    TooLarge {
        reference: String,
        object: String,
        size: u64,
        limit: u64,
        /// `one layer`, `all layers`, `a manifest`, `image JSON`.
        cap: &'static str,
    },
    /// A local engine could not save the image.
    #[error(
        "cannot save `{}` from its engine: `{}` failed: {detail}",
        Escaped(target),
        Escaped(command)
    )]
    Engine {
        target: String,
        command: String,
        detail: String,
    },
}

fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// Checks a target on disk: a file, a directory, an OCI layout or an OCI/docker archive,
/// recognised by content.
pub fn check_path(path: &Path, opts: &Options) -> Result<Report, CheckError> {
    let opts = &opts.with_env()?;
    let target = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|error| CheckError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let in_target = |e: CheckError| match e {
        CheckError::Corrupt { what } => CheckError::Target {
            path: path.to_path_buf(),
            what,
        },
        e => e,
    };
    if meta.is_dir() {
        return match image::dir_kind(path) {
            Some(kind) => {
                let mut blobs = image::DirBlobs {
                    root: path.to_path_buf(),
                };
                let platforms = if kind == "oci-layout" {
                    image::check_oci(&mut blobs, opts)
                } else {
                    image::check_docker(&mut blobs, opts)
                }
                .map_err(in_target)?;
                Ok(image_report(target, TargetKind::OciLayout, platforms, opts))
            }
            None => check_dir(path, opts).map_err(in_target),
        };
    }
    if !meta.is_file() {
        return Err(CheckError::Target {
            path: path.to_path_buf(),
            what: format!(
                "{}, not a regular file or a directory",
                crate::walk::kind_name(meta.file_type())
            ),
        });
    }
    let (file, meta) = crate::walk::open_regular(path, true).map_err(|error| CheckError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let mut head = [0u8; 512];
    let n = read_head(&file, &mut head).map_err(|error| CheckError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    if is_tar(&head[..n]) {
        let mut r = std::io::BufReader::new(file);
        let mut report = check_archive(&mut r, opts).map_err(in_target)?;
        report.target = target;
        return Ok(report);
    }
    let info = read_disk(&file, path, meta.len(), opts)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let app = app(
        &target,
        None,
        name.as_deref().unwrap_or(""),
        &info.kind,
        opts.arch,
        Context::default(),
    );
    let mut p = empty_platform(None, opts.arch);
    if let Some(rt) = classify::runtime_evidence(&target) {
        p.runtimes.push(Evidence {
            runtime: rt,
            files: 1,
            example: target.clone(),
        });
    }
    p.apps.push(app);
    p.answer = analyse::answer(&p.apps, p.arch);
    Ok(Report {
        target,
        kind: TargetKind::File,
        platforms: vec![p],
        notes: Vec::new(),
    })
}

/// Reads the first bytes of `f` (at offset 0, whatever its position).
fn read_head(f: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], n as u64)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Classifies a regular file on disk as a layer's files are: by its first [`classify::HEAD`]
/// bytes, and mapped whole only when an ELF or PE needs it and it is at most
/// `opts.max_file_size` (larger: [`FileKind::TooLarge`], never mapped).
fn read_disk(file: &File, path: &Path, len: u64, opts: &Options) -> Result<FileInfo, CheckError> {
    use std::os::unix::fs::PermissionsExt;
    let read = |error| CheckError::Read {
        path: path.to_path_buf(),
        error,
    };
    let mode = file
        .metadata()
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0);
    let name = path.to_string_lossy();
    let mut head = vec![0u8; (len.min(classify::HEAD as u64)) as usize];
    let n = read_head(file, &mut head).map_err(read)?;
    head.truncate(n);
    let kind = if !classify::wants_full(&name, &head) {
        classify::classify_known(&name, mode, &head, opts.arch, &opts.known)
    } else if len > opts.max_file_size {
        FileKind::TooLarge {
            size: len,
            limit: opts.max_file_size,
        }
    } else if len as usize == head.len() {
        classify::classify_known(&name, mode, &head, opts.arch, &opts.known)
    } else {
        // SAFETY: the map is read-only and dropped before returning; a file truncated by
        // another process meanwhile is the one risk mmap carries, accepted for a checker.
        let map = unsafe { memmap2::Mmap::map(file) }.map_err(read)?;
        classify::classify_known(&name, mode, &map, opts.arch, &opts.known)
    };
    Ok(FileInfo {
        kind,
        mode,
        size: len,
    })
}

/// Checks an archive held by any seekable reader (a file, or bytes in memory for a fuzzer): an
/// OCI archive (a tar of a layout) or a docker archive (`docker save`).
pub fn check_archive<R: Read + Seek>(mut r: R, opts: &Options) -> Result<Report, CheckError> {
    let mut blobs = image::TarBlobs::index(&mut r)?;
    let (kind, platforms) = if blobs.has("oci-layout") && blobs.has("index.json") {
        (TargetKind::OciArchive, image::check_oci(&mut blobs, opts)?)
    } else if blobs.has("manifest.json") {
        (
            TargetKind::DockerArchive,
            image::check_docker(&mut blobs, opts)?,
        )
    } else {
        return Err(CheckError::Corrupt {
            what: "a tar archive that is neither an OCI archive (no oci-layout and index.json) \
                   nor a docker archive (no manifest.json)"
                .to_string(),
        });
    };
    Ok(image_report("archive".to_string(), kind, platforms, opts))
}

fn image_report(
    target: String,
    kind: TargetKind,
    platforms: Vec<PlatformReport>,
    opts: &Options,
) -> Report {
    let mut notes = Vec::new();
    if platforms.is_empty() {
        notes.push(match opts.arch {
            Some(a) => format!("the image has no {a} platform"),
            None => "the image has no platform to check".to_string(),
        });
    }
    Report {
        target,
        kind,
        platforms,
        notes,
    }
}

fn empty_platform(platform: Option<String>, arch: Option<Arch>) -> PlatformReport {
    PlatformReport {
        platform,
        arch,
        entrypoint: None,
        user: None,
        apps: Vec::new(),
        other_executables: Vec::new(),
        glue: Vec::new(),
        answer: None,
        runtimes: Vec::new(),
        notes: Vec::new(),
    }
}

/// Walks a directory (without following symlinks), reading each regular file; FIFOs, devices
/// and sockets are skipped with a note, never opened.
fn check_dir(root: &Path, opts: &Options) -> Result<Report, CheckError> {
    let mut tree = Tree::default();
    let entries = crate::walk::walk(root).map_err(|e| CheckError::Read {
        path: e.path,
        error: e.source,
    })?;
    for e in entries {
        let rel = format!("/{}", e.rel.to_string_lossy());
        let path = e.path;
        if e.file_type.is_symlink() {
            if let Ok(t) = std::fs::read_link(&path) {
                tree.nodes
                    .insert(rel, Node::Symlink(t.to_string_lossy().into_owned()));
            }
        } else if e.file_type.is_dir() {
            continue;
        } else if !e.file_type.is_file() {
            tree.notes.push(format!(
                "skipped {rel}: {}, not a regular file",
                crate::walk::kind_name(e.file_type)
            ));
        } else {
            let info = match crate::walk::open_regular(&path, false) {
                Ok((f, meta)) => match read_disk(&f, &path, meta.len(), opts) {
                    Ok(i) => i,
                    Err(e) => {
                        tree.notes.push(e.to_string());
                        continue;
                    }
                },
                Err(e) => {
                    tree.notes.push(format!("skipped {rel}: {e}"));
                    continue;
                }
            };
            if let FileKind::TooLarge { size, limit } = info.kind {
                tree.notes.push(format!(
                    "skipped {rel}: {size} bytes, more than the {} one file may have to be \
                     checked",
                    crate::size::Bytes(limit)
                ));
            }
            tree.nodes.insert(rel, Node::File(info));
        }
    }
    let p = analyse::analyse_dir(&tree, opts.arch);
    Ok(Report {
        target: root.display().to_string(),
        kind: TargetKind::Directory,
        platforms: vec![p],
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = ::tar::Header::new_gnu();
            h.set_mode(0o755);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn docker(layer: Vec<u8>, entrypoint: &str) -> Vec<u8> {
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"Entrypoint":["{entrypoint}"]}}}}"#
        );
        tar(&[
            (
                "manifest.json",
                br#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}]"#,
            ),
            ("c.json", config.as_bytes()),
            ("l/layer.tar", &layer),
        ])
    }

    #[test]
    fn docker_archive_in_memory() {
        let layer = tar(&[
            ("app/run.sh", b"#!/bin/sh\necho hi\n"),
            ("bin/sh", b"\x7fELF"),
        ]);
        let r = check_archive(
            Cursor::new(docker(layer, "/app/run.sh")),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(r.kind, TargetKind::DockerArchive);
        let p = &r.platforms[0];
        assert_eq!(p.arch, Some(Arch::Amd64));
        assert_eq!(p.apps.len(), 1);
        assert_eq!(p.apps[0].verdict, Verdict::NeedsRuntime);
        assert_eq!(p.other_executables.len(), 1);
        assert_eq!(p.other_executables[0].verdict, Verdict::Unreadable);
        assert!(!r.distroless_ready());
    }

    #[test]
    fn missing_entrypoint_and_zstd_are_findings_not_crashes() {
        let r = check_archive(
            Cursor::new(docker(b"\x28\xb5\x2f\xfd garbage".to_vec(), "/nope")),
            &Options::default(),
        )
        .unwrap();
        let p = &r.platforms[0];
        assert!(
            p.notes[0].contains("unsupported layer compression"),
            "{:?}",
            p.notes
        );
        assert_eq!(p.apps[0].verdict, Verdict::Unreadable);
    }

    #[test]
    fn hostile_archives_are_errors() {
        let good = docker(tar(&[("a", b"x")]), "/a");
        for cut in [0, 100, 511, 700, good.len() / 2, good.len() - 1100] {
            let _ = check_archive(Cursor::new(&good[..cut]), &Options::default());
        }
        assert!(check_archive(Cursor::new(&good[..good.len() / 2]), &Options::default()).is_err());
        let e = check_archive(Cursor::new(tar(&[("x", b"y")])), &Options::default()).unwrap_err();
        assert!(e.to_string().contains("neither"), "{e}");
        // Bad JSON, a digest that escapes, a huge JSON blob.
        let bad = tar(&[("manifest.json", b"[{\"Config\":\"../x\"}]")]);
        assert!(check_archive(Cursor::new(bad), &Options::default()).is_err());
        let opts = Options {
            max_json: 8,
            ..Options::default()
        };
        let e = check_archive(Cursor::new(good), &opts).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        let oci = tar(&[
            ("oci-layout", b"{}"),
            (
                "index.json",
                br#"{"manifests":[{"digest":"sha256:../../x"}]}"#,
            ),
        ]);
        assert!(check_archive(Cursor::new(oci), &Options::default()).is_err());
        // An index pointing at itself does not loop.
        let selfref = tar(&[
            ("oci-layout", b"{}"),
            ("index.json", br#"{"manifests":[{"digest":"sha256:aa"}]}"#),
            (
                "blobs/sha256/aa",
                br#"{"manifests":[{"digest":"sha256:aa"}]}"#,
            ),
        ]);
        let r = check_archive(Cursor::new(selfref), &Options::default()).unwrap();
        assert!(r.platforms.is_empty() && !r.distroless_ready());
    }

    #[test]
    fn docker_layers_may_be_symlinks() {
        let layer = tar(&[("app", b"#!/bin/sh\n")]);
        let mut b = ::tar::Builder::new(Vec::new());
        let mut add = |name: &str, data: &[u8]| {
            let mut h = ::tar::Header::new_gnu();
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, name, data).unwrap();
        };
        add(
            "manifest.json",
            br#"[{"Config":"c.json","Layers":["l2/layer.tar"]}]"#,
        );
        add(
            "c.json",
            br#"{"architecture":"arm","variant":"v7","config":{"Cmd":["/app"]}}"#,
        );
        add("l1.tar", &layer);
        let mut h = ::tar::Header::new_gnu();
        h.set_entry_type(::tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "l2/layer.tar", "../l1.tar").unwrap();
        let bytes = b.into_inner().unwrap();
        let r = check_archive(Cursor::new(bytes), &Options::default()).unwrap();
        assert_eq!(r.platforms[0].arch, Some(Arch::Armv7));
        assert_eq!(r.platforms[0].apps[0].verdict, Verdict::NeedsRuntime);
    }

    #[test]
    fn mutated_archives_never_panic() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(
            &mut gz,
            &tar(&[("bin/app", b"\x7fELF\x02\x01\x01"), ("x/.wh..wh..opq", b"")]),
        )
        .unwrap();
        let good = docker(gz.finish().unwrap(), "/bin/app");
        assert!(check_archive(Cursor::new(&good), &Options::default()).is_ok());
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..400 {
            let mut b = good.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % b.len();
                b[i] = (seed >> 32) as u8;
            }
            let _ = check_archive(Cursor::new(b), &Options::default());
        }
    }
}
