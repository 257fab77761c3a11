//! The Debian origin: `apt-get source --download-only`, which checks the files against the
//! signed archive index before we check the sha256 the recipe pins.

use std::path::Path;

use super::download::{
    Fetched, adopt_file, check_file_name, check_name, run_tool, status_text, tail, temp_dir_in,
};
use super::{DebianSource, SourceError};

/// Runs `apt-get source --download-only PACKAGE=VERSION` in a new temporary directory inside
/// `tmp_dir` and takes the file named `d.file` from it.
pub(crate) fn download(d: &DebianSource, tmp_dir: &Path) -> Result<Fetched, SourceError> {
    check_name("debian package", &d.package)?;
    check_name("debian version", &d.version)?;
    check_file_name("debian source file", &d.file)?;
    let dir = temp_dir_in(tmp_dir, "apt-source-")?;
    let spec = format!("{}={}", d.package, d.version);
    let command = format!("apt-get source --download-only {spec}");
    let mut cmd = crate::process::command("apt-get");
    cmd.args(["source", "--download-only", &spec])
        .current_dir(dir.path())
        .envs(crate::process::host_env())
        .env("DEBIAN_FRONTEND", "noninteractive");
    let output = run_tool(&mut cmd, &command)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // apt verifies each file as it downloads it, and fails the whole command when any file of
    // the source package is missing from the mirror (seen: a .dsc 404 while the .orig was
    // served). The file we pin is all we need, and the store checks its sha256 next.
    let wanted_arrived = dir.path().join(&d.file).is_file();
    if !output.success() && !wanted_arrived {
        // apt < 2.7 says 'deb-src' URIs, later versions 'source' URIs.
        if text.contains("URIs in your sources.list") {
            return Err(SourceError::NoDebSrc {
                package: d.package.clone(),
                version: d.version.clone(),
            });
        }
        let mut detail = format!("{}: {}", status_text(&output), tail(&text, 15));
        if text.contains("Unable to find a source package") {
            detail.push_str(" (is the version right, and was `apt-get update` run since deb-src entries were enabled?)");
        }
        return Err(SourceError::Command { command, detail });
    }
    let path = dir.path().join(&d.file);
    if !path.is_file() {
        let mut produced: Vec<String> = std::fs::read_dir(dir.path())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        produced.sort();
        return Err(SourceError::Command {
            command,
            detail: format!(
                "it did not produce {} (it produced: {})",
                d.file,
                produced.join(", ")
            ),
        });
    }
    adopt_file(path, dir)
}
