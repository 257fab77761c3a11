//! SPDX 2.3 JSON software bills of materials: the app, the C libraries linked into it and the Go
//! modules compiled into it, so scanners that cannot see inside a static binary still can.
//!
//! Pure: [`document`] and [`image_sbom`] turn recipes and Go build info into bytes, with no
//! clock, no randomness and no file access. The same input gives the same bytes: packages and
//! relationships are sorted, `created` is SOURCE_DATE_EPOCH, and `documentNamespace` is derived
//! from the hash of the rest of the document.
//!
//! What is listed: the app recipe (APPLICATION), every recipe reached from it through `depends`
//! (LIBRARY; `host-depends` are build tools, not linked in, and are left out), and for Go
//! binaries the Go standard library and every module of the build info. Relationships, per the
//! SPDX 2.3 table (clause 11.1, "Is to be used when SPDXRef-A statically links to SPDXRef-B",
//! e.g. "An APPLICATION file 'myapp' statically links to BINARY zlib.a"):
//! `DOCUMENT DESCRIBES app`, `app STATIC_LINK lib` for every library of the closure,
//! `A DEPENDS_ON B` for every direct `depends` edge, and `app CONTAINS module` for Go code.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::Digest;

use crate::arch::Arch;
use crate::recipe::{Origin, Recipe, Source};
use crate::verify::{GoBuildInfo, GoModule};

/// Where the document lies in an image, for `NAME`: Syft and Trivy look for `*.spdx.json` here.
pub fn image_path(name: &str) -> String {
    format!("/var/lib/db/sbom/{name}.spdx.json")
}

/// The file name beside the image: `NAME-VERSION.spdx.json`.
pub fn file_name(r: &Recipe) -> String {
    format!("{}-{}.spdx.json", r.name, r.version)
}

const NOASSERTION: &str = "NOASSERTION";

/// An SPDX 2.3 document, as the JSON schema names its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub spdx_version: String,
    pub data_license: String,
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    pub name: String,
    pub document_namespace: String,
    pub creation_info: CreationInfo,
    pub packages: Vec<Package>,
    pub relationships: Vec<Relationship>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationInfo {
    pub created: String,
    pub creators: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_info: Option<String>,
    pub supplier: String,
    pub download_location: String,
    /// Always false: no file-level analysis (and so checksums are allowed).
    pub files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_info: Option<String>,
    pub license_concluded: String,
    pub license_declared: String,
    pub copyright_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_refs: Vec<ExternalRef>,
    pub primary_package_purpose: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checksum {
    pub algorithm: String,
    pub checksum_value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalRef {
    pub reference_category: String,
    pub reference_type: String,
    pub reference_locator: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Relationship {
    pub spdx_element_id: String,
    pub relationship_type: String,
    pub related_spdx_element: String,
}

/// What a document is made of.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub app: &'a Recipe,
    /// The recipes reached from the app through `depends` (any order; duplicates ignored).
    pub libraries: &'a [Recipe],
    /// The Go build info of the app's binaries (none for C apps).
    pub go: &'a [GoBuildInfo],
    /// SOURCE_DATE_EPOCH, the document's `created`.
    pub source_date_epoch: u64,
}

/// The documents of one multi-arch image: one per platform layer (the Go build info of that
/// platform's binaries), and one beside the image listing the union. They are the same bytes
/// unless the Go build info differs between arches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSbom {
    pub per_arch: Vec<(Arch, Vec<u8>)>,
    pub combined: Vec<u8>,
}

impl ImageSbom {
    /// The document for `arch`'s layer (the combined one for an arch not given).
    pub fn for_arch(&self, arch: Arch) -> &[u8] {
        self.per_arch
            .iter()
            .find(|(a, _)| *a == arch)
            .map(|(_, b)| b.as_slice())
            .unwrap_or(&self.combined)
    }
}

/// Every document of an image: `go` holds each arch's Go build info.
pub fn image_sbom(
    app: &Recipe,
    libraries: &[Recipe],
    go: &[(Arch, Vec<GoBuildInfo>)],
    source_date_epoch: u64,
) -> ImageSbom {
    let doc = |go: &[GoBuildInfo]| {
        to_json(&document(&Input {
            app,
            libraries,
            go,
            source_date_epoch,
        }))
    };
    let all: Vec<GoBuildInfo> = go.iter().flat_map(|(_, g)| g.iter().cloned()).collect();
    ImageSbom {
        per_arch: go.iter().map(|(a, g)| (*a, doc(g))).collect(),
        combined: doc(&all),
    }
}

/// The document as pretty JSON with a final newline.
pub fn to_json(doc: &Document) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(doc).expect("an SPDX document serialises");
    v.push(b'\n');
    v
}

