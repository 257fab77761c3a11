//! `[source.debian]` sources with Debian's part: the tree a build starts from is the one
//! `dpkg-source -x` unpacks (for two catalogue recipes, file by file), each patch of the series
//! is a step in the log, a left-out patch is logged with its reason and not applied, and a
//! left-out name the series does not list is a recipe error at its place.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::util::{Scratch, recipe, require_tool, root, run, shared_cache};

/// The pins of catalogue recipe `name`: (orig file, orig sha256, Debian part, its sha256,
/// package, version).
fn pins(name: &str) -> [String; 6] {
    let text = std::fs::read_to_string(root().join(format!("recipes/{name}.toml"))).unwrap();
    let t: toml::Table = toml::from_str(&text).unwrap();
    let src = t["source"].as_table().unwrap();
    let d = src["debian"].as_table().unwrap();
    let s = |v: &toml::Value| v.as_str().unwrap().to_string();
    [
        s(&d["file"]),
        s(&src["sha256"]),
        s(&d["debian-file"]),
        s(&d["debian-sha256"]),
        s(&d["package"]),
        s(&d["version"]),
    ]
}

/// Every entry under `dir` but `.pc/` (quilt's bookkeeping): kind, permission bits and content
/// or link target, by relative path. The bits are compared as `dpkg-source` leaves them (its
/// tar drops what the umask 022 drops; `recipe` keeps an archive's group-write bits).
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            if rel == ".pc" {
                continue;
            }
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            let mode = m.permissions().mode() & 0o755;
            let what = if m.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(e.path()).unwrap().display())
            } else if m.is_dir() {
                stack.push(e.path());
                format!("dir {mode:o}")
            } else {
                let bytes = std::fs::read(e.path()).unwrap();
                format!("file {mode:o} {}", crate::util::sha(&bytes))
            };
            out.insert(rel, what);
        }
    }
    out
}

/// `recipe source NAME` against `dpkg-source -x` of the same two files (from the store, where
/// `recipe source` checked them), through a `.dsc` naming them.
fn same_as_dpkg_source(name: &str) {
    let [orig, orig_sha, part, part_sha, package, version] = pins(name);
    let t = tempfile::tempdir().unwrap();
    let ours = t.path().join("ours");
    let o = run(recipe()
        .args(["--recipes"])
        .arg(root().join("recipes"))
        .args(["source", name])
        .arg(&ours))
    .success();
    let log = std::fs::read_to_string(t.path().join("ours.log")).unwrap();
    assert!(log.contains("==> debian patch "), "{log}");
    assert!(o.stdout.contains("patches applied"), "{}", o.stdout);
    let dpkg = t.path().join("dpkg");
    std::fs::create_dir(&dpkg).unwrap();
    let mut files = String::new();
    for (file, sha) in [(&orig, &orig_sha), (&part, &part_sha)] {
        let stored = shared_cache().join("sources/sha256").join(sha);
        std::fs::copy(&stored, dpkg.join(file)).unwrap();
        let size = std::fs::metadata(&stored).unwrap().len();
        files.push_str(&format!(" {} {size} {file}\n", "0".repeat(32)));
    }
    let dsc =
        format!("Format: 3.0 (quilt)\nSource: {package}\nVersion: {version}\nFiles:\n{files}");
    std::fs::write(dpkg.join("x.dsc"), dsc).unwrap();
    let theirs = dpkg.join("theirs");
    let d = run(Command::new("dpkg-source")
        .args(["--no-check", "-x", "x.dsc"])
        .arg(&theirs)
        .current_dir(&dpkg));
    assert_eq!(d.code, 0, "dpkg-source -x: {}", d.stderr);
    let (a, b) = (tree(&ours), tree(&theirs));
    assert!(a.len() > 100, "{name}: only {} entries", a.len());
    let differ: Vec<_> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(b.keys().filter(|k| !a.contains_key(*k)).cloned())
        .take(10)
        .collect();
    assert!(
        differ.is_empty(),
        "{name}: differs from dpkg-source -x at {differ:?}"
    );
}

#[test]
fn the_patched_tree_is_dpkg_sources_for_curl_and_dnsmasq() {
    if !require_tool("dpkg-source") || !require_tool("patch") {
        return;
    }
    same_as_dpkg_source("curl");
    same_as_dpkg_source("dnsmasq");
}

/// dnsmasq with `edit` applied to its `[source.debian]` lines, in a scratch catalogue.
fn dnsmasq_with(edit: &str) -> Scratch {
    let text = std::fs::read_to_string(root().join("recipes/dnsmasq.toml")).unwrap();
    let s = Scratch::new();
    s.recipe(
        "dnsmasq",
        &text.replace("\n[build]\n", &format!("\n{edit}\n[build]\n")),
    );
    let files = s.recipes().join("dnsmasq");
    std::fs::create_dir_all(&files).unwrap();
    for f in std::fs::read_dir(root().join("recipes/dnsmasq")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), files.join(f.file_name())).unwrap();
    }
    s
}

#[test]
fn a_left_out_patch_is_logged_with_its_reason_and_not_applied() {
    if !require_tool("patch") {
        return;
    }
    let s = dnsmasq_with(
        "[source.debian.leave-out]\n\"CVE-2026-5172.patch\" = \"left out by a test\"\n",
    );
    let dir = s.path().join("tree");
    let o = run(s.cmd().args(["source", "dnsmasq"]).arg(&dir)).success();
    assert!(
        o.stdout.contains("9 patches applied, 1 left out"),
        "{}",
        o.stdout
    );
    let log = std::fs::read_to_string(s.path().join("tree.log")).unwrap();
    assert!(
        log.contains("==> debian patch CVE-2026-5172.patch: left out: left out by a test"),
        "{log}"
    );
    assert!(
        log.contains("==> debian patch CVE-2026-4893.patch: patch"),
        "{log}"
    );
    // What the patch would change is as upstream wrote it: applying it now works.
    let p = run(Command::new("patch")
        .args([
            "-p1",
            "--dry-run",
            "-F",
            "0",
            "-N",
            "-i",
            "debian/patches/CVE-2026-5172.patch",
        ])
        .current_dir(&dir));
    assert_eq!(p.code, 0, "the left-out patch was applied: {}", p.stdout);
    let shown = run(s.cmd().args(["show", "dnsmasq"])).success();
    assert!(
        shown
            .stdout
            .contains("left out  CVE-2026-5172.patch: left out by a test"),
        "{}",
        shown.stdout
    );
}
