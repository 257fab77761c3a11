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

/// The error of each origin tried, in order, when every one failed.
fn origin_errors(err: &SourceError) -> &[SourceError] {
    match err {
        SourceError::AllOriginsFailed { errors, .. } => errors,
        other => panic!("not a failure of every origin: {other}"),
    }
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
    let err = fetch(&store, &expected, vec![Origin::Url(url.clone())]).unwrap_err();
    assert!(
        matches!(
            origin_errors(&err),
            [SourceError::Mismatch { origin, expected: e, got: g }]
                if *origin == url && *e == expected && *g == got
        ),
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
    let err = fetch(&store, &hex, vec![Origin::Url(missing.clone())]).unwrap_err();
    assert!(
        matches!(
            origin_errors(&err),
            [SourceError::HttpStatus { url, status: 404 }] if *url == missing
        ),
        "{err}"
    );

    // Both errors are reported when every origin fails.
    let gone = srv.url("/gone");
    let err = fetch(
        &store,
        &hex,
        vec![Origin::Url(missing.clone()), Origin::Url(gone.clone())],
    )
    .unwrap_err();
    assert!(
        matches!(
            origin_errors(&err),
            [
                SourceError::HttpStatus { url: first, .. },
                SourceError::HttpStatus { url: second, .. },
            ] if *first == missing && *second == gone
        ),
        "{err}"
    );

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
    assert!(
        matches!(origin_errors(&err), [SourceError::BadUrl(url)] if url == "file:///etc/passwd"),
        "{err}"
    );
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

// ---------------------------------------------------------------------------------------------
// Caps (issue 9, failure 8): the caps are set low here so the inputs stay small.

fn small_limits() -> recipe::source::Limits {
    recipe::source::Limits {
        max_download: 1 << 20,
        max_extract: 1 << 20,
        max_entries: 8,
        max_path_len: 256,
    }
}

/// Extracts under `limits` inside a sandbox; returns the error and asserts that nothing but
/// the archive and the destination's (empty) parent is left.
fn extract_refused(file: &str, bytes: Vec<u8>, limits: &recipe::source::Limits) -> SourceError {
    let sandbox = tempfile::tempdir().unwrap();
    let archive = sandbox.path().join(file);
    fs::write(&archive, bytes).unwrap();
    let dest = sandbox.path().join("a").join("dest");
    let err = recipe::source::extract_with(&archive, &dest, 0, limits).expect_err(file);
    assert!(!dest.exists(), "{file}: dest exists");
    let left: Vec<_> = fs::read_dir(sandbox.path().join("a")).unwrap().collect();
    assert!(left.is_empty(), "{file}: left behind {left:?}");
    err
}

#[test]
fn source_bombs_stop_at_the_extract_cap_in_every_format() {
    let zeros = vec![0u8; 4 << 20];
    let entries = [E::File(b"top/zeros", &zeros, 0o644)];
    let tar = tar_bytes(&entries);
    for (file, bytes) in [
        ("bomb.tar", tar.clone()),
        ("bomb.tar.gz", gz(&tar)),
        ("bomb.tar.xz", xz(&tar)),
        ("bomb.tar.bz2", bz2(&tar)),
        ("bomb.zip", zip_bytes(&entries)),
    ] {
        let err = extract_refused(file, bytes, &small_limits());
        let msg = err.to_string();
        assert!(
            matches!(&err, SourceError::ExtractTooBig { entry, cap, .. }
                if entry == "top/zeros" && *cap == 1 << 20),
            "{file}: {msg}"
        );
        assert!(
            msg.contains("\"top/zeros\"")
                && msg.contains("extraction cap of 1 MiB")
                && msg.contains("RECIPE_MAX_EXTRACT"),
            "{file}: {msg}"
        );
    }
    // Under the cap, the same archive unpacks.
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("ok.tar.gz");
    fs::write(&archive, gz(&tar)).unwrap();
    let limits = recipe::source::Limits {
        max_extract: 8 << 20,
        ..small_limits()
    };
    recipe::source::extract_with(&archive, &dir.path().join("out"), 1, &limits).unwrap();
    assert_eq!(
        fs::metadata(dir.path().join("out/zeros")).unwrap().len(),
        4 << 20
    );
}

#[test]
fn source_too_many_entries_are_refused() {
    let names: Vec<Vec<u8>> = (0..20).map(|i| format!("top/f{i}").into_bytes()).collect();
    let entries: Vec<E> = names.iter().map(|n| E::File(n, b"x", 0o644)).collect();
    for (file, bytes) in [
        ("many.tar.gz", gz(&tar_bytes(&entries))),
        ("many.zip", zip_bytes(&entries)),
    ] {
        let err = extract_refused(file, bytes, &small_limits());
        assert!(
            matches!(err, SourceError::TooManyEntries { cap: 8, .. }),
            "{file}: {err}"
        );
        assert!(err.to_string().contains("more than 8 entries"), "{err}");
    }
}

#[test]
fn source_overlong_paths_are_refused() {
    // A GNU long name of 300 bytes (the tar crate writes the `L` entry itself).
    let long = format!("top/{}", "n".repeat(296));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, &long, &b"x"[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let err = extract_refused("long.tar.gz", gz(&tar), &small_limits());
    assert!(
        err.to_string()
            .contains("a GNU long name of 301 bytes, over the cap of 256"),
        "{err}"
    );
    // A PAX `path` over the cap.
    let mut pax = pax_record("path", &long);
    pax.extend(pax_record("mtime", "1"));
    let mut b = tar::Builder::new(Vec::new());
    append_pax(&mut b, "PaxHeaders/x", &pax);
    let mut h = tar::Header::new_ustar();
    h.set_path("top/short").unwrap();
    h.set_size(1);
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    let err = extract_refused("longpax.tar", b.into_inner().unwrap(), &small_limits());
    assert!(
        err.to_string()
            .contains("300 bytes long, over the cap of 256")
            && err.to_string().contains(&long),
        "{err}"
    );
    // A GNU long name claiming 64 MiB (and holding it: zeros, so the archive stays small) is
    // refused before any of it is read into memory, under the default caps.
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(64 << 20);
    h.set_cksum();
    let mut bomb = gz(h.as_bytes());
    let chunk = gz(&vec![0u8; 1 << 20]);
    for _ in 0..64 {
        bomb.extend_from_slice(&chunk);
    }
    bomb.extend(gz(&[0u8; 1024]));
    let err = extract_refused(
        "longname-bomb.tar.gz",
        bomb,
        &recipe::source::Limits::default(),
    );
    assert!(
        err.to_string()
            .contains("a GNU long name of 67108864 bytes, over the cap of 4096")
            && err.to_string().contains("././@LongLink"),
        "{err}"
    );
    let entries = [E::File(long.as_bytes(), b"x", 0o644)];
    let err = extract_refused("long.zip", zip_bytes(&entries), &small_limits());
    assert!(
        err.to_string()
            .contains("300 bytes long, over the cap of 256"),
        "{err}"
    );
    // A symlink target over the cap.
    let target = "t".repeat(300);
    let entries = [E::Symlink(b"top/link", target.as_bytes())];
    let err = extract_refused("longlink.zip", zip_bytes(&entries), &small_limits());
    assert!(
        err.to_string().contains("symlink target is over the cap"),
        "{err}"
    );
}

/// One PAX record: `LEN KEY=VALUE\n`, LEN counting itself.
/// Appends a PAX extended header entry at `path` holding the records `pax`.
fn append_pax(b: &mut tar::Builder<Vec<u8>>, path: &str, pax: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_path(path).unwrap();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_size(pax.len() as u64);
    h.set_cksum();
    b.append(&h, pax).unwrap();
}

fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

#[test]
fn source_sparse_entries_are_refused() {
    // PAX sparse format 1.0: a regular entry whose PAX header says its data is a sparse map
    // of a 1 TiB file.
    let mut pax = Vec::new();
    for (k, v) in [
        ("GNU.sparse.major", "1"),
        ("GNU.sparse.minor", "0"),
        ("GNU.sparse.name", "top/huge"),
        ("GNU.sparse.realsize", "1099511627776"),
    ] {
        pax.extend(pax_record(k, v));
    }
    let mut b = tar::Builder::new(Vec::new());
    append_pax(&mut b, "top/PaxHeaders/huge", &pax);
    let mut h = tar::Header::new_ustar();
    h.set_path("top/GNUSparseFile.0/huge").unwrap();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(512);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, &[b'1'; 512][..]).unwrap();
    let err = extract_refused(
        "pax-sparse.tar",
        b.into_inner().unwrap(),
        &recipe::source::Limits::default(),
    );
    assert!(
        matches!(err, SourceError::UnsafeEntry { .. })
            && err.to_string().contains("sparse entries are not supported"),
        "{err}"
    );
}

#[test]
fn source_download_cap_removes_the_partial_file() {
    let body = vec![7u8; 2 << 20];
    let srv = serve(&[("/big", &body)]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::with_limits(dir.path(), small_limits());
    let url = srv.url("/big");
    let err = fetch(&store, &sha(&body), vec![Origin::Url(url.clone())]).unwrap_err();
    assert!(
        matches!(
            origin_errors(&err),
            [SourceError::DeclaredTooBig { url: u, declared, cap }]
                if *u == url && *declared == 2 << 20 && *cap == 1 << 20
        ),
        "{err}"
    );
    assert!(files_under(&dir.path().join("sha256")).is_empty());
    assert!(files_under(&dir.path().join("tmp")).is_empty());
    // With room for it, the same download is stored.
    let store = Store::with_limits(
        dir.path(),
        recipe::source::Limits {
            max_download: 2 << 20,
            ..small_limits()
        },
    );
    fetch(&store, &sha(&body), vec![Origin::Url(url)]).unwrap();
}

#[test]
fn source_cap_sizes_parse() {
    use recipe::size::parse as parse_size;
    assert_eq!(parse_size("64M"), Some(64 << 20));
    assert_eq!(parse_size("16GiB"), Some(16 << 30));
    assert_eq!(parse_size("4096"), Some(4096));
    assert_eq!(parse_size("none"), None);
}

// ---------------------------------------------------------------------------------------------
// Copying a local tree (a `path` source, or a sysroot): special files and escaping symlinks.

/// Runs `f` on another thread and fails the test if it has not returned within 60 s.
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("hung on a special file")
}

#[test]
fn source_copy_tree_refuses_a_fifo_without_opening_it() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("from");
    fs::create_dir_all(from.join("sub")).unwrap();
    fs::write(from.join("a"), "a").unwrap();
    let fifo = from.join("sub/pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let to = dir.path().join("to");
    let (from2, to2) = (from.clone(), to.clone());
    let err = within_a_minute(move || recipe::build::copy_tree(&from2, &to2))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`sub/pipe`") && err.contains("is a fifo"),
        "{err}"
    );
    let err = within_a_minute(move || recipe::source::fingerprint_dir(&from))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`sub/pipe`") && err.contains("is a fifo"),
        "{err}"
    );
    assert!(!to.join("sub/pipe").exists());
}

