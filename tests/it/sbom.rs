//! The SPDX SBOM of built images: beside the image and inside every platform's layer, valid SPDX
//! 2.3 by PyPI's `spdx-tools`, listing the app and what is linked into it, each with the CPE its
//! recipe names; and Syft, reading the image, finds every C/C++ component with that CPE, and
//! reads a Rust app's crates as `pkg:cargo` packages.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// Where `scripts/setup.sh --tests` installs `pyspdxtools`, or PATH. None (skip) without it, except
/// under CI.
pub fn pyspdxtools() -> Option<PathBuf> {
    let venv = PathBuf::from("/opt/recipe-tools/spdx/bin/pyspdxtools");
    if venv.is_file() {
        return Some(venv);
    }
    require_tool("pyspdxtools").then(|| PathBuf::from("pyspdxtools"))
}

/// `pyspdxtools -i FILE` accepts the document (it validates against SPDX 2.3).
pub fn validate_spdx(file: &Path) {
    let Some(tool) = pyspdxtools() else { return };
    let o = run(Command::new(tool).arg("-i").arg(file));
    assert_eq!(
        o.code,
        0,
        "pyspdxtools rejects {}:\n{}{}",
        file.display(),
        o.stdout,
        o.stderr
    );
}

/// The package named `name` in an SPDX document.
pub fn spdx_package<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name} in {doc:#}"))
}

fn has_rel(doc: &Value, a: &Value, ty: &str, b: &Value) -> bool {
    doc["relationships"].as_array().unwrap().iter().any(|r| {
        r["spdxElementId"] == a["SPDXID"]
            && r["relationshipType"] == ty
            && r["relatedSpdxElement"] == b["SPDXID"]
    })
}

/// For each platform of the layout (`arch/variant` as the index says it): the file at `path`
/// inside its one layer, read from the gzip tar blob itself.
fn file_in_layers(layout: &Path, path: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let blob = |digest: &str| {
        std::fs::read(
            layout
                .join("blobs/sha256")
                .join(digest.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    let index = read_json(layout.join("index.json"));
    let top: Value =
        serde_json::from_slice(&blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap();
    let mut out = Vec::new();
    for m in top["manifests"].as_array().unwrap() {
        let platform = format!(
            "{}{}",
            m["platform"]["architecture"].as_str().unwrap(),
            m["platform"]["variant"]
                .as_str()
                .map(|v| format!("/{v}"))
                .unwrap_or_default()
        );
        let manifest: Value = serde_json::from_slice(&blob(m["digest"].as_str().unwrap())).unwrap();
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "{manifest}");
        let gz = blob(layers[0]["digest"].as_str().unwrap());
        let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(&gz[..]));
        let mut found = None;
        for e in tar.entries().unwrap() {
            let mut e = e.unwrap();
            let p = e.path().unwrap().display().to_string();
            if p.trim_start_matches("./").trim_end_matches('/') == path.trim_start_matches('/') {
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes).unwrap();
                assert_eq!(e.header().mode().unwrap() & 0o7777, 0o644, "{p}");
                found = Some(bytes);
            }
        }
        out.push((platform, found));
    }
    out.sort();
    out
}

fn build_tools() -> bool {
    require_tool("python3")
        && require_tool("qemu-aarch64-static")
        && require_tool("qemu-arm-static")
}

/// Builds fixture `name` for every arch into a fresh out dir; returns the scratch dir.
fn build_fixture(name: &str) -> Scratch {
    let s = Scratch::new();
    let mut c = s.cmd();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    run(c.args(["build", name, "--arch", "all"])).success();
    s
}

/// The document beside the image, and the same bytes in each platform's layer (these fixtures'
/// arches do not differ in what is linked in).
fn beside_and_in_layers(s: &Scratch, name: &str) -> Value {
    let beside = s.out().join(name).join(format!("{name}-1.0.spdx.json"));
    assert!(beside.is_file(), "no SBOM beside the image");
    validate_spdx(&beside);
    let bytes = std::fs::read(&beside).unwrap();
    let layers = file_in_layers(
        &s.out().join(name).join("oci"),
        &format!("/var/lib/db/sbom/{name}.spdx.json"),
    );
    let platforms: Vec<&str> = layers.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(platforms, ["amd64", "arm/v7", "arm64"]);
    for (platform, found) in &layers {
        let found = found
            .as_ref()
            .unwrap_or_else(|| panic!("{platform}: no SBOM in the layer"));
        assert!(found == &bytes, "{platform}: the layer's SBOM differs");
    }
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["name"], format!("{name}-1.0"));
    assert_eq!(doc["creationInfo"]["created"], "1970-01-01T00:00:00Z");
    doc
}

