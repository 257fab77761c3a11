//! Test support shared by the unit tests and the integration tests (`tests/it/util.rs`):
//! [`skip_to`] marks a test skipped for a reason (and fails it under CI), so a test that needs
//! a tool of the machine never passes silently without it; [`ar`] writes a fixture .deb's
//! container. No part of `recipe` itself uses it.

use std::io::Write;
use std::path::Path;

/// Marks the running test as skipped for `reason` (the caller then returns without checking
/// anything). Under CI (`CI` set) it panics instead: CI never passes by skipping. The line
/// `SKIPPED TEST: REASON` goes straight to the terminal, past libtest's capture of passing
/// tests' output, and is appended to `file` (which `.ci/run` counts).
#[track_caller]
pub fn skip_to(file: &Path, reason: &str) {
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
    // io::stderr(), not eprintln!: the macro's output is captured and shown only on failure.
    let _ = std::io::stderr().write_all(format!("SKIPPED {line}").as_bytes());
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // One short write in append mode: lines of tests skipping at once do not interleave.
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// [`skip_to`] for the unit tests: the file is `RECIPE_TEST_SKIPS`, else the one the
/// integration tests write (`target/tmp/skipped-tests.txt`).
#[cfg(test)]
#[track_caller]
pub(crate) fn skip(reason: &str) {
    let file = std::env::var_os("RECIPE_TEST_SKIPS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/skipped-tests.txt")
        });
    skip_to(&file, reason);
}

/// An ar archive of `members` (name, bytes), as `ar` and dpkg-deb write them (a .deb's
/// container).
pub fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, bytes) in members {
        let h = format!(
            "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            0,
            0,
            0,
            "100644",
            bytes.len()
        );
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(bytes);
        if bytes.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}
