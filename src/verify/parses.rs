//! Counting ELF parses, for tests: a leaf module the parsers ([`super::elf`], [`super::goinfo`])
//! call first.

use std::path::PathBuf;

/// Test hook: with `RECIPE_TEST_ELF_PARSES` naming a file, every full parse of an ELF file
/// (a [`super::check_elf`] or a Go build info read) appends the sha256 of the bytes parsed, one
/// line each, so a test can count parses per binary across processes.
pub(super) fn note(bytes: &[u8]) {
    static LOG: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let Some(path) =
        LOG.get_or_init(|| std::env::var_os("RECIPE_TEST_ELF_PARSES").map(PathBuf::from))
    else {
        return;
    };
    let line = format!("{}\n", crate::digest::sha256_hex(bytes));
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        // One short write to a file opened for appending: lines of parallel writers never mix.
        let _ = std::io::Write::write_all(&mut f, line.as_bytes());
    }
}
