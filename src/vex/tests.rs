//! Unit tests of the OpenVEX documents: what is stated fixed, how products are named, the
//! schema's fields, deterministic bytes.

use super::*;
use crate::debian::{Format, LeftOut, PatchRecord};
use serde_json::Value;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn patch(name: &str, cves: &[&str]) -> PatchRecord {
    PatchRecord {
        name: name.into(),
        cves: cves.iter().map(|c| c.to_string()).collect(),
    }
}

/// curl as a build records it: CVE-2023-38545 by an applied patch and the changelog,
/// CVE-2023-28319 by the changelog alone, CVE-2024-2398's patch left out (the changelog still
/// names it).
fn curl() -> Applied {
    Applied {
        package: "curl".into(),
        version: "7.88.1-10+deb12u15".into(),
        release: "bookworm".into(),
        format: Format::Quilt,
        patches: vec![
            patch("CVE-2023-38545.patch", &["CVE-2023-38545"]),
            patch("debian/tool-overflow.patch", &[]),
        ],
        left_out: vec![LeftOut {
            name: "CVE-2024-2398.patch".into(),
            reason: "breaks the static build".into(),
            cves: vec!["CVE-2024-2398".into()],
        }],
        changelog_cves: vec![
            "CVE-2023-28319".into(),
            "CVE-2023-38545".into(),
            "CVE-2024-2398".into(),
        ],
        licences: None,
    }
}

fn zlib() -> Applied {
    Applied {
        package: "zlib".into(),
        version: "1:1.2.13.dfsg-1".into(),
        release: "bookworm".into(),
        format: Format::Quilt,
        patches: vec![patch("CVE-2023-45853.patch", &["CVE-2023-45853"])],
        left_out: Vec::new(),
        changelog_cves: vec!["CVE-2023-45853".into()],
        licences: None,
    }
}

fn json(doc: &Document) -> Value {
    serde_json::from_slice(&to_json(doc)).unwrap()
}

