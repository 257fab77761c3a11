//! `recipe::source` through its library API: the sha256 store fed by a tiny HTTP server on
//! 127.0.0.1, and extraction of friendly and hostile archives.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::util::{E, serve, sha, tar_bytes};
use recipe::source::{
    ArchiveKind, Fetch, Origin, SourceError, Store, extract, go_module_strip, sha256_file, sniff,
};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            out.push(e.path());
        }
    }
    out
}

fn fetch(store: &Store, sha256: &str, origins: Vec<Origin>) -> Result<PathBuf, SourceError> {
    let f = Fetch {
        sha256: sha256.to_string(),
        origins,
    };
    store.fetch(&f, &mut |_| {})
}

// ---------------------------------------------------------------------------------------------
// Store

#[test]
fn source_good_download_is_stored_and_reused() {
    let body = b"hello, source\n".repeat(1000);
    let srv = serve(&[("/good", &body)]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join("store"));
    let hex = sha(&body);

    let mut messages = Vec::new();
    let f = Fetch {
        sha256: hex.clone(),
        origins: vec![Origin::Url(srv.url("/good"))],
    };
    let path = store
        .fetch(&f, &mut |m| messages.push(m.to_string()))
        .unwrap();
    assert_eq!(path, dir.path().join("store/sha256").join(&hex));
    assert_eq!(fs::read(&path).unwrap(), body);
    assert_eq!(sha256_file(&path).unwrap(), hex);
    assert_eq!(srv.hits(), 1);
    assert!(!messages.is_empty());
    assert!(files_under(&dir.path().join("store/tmp")).is_empty());

    // The second fetch is served from the store, and uppercase hex is the same sha256.
    let again = fetch(
        &store,
        &hex.to_uppercase(),
        vec![Origin::Url(srv.url("/good"))],
    )
    .unwrap();
    assert_eq!(again, path);
    assert_eq!(srv.hits(), 1);
}

#[test]
fn source_corrupt_store_entry_is_fetched_again() {
    let body = b"real bytes".to_vec();
    let srv = serve(&[("/good", &body)]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let hex = sha(&body);
    let path = fetch(&store, &hex, vec![Origin::Url(srv.url("/good"))]).unwrap();
    fs::write(&path, b"tampered").unwrap();
    let path = fetch(&store, &hex, vec![Origin::Url(srv.url("/good"))]).unwrap();
    assert_eq!(fs::read(&path).unwrap(), body);
    assert_eq!(srv.hits(), 2);
}

#[test]
fn source_sha256_mismatch_is_refused_and_nothing_stored() {
    let body = b"these are not the bytes you pinned".to_vec();
    let srv = serve(&[("/good", &body)]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let expected = sha(b"other bytes");
    let got = sha(&body);
    let url = srv.url("/good");
    let err = fetch(&store, &expected, vec![Origin::Url(url.clone())])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "sha256 mismatch for {url}: expected {expected}, got {got}"
        )),
        "{err}"
    );
    assert!(files_under(&dir.path().join("sha256")).is_empty());
    assert!(files_under(&dir.path().join("tmp")).is_empty());
}

#[test]
fn source_404_names_the_status_and_origins_are_tried_in_order() {
    let body = b"second origin".to_vec();
    let srv = serve(&[("/good", &body)]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let hex = sha(&body);

    let missing = srv.url("/missing");
    let err = fetch(&store, &hex, vec![Origin::Url(missing.clone())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("404") && err.contains(&missing), "{err}");

    // Both errors are reported when every origin fails.
    let err = fetch(
        &store,
        &hex,
        vec![Origin::Url(missing.clone()), Origin::Url(srv.url("/gone"))],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains(&missing) && err.contains("/gone"), "{err}");

    // A failing origin is followed by the next one.
    let path = fetch(
        &store,
        &hex,
        vec![Origin::Url(missing), Origin::Url(srv.url("/good"))],
    )
    .unwrap();
    assert_eq!(fs::read(path).unwrap(), body);
}

#[test]
fn source_redirects_are_followed() {
    let body = b"moved".to_vec();
    let srv = serve(&[("/good", &body)]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let path = fetch(&store, &sha(&body), vec![Origin::Url(srv.url("/redirect"))]).unwrap();
    assert_eq!(fs::read(path).unwrap(), body);
    assert_eq!(srv.hits(), 2);
}

#[test]
fn source_bad_sha256_string_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let origins = || vec![Origin::Url("http://127.0.0.1:9/x".to_string())];
    for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63), &"a".repeat(65)] {
        let err = fetch(&store, bad, origins()).unwrap_err();
        assert!(matches!(err, SourceError::BadSha256(_)), "{bad}: {err}");
        assert!(err.to_string().contains("sha256"), "{err}");
    }
}

