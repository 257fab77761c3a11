//! OpenVEX 0.2.0 documents: the CVEs that the Debian patch series built into an image fixes,
//! each stated `fixed`, so that a scanner matching the SBOM's upstream versions (CPE) or Debian
//! purls against its advisories stops reporting them.
//!
//! Pure: [`components`] and [`document`] turn the build records of an image's components
//! ([`crate::debian::Applied`], kept in each cache entry's `meta.json`) into bytes, with no
//! clock, no randomness and no file access. The same input gives the same bytes: statements are
//! sorted by CVE id, products and subcomponents by purl, `timestamp` is SOURCE_DATE_EPOCH, and
//! the document's `@id` is derived from the hash of the rest of the document.
//!
//! What is stated: for every Debian-sourced component (the app and the libraries it links, the
//! SBOM's closure), every CVE id of [`crate::debian::Applied::fixed`] (named by its
//! `debian/changelog` or by a patch applied), `status: fixed`, with a `status_notes` saying how
//! it is known. Never a CVE that a patch the recipe left out names (`not_fixed`), and, for a
//! component built once per arch, only what every arch's build records (the intersection).
//! No other status is ever written: nothing here claims `not_affected`.
//!
//! How products are named. Beside the image (`NAME-VERSION.openvex.json`, [`Scope::Image`]):
//! the image, `pkg:oci/NAME@sha256%3A<index digest>` (the purl spec's `oci` type: the name is
//! the last part of the repository, the version the digest; no `repository_url`, `tag` or
//! `arch` qualifier, since the image is pushed anywhere and the index covers every arch; a
//! qualifier a scanner's purl carries and ours lacks still matches), with each component's
//! `pkg:deb/...` purl as a subcomponent. Grype matches a product against the image's
//! repo digests (as `pkg:oci/NAME@sha256:...?repository_url=...`, and the bare digest) and the
//! subcomponent against the purl of the package it matched; Trivy walks from the vulnerable
//! package up to the image's root component, whose purl is `pkg:oci/NAME@sha256:...` with its
//! repo digest. Both need the image's digest as a registry reports it: a scan of the pushed
//! image by name or digest.
//!
//! Inside the image (`/var/lib/db/sbom/NAME.openvex.json`, next to the SBOM, [`Scope::Components`]):
//! a file cannot name the digest of the image that contains it (the digest hashes the file), and
//! a placeholder would match nothing. So the copy inside names each component's own purl as
//! the product, with no subcomponent. Both scanners match that form too: Grype, when no
//! image-level product matches, tries the matched package's purl as the product (its
//! package-as-product pass), and Trivy tries the vulnerable component itself as a product
//! before walking up to the image. The claim stays as narrow: a Debian source package at an
//! exact version (and release), which is what the patches were applied to.
//!
//! An image none of whose components carries a Debian record, or whose records fix nothing,
//! gets no document at all (not an empty one): an empty VEX changes no scan, and its presence
//! would read as if something had been checked.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::Digest;

use crate::debian::Applied;

#[cfg(test)]
mod tests;

/// The JSON-LD context of OpenVEX 0.2.0.
pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// The file name beside the image: `NAME-VERSION.openvex.json`.
pub fn file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.openvex.json")
}

/// Where the document lies in an image: next to the SBOM ([`crate::sbom::image_path`]).
pub fn image_path(name: &str) -> String {
    format!("/var/lib/db/sbom/{name}.openvex.json")
}

/// `pkg:oci/NAME@sha256%3AHEX`: an image by the digest of its index.
pub fn oci_purl(name: &str, index_digest: &str) -> String {
    format!(
        "pkg:oci/{}@{}",
        crate::text::percent_encode(&name.to_ascii_lowercase(), crate::text::UNRESERVED),
        crate::text::percent_encode(index_digest, crate::text::UNRESERVED)
    )
}

/// One Debian-sourced component of an image, as every build of it recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// `pkg:deb/debian/NAME@VERSION?arch=source&distro=debian-N`.
    pub purl: String,
    pub package: String,
    pub version: String,
    /// CVE id -> how the build knows it is fixed.
    pub fixed: BTreeMap<String, String>,
}

