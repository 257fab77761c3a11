//! The sandbox every build step runs in, as Nix runs its builders: new mount, PID, network,
//! IPC and UTS namespaces (and a user namespace mapping the caller to root inside when `recipe`
//! is not root). A step sees a fresh `/proc` holding only its own processes (never `recipe`'s
//! environment or memory), a private `/tmp`, the host name `recipe`, and no network but a
//! loopback that is down; when it ends, or when `recipe` dies (`kill -9` included), every
//! process left in its namespace is killed by the kernel.
//!
//! The step is started through the process layer as `recipe __sandbox --bind SRC DST...
//! --chdir DIR -- ARGV...` ([`Sandbox::command`]), so its process group, watchdog and death signal are the
//! process layer's as for any child; `main` enters [`main_if_sandbox`] before the CLI, and
//! [`init`] does the rest (namespaces, PID 1, mounts in [`mounts`]). [`Sandbox::check`] runs
//! the same setup once before a build (`--probe`), so a machine that cannot make namespaces
//! stops the build with an error naming what is missing, before any work; `--no-sandbox`
//! ([`Sandbox::Off`]) runs steps as plain children instead, and says so in the build log and
//! the entry's `meta.json` (such entries are never pushed to a remote cache).

mod init;
mod join;
mod mounts;
pub mod net;

pub use net::Net;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::plan::view::{self, Mount, View};

/// The first argument that selects the sandbox mode.
pub const MODE: &str = "__sandbox";

/// Runs the sandbox mode and returns its exit code when the first argument is [`MODE`];
/// `None` for every other command line.
pub fn main_if_sandbox() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != MODE {
        return None;
    }
    match init::parse(args.collect::<Vec<OsString>>()) {
        Ok(req) => Some(init::run(req)),
        Err(e) => {
            eprintln!("recipe {MODE}: {e}");
            Some(init::SETUP_FAILED)
        }
    }
}

/// The sandbox could not be made on this machine.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SandboxError {
    #[error("cannot run build steps in a sandbox: {what}")]
    #[diagnostic(help(
        "build steps run in their own namespaces (mount, PID, network, IPC, UTS; a user \
         namespace when not root): run `recipe` as root, or where user namespaces are allowed \
         (`user.max_user_namespaces` above 0; a container given CAP_SYS_ADMIN), or build \
         without the sandbox with `--no-sandbox` (recorded in the entry, which is then never \
         pushed to a remote cache)"
    ))]
    Unavailable { what: String },
}

/// How build steps run.
#[derive(Debug, Clone)]
pub enum Sandbox {
    /// In the sandbox: `exe` is this `recipe` (run as `recipe __sandbox`).
    On { exe: PathBuf },
    /// As plain children (`--no-sandbox`).
    Off,
}

impl Sandbox {
    /// The sandbox for build steps, once this machine has shown it can make one (`recipe
    /// __sandbox --probe`: the namespaces, PID 1, the new root).
    pub fn check() -> Result<Sandbox, SandboxError> {
        let unavailable = |what: String| SandboxError::Unavailable { what };
        let exe = std::env::current_exe()
            .map_err(|e| unavailable(format!("cannot find the `recipe` binary: {e}")))?;
        let mut cmd = crate::process::command(&exe);
        cmd.args([MODE, "--probe"]);
        let out = crate::process::capture(
            &mut cmd,
            crate::process::Capture {
                timeout: Some(std::time::Duration::from_secs(60)),
                merge: true,
                ..Default::default()
            },
        )
        .map_err(|e| unavailable(format!("cannot start `recipe {MODE}`: {e}")))?;
        if !out.success() {
            let text = out.stdout_text();
            let line = text.lines().last().unwrap_or("it failed without a reason");
            let what = line.strip_prefix("recipe sandbox: ").unwrap_or(line);
            return Err(unavailable(crate::text::escape(what).into_owned()));
        }
        Ok(Sandbox::On { exe })
    }

    pub fn is_on(&self) -> bool {
        matches!(self, Sandbox::On { .. })
    }

    /// The command that runs `argv` (its program looked up on the PATH the caller sets) in
    /// `cwd`, in the sandbox with `mounts` shown (besides the system folders), or plainly when
    /// it is off (then `mounts` are where they are and `cwd` is a real path).
    pub fn command(&self, argv: &[String], mounts: &[Mount], cwd: &Path) -> Command {
        match self {
            Sandbox::Off => {
                let mut c = crate::process::command(&argv[0]);
                c.args(&argv[1..]).current_dir(cwd);
                c
            }
            Sandbox::On { exe } => {
                let mut c = crate::process::command(exe);
                c.arg(MODE);
                for m in mounts {
                    c.arg(if m.writable { "--bind" } else { "--ro-bind" })
                        .arg(&m.real)
                        .arg(&m.seen);
                }
                c.arg("--chdir").arg(cwd).arg("--").args(argv);
                // The outer process starts anywhere; the step enters `cwd` inside.
                c.current_dir("/");
                c
            }
        }
    }