#[test]
fn source_non_http_url_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let err = fetch(
        &store,
        &sha(b"x"),
        vec![Origin::Url("file:///etc/passwd".into())],
    )
    .unwrap_err();
    assert!(err.to_string().contains("file:///etc/passwd"), "{err}");
}

#[test]
fn source_go_module_strip_counts_path_components() {
    assert_eq!(go_module_strip("github.com/traefik/whoami"), 3);
    assert_eq!(go_module_strip("golang.org/x/net"), 3);
    assert_eq!(go_module_strip("github.com/foo/bar/v2"), 4);
    assert_eq!(go_module_strip("example.com"), 1);
}

// ---------------------------------------------------------------------------------------------
// Archives

fn friendly_entries() -> Vec<E<'static>> {
    vec![
        E::Dir(b"pkg-1.0/"),
        E::File(b"pkg-1.0/README", b"read me\n", 0o644),
        E::Dir(b"pkg-1.0/bin/"),
        E::File(b"pkg-1.0/bin/run.sh", b"#!/bin/sh\necho hi\n", 0o4755),
        E::Symlink(b"pkg-1.0/readme-link", b"README"),
        E::Symlink(b"pkg-1.0/bin/up", b".."),
    ]
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bz2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zip_bytes(entries: &[E]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for e in entries {
        let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        match e {
            E::File(n, d, m) => {
                w.start_file(s(n), SimpleFileOptions::default().unix_permissions(*m))
                    .unwrap();
                w.write_all(d).unwrap();
            }
            E::Dir(n) => w.add_directory(s(n), SimpleFileOptions::default()).unwrap(),
            E::Symlink(n, t) => w
                .add_symlink(s(n), s(t), SimpleFileOptions::default())
                .unwrap(),
            E::Hardlink(..) => unreachable!("zip has no hard links"),
        }
    }
    w.finish().unwrap().into_inner()
}

fn check_friendly(dest: &Path) {
    assert_eq!(fs::read(dest.join("README")).unwrap(), b"read me\n");
    let run = dest.join("bin/run.sh");
    let mode = fs::metadata(&run).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o7777,
        0o755,
        "exec bits kept, setuid dropped: {mode:o}"
    );
    assert_eq!(
        fs::read_link(dest.join("readme-link")).unwrap(),
        Path::new("README")
    );
    assert_eq!(fs::read(dest.join("readme-link")).unwrap(), b"read me\n");
    assert!(dest.join("bin/up/README").is_file());
}

#[test]
fn source_extracts_every_format_with_strip() {
    let tar = tar_bytes(&friendly_entries());
    let cases: Vec<(&str, Vec<u8>, ArchiveKind)> = vec![
        ("a.tar.gz", gz(&tar), ArchiveKind::TarGz),
        ("a.tar.xz", xz(&tar), ArchiveKind::TarXz),
        ("a.tar.bz2", bz2(&tar), ArchiveKind::TarBz2),
        ("a.tar", tar.clone(), ArchiveKind::Tar),
        ("a.zip", zip_bytes(&friendly_entries()), ArchiveKind::Zip),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, kind) in cases {
        // Misleading names: sniffing looks at the bytes only.
        let archive = dir.path().join(format!("{name}.bin"));
        fs::write(&archive, bytes).unwrap();
        assert_eq!(sniff(&archive).unwrap(), kind, "{name}");
        let dest = dir.path().join("out").join(name);
        extract(&archive, &dest, 1).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_friendly(&dest);
        if kind != ArchiveKind::Zip {
            let mtime = fs::metadata(dest.join("README"))
                .unwrap()
                .modified()
                .unwrap();
            let secs = mtime
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            assert_eq!(secs, 1_600_000_000, "{name}: mtime kept");
        }
    }
    // No temporary directories left next to the destinations.
    let left: Vec<_> = files_under(&dir.path().join("out"));
    assert_eq!(left.len(), 5, "{left:?}");
}

