//! The OpenVEX documents of built images: beside the image (naming it by its index digest) and
//! inside every platform's layer (naming each component by its Debian purl), made from the
//! Debian records in the cache entries' `meta.json`; a CVE whose patch the recipe left out is
//! never stated fixed; vexctl reads every document and finds the statements for each product.
//!
//! The fixture's recipes are Debian-sourced (`[source.debian]`) but nothing is fetched: their
//! cache entries are those of the same fixtures built from local folders, each `meta.json`
//! given the key the Debian-sourced recipe plans and a record of a patch series (a build that
//! applies a series writes the same record).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::sbom::{spdx_package, validate_spdx};
use crate::util::*;

/// Where `scripts/setup.sh --tests` installs `vexctl`, or PATH. None (skip) without it, except
/// under CI.
fn vexctl() -> Option<PathBuf> {
    let fixed = PathBuf::from("/opt/recipe-tools/bin/vexctl");
    if fixed.is_file() {
        return Some(fixed);
    }
    require_tool("vexctl").then(|| PathBuf::from("vexctl"))
}

const LIB_PURL: &str = "pkg:deb/debian/libgreet@1.0-1%2Bdeb12u1?arch=source&distro=debian-12";
const APP_PURL: &str = "pkg:deb/debian/hello-dep@2%3A1.0-2?arch=source&distro=debian-12";

/// What the fixtures' builds recorded: libgreet fixes CVE-2024-0001 by a patch and
/// CVE-2023-0003 by its changelog, and leaves CVE-2024-0002's patch out (its changelog names
/// it all the same); hello-dep fixes CVE-2023-38545.
fn record(name: &str) -> Value {
    match name {
        "libgreet" => json!({
            "package": "libgreet", "version": "1.0-1+deb12u1", "release": "bookworm",
            "format": "3.0 (quilt)",
            "patches": [
                {"name": "CVE-2024-0001.patch", "cves": ["CVE-2024-0001"]},
                {"name": "static-only.patch", "cves": []}
            ],
            "left_out": [{"name": "CVE-2024-0002.patch", "reason": "a test's reason",
                          "cves": ["CVE-2024-0002"]}],
            "changelog_cves": ["CVE-2023-0003", "CVE-2024-0001", "CVE-2024-0002"]
        }),
        _ => json!({
            "package": "hello-dep", "version": "2:1.0-2", "release": "bookworm",
            "format": "3.0 (quilt)",
            "patches": [{"name": "CVE-2023-38545.patch", "cves": ["CVE-2023-38545"]}],
            "left_out": [],
            "changelog_cves": ["CVE-2023-38545"]
        }),
    }
}

/// The fixtures `libgreet` and `hello-dep` in `s`'s catalogue: from their folders, or
/// Debian-sourced (a source that is never fetched: every job is a cache hit).
fn catalogue(s: &Scratch, debian: bool) {
    for name in ["libgreet", "hello-dep"] {
        let text =
            std::fs::read_to_string(root().join(format!("tests/fixtures/recipes/{name}.toml")))
                .unwrap();
        let path_line = format!("path = \"../{name}\"");
        let source = if !debian {
            format!(
                "path = \"{}\"",
                root().join("tests/fixtures").join(name).display()
            )
        } else {
            let (version, orig, leave_out) = match name {
                "libgreet" => (
                    "1.0-1+deb12u1",
                    "libgreet_1.0.orig.tar.gz",
                    "[source.debian.leave-out]\n\"CVE-2024-0002.patch\" = \"a test's reason\"\n",
                ),
                _ => ("2:1.0-2", "hello-dep_1.0.orig.tar.gz", ""),
            };
            // Hashes of these names: pins of files no test fetches.
            format!(
                "sha256 = \"{}\"\n[source.debian]\npackage = \"{name}\"\nversion = \"{version}\"\n\
                 release = \"bookworm\"\nfile = \"{orig}\"\ndebian-file = \"{}\"\n\
                 debian-sha256 = \"{}\"\n{leave_out}",
                sha(orig.as_bytes()),
                recipe::debian::changes_file_name(name, version),
                sha(version.as_bytes()),
            )
        };
        // [source] is followed by [build]: the Debian tables go in between.
        s.recipe(name, &text.replace(&path_line, &source));
    }
}