/// The components of an image from its entries' records (one per recipe and arch, any order):
/// one per purl. A CVE is fixed for a component only when every record of it says so, and
/// never when any record's left-out patch names it.
pub fn components(records: &[Applied]) -> Vec<Component> {
    let mut by_purl: BTreeMap<String, Vec<&Applied>> = BTreeMap::new();
    for r in records {
        by_purl.entry(r.purl()).or_default().push(r);
    }
    by_purl
        .into_iter()
        .map(|(purl, group)| {
            let first = group[0];
            let left_out: BTreeSet<String> = group.iter().flat_map(|a| a.not_fixed()).collect();
            let mut fixed = first.fixed();
            for a in &group[1..] {
                let other = a.fixed();
                fixed.retain(|c| other.contains(c));
            }
            let fixed = fixed
                .into_iter()
                .filter(|c| !left_out.contains(c))
                .map(|c| {
                    let how = evidence(first, &c);
                    (c, how)
                })
                .collect();
            Component {
                purl,
                package: first.package.clone(),
                version: first.version.clone(),
                fixed,
            }
        })
        .collect()
}

/// How `record` knows `cve` is fixed: the applied patches that name it, else the changelog.
fn evidence(record: &Applied, cve: &str) -> String {
    let patches: Vec<&str> = record
        .patches
        .iter()
        .filter(|p| p.cves.iter().any(|c| c == cve))
        .map(|p| p.name.as_str())
        .collect();
    if patches.is_empty() {
        "fixed according to debian/changelog".to_string()
    } else {
        format!("Debian's patch {} applied", patches.join(", "))
    }
}

/// Whom a document's statements are about (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The image by its index digest, each component a subcomponent: the copy beside it.
    Image {
        name: &'a str,
        index_digest: &'a str,
    },
    /// Each component by its own purl: the copy inside the image.
    Components,
}

/// An OpenVEX 0.2.0 document, as its JSON schema names the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    #[serde(rename = "@context")]
    pub context: String,
    #[serde(rename = "@id")]
    pub id: String,
    pub author: String,
    pub role: String,
    pub timestamp: String,
    pub version: u32,
    pub tooling: String,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub vulnerability: Vulnerability,
    pub products: Vec<Product>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vulnerability {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subcomponents: Vec<Subcomponent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subcomponent {
    #[serde(rename = "@id")]
    pub id: String,
}

/// The one status this module states: a fix built in. (`not_affected` needs an analysis
/// nobody made here; `affected` and `under_investigation` would be news to no scanner.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fixed,
}

/// The document of image `name` `version` about `components`, or None when it would state
/// nothing. Pure and deterministic.
pub fn document(
    name: &str,
    version: &str,
    components: &[Component],
    scope: Scope<'_>,
    source_date_epoch: u64,
) -> Option<Document> {
    // CVE id -> the components that fix it (sorted by purl: `components` gives them so).
    let mut by_cve: BTreeMap<&str, Vec<&Component>> = BTreeMap::new();
    for c in components {
        for cve in c.fixed.keys() {
            by_cve.entry(cve).or_default().push(c);
        }
    }
    let statements: Vec<Statement> = by_cve
        .into_iter()
        .map(|(cve, mut fixers)| {
            fixers.sort_by(|a, b| a.purl.cmp(&b.purl));
            fixers.dedup_by(|a, b| a.purl == b.purl);
            statement(cve, &fixers, scope)
        })
        .collect();
    if statements.is_empty() {
        return None;
    }
    let mut doc = Document {
        context: CONTEXT.into(),
        id: String::new(),
        author: "recipe".into(),
        role: format!("builder of the {name} {version} image from Debian's source packages"),
        timestamp: crate::image::rfc3339(source_date_epoch),
        version: 1,
        tooling: format!("recipe-{}", env!("CARGO_PKG_VERSION")),
        statements,
    };
    let hash = hex::encode(sha2::Sha256::digest(to_json(&doc)));
    doc.id = format!("https://openvex.dev/docs/public/vex-{hash}");
    Some(doc)
}

fn statement(cve: &str, fixers: &[&Component], scope: Scope<'_>) -> Statement {
    let products = match scope {
        Scope::Image { name, index_digest } => vec![Product {
            id: oci_purl(name, index_digest),
            subcomponents: fixers
                .iter()
                .map(|c| Subcomponent { id: c.purl.clone() })
                .collect(),
        }],
        Scope::Components => fixers
            .iter()
            .map(|c| Product {
                id: c.purl.clone(),
                subcomponents: Vec::new(),
            })
            .collect(),
    };
    let notes: Vec<String> = fixers
        .iter()
        .map(|c| format!("{} {}: {}", c.package, c.version, c.fixed[cve]))
        .collect();
    Statement {
        vulnerability: Vulnerability { name: cve.into() },
        products,
        status: Status::Fixed,
        status_notes: Some(notes.join("; ")),
    }
}

/// The document as pretty JSON with a final newline.
pub fn to_json(doc: &Document) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(doc).expect("an OpenVEX document serialises");
    v.push(b'\n');
    v
}