    /// Every mount a step of a job seen through `view` needs: the view's, the `recipe`
    /// binary and zig (at their fixed places), and the folders of the step's PATH and of its
    /// program that lie outside the system folders and the view (read-only, where they are:
    /// a Go launcher in a home folder, a test's tools).
    pub fn mounts(
        &self,
        view: &View,
        zig: Option<&Path>,
        path: Option<&str>,
        program: &Path,
    ) -> Vec<Mount> {
        let Sandbox::On { exe } = self else {
            return Vec::new();
        };
        // The executor made the view's folders (`build::run_job`); one that is gone is left out
        // rather than failing the step's setup.
        let mut out: Vec<Mount> = view
            .mounts
            .iter()
            .filter(|m| m.real.exists())
            .flat_map(|m| expand_links(m.clone()))
            .collect();
        if view.fixed {
            out.push(view::exe(exe));
            if let Some(z) = zig.and_then(|z| z.canonicalize().ok())
                && let (_, Some(m)) = view::zig(&z)
            {
                out.push(m);
            }
        }
        let mut dirs: Vec<PathBuf> = path
            .map(|p| std::env::split_paths(p).collect())
            .unwrap_or_default();
        if program.is_absolute()
            && let Some(parent) = program.parent()
        {
            dirs.push(parent.to_path_buf());
        }
        for d in dirs {
            let seen = out.iter().any(|m| d.starts_with(&m.seen));
            if d.is_absolute() && !seen && !view::in_system(&d) && d.is_dir() {
                out.push(Mount {
                    real: d.clone(),
                    seen: d,
                    writable: false,
                });
            }
        }
        out
    }
}

/// `m`, or, when its folder holds symlinks (a cache whose toolchains are links to a shared
/// install), one mount per entry of the folder, each link resolved: a link to a path outside
/// the mount would point at nothing in the sandbox.
fn expand_links(m: Mount) -> Vec<Mount> {
    let Ok(entries) = std::fs::read_dir(&m.real) else {
        return vec![m];
    };
    let entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    if !entries.iter().any(|p| p.is_symlink()) {
        return vec![m];
    }
    entries
        .into_iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_owned();
            Some(Mount {
                real: p.canonicalize().ok()?,
                seen: m.seen.join(name),
                writable: m.writable,
            })
        })
        .collect()
}

/// Where a smoke test's programs run, as the image would run them: a new root made of the
/// image's files (`root`, read-only), the `mounts` (its writable folders, the scratch folder at
/// `cwd`, the qemu-user binary) writable or not as they say, as the image's user, in network
/// namespace of its own with only a loopback that is up, with `env` and nothing else.
#[derive(Debug, Clone)]
pub struct Jail {
    /// This `recipe` (run as `recipe __sandbox`).
    pub exe: PathBuf,
    /// The image's files, assembled by the caller.
    pub root: PathBuf,
    /// The image's uid and gid.
    pub user: (u32, u32),
    pub mounts: Vec<Mount>,
    /// The working folder, as the program sees it.
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
}

/// The descriptor a smoke sandbox's net socket has in it (`--net-fd`).
const NET_FD: i32 = 3;

