//! Unit tests of the SBOM document: packages, relationships, purls and CPE references.

use super::*;
use serde_json::Value;

fn recipe(name: &str, text: &str) -> Recipe {
    crate::recipe::parse(std::path::Path::new(&format!("/r/{name}.toml")), text)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn curl() -> (Recipe, Vec<Recipe>) {
    let app = recipe(
        "curl",
        r#"name = "curl"
version = "7.88.1"
license = "curl"
homepage = "https://curl.se"
cpe = "haxx:curl"
depends = ["zlib", "openssl"]
host-depends = ["gen-tool"]
[source]
sha256 = "cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7"
[source.debian]
package = "curl"
version = "7.88.1-10+deb12u15"
release = "bookworm"
file = "curl_7.88.1.orig.tar.gz"
debian-file = "curl_7.88.1-10+deb12u15.debian.tar.xz"
debian-sha256 = "961b78bc48492c5693e4decb352ddd176f343260a8956f48b2887874048ef23b"
[source.debian.leave-out]
"CVE-2024-2398.patch" = "a test's reason"
[build]
system = "autotools"
[app]
files = ["/usr/local/bin/curl"]
"#,
    );
    let zlib = recipe(
        "zlib",
        r#"name = "zlib"
version = "1.2.13"
license = "Zlib"
homepage = "https://zlib.net"
cpe = "zlib:zlib" # NVD's name
[source]
sha256 = "71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1"
[source.debian]
package = "zlib"
version = "1:1.2.13.dfsg-1"
release = "bookworm"
file = "zlib_1.2.13.dfsg.orig.tar.bz2"
debian-file = "zlib_1.2.13.dfsg-1.debian.tar.xz"
debian-sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
[build]
system = "make"
"#,
    );
    let openssl = recipe(
        "openssl",
        r#"name = "openssl"
version = "3.0.22"
license = "Apache-2.0"
homepage = "https://www.openssl.org"
depends = ["zlib"]
[source]
sha256 = "67ebca7e50d17383028045486653492195b83db95f8558709701bb47b5c1ef81"
urls = ["https://www.openssl.org/source/openssl-3.0.22.tar.gz"]
[build]
system = "make"
"#,
    );
    (app, vec![openssl, zlib])
}

fn json(doc: &Document) -> Value {
    serde_json::from_slice(&to_json(doc)).unwrap()
}

fn package<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name} in {v:#}"))
}

fn has_rel(v: &Value, a: &str, ty: &str, b: &str) -> bool {
    v["relationships"].as_array().unwrap().iter().any(|r| {
        r["spdxElementId"] == a && r["relationshipType"] == ty && r["relatedSpdxElement"] == b
    })
}

/// curl's document, with zlib and openssl as its libraries and no Go.
fn curl_document() -> Document {
    let (app, libs) = curl();
    document(&Input {
        app: &app,
        libraries: &libs,
        go: &[],
        crates: &[],
        source_date_epoch: 0,
        licences: &BTreeMap::new(),
    })
}

