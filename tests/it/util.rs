//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `recipe` binary under test.
pub fn recipe_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_recipe"))
}

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A `recipe` command with a cache shared by all tests (so zig's libc is built once per target).
pub fn recipe() -> Command {
    let mut c = Command::new(recipe_bin());
    c.env("RECIPE_CACHE", shared_cache());
    c.env_remove("NO_COLOR");
    c.env("NO_COLOR", "1");
    c
}

/// The cache shared by the tests of one checkout: `target/test-cache`.
pub fn shared_cache() -> PathBuf {
    root().join("target").join("test-cache")
}

/// True when `tool` is on PATH. Without it the test is skipped with a message, except under CI
/// (`CI` set), where a missing tool is a failure: CI never passes by skipping.
pub fn require_tool(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("`{tool}` is required under CI but is not on PATH");
    }
    eprintln!("skipped: `{tool}` is not on PATH");
    false
}
