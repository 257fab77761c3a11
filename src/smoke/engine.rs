//! The container engine `recipe test` drives (podman, or docker): loading an image archive,
//! running its commands with a timeout and a cap on the output kept, the last log lines of a
//! container, and removing it. An engine command that fails or times out is
//! an [`EngineError`], naming the command (`recipe test` says it as
//! [`super::container::ContainerError::Engine`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::Capture;

/// An engine command that failed: the command as run, and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` failed: {detail}")]
pub struct EngineError {
    pub command: String,
    pub detail: String,
}

/// Output kept from one engine command.
pub(super) const MAX_ENGINE_OUTPUT: usize = 64 * 1024;
/// How long loading the image and other engine commands may take.
pub(super) const ENGINE_TIMEOUT: Duration = Duration::from_secs(300);
/// The container's last log lines shown with a failure.
pub(super) const LOG_LINES: usize = 20;

/// The engine: its program, and whether docker's `load` or podman's `pull docker-archive:`
/// loads the archive.
pub struct Engine {
    pub program: PathBuf,
}

impl Engine {
    /// Whether the engine is docker (its containers take the daemon's limits, not ours).
    pub(super) fn is_docker(&self) -> bool {
        self.program
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("docker"))
    }

    pub(super) fn run(&self, args: &[String], timeout: Duration) -> Result<String, EngineError> {
        let command = format!(
            "{} {}",
            self.program.display(),
            args.iter()
                .map(|a| crate::plan::shell_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut cmd = crate::process::command(&self.program);
        cmd.args(args).envs(std::env::vars_os());
        let out = crate::process::capture(
            &mut cmd,
            Capture {
                timeout: Some(timeout),
                max: MAX_ENGINE_OUTPUT,
                merge: false,
            },
        )
        .map_err(|e| EngineError {
            command: command.clone(),
            detail: e.to_string(),
        })?;
        if !out.success() {
            return Err(EngineError {
                command,
                detail: format!(
                    "{}: {}",
                    match out.status.and_then(|s| s.code()) {
                        Some(c) => format!("exit status {c}"),
                        None => "timed out or killed".into(),
                    },
                    crate::text::escape_lines(String::from_utf8_lossy(&out.stderr).trim_end())
                ),
            });
        }
        Ok(out.stdout_text())
    }

    /// Loads the docker-archive view of OUT/NAME/NAME-VERSION.oci.tar (the build machine's
    /// platform); returns the image ID.
    pub fn load(&self, archive: &Path) -> Result<String, EngineError> {
        let out = if self.is_docker() {
            self.run(
                &["load".into(), "-q".into(), "-i".into(), path_arg(archive)],
                ENGINE_TIMEOUT,
            )?
        } else {
            self.run(
                &[
                    "pull".into(),
                    "-q".into(),
                    format!("docker-archive:{}", path_arg(archive)),
                ],
                ENGINE_TIMEOUT,
            )?
        };
        // podman prints the ID; docker `Loaded image: NAME:TAG` or `Loaded image ID: sha256:..`.
        let last = out.lines().last().unwrap_or_default().trim();
        let id = last
            .rsplit_once(": ")
            .map_or(last, |(_, id)| id)
            .to_string();
        if id.is_empty() {
            return Err(EngineError {
                command: format!("load {}", archive.display()),
                detail: "the engine named no image".into(),
            });
        }
        Ok(id)
    }

    /// The container's output so far (stdout and stderr as `logs` gives them), its first
    /// [`super::service::MAX_OUTPUT`] bytes.
    pub(super) fn output(&self, container: &str) -> String {
        let mut cmd = crate::process::command(&self.program);
        cmd.args(["logs", container]).envs(std::env::vars_os());
        let out = crate::process::capture(
            &mut cmd,
            Capture {
                timeout: Some(Duration::from_secs(30)),
                max: super::service::MAX_OUTPUT as usize,
                merge: true,
            },
        );
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// The container's last [`LOG_LINES`] lines of output.
    pub(super) fn logs(&self, container: &str) -> String {
        let text = self.output(container);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(LOG_LINES)..].join("\n")
    }

    pub(super) fn remove(&self, container: &str) {
        let _ = self.run(
            &["rm".into(), "-f".into(), container.into()],
            Duration::from_secs(60),
        );
    }
}

fn path_arg(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .to_string_lossy()
        .into_owned()
}
