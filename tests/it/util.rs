//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// True when `tool` is on PATH. Without it the test is skipped ([`skip`]), except under CI
/// (`CI` set), where a missing tool is a failure: CI never passes by skipping.
#[track_caller]
pub fn require_tool(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        skip(&format!("`{tool}` is not on PATH"));
    }
    found
}

/// Where [`skip`] records skipped tests, one `TEST: REASON` line each: `.ci/run` counts and
/// lists them after `cargo test` (and empties the file before). `target/tmp/skipped-tests.txt`,
/// or the file `RECIPE_TEST_SKIPS` names (the harness's own test points it elsewhere).
pub fn skips_file() -> PathBuf {
    std::env::var_os("RECIPE_TEST_SKIPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt"))
}

/// Marks the running test as skipped for `reason` (the caller then returns without checking
/// anything). Under CI (`CI` set) it panics instead: CI never passes by skipping. The line
/// `SKIPPED TEST: REASON` goes straight to the terminal, past libtest's capture of passing
/// tests' output, and is appended to [`skips_file`].
#[track_caller]
pub fn skip(reason: &str) {
    recipe::testing::skip_to(&skips_file(), reason);
}

/// The `.rs` files under `dir`, in sorted order, added to `out`.
pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// A throwaway recipe catalogue: write recipe files into it and run `recipe` against it.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
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
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn failure(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
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

// ---------------------------------------------------------------------------------------------
// A tiny HTTP server: GET of a known path answers 200 with the bytes (a path ending in `/` as
// HTML), `/redirect` answers 302 to `/good`, anything else 404. Counts requests.

pub struct Server {
    base: String,
    hits: Arc<AtomicUsize>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

pub fn serve(files: &[(&str, &[u8])]) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let files: HashMap<String, Vec<u8>> = files
        .iter()
        .map(|(p, b)| (p.to_string(), b.to_vec()))
        .collect();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let head = String::from_utf8_lossy(&head);
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, extra, body): (&str, String, Vec<u8>) = if path == "/redirect" {
                ("302 Found", "Location: /good\r\n".into(), Vec::new())
            } else if let Some(b) = files.get(&path) {
                // A folder's page is HTML (what pip needs of an index page).
                let kind = if path.ends_with('/') {
                    "Content-Type: text/html\r\n".into()
                } else {
                    String::new()
                };
                ("200 OK", kind, b.clone())
            } else {
                ("404 Not Found", String::new(), b"not found".to_vec())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    Server { base, hits }
}

pub fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub enum E<'a> {
    File(&'a [u8], &'a [u8], u32),
    Dir(&'a [u8]),
    Symlink(&'a [u8], &'a [u8]),
    Hardlink(&'a [u8], &'a [u8]),
}

/// A tar built header by header with raw names, so hostile names get through.
pub fn tar_bytes(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, data, mode, ty, link): (&[u8], &[u8], u32, tar::EntryType, &[u8]) = match e {
            E::File(n, d, m) => (n, d, *m, tar::EntryType::Regular, b""),
            E::Dir(n) => (n, b"", 0o755, tar::EntryType::Directory, b""),
            E::Symlink(n, t) => (n, b"", 0o777, tar::EntryType::Symlink, t),
            E::Hardlink(n, t) => (n, b"", 0o644, tar::EntryType::Link, t),
        };
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        old.linkname[..link.len()].copy_from_slice(link);
        h.set_entry_type(ty);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_600_000_000);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// podman with private storage under `dir` and the settings this machine kind needs (runc, low
/// ulimits, vfs storage).
pub struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    pub fn new() -> Podman {
        Podman::with_conf(
            "[engine]\nruntime = \"runc\"\n[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n",
        )
    }

    /// With `conf` as its containers.conf.
    pub fn with_conf(conf: &str) -> Podman {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("containers.conf"), conf).unwrap();
        Podman { dir }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", self.dir.path().join("containers.conf"))
            .arg("--root")
            .arg(self.dir.path().join("root"))
            .arg("--runroot")
            .arg(self.dir.path().join("runroot"))
            .args(["--storage-driver", "vfs"]);
        c
    }
}

