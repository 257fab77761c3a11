//! What every origin shares (a leaf: origins and the store import it, it imports none of
//! them): the temporary place a download lands ([`Fetched`]), the checks of names given to host
//! tools, and running those tools through the process layer.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::limits::{Budget, Capped};
use super::{SourceError, io_err};
use crate::digest::HashWriter;

/// Bytes an origin produced, in a temporary place inside `<root>/tmp`, with their sha256.
pub(crate) struct Fetched {
    pub path: PathBuf,
    pub sha256: String,
    /// Keeps the temporary file or directory alive; dropping it removes what is left.
    pub keep: Keep,
}

pub(crate) enum Keep {
    File(tempfile::TempPath),
    Dir(tempfile::TempDir),
}

impl Fetched {
    /// Moves the file to `dest` (atomic rename on the same filesystem) and cleans up the rest.
    pub(super) fn move_to(self, dest: &Path) -> io::Result<()> {
        match self.keep {
            Keep::File(tmp) => crate::publish::persist(tmp, dest),
            Keep::Dir(dir) => {
                crate::publish::move_path(&self.path, dest)?;
                drop(dir);
                Ok(())
            }
        }
    }
}

/// The sha256 of a file's bytes, in lowercase hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = HashWriter::new(io::sink());
    io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finish().1)
}

/// Copies `reader` into a new temporary file in `tmp_dir`, hashing on the way. More than `cap`
/// bytes is an error, and the temporary file is removed.
pub(crate) fn stream_to_temp(
    reader: &mut dyn Read,
    tmp_dir: &Path,
    what: &str,
    cap: u64,
) -> Result<Fetched, SourceError> {
    let file = tempfile::Builder::new()
        .prefix("download-")
        .tempfile_in(tmp_dir)
        .map_err(io_err(format!(
            "creating a temporary file in {}",
            tmp_dir.display()
        )))?;
    let (file, temp_path) = file.into_parts();
    let mut w = HashWriter::new(io::BufWriter::with_capacity(1 << 16, file));
    let budget = Budget::new(cap);
    if let Err(e) = io::copy(&mut Capped::new(reader, &budget), &mut w) {
        if budget.exceeded() {
            return Err(SourceError::DownloadTooBig {
                what: what.to_string(),
                cap,
            });
        }
        return Err(io_err(format!("downloading {what}"))(e));
    }
    let (buf, sha256, _) = w.finish();
    let file = buf.into_inner().map_err(|e| SourceError::Io {
        context: format!("writing download of {what}"),
        source: e.into_error(),
    })?;
    file.sync_all()
        .map_err(io_err(format!("writing download of {what}")))?;
    Ok(Fetched {
        path: temp_path.to_path_buf(),
        sha256,
        keep: Keep::File(temp_path),
    })
}

/// Hashes a file that an external tool left inside the temporary directory `dir`.
pub(crate) fn adopt_file(path: PathBuf, dir: tempfile::TempDir) -> Result<Fetched, SourceError> {
    let sha256 = sha256_file(&path).map_err(io_err(format!("reading {}", path.display())))?;
    Ok(Fetched {
        path,
        sha256,
        keep: Keep::Dir(dir),
    })
}
/// Runs a host tool of an origin (apt-get, go, pip) through the process layer: its own process
/// group, the host environment's registry settings only ([`crate::process::host_env`]), its
/// output captured up to 1 MiB a stream, and killed after an hour.
pub(crate) fn run_tool(
    cmd: &mut std::process::Command,
    command: &str,
) -> Result<crate::process::Captured, SourceError> {
    let out = crate::process::capture(
        cmd,
        crate::process::Capture {
            timeout: Some(std::time::Duration::from_secs(3600)),
            ..Default::default()
        },
    )
    .map_err(|e| SourceError::Command {
        command: command.to_string(),
        detail: e.to_string(),
    })?;
    Ok(out)
}

/// How a captured tool ended, for messages.
pub(crate) fn status_text(c: &crate::process::Captured) -> String {
    match c.status {
        Some(s) => s.to_string(),
        None => "killed after an hour".to_string(),
    }
}

/// Refuses empty names, names that would read as an option, and whitespace or control characters.
pub(crate) fn check_name(what: &'static str, value: &str) -> Result<(), SourceError> {
    if value.is_empty()
        || value.starts_with('-')
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(SourceError::BadName {
            what,
            value: value.to_string(),
        });
    }
    Ok(())
}

/// [`check_name`], and a plain file name: no `/`, not `.` or `..`.
pub(crate) fn check_file_name(what: &'static str, value: &str) -> Result<(), SourceError> {
    check_name(what, value)?;
    if value.contains('/') || value == "." || value == ".." {
        return Err(SourceError::BadName {
            what,
            value: value.to_string(),
        });
    }
    Ok(())
}

/// A new temporary folder inside `tmp_dir` for one download (removed when dropped).
pub(crate) fn temp_dir_in(tmp_dir: &Path, prefix: &str) -> Result<tempfile::TempDir, SourceError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(tmp_dir)
        .map_err(io_err(format!(
            "creating a temporary directory in {}",
            tmp_dir.display()
        )))
}

/// The last `n` non-empty lines of `text`, joined with "; ".
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("; ")
}
