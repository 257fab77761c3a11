//! The smoke test's sandbox for a job, as the image will run: its root is the image's own
//! files, assembled in `smoke-root/` of the job's folder (the base contents with /etc/passwd
//! and /etc/group, the app files, the included recipes' files, the `[[image.file]]`s; copied,
//! owned as in the image when `recipe` is root), read-only but for the writable folders and
//! the scratch folder (`smoke/`, seen at [`CWD`]); the app runs as the image's user with the
//! image's environment and `[smoke] env`; a foreign arch's qemu-user binary is mounted at its
//! own path (an empty file made there in `smoke-root/` as the mount point: the one path the
//! image lacks). So a missing CA bundle, zoneinfo or user entry fails the smoke test of every
//! arch, not the container later.

use std::path::{Path, PathBuf};

use super::PipelineError;
use super::pack::{has_ca_bundle, image_env, image_user, root_entries};
use crate::build::AppFile;
use crate::image::{Entry, EntryKind, FileSource};
use crate::plan::{self, view::Mount};
use crate::recipe::Recipe;
use crate::sandbox::{Jail, Sandbox};

/// Where the app's scratch folder (its working folder and HOME) is in the smoke sandbox.
pub const CWD: &str = "/smoke";

/// The smoke sandbox for `job` (None with `--no-sandbox`: then the smoke test runs on this
/// machine as before). `extra` are the included recipes' files for this arch.
pub(super) fn jail(
    sandbox: &Sandbox,
    r: &Recipe,
    job: &plan::Job,
    app: &[AppFile],
    extra: &[AppFile],
) -> Result<Option<Jail>, PipelineError> {
    let Sandbox::On { exe } = sandbox else {
        return Ok(None);
    };
    let root = job.work.join("smoke-root");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PipelineError::Io { path, source }
    };
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(io(&root))?;
    }
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let user = image_user(r);
    let mut entries = root_entries(r, app, extra, &user);
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    for e in &entries {
        write_entry(&root, e)?;
    }
    let mut mounts = Vec::new();
    for w in &r.image.writable {
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
        real: job.work.join("smoke"),
        seen: CWD.into(),
        writable: true,
    });
    if let Ok(runner) = crate::smoke::runner(job.arch)
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
    let env = smoke_env(r, extra);
    Ok(Some(Jail {
        exe: exe.clone(),
        root,
        user: (user.uid, user.gid),
        mounts,
        cwd: CWD.into(),
        env,
    }))
}

/// The app's environment in its smoke test: the image's (`PATH`, `SSL_CERT_FILE` when `extra`
/// holds the CA bundle, `[image] env`), `HOME` the scratch folder, then `[smoke] env`; a name
/// set twice keeps its last value, at its first place.
pub(super) fn smoke_env(r: &Recipe, extra: &[AppFile]) -> Vec<(String, String)> {
    let mut env = image_env(r, has_ca_bundle(extra));
    env.insert(1, ("HOME".into(), CWD.into()));
    if let Some(s) = &r.smoke {
        env.extend(s.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in env {
        match out.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// Writes one image entry under `root`: folders with their mode, files copied (never linked:
/// the job's and the cache's files keep their inodes untouched), links as they are; owned as
/// in the image when `recipe` is root.
fn write_entry(root: &Path, e: &Entry) -> Result<(), PipelineError> {
    use std::os::unix::fs::PermissionsExt;
    let at = root.join(e.path.trim_start_matches('/'));
    let io = |source| PipelineError::Io {
        path: at.clone(),
        source,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(extra: &str) -> Recipe {
        let text = format!(
            "name = \"demo\"\nversion = \"1.0\"\nlicense = \"MIT\"\n\
             homepage = \"https://example.invalid\"\n[source]\npath = \"src\"\n\
             [build]\nsystem = \"make\"\n[app]\nfiles = [\"/usr/local/bin/demo\"]\n{extra}"
        );
        crate::recipe::parse(Path::new("demo.toml"), &text).unwrap()
    }

    /// PATH, HOME, the CA bundle's variable when included, the image's env, then `[smoke] env`
    /// over it (a name keeps its first place and its last value).
    #[test]
    fn the_smoke_env_is_the_image_env_then_the_smoke_env() {
        let r = recipe(
            "[smoke]\ncommand = [\"demo\", \"--version\"]\nexpect = \"1\"\n\
             env = { GREETING = \"hi\", HOME = \"/data\" }\n\
             [image]\nenv = { GREETING = \"image\", MODE = \"prod\" }\n",
        );
        let ca = AppFile {
            image_path: "/etc/ssl/certs/ca-certificates.crt".into(),
            host_path: "/x".into(),
            link: None,
        };
        let pairs = |v: Vec<(String, String)>| {
            v.into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs(smoke_env(&r, &[ca])),
            [
                "PATH=/usr/local/bin:/usr/bin:/bin",
                "HOME=/data",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                "GREETING=hi",
                "MODE=prod"
            ]
        );
        assert_eq!(
            pairs(smoke_env(&r, &[]))[..2],
            ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/data"]
        );
    }
}
