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

/// A throwaway recipe catalogue: write recipe files into it and run `recipe` against it.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn recipes(&self) -> PathBuf {
        self.dir.path().join("recipes")
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// Writes `recipes/NAME.toml`.
    pub fn recipe(&self, name: &str, text: &str) -> &Self {
        std::fs::create_dir_all(self.recipes()).unwrap();
        std::fs::write(self.recipes().join(format!("{name}.toml")), text).unwrap();
        self
    }

    /// `recipe` with this catalogue, run in the scratch dir (so `out/` lands there), with the
    /// cache shared by all tests (zig and the musl libc of each target are set up once).
    pub fn cmd(&self) -> Command {
        let mut c = recipe();
        c.env("RECIPE_RECIPES", self.recipes());
        c.current_dir(self.path());
        c
    }

    /// Like [`Scratch::cmd`] with a private cache (`cache/` here), for tests that inspect it.
    pub fn cmd_private_cache(&self) -> Command {
        let mut c = self.cmd();
        c.env("RECIPE_CACHE", self.cache());
        c
    }
}

/// Output of a finished command, for assertions.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("run recipe");
    Output {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

impl Output {
    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn failure(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit {code}\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", self.stderr);
        self
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}:\n{}", self.stdout);
        self
    }
}

/// Builds are serialised within the test binary: two cores, and one zig cache per target.
pub fn build_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}