#[test]
fn source_extract_go_module_zip_strips_module_path() {
    let entries = [
        E::File(
            b"github.com/traefik/whoami@v1.10.3/go.mod",
            b"module github.com/traefik/whoami\n",
            0o644,
        ),
        E::File(
            b"github.com/traefik/whoami@v1.10.3/app.go",
            b"package main\n",
            0o644,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("mod.zip");
    fs::write(&archive, zip_bytes(&entries)).unwrap();
    let dest = dir.path().join("src");
    extract(
        &archive,
        &dest,
        go_module_strip("github.com/traefik/whoami"),
    )
    .unwrap();
    assert!(dest.join("go.mod").is_file());
    assert!(dest.join("app.go").is_file());
}

#[test]
fn source_extract_into_existing_dest() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("a.tar");
    fs::write(&archive, tar_bytes(&friendly_entries())).unwrap();
    // An empty directory is fine.
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    extract(&archive, &empty, 1).unwrap();
    check_friendly(&empty);
    // A non-empty one is refused and left alone.
    let err = extract(&archive, &empty, 1).unwrap_err();
    assert!(matches!(err, SourceError::DestNotEmpty(_)), "{err}");
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn source_sniff_refuses_unknown_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk");
    fs::write(&junk, b"just some text, not an archive").unwrap();
    let err = sniff(&junk).unwrap_err().to_string();
    assert!(err.contains("unknown archive format"), "{err}");
    let err = extract(&junk, &dir.path().join("out"), 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("junk"), "{err}");
    assert!(!dir.path().join("out").exists());
}

/// Extracts a hostile archive inside `sandbox/work`; the error must name `entry`, the
/// destination must not exist, and nothing else may appear anywhere in `sandbox`.
fn assert_refused(file: &str, bytes: Vec<u8>, strip: usize, entry: &str) {
    let sandbox = tempfile::tempdir().unwrap();
    let work = sandbox.path().join("work");
    fs::create_dir(&work).unwrap();
    let archive = work.join(file);
    fs::write(&archive, bytes).unwrap();
    let dest = work.join("a").join("dest");
    let err = extract(&archive, &dest, strip).expect_err(file);
    let msg = err.to_string();
    assert!(
        matches!(err, SourceError::UnsafeEntry { .. }),
        "{file}: {msg}"
    );
    assert!(
        msg.contains(&format!("{entry:?}")),
        "{file}: error names {entry:?}: {msg}"
    );
    assert!(!dest.exists(), "{file}: dest exists");
    // Only the archive and the (now empty) parent of dest are left.
    let mut all = Vec::new();
    let mut stack = vec![sandbox.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
            all.push(e.path().strip_prefix(sandbox.path()).unwrap().to_path_buf());
        }
    }
    all.sort();
    let expected: Vec<PathBuf> = ["work", &format!("work/{file}"), "work/a"]
        .iter()
        .map(PathBuf::from)
        .collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(all, expected, "{file}: stray files");
    assert!(!Path::new("/etc/evil").exists());
}

