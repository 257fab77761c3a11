//! Test support for the unit tests (compiled only for them): [`skip`], the twin of the
//! integration tests' `tests/it/util.rs` `skip`, so a unit test that needs a tool of the
//! machine never passes silently without it.

use std::io::Write;
use std::path::PathBuf;

/// Where skipped tests are recorded, one `TEST: REASON` line each: `RECIPE_TEST_SKIPS`, else
/// the file the integration tests write (`target/tmp/skipped-tests.txt`), which `.ci/run`
/// counts.
fn skips_file() -> PathBuf {
    std::env::var_os("RECIPE_TEST_SKIPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp/skipped-tests.txt")
        })
}

/// Marks the running test as skipped for `reason` (the caller then returns without checking
/// anything). Under CI (`CI` set) it panics instead: CI never passes by skipping. The line
/// `SKIPPED TEST: REASON` goes straight to the terminal, past libtest's capture, and is
/// appended to [`skips_file`].
#[track_caller]
pub fn skip(reason: &str) {
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("a test (run on the main thread)")
        .to_string();
    let reason = crate::text::escape(reason);
    if std::env::var_os("CI").is_some() {
        panic!("{test} would be skipped, which CI does not allow: {reason}");
    }
    let line = format!("{test}: {reason}\n");
    let _ = std::io::stderr().write_all(format!("SKIPPED {line}").as_bytes());
    let file = skips_file();
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
    {
        let _ = f.write_all(line.as_bytes());
    }
}
