//! `recipe new --crate` against a crates.io stand-in on 127.0.0.1: a sparse index
//! (`RECIPE_CRATES_INDEX`) and the `.crate` download host (`RECIPE_CRATES_URL`). The fixture
//! `tests/fixtures/crates/hello-crate/hello-crate-0.3.0.crate` is the folder
//! `tests/fixtures/hello-crate/` packed as crates.io packs a crate, made with
//! `tar --sort=name --mtime=@1600000000 --owner=0 --group=0 --numeric-owner -cf - hello-crate-0.3.0 | gzip -n -9`.
//! The draft is snapshotted and loads, and (with `RECIPE_REAL_RUST=all`) builds for amd64 as
//! written; refused: a crate without `Cargo.lock`, one whose lock file has a git dependency, a
//! `.crate` whose sha256 is not the index's `cksum`, a library crate, a version the index does
//! not list.

use std::io::Write as _;

use crate::util::{Scratch, Server, build_lock, root, run, serve, sha, skip, tools_for_builds};

const FIXTURE: &str = "tests/fixtures/crates/hello-crate/hello-crate-0.3.0.crate";

fn fixture() -> Vec<u8> {
    std::fs::read(root().join(FIXTURE)).unwrap()
}

/// One index line.
fn line(name: &str, vers: &str, cksum: &str, yanked: bool) -> String {
    format!(
        "{{\"name\":\"{name}\",\"vers\":\"{vers}\",\"deps\":[],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":{yanked}}}\n"
    )
}

/// Serves `crates` (`(name, version, bytes)`) under `/crates` and the index `lines` of each
/// name under `/index`.
fn registry(index: &[(&str, String)], crates: &[(&str, &str, Vec<u8>)]) -> Server {
    let mut files: Vec<(String, Vec<u8>)> = index
        .iter()
        .map(|(path, text)| (format!("/index/{path}"), text.clone().into_bytes()))
        .collect();
    for (name, vers, bytes) in crates {
        files.push((format!("/crates/{name}/{name}-{vers}.crate"), bytes.clone()));
    }
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    serve(&refs)
}

fn new_crate(s: &Scratch, server: &Server, args: &[&str]) -> std::process::Command {
    let mut c = s.cmd_private_cache();
    c.env("RECIPE_CRATES_INDEX", server.url("/index"))
        .env("RECIPE_CRATES_URL", server.url("/crates"))
        .arg("new")
        .arg("-q")
        .args(args);
    c
}

/// A `.crate` of `files` (paths under `NAME-VERSION/`), gzipped tar.
fn pack(top: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_600_000_000);
        b.append_data(&mut h, format!("{top}/{path}"), text.as_bytes())
            .unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn fixture_file(path: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures/hello-crate").join(path)).unwrap()
}