#[test]
fn c_app_sbom_lists_its_static_library() {
    if !build_tools() {
        return;
    }
    let _l = build_lock();
    let s = build_fixture("hello-dep");
    let doc = beside_and_in_layers(&s, "hello-dep");
    assert_eq!(doc["packages"].as_array().unwrap().len(), 2, "{doc:#}");
    let app = spdx_package(&doc, "hello-dep");
    let lib = spdx_package(&doc, "libgreet");
    assert_eq!(app["versionInfo"], "1.0");
    assert_eq!(app["primaryPackagePurpose"], "APPLICATION");
    assert_eq!(app["licenseDeclared"], "MIT");
    assert_eq!(lib["versionInfo"], "1.0");
    assert_eq!(lib["primaryPackagePurpose"], "LIBRARY");
    // Both are local directories: nothing pinned to hash or to download.
    for p in [app, lib] {
        assert_eq!(p["downloadLocation"], "NOASSERTION", "{p}");
        assert!(p.get("checksums").is_none(), "{p}");
        assert_eq!(p["filesAnalyzed"], false);
    }
    assert!(has_rel(&doc, app, "STATIC_LINK", lib), "{doc:#}");
    assert!(has_rel(&doc, app, "DEPENDS_ON", lib), "{doc:#}");
    // The recipes' `cpe`, as security references (pyspdxtools checked them against the SPDX 2.3
    // cpe23Type pattern above).
    assert_eq!(
        cpes_of(&doc),
        BTreeMap::from([
            (
                "hello-dep".to_string(),
                "cpe:2.3:a:example:hello-dep:1.0:*:*:*:*:*:*:*".to_string()
            ),
            (
                "libgreet".to_string(),
                "cpe:2.3:a:example:libgreet:1.0:*:*:*:*:*:*:*".to_string()
            ),
        ])
    );
    assert_eq!(doc["relationships"][0]["relationshipType"], "DESCRIBES");
    assert_eq!(doc["relationships"][0]["relatedSpdxElement"], app["SPDXID"]);
}

