//! The smoke test's sandbox for a job, as the image will run: its root is the image's own
//! files ([`Image::entries`], assembled by the caller: the base contents with /etc/passwd and
//! /etc/group, the app files, the included recipes' files, the `[[image.file]]`s), written to
//! `smoke-root/` of the job's folder (copied, owned as in the image when `recipe` is root),
//! read-only but for the writable folders and the scratch folder (`smoke/`, seen at [`CWD`]);
//! the app runs as the image's user with the image's environment and `[smoke] env`; a foreign
//! arch's qemu-user binary is mounted at its own path (an empty file made there in
//! `smoke-root/` as the mount point: the one path the image lacks). So a missing CA bundle,
//! zoneinfo or user entry fails the smoke test of every arch, not the container later.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::arch::Arch;
use crate::image::{Entry, EntryKind, FileSource};
use crate::plan::view::Mount;
use crate::sandbox::Jail;

/// Where the app's scratch folder (its working folder and HOME) is in the smoke sandbox.
pub const CWD: &str = "/smoke";

/// What an image holds, for its smoke sandbox.
pub struct Image<'a> {
    /// This `recipe` (run as `recipe __sandbox`).
    pub exe: &'a Path,
    /// The image's files but its SBOM and VEX.
    pub entries: Vec<Entry>,
    /// The image's uid and gid.
    pub user: (u32, u32),
    /// `[image] writable`.
    pub writable: &'a [String],
}

/// A file the root could not be made of: its path and why.
pub type RootError = (PathBuf, std::io::Error);

/// The smoke sandbox of the job whose folder is `work`, for `arch`, with `env`
/// (see [`env`]): `smoke-root/` made again from `image`, `smoke/` bound at [`CWD`].
pub fn jail(
    image: &Image,
    work: &Path,
    arch: Arch,
    env: Vec<(String, String)>,
) -> Result<Jail, RootError> {
    let root = work.join("smoke-root");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| (path, source)
    };
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(io(&root))?;
    }
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let mut entries: Vec<&Entry> = image.entries.iter().collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    for e in entries {
        write_entry(&root, e)?;
    }
    let mut mounts = Vec::new();
    for w in image.writable {
        let w = w.trim_end_matches('/');
        if w.is_empty() || w == "/tmp" {
            continue; // the sandbox's /tmp is a fresh tmpfs anyway
        }
        mounts.push(Mount {
            real: root.join(w.trim_start_matches('/')),
            seen: PathBuf::from(w),
            writable: true,
        });
    }
    mounts.push(Mount {
        real: work.join("smoke"),
        seen: CWD.into(),
        writable: true,
    });
    if let Ok(runner) = super::runner(arch)
        && let Some(qemu) = runner.first()
    {
        // The image's folders are mounted read-only: the mount point is made in the tree.
        let point = root.join(qemu.trim_start_matches('/'));
        if !point.exists() {
            if let Some(parent) = point.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&point, b"").map_err(io(&point))?;
        }
        mounts.push(Mount {
            real: qemu.into(),
            seen: qemu.into(),
            writable: false,
        });
    }
    Ok(Jail {
        exe: image.exe.to_path_buf(),
        root,
        user: image.user,
        mounts,
        cwd: CWD.into(),
        env,
    })
}

/// The app's environment in its smoke test: the image's (`image`: `PATH`, `SSL_CERT_FILE`
/// when the image holds the CA bundle, `[image] env`), `HOME` the scratch folder, then
/// `[smoke] env` (`smoke`); a name set twice keeps its last value, at its first place.
pub fn env(
    image: Vec<(String, String)>,
    smoke: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let mut env = image;
    env.insert(env.len().min(1), ("HOME".into(), CWD.into()));
    env.extend(smoke.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in env {
        match out.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// [`env`] for a program run on this machine instead (`--no-sandbox`, `recipe test`'s
/// clients): without `PATH` (the image's folders mean nothing here) and without the scratch
/// `HOME` (the caller sets its own) unless `[smoke] env` names another.
pub fn host_env(env: &[(String, String)]) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, v)| k != "PATH" && !(k == "HOME" && v == CWD))
        .cloned()
        .collect()
}

/// Writes one image entry under `root`: folders with their mode, files copied (never linked:
/// the job's and the cache's files keep their inodes untouched), links as they are; owned as
/// in the image when `recipe` is root.
fn write_entry(root: &Path, e: &Entry) -> Result<(), RootError> {
    use std::os::unix::fs::PermissionsExt;
    let at = root.join(e.path.trim_start_matches('/'));
    let io = |source| (at.clone(), source);
    if let Some(parent) = at.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    match &e.kind {
        EntryKind::Dir => {
            std::fs::create_dir_all(&at).map_err(io)?;
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode(e.mode)).map_err(io)?;
        }
        EntryKind::File(source) => {
            let _ = std::fs::remove_file(&at);
            match source {
                FileSource::Bytes(b) => std::fs::write(&at, b).map(|_| ()),
                FileSource::Path(p) => std::fs::copy(p, &at).map(|_| ()),
            }
            .map_err(io)?;
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode(e.mode)).map_err(io)?;
        }
        EntryKind::Symlink(target) => {
            let _ = std::fs::remove_file(&at);
            std::os::unix::fs::symlink(target, &at).map_err(io)?;
        }
    }
    // SAFETY: geteuid(2).
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::lchown(&at, Some(e.uid), Some(e.gid)).map_err(io)?;
    }
    Ok(())
}