#[test]
fn recipe_new_crate_drafts_a_recipe_that_loads() {
    let bytes = fixture();
    let good = sha(&bytes);
    let other = "0".repeat(64);
    // The newest release that is neither a pre-release nor yanked is 0.3.0.
    let index = [
        line("hello-crate", "0.2.0", &other, false),
        line("hello-crate", "0.3.0", &good, false),
        line("hello-crate", "0.4.0-beta.1", &other, false),
        line("hello-crate", "0.5.0", &other, true),
    ]
    .concat();
    let server = registry(
        &[("he/ll/hello-crate", index)],
        &[("hello-crate", "0.3.0", bytes)],
    );
    let s = Scratch::new();
    let o = run(&mut new_crate(&s, &server, &["--crate", "hello-crate"])).success();
    let path = s.recipes().join("hello-crate.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let report = o
        .stdout
        .replace(&s.recipes().display().to_string(), "[RECIPES]");
    insta::assert_snapshot!("new_crate_hello_crate", format!("{text}\n---\n{report}"));
    // It loads as it is.
    run(s.cmd().args(["show", "hello-crate"])).success();
    // Asked again (at its version): refused, the file unchanged.
    run(&mut new_crate(
        &s,
        &server,
        &["--crate", "hello-crate@0.3.0"],
    ))
    .failure(2)
    .stderr_has("already exists");
    assert_eq!(text, std::fs::read_to_string(&path).unwrap());
    // Under another name, at that version: the same pin.
    run(&mut new_crate(
        &s,
        &server,
        &["hello2", "--crate", "hello-crate@0.3.0"],
    ))
    .success();
    let v: toml::Value =
        toml::from_str(&std::fs::read_to_string(s.recipes().join("hello2.toml")).unwrap()).unwrap();
    assert_eq!(v["source"]["sha256"].as_str(), Some(good.as_str()));
    assert_eq!(v["source"]["crate"]["version"].as_str(), Some("0.3.0"));
}

/// The draft, unchanged, builds for amd64 with the pinned Rust (its dependency vendored from
/// the stand-in registry), verifies static musl, passes its `--version` smoke test and makes
/// an image. Builds std for x86_64 musl once (a few minutes): runs with `RECIPE_REAL_RUST=all`
/// only, as `tests/it/rust_toolchain.rs` does.
#[test]
fn the_drafted_recipe_builds_for_amd64_as_written() {
    if std::env::var("RECIPE_REAL_RUST").ok().as_deref() != Some("all") {
        if std::env::var_os("CI").is_none() {
            skip("set RECIPE_REAL_RUST=all to build a drafted crate with the real Rust");
        }
        return;
    }
    if !tools_for_builds() {
        return;
    }
    let _lock = build_lock();
    let bytes = fixture();
    let tinydep =
        std::fs::read(root().join("tests/fixtures/crates/tinydep/tinydep-0.1.0.crate")).unwrap();
    let server = registry(
        &[(
            "he/ll/hello-crate",
            line("hello-crate", "0.3.0", &sha(&bytes), false),
        )],
        &[
            ("hello-crate", "0.3.0", bytes),
            ("tinydep", "0.1.0", tinydep),
        ],
    );
    let s = Scratch::new();
    let mut new = s.cmd();
    new.env("RECIPE_CRATES_INDEX", server.url("/index"))
        .env("RECIPE_CRATES_URL", server.url("/crates"))
        .args(["new", "-q", "--crate", "hello-crate@0.3.0"]);
    run(&mut new).success();
    // Built (or taken from the build cache, where a build verified and smoke-tested it).
    let o = run(s
        .cmd()
        .env("RECIPE_CRATES_URL", server.url("/crates"))
        .args(["build", "hello-crate", "--arch", "amd64"]))
    .success();
    let out = s.out().join("hello-crate");
    for f in ["hello-crate-0.3.0.oci.tar", "bin"] {
        assert!(out.join(f).exists(), "{f}: {}", o.stdout);
    }
    let files = crate::util::files_under(&out.join("bin"));
    assert!(
        files.iter().any(|f| f.ends_with("hello-crate-tool")),
        "{files:?}"
    );
}

#[test]
fn the_fixture_crate_is_its_folder() {
    let bytes = fixture();
    let gz = flate2::read::GzDecoder::new(&bytes[..]);
    let mut a = tar::Archive::new(gz);
    let mut n = 0;
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type().is_dir() {
            continue;
        }
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let rel = path.strip_prefix("hello-crate-0.3.0/").unwrap().to_string();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut e, &mut text).unwrap();
        assert_eq!(text, fixture_file(&rel), "{rel}");
        n += 1;
    }
    assert_eq!(n, 5);
}

