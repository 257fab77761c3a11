//! Signing pushed images in cosign's format (`recipe push --signing-key`): a signature of the
//! image index and of each platform manifest, and signed attestations (in-toto statements in
//! DSSE envelopes) of the index, stored as cosign stores them ([`cosign`]), so that
//! `cosign verify --key` and `cosign verify-attestation --key` check them with the public key
//! `recipe key public --pem` prints.
//!
//! What is attested: any `(predicateType, predicate)` given as an [`Attestation`]; `recipe
//! push` gives the SPDX SBOM, the SLSA provenance ([`provenance`]) and the OpenVEX document that
//! `recipe build` wrote beside the image ([`beside_image`]). The attestations of one image go as the layers of its one `.att`
//! manifest, in the order given.
//!
//! Pure except [`beside_image`]: [`artifacts`] turns digests, a key and attestations into the
//! manifests and blobs to push, the same bytes every time (ed25519 is deterministic, nothing
//! records a time). Pushing them is `crate::push`'s: after the image's manifests, before its
//! tag. A signature or attestation manifest replaces what the tag held before (cosign would
//! append a layer to it): what `recipe push` signs is exactly one signature per image.

pub mod cosign;
pub mod dsse;
pub mod provenance;
pub mod verify;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use cosign::{Artifact, Kind};

use crate::remote::SecretKey;

/// The predicate type of an SPDX document (what `cosign verify-attestation --type spdxjson`
/// looks for).
pub const SPDX: &str = "https://spdx.dev/Document";
/// The predicate type of an OpenVEX document (what `--type openvex` looks for: the namespace,
/// without the version).
pub const OPENVEX: &str = "https://openvex.dev/ns";

/// The most bytes of an SBOM or VEX document read: the largest SBOM of the catalogue is a few
/// hundred KiB.
const MAX_DOCUMENT: u64 = 64 << 20;

/// A predicate to state of an image, signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    /// A URI: [`SPDX`], [`OPENVEX`], SLSA provenance's.
    pub predicate_type: String,
    pub predicate: Value,
}

/// What to sign and attest on a push.
#[derive(Debug)]
pub struct Signing {
    pub key: SecretKey,
    /// Stated of the pushed image index, in this order.
    pub attestations: Vec<Attestation>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SignError {
    #[error("cannot attest {}: {reason}", crate::text::path(path))]
    #[diagnostic(help("build the image again: `recipe build NAME` writes it beside the image"))]
    Document { path: PathBuf, reason: String },
    #[error("cannot use the public key {}: {reason}", crate::text::path(path))]
    #[diagnostic(help(
        "give the PEM that `recipe key public --pem NAME.secret` prints, or `recipe key`'s NAME.pub"
    ))]
    Key { path: PathBuf, reason: String },
    /// The image's signatures or attestations do not hold.
    #[error("{reference}: {reason}")]
    #[diagnostic(help(
        "the image was not signed with this key, or what was signed changed: do not run it"
    ))]
    Refused { reference: String, reason: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Registry(Box<crate::registry::RegistryError>),
}

/// What to push to sign the image `top` (the digest the tag names: an index, or a single
/// manifest) and its platform manifests `platforms` in `repository` (`registry/repository`),
/// and to attest `attestations` of `top`: the `.sig` manifest of each (top first), then `top`'s
/// `.att` manifest when there are attestations.
pub fn artifacts(
    repository: &str,
    top: &str,
    platforms: &[String],
    signing: &Signing,
) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = std::iter::once(top)
        .chain(platforms.iter().map(String::as_str))
        .map(|digest| {
            let layer = cosign::signature_layer(repository, digest, &signing.key);
            cosign::artifact(cosign::tag(digest, Kind::Signatures), &[layer])
        })
        .collect();
    if !signing.attestations.is_empty() {
        let layers: Vec<cosign::Layer> = signing
            .attestations
            .iter()
            .map(|a| {
                cosign::attestation_layer(
                    repository,
                    top,
                    &a.predicate_type,
                    &a.predicate,
                    &signing.key,
                )
            })
            .collect();
        out.push(cosign::artifact(
            cosign::tag(top, Kind::Attestations),
            &layers,
        ));
    }
    out
}

