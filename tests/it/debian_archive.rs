//! Debian without the host's apt: a fake mirror on 127.0.0.1 (`RECIPE_DEBIAN_MIRROR`) whose
//! `InRelease` files are signed by a test key made with `gpg` in a temporary `GNUPGHOME` and
//! trusted through `RECIPE_DEBIAN_KEYRING`. A source is fetched and built with no `apt-get` or
//! `apt-cache` on PATH (from the security archive's pool when the main pool 404s); an index
//! whose signed text was changed, or signed by a key not trusted, is refused; `recipe outdated`
//! exits 1 only for a pending security update of the pin's own release; `recipe update`
//! changes the pins' values and nothing else of the file.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{E, Scratch, Server, build_lock, require_tool, run, serve, sha, tar_bytes};

/// A signing key in a temporary `GNUPGHOME`, and its public key exported armored.
pub(crate) struct Signer {
    home: tempfile::TempDir,
    pub keyring: PathBuf,
}

impl Signer {
    /// A new ed25519 key; `None` (a skip) without `gpg`.
    pub(crate) fn new() -> Option<Signer> {
        if !require_tool("gpg") {
            return None;
        }
        let home = tempfile::tempdir().unwrap();
        let s = Signer {
            keyring: home.path().join("trusted.asc"),
            home,
        };
        let o = s
            .gpg()
            .args(["--passphrase", "", "--quick-gen-key"])
            .args([
                "Recipe Test <test@example.invalid>",
                "ed25519",
                "sign",
                "never",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = s.gpg().args(["--armor", "--export"]).output().unwrap();
        assert!(o.status.success());
        std::fs::write(&s.keyring, o.stdout).unwrap();
        Some(s)
    }

    fn gpg(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", self.home.path()).args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--quiet",
        ]);
        c
    }

    /// `text` as an OpenPGP cleartext-signed message.
    pub(crate) fn clearsign(&self, text: &str) -> Vec<u8> {
        let input = self.home.path().join("in.txt");
        let output = self.home.path().join("in.txt.asc");
        std::fs::write(&input, text).unwrap();
        let _ = std::fs::remove_file(&output);
        let o = self
            .gpg()
            .args(["--digest-algo", "SHA256", "--clearsign", "-o"])
            .arg(&output)
            .arg(&input)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(output).unwrap()
    }
}

