//! Unit tests of the crates an SBOM lists: which are linked in, Cargo.lock's checksums,
//! licences as SPDX expressions, and each crate as an SPDX package.

use super::*;

/// `cargo metadata --format-version 1 --offline --frozen --filter-platform
/// x86_64-unknown-linux-musl` of a small workspace made for this test (path crates all), its
/// paths moved under `/fixture`, and `leaf` turned into a crates.io crate as cargo writes one.
/// `app` (bin, with a build script) depends on `liba` and the proc macro `pm` (which depends on
/// `pmdep`), on `winonly` for Windows only, builds with `bdep` (which depends on `bdeponly`) and
/// `shared`, and tests with `ddep`; `liba` depends on `shared` and `leaf`; `tool` (bin) depends on
/// `toolonly`.
fn metadata() -> Metadata {
    serde_json::from_str(include_str!("../testdata/metadata.json")).unwrap()
}

const LEAF_SUM: &str = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1";

fn names(crates: &[Crate]) -> Vec<&str> {
    crates.iter().map(|c| c.name.as_str()).collect()
}

#[test]
fn only_normal_dependencies_of_the_binary_s_package_are_linked() {
    let lock = BTreeMap::from([(("leaf".into(), "0.9.0".into()), LEAF_SUM.to_string())]);
    let crates = linked_crates(&metadata(), &lock, &["app".to_string()]);
    // Not `app` (the app package), `pm` and `pmdep` (a proc macro and what only it needs),
    // `bdep` and `bdeponly` (the build script's), `ddep` (the tests'), `winonly` (another
    // platform's), nor `tool`'s. `shared` is a build-dependency too, but `liba` links it.
    assert_eq!(names(&crates), ["leaf", "liba", "shared"]);
    assert_eq!(
        crates[0],
        Crate {
            name: "leaf".into(),
            version: "0.9.0".into(),
            checksum: Some(LEAF_SUM.into()),
            license: None,
            source: Some(CRATES_IO.into()),
        }
    );
    assert!(crates[0].is_crates_io());
    assert_eq!(
        crates[1],
        Crate {
            name: "liba".into(),
            version: "0.4.0".into(),
            checksum: None,
            license: Some("MIT/Apache-2.0".into()),
            source: None,
        }
    );
}

#[test]
fn the_binaries_chosen_choose_the_roots() {
    let lock = BTreeMap::new();
    let m = metadata();
    assert_eq!(
        names(&linked_crates(&m, &lock, &["tool".to_string()])),
        ["toolonly"]
    );
    // No binaries named, and no root package (a virtual workspace): every member's binaries.
    assert_eq!(
        names(&linked_crates(&m, &lock, &[])),
        ["leaf", "liba", "shared", "toolonly"]
    );
    assert!(linked_crates(&m, &lock, &["nothing".to_string()]).is_empty());
    let mut unresolved = m.clone();
    unresolved.resolve = None;
    assert!(linked_crates(&unresolved, &lock, &[]).is_empty());
}

