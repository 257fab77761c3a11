//! SPDX 2.3 JSON software bills of materials: the app, the C libraries linked into it and the Go
//! modules and Rust crates compiled into it, so scanners that cannot see inside a static binary
//! still can.
//!
//! Pure: [`document`] and [`image_sbom`] turn recipes, Go build info and crate lists into bytes,
//! with no clock, no randomness and no file access. The same input gives the same bytes:
//! packages and relationships are sorted, `created` is SOURCE_DATE_EPOCH, and
//! `documentNamespace` is derived from the hash of the rest of the document.
//!
//! What is listed: the app recipe (APPLICATION), every recipe reached from it through `depends`
//! (LIBRARY; `host-depends` are build tools, not linked in, and are left out), for Go binaries
//! the Go standard library and every module of the build info, and for Rust binaries every crate
//! linked in (LIBRARY; `cargo.rs` chooses them from `cargo metadata`: not the build scripts',
//! tests' or proc macros'), each with its `.crate` on crates.io, Cargo.lock's sha256 and its
//! declared licence as an SPDX expression. Relationships, per the SPDX 2.3 table (clause 11.1,
//! "Is to be used when SPDXRef-A statically links to SPDXRef-B", e.g. "An APPLICATION file
//! 'myapp' statically links to BINARY zlib.a"): `DOCUMENT DESCRIBES app`, `app STATIC_LINK lib`
//! for every library of the closure, `A DEPENDS_ON B` for every direct `depends` edge, and
//! `app CONTAINS module` (or `crate`) for Go and Rust code.
//!
//! How scanners name each package: a purl (`pkg:golang/...` for Go modules and the standard
//! library, which Grype matches against the Go advisories; `pkg:cargo/NAME@VERSION` for crates
//! and for an app whose source is a crate, which Syft reads as Rust crates and Grype matches
//! against the RustSec advisories; for a recipe from a Debian source package
//! (`[source.debian]`), Debian's `pkg:deb/debian/NAME@VERSION?arch=source&distro=debian-N`, the
//! name Debian's advisories and the image's OpenVEX statements ([`crate::vex`]) use;
//! `pkg:generic/...` for recipes built from any other upstream tarball, since they are no
//! package manager's) and, for a recipe with `cpe = "vendor:product"`, a `SECURITY` `cpe23Type`
//! reference `cpe:2.3:a:VENDOR:PRODUCT:VERSION:*:*:*:*:*:*:*` with the upstream version (SPDX
//! 2.3 annex F.2), which is what Grype matches NVD's CVEs against. Syft reads it as a declared
//! CPE. One purl per package: scanners take one.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::Digest;

use crate::arch::Arch;
use crate::recipe::{Origin, Recipe, Source};
use crate::verify::{GoBuildInfo, GoModule};

pub mod cargo;
mod locate;

pub use crate::debian::copyright::Licences;
pub use cargo::{CRATES_IO, Crate, cargo_purl, crates_io_url, linked_crates, spdx_license};
use locate::{cpe_ref, origin_url, purl_qualifier, purl_ref, purl_segment};
pub use locate::{cpe_value, cpe23, debian_pool_url, go_proxy_url, golang_purl, pypi_file_url};

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
    /// The text of each `LicenseRef-` id the packages name (Debian's licences without an
    /// SPDX id).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub has_extracted_licensing_infos: Vec<ExtractedLicence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractedLicence {
    pub license_id: String,
    pub extracted_text: String,
    pub name: String,
    pub comment: String,
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
    /// The Rust crates linked into the app's binaries (none for other apps; any order,
    /// duplicates ignored).
    pub crates: &'a [Crate],
    /// SOURCE_DATE_EPOCH, the document's `created`.
    pub source_date_epoch: u64,
    /// What Debian's copyright file gives of the licences of the Debian-sourced recipes, by
    /// recipe name (from their cache entries); a recipe not here states its own `license`.
    pub licences: &'a BTreeMap<String, Licences>,
}

/// The documents of one multi-arch image: one per platform layer (the Go build info and the
/// Rust crates of that platform's binaries), and one beside the image listing the union. They
/// are the same bytes unless the Go build info or the crates differ between arches.
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