#[test]
fn curl_s_document_names_it_and_lists_three_packages() {
    let v = json(&curl_document());
    assert_eq!(v["spdxVersion"], "SPDX-2.3");
    assert_eq!(v["dataLicense"], "CC0-1.0");
    assert_eq!(v["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(v["name"], "curl-7.88.1");
    assert_eq!(v["creationInfo"]["created"], "1970-01-01T00:00:00Z");
    assert_eq!(
        v["creationInfo"]["creators"][0],
        format!("Tool: recipe-{}", env!("CARGO_PKG_VERSION"))
    );
    let ns = v["documentNamespace"].as_str().unwrap();
    assert!(
        ns.starts_with("https://spdx.org/spdxdocs/recipe/curl-7.88.1-"),
        "{ns}"
    );
    assert_eq!(v["packages"].as_array().unwrap().len(), 3, "{v:#}");
}

#[test]
fn curl_is_the_application_with_its_version_checksum_license_cpe_and_purl() {
    let v = json(&curl_document());
    let curl = package(&v, "curl");
    assert_eq!(curl["SPDXID"], "SPDXRef-Package-curl");
    assert_eq!(curl["versionInfo"], "7.88.1");
    assert_eq!(curl["primaryPackagePurpose"], "APPLICATION");
    assert_eq!(curl["licenseDeclared"], "curl");
    assert_eq!(curl["licenseConcluded"], "curl");
    assert_eq!(curl["filesAnalyzed"], false);
    assert_eq!(curl["checksums"][0]["algorithm"], "SHA256");
    assert_eq!(
        curl["checksums"][0]["checksumValue"],
        "cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7"
    );
    assert_eq!(
        curl["downloadLocation"],
        "https://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1.orig.tar.gz"
    );
    // The CPE first (what scanners match CVEs against), then the purl.
    assert_eq!(curl["externalRefs"][0]["referenceCategory"], "SECURITY");
    assert_eq!(curl["externalRefs"][0]["referenceType"], "cpe23Type");
    assert_eq!(
        curl["externalRefs"][0]["referenceLocator"],
        "cpe:2.3:a:haxx:curl:7.88.1:*:*:*:*:*:*:*"
    );
    assert_eq!(
        curl["externalRefs"][1]["referenceCategory"],
        "PACKAGE-MANAGER"
    );
    assert_eq!(
        curl["externalRefs"][1]["referenceLocator"],
        "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u15?arch=source&distro=debian-12"
    );
    // One purl: Debian's, not a generic one beside it.
    assert_eq!(curl["externalRefs"].as_array().unwrap().len(), 2);
    assert_eq!(
        curl["sourceInfo"],
        "upstream source as Debian source package curl 7.88.1-10+deb12u15 ships it \
         (curl_7.88.1.orig.tar.gz), with Debian's patch series applied except \
         CVE-2024-2398.patch (left out by the recipe)"
    );
}

/// A library whose Debian copyright file was read states its licences as Debian gives them,
/// a name without an SPDX id as a `LicenseRef-` with its text, once in the document; the
/// others keep their recipe's `license`.
#[test]
fn debians_copyright_file_gives_a_packages_licences() {
    let (app, libs) = curl();
    let zlib = crate::debian::copyright::parse(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
         Files: *\nCopyright: Jean-loup Gailly and Mark Adler\nLicense: Zlib\n\n\
         Files: contrib/*\nCopyright: others\nLicense: Zlib or public-domain\n\
         \x20No copyright is claimed.\n",
    )
    .unwrap();
    let licences = BTreeMap::from([("zlib".to_string(), zlib)]);
    let v = json(&document(&Input {
        app: &app,
        libraries: &libs,
        go: &[],
        crates: &[],
        source_date_epoch: 0,
        licences: &licences,
    }));
    let zlib = package(&v, "zlib");
    assert_eq!(zlib["licenseDeclared"], "Zlib");
    assert_eq!(
        zlib["licenseConcluded"],
        "Zlib AND (Zlib OR LicenseRef-public-domain)"
    );
    assert!(
        zlib["comment"]
            .as_str()
            .unwrap()
            .starts_with("licences as Debian's copyright file of zlib 1:1.2.13.dfsg-1"),
        "{zlib:#}"
    );
    assert_eq!(package(&v, "openssl")["licenseDeclared"], "Apache-2.0");
    let extracted = v["hasExtractedLicensingInfos"].as_array().unwrap();
    assert_eq!(extracted.len(), 1);
    assert_eq!(extracted[0]["licenseId"], "LicenseRef-public-domain");
    assert_eq!(extracted[0]["extractedText"], "No copyright is claimed.");
    // Without licences, no such list.
    assert!(
        json(&curl_document())
            .get("hasExtractedLicensingInfos")
            .is_none()
    );
}

#[test]
fn curl_lists_its_libraries_with_versions_checksums_and_licenses() {
    let v = json(&curl_document());
    let zlib = package(&v, "zlib");
    assert_eq!(zlib["versionInfo"], "1.2.13");
    assert_eq!(zlib["licenseDeclared"], "Zlib");
    assert_eq!(zlib["primaryPackagePurpose"], "LIBRARY");
    assert_eq!(
        zlib["checksums"][0]["checksumValue"],
        "71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1"
    );
    assert_eq!(
        zlib["externalRefs"][0]["referenceLocator"],
        "cpe:2.3:a:zlib:zlib:1.2.13:*:*:*:*:*:*:*"
    );
    // The epoch is part of Debian's version: `:` percent-encoded.
    assert_eq!(
        zlib["externalRefs"][1]["referenceLocator"],
        "pkg:deb/debian/zlib@1%3A1.2.13.dfsg-1?arch=source&distro=debian-12"
    );
    let openssl = package(&v, "openssl");
    assert_eq!(openssl["versionInfo"], "3.0.22");
    // No `cpe` in its recipe: the purl alone.
    assert_eq!(openssl["externalRefs"].as_array().unwrap().len(), 1);
    assert_eq!(openssl["externalRefs"][0]["referenceType"], "purl");
    assert_eq!(openssl["licenseDeclared"], "Apache-2.0");
    assert_eq!(
        openssl["downloadLocation"],
        "https://www.openssl.org/source/openssl-3.0.22.tar.gz"
    );
}

#[test]
fn curl_links_its_libraries_statically_and_keeps_the_recipes_dependency_graph() {
    let v = json(&curl_document());
    assert_eq!(v["relationships"][0]["relationshipType"], "DESCRIBES");
    assert!(has_rel(
        &v,
        "SPDXRef-DOCUMENT",
        "DESCRIBES",
        "SPDXRef-Package-curl"
    ));
    for lib in ["zlib", "openssl"] {
        let id = format!("SPDXRef-Package-{lib}");
        assert!(has_rel(&v, "SPDXRef-Package-curl", "STATIC_LINK", &id));
        assert!(has_rel(&v, "SPDXRef-Package-curl", "DEPENDS_ON", &id));
    }
    assert!(has_rel(
        &v,
        "SPDXRef-Package-openssl",
        "DEPENDS_ON",
        "SPDXRef-Package-zlib"
    ));
    assert_eq!(v["relationships"].as_array().unwrap().len(), 6, "{v:#}");
    // The host tool is not linked in and not listed.
    assert!(
        !to_json(&curl_document())
            .windows(8)
            .any(|w| w == b"gen-tool")
    );
}

#[test]
fn output_is_deterministic_and_follows_the_epoch() {
    let (app, libs) = curl();
    let mut rev = libs.clone();
    rev.reverse();
    let doc = |libs: &[Recipe], epoch| {
        to_json(&document(&Input {
            app: &app,
            libraries: libs,
            go: &[],
            crates: &[],
            source_date_epoch: epoch,
            licences: &BTreeMap::new(),
        }))
    };
    let a = doc(&libs, 1_700_000_000);
    assert_eq!(a, doc(&rev, 1_700_000_000), "library order matters");
    assert_eq!(a, doc(&libs, 1_700_000_000));
    let v: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    let b = doc(&libs, 0);
    assert_ne!(a, b);
    let vb: Value = serde_json::from_slice(&b).unwrap();
    assert_ne!(
        v["documentNamespace"], vb["documentNamespace"],
        "the namespace follows the content"
    );
    assert!(a.ends_with(b"}\n"));
}

fn gomod(path: &str, version: &str, sum: Option<&str>) -> GoModule {
    GoModule {
        path: path.into(),
        version: version.into(),
        sum: sum.map(Into::into),
        replace: None,
    }
}

fn go_app() -> Recipe {
    recipe(
        "httpbin",
        r#"name = "httpbin"
version = "2.26.0"
license = "MIT"
homepage = "https://github.com/mccutchen/go-httpbin"
[source]
sha256 = "c1c4cd19044723cb2fc4044cfab8f3e7b2a9c2086fe50c88c397c87d089ca21f"
[source.go-module]
module = "github.com/mccutchen/go-httpbin/v2"
version = "v2.26.0"
[build]
system = "go"
[app]
files = ["/usr/local/bin/go-httpbin"]
"#,
    )
}

fn go_info(arch: &str, deps: Vec<GoModule>) -> GoBuildInfo {
    GoBuildInfo {
        go_version: "go1.26.8".into(),
        path: "github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin".into(),
        main: Some(gomod("github.com/mccutchen/go-httpbin/v2", "v2.26.0", None)),
        deps,
        settings: vec![("GOARCH".into(), arch.into())],
    }
}

#[test]
fn go_modules_and_the_standard_library_are_listed() {
    let app = go_app();
    let mut replaced = gomod("golang.org/x/sys", "v0.1.0", Some("h1:old="));
    replaced.replace = Some(Box::new(gomod(
        "github.com/Fork/Sys",
        "v0.2.0",
        Some("h1:new="),
    )));
    let deps = vec![
        gomod("github.com/BurntSushi/toml", "v1.3.2", Some("h1:abc=")),
        replaced,
    ];
    let v = json(&document(&Input {
        app: &app,
        libraries: &[],
        go: &[go_info("amd64", deps)],
        crates: &[],
        source_date_epoch: 0,
        licences: &BTreeMap::new(),
    }));
    // The app, stdlib, two deps; the main module is the app (the recipe fetched exactly it).
    assert_eq!(v["packages"].as_array().unwrap().len(), 4, "{v:#}");
    let appp = package(&v, "httpbin");
    assert_eq!(
        appp["externalRefs"][0]["referenceLocator"],
        "pkg:golang/github.com/mccutchen/go-httpbin/v2@v2.26.0"
    );
    assert_eq!(
        appp["downloadLocation"],
        "https://proxy.golang.org/github.com/mccutchen/go-httpbin/v2/@v/v2.26.0.zip"
    );
    let toml = package(&v, "github.com/BurntSushi/toml");
    assert_eq!(toml["versionInfo"], "v1.3.2");
    assert_eq!(toml["licenseDeclared"], "NOASSERTION");
    assert_eq!(toml["primaryPackagePurpose"], "LIBRARY");
    assert!(toml.get("checksums").is_none());
    assert!(toml["comment"].as_str().unwrap().contains("h1:abc="));
    assert_eq!(
        toml["downloadLocation"],
        "https://proxy.golang.org/github.com/!burnt!sushi/toml/@v/v1.3.2.zip"
    );
    assert_eq!(
        toml["externalRefs"][0]["referenceLocator"],
        "pkg:golang/github.com/BurntSushi/toml@v1.3.2"
    );
    let sys = package(&v, "golang.org/x/sys");
    assert_eq!(
        sys["externalRefs"][0]["referenceLocator"],
        "pkg:golang/github.com/Fork/Sys@v0.2.0"
    );
    assert!(sys["comment"].as_str().unwrap().contains("h1:new="));
    let std = package(&v, "stdlib");
    assert_eq!(std["versionInfo"], "go1.26.8");
    let refs: Vec<&str> = std["externalRefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["referenceLocator"].as_str().unwrap())
        .collect();
    assert!(refs.contains(&"pkg:golang/stdlib@1.26.8"), "{refs:?}");
    for p in v["packages"].as_array().unwrap().iter().skip(1) {
        assert!(
            has_rel(
                &v,
                "SPDXRef-Package-httpbin",
                "CONTAINS",
                p["SPDXID"].as_str().unwrap()
            ),
            "{p}"
        );
    }
}

#[test]
fn a_local_go_app_lists_its_main_module() {
    let app = recipe(
        "hello-go",
        "name = \"hello-go\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
         [source]\npath = \"src\"\n[build]\nsystem = \"go\"\n[app]\nfiles = [\"/usr/local/bin/hello-go\"]\n",
    );
    let info = GoBuildInfo {
        go_version: "go1.26.8".into(),
        path: "hello-go".into(),
        main: Some(gomod("hello-go", "(devel)", None)),
        ..GoBuildInfo::default()
    };
    let v = json(&document(&Input {
        app: &app,
        libraries: &[],
        go: &[info],
        crates: &[],
        source_date_epoch: 0,
        licences: &BTreeMap::new(),
    }));
    let appp = package(&v, "hello-go");
    assert_eq!(appp["downloadLocation"], "NOASSERTION");
    assert!(appp.get("checksums").is_none());
    let main = &v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hello-go" && p["versionInfo"] == "(devel)")
        .expect("the main module");
    assert_eq!(main["primaryPackagePurpose"], "APPLICATION");
    assert_eq!(main["downloadLocation"], "NOASSERTION");
    assert_eq!(
        main["externalRefs"][0]["referenceLocator"],
        "pkg:golang/hello-go"
    );
    // IDs are unique even when names collide.
    let ids: BTreeSet<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), v["packages"].as_array().unwrap().len());
}

#[test]
fn per_arch_documents_equal_the_combined_one_unless_go_deps_differ() {
    let app = go_app();
    let same = image_sbom(
        (&app, &[]),
        &[
            (Arch::Amd64, vec![go_info("amd64", vec![])]),
            (Arch::Arm64, vec![go_info("arm64", vec![])]),
        ],
        &[],
        &BTreeMap::new(),
        0,
    );
    assert_eq!(same.for_arch(Arch::Amd64), same.combined.as_slice());
    assert_eq!(same.for_arch(Arch::Arm64), same.combined.as_slice());

    let extra = gomod("golang.org/x/sys", "v0.1.0", None);
    let differ = image_sbom(
        (&app, &[]),
        &[
            (Arch::Amd64, vec![go_info("amd64", vec![])]),
            (Arch::Armv7, vec![go_info("arm", vec![extra])]),
        ],
        &[],
        &BTreeMap::new(),
        0,
    );
    assert_eq!(differ.for_arch(Arch::Amd64), same.combined.as_slice());
    let has = |b: &[u8]| String::from_utf8_lossy(b).contains("golang.org/x/sys");
    assert!(!has(differ.for_arch(Arch::Amd64)));
    assert!(has(differ.for_arch(Arch::Armv7)));
    assert!(has(&differ.combined));
}

/// A Rust app whose source is a crates.io crate.
fn rust_app() -> Recipe {
    let mut app = recipe(
        "hello-rs",
        r#"name = "hello-rs"
version = "0.3.1"
license = "MIT OR Apache-2.0"
homepage = "https://example.invalid/hello-rs"
[source]
sha256 = "00e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
urls = ["https://example.invalid/hello-rs-0.3.1.crate"]
[build]
system = "make"
[app]
files = ["/usr/local/bin/hello-rs"]
"#,
    );
    // What `[source.crate]` loads to.
    let Source::Archive { origins, .. } = &mut app.source else {
        unreachable!()
    };
    *origins = vec![Origin::Crate {
        name: "hello-rs".into(),
        version: "0.3.1".into(),
    }];
    app
}

fn krate(name: &str, version: &str, license: Option<&str>, sum: Option<&str>) -> Crate {
    Crate {
        name: name.into(),
        version: version.into(),
        checksum: sum.map(Into::into),
        license: license.map(Into::into),
        source: Some(CRATES_IO.into()),
    }
}

fn rust_crates() -> Vec<Crate> {
    vec![
        krate(
            "serde",
            "1.0.228",
            Some("MIT OR Apache-2.0"),
            Some("9a8e94ea7f378bd32cbbd37198a4a91436180c5bb472411e48b5ec2e2124ae9e"),
        ),
        krate(
            "memchr",
            "2.7.6",
            Some("Unlicense/MIT"),
            Some("f52b00d39961fc5b2736ea853c9cc86238e165017a493d1d5c8eac6bdc4cc273"),
        ),
        Crate {
            source: None,
            ..krate("hello-core", "0.3.1", None, None)
        },
    ]
}

/// The whole document of a Rust app, pinned: the app named `pkg:cargo`, each crate a LIBRARY
/// package with its `.crate`, checksum, SPDX licence and purl, contained in the app.
#[test]
fn a_rust_app_lists_its_crates() {
    let app = rust_app();
    let mut crates = rust_crates();
    crates.push(crates[0].clone());
    let doc = document(&Input {
        app: &app,
        libraries: &[],
        go: &[],
        crates: &crates,
        source_date_epoch: 0,
        licences: &BTreeMap::new(),
    });
    let v = json(&doc);
    assert_eq!(v["packages"].as_array().unwrap().len(), 4, "{v:#}");
    let appp = package(&v, "hello-rs");
    assert_eq!(
        appp["externalRefs"][0]["referenceLocator"],
        "pkg:cargo/hello-rs@0.3.1"
    );
    assert_eq!(
        appp["downloadLocation"],
        "https://static.crates.io/crates/hello-rs/hello-rs-0.3.1.crate"
    );
    for p in v["packages"].as_array().unwrap().iter().skip(1) {
        let id = p["SPDXID"].as_str().unwrap();
        assert!(id.starts_with("SPDXRef-Package-crate-"), "{id}");
        assert!(
            has_rel(&v, "SPDXRef-Package-hello-rs", "CONTAINS", id),
            "{p}"
        );
    }
    // The tool's version, and so the namespace's hash, are not the point.
    insta::with_settings!({filters => vec![
        (r#"recipe-\d+\.\d+\.\d+[^"]*"#, "recipe-[VERSION]"),
        (r#"-[0-9a-f]{32}""#, "-[HASH]\""),
    ]}, {
        insta::assert_snapshot!(String::from_utf8(to_json(&doc)).unwrap());
    });
}

#[test]
fn per_arch_documents_list_that_arch_s_crates() {
    let app = rust_app();
    let all = rust_crates();
    let sbom = image_sbom(
        (&app, &[]),
        &[],
        &[
            (Arch::Amd64, all.clone()),
            (Arch::Arm64, all.clone()),
            (Arch::Armv7, all[..2].to_vec()),
        ],
        &BTreeMap::new(),
        0,
    );
    let arches: Vec<Arch> = sbom.per_arch.iter().map(|(a, _)| *a).collect();
    assert_eq!(arches, [Arch::Amd64, Arch::Arm64, Arch::Armv7]);
    assert_eq!(sbom.for_arch(Arch::Amd64), sbom.combined.as_slice());
    assert_eq!(sbom.for_arch(Arch::Arm64), sbom.combined.as_slice());
    let has = |b: &[u8]| String::from_utf8_lossy(b).contains("pkg:cargo/hello-core@0.3.1");
    assert!(!has(sbom.for_arch(Arch::Armv7)));
    assert!(has(&sbom.combined));
}

#[test]
fn urls_and_purls() {
    assert_eq!(
        debian_pool_url("libxml2", "libxml2_2.9.14+dfsg.orig.tar.xz"),
        "https://deb.debian.org/debian/pool/main/libx/libxml2/libxml2_2.9.14+dfsg.orig.tar.xz"
    );
    assert_eq!(
        debian_pool_url("lib", "lib_1.orig.tar.gz"),
        "https://deb.debian.org/debian/pool/main/l/lib/lib_1.orig.tar.gz"
    );
    assert_eq!(
        go_proxy_url("github.com/Azure/azure-sdk-for-go", "v1.0.0-RC1"),
        "https://proxy.golang.org/github.com/!azure/azure-sdk-for-go/@v/v1.0.0-!r!c1.zip"
    );
    assert_eq!(
        golang_purl("github.com/x/y", "v2.0.0+incompatible"),
        "pkg:golang/github.com/x/y@v2.0.0%2Bincompatible"
    );
    assert_eq!(
        cargo_purl("tokio-util", "0.7.16"),
        "pkg:cargo/tokio-util@0.7.16"
    );
    assert_eq!(
        crates_io_url("tokio-util", "0.7.16"),
        "https://static.crates.io/crates/tokio-util/tokio-util-0.7.16.crate"
    );
}

#[test]
fn cpe_values_are_escaped_as_the_formatted_string_binding_asks() {
    for (value, bound) in [
        ("7.88.1", "7.88.1"),
        ("1.2.13", "1.2.13"),
        ("2026a", "2026a"),
        ("v2-rc.1_x", "v2-rc.1_x"),
        // NVD writes its names in lowercase, and matching compares them so.
        ("1.0RC1", "1.0rc1"),
        // Every other printable ASCII character is escaped with a backslash.
        ("1.0+dfsg", r"1.0\+dfsg"),
        ("2:1.0", r"2\:1.0"),
        ("1*", r"1\*"),
        ("a?b", r"a\?b"),
        (r"a\b", r"a\\b"),
        ("1-", "1-"),
    ] {
        assert_eq!(cpe_value(value).as_deref(), Some(bound), "{value}");
    }
    // What the binding cannot carry: no value (that would read as ANY), a lone `-` (that is NA),
    // spaces, non-ASCII.
    for bad in ["", "-", "1 0", "1\t", "1.0é"] {
        assert_eq!(cpe_value(bad), None, "{bad:?}");
    }
    assert_eq!(
        cpe23("haxx", "curl", "8.11.1").as_deref(),
        Some("cpe:2.3:a:haxx:curl:8.11.1:*:*:*:*:*:*:*")
    );
    assert_eq!(
        cpe23("notepad-plus-plus", r"notepad\+\+", "8.0+1").as_deref(),
        Some(r"cpe:2.3:a:notepad-plus-plus:notepad\+\+:8.0\+1:*:*:*:*:*:*:*")
    );
    assert_eq!(cpe23("a", "b", ""), None);
}

#[test]
fn the_cpe_line_is_out_of_the_build_text_but_in_the_document() {
    let text = |cpe: &str| {
        format!(
            "name = \"x\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"\"\n{cpe}\
             [source]\npath = \"src\"\n[build]\nsystem = \"make\"\n[app]\nfiles = [\"/x\"]\n"
        )
    };
    let bare = recipe("x", &text(""));
    let with = recipe("x", &text("cpe = \"example:x\"  # a comment\n"));
    let other = recipe("x", &text("  cpe = 'other:x'\n"));
    assert_eq!(with.build_text(), bare.build_text());
    assert_eq!(other.build_text(), bare.build_text());
    assert_ne!(with.meaning(), bare.meaning());
    let cpe = with.cpe.as_ref().unwrap();
    assert_eq!(
        (cpe.vendor.as_str(), cpe.product.as_str()),
        ("example", "x")
    );
    // The document (and so the image key, which hashes it) does change.
    let doc = |r: &Recipe| {
        to_json(&document(&Input {
            app: r,
            libraries: &[],
            go: &[],
            crates: &[],
            source_date_epoch: 0,
            licences: &BTreeMap::new(),
        }))
    };
    assert_ne!(doc(&with), doc(&bare));
    assert_ne!(doc(&with), doc(&other));
    assert!(
        String::from_utf8(doc(&other))
            .unwrap()
            .contains("cpe:2.3:a:other:x:1.0:")
    );
}
