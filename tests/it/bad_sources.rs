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

/// The cache holds no source file, no temp file and no unpacked tree; the output has no image.
fn nothing_left(s: &Scratch) {
    let sources = files_under(&s.cache().join("sources"));
    assert!(sources.is_empty(), "left in the source store: {sources:?}");
    let src = s.cache().join("work/demo-amd64/src");
    assert!(
        !src.exists() || std::fs::read_dir(&src).unwrap().next().is_none(),
        "a half-extracted source"
    );
    assert!(!s.out().join("demo").exists(), "output of a failed build");
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
