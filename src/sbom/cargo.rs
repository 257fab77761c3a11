//! The Rust crates compiled into a cargo build's binaries, as the SBOM lists them.

use std::collections::BTreeMap;

/// One crate linked into an app's binaries.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Crate {
    pub name: String,
    pub version: String,
    /// The sha256 of its `.crate`, from `Cargo.lock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Its licence as its manifest gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// The registry crates of `metadata` (already resolved for one target and feature set).
pub fn linked_crates(
    metadata: &cargo_metadata::Metadata,
    lock_checksums: &BTreeMap<(String, String), String>,
    _bins: &[String],
) -> Vec<Crate> {
    let mut out: Vec<Crate> = metadata
        .packages
        .iter()
        .filter(|p| p.source.is_some())
        .map(|p| {
            let version = p.version.to_string();
            Crate {
                checksum: lock_checksums
                    .get(&(p.name.to_string(), version.clone()))
                    .cloned(),
                name: p.name.to_string(),
                version,
                license: p.license.clone(),
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
