//! What the registries offer now, through their ordinary clients and the process layer: a Go
//! module's latest version (`go list -m -json MODULE@latest`), the newest stable Go toolchain
//! (`go list -m -versions -retracted -json golang.org/toolchain`) and the newest `ziglang` on PyPI
//! (`pip index versions ziglang`). Each with the host's registry settings
//! ([`crate::process::host_env`], so `GOPROXY` and pip's index come from the host), bounded in
//! time and output.

use std::path::Path;
use std::time::Duration;

/// Runs a registry client and returns its stdout, or a one-line reason.
fn client(cmd: &mut std::process::Command, shown: &str) -> Result<String, String> {
    let out = crate::process::capture(
        cmd,
        crate::process::Capture {
            timeout: Some(Duration::from_secs(120)),
            max: 4 << 20,
            merge: false,
        },
    )
    .map_err(|e| format!("`{shown}`: {e}"))?;
    if !out.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("`{shown}` failed: {}", last.trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn go(go: &Path, scratch: &Path) -> std::process::Command {
    let mut cmd = crate::process::command(go);
    cmd.current_dir(scratch)
        .envs(crate::process::host_env())
        .env("GO111MODULE", "on")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-modcacherw")
        .env("GOMODCACHE", scratch.join("modcache"));
    cmd
}

/// The Go module proxy's latest version of `module` (`go list -m -json MODULE@latest`, run
/// outside any module in `scratch`).
pub fn go_module(go_exe: &Path, scratch: &Path, module: &str) -> Result<String, String> {
    if module.starts_with('-') || module.contains(['@', ' ']) {
        return Err(format!(
            "invalid module path `{}`",
            crate::text::escape(module)
        ));
    }
    let spec = format!("{module}@latest");
    let text = client(
        go(go_exe, scratch).args(["list", "-m", "-json", &spec]),
        &format!("go list -m -json {spec}"),
    )?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    v.get("Version")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| "the proxy named no version".into())
}

/// Every stable Go release the proxy has as a toolchain module
/// (`v0.0.1-go1.26.8.linux-amd64` -> `1.26.8`), oldest first. `-retracted` takes the proxy's
/// list as it is: the toolchain module retracts nothing, and without it `go` would also fetch
/// the newest version's go.mod and check it against the checksum database, two more requests
/// for nothing (and a database a local proxy cannot stand in for).
pub fn go_toolchains(go_exe: &Path, scratch: &Path) -> Result<Vec<String>, String> {
    const ARGS: [&str; 6] = [
        "list",
        "-m",
        "-versions",
        "-retracted",
        "-json",
        "golang.org/toolchain",
    ];
    let text = client(
        go(go_exe, scratch).args(ARGS),
        &format!("go {}", ARGS.join(" ")),
    )?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let versions = v.get("Versions").and_then(|v| v.as_array()).cloned();
    let stable = stable_go(
        versions
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_str()),
    );
    if stable.is_empty() {
        return Err("the proxy lists no stable Go toolchain".into());
    }
    Ok(stable)
}

/// The stable `X.Y.Z` releases among toolchain module versions, oldest first (pure).
fn stable_go<'a>(versions: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut stable: Vec<String> = versions
        .filter_map(|v| v.strip_prefix("v0.0.1-go")?.strip_suffix(".linux-amd64"))
        .filter(|v| {
            v.split('.').count() == 3
                && v.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string)
        .collect();
    stable.sort_by(|a, b| compare_numbers(a, b));
    stable.dedup();
    stable
}

/// Go's release line of a version (`1.26.8` -> `1.26`).
pub fn go_line(version: &str) -> &str {
    match version.rsplit_once('.') {
        Some((line, _)) if line.contains('.') => line,
        _ => version,
    }
}

/// What a pinned Go should move to, from the releases the proxy lists (oldest first): Go keeps
/// its two newest release lines supported with point releases, which carry its security fixes.
/// While the pin's line is one of those, the newest release of that line; once two newer lines
/// exist, the newest release of all. Also returns the newest release of all.
pub fn go_target<'a>(pinned: &str, releases: &'a [String]) -> (Option<&'a str>, Option<&'a str>) {
    let newest = releases.last().map(String::as_str);
    let mut lines: Vec<&str> = releases.iter().map(|r| go_line(r)).collect();
    lines.dedup();
    let own = go_line(pinned);
    let supported = lines.iter().rev().take(2).any(|l| *l == own);
    let target = if supported {
        releases
            .iter()
            .rev()
            .find(|r| go_line(r) == own)
            .map(String::as_str)
    } else {
        newest
    };
    (target, newest)
}

