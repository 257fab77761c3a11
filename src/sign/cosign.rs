//! Cosign's storage format in a registry, for key-based signatures: what `cosign sign --key`
//! and `cosign attest --key` write (without a transparency log entry), so that
//! `cosign verify --key` and `cosign verify-attestation --key` check what we push.
//!
//! An image (manifest or index) with digest `sha256:HEX` in repository `R` gets:
//! - signatures: an OCI image manifest tagged `sha256-HEX.sig` in `R`, one layer per signature,
//!   of media type [`SIMPLE_SIGNING`]: the layer's bytes are the "simple signing" payload
//!   ([`simple_signing`]: the repository and the digest), its annotation [`SIGNATURE`] the
//!   base64 ed25519 signature of those bytes;
//! - attestations: the same under `sha256-HEX.att`, one layer per attestation, of media type
//!   [`DSSE_ENVELOPE`]: a DSSE envelope ([`super::dsse`]) of an in-toto statement, annotated
//!   with its [`PREDICATE_TYPE`] (and an empty [`SIGNATURE`]: the signature is inside).
//!
//! The manifest's config is the one cosign's image library writes for such an image (empty
//! architecture and OS, the zero time, one empty history entry and one diff id per layer);
//! cosign reads neither config nor history. Pure: no clock (cosign records no creation time
//! unless asked), no randomness, so the same inputs give the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::dsse;
use crate::digest::sha256;
use crate::remote::SecretKey;

/// The layer media type of a signature's payload.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer media type of an attestation.
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The layer annotation holding a signature (base64).
pub const SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// The layer annotation naming an attestation's predicate type.
pub const PREDICATE_TYPE: &str = "predicateType";
/// The simple signing payload's `type`.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The zero time as cosign's image library writes it.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// What is stored beside an image: its signatures, or its attestations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Signatures,
    Attestations,
}

/// The tag cosign keeps `kind` of the image `digest` (`sha256:HEX`) under: `sha256-HEX.sig`
/// or `sha256-HEX.att`.
pub fn tag(digest: &str, kind: Kind) -> String {
    let suffix = match kind {
        Kind::Signatures => "sig",
        Kind::Attestations => "att",
    };
    format!("{}.{suffix}", digest.replacen(':', "-", 1))
}

/// One layer of a signature or attestation manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

/// A manifest to push under a tag, with the blobs (config and layers) it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub tag: String,
    /// The manifest's bytes (an OCI image manifest).
    pub manifest: Vec<u8>,
    /// `(digest, bytes)` of the config, then of each layer.
    pub blobs: Vec<(String, Vec<u8>)>,
}

#[derive(Serialize)]
struct SimpleSigning<'a> {
    critical: Critical<'a>,
    optional: Option<()>,
}

#[derive(Serialize)]
struct Critical<'a> {
    identity: Identity<'a>,
    image: Image<'a>,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct Identity<'a> {
    #[serde(rename = "docker-reference")]
    docker_reference: &'a str,
}

#[derive(Serialize)]
struct Image<'a> {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: &'a str,
}

/// The simple signing payload cosign signs for the image `digest` in `repository`
/// (`registry/repository`, no tag).
pub fn simple_signing(repository: &str, digest: &str) -> Vec<u8> {
    let p = SimpleSigning {
        critical: Critical {
            identity: Identity {
                docker_reference: repository,
            },
            image: Image {
                docker_manifest_digest: digest,
            },
            kind: SIGNATURE_TYPE,
        },
        optional: None,
    };
    serde_json::to_vec(&p).expect("a payload always serializes")
}

/// The signature layer of the image `digest` in `repository`, signed with `key`.
pub fn signature_layer(repository: &str, digest: &str, key: &SecretKey) -> Layer {
    let bytes = simple_signing(repository, digest);
    let signature = key.sign(&bytes);
    Layer {
        media_type: SIMPLE_SIGNING,
        bytes,
        annotations: BTreeMap::from([(SIGNATURE.to_string(), signature)]),
    }
}

/// The attestation layer stating `predicate` (of `predicate_type`) of the image `digest` in
/// `repository`, signed with `key`.
pub fn attestation_layer(
    repository: &str,
    digest: &str,
    predicate_type: &str,
    predicate: &Value,
    key: &SecretKey,
) -> Layer {
    let statement = dsse::statement(repository, digest, predicate_type, predicate);
    Layer {
        media_type: DSSE_ENVELOPE,
        bytes: dsse::envelope(&statement, key),
        annotations: BTreeMap::from([
            (SIGNATURE.to_string(), String::new()),
            (PREDICATE_TYPE.to_string(), predicate_type.to_string()),
        ]),
    }
}

#[derive(Serialize)]
struct Config<'a> {
    architecture: &'a str,
    created: &'a str,
    history: Vec<History<'a>>,
    os: &'a str,
    rootfs: RootFs<'a>,
    config: serde_json::Map<String, Value>,
}

#[derive(Serialize)]
struct History<'a> {
    created: &'a str,
}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    diff_ids: Vec<&'a str>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    config: Descriptor<'a>,
    layers: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