#[test]
fn a_crate_round_trips_through_serde_and_new_fields_default() {
    let c: Crate = serde_json::from_str(r#"{"name":"a","version":"1.0.0"}"#).unwrap();
    assert_eq!((c.checksum, c.license, c.source), (None, None, None));
    let full = Crate {
        name: "a".into(),
        version: "1.0.0".into(),
        checksum: Some(LEAF_SUM.into()),
        license: Some("MIT".into()),
        source: Some(CRATES_IO.into()),
    };
    let back: Crate = serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
    assert_eq!(back, full);
}

#[test]
fn licences_become_spdx_expressions() {
    for (cargo, spdx) in [
        // Already SPDX: as written.
        ("MIT", "MIT"),
        ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
        (
            " Apache-2.0 WITH LLVM-exception ",
            "Apache-2.0 WITH LLVM-exception",
        ),
        (
            "(MIT OR Apache-2.0) AND Unicode-3.0",
            "(MIT OR Apache-2.0) AND Unicode-3.0",
        ),
        // Deprecated, but still SPDX.
        ("GPL-2.0", "GPL-2.0"),
        // The legacy separator, with or without spaces.
        ("MIT/Apache-2.0", "MIT OR Apache-2.0"),
        ("Apache-2.0 / MIT", "Apache-2.0 OR MIT"),
        ("Unlicense/MIT", "Unlicense OR MIT"),
        // Other spellings crates.io once took.
        ("MIT or Apache-2.0", "MIT OR Apache-2.0"),
        (
            "(mit OR Apache-2.0) and Unicode-3.0",
            "(MIT OR Apache-2.0) AND Unicode-3.0",
        ),
        ("GPL-3.0+", "GPL-3.0-or-later"),
    ] {
        assert_eq!(spdx_license(cargo).as_deref(), Some(spdx), "{cargo:?}");
    }
    for not in [
        "",
        "Custom",
        "MIT AND",
        "LicenseRef-Proprietary",
        "see LICENSE",
    ] {
        assert_eq!(spdx_license(not), None, "{not:?}");
    }
}

fn krate(name: &str, version: &str, license: Option<&str>, source: Option<&str>) -> Crate {
    Crate {
        name: name.into(),
        version: version.into(),
        checksum: source.filter(|s| *s == CRATES_IO).map(|_| LEAF_SUM.into()),
        license: license.map(Into::into),
        source: source.map(Into::into),
    }
}

#[test]
fn a_crates_io_crate_is_a_package_with_its_crate_file_checksum_and_purl() {
    let p = crate_package(
        &krate("serde", "1.0.228", Some("MIT/Apache-2.0"), Some(CRATES_IO)),
        "SPDXRef-x".into(),
    );
    assert_eq!(p.name, "serde");
    assert_eq!(p.version_info.as_deref(), Some("1.0.228"));
    assert_eq!(p.supplier, "NOASSERTION");
    assert_eq!(
        p.download_location,
        "https://static.crates.io/crates/serde/serde-1.0.228.crate"
    );
    assert_eq!(
        p.checksums,
        [Checksum {
            algorithm: "SHA256".into(),
            checksum_value: LEAF_SUM.into()
        }]
    );
    assert_eq!(p.license_declared, "MIT OR Apache-2.0");
    assert_eq!(p.license_concluded, "NOASSERTION");
    assert_eq!(p.comment, None);
    assert_eq!(p.primary_package_purpose, "LIBRARY");
    assert_eq!(p.external_refs.len(), 1);
    assert_eq!(p.external_refs[0].reference_category, "PACKAGE-MANAGER");
    assert_eq!(p.external_refs[0].reference_type, "purl");
    assert_eq!(
        p.external_refs[0].reference_locator,
        "pkg:cargo/serde@1.0.228"
    );
}

#[test]
fn path_and_git_crates_and_unknown_licences_say_so() {
    let path = crate_package(&krate("inner", "0.1.0", None, None), "SPDXRef-x".into());
    assert_eq!(path.download_location, "NOASSERTION");
    assert!(path.checksums.is_empty());
    assert_eq!(path.license_declared, "NOASSERTION");
    assert_eq!(
        path.comment.as_deref(),
        Some("no SPDX license in Cargo.toml; a path crate of the app's source tree")
    );
    assert_eq!(
        path.external_refs[0].reference_locator,
        "pkg:cargo/inner@0.1.0"
    );
    let git = crate_package(
        &krate(
            "forked",
            "2.0.0+meta",
            Some("Custom licence"),
            Some("git+https://example.invalid/forked.git?branch=main#0123abcd"),
        ),
        "SPDXRef-x".into(),
    );
    assert_eq!(
        git.download_location,
        "git+https://example.invalid/forked.git@0123abcd"
    );
    assert_eq!(git.license_declared, "NOASSERTION");
    assert_eq!(
        git.comment.as_deref(),
        Some(
            "Cargo.toml license `Custom licence` is not an SPDX expression; \
             from git+https://example.invalid/forked.git?branch=main#0123abcd"
        )
    );
    assert_eq!(
        git.external_refs[0].reference_locator,
        "pkg:cargo/forked@2.0.0%2Bmeta"
    );
}