#[test]
fn source_copy_tree_keeps_inner_symlinks_and_refuses_escaping_ones() {
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("from");
    fs::create_dir_all(from.join("lib")).unwrap();
    fs::write(from.join("lib/libx.so.1"), "elf").unwrap();
    fs::set_permissions(
        from.join("lib/libx.so.1"),
        fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    std::os::unix::fs::symlink("libx.so.1", from.join("lib/libx.so")).unwrap();
    let to = dir.path().join("to");
    recipe::build::copy_tree(&from, &to).unwrap();
    assert_eq!(
        fs::read_link(to.join("lib/libx.so")).unwrap(),
        Path::new("libx.so.1")
    );
    let mode = fs::metadata(to.join("lib/libx.so.1"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o755, "exec bits kept, setuid dropped");
    // Modification times are kept, as an archive's extraction keeps them (make compares them).
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(from.join("lib/libx.so.1"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let again = dir.path().join("again");
    recipe::build::copy_tree(&from, &again).unwrap();
    assert_eq!(
        fs::metadata(again.join("lib/libx.so.1"))
            .unwrap()
            .modified()
            .unwrap(),
        old
    );

    std::os::unix::fs::symlink("/etc/passwd", from.join("lib/host")).unwrap();
    let err = recipe::build::copy_tree(&from, &dir.path().join("to2"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`lib/host`") && err.contains("is absolute"),
        "{err}"
    );
}

#[test]
fn source_long_names_and_links_still_extract() {
    // GNU long names and links (`L`, `K`) and a PAX `path`/`linkpath`, all well under the caps.
    let deep = format!("top/{}/file", "d".repeat(150));
    let pax_name = format!("top/{}", "p".repeat(150));
    let pax_link = format!("{}/file", "d".repeat(150));
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(5);
    h.set_mode(0o644);
    b.append_data(&mut h, &deep, &b"hello"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "top/gnu-link", format!("{}/file", "d".repeat(150)))
        .unwrap();
    let mut pax = pax_record("path", &pax_name);
    pax.extend(pax_record("linkpath", &pax_link));
    append_pax(&mut b, "PaxHeaders/p", &pax);
    let mut h = tar::Header::new_ustar();
    h.set_path("top/short").unwrap();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_cksum();
    b.append(&h, &b""[..]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("long.tar.gz");
    fs::write(&archive, gz(&b.into_inner().unwrap())).unwrap();
    let out = dir.path().join("out");
    extract(&archive, &out, 1).unwrap();
    let file = format!("{}/file", "d".repeat(150));
    assert_eq!(fs::read(out.join(&file)).unwrap(), b"hello");
    assert_eq!(
        fs::read_link(out.join("gnu-link")).unwrap(),
        Path::new(&file)
    );
    let p = "p".repeat(150);
    assert_eq!(fs::read_link(out.join(&p)).unwrap(), Path::new(&pax_link));
    assert!(!out.join("short").exists());
}

// ---------------------------------------------------------------------------------------------
// Go modules: dated by their publication time

/// A `go` that reaches only the module proxy at `proxy` (no checksum database), as the store
/// runs it.
fn go_through(proxy: &str, dir: &Path) -> Option<PathBuf> {
    let real = std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("go"))
        .find(|p| p.is_file())?;
    let go = dir.join("go");
    fs::write(
        &go,
        format!(
            "#!/bin/sh\nGOPROXY={proxy} GOSUMDB=off GONOSUMDB=* exec {} \"$@\"\n",
            real.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&go, fs::Permissions::from_mode(0o755)).unwrap();
    Some(go)
}

#[test]
fn source_go_module_is_dated_by_its_info_time_and_the_date_is_kept() {
    if !crate::util::require_tool("go") {
        return;
    }
    let zip = zip_bytes(&[
        E::File(
            b"example.com/dated@v1.0.0/go.mod",
            b"module example.com/dated\n",
            0o644,
        ),
        E::File(
            b"example.com/dated@v1.0.0/main.go",
            b"package main\n\nfunc main() {}\n",
            0o644,
        ),
    ]);
    let info = br#"{"Version":"v1.0.0","Time":"2023-05-06T07:08:09Z"}"#;
    let server = serve(&[
        ("/example.com/dated/@v/v1.0.0.info", info),
        (
            "/example.com/dated/@v/v1.0.0.mod",
            b"module example.com/dated\n",
        ),
        ("/example.com/dated/@v/v1.0.0.zip", &zip),
    ]);
    let bin = tempfile::tempdir().unwrap();
    let go = go_through(&server.url(""), bin.path()).unwrap();
    let origin = || Origin::GoModule {
        module: "example.com/dated".into(),
        version: "v1.0.0".into(),
    };
    let t = tempfile::tempdir().unwrap();
    let store = Store::new(t.path().join("a")).with_go(go.clone());
    fetch(&store, &sha(&zip), vec![origin()]).unwrap();
    // 2023-05-06T07:08:09Z.
    assert_eq!(store.date_of(&sha(&zip)), Some(1_683_356_889));

    // A zip stored without its date (by an older `recipe`) gets it from the proxy's `.info`.
    let older = Store::new(t.path().join("b")).with_go(go.clone());
    fs::create_dir_all(older.path_of(&sha(&zip)).parent().unwrap()).unwrap();
    fs::write(older.path_of(&sha(&zip)), &zip).unwrap();
    assert_eq!(older.date_of(&sha(&zip)), None);
    fetch(&older, &sha(&zip), vec![origin()]).unwrap();
    assert_eq!(older.date_of(&sha(&zip)), Some(1_683_356_889));

    // What a proxy without the `.info` does is `source_go_module_without_a_date_fails_the_fetch`:
    // an error now, no longer a note and the files' date (which made the date depend on the
    // machine and the run, not on the cache key).
}

/// A Go module zip `example.com/dated@v1.0.0`, its `.info` (published 2023-05-06T07:08:09Z)
/// and `.mod`, as a module proxy serves them.
fn dated_module() -> (Vec<u8>, Vec<(&'static str, Vec<u8>)>) {
    let zip = zip_bytes(&[
        E::File(
            b"example.com/dated@v1.0.0/go.mod",
            b"module example.com/dated\n",
            0o644,
        ),
        E::File(
            b"example.com/dated@v1.0.0/main.go",
            b"package main\n\nfunc main() {}\n",
            0o644,
        ),
    ]);
    let info = br#"{"Version":"v1.0.0","Time":"2023-05-06T07:08:09Z"}"#.to_vec();
    let files = vec![
        ("/example.com/dated/@v/v1.0.0.info", info),
        (
            "/example.com/dated/@v/v1.0.0.mod",
            b"module example.com/dated\n".to_vec(),
        ),
        ("/example.com/dated/@v/v1.0.0.zip", zip.clone()),
    ];
    (zip, files)
}

fn dated_origin() -> Origin {
    Origin::GoModule {
        module: "example.com/dated".into(),
        version: "v1.0.0".into(),
    }
}

#[test]
fn source_go_module_given_by_a_url_is_dated_by_the_proxys_info() {
    if !crate::util::require_tool("go") {
        return;
    }
    let (zip, mut files) = dated_module();
    files.push(("/dl/dated.zip", zip.clone()));
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (*p, &b[..])).collect();
    let server = serve(&files);
    let bin = tempfile::tempdir().unwrap();
    let go = go_through(&server.url(""), bin.path()).unwrap();
    let t = tempfile::tempdir().unwrap();
    let store = Store::new(t.path().join("store")).with_go(go);
    let mut notes = Vec::new();
    let f = Fetch {
        sha256: sha(&zip),
        origins: vec![Origin::Url(server.url("/dl/dated.zip")), dated_origin()],
    };
    store
        .fetch(&f, &mut |m: &str| notes.push(m.to_string()))
        .unwrap();
    // The url gave the bytes; the date is still the `.info`'s, asked of the proxy at once
    // (not left to a later run, nor to the files).
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("stored sha256") && n.contains("/dl/dated.zip")),
        "{notes:?}"
    );
    assert_eq!(store.date_of(&sha(&zip)), Some(1_683_356_889));
}

#[test]
fn source_go_module_without_a_date_fails_the_fetch() {
    if !crate::util::require_tool("go") {
        return;
    }
    // A proxy that serves the zip by url but has no `.info` (as an unreachable proxy, or
    // GOPROXY=off, gives none).
    let (zip, _) = dated_module();
    let server = serve(&[("/dl/dated.zip", &zip)]);
    let bin = tempfile::tempdir().unwrap();
    let go = go_through(&server.url(""), bin.path()).unwrap();
    let t = tempfile::tempdir().unwrap();
    let f = Fetch {
        sha256: sha(&zip),
        origins: vec![Origin::Url(server.url("/dl/dated.zip")), dated_origin()],
    };
    let store = Store::new(t.path().join("store")).with_go(go.clone());
    let e = store.fetch(&f, &mut |_| {}).unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, SourceError::GoModuleUndated { .. }), "{m}");
    assert!(
        m.starts_with("cannot date go module example.com/dated@v1.0.0: "),
        "{m}"
    );
    assert!(m.contains("`@v/v1.0.0.info` `Time`"), "{m}");
    assert!(m.contains("`GOPROXY`"), "{m}");
    assert!(m.contains("set `SOURCE_DATE_EPOCH`"), "{m}");
    assert_eq!(store.date_of(&sha(&zip)), None);
    // The bytes were verified and are kept; the next fetch asks again and fails again,
    // rather than going on with another date.
    assert!(store.path_of(&sha(&zip)).is_file());
    let again = store.fetch(&f, &mut |_| {}).unwrap_err();
    assert!(
        matches!(again, SourceError::GoModuleUndated { .. }),
        "{again}"
    );

    // With an explicit SOURCE_DATE_EPOCH the source's date is not needed: the fetch goes on,
    // and the source stays undated (dated by nothing else either).
    let explicit = Store::new(t.path().join("explicit"))
        .with_go(go)
        .with_explicit_date(true);
    explicit.fetch(&f, &mut |_| {}).unwrap();
    assert_eq!(explicit.date_of(&sha(&zip)), None);
}