/// Builds the document. Pure and deterministic.
pub fn document(input: &Input<'_>) -> Document {
    let app = input.app;
    let mut ids = Ids::default();
    let app_id = ids.take("Package", &app.name);
    let mut packages = vec![recipe_package(app, app_id.clone(), "APPLICATION")];
    let mut relationships = vec![rel("SPDXRef-DOCUMENT", "DESCRIBES", &app_id)];

    let libs: BTreeMap<&str, &Recipe> = input
        .libraries
        .iter()
        .filter(|l| l.name != app.name)
        .map(|l| (l.name.as_str(), l))
        .collect();
    let mut lib_ids: BTreeMap<&str, String> = BTreeMap::new();
    for (name, lib) in &libs {
        let id = ids.take("Package", name);
        packages.push(recipe_package(lib, id.clone(), "LIBRARY"));
        relationships.push(rel(&app_id, "STATIC_LINK", &id));
        lib_ids.insert(name, id);
    }
    // The dependency graph as the recipes state it: direct edges only.
    for r in std::iter::once(app).chain(libs.values().copied()) {
        let from = if r.name == app.name {
            &app_id
        } else {
            &lib_ids[r.name.as_str()]
        };
        for d in &r.depends {
            if let Some(to) = lib_ids.get(d.name.as_str()) {
                relationships.push(rel(from, "DEPENDS_ON", to));
            }
        }
    }

    // Go: the standard library (per toolchain version) and every module, deduplicated.
    let go_versions: BTreeSet<&str> = input
        .go
        .iter()
        .map(|g| g.go_version.as_str())
        .filter(|v| !v.is_empty())
        .collect();
    for v in go_versions {
        let id = ids.take("Package-go-stdlib", v);
        packages.push(stdlib_package(v, id.clone()));
        relationships.push(rel(&app_id, "CONTAINS", &id));
    }
    let app_module = match &app.source {
        Source::Archive { origins, .. } => origins.iter().find_map(|o| match o {
            Origin::GoModule { module, version } => Some((module.as_str(), version.as_str())),
            _ => None,
        }),
        Source::Path(_) => None,
    };
    let mut modules: BTreeMap<(String, String), (&GoModule, bool)> = BTreeMap::new();
    for g in input.go {
        if let Some(m) = &g.main {
            // The app's own module, when the recipe fetched exactly it, is the app package.
            if app_module != Some((m.path.as_str(), m.version.as_str())) {
                modules
                    .entry((m.path.clone(), m.version.clone()))
                    .or_insert((m, true));
            }
        }
        for m in &g.deps {
            modules
                .entry((m.path.clone(), m.version.clone()))
                .or_insert((m, false));
        }
    }
    for ((path, version), (m, main)) in &modules {
        let id = ids.take("Package-go", &format!("{path}-{version}"));
        packages.push(module_package(m, *main, id.clone()));
        relationships.push(rel(&app_id, "CONTAINS", &id));
    }

    // DESCRIBES first, then the rest sorted.
    relationships[1..].sort();
    relationships.dedup();

    let mut doc = Document {
        spdx_version: "SPDX-2.3".into(),
        data_license: "CC0-1.0".into(),
        spdx_id: "SPDXRef-DOCUMENT".into(),
        name: format!("{}-{}", app.name, app.version),
        document_namespace: String::new(),
        creation_info: CreationInfo {
            created: crate::image::rfc3339(input.source_date_epoch),
            creators: vec![format!("Tool: recipe-{}", env!("CARGO_PKG_VERSION"))],
        },
        packages,
        relationships,
    };
    let hash = hex::encode(sha2::Sha256::digest(to_json(&doc)));
    doc.document_namespace = format!(
        "https://spdx.org/spdxdocs/recipe/{}-{}-{}",
        app.name,
        app.version,
        &hash[..32]
    );
    doc
}