/// The documents `recipe build` wrote beside the image in `dir` (`OUT/NAME`), as attestations,
/// in this order: the SPDX SBOM (`*.spdx.json`), the SLSA provenance (`*.provenance.json`) and,
/// when there is one, the OpenVEX document (`*.openvex.json`). Dot-named files (unfinished
/// writes) are not read; two documents of one kind, or one that is not JSON, are an error.
pub fn beside_image(dir: &Path) -> Result<Vec<Attestation>, SignError> {
    let err = |path: &Path, reason: String| SignError::Document {
        path: path.to_path_buf(),
        reason,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| err(dir, e.to_string()))?;
    let (mut sbom, mut vex, mut slsa) = (Vec::new(), Vec::new(), Vec::new());
    for e in entries {
        let path = e.map_err(|e| err(dir, e.to_string()))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if name.ends_with(".spdx.json") {
            sbom.push(path);
        } else if name.ends_with(".openvex.json") {
            vex.push(path);
        } else if name.ends_with(".provenance.json") {
            slsa.push(path);
        }
    }
    let mut out = Vec::new();
    for (mut found, predicate_type) in [
        (sbom, SPDX),
        (slsa, provenance::PREDICATE_TYPE),
        (vex, OPENVEX),
    ] {
        found.sort();
        if found.len() > 1 {
            return Err(err(
                dir,
                format!(
                    "it holds {} documents of type {predicate_type}",
                    found.len()
                ),
            ));
        }
        if let Some(path) = found.pop() {
            let bytes = crate::walk::read_capped(&path, MAX_DOCUMENT)
                .map_err(|e| err(&path, e.to_string()))?;
            let predicate: Value =
                serde_json::from_slice(&bytes).map_err(|e| err(&path, format!("not JSON: {e}")))?;
            out.push(Attestation {
                predicate_type: predicate_type.to_string(),
                predicate,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn the_index_and_each_platform_are_signed_and_the_index_attested() {
        let signing = Signing {
            key: SecretKey::generate("k").unwrap(),
            attestations: vec![
                Attestation {
                    predicate_type: SPDX.into(),
                    predicate: serde_json::json!({"spdxVersion": "SPDX-2.3"}),
                },
                Attestation {
                    predicate_type: OPENVEX.into(),
                    predicate: serde_json::json!({"@context": "https://openvex.dev/ns/v0.2.0"}),
                },
            ],
        };
        let platforms = [digest('b'), digest('c')];
        let a = artifacts("r/app", &digest('a'), &platforms, &signing);
        let tags: Vec<&str> = a.iter().map(|a| a.tag.as_str()).collect();
        assert_eq!(
            tags,
            [
                format!("sha256-{}.sig", "a".repeat(64)),
                format!("sha256-{}.sig", "b".repeat(64)),
                format!("sha256-{}.sig", "c".repeat(64)),
                format!("sha256-{}.att", "a".repeat(64)),
            ]
        );
        let att: Value = serde_json::from_slice(&a[3].manifest).unwrap();
        let types: Vec<&str> = att["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["annotations"]["predicateType"].as_str().unwrap())
            .collect();
        assert_eq!(types, [SPDX, OPENVEX]);
        // Signing again gives the same bytes.
        assert_eq!(a, artifacts("r/app", &digest('a'), &platforms, &signing));
        let none = Signing {
            attestations: Vec::new(),
            ..signing
        };
        assert_eq!(artifacts("r/app", &digest('a'), &[], &none).len(), 1);
    }

    #[test]
    fn the_documents_beside_the_image_are_found_by_their_names() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(beside_image(t.path()).unwrap(), Vec::new());
        std::fs::write(
            t.path().join("app-1.0.spdx.json"),
            r#"{"spdxVersion":"SPDX-2.3"}"#,
        )
        .unwrap();
        std::fs::write(t.path().join(".app-1.0.spdx.json.42"), "partial").unwrap();
        let a = beside_image(t.path()).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].predicate_type, SPDX);
        assert_eq!(a[0].predicate["spdxVersion"], "SPDX-2.3");
        std::fs::write(t.path().join("app-1.0.openvex.json"), "{\"x\":").unwrap();
        let e = beside_image(t.path()).unwrap_err().to_string();
        assert!(
            e.contains("app-1.0.openvex.json") && e.contains("not JSON"),
            "{e}"
        );
        std::fs::write(t.path().join("app-1.0.openvex.json"), "{}").unwrap();
        let types: Vec<String> = beside_image(t.path())
            .unwrap()
            .into_iter()
            .map(|a| a.predicate_type)
            .collect();
        assert_eq!(types, [SPDX, OPENVEX]);
        std::fs::write(t.path().join("app-1.0.provenance.json"), "{}").unwrap();
        let types: Vec<String> = beside_image(t.path())
            .unwrap()
            .into_iter()
            .map(|a| a.predicate_type)
            .collect();
        assert_eq!(types, [SPDX, provenance::PREDICATE_TYPE, OPENVEX]);
        std::fs::write(t.path().join("app-2.0.spdx.json"), "{}").unwrap();
        let e = beside_image(t.path()).unwrap_err().to_string();
        assert!(e.contains("2 documents"), "{e}");
    }
}