/// Each job of `recipe plan hello-dep --arch amd64`: (recipe, key).
fn plan_keys(s: &Scratch) -> Vec<(String, String)> {
    let o = run(s
        .cmd()
        .args(["plan", "hello-dep", "--arch", "amd64", "--json"]))
    .success();
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let mut keys: Vec<(String, String)> = v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["recipe"].as_str().unwrap().to_string(),
                j["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// Makes the entry of `to` a copy of the entry of `from` whose `meta.json` names `to` and
/// carries `record`, appearing by one rename as the cache's own entries do.
fn adopt_entry(cache: &Path, from: &str, to: &str, record: Value) {
    let builds = cache.join("builds");
    let tmp = builds.join(format!(".tmp-vex-test-{to}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let o = run(Command::new("cp")
        .arg("-a")
        .arg(builds.join(from))
        .arg(&tmp));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let mut meta = read_json(tmp.join("meta.json"));
    meta["key"] = json!(to);
    meta["debian"] = record;
    std::fs::write(
        tmp.join("meta.json"),
        serde_json::to_vec_pretty(&meta).unwrap(),
    )
    .unwrap();
    let _ = std::fs::remove_dir_all(builds.join(to));
    std::fs::rename(&tmp, builds.join(to)).unwrap();
}

/// The CVE ids a document states, each with its status.
fn statements(doc: &Value) -> Vec<(String, String)> {
    doc["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["vulnerability"]["name"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn fixed(cves: &[&str]) -> Vec<(String, String)> {
    cves.iter()
        .map(|c| (c.to_string(), "fixed".to_string()))
        .collect()
}

#[test]
fn images_carry_vex_of_their_debian_records_and_vexctl_reads_it() {
    if !require_tool("python3") {
        return;
    }
    let Some(vexctl) = vexctl() else { return };
    let _l = build_lock();
    let s = Scratch::new();
    catalogue(&s, false);
    run(s
        .cmd()
        .args(["build", "-q", "hello-dep", "--arch", "amd64"]))
    .success();
    // No Debian record, no VEX.
    assert!(
        !s.out()
            .join("hello-dep/hello-dep-1.0.openvex.json")
            .exists()
    );
    let built = plan_keys(&s);

    catalogue(&s, true);
    let planned = plan_keys(&s);
    assert_eq!(built.len(), 2);
    for ((name, from), (_, to)) in built.iter().zip(&planned) {
        assert_ne!(
            from, to,
            "{name}: the Debian-sourced recipe plans another key"
        );
        adopt_entry(&shared_cache(), from, to, record(name));
    }
    let o = run(s.cmd().args(["build", "hello-dep", "--arch", "amd64"])).success();
    assert!(
        !o.stderr.contains("warning") && !o.stdout.contains("warning"),
        "{}{}",
        o.stdout,
        o.stderr
    );
    let dir = s.out().join("hello-dep");

    // The SBOM names both components by their Debian purls, beside their CPEs.
    let sbom_file = dir.join("hello-dep-1.0.spdx.json");
    validate_spdx(&sbom_file);
    let sbom = read_json(&sbom_file);
    for (name, purl) in [("libgreet", LIB_PURL), ("hello-dep", APP_PURL)] {
        let refs = &spdx_package(&sbom, name)["externalRefs"];
        assert_eq!(refs[0]["referenceType"], "cpe23Type", "{refs:#}");
        assert_eq!(refs[1]["referenceType"], "purl", "{refs:#}");
        assert_eq!(refs[1]["referenceLocator"], purl, "{refs:#}");
    }

    // Beside the image: the image by its index digest, the components as subcomponents.
    let index = read_json(dir.join("oci/index.json"));
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let image = format!(
        "pkg:oci/hello-dep@{}",
        digest.replace("sha256:", "sha256%3A")
    );
    let beside_file = dir.join("hello-dep-1.0.openvex.json");
    let beside_bytes = std::fs::read(&beside_file).unwrap();
    let beside: Value = serde_json::from_slice(&beside_bytes).unwrap();
    assert_eq!(beside["@context"], "https://openvex.dev/ns/v0.2.0");
    // Dated like the image (its fixtures are local folders: 1970).
    assert_eq!(beside["timestamp"], "1970-01-01T00:00:00Z");
    let (_, created) = crate::image::created_dates(&dir.join("oci"));
    assert_eq!(created, [beside["timestamp"].as_str().unwrap()]);
    let all = ["CVE-2023-0003", "CVE-2023-38545", "CVE-2024-0001"];
    assert_eq!(statements(&beside), fixed(&all), "{beside:#}");
    for st in beside["statements"].as_array().unwrap() {
        let sub = if st["vulnerability"]["name"] == "CVE-2023-38545" {
            APP_PURL
        } else {
            LIB_PURL
        };
        assert_eq!(
            st["products"],
            json!([{"@id": image, "subcomponents": [{"@id": sub}]}]),
            "{st:#}"
        );
    }

    // Inside every layer, next to the SBOM: the components as products, no digest.
    let inside = one_file_in_layers(&dir.join("oci"), "/var/lib/db/sbom/hello-dep.openvex.json");
    let inside_doc: Value = serde_json::from_slice(&inside).unwrap();
    assert_eq!(statements(&inside_doc), fixed(&all));
    assert_eq!(
        inside_doc["statements"][1]["products"],
        json!([{"@id": APP_PURL}])
    );
    let inside_file = s.path().join("inside.openvex.json");
    std::fs::write(&inside_file, &inside).unwrap();

    // vexctl reads both, and finds for each product what is stated about it.
    for file in [&beside_file, &inside_file] {
        assert_eq!(vexctl_merge(&vexctl, file, &[]), fixed(&all), "{file:?}");
    }
    assert_eq!(vexctl_merge(&vexctl, &beside_file, &[&image]), fixed(&all));
    assert_eq!(
        vexctl_merge(&vexctl, &inside_file, &[LIB_PURL]),
        fixed(&["CVE-2023-0003", "CVE-2024-0001"])
    );
    // A scanner's purl with more qualifiers still matches; another Debian revision does not.
    let more = format!("{APP_PURL}&upstream=hello-dep");
    assert_eq!(
        vexctl_merge(&vexctl, &inside_file, &[&more]),
        fixed(&["CVE-2023-38545"])
    );
    let older = "pkg:deb/debian/hello-dep@2%3A1.0-1?arch=source&distro=debian-12";
    assert!(vexctl_merge(&vexctl, &inside_file, &[older]).is_empty());
    assert!(vexctl_merge(&vexctl, &beside_file, &["pkg:oci/hello-dep@sha256%3A00"]).is_empty());
    // Applied to a scanner's report, both drop the fixed CVE and keep the left-out one.
    for file in [&beside_file, &inside_file] {
        assert_eq!(
            vexctl_filter(&vexctl, &s, file, &["CVE-2024-0001", "CVE-2024-0002"]),
            ["CVE-2024-0002"]
        );
    }

    // The same image again: the same bytes beside it.
    std::fs::remove_dir_all(&dir).unwrap();
    run(s
        .cmd()
        .args(["build", "-q", "hello-dep", "--arch", "amd64"]))
    .success();
    assert_eq!(std::fs::read(&beside_file).unwrap(), beside_bytes);
}

/// The statements of an OpenVEX document as vexctl reads it (`vexctl merge FILE`); without
/// vexctl (skipped, except under CI), as the file says.
pub fn read_with_vexctl(file: &Path) -> Vec<(String, String)> {
    match vexctl() {
        Some(vexctl) => vexctl_merge(&vexctl, file, &[]),
        None => statements(&read_json(file)),
    }
}

/// `vexctl merge [--product P] FILE`: the statements of the merged document.
fn vexctl_merge(vexctl: &Path, file: &Path, products: &[&str]) -> Vec<(String, String)> {
    let mut c = Command::new(vexctl);
    c.arg("merge");
    for p in products {
        c.arg(format!("--product={p}"));
    }
    let o = run(c.arg(file));
    assert_eq!(o.code, 0, "vexctl merge {file:?}: {}{}", o.stdout, o.stderr);
    let doc: Value = serde_json::from_str(&o.stdout).unwrap();
    let mut s = statements(&doc);
    s.sort();
    s
}

/// `vexctl filter REPORT FILE` over a SARIF report listing `cves`: the rule ids that remain.
fn vexctl_filter(vexctl: &Path, s: &Scratch, file: &Path, cves: &[&str]) -> Vec<String> {
    let results: Vec<Value> = cves
        .iter()
        .map(|c| json!({"ruleId": c, "message": {"text": format!("{c} found")}}))
        .collect();
    let report = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "a scanner"}}, "results": results}]
    });
    let path = s.path().join("report.sarif.json");
    std::fs::write(&path, serde_json::to_vec(&report).unwrap()).unwrap();
    let o = run(Command::new(vexctl).arg("filter").arg(&path).arg(file));
    assert_eq!(
        o.code, 0,
        "vexctl filter {file:?}: {}{}",
        o.stdout, o.stderr
    );
    let out: Value = serde_json::from_str(&o.stdout).unwrap();
    out["runs"][0]["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| r["ruleId"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The file at `path` in the one platform of the layout, from its layer blob.
fn one_file_in_layers(layout: &Path, path: &str) -> Vec<u8> {
    use std::io::Read;
    let blob = |digest: &str| std::fs::read(layout_blob(layout, digest)).unwrap();
    let index = read_json(layout.join("index.json"));
    let top: Value =
        serde_json::from_slice(&blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap();
    let manifests = top["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1, "{top}");
    let manifest: Value =
        serde_json::from_slice(&blob(manifests[0]["digest"].as_str().unwrap())).unwrap();
    let gz = blob(manifest["layers"][0]["digest"].as_str().unwrap());
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(&gz[..]));
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().display().to_string();
        if p.trim_start_matches("./") == path.trim_start_matches('/') {
            assert_eq!(e.header().mode().unwrap() & 0o7777, 0o644, "{p}");
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            return bytes;
        }
    }
    panic!("no {path} in the layer")
}
