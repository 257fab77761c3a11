//! The PyPI origin: `pip download --no-deps --only-binary :all: PACKAGE==VERSION`, for data that
//! PyPI distributes well (Mozilla's CA bundle in `certifi`, the IANA zoneinfo in `tzdata`). The
//! wheel is a zip; the store checks the sha256 the recipe pins.

use std::path::Path;

use super::SourceError;
use super::download::{
    Fetched, adopt_file, check_file_name, check_name, run_tool, status_text, tail, temp_dir_in,
};

/// Downloads `file` of `package==version` from PyPI into a temporary folder inside `tmp_dir`.
pub(crate) fn download(
    package: &str,
    version: &str,
    file: &str,
    tmp_dir: &Path,
) -> Result<Fetched, SourceError> {
    check_name("pypi package", package)?;
    check_name("pypi version", version)?;
    check_file_name("pypi file", file)?;
    let dir = temp_dir_in(tmp_dir, "pypi-")?;
    let spec = format!("{package}=={version}");
    let command = format!("python3 -m pip download --no-deps --only-binary :all: {spec}");
    let mut cmd = crate::process::command("python3");
    cmd.envs(crate::process::host_env())
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
        ])
        .args(["--disable-pip-version-check", "--no-input", "-d"])
        .arg(dir.path())
        .arg(&spec)
        .env("PIP_NO_INPUT", "1");
    let output = run_tool(&mut cmd, &command)?;
    let path = dir.path().join(file);
    if !path.is_file() {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let detail = if output.success() {
            format!("it did not produce {file}: {}", tail(&text, 5))
        } else {
            format!("{}: {}", status_text(&output), tail(&text, 10))
        };
        return Err(SourceError::Command { command, detail });
    }
    adopt_file(path, dir)
}