impl Jail {
    /// The command that runs `argv` (an image path, or qemu's then the image path) in a new
    /// smoke sandbox; with `net` (the end [`Net::pair`] gave), the sandbox serves `recipe`'s
    /// sockets on it and starts `argv` at [`Net::go`].
    pub fn command(&self, argv: &[String], net: Option<&std::os::fd::OwnedFd>) -> Command {
        let mut c = crate::process::command(&self.exe);
        c.arg(MODE)
            .arg("--root-from")
            .arg(&self.root)
            .arg("--user")
            .arg(format!("{}:{}", self.user.0, self.user.1))
            .arg("--lo-up");
        for m in &self.mounts {
            c.arg(if m.writable { "--bind" } else { "--ro-bind" })
                .arg(&m.real)
                .arg(&m.seen);
        }
        if let Some(fd) = net {
            use std::os::fd::AsRawFd;
            use std::os::unix::process::CommandExt;
            let raw = fd.as_raw_fd();
            c.arg("--net-fd").arg(NET_FD.to_string());
            // SAFETY: between fork and exec: dup2 (which leaves the copy open across exec)
            // or, when it already has the number, the close-on-exec flag cleared.
            unsafe {
                c.pre_exec(move || {
                    let r = if raw == NET_FD {
                        libc::fcntl(raw, libc::F_SETFD, 0)
                    } else {
                        libc::dup2(raw, NET_FD)
                    };
                    if r < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        self.finish(c, argv)
    }

    /// The command that runs `argv` inside the running smoke sandbox whose PID 1 is `pid`
    /// (see [`Net::init_pid`]), as the image's user, in `cwd`.
    pub fn join(&self, pid: i32, argv: &[String]) -> Command {
        let mut c = crate::process::command(&self.exe);
        c.arg(MODE)
            .arg("--join")
            .arg(pid.to_string())
            .arg("--user")
            .arg(format!("{}:{}", self.user.0, self.user.1));
        self.finish(c, argv)
    }

    fn finish(&self, mut c: Command, argv: &[String]) -> Command {
        c.arg("--chdir").arg(&self.cwd).arg("--").args(argv);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c.current_dir("/");
        c
    }

    /// Gives `path` (and what is in it) to the image's user, when `recipe` is root: the
    /// scratch folder and the smoke files written there by `recipe`. (Not root, the files are
    /// the caller's, which the sandbox maps to the image's user.)
    pub fn hand_over(&self, path: &Path) -> std::io::Result<()> {
        // SAFETY: geteuid(2).
        if unsafe { libc::geteuid() } != 0 {
            return Ok(());
        }
        let (uid, gid) = self.user;
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
        if std::fs::symlink_metadata(path)?.is_dir() {
            for e in std::fs::read_dir(path)? {
                self.hand_over(&e?.path())?;
            }
        }
        Ok(())
    }
}

/// A line for the build log saying how the steps ran.
pub fn log_line(sandbox: &Sandbox) -> &'static str {
    match sandbox {
        Sandbox::On { .. } => {
            "==> sandbox: each step in new mount, PID, network, IPC and UTS namespaces (no network, a fresh /proc and /tmp, the system folders read-only, the job's folder at /build)"
        }
        Sandbox::Off => {
            "==> no sandbox (--no-sandbox): steps see the network, the machine's processes and /tmp; this entry is never pushed to a remote cache"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_links_is_bound_entry_by_entry_each_link_resolved() {
        let t = tempfile::tempdir().unwrap();
        let (shared, cache) = (t.path().join("shared"), t.path().join("toolchains"));
        std::fs::create_dir_all(shared.join("zig-1")).unwrap();
        std::fs::create_dir_all(cache.join("own")).unwrap();
        std::os::unix::fs::symlink(shared.join("zig-1"), cache.join("zig-1")).unwrap();
        let m = Mount {
            real: cache.clone(),
            seen: "/recipe/cache/toolchains".into(),
            writable: false,
        };
        let mut got = expand_links(m.clone());
        got.sort_by(|a, b| a.seen.cmp(&b.seen));
        let canon = |p: PathBuf| p.canonicalize().unwrap();
        assert_eq!(
            got,
            vec![
                Mount {
                    real: canon(cache.join("own")),
                    seen: "/recipe/cache/toolchains/own".into(),
                    writable: false
                },
                Mount {
                    real: canon(shared.join("zig-1")),
                    seen: "/recipe/cache/toolchains/zig-1".into(),
                    writable: false
                },
            ]
        );
        std::fs::remove_file(cache.join("zig-1")).unwrap();
        assert_eq!(
            expand_links(m.clone()),
            vec![m],
            "no link: the folder as it is"
        );
    }

    #[test]
    fn commands_wrap_the_step_only_when_on() {
        let argv = vec!["make".to_string(), "-j2".to_string()];
        let off = Sandbox::Off.command(&argv, &[], Path::new("/w/src"));
        assert_eq!(off.get_program(), "make");
        assert_eq!(off.get_current_dir(), Some(Path::new("/w/src")));
        let mounts = [
            Mount {
                real: "/c/w".into(),
                seen: "/build".into(),
                writable: true,
            },
            Mount {
                real: "/c/t".into(),
                seen: "/t".into(),
                writable: false,
            },
        ];
        let on = Sandbox::On { exe: "/r".into() }.command(&argv, &mounts, Path::new("/build/src"));
        assert_eq!(on.get_program(), "/r");
        let args: Vec<_> = on.get_args().collect();
        assert_eq!(
            args,
            [
                MODE,
                "--bind",
                "/c/w",
                "/build",
                "--ro-bind",
                "/c/t",
                "/t",
                "--chdir",
                "/build/src",
                "--",
                "make",
                "-j2"
            ]
        );
    }
}
