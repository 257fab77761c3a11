//! Bad sources through `recipe build`: a wrong sha256 and hostile archives are refused with one
//! clear error, and nothing half-written is left in the cache or the output.

use crate::util::*;

fn recipe_for(url: &str, sha256: &str) -> String {
    format!(
        r#"name = "demo"
version = "1.0"
license = "MIT"
homepage = "https://example.invalid"

[source]
sha256 = "{sha256}"
urls = ["{url}"]

[build]
system = "make"

[app]
files = ["/usr/local/bin/demo"]
"#
    )
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// No half-extracted source tree of `demo` and no image of it.
fn no_source_tree_or_image(s: &Scratch) {
    let src = s.cache().join("work/demo-amd64/src");
    assert!(
        !src.exists() || std::fs::read_dir(&src).unwrap().next().is_none(),
        "a half-extracted source"
    );
    assert!(!s.out().join("demo").exists(), "output of a failed build");
}

/// The cache holds no source file, no temp file and no unpacked tree; the output has no image.
fn nothing_left(s: &Scratch) {
    let sources = files_under(&s.cache().join("sources"));
    assert!(sources.is_empty(), "left in the source store: {sources:?}");
    no_source_tree_or_image(s);
}

#[test]
fn mismatched_sha256_is_refused_and_nothing_is_cached() {
    let tarball = gz(&tar_bytes(&[E::File(
        b"demo-1.0/Makefile",
        b"all:\n",
        0o644,
    )]));
    let server = serve(&[("/demo.tar.gz", &tarball)]);
    let s = Scratch::new();
    let wrong = "0".repeat(64);
    s.recipe("demo", &recipe_for(&server.url("/demo.tar.gz"), &wrong));
    let o = run(s
        .cmd_private_cache()
        .args(["build", "demo", "--arch", "amd64"]))
    .failure(1);
    o.stderr_has("sha256 mismatch")
        .stderr_has(&wrong)
        .stderr_has(&sha(&tarball));
    nothing_left(&s);
}

#[test]
fn archive_escaping_with_dotdot_or_absolute_paths_is_refused() {
    for (entry, bytes) in [
        (
            "../evil",
            tar_bytes(&[
                E::File(b"demo-1.0/Makefile", b"all:\n", 0o644),
                E::File(b"../evil", b"x", 0o644),
            ]),
        ),
        (
            "/etc/evil",
            tar_bytes(&[E::File(b"/etc/evil", b"x", 0o644)]),
        ),
    ] {
        let tarball = gz(&bytes);
        let server = serve(&[("/demo.tar.gz", &tarball)]);
        let s = Scratch::new();
        s.recipe(
            "demo",
            &recipe_for(&server.url("/demo.tar.gz"), &sha(&tarball)),
        );
        let o = run(s
            .cmd_private_cache()
            .args(["build", "demo", "--arch", "amd64"]))
        .failure(1);
        o.stderr_has(entry);
        assert!(!s.path().join("evil").exists() && !std::path::Path::new("/etc/evil").exists());
        // The verified archive itself may stay in the store (its bytes are what the recipe
        // pins); nothing extracted from it may.
        let src = s.cache().join("work/demo-amd64/src");
        assert!(!src.exists(), "a half-extracted source");
        assert!(!s.out().join("demo").exists(), "output of a failed build");
    }
}

// ---------------------------------------------------------------------------------------------
// Caps on downloads and extraction, and special files in a local source. The builds below fail
// before any compiler runs: a stand-in `zig` that only answers its version is put on PATH.

/// `recipe build demo` with a private cache, the stand-in zig and the given environment.
fn build_cmd(s: &Scratch, zig: &tempfile::TempDir, env: &[(&str, &str)]) -> std::process::Command {
    let mut c = s.cmd_private_cache();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![zig.path().to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(dirs).unwrap());
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(["build", "demo", "--arch", "amd64"]);
    c
}

/// Runs `cmd`, killing it (and failing the test) if it has not finished within 60 s.
fn run_guarded(cmd: &mut std::process::Command) -> Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`recipe` hung: killed after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

/// Bytes actually used on disk under `dir` (allocated blocks, so sparse files count as holes).
fn disk_use(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let m = e.path().symlink_metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            total += m.blocks() * 512;
        }
    }
    total
}

/// After a refused source: the cache stays small, the store's temporary folder is empty, and
/// no half-extracted source or output is left.
fn cache_stays_small(s: &Scratch) {
    let used = disk_use(&s.cache());
    assert!(used < 4 << 20, "the cache uses {used} bytes");
    let tmp = files_under(&s.cache().join("sources/tmp"));
    assert!(tmp.is_empty(), "partial download left: {tmp:?}");
    no_source_tree_or_image(s);
}

