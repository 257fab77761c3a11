//! The Go module origin: `go mod download -json` into a throwaway module cache; the module zip
//! it leaves there is what the recipe pins.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::SourceError;
use super::download::{Fetched, adopt_file, check_name, run_tool, status_text, tail, temp_dir_in};

/// How many leading path components to strip when extracting a Go module zip.
///
/// Every entry of a module zip is prefixed `MODULE@VERSION/`, and the module path's own slashes
/// count: `github.com/traefik/whoami@v1.10.3/main.go` has 3 components before `main.go`, so
/// `go_module_strip("github.com/traefik/whoami") == 3` and `go_module_strip("rsc.io/quote/v3")
/// == 3`.
pub fn go_module_strip(module: &str) -> usize {
    module.split('/').filter(|c| !c.is_empty()).count()
}

/// Runs `go mod download -json MODULE@VERSION` (with `go`, the pinned toolchain's binary, or
/// `go` from PATH) with `GOMODCACHE` in a new temporary directory
/// inside `tmp_dir` (and `GOFLAGS=-modcacherw`, so that directory can be removed) and takes
/// the module zip it reports.
pub(crate) fn download(
    go: Option<&Path>,
    module: &str,
    version: &str,
    tmp_dir: &Path,
) -> Result<Fetched, SourceError> {
    check_name("go module path", module)?;
    check_name("go module version", version)?;
    if module.contains('@') || version.contains('@') {
        return Err(SourceError::BadName {
            what: "go module",
            value: format!("{module}@{version}"),
        });
    }
    let dir = temp_dir_in(tmp_dir, "go-mod-")?;
    let modcache = dir.path().join("modcache");
    let spec = format!("{module}@{version}");
    let command = format!("go mod download -json {spec}");
    // Run outside any module (the temporary directory has no go.mod), with our own cache.
    let mut cmd = crate::process::command(go.unwrap_or(Path::new("go")));
    cmd.args(["mod", "download", "-json", &spec])
        .current_dir(dir.path())
        .envs(crate::process::host_env())
        .env("GOMODCACHE", &modcache)
        .env("GOFLAGS", "-modcacherw")
        .env("GO111MODULE", "on")
        .env("GOTOOLCHAIN", "local");
    let output = run_tool(&mut cmd, &command)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json: Option<serde_json::Value> = serde_json::from_str(&stdout).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(|v| v.as_str())
    };
    if let Some(err) = field("Error") {
        make_writable(dir.path());
        return Err(SourceError::Command {
            command,
            detail: err.to_string(),
        });
    }
    if !output.success() {
        make_writable(dir.path());
        let text = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
        return Err(SourceError::Command {
            command,
            detail: format!("{}: {}", status_text(&output), tail(&text, 15)),
        });
    }
    let Some(zip) = field("Zip").map(PathBuf::from) else {
        make_writable(dir.path());
        return Err(SourceError::Command {
            command,
            detail: format!("its output names no \"Zip\": {}", tail(&stdout, 15)),
        });
    };
    if !zip.starts_with(dir.path()) || !zip.is_file() {
        make_writable(dir.path());
        return Err(SourceError::Command {
            command,
            detail: format!("the zip it names is not in its cache: {}", zip.display()),
        });
    }
    make_writable(dir.path());
    adopt_file(zip, dir)
}

/// Makes every directory under `dir` owner-writable, so that it can be removed even if the Go
/// command left read-only directories (it does without `-modcacherw`).
fn make_writable(dir: &Path) {
    let folders = std::iter::once(dir.to_path_buf()).chain(
        crate::walk::walk(dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.file_type.is_dir())
            .map(|e| e.path),
    );
    for d in folders {
        if let Ok(meta) = fs::symlink_metadata(&d) {
            let mut perm = meta.permissions();
            perm.set_mode(perm.mode() | 0o700);
            let _ = fs::set_permissions(&d, perm);
        }
    }
}
