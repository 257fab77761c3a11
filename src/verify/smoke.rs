//! Smoke test: run a built binary (natively or under qemu-user) and check what it prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::arch::Arch;

/// The Debian package that ships the qemu-user binaries of the arch table.
pub const QEMU_PACKAGE: &str = "qemu-user-static";

/// At most this much combined output is kept (the rest is read and dropped).
pub const MAX_OUTPUT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    #[error(
        "cannot run {arch} binaries: `{qemu}` is not on PATH (install the Debian package \
         {package}: apt-get install {package})"
    )]
    MissingQemu {
        arch: Arch,
        qemu: &'static str,
        package: &'static str,
    },
    #[error(
        "cannot run {arch} binaries on this {host} machine: the arch table has no qemu-user binary for it"
    )]
    NoRunner { arch: Arch, host: &'static str },
    #[error("binary to smoke-test not found: {0}")]
    MissingBinary(PathBuf),
    #[error("cannot start `{command}`")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
}

/// What a smoke run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmokeOutcome {
    /// Output contains `expect`, and the program exited by itself (any exit status: many tools
    /// print `--help` with status 1 or 2) rather than by a signal or the timeout.
    pub passed: bool,
    /// Exit status; None when killed by a signal (including at the timeout).
    pub status: Option<i32>,
    /// stdout and stderr interleaved as written, lossily decoded, at most [`MAX_OUTPUT`] bytes.
    pub output: String,
    /// The command line as run, for the user to paste.
    pub command: String,
    /// Killed at the timeout.
    pub timed_out: bool,
    /// Why it failed (empty when it passed).
    pub reason: String,
}

fn find_on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// How to run a binary built for `arch` on this machine: natively when arch is the host's, else
/// under its qemu-user binary from the table (e.g. qemu-aarch64-static). Returns the argv prefix
/// (empty when native), or an error naming the missing qemu binary and the Debian package.
pub fn runner(arch: Arch) -> Result<Vec<String>, SmokeError> {
    if Arch::host() == Some(arch) {
        return Ok(Vec::new());
    }
    let Some(qemu) = arch.info().qemu else {
        return Err(SmokeError::NoRunner {
            arch,
            host: std::env::consts::ARCH,
        });
    };
    match find_on_path(qemu) {
        Some(p) => Ok(vec![p.to_string_lossy().into_owned()]),
        None => Err(SmokeError::MissingQemu {
            arch,
            qemu,
            package: QEMU_PACKAGE,
        }),
    }
}

pub(crate) use crate::plan::shell_quote;

/// Runs `binary args...` (via [`runner`]) with a timeout (the child is killed after `timeout`), in
/// `cwd`, with a clean environment (PATH, and HOME set to `cwd`), and checks that the combined output contains
/// `expect`.
pub fn run_smoke(
    arch: Arch,
    binary: &Path,
    args: &[String],
    expect: &str,
    cwd: &Path,
    timeout: Duration,
) -> Result<SmokeOutcome, SmokeError> {
    let binary = std::path::absolute(binary).unwrap_or_else(|_| binary.to_path_buf());
    if !binary.is_file() {
        return Err(SmokeError::MissingBinary(binary));
    }
    let mut argv = runner(arch)?;
    argv.push(binary.to_string_lossy().into_owned());
    argv.extend(args.iter().cloned());
    let command = argv
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = crate::process::command(&argv[0]);
    // HOME is the scratch folder, as for a service (apps that read ~/ must not see ours).
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", cwd);
    let captured = crate::process::capture(
        &mut cmd,
        crate::process::Capture {
            timeout: Some(timeout),
            max: MAX_OUTPUT,
            merge: true,
        },
    )
    .map_err(|source| SmokeError::Spawn {
        command: command.clone(),
        source,
    })?;
    let timed_out = captured.status.is_none();
    let mut output = String::from_utf8_lossy(&captured.stdout).into_owned();
    if captured.truncated {
        output.push_str("\n[output truncated]");
    }
    let status = captured.status;

    let code = status.and_then(|s| s.code());
    let reason = if timed_out {
        format!("timed out after {:.1?} and was killed", timeout)
    } else if code.is_none() {
        use std::os::unix::process::ExitStatusExt;
        match status.and_then(|s| s.signal()) {
            Some(sig) => format!("killed by signal {sig}"),
            None => "ended without an exit status".to_string(),
        }
    } else if !output.contains(expect) {
        format!(
            "output does not contain {expect:?} (exit status {})",
            code.unwrap_or(-1)
        )
    } else {
        String::new()
    };
    Ok(SmokeOutcome {
        passed: reason.is_empty(),
        status: code,
        output,
        command,
        timed_out,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_runner_is_empty() {
        if let Some(h) = Arch::host() {
            assert!(runner(h).unwrap().is_empty());
        }
    }

    /// The program sees PATH and a HOME of its own (the scratch folder), nothing of ours.
    #[test]
    fn the_environment_is_path_and_a_scratch_home() {
        let Some(host) = Arch::host() else { return };
        let d = tempfile::tempdir().unwrap();
        let home = format!("HOME={}", d.path().display());
        let o = run_smoke(
            host,
            Path::new("/usr/bin/env"),
            &[],
            &home,
            d.path(),
            Duration::from_secs(30),
        )
        .unwrap();
        assert!(o.passed, "{o:?}");
        let mut names: Vec<&str> = o
            .output
            .lines()
            .filter_map(|l| l.split('=').next())
            .collect();
        names.sort();
        assert_eq!(names, ["HOME", "PATH"], "{}", o.output);
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a/b-c"), "a/b-c");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn missing_qemu_names_the_package() {
        let e = SmokeError::MissingQemu {
            arch: Arch::Arm64,
            qemu: "qemu-aarch64-static",
            package: QEMU_PACKAGE,
        };
        let m = e.to_string();
        assert!(
            m.contains("qemu-aarch64-static") && m.contains("qemu-user-static"),
            "{m}"
        );
    }
}