/// `recipe new --crate hello-crate@0.3.0` where the `.crate` served is `bytes` and the index
/// lists `cksum` for it: exit 2 or 1 and its stderr.
fn refused(bytes: Vec<u8>, cksum: &str, code: i32) -> (String, Scratch) {
    let server = registry(
        &[(
            "he/ll/hello-crate",
            line("hello-crate", "0.3.0", cksum, false),
        )],
        &[("hello-crate", "0.3.0", bytes)],
    );
    let s = Scratch::new();
    let o = run(&mut new_crate(
        &s,
        &server,
        &["--crate", "hello-crate@0.3.0"],
    ))
    .failure(code);
    assert!(!s.recipes().join("hello-crate.toml").exists());
    (o.stderr, s)
}

fn hello_files(lock: Option<&str>) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("Cargo.toml", fixture_file("Cargo.toml")),
        ("src/main.rs", fixture_file("src/main.rs")),
    ];
    if let Some(l) = lock {
        f.push(("Cargo.lock", l.to_string()));
    }
    f
}

fn packed(files: &[(&'static str, String)]) -> Vec<u8> {
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    pack("hello-crate-0.3.0", &refs)
}

#[test]
fn recipe_new_crate_refuses_a_crate_without_a_lock_file() {
    let bytes = packed(&hello_files(None));
    let (err, _) = refused(bytes.clone(), &sha(&bytes), 2);
    assert!(
        err.contains("hello-crate-0.3.0.crate holds no `Cargo.lock`"),
        "{err}"
    );
    assert!(err.contains("release tarball"), "{err}");
}

#[test]
fn recipe_new_crate_refuses_a_git_dependency() {
    let lock = fixture_file("Cargo.lock").replace(
        "registry+https://github.com/rust-lang/crates.io-index",
        "git+https://example.invalid/tinydep?rev=1#abcdef",
    );
    let bytes = packed(&hello_files(Some(&lock)));
    let (err, _) = refused(bytes.clone(), &sha(&bytes), 2);
    assert!(err.contains("hello-crate-0.3.0/Cargo.lock"), "{err}");
    assert!(err.contains("cannot be pinned by checksum"), "{err}");
}

#[test]
fn recipe_new_crate_refuses_bytes_that_are_not_the_index_checksum() {
    let (err, s) = refused(fixture(), &"ab".repeat(32), 1);
    assert!(
        err.contains(
            "hello-crate-0.3.0.crate does not have the sha256 crates.io's index lists for it"
        ),
        "{err}"
    );
    assert!(err.contains("sha256 mismatch"), "{err}");
    // Nothing kept in the source store.
    let blobs = s.cache().join("sources").join("sha256");
    let kept = std::fs::read_dir(&blobs).map(|d| d.count()).unwrap_or(0);
    assert_eq!(kept, 0, "{}", blobs.display());
}

#[test]
fn recipe_new_crate_refuses_library_crates_and_unknown_versions() {
    let tinydep =
        std::fs::read(root().join("tests/fixtures/crates/tinydep/tinydep-0.1.0.crate")).unwrap();
    let server = registry(
        &[
            (
                "ti/ny/tinydep",
                line("tinydep", "0.1.0", &sha(&tinydep), false),
            ),
            (
                "he/ll/hello-crate",
                line("hello-crate", "0.3.0", &sha(&fixture()), false),
            ),
        ],
        &[("tinydep", "0.1.0", tinydep)],
    );
    let s = Scratch::new();
    run(&mut new_crate(&s, &server, &["--crate", "tinydep@0.1.0"]))
        .failure(2)
        .stderr_has("tinydep-0.1.0.crate has no binary");
    run(&mut new_crate(
        &s,
        &server,
        &["--crate", "hello-crate@9.9.9"],
    ))
    .failure(2)
    .stderr_has(
        "crates.io's index has no crate `hello-crate` at version `9.9.9` (its newest: 0.3.0)",
    );
    run(&mut new_crate(&s, &server, &["--crate", "nosuch"]))
        .failure(2)
        .stderr_has("crates.io's index has no crate `nosuch`");
    run(&mut new_crate(
        &s,
        &server,
        &["--crate", "hello-crate@latest"],
    ))
    .failure(2)
    .stderr_has("invalid crate `hello-crate@latest`");
}