/// A gzip'd tar whose one file, `demo-1.0/zeros`, is `mib` MiB of zeros, small on disk: the
/// stream is a series of gzip members (which tar.gz readers join), one of them repeated.
fn gzip_bomb(mib: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path("demo-1.0/zeros").unwrap();
    h.set_size(mib << 20);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = gz(h.as_bytes());
    let chunk = gz(&vec![0u8; 1 << 20]);
    for _ in 0..mib {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&gz(&[0u8; 1024]));
    out
}

/// `recipe build demo` of a recipe whose source is `tarball`, served on 127.0.0.1, with the
/// stand-in zig and `env`; the scratch catalogue and the outcome.
fn build_served(tarball: &[u8], env: &[(&str, &str)]) -> (Scratch, Output) {
    let server = serve(&[("/demo.tar.gz", tarball)]);
    let s = Scratch::new();
    s.recipe(
        "demo",
        &recipe_for(&server.url("/demo.tar.gz"), &sha(tarball)),
    );
    let zig = fake_zig();
    let o = run_guarded(&mut build_cmd(&s, &zig, env));
    (s, o)
}

#[test]
fn gzip_bomb_stops_at_the_extract_cap() {
    let bomb = gzip_bomb(200);
    assert!(bomb.len() < 1 << 20, "the bomb is {} bytes", bomb.len());
    let (s, o) = build_served(&bomb, &[("RECIPE_MAX_EXTRACT", "16M")]);
    let o = o.failure(1);
    o.stderr_has("cannot get the source of demo")
        .stderr_has("demo-1.0/zeros")
        .stderr_has("extraction cap of 16 MiB")
        .stderr_has("RECIPE_MAX_EXTRACT");
    cache_stays_small(&s);
}

#[test]
fn sparse_tar_entry_is_refused() {
    // A GNU sparse entry (type `S`) with one 512-byte block at the end of a 1 TiB file: 10 KB
    // of archive that unpacked as written would be a terabyte of zeros.
    let mut h = tar::Header::new_gnu();
    h.set_path("demo-1.0/huge").unwrap();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_mode(0o644);
    h.set_size(512);
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.set_real_size(1 << 40);
        gnu.sparse[0].set_offset((1 << 40) - 512);
        gnu.sparse[0].set_length(512);
    }
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    bytes.extend_from_slice(&[b'x'; 512]);
    bytes.extend_from_slice(&[0u8; 1024]);
    let tarball = gz(&bytes);
    let (s, o) = build_served(&tarball, &[]);
    let o = o.failure(1);
    o.stderr_has("demo-1.0/huge")
        .stderr_has("sparse entries are not supported");
    cache_stays_small(&s);
}

/// A server on 127.0.0.1 that answers every request with `head` and then zeros until the client
/// hangs up (or, so that the old, uncapped code cannot fill the disk, 256 MiB have been sent).
/// Returns the URL and a counter of the body bytes sent.
fn serve_zeros(head: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/demo.tar.gz", listener.local_addr().unwrap());
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            if stream.write_all(head.as_bytes()).is_err() {
                continue;
            }
            let zeros = vec![0u8; 1 << 16];
            while counter.load(Ordering::SeqCst) < 256 << 20 {
                if stream.write_all(&zeros).is_err() {
                    break;
                }
                counter.fetch_add(zeros.len() as u64, Ordering::SeqCst);
            }
        }
    });
    (url, sent)
}

#[test]
fn endless_http_body_stops_at_the_download_cap() {
    let (url, sent) = serve_zeros("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    let s = Scratch::new();
    s.recipe("demo", &recipe_for(&url, &"1".repeat(64)));
    let zig = fake_zig();
    let o = run_guarded(&mut build_cmd(&s, &zig, &[("RECIPE_MAX_DOWNLOAD", "1M")])).failure(1);
    o.stderr_has(&url)
        .stderr_has("larger than the cap of 1 MiB")
        .stderr_has("RECIPE_MAX_DOWNLOAD");
    assert!(files_under(&s.cache().join("sources")).is_empty());
    cache_stays_small(&s);
    // The client hung up near the cap, long before the server's own limit.
    assert!(sent.load(std::sync::atomic::Ordering::SeqCst) < 64 << 20);
}

#[test]
fn huge_content_length_is_refused_before_the_body_is_read() {
    let (url, _sent) = serve_zeros(
        "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\nConnection: close\r\n\r\n",
    );
    let s = Scratch::new();
    s.recipe("demo", &recipe_for(&url, &"1".repeat(64)));
    let zig = fake_zig();
    let o = run_guarded(&mut build_cmd(&s, &zig, &[])).failure(1);
    o.stderr_has(&url)
        .stderr_has("declares 1 TiB")
        .stderr_has("download cap of 4 GiB")
        .stderr_has("RECIPE_MAX_DOWNLOAD");
    assert!(files_under(&s.cache().join("sources")).is_empty());
    cache_stays_small(&s);
}

#[test]
fn a_bad_cap_setting_is_an_error() {
    let s = Scratch::new();
    s.recipe("demo", &recipe_for("http://127.0.0.1:9/x", &"1".repeat(64)));
    let zig = fake_zig();
    // A bad setting is bad input: exit 2 (the error contract).
    let o = run_guarded(&mut build_cmd(&s, &zig, &[("RECIPE_MAX_DOWNLOAD", "lots")])).failure(2);
    o.stderr_has("invalid `RECIPE_MAX_DOWNLOAD` value \"lots\"");
}

/// A recipe whose source is the local folder `src` of the scratch dir.
fn path_recipe(s: &Scratch) -> std::path::PathBuf {
    s.recipe(
        "demo",
        &minimal_recipe("demo").replace("path = \"src\"", "path = \"../src\""),
    );
    let src = s.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("Makefile"), "all:\n").unwrap();
    src
}