fn rel(a: &str, ty: &str, b: &str) -> Relationship {
    Relationship {
        spdx_element_id: a.to_string(),
        relationship_type: ty.to_string(),
        related_spdx_element: b.to_string(),
    }
}

/// SPDX identifiers: `SPDXRef-` then letters, digits, `.` and `-`; unique within the document.
#[derive(Default)]
struct Ids(BTreeSet<String>);

impl Ids {
    fn take(&mut self, kind: &str, name: &str) -> String {
        let clean: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let base = format!("SPDXRef-{kind}-{clean}");
        let mut id = base.clone();
        let mut n = 2;
        while !self.0.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// A recipe as a package: where its source comes from, its sha256, its license.
fn recipe_package(r: &Recipe, id: String, purpose: &str) -> Package {
    let (download, checksums, purl, source_info) = match &r.source {
        Source::Path(_) => (
            NOASSERTION.to_string(),
            Vec::new(),
            format!(
                "pkg:generic/{}@{}",
                purl_segment(&r.name),
                purl_segment(&r.version)
            ),
            Some("built from a local directory (no pinned archive, so no checksum)".to_string()),
        ),
        Source::Archive {
            sha256, origins, ..
        } => {
            let download = origins
                .iter()
                .find_map(|o| match o {
                    Origin::Url(u) => Some(u.clone()),
                    _ => None,
                })
                .or_else(|| origins.first().map(origin_url))
                .unwrap_or_else(|| NOASSERTION.to_string());
            let purl = match origins.first() {
                Some(Origin::GoModule { module, version }) => golang_purl(module, version),
                _ => {
                    let mut p = format!(
                        "pkg:generic/{}@{}",
                        purl_segment(&r.name),
                        purl_segment(&r.version)
                    );
                    if download != NOASSERTION {
                        p += &format!("?download_url={}", purl_qualifier(&download));
                    }
                    p
                }
            };
            let source_info = origins.iter().find_map(|o| match o {
                Origin::Debian {
                    package,
                    version,
                    file,
                } => Some(format!(
                    "upstream source as Debian source package {package} {version} ships it \
                         ({file}); Debian's patches are not applied"
                )),
                _ => None,
            });
            (
                download,
                vec![Checksum {
                    algorithm: "SHA256".into(),
                    checksum_value: sha256.to_ascii_lowercase(),
                }],
                purl,
                source_info,
            )
        }
    };
    Package {
        spdx_id: id,
        name: r.name.clone(),
        version_info: Some(r.version.clone()),
        supplier: NOASSERTION.into(),
        download_location: download,
        files_analyzed: false,
        checksums,
        homepage: Some(r.homepage.clone()).filter(|h| !h.is_empty()),
        source_info,
        license_concluded: license(&r.license),
        license_declared: license(&r.license),
        copyright_text: NOASSERTION.into(),
        description: r.description.clone(),
        comment: None,
        external_refs: vec![purl_ref(purl)],
        primary_package_purpose: purpose.into(),
    }
}

fn license(l: &str) -> String {
    if l.trim().is_empty() {
        NOASSERTION.into()
    } else {
        l.trim().to_string()
    }
}

/// Where an origin's archive can be downloaded.
fn origin_url(o: &Origin) -> String {
    match o {
        Origin::Url(u) => u.clone(),
        Origin::Debian { package, file, .. } => debian_pool_url(package, file),
        Origin::GoModule { module, version } => go_proxy_url(module, version),
        Origin::Pypi { package, file, .. } => pypi_file_url(package, file),
    }
}

/// PyPI's stable URL of a distribution file: `https://files.pythonhosted.org/packages/<python
/// tag>/<first letter>/<package>/<file>` (the python tag of a wheel, `source` for an sdist).
pub fn pypi_file_url(package: &str, file: &str) -> String {
    let tag = file
        .strip_suffix(".whl")
        .and_then(|stem| stem.rsplit('-').nth(2))
        .unwrap_or("source");
    let first = package.chars().next().unwrap_or('_');
    format!("https://files.pythonhosted.org/packages/{tag}/{first}/{package}/{file}")
}

/// `https://deb.debian.org/debian/pool/main/<prefix>/<package>/<file>`: the prefix is the first
/// letter, or `lib` and the next letter for `lib*` packages.
pub fn debian_pool_url(package: &str, file: &str) -> String {
    let prefix = if package.starts_with("lib") && package.len() > 3 {
        &package[..4]
    } else {
        &package[..package.len().min(1)]
    };
    format!("https://deb.debian.org/debian/pool/main/{prefix}/{package}/{file}")
}

/// The module proxy's zip of `module@version`, case-encoded (`A` is `!a`) as the proxy protocol
/// asks.
pub fn go_proxy_url(module: &str, version: &str) -> String {
    format!(
        "https://proxy.golang.org/{}/@v/{}.zip",
        case_encode(module),
        case_encode(version)
    )
}

fn case_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Percent-encodes all but the unreserved characters.
fn purl_segment(s: &str) -> String {
    crate::text::percent_encode(s, crate::text::UNRESERVED)
}

/// Like [`purl_segment`], keeping `:` and `/` too.
fn purl_qualifier(s: &str) -> String {
    const QUALIFIER: &percent_encoding::AsciiSet =
        &crate::text::UNRESERVED.remove(b':').remove(b'/');
    crate::text::percent_encode(s, QUALIFIER)
}

/// `pkg:golang/<path>@<version>`, each path segment encoded.
pub fn golang_purl(module: &str, version: &str) -> String {
    let path: Vec<String> = module.split('/').map(purl_segment).collect();
    let mut p = format!("pkg:golang/{}", path.join("/"));
    if !version.is_empty() && version != "(devel)" {
        p += &format!("@{}", purl_segment(version));
    }
    p
}

fn purl_ref(locator: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER".into(),
        reference_type: "purl".into(),
        reference_locator: locator,
    }
}

/// Go's standard library at the toolchain version (`go1.26.8`): what Grype matches Go's own
/// advisories against.
fn stdlib_package(go_version: &str, id: String) -> Package {
    let bare = go_version.trim_start_matches("go");
    let mut refs = vec![purl_ref(format!(
        "pkg:golang/stdlib@{}",
        purl_segment(bare)
    ))];
    let cpe_ok = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if cpe_ok {
        refs.insert(
            0,
            ExternalRef {
                reference_category: "SECURITY".into(),
                reference_type: "cpe23Type".into(),
                reference_locator: format!("cpe:2.3:a:golang:go:{bare}:-:*:*:*:*:*:*"),
            },
        );
    }
    Package {
        spdx_id: id,
        name: "stdlib".into(),
        version_info: Some(go_version.to_string()),
        supplier: NOASSERTION.into(),
        download_location: NOASSERTION.into(),
        files_analyzed: false,
        checksums: Vec::new(),
        homepage: Some("https://go.dev".into()),
        source_info: None,
        license_concluded: "BSD-3-Clause".into(),
        license_declared: "BSD-3-Clause".into(),
        copyright_text: NOASSERTION.into(),
        description: None,
        comment: Some("the Go standard library and runtime the binary was built with".into()),
        external_refs: refs,
        primary_package_purpose: "LIBRARY".into(),
    }
}

/// A Go module from the build info. Its code is what the `=>` replacement points at, when
/// there is one; the `h1:` sum goes in the comment (SPDX checksums have no such algorithm).
fn module_package(m: &GoModule, main: bool, id: String) -> Package {
    let real = m.replace.as_deref().unwrap_or(m);
    // A replacement by a local directory has no version and nothing to download.
    let fetchable = !real.version.is_empty() && real.version != "(devel)";
    let mut comment = Vec::new();
    if main {
        comment.push("the main module".to_string());
    }
    if let Some(r) = &m.replace {
        comment.push(if r.version.is_empty() {
            format!("replaced by the local directory {}", r.path)
        } else {
            format!("replaced by {} {}", r.path, r.version)
        });
    }
    if let Some(sum) = real.sum.as_ref().or(m.sum.as_ref()) {
        comment.push(format!("go.sum {sum}"));
    }
    Package {
        spdx_id: id,
        name: m.path.clone(),
        version_info: Some(m.version.clone()).filter(|v| !v.is_empty()),
        supplier: NOASSERTION.into(),
        download_location: if fetchable {
            go_proxy_url(&real.path, &real.version)
        } else {
            NOASSERTION.into()
        },
        files_analyzed: false,
        checksums: Vec::new(),
        homepage: None,
        source_info: None,
        license_concluded: NOASSERTION.into(),
        license_declared: NOASSERTION.into(),
        copyright_text: NOASSERTION.into(),
        description: None,
        comment: Some(comment.join("; ")).filter(|c| !c.is_empty()),
        external_refs: vec![purl_ref(golang_purl(
            if fetchable { &real.path } else { &m.path },
            if fetchable { &real.version } else { &m.version },
        ))],
        primary_package_purpose: if main { "APPLICATION" } else { "LIBRARY" }.into(),
    }
}

#[cfg(test)]
mod tests {
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
depends = ["zlib", "openssl"]
host-depends = ["gen-tool"]
[source]
sha256 = "cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7"
[source.debian]
package = "curl"
version = "7.88.1-10+deb12u15"
file = "curl_7.88.1.orig.tar.gz"
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
[source]
sha256 = "71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1"
[source.debian]
package = "zlib"
version = "1:1.2.13.dfsg-1"
file = "zlib_1.2.13.dfsg.orig.tar.bz2"
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