#[test]
fn go_app_sbom_lists_its_main_module_and_stdlib() {
    if !build_tools() {
        return;
    }
    let _l = build_lock();
    let s = build_fixture("hello-go");
    let doc = beside_and_in_layers(&s, "hello-go");
    let app = spdx_package(&doc, "hello-go");
    let main = spdx_package(&doc, "example.com/hello-go");
    assert_eq!(main["versionInfo"], "(devel)");
    assert_eq!(
        main["externalRefs"][0]["referenceLocator"],
        "pkg:golang/example.com/hello-go"
    );
    let std = spdx_package(&doc, "stdlib");
    let go_version = std["versionInfo"].as_str().unwrap();
    assert!(go_version.starts_with("go1."), "{std}");
    assert!(has_rel(&doc, app, "CONTAINS", main));
    assert!(has_rel(&doc, app, "CONTAINS", std));
    // No libraries: a Go app without cgo links nothing else.
    assert!(
        !doc["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["relationshipType"] == "STATIC_LINK"),
        "{doc:#}"
    );
}

/// Each C/C++ package of the document (the app and its libraries: not Go modules or Go's
/// standard library) by name, with its one `cpe23Type` reference; panics for one without.
fn cpes_of(doc: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for p in doc["packages"].as_array().unwrap() {
        let refs = p["externalRefs"].as_array().unwrap();
        let is_go = refs.iter().any(|r| {
            r["referenceLocator"]
                .as_str()
                .is_some_and(|l| l.starts_with("pkg:golang/"))
        });
        if is_go {
            continue;
        }
        let cpes: Vec<&Value> = refs
            .iter()
            .filter(|r| r["referenceType"] == "cpe23Type")
            .collect();
        assert_eq!(cpes.len(), 1, "{p:#}");
        assert_eq!(cpes[0]["referenceCategory"], "SECURITY", "{p:#}");
        out.insert(
            p["name"].as_str().unwrap().to_string(),
            cpes[0]["referenceLocator"].as_str().unwrap().to_string(),
        );
    }
    out
}

/// Where `scripts/setup.sh --tests` installs `syft` (`go install` through the Go module proxy),
/// or PATH. None (skip) without it, except under CI.
fn syft() -> Option<PathBuf> {
    let fixed = PathBuf::from("/opt/recipe-tools/bin/syft");
    if fixed.is_file() {
        return Some(fixed);
    }
    require_tool("syft").then(|| PathBuf::from("syft"))
}

/// What scanners see: Syft, with only its `sbom-cataloger` (it reads the SPDX documents it finds
/// in the image), lists every C/C++ component of the SBOM, on every platform of the layout, with
/// the CPE its recipe declares, and with no CPE of its own guessing (a fixture vendor
/// `example` that no guess from the name could give).
#[test]
fn syft_reads_every_c_component_with_its_cpe() {
    if !build_tools() {
        return;
    }
    let Some(syft) = syft() else { return };
    let _l = build_lock();
    let s = build_fixture("hello-dep");
    let doc = beside_and_in_layers(&s, "hello-dep");
    let expected = cpes_of(&doc);
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        ["hello-dep", "libgreet"],
        "{doc:#}"
    );
    let layout = s.out().join("hello-dep/oci");
    for (platform, arch) in [
        ("linux/amd64", "amd64"),
        ("linux/arm64", "arm64"),
        ("linux/arm/v7", "arm"),
    ] {
        let o = run(Command::new(&syft)
            .arg("scan")
            .arg(format!("oci-dir:{}", layout.display()))
            .args(["--platform", platform])
            .args(["--override-default-catalogers", "sbom-cataloger"])
            .args(["-o", "json", "-q"])
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false"));
        assert_eq!(o.code, 0, "syft on {platform}: {}", o.stderr);
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(v["source"]["metadata"]["architecture"], arch, "{platform}");
        let mut found: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for a in v["artifacts"].as_array().unwrap() {
            assert_eq!(a["foundBy"], "sbom-cataloger", "{a:#}");
            let paths: Vec<&str> = a["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["path"].as_str().unwrap())
                .collect();
            assert_eq!(paths, ["/var/lib/db/sbom/hello-dep.spdx.json"], "{a:#}");
            let cpes = a["cpes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["cpe"].as_str().unwrap().to_string(),
                        c["source"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            found.insert(a["name"].as_str().unwrap().to_string(), cpes);
        }
        let want: BTreeMap<String, Vec<(String, String)>> = expected
            .iter()
            .map(|(n, c)| (n.clone(), vec![(c.clone(), "declared".to_string())]))
            .collect();
        assert_eq!(found, want, "{platform}");
    }
}

/// The fixtures `libgreet` and `hello-dep` in `s`'s catalogue, their sources given by absolute
/// path, with `edit` applied to each text.
fn fixture_catalogue(s: &Scratch, edit: impl Fn(&str) -> String) {
    for name in ["libgreet", "hello-dep"] {
        let text =
            std::fs::read_to_string(root().join(format!("tests/fixtures/recipes/{name}.toml")))
                .unwrap();
        let src = root().join("tests/fixtures").join(name);
        let text = text.replace(
            &format!("path = \"../{name}\""),
            &format!("path = \"{}\"", src.display()),
        );
        s.recipe(name, &edit(&text));
    }
}

/// Whether each job of `recipe plan NAME --arch amd64` is a cache hit, and why not.
fn plan_hits(s: &Scratch, name: &str) -> Vec<(bool, String)> {
    let o = run(s.cmd().args(["plan", name, "--arch", "amd64", "--json"])).success();
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["cache"] == "hit",
                j["why"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A `cpe` names the package for scanners: changing it rebuilds nothing (it is out of the build
/// key) but the SBOM, and so the image, carry the new name. Any other change to the text does
/// rebuild (the control).
#[test]
fn a_changed_cpe_rebuilds_nothing_but_renames_the_package_in_the_sbom() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    fixture_catalogue(&s, |t| t.to_string());
    run(s
        .cmd()
        .args(["build", "-q", "hello-dep", "--arch", "amd64"]))
    .success();
    assert!(plan_hits(&s, "hello-dep").iter().all(|(hit, _)| *hit));

    fixture_catalogue(&s, |t| t.replace("cpe = \"example:", "cpe = \"other:"));
    let hits = plan_hits(&s, "hello-dep");
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().all(|(hit, _)| *hit), "{hits:?}");
    run(s
        .cmd()
        .args(["build", "-q", "hello-dep", "--arch", "amd64"]))
    .success();
    let beside = s.out().join("hello-dep/hello-dep-1.0.spdx.json");
    validate_spdx(&beside);
    let doc = read_json(&beside);
    assert_eq!(
        cpes_of(&doc)["libgreet"],
        "cpe:2.3:a:other:libgreet:1.0:*:*:*:*:*:*:*"
    );
    let layer = file_in_layers(
        &s.out().join("hello-dep/oci"),
        "/var/lib/db/sbom/hello-dep.spdx.json",
    );
    assert_eq!(layer.len(), 1);
    assert_eq!(
        layer[0].1.as_deref(),
        Some(std::fs::read(&beside).unwrap().as_slice()),
        "the image's SBOM is the new one"
    );

    // The control: the same kind of edit to another line is a change to the build.
    fixture_catalogue(&s, |t| {
        t.replace("cpe = \"example:", "cpe = \"other:")
            .replace("license = \"MIT\"", "license = \"MIT OR Apache-2.0\"")
    });
    let hits = plan_hits(&s, "hello-dep");
    assert!(hits.iter().all(|(hit, _)| !*hit), "{hits:?}");
}

/// A Rust app's document, as `recipe build` writes it for a crate from crates.io: valid SPDX 2.3
/// by pyspdxtools, and Syft (reading it with its `sbom-cataloger` only, as it reads the image's)
/// lists every crate as a Rust crate named by its `pkg:cargo` purl, which is what Grype matches
/// the RustSec advisories against.
#[test]
fn syft_reads_the_crates_of_a_rust_app_s_sbom() {
    use recipe::sbom::{CRATES_IO, Crate, Input, document, to_json};
    let mut app = recipe::recipe::parse(
        Path::new("/r/hello-rs.toml"),
        "name = \"hello-rs\"\nversion = \"0.3.1\"\nlicense = \"MIT OR Apache-2.0\"\n\
         homepage = \"https://example.invalid\"\n[source]\nsha256 = \"00e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\"\n\
         urls = [\"https://example.invalid/hello-rs-0.3.1.crate\"]\n[build]\nsystem = \"make\"\n\
         [app]\nfiles = [\"/usr/local/bin/hello-rs\"]\n",
    )
    .unwrap();
    if let recipe::recipe::Source::Archive { origins, .. } = &mut app.source {
        *origins = vec![recipe::recipe::Origin::Crate {
            name: "hello-rs".into(),
            version: "0.3.1".into(),
        }];
    }
    let krate = |name: &str, version: &str, license: &str, sum: &str| Crate {
        name: name.into(),
        version: version.into(),
        checksum: Some(sum.into()),
        license: Some(license.into()),
        source: Some(CRATES_IO.into()),
    };
    let crates = [
        krate(
            "serde",
            "1.0.228",
            "MIT OR Apache-2.0",
            "9a8e94ea7f378bd32cbbd37198a4a91436180c5bb472411e48b5ec2e2124ae9e",
        ),
        krate(
            "memchr",
            "2.7.6",
            "Unlicense/MIT",
            "f52b00d39961fc5b2736ea853c9cc86238e165017a493d1d5c8eac6bdc4cc273",
        ),
        Crate {
            checksum: None,
            license: None,
            source: None,
            ..krate("hello-core", "0.3.1", "", "")
        },
    ];
    // Licences as a Debian copyright file gives them, one without an SPDX id (a
    // `LicenseRef-` with its text): pyspdxtools reads those too.
    let licences = std::collections::BTreeMap::from([(
        app.name.clone(),
        recipe::debian::copyright::parse(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
             Files: *\nCopyright: someone\nLicense: GPL-2+ with OpenSSL exception\n\n\
             License: GPL-2+ with OpenSSL exception\n This program is free software.\n",
        )
        .unwrap(),
    )]);
    let doc = document(&Input {
        app: &app,
        libraries: &[],
        go: &[],
        crates: &crates,
        source_date_epoch: 0,
        licences: &licences,
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello-rs.spdx.json");
    std::fs::write(&file, to_json(&doc)).unwrap();
    validate_spdx(&file);

    let Some(syft) = syft() else { return };
    let o = run(Command::new(&syft)
        .arg("scan")
        .arg(format!("dir:{}", dir.path().display()))
        .args(["--override-default-catalogers", "sbom-cataloger"])
        .args(["-o", "json", "-q"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false"));
    assert_eq!(o.code, 0, "syft: {}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let found: BTreeMap<String, (String, String, String)> = v["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            (s("name"), (s("version"), s("type"), s("purl")))
        })
        .collect();
    let want = |v: &str, purl: &str| (v.to_string(), "rust-crate".to_string(), purl.to_string());
    assert_eq!(
        found,
        BTreeMap::from([
            (
                "hello-rs".to_string(),
                want("0.3.1", "pkg:cargo/hello-rs@0.3.1")
            ),
            (
                "hello-core".to_string(),
                want("0.3.1", "pkg:cargo/hello-core@0.3.1")
            ),
            (
                "memchr".to_string(),
                want("2.7.6", "pkg:cargo/memchr@2.7.6")
            ),
            (
                "serde".to_string(),
                want("1.0.228", "pkg:cargo/serde@1.0.228")
            ),
        ]),
        "{}",
        o.stdout
    );
    // The licence as SPDX writes it (Cargo.toml said `Unlicense/MIT`), declared, not concluded.
    let memchr = v["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "memchr")
        .unwrap();
    let licenses: Vec<(&str, &str)> = memchr["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["spdxExpression"].as_str().unwrap(),
                l["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(licenses, [("Unlicense OR MIT", "declared")], "{memchr:#}");
}
