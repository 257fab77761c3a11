//! The sandbox every build step runs in, as Nix runs its builders: new mount, PID, network,
//! IPC and UTS namespaces (and a user namespace mapping the caller to root inside when `recipe`
//! is not root). A step sees a fresh `/proc` holding only its own processes (never `recipe`'s
//! environment or memory), a private `/tmp`, the host name `recipe`, and no network but a
//! loopback that is down; when it ends, or when `recipe` dies (`kill -9` included), every
//! process left in its namespace is killed by the kernel.
//!
//! The step is started through the process layer as `recipe __sandbox --keep PATH... --
//! ARGV...` ([`Sandbox::command`]), so its process group, watchdog and death signal are the
//! process layer's as for any child; `main` enters [`main_if_sandbox`] before the CLI, and
//! [`init`] does the rest (namespaces, PID 1, mounts in [`mounts`]). [`Sandbox::check`] runs
//! the same setup once before a build (`--probe`), so a machine that cannot make namespaces
//! stops the build with an error naming what is missing, before any work; `--no-sandbox`
//! ([`Sandbox::Off`]) runs steps as plain children instead, and says so in the build log and
//! the entry's `meta.json` (such entries are never pushed to a remote cache).

mod init;
mod mounts;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    /// In the sandbox: `exe` is this `recipe` (run as `recipe __sandbox`), `keep` the paths
    /// every step needs to see where they are (the build cache, the `recipe` binary).
    On { exe: PathBuf, keep: Vec<PathBuf> },
    /// As plain children (`--no-sandbox`).
    Off,
}

impl Sandbox {
    /// The sandbox for steps that use `cache`, once this machine has shown it can make one
    /// (`recipe __sandbox --probe`: the namespaces, PID 1, the mounts).
    pub fn check(cache: &Path) -> Result<Sandbox, SandboxError> {
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
        let keep = vec![cache.to_path_buf(), exe.clone()];
        Ok(Sandbox::On { exe, keep })
    }

    pub fn is_on(&self) -> bool {
        matches!(self, Sandbox::On { .. })
    }

    /// The command that runs `argv` (its program looked up on the PATH the caller sets) in the
    /// sandbox, or plainly when it is off. `keep`: more paths the step must see where they are
    /// (the job's folders, its working folder).
    pub fn command(&self, argv: &[String], keep: &[&Path]) -> Command {
        match self {
            Sandbox::Off => {
                let mut c = crate::process::command(&argv[0]);
                c.args(&argv[1..]);
                c
            }
            Sandbox::On { exe, keep: always } => {
                let mut c = crate::process::command(exe);
                c.arg(MODE);
                for p in always
                    .iter()
                    .map(PathBuf::as_path)
                    .chain(keep.iter().copied())
                {
                    c.arg("--keep").arg(p);
                }
                c.arg("--").args(argv);
                c
            }
        }
    }
}

/// A line for the build log saying how the steps ran.
pub fn log_line(sandbox: &Sandbox) -> &'static str {
    match sandbox {
        Sandbox::On { .. } => {
            "==> sandbox: each step in new mount, PID, network, IPC and UTS namespaces (no network, a fresh /proc and /tmp)"
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
    fn commands_wrap_the_step_only_when_on() {
        let argv = vec!["make".to_string(), "-j2".to_string()];
        let off = Sandbox::Off.command(&argv, &[]);
        assert_eq!(off.get_program(), "make");
        let on = Sandbox::On {
            exe: "/r".into(),
            keep: vec!["/c".into()],
        }
        .command(&argv, &[Path::new("/w")]);
        assert_eq!(on.get_program(), "/r");
        let args: Vec<_> = on.get_args().collect();
        assert_eq!(
            args,
            [MODE, "--keep", "/c", "--keep", "/w", "--", "make", "-j2"]
        );
    }
}