#[test]
fn source_hostile_archives_are_refused() {
    let ok = E::File(b"top/fine", b"fine", 0o644);
    // `..` in a path (written after a good entry, so something partial existed).
    assert_refused(
        "dotdot.tar.gz",
        gz(&tar_bytes(&[
            E::File(b"top/fine", b"x", 0o644),
            E::File(b"../evil", b"x", 0o644),
        ])),
        0,
        "../evil",
    );
    assert_refused(
        "dotdot-deep.tar",
        tar_bytes(&[E::File(b"top/../../evil", b"x", 0o644)]),
        1,
        "top/../../evil",
    );
    // An absolute path.
    assert_refused(
        "abs.tar.xz",
        xz(&tar_bytes(&[E::File(b"/etc/evil", b"x", 0o644)])),
        0,
        "/etc/evil",
    );
    // A symlink to /etc, then a file through it: the symlink is refused first.
    assert_refused(
        "symlink.tar",
        tar_bytes(&[
            E::Symlink(b"top/etc", b"/etc"),
            E::File(b"top/etc/evil", b"x", 0o644),
        ]),
        1,
        "top/etc",
    );
    // A relative symlink that climbs out.
    assert_refused(
        "climb.tar",
        tar_bytes(&[E::Symlink(b"top/up", b"../..")]),
        1,
        "top/up",
    );
    // A file written through a symlink that stays inside is still never followed.
    assert_refused(
        "through.tar.bz2",
        bz2(&tar_bytes(&[
            E::Dir(b"top/real/"),
            E::Symlink(b"top/l", b"real"),
            E::File(b"top/l/x", b"x", 0o644),
        ])),
        1,
        "top/l/x",
    );
    // A chain of symlinks each harmless alone: `p/q/y -> ../..` (the root), then
    // `p/q/x -> y/../..`, which the kernel resolves to the parent of the destination.
    assert_refused(
        "chain.tar",
        tar_bytes(&[
            E::Dir(b"p/q/"),
            E::Symlink(b"p/q/y", b"../.."),
            E::Symlink(b"p/q/x", b"y/../.."),
        ]),
        0,
        "p/q/x",
    );
    // The same, but with the escaping chain completed by a later entry.
    assert_refused(
        "chain-late.tar",
        tar_bytes(&[
            E::Dir(b"p/q/"),
            E::Symlink(b"p/q/x", b"y/../.."),
            E::Symlink(b"p/q/y", b"../.."),
        ]),
        0,
        "p/q/x",
    );
    // Zip: `../x`, an absolute name, and a symlink out.
    assert_refused(
        "dotdot.zip",
        zip_bytes(&[ok, E::File(b"../x", b"x", 0o644)]),
        0,
        "../x",
    );
    assert_refused(
        "abs.zip",
        zip_bytes(&[E::File(b"/etc/evil", b"x", 0o644)]),
        0,
        "/etc/evil",
    );
    assert_refused(
        "link.zip",
        zip_bytes(&[E::Symlink(b"top/etc", b"/etc")]),
        1,
        "top/etc",
    );
}

#[test]
fn source_hard_links_stay_inside() {
    // A good hard link (its target name is stripped like any path).
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("a.tar");
    let entries = [
        E::File(b"top/a", b"data", 0o644),
        E::Hardlink(b"top/b", b"top/a"),
    ];
    fs::write(&archive, tar_bytes(&entries)).unwrap();
    let dest = dir.path().join("out");
    extract(&archive, &dest, 1).unwrap();
    assert_eq!(fs::read(dest.join("b")).unwrap(), b"data");

    // Hard links to something outside, or through a symlink, are refused.
    assert_refused(
        "hard-abs.tar",
        tar_bytes(&[E::Hardlink(b"top/h", b"/etc/passwd")]),
        1,
        "top/h",
    );
    assert_refused(
        "hard-up.tar",
        tar_bytes(&[E::Hardlink(b"top/h", b"top/../../x")]),
        1,
        "top/h",
    );
    assert_refused(
        "hard-sym.tar",
        tar_bytes(&[
            E::Dir(b"top/d/"),
            E::Symlink(b"top/s", b"d"),
            E::File(b"top/d/f", b"x", 0o644),
            E::Hardlink(b"top/h", b"top/s/f"),
        ]),
        1,
        "top/h",
    );
}