fn mkfifo(path: &std::path::Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[test]
fn fifo_in_a_path_source_is_refused_without_opening_it() {
    let s = Scratch::new();
    let src = path_recipe(&s);
    std::fs::create_dir(src.join("sub")).unwrap();
    mkfifo(&src.join("sub/pipe"));
    let o = run_guarded(
        s.cmd_private_cache()
            .args(["plan", "demo", "--arch", "amd64"]),
    )
    .failure(2);
    o.stderr_has("`sub/pipe`").stderr_has("is a fifo");
    // Without it the same folder plans.
    std::fs::remove_file(src.join("sub/pipe")).unwrap();
    run_guarded(
        s.cmd_private_cache()
            .args(["plan", "demo", "--arch", "amd64"]),
    )
    .success();
}

#[test]
fn symlink_out_of_a_path_source_is_refused() {
    for (link, target, why) in [
        ("host", "/etc/hostname", "is absolute"),
        ("sub/up", "../../outside", "points outside"),
        ("sub/via", "../loop/../..", "points outside"),
    ] {
        let s = Scratch::new();
        let src = path_recipe(&s);
        std::fs::create_dir(src.join("sub")).unwrap();
        std::os::unix::fs::symlink("sub", src.join("loop")).unwrap();
        std::fs::write(s.path().join("outside"), "secret").unwrap();
        std::os::unix::fs::symlink(target, src.join(link)).unwrap();
        let o = run_guarded(
            s.cmd_private_cache()
                .args(["plan", "demo", "--arch", "amd64"]),
        )
        .failure(2);
        o.stderr_has(&format!("`{link}`"))
            .stderr_has(target)
            .stderr_has(why);
    }
    // Symlinks that stay inside are kept.
    let s = Scratch::new();
    let src = path_recipe(&s);
    std::fs::create_dir(src.join("sub")).unwrap();
    std::os::unix::fs::symlink("../Makefile", src.join("sub/ok")).unwrap();
    run_guarded(
        s.cmd_private_cache()
            .args(["plan", "demo", "--arch", "amd64"]),
    )
    .success();
}

/// A go.mod `replace` with a folder the source does not hold is refused before `go` runs,
/// naming go.mod's line, the directive and the fix (issue 23).
#[test]
fn a_go_replace_with_a_folder_outside_the_source_is_refused_with_the_fix() {
    if !require_tool("go") {
        return;
    }
    let s = Scratch::new();
    let w = |rel: &str, text: &str| {
        let p = s.recipes().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w("greet/go.mod", "module example.com/greet\n\ngo 1.22\n");
    w(
        "greet/greet.go",
        "package greet\n\nfunc Hello() string { return \"hi\" }\n",
    );
    w(
        "hello/go.mod",
        "module example.com/hello\n\ngo 1.22\n\nrequire example.com/greet v0.0.0\n\n\
         replace example.com/greet => ../greet\n",
    );
    w(
        "hello/main.go",
        "package main\n\nimport \"example.com/greet\"\n\nfunc main() { println(greet.Hello()) }\n",
    );
    s.recipe(
        "hello",
        &minimal_recipe("hello")
            .replace("path = \"src\"", "path = \"hello\"")
            .replace("system = \"make\"", "system = \"go\"")
            .replace("/usr/local/bin/demo", "/usr/local/bin/hello"),
    );
    let out = run(s
        .cmd_private_cache()
        .args(["build", "-q", "hello", "--arch", "amd64"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    for says in [
        "go.mod:7: `example.com/greet => ../greet` replaces a module with the folder `../greet`, \
         which is outside the source",
        "build from the repository's tarball instead (`[source] urls`",
    ] {
        assert!(
            out.stderr.contains(says),
            "{says:?} not in:\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("go: "), "{}", out.stderr);
}