/// The newest `ziglang` version on PyPI (`pip index versions ziglang`: its first line is
/// `ziglang (0.17.1)`).
pub fn zig(package: &str) -> Result<String, String> {
    let python = which("python3").ok_or("`python3` is not on PATH (needed for pip)")?;
    let mut cmd = crate::process::command(python);
    cmd.envs(crate::process::host_env()).args([
        "-m",
        "pip",
        "index",
        "versions",
        "--disable-pip-version-check",
        package,
    ]);
    let text = client(&mut cmd, &format!("pip index versions {package}"))?;
    pip_latest(&text, package).ok_or_else(|| format!("pip listed no version of {package}"))
}

fn pip_latest(text: &str, package: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.trim()
            .strip_prefix(package)?
            .trim()
            .strip_prefix('(')?
            .strip_suffix(')')
            .map(str::to_string)
    })
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Dotted numbers compared numerically, part by part.
fn compare_numbers(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parts(a).cmp(&parts(b))
}

/// Whether `a` is a newer version than `b`, as semantic versions (`v1.10.0` > `v1.9.3`; a
/// prerelease `-rc.1` below its release; `+incompatible` and build metadata ignored).
pub fn semver_newer(a: &str, b: &str) -> bool {
    let split = |s: &str| -> (Vec<u64>, Option<String>) {
        let s = s.trim_start_matches('v');
        let s = s.split('+').next().unwrap_or(s);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p.to_string())),
            None => (s, None),
        };
        (
            core.split('.').map(|p| p.parse().unwrap_or(0)).collect(),
            pre,
        )
    };
    let ((ca, pa), (cb, pb)) = (split(a), split(b));
    match ca.cmp(&cb) {
        std::cmp::Ordering::Equal => match (pa, pb) {
            (None, Some(_)) => true,
            (Some(x), Some(y)) => x > y,
            _ => false,
        },
        o => o.is_gt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(semver_newer("v1.10.0", "v1.9.3"));
        assert!(!semver_newer("v2.26.0", "v2.26.0"));
        assert!(semver_newer("v2.26.0", "v2.26.0-rc.1"));
        assert!(!semver_newer("v2.26.0-rc.1", "v2.26.0"));
        assert!(semver_newer("0.17.1", "0.17.0"));
        assert!(semver_newer("1.27.4", "1.26.8"));
        let got = stable_go(
            [
                "v0.0.1-go1.26.8.linux-amd64",
                "v0.0.1-go1.27.4.linux-amd64",
                "v0.0.1-go1.28rc1.linux-amd64",
                "v0.0.1-go1.27.10.linux-arm64",
                "v0.0.1-go1.26.11.linux-amd64",
                "v0.0.1-go1.9.7.linux-amd64",
                "v0.0.1-go1.21.linux-amd64",
            ]
            .into_iter(),
        );
        assert_eq!(got, ["1.9.7", "1.26.8", "1.26.11", "1.27.4"]);
        assert_eq!(
            pip_latest(
                "ziglang (0.17.1)\nAvailable versions: 0.17.1, 0.17.0\n",
                "ziglang"
            )
            .as_deref(),
            Some("0.17.1")
        );
    }

    /// A supported line moves to its own newest point release; a line two lines behind moves
    /// to the newest release of all.
    #[test]
    fn a_pinned_go_moves_within_its_line_while_go_supports_it() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let releases = r(&["1.25.9", "1.26.8", "1.26.11", "1.27.0", "1.27.4"]);
        assert_eq!(go_line("1.26.11"), "1.26");
        // (pin, what it moves to); 1.25 is two lines behind the newest: unsupported, so the
        // newest of all.
        for (pin, target) in [
            ("1.26.8", "1.26.11"),
            ("1.26.11", "1.26.11"),
            ("1.27.1", "1.27.4"),
            ("1.25.9", "1.27.4"),
        ] {
            assert_eq!(
                go_target(pin, &releases),
                (Some(target), Some("1.27.4")),
                "{pin}"
            );
        }
        assert_eq!(go_target("1.26.8", &[]), (None, None));
    }
}