/// Every document of an image: `go` holds each arch's Go build info and `crates` each arch's
/// Rust crates; an arch in either has its own document.
pub fn image_sbom(
    (app, libraries): (&Recipe, &[Recipe]),
    go: &[(Arch, Vec<GoBuildInfo>)],
    crates: &[(Arch, Vec<Crate>)],
    licences: &BTreeMap<String, Licences>,
    source_date_epoch: u64,
) -> ImageSbom {
    let doc = |go: &[GoBuildInfo], crates: &[Crate]| {
        to_json(&document(&Input {
            app,
            libraries,
            go,
            crates,
            source_date_epoch,
            licences,
        }))
    };
    let mut arches: Vec<Arch> = Vec::new();
    for a in go
        .iter()
        .map(|(a, _)| *a)
        .chain(crates.iter().map(|(a, _)| *a))
    {
        if !arches.contains(&a) {
            arches.push(a);
        }
    }
    let go_of = |a: Arch| -> Vec<GoBuildInfo> {
        go.iter()
            .filter(|(x, _)| *x == a)
            .flat_map(|(_, g)| g.iter().cloned())
            .collect()
    };
    let crates_of = |a: Arch| -> Vec<Crate> {
        crates
            .iter()
            .filter(|(x, _)| *x == a)
            .flat_map(|(_, c)| c.iter().cloned())
            .collect()
    };
    let all_go: Vec<GoBuildInfo> = go.iter().flat_map(|(_, g)| g.iter().cloned()).collect();
    let all_crates: Vec<Crate> = crates.iter().flat_map(|(_, c)| c.iter().cloned()).collect();
    ImageSbom {
        per_arch: arches
            .iter()
            .map(|&a| (a, doc(&go_of(a), &crates_of(a))))
            .collect(),
        combined: doc(&all_go, &all_crates),
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
    let licences = input.licences;
    let mut packages = vec![recipe_package(
        app,
        app_id.clone(),
        "APPLICATION",
        licences.get(&app.name),
    )];
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
        packages.push(recipe_package(
            lib,
            id.clone(),
            "LIBRARY",
            licences.get(lib.name.as_str()),
        ));
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
    let modules = go_modules(app, input.go);
    for ((path, version), (m, main)) in &modules {
        let id = ids.take("Package-go", &format!("{path}-{version}"));
        packages.push(module_package(m, *main, id.clone()));
        relationships.push(rel(&app_id, "CONTAINS", &id));
    }

    // Rust: every crate linked in, each once.
    let crates: BTreeSet<&Crate> = input.crates.iter().collect();
    for c in crates {
        let id = ids.take("Package-crate", &format!("{}-{}", c.name, c.version));
        packages.push(cargo::crate_package(c, id.clone()));
        relationships.push(rel(&app_id, "CONTAINS", &id));
    }

    // DESCRIBES first, then the rest sorted.
    relationships[1..].sort();
    relationships.dedup();

    let mut doc = finish(app, input.source_date_epoch, packages, relationships);
    // Each licence without an SPDX id, once, with the text Debian gives.
    let mut extracted: BTreeMap<&str, ExtractedLicence> = BTreeMap::new();
    for (name, l) in licences {
        let in_doc = name == &app.name || libs.contains_key(name.as_str());
        for r in l.refs.iter().filter(|_| in_doc) {
            extracted
                .entry(r.id.as_str())
                .or_insert_with(|| ExtractedLicence {
                    license_id: r.id.clone(),
                    extracted_text: r.text.clone(),
                    name: r.name.clone(),
                    comment: format!("as Debian's copyright file of {name} names it"),
                });
        }
    }
    doc.has_extracted_licensing_infos = extracted.into_values().collect();
    doc
}

/// The Go modules of the app's binaries, each once (by path and version), with whether it is
/// a main module; the app's own module is left out when the recipe fetched exactly it (it is
/// the app package).
fn go_modules<'a>(
    app: &Recipe,
    go: &'a [GoBuildInfo],
) -> BTreeMap<(String, String), (&'a GoModule, bool)> {
    let app_module = match &app.source {
        Source::Archive { origins, .. } => origins.iter().find_map(|o| match o {
            Origin::GoModule { module, version } => Some((module.as_str(), version.as_str())),
            _ => None,
        }),
        Source::Path(_) => None,
    };
    let mut modules: BTreeMap<(String, String), (&GoModule, bool)> = BTreeMap::new();
    for g in go {
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
    modules
}

/// The document of `app` with these packages and relationships, created at
/// `source_date_epoch`; its namespace ends in a hash of the rest of it.
fn finish(
    app: &Recipe,
    source_date_epoch: u64,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
) -> Document {
    let mut doc = Document {
        spdx_version: "SPDX-2.3".into(),
        data_license: "CC0-1.0".into(),
        spdx_id: "SPDXRef-DOCUMENT".into(),
        name: format!("{}-{}", app.name, app.version),
        document_namespace: String::new(),
        creation_info: CreationInfo {
            created: crate::image::rfc3339(source_date_epoch),
            creators: vec![format!("Tool: recipe-{}", env!("CARGO_PKG_VERSION"))],
        },
        packages,
        relationships,
        has_extracted_licensing_infos: Vec::new(),
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

/// A recipe as a package: where its source comes from, its sha256, its licence: as Debian's
/// copyright file gives it when there is one (declared: that of `Files: *`; concluded: that of
/// every group of files), else the recipe's `license`.
fn recipe_package(r: &Recipe, id: String, purpose: &str, debian: Option<&Licences>) -> Package {
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
            let purl = match (
                r.debian.as_ref().filter(|d| d.is_debians()),
                origins.first(),
            ) {
                // Debian's source package, which Debian's advisories name (and the VEX too);
                // built `unpatched`, it is not Debian's and keeps the generic purl.
                (Some(d), _) => crate::debian::purl(&d.package, &d.version, &d.release),
                (None, Some(Origin::GoModule { module, version })) => golang_purl(module, version),
                (None, Some(Origin::Crate { name, version })) => cargo_purl(name, version),
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
                } => Some(debian_source_info(r, package, version, file)),
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
        license_concluded: debian
            .and_then(Licences::conjunction)
            .unwrap_or_else(|| license(&r.license)),
        license_declared: debian
            .and_then(|l| l.main.clone())
            .unwrap_or_else(|| license(&r.license)),
        copyright_text: NOASSERTION.into(),
        description: r.description.clone(),
        comment: debian.zip(r.debian.as_ref()).map(|(_, d)| {
            format!(
                "licences as Debian's copyright file of {} {} gives them; the recipe says {}",
                d.package,
                d.version,
                license(&r.license)
            )
        }),
        external_refs: r
            .cpe
            .as_ref()
            .and_then(|c| cpe23(&c.vendor, &c.product, &r.version))
            .map(cpe_ref)
            .into_iter()
            .chain([purl_ref(purl)])
            .collect(),
        primary_package_purpose: purpose.into(),
    }
}

/// What a Debian-sourced package was built from: the upstream tarball of the source package,
/// with Debian's patch series applied but the patches the recipe leaves out.
fn debian_source_info(r: &Recipe, package: &str, version: &str, file: &str) -> String {
    let mut s =
        format!("upstream source as Debian source package {package} {version} ships it ({file})");
    match &r.debian {
        Some(d) if d.changes.is_some() => {
            s += ", with Debian's patch series applied";
            if !d.leave_out.is_empty() {
                let names: Vec<&str> = d.leave_out.keys().map(String::as_str).collect();
                s += &format!(" except {} (left out by the recipe)", names.join(", "));
            }
        }
        Some(d) if d.unpatched.is_some() => {
            s += &format!(
                "; Debian's patches are not applied: {}",
                d.unpatched.as_deref().unwrap_or_default()
            )
        }
        Some(_) => s += " (a native package: Debian's changes are in it)",
        None => s += "; Debian's patches are not applied",
    }
    s
}

fn license(l: &str) -> String {
    if l.trim().is_empty() {
        NOASSERTION.into()
    } else {
        l.trim().to_string()
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
            cpe_ref(format!("cpe:2.3:a:golang:go:{bare}:-:*:*:*:*:*:*")),
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
mod tests;
