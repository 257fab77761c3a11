//! Smoke test: run a built binary (natively or under qemu-user) and check what it prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::outcome::{End, Ran};
use crate::arch::Arch;
use crate::sandbox::Net;

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

/// Where a smoke test's programs run.
#[derive(Clone, Copy)]
pub enum Place<'a> {
    /// A plain child of `recipe` in `cwd`, with PATH, HOME set to `cwd`, and `env` (the
    /// image's and `[smoke] env`, under `--no-sandbox`): the machine's files and network
    /// (`--no-sandbox`, unit tests, `recipe test`'s clients).
    Host {
        cwd: &'a Path,
        env: &'a [(String, String)],
    },
    /// As the image runs ([`crate::sandbox::Jail`]): a program is named by its path in the
    /// image. With `join`, inside the running sandbox whose PID 1 has that pid (a `run`
    /// request's client), else in a new one.
    Image {
        jail: &'a crate::sandbox::Jail,
        join: Option<i32>,
    },
}

impl Place<'_> {
    /// The argv that runs `binary args...` for `arch` here (under qemu-user for a foreign
    /// arch: in the image's sandbox, the emulator as it is mounted there).
    pub fn argv(
        &self,
        arch: Arch,
        binary: &Path,
        args: &[String],
    ) -> Result<Vec<String>, SmokeError> {
        let mut argv = runner(arch)?;
        if let (Place::Image { jail, .. }, Some(qemu)) = (self, argv.first_mut())
            && let Some(m) = jail
                .mounts
                .iter()
                .find(|m| m.real.as_os_str() == qemu.as_str())
        {
            *qemu = m.seen.to_string_lossy().into_owned();
        }
        argv.push(binary.to_string_lossy().into_owned());
        argv.extend(args.iter().cloned());
        Ok(argv)
    }

    /// The command that runs `argv` here; `net` is the sandbox's end of a [`Net::pair`].
    pub fn command(
        &self,
        argv: &[String],
        net: Option<&std::os::fd::OwnedFd>,
    ) -> std::process::Command {
        match self {
            Place::Host { cwd, env } => {
                let mut cmd = crate::process::command(&argv[0]);
                // HOME is the scratch folder, as for a service (apps that read ~/ must not see ours).
                cmd.args(&argv[1..])
                    .current_dir(cwd)
                    .env(
                        "PATH",
                        std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
                    )
                    .env("HOME", cwd)
                    .envs(env.iter().map(|(k, v)| (k, v)));
                cmd
            }
            Place::Image {
                jail,
                join: Some(pid),
            } => jail.join(*pid, argv),
            Place::Image { jail, join: None } => jail.command(argv, net),
        }
    }

    /// Whether `binary` is there to run.
    pub fn check(&self, binary: &Path) -> Result<PathBuf, SmokeError> {
        match self {
            Place::Host { .. } => {
                let binary = std::path::absolute(binary).unwrap_or_else(|_| binary.to_path_buf());
                if !binary.is_file() {
                    return Err(SmokeError::MissingBinary(binary));
                }
                Ok(binary)
            }
            Place::Image { jail, .. } => {
                let inside = jail.root.join(binary.strip_prefix("/").unwrap_or(binary));
                if !binary.is_absolute() || !inside.is_file() {
                    return Err(SmokeError::MissingBinary(binary.to_path_buf()));
                }
                Ok(binary.to_path_buf())
            }
        }
    }
}

/// The command line as a user would paste it.
pub fn shown(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `binary args...` (via [`runner`]) at `place` with a timeout (the child is killed after
/// `timeout`) and checks that the combined output contains `expect`.
pub fn run_smoke(
    arch: Arch,
    binary: &Path,
    args: &[String],
    expect: &str,
    place: Place,
    timeout: Duration,
) -> Result<Ran, SmokeError> {
    let binary = place.check(binary)?;
    let argv = place.argv(arch, &binary, args)?;
    let command = shown(&argv);
    let mut cmd = place.command(&argv, None);
    let captured = capture(&mut cmd, timeout);
    outcome(command, captured, expect, timeout)
}

/// [`run_smoke`] for a client app, with an HTTP server of `files` listening on 127.0.0.1
/// `port` where the app runs (`[smoke] serve = "http"`); also returns what the server was
/// asked.
#[allow(clippy::too_many_arguments)]
pub fn run_smoke_served(
    arch: Arch,
    binary: &Path,
    args: &[String],
    expect: &str,
    place: Place,
    timeout: Duration,
    port: u16,
    files: Vec<(String, Vec<u8>)>,
) -> Result<(Ran, Vec<String>), SmokeError> {
    let binary = place.check(binary)?;
    let argv = place.argv(arch, &binary, args)?;
    let command = shown(&argv);
    let serve_err = |source| SmokeError::Spawn {
        command: format!("an HTTP server on 127.0.0.1:{port}"),
        source,
    };
    let addr = std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port);
    let Place::Image { join: None, .. } = place else {
        let listener = Net::Host.listen(addr).map_err(serve_err)?;
        let server = super::serve::HttpServer::on(listener, files).map_err(serve_err)?;
        let mut cmd = place.command(&argv, None);
        let o = outcome(command, capture(&mut cmd, timeout), expect, timeout)?;
        return Ok((o, server.stop()));
    };
    // The sandbox's network exists once it runs: the server listens there (on a socket the
    // sandbox made), and then the app starts.
    let (net, theirs) = Net::pair().map_err(serve_err)?;
    let mut cmd = place.command(&argv, Some(&theirs));
    std::thread::scope(|scope| {
        let app = scope.spawn(move || {
            let c = capture(&mut cmd, timeout);
            drop(theirs);
            c
        });
        let server = net
            .listen(addr)
            .and_then(|l| super::serve::HttpServer::on(l, files))
            .and_then(|s| net.go().map(|()| s));
        let server = match server {
            Ok(s) => s,
            Err(e) => {
                drop(net);
                let _ = app.join();
                return Err(serve_err(e));
            }
        };
        let captured = app
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the smoke run panicked")));
        let asked = server.stop();
        Ok((outcome(command, captured, expect, timeout)?, asked))
    })
}

fn capture(
    cmd: &mut std::process::Command,
    timeout: Duration,
) -> std::io::Result<crate::process::Captured> {
    crate::process::capture(
        cmd,
        crate::process::Capture {
            timeout: Some(timeout),
            max: MAX_OUTPUT,
            merge: true,
        },
    )
}

fn outcome(
    command: String,
    captured: std::io::Result<crate::process::Captured>,
    expect: &str,
    timeout: Duration,
) -> Result<Ran, SmokeError> {
    let captured = captured.map_err(|source| SmokeError::Spawn {
        command: command.clone(),
        source,
    })?;
    let mut output = String::from_utf8_lossy(&captured.stdout).into_owned();
    if captured.truncated {
        output.push_str("\n[output truncated]");
    }
    use std::os::unix::process::ExitStatusExt;
    let end = match captured.status {
        None => End::TimedOut(timeout),
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => End::Exited(c),
            (None, Some(sig)) => End::Signal(sig),
            (None, None) => End::Unknown,
        },
    };
    Ok(Ran {
        command,
        expect: expect.to_string(),
        output,
        end,
        status: None,
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
            Place::Host {
                cwd: d.path(),
                env: &[],
            },
            Duration::from_secs(30),
        )
        .unwrap();
        assert!(o.passed(), "{o:?}");
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
        assert_eq!(shell_quote("it's"), r#""it's""#);
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