struct Descriptor<'a> {
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    size: usize,
    digest: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<&'a BTreeMap<String, String>>,
}

/// The manifest of `layers` (signatures or attestations), to push as `tag`.
pub fn artifact(tag: String, layers: &[Layer]) -> Artifact {
    let digests: Vec<String> = layers.iter().map(|l| sha256(&l.bytes)).collect();
    let config = Config {
        architecture: "",
        created: ZERO_TIME,
        history: layers
            .iter()
            .map(|_| History { created: ZERO_TIME })
            .collect(),
        os: "",
        rootfs: RootFs {
            kind: "layers",
            diff_ids: digests.iter().map(String::as_str).collect(),
        },
        config: serde_json::Map::new(),
    };
    let config = serde_json::to_vec(&config).expect("a config always serializes");
    let config_digest = sha256(&config);
    let manifest = Manifest {
        schema_version: 2,
        media_type: OCI_MANIFEST,
        config: Descriptor {
            media_type: OCI_CONFIG,
            size: config.len(),
            digest: &config_digest,
            annotations: None,
        },
        layers: layers
            .iter()
            .zip(&digests)
            .map(|(l, d)| Descriptor {
                media_type: l.media_type,
                size: l.bytes.len(),
                digest: d,
                annotations: Some(&l.annotations),
            })
            .collect(),
    };
    let manifest = serde_json::to_vec(&manifest).expect("a manifest always serializes");
    let mut blobs = vec![(config_digest, config)];
    blobs.extend(
        digests
            .into_iter()
            .zip(layers.iter().map(|l| l.bytes.clone())),
    );
    Artifact {
        tag,
        manifest,
        blobs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::PublicKey;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn tags_are_cosigns() {
        assert_eq!(
            tag(DIGEST, Kind::Signatures),
            "sha256-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.sig"
        );
        assert!(tag(DIGEST, Kind::Attestations).ends_with("abcdef.att"));
    }

    #[test]
    fn the_payload_is_cosigns_simple_signing_form() {
        let p = simple_signing("127.0.0.1:5000/team/app", DIGEST);
        assert_eq!(
            String::from_utf8(p).unwrap(),
            format!(
                "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"127.0.0.1:5000/team/app\"}},\
                 \"image\":{{\"docker-manifest-digest\":\"{DIGEST}\"}},\
                 \"type\":\"cosign container image signature\"}},\"optional\":null}}"
            )
        );
    }

    #[test]
    fn a_signature_manifest_holds_the_payload_and_its_signature() {
        let k = SecretKey::generate("k").unwrap();
        let layer = signature_layer("r/app", DIGEST, &k);
        let a = artifact(tag(DIGEST, Kind::Signatures), std::slice::from_ref(&layer));
        assert_eq!(
            a,
            artifact(a.tag.clone(), std::slice::from_ref(&layer)),
            "deterministic"
        );
        let m: Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(m["schemaVersion"], 2);
        assert_eq!(m["mediaType"], OCI_MANIFEST);
        assert_eq!(m["config"]["mediaType"], OCI_CONFIG);
        assert_eq!(m["config"]["digest"], a.blobs[0].0.as_str());
        assert_eq!(m["config"]["size"], a.blobs[0].1.len());
        let l = &m["layers"][0];
        assert_eq!(l["mediaType"], SIMPLE_SIGNING);
        assert_eq!(l["digest"], sha256(&layer.bytes).as_str());
        assert_eq!(a.blobs[1].1, layer.bytes);
        let sig = l["annotations"][SIGNATURE].as_str().unwrap();
        let public = PublicKey::parse(&k.public().to_text()).unwrap();
        assert!(public.verifies(&layer.bytes, sig));
        let c: Value = serde_json::from_slice(&a.blobs[0].1).unwrap();
        assert_eq!(c["rootfs"]["diff_ids"][0], l["digest"]);
        assert_eq!(c["history"].as_array().unwrap().len(), 1);
        assert_eq!(
            String::from_utf8(a.blobs[0].1.clone()).unwrap(),
            format!(
                "{{\"architecture\":\"\",\"created\":\"{ZERO_TIME}\",\"history\":[{{\"created\":\"{ZERO_TIME}\"}}],\
                 \"os\":\"\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}},\"config\":{{}}}}",
                l["digest"]
            )
        );
    }

    #[test]
    fn an_attestation_layer_is_annotated_with_its_predicate_type() {
        let k = SecretKey::generate("k").unwrap();
        let p = serde_json::json!({"a": 1});
        let l = attestation_layer("r/app", DIGEST, "https://spdx.dev/Document", &p, &k);
        assert_eq!(l.media_type, DSSE_ENVELOPE);
        assert_eq!(l.annotations[PREDICATE_TYPE], "https://spdx.dev/Document");
        assert_eq!(l.annotations[SIGNATURE], "");
        let e: Value = serde_json::from_slice(&l.bytes).unwrap();
        assert_eq!(e["payloadType"], dsse::PAYLOAD_TYPE);
    }
}