/// One version of the `demo` source package a suite lists: its version and files.
#[derive(Clone)]
pub(crate) struct Listed {
    pub version: String,
    pub files: Vec<(String, Vec<u8>)>,
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The `Sources` paragraphs of the listed versions.
fn sources(listed: &[Listed], dir: &str) -> String {
    listed
        .iter()
        .map(|l| {
            let sums: String = l
                .files
                .iter()
                .map(|(n, b)| format!(" {} {} {n}\n", sha(b), b.len()))
                .collect();
            format!(
                "Package: demo\nBinary: demo\nVersion: {}\nFormat: 3.0 (quilt)\n\
                 Checksums-Sha256:\n{sums}Directory: {dir}\n\n",
                l.version
            )
        })
        .collect()
}

/// What a mirror serves for one suite: `InRelease` (signed, or changed after signing when
/// `tamper`) and `main/source/Sources.xz`.
pub(crate) fn suite_files(
    signer: &Signer,
    suite: &str,
    listed: &[Listed],
    tamper: bool,
) -> Vec<(String, Vec<u8>)> {
    let security = suite.ends_with("-security");
    let (folder, dir) = if security {
        ("debian-security", "pool/updates/main/d/demo")
    } else {
        ("debian", "pool/main/d/demo")
    };
    let sources_xz = xz(sources(listed, dir).as_bytes());
    let release = format!(
        "Origin: Test\nLabel: Test\nSuite: {suite}\nCodename: {suite}\n\
         Date: Sat, 05 Dec 2026 00:00:00 UTC\nValid-Until: Fri, 01 Jan 2100 00:00:00 UTC\n\
         SHA256:\n {} {} main/source/Sources.xz\n",
        sha(&sources_xz),
        sources_xz.len()
    );
    let mut inrelease = signer.clearsign(&release);
    if tamper {
        let text = String::from_utf8(inrelease).unwrap();
        inrelease = text.replacen("Label: Test", "Label: Tost", 1).into_bytes();
    }
    vec![
        (format!("/{folder}/dists/{suite}/InRelease"), inrelease),
        (
            format!("/{folder}/dists/{suite}/main/source/Sources.xz"),
            sources_xz,
        ),
    ]
}

/// Serves the files; the pool's paths are given whole (`/debian/pool/main/d/demo/FILE`).
pub(crate) fn mirror(files: Vec<(String, Vec<u8>)>) -> Server {
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    serve(&refs)
}

/// `recipe` against `mirror`, trusting `signer`'s key, reading `suites`, with a private cache.
pub(crate) fn cmd(s: &Scratch, server: &Server, signer: &Signer, suites: &str) -> Command {
    let mut c = s.cmd_private_cache();
    c.env("RECIPE_DEBIAN_MIRROR", server.url(""))
        .env("RECIPE_DEBIAN_KEYRING", &signer.keyring)
        .env("RECIPE_DEBIAN_SUITES", suites);
    c
}

/// A small C project as Debian's orig tarball (`marker` makes its sha256 new) and Debian's
/// part of the source package (format 3.0 (quilt), an empty series).
fn demo_files(marker: &str) -> (Vec<u8>, Vec<u8>) {
    let makefile = b"demo: demo.c\n\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ demo.c\n\
        install: demo\n\tmkdir -p $(DESTDIR)$(PREFIX)/bin\n\tcp demo $(DESTDIR)$(PREFIX)/bin/demo\n";
    let c = b"#include <stdio.h>\nint main(void) { puts(\"demo 1.0\"); return 0; }\n";
    let orig = tar_bytes(&[
        E::Dir(b"demo-1.0/"),
        E::File(b"demo-1.0/Makefile", makefile, 0o644),
        E::File(b"demo-1.0/demo.c", c, 0o644),
        E::File(b"demo-1.0/MARKER", marker.as_bytes(), 0o644),
    ]);
    let debian = xz(&tar_bytes(&[
        E::Dir(b"debian/"),
        E::Dir(b"debian/source/"),
        E::File(b"debian/source/format", b"3.0 (quilt)\n", 0o644),
        E::Dir(b"debian/patches/"),
        E::File(b"debian/patches/series", b"", 0o644),
        E::File(
            b"debian/copyright",
            b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
              Upstream-Name: demo\n\n\
              Files: *\nCopyright: 2024 A Maintainer\nLicense: Expat\n\n\
              Files: debian/*\nCopyright: 2024 A Maintainer\nLicense: BSD-3-clause\n",
            0o644,
        ),
        E::File(
            b"debian/changelog",
            b"demo (1.0-1) bookworm; urgency=medium\n\n  * Initial release.\n\n \
              -- A Maintainer <a@example.invalid>  Thu, 01 Feb 2024 10:00:00 +0100\n",
            0o644,
        ),
    ]));
    (orig, debian)
}

/// The demo recipe pinned at `version`, with comments everywhere `recipe update` must keep.
pub(crate) fn demo_recipe(version: &str, orig: &[u8], debian: &[u8]) -> String {
    format!(
        "# demo: a test recipe; every comment here must survive `recipe update`.\n\
         name = \"demo\"   # the name\nversion = \"1.0\"\nlicense = \"MIT\"\n\
         homepage = \"https://example.invalid\"\n\n\
         [source]\n# the orig tarball, as the signed index lists it\n\
         sha256 = \"{}\"  # pinned\nnote = \"the bytes of Debian's demo_1.0.orig.tar\"\n\n\
         [source.debian]\npackage = \"demo\"\n# the Debian version\nversion = \"{version}\"\n\
         release = \"bookworm\"\nfile = \"demo_1.0.orig.tar\"\n\
         debian-file = \"demo_{}.debian.tar.xz\"   # Debian's part\n\
         debian-sha256 = \"{}\"\n\n\
         [build]\nsystem = \"make\"\n\n[app]\nfiles = [\"/usr/local/bin/demo\"]\n\n\
         [smoke]\ncommand = [\"demo\", \"--version\"]\nexpect = \"demo 1.0\"\n",
        sha(orig),
        version.split_once(':').map_or(version, |v| v.1),
        sha(debian)
    )
}

/// PATH without the folders that hold `apt-get` or `apt-cache`: each such folder is replaced
/// by a folder of symlinks to everything else in it.
fn path_without_apt(keep: &Path) -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = Vec::new();
    for (i, d) in std::env::split_paths(&path).enumerate() {
        if !(d.join("apt-get").exists() || d.join("apt-cache").exists()) {
            dirs.push(d);
            continue;
        }
        let farm = keep.join(format!("path-{i}"));
        std::fs::create_dir_all(&farm).unwrap();
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name();
            if name == "apt-get" || name == "apt-cache" {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), farm.join(&name));
        }
        dirs.push(farm);
    }
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn a_debian_source_builds_with_no_apt_on_path() {
    if !require_tool("python3") {
        return;
    }
    let Some(signer) = Signer::new() else {
        return;
    };
    let marker = format!("{:?} {}", std::time::SystemTime::now(), std::process::id());
    let (orig, debian) = demo_files(&marker);
    let version = "1.0-1+deb12u1";
    // Only the security archive's pool has the files: the main pool 404s first.
    let pool = "/debian-security/pool/updates/main/d/demo";
    let files = vec![
        (format!("{pool}/demo_1.0.orig.tar"), orig.clone()),
        (
            format!("{pool}/demo_{version}.debian.tar.xz"),
            debian.clone(),
        ),
    ];
    let server = mirror(files);
    let _l = build_lock();
    let s = Scratch::new();
    s.recipe("demo", &demo_recipe(version, &orig, &debian));
    let no_apt = tempfile::tempdir().unwrap();
    let path = path_without_apt(no_apt.path());
    assert!(
        std::env::split_paths(&path).all(|d| !d.join("apt-get").exists()),
        "apt-get is still on PATH"
    );
    let mut c = s.cmd();
    c.env("PATH", &path)
        .env("RECIPE_DEBIAN_MIRROR", server.url(""))
        .env("RECIPE_DEBIAN_KEYRING", &signer.keyring);
    let out = run(c.args(["build", "demo", "--arch", "amd64"]))
        .success()
        .stderr_has(&format!(
            "served by {}{pool}/demo_1.0.orig.tar",
            server.url("")
        ));
    assert!(
        out.stderr
            .contains(&format!("stored sha256 {}", sha(&orig))),
        "{}",
        out.stderr
    );
    assert!(s.out().join("demo/bin/amd64/demo").is_file());
    // The image is dated by the changelog's newest entry, not by the tarballs' file times.
    let (_, created) = crate::image::created_dates(&s.out().join("demo/oci"));
    assert_eq!(created, ["2024-02-01T09:00:00Z"]);
    // Its SBOM is dated like it (the demo's changelog fixes no CVE: no VEX document).
    let beside = |ext: &str| {
        let found = std::fs::read_dir(s.out().join("demo"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(ext));
        crate::util::read_json(found.unwrap_or_else(|| panic!("no {ext} beside the image")))
    };
    let sbom = beside(".spdx.json");
    assert_eq!(sbom["creationInfo"]["created"], "2024-02-01T09:00:00Z");
    // Its licences as Debian's copyright file gives them (Expat is SPDX's MIT).
    let demo = &sbom["packages"][0];
    assert_eq!(demo["name"], "demo");
    assert_eq!(demo["licenseDeclared"], "MIT");
    assert_eq!(demo["licenseConcluded"], "BSD-3-Clause AND MIT");
}

/// The demo package's suites: bookworm at `base`, bookworm-security at `security` (if any),
/// trixie at 2.0-1; the pool has `base`'s files.
fn demo_mirror(
    signer: &Signer,
    base: &str,
    security: Option<&str>,
    tamper: bool,
) -> (Server, String) {
    let (orig, debian) = demo_files("outdated");
    let listed = |v: &str| Listed {
        version: v.into(),
        files: vec![
            ("demo_1.0.orig.tar".into(), orig.clone()),
            (format!("demo_{v}.debian.tar.xz"), debian.clone()),
        ],
    };
    let mut files = suite_files(signer, "bookworm", &[listed(base)], tamper);
    files.extend(suite_files(
        signer,
        "bookworm-security",
        &security.map(listed).into_iter().collect::<Vec<_>>(),
        false,
    ));
    files.extend(suite_files(signer, "trixie", &[listed("2.0-1")], false));
    for v in [Some(base), security].into_iter().flatten() {
        files.push((
            "/debian/pool/main/d/demo/demo_1.0.orig.tar".into(),
            orig.clone(),
        ));
        files.push((
            format!("/debian/pool/main/d/demo/demo_{v}.debian.tar.xz"),
            debian.clone(),
        ));
    }
    (mirror(files), demo_recipe("1.0-1", &orig, &debian))
}

const SUITES: &str = "bookworm,bookworm-security,trixie";

#[test]
fn outdated_exits_1_only_for_a_pending_security_update() {
    let Some(signer) = Signer::new() else {
        return;
    };
    // Current in bookworm; trixie's newer version is shown, not pending.
    let (server, text) = demo_mirror(&signer, "1.0-1", None, false);
    let s = Scratch::new();
    s.recipe("demo", &text);
    let out = run(cmd(&s, &server, &signer, SUITES).args(["outdated", "demo", "--no-toolchains"]))
        .success();
    assert!(out.stdout.contains("current"), "{}", out.stdout);
    assert!(out.stdout.contains("trixie 2.0-1"), "{}", out.stdout);
    // A newer upload to bookworm-security: pending, and a security update.
    let (server, text) = demo_mirror(&signer, "1.0-1", Some("1.0-1+deb12u1"), false);
    let s = Scratch::new();
    s.recipe("demo", &text);
    let out = run(cmd(&s, &server, &signer, SUITES).args([
        "outdated",
        "--all",
        "--json",
        "--no-toolchains",
    ]))
    .failure(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["security_pending"], true, "{}", out.stdout);
    let demo = &v["recipes"][0];
    assert_eq!(demo["name"], "demo");
    assert_eq!(demo["pinned"], "1.0-1");
    assert_eq!(demo["pending"]["version"], "1.0-1+deb12u1");
    assert_eq!(demo["pending"]["from"], "bookworm-security");
    assert_eq!(demo["security"], true);
    // Each suite's index was fetched once and kept: a second run asks the mirror nothing.
    let hits = server.hits();
    run(cmd(&s, &server, &signer, SUITES).args(["outdated", "demo", "--no-toolchains"])).failure(1);
    assert_eq!(server.hits(), hits, "the verified indexes are reused");
}

#[test]
fn an_index_with_a_bad_signature_is_refused() {
    let Some(signer) = Signer::new() else {
        return;
    };
    // A byte of the signed text changed after signing.
    let (server, text) = demo_mirror(&signer, "1.0-1", None, true);
    let s = Scratch::new();
    s.recipe("demo", &text);
    run(cmd(&s, &server, &signer, "bookworm").args(["outdated", "demo", "--no-toolchains"]))
        .failure(1)
        .stderr_has("refused, the signature does not verify against");
    // Signed by a key that is not trusted (the built-in Debian keys).
    let (server, text) = demo_mirror(&signer, "1.0-1", None, false);
    let s = Scratch::new();
    s.recipe("demo", &text);
    let mut c = cmd(&s, &server, &signer, "bookworm");
    c.env_remove("RECIPE_DEBIAN_KEYRING");
    run(c.args(["outdated", "demo", "--no-toolchains"]))
        .failure(1)
        .stderr_has("does not verify against the built-in Debian archive keys");
    assert!(!s.recipes().join("demo.toml.tmp").exists());
}

#[test]
fn update_changes_the_pins_and_keeps_every_comment() {
    let Some(signer) = Signer::new() else {
        return;
    };
    let (server, text) = demo_mirror(&signer, "1.0-1", Some("1.0-1+deb12u1"), false);
    let s = Scratch::new();
    s.recipe("demo", &text);
    let out = run(cmd(&s, &server, &signer, SUITES).args(["update", "demo"])).success();
    assert!(
        out.stdout
            .contains("source.debian.version: 1.0-1 -> 1.0-1+deb12u1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("miss"),
        "the plan follows: {}",
        out.stdout
    );
    let after = std::fs::read_to_string(s.recipes().join("demo.toml")).unwrap();
    let expected = text
        .replace("version = \"1.0-1\"", "version = \"1.0-1+deb12u1\"")
        .replace(
            "debian-file = \"demo_1.0-1.debian.tar.xz\"",
            "debian-file = \"demo_1.0-1+deb12u1.debian.tar.xz\"",
        );
    assert_eq!(after, expected);
    // Current now: nothing changes.
    run(cmd(&s, &server, &signer, SUITES).args(["update", "demo"]))
        .success()
        .stdout_has("the pins are current");
    // A version the release does not list is refused, the file unchanged.
    run(cmd(&s, &server, &signer, SUITES).args(["update", "demo", "--to", "2.0-1"]))
        .failure(2)
        .stderr_has("no suite of bookworm lists `demo` at version `2.0-1`");
    assert_eq!(
        std::fs::read_to_string(s.recipes().join("demo.toml")).unwrap(),
        expected
    );
}

/// `update --security --all` (what scheduled CI runs apply) moves a recipe only to a newer
/// version of a security suite of its release, and leaves a current one as it is.
#[test]
fn update_security_moves_only_to_a_security_upload() {
    let Some(signer) = Signer::new() else {
        return;
    };
    let (server, text) = demo_mirror(&signer, "1.0-1", Some("1.0-1+deb12u1"), false);
    let s = Scratch::new();
    s.recipe("demo", &text);
    run(cmd(&s, &server, &signer, SUITES).args(["update", "--security", "--all"]))
        .success()
        .stdout_has("source.debian.version: 1.0-1 -> 1.0-1+deb12u1");
    let after = std::fs::read_to_string(s.recipes().join("demo.toml")).unwrap();
    assert!(after.contains("version = \"1.0-1+deb12u1\""), "{after}");
    // Nothing newer in a security suite: nothing changes (trixie's 2.0-1 is not this release).
    run(cmd(&s, &server, &signer, SUITES).args(["update", "--security", "demo"]))
        .success()
        .stdout_has("no security update is pending");
    assert_eq!(
        std::fs::read_to_string(s.recipes().join("demo.toml")).unwrap(),
        after
    );
}

/// `recipe new demo --debian` without a version: the newest version the configured suites list
/// (bookworm-security's upload over bookworm's own), pinned from the signed indexes, and the
/// command that builds the draft. No apt on PATH: the binary packages are skipped with a note.
#[test]
fn new_without_a_version_takes_the_newest_in_the_suites() {
    let Some(signer) = Signer::new() else {
        return;
    };
    let (server, _) = demo_mirror(&signer, "1.0-1", Some("1.0-1+deb12u1"), false);
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes()).unwrap();
    let no_apt = tempfile::tempdir().unwrap();
    let out = run(cmd(&s, &server, &signer, "bookworm,bookworm-security")
        .env("PATH", path_without_apt(no_apt.path()))
        .args(["new", "-q", "demo", "--debian"]))
    .success()
    .stdout_has("build it (after the checks below): recipe build demo\n")
    .stdout_has("source: demo=1.0-1+deb12u1 from bookworm-security");
    assert!(out.stdout.starts_with("wrote "), "{}", out.stdout);
    let text = std::fs::read_to_string(s.recipes().join("demo.toml")).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    let d = &v["source"]["debian"];
    assert_eq!(d["version"].as_str(), Some("1.0-1+deb12u1"), "{text}");
    assert_eq!(d["release"].as_str(), Some("bookworm"), "{text}");
    assert_eq!(
        d["debian-file"].as_str(),
        Some("demo_1.0-1+deb12u1.debian.tar.xz"),
        "{text}"
    );
    assert_eq!(v["version"].as_str(), Some("1.0"), "{text}");
}