impl Podman {
    /// An executable that runs this podman (its storage and settings), for `recipe test
    /// --engine`.
    pub fn engine(&self) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.dir.path().join("podman");
        let d = self.dir.path().display();
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\nexport CONTAINERS_CONF={d}/containers.conf\n\
                 exec podman --root {d}/root --runroot {d}/runroot --storage-driver vfs \"$@\"\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cmd().args(["rmi", "-a", "-f"]).output();
    }
}

/// What a build for every arch needs (python3 for pip's zig, qemu-user for the smoke tests);
/// a missing one is a skip.
pub fn tools_for_builds() -> bool {
    require_tool("python3")
        && require_tool("qemu-aarch64-static")
        && require_tool("qemu-arm-static")
}

/// The smallest valid recipe named `name` (a local source, make, one app file).
pub fn minimal_recipe(name: &str) -> String {
    format!(
        r#"name = "{name}"
version = "1.0"
license = "MIT"
homepage = "https://example.invalid"

[source]
path = "src"

[build]
system = "make"

[app]
files = ["/usr/local/bin/demo"]
"#
    )
}

/// A folder holding a `zig` that prints the pinned version and does nothing else: builds get
/// past provisioning without a compiler.
pub fn fake_zig() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let spec = std::fs::read_to_string(root().join("toolchains/zig.toml")).unwrap();
    let version = spec
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let zig = dir.path().join("zig");
    std::fs::write(&zig, format!("#!/bin/sh\necho {version}\n")).unwrap();
    std::fs::set_permissions(&zig, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// After a failed build with a private cache: no entry under the cache's `builds/` (its
/// `.locks` aside) and nothing in `out/`.
pub fn nothing_built_kept(s: &Scratch) {
    let builds: Vec<String> = std::fs::read_dir(s.cache().join("builds"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        builds.is_empty(),
        "left under the cache's builds/: {builds:?}"
    );
    let out = files_under(&s.out());
    assert!(out.is_empty(), "output of a failed build in out/: {out:?}");
}

/// The path of the blob `digest` (`sha256:HEX`) of the OCI layout at `layout`.
pub fn layout_blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// A JSON file, parsed.
pub fn read_json(path: impl AsRef<Path>) -> serde_json::Value {
    let path = path.as_ref();
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A TCP port free on 127.0.0.1 right now (bound to port 0 and released).
pub fn free_port() -> u16 {
    recipe::smoke::service::free_port(recipe::recipe::Listen::Tcp).unwrap()
}

/// A scratch catalogue holding the fixture recipe `name` of `tests/fixtures/recipes` (its
/// source path made absolute) with the files of its folder beside it (patches, smoke files),
/// `edit` applied to its text.
pub fn fixture_copy(name: &str, edit: impl Fn(String) -> String) -> Scratch {
    let s = Scratch::new();
    let fixtures = root().join("tests/fixtures");
    let text = std::fs::read_to_string(fixtures.join(format!("recipes/{name}.toml")))
        .unwrap()
        .replace("path = \"../", &format!("path = \"{}/", fixtures.display()));
    s.recipe(name, &edit(text));
    let from = fixtures.join("recipes").join(name);
    if from.is_dir() {
        let dir = s.recipes().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
    }
    s
}

/// Builds the fixture recipe `name` of `tests/fixtures/recipes` for `arches` from scratch
/// (`--rebuild`: the build cache must not answer) in a new scratch folder, which must succeed.
pub fn build_fixture(name: &str, arches: &str) -> (Scratch, Output) {
    let s = Scratch::new();
    let out = run(s
        .cmd()
        .env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"))
        .args(["build", name, "--arch", arches, "--rebuild"]))
    .success();
    (s, out)
}