    #[test]
    fn curl_lists_its_libraries_with_versions_checksums_and_licenses() {
        let (app, libs) = curl();
        let v = json(&document(&Input {
            app: &app,
            libraries: &libs,
            go: &[],
            source_date_epoch: 0,
        }));
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
        assert_eq!(
            curl["externalRefs"][0]["referenceLocator"],
            "pkg:generic/curl@7.88.1?download_url=https://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1.orig.tar.gz"
        );
        assert!(
            curl["sourceInfo"]
                .as_str()
                .unwrap()
                .contains("7.88.1-10+deb12u15")
        );

        let zlib = package(&v, "zlib");
        assert_eq!(zlib["versionInfo"], "1.2.13");
        assert_eq!(zlib["licenseDeclared"], "Zlib");
        assert_eq!(zlib["primaryPackagePurpose"], "LIBRARY");
        assert_eq!(
            zlib["checksums"][0]["checksumValue"],
            "71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1"
        );
        let openssl = package(&v, "openssl");
        assert_eq!(openssl["versionInfo"], "3.0.22");
        assert_eq!(openssl["licenseDeclared"], "Apache-2.0");
        assert_eq!(
            openssl["downloadLocation"],
            "https://www.openssl.org/source/openssl-3.0.22.tar.gz"
        );

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
            !to_json(&document(&Input {
                app: &app,
                libraries: &libs,
                go: &[],
                source_date_epoch: 0,
            }))
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
                source_date_epoch: epoch,
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
            source_date_epoch: 0,
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
            source_date_epoch: 0,
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
            &app,
            &[],
            &[
                (Arch::Amd64, vec![go_info("amd64", vec![])]),
                (Arch::Arm64, vec![go_info("arm64", vec![])]),
            ],
            0,
        );
        assert_eq!(same.for_arch(Arch::Amd64), same.combined.as_slice());
        assert_eq!(same.for_arch(Arch::Arm64), same.combined.as_slice());

        let extra = gomod("golang.org/x/sys", "v0.1.0", None);
        let differ = image_sbom(
            &app,
            &[],
            &[
                (Arch::Amd64, vec![go_info("amd64", vec![])]),
                (Arch::Armv7, vec![go_info("arm", vec![extra])]),
            ],
            0,
        );
        assert_eq!(differ.for_arch(Arch::Amd64), same.combined.as_slice());
        let has = |b: &[u8]| String::from_utf8_lossy(b).contains("golang.org/x/sys");
        assert!(!has(differ.for_arch(Arch::Amd64)));
        assert!(has(differ.for_arch(Arch::Armv7)));
        assert!(has(&differ.combined));
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
    }
}