fn stated(v: &Value) -> Vec<String> {
    v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["vulnerability"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn image_doc(records: &[Applied], epoch: u64) -> Option<Document> {
    let scope = Scope::Image {
        name: "curl",
        index_digest: DIGEST,
    };
    document("curl", "7.88.1", &components(records), scope, epoch)
}

#[test]
fn a_left_out_cve_is_never_stated_fixed() {
    let records = [curl(), zlib()];
    for scope in [
        Scope::Components,
        Scope::Image {
            name: "curl",
            index_digest: DIGEST,
        },
    ] {
        let doc = document("curl", "7.88.1", &components(&records), scope, 0).unwrap();
        let v = json(&doc);
        assert_eq!(
            stated(&v),
            ["CVE-2023-28319", "CVE-2023-38545", "CVE-2023-45853"]
        );
        for cve in curl().not_fixed() {
            assert!(!stated(&v).contains(&cve), "{cve} stated in {v:#}");
        }
    }
}

#[test]
fn a_cve_is_fixed_only_when_every_arch_built_the_fix() {
    let mut arm = curl();
    arm.patches.clear();
    arm.changelog_cves.retain(|c| c != "CVE-2023-38545");
    let c = components(&[curl(), arm, curl()]);
    assert_eq!(c.len(), 1);
    let fixed: Vec<&String> = c[0].fixed.keys().collect();
    assert_eq!(fixed, ["CVE-2023-28319"]);
    // A patch one arch's build left out is not claimed for the others either.
    let mut other = curl();
    other.left_out.push(LeftOut {
        name: "CVE-2023-28319.patch".into(),
        reason: "r".into(),
        cves: vec!["CVE-2023-28319".into()],
    });
    let c = components(&[curl(), other]);
    assert!(!c[0].fixed.contains_key("CVE-2023-28319"), "{c:?}");
}

#[test]
fn the_copy_beside_names_the_image_with_components_as_subcomponents() {
    let v = json(&image_doc(&[curl(), zlib()], 0).unwrap());
    let s = &v["statements"][1];
    assert_eq!(s["vulnerability"]["name"], "CVE-2023-38545");
    assert_eq!(s["status"], "fixed");
    assert_eq!(
        s["products"],
        serde_json::json!([{
            "@id": "pkg:oci/curl@sha256%3A0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "subcomponents": [
                {"@id": "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u15?arch=source&distro=debian-12"}
            ]
        }])
    );
    assert_eq!(
        s["status_notes"],
        "curl 7.88.1-10+deb12u15: Debian's patch CVE-2023-38545.patch applied"
    );
    assert_eq!(
        v["statements"][0]["status_notes"],
        "curl 7.88.1-10+deb12u15: fixed according to debian/changelog"
    );
    let z = &v["statements"][2];
    assert_eq!(
        z["products"][0]["subcomponents"][0]["@id"],
        "pkg:deb/debian/zlib@1%3A1.2.13.dfsg-1?arch=source&distro=debian-12"
    );
}

#[test]
fn the_copy_inside_names_each_component_as_the_product() {
    let mut openssl_like = zlib();
    openssl_like.package = "other".into();
    let doc = document(
        "curl",
        "7.88.1",
        &components(&[zlib(), openssl_like, curl()]),
        Scope::Components,
        0,
    )
    .unwrap();
    let v = json(&doc);
    let s = v["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["vulnerability"]["name"] == "CVE-2023-45853")
        .unwrap();
    // Both components fix it: both are products, sorted, neither with subcomponents.
    assert_eq!(
        s["products"],
        serde_json::json!([
            {"@id": "pkg:deb/debian/other@1%3A1.2.13.dfsg-1?arch=source&distro=debian-12"},
            {"@id": "pkg:deb/debian/zlib@1%3A1.2.13.dfsg-1?arch=source&distro=debian-12"}
        ])
    );
    assert!(!to_json(&doc).windows(8).any(|w| w == b"pkg:oci/"));
}

#[test]
fn schema_fields() {
    let v = json(&image_doc(&[curl()], 1_700_000_000).unwrap());
    assert_eq!(v["@context"], "https://openvex.dev/ns/v0.2.0");
    let id = v["@id"].as_str().unwrap();
    assert!(
        id.starts_with("https://openvex.dev/docs/public/vex-"),
        "{id}"
    );
    assert_eq!(id.len(), "https://openvex.dev/docs/public/vex-".len() + 64);
    assert_eq!(v["author"], "recipe");
    assert_eq!(v["timestamp"], "2023-11-14T22:13:20Z");
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["tooling"],
        format!("recipe-{}", env!("CARGO_PKG_VERSION"))
    );
    // (serde_json's map lists keys sorted.)
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "@context",
            "@id",
            "author",
            "role",
            "statements",
            "timestamp",
            "tooling",
            "version"
        ]
    );
    for s in v["statements"].as_array().unwrap() {
        // `fixed` takes no justification, impact or action statement (the spec's rules).
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["products", "status", "status_notes", "vulnerability"],
            "{s}"
        );
    }
}

#[test]
fn deterministic_bytes_and_an_id_from_the_content() {
    let a = to_json(&image_doc(&[curl(), zlib()], 0).unwrap());
    // The order records come in does not matter.
    let b = to_json(&image_doc(&[zlib(), curl(), curl()], 0).unwrap());
    assert_eq!(a, b);
    let later = to_json(&image_doc(&[curl(), zlib()], 86_400).unwrap());
    assert_ne!(a, later);
    let id = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).unwrap()["@id"].clone();
    assert_ne!(id(&a), id(&later));
    let other_image = Scope::Image {
        name: "curl",
        index_digest: "sha256:ff",
    };
    let c = document("curl", "7.88.1", &components(&[curl()]), other_image, 0).unwrap();
    assert_ne!(id(&to_json(&c)), id(&a));
}

#[test]
fn nothing_to_state_is_no_document() {
    assert!(image_doc(&[], 0).is_none());
    let mut nothing = curl();
    nothing.patches.clear();
    nothing.changelog_cves.clear();
    assert!(image_doc(&[nothing], 0).is_none());
    // Every CVE left out: nothing to state either.
    let mut all_out = curl();
    all_out.changelog_cves = vec!["CVE-2024-2398".into()];
    all_out.patches.clear();
    assert!(image_doc(&[all_out], 0).is_none());
}

#[test]
fn names() {
    assert_eq!(file_name("curl", "7.88.1"), "curl-7.88.1.openvex.json");
    assert_eq!(image_path("curl"), "/var/lib/db/sbom/curl.openvex.json");
    assert_eq!(oci_purl("Curl", "sha256:ab"), "pkg:oci/curl@sha256%3Aab");
}
