//! Checking what [`super::cosign`] stores, without cosign (`recipe check REF --key PUB`): the
//! image's signature and each platform manifest's, and the attestations of the image, read from
//! its registry and checked against one public key (PKIX PEM, as cosign reads it, or `recipe
//! key`'s `NAME:BASE64`).
//!
//! What passes: for the image (index or manifest) at digest `D` and for each platform manifest
//! of an index, the `sha256-HEX.sig` manifest holds a simple signing layer whose payload names
//! `D` as its `docker-manifest-digest` and whose annotation is the key's signature of that
//! payload. Each layer of `D`'s `sha256-HEX.att` manifest is a DSSE envelope the key signed (over
//! DSSE's pre-authentication encoding), holding an in-toto statement whose subject is `D` and
//! whose predicate type is the layer's annotation. A missing signature, a signature of another
//! key or of other bytes, a payload naming another digest and an attestation that does not hold
//! are refusals, each with its reason; no `.att` manifest means no attestations, which is said,
//! not refused. The repository a payload names is not compared: a copied image keeps its
//! signatures.
//!
//! The checks ([`signature`], [`attestation`]) are pure; [`reference`] fetches (every manifest
//! and blob bounded: [`MAX_LAYER`], the registry client's manifest cap and timeouts).

use std::path::PathBuf;

use base64::Engine;
use serde_json::Value;

use super::cosign::{self, DSSE_ENVELOPE, Kind, PREDICATE_TYPE, SIGNATURE, SIMPLE_SIGNING};
use super::{Attestation, SignError, dsse};
use crate::registry::{Client, Failure, Options, Reference, sha256};
use crate::remote::PublicKey;

/// The largest signature or attestation layer read (an attestation holds a whole SBOM).
pub const MAX_LAYER: u64 = 64 << 20;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// What checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The digest the reference names (an index, or a single manifest).
    pub digest: String,
    /// Images whose signature holds: the top one and each platform manifest.
    pub signed: usize,
    /// The attestations of the top image, in their manifest's order.
    pub attestations: Vec<Attestation>,
}

/// A public key file: PKIX PEM (`-----BEGIN PUBLIC KEY-----`, what `recipe key public --pem`
/// prints and cosign reads) or `recipe key`'s `NAME:BASE64` line.
pub fn read_key(path: &std::path::Path) -> Result<PublicKey, SignError> {
    let err = |reason: String| SignError::Key {
        path: path.to_path_buf(),
        reason,
    };
    let text = crate::walk::read_capped(path, 64 << 10).map_err(|e| err(e.to_string()))?;
    let text = String::from_utf8(text).map_err(|_| err("it is not text".into()))?;
    if text.trim_start().starts_with("-----BEGIN") {
        PublicKey::from_pem(&text).map_err(|e| err(e.to_string()))
    } else {
        PublicKey::parse(text.trim()).map_err(|e| err(e.to_string()))
    }
}

/// Checks the signature layer `(payload, its signature annotation)` of the image `digest`.
pub fn signature(
    payload: &[u8],
    signature: Option<&str>,
    digest: &str,
    key: &PublicKey,
) -> Result<(), String> {
    let sig = signature.ok_or("the layer has no signature annotation")?;
    if !key.verifies(payload, sig) {
        return Err("the signature is not this key's signature of its payload".into());
    }
    let v: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    let critical = &v["critical"];
    if critical["type"] != cosign::SIGNATURE_TYPE {
        return Err(format!(
            "the payload's type is {}, not `{}`",
            critical["type"],
            cosign::SIGNATURE_TYPE
        ));
    }
    match critical["image"]["docker-manifest-digest"].as_str() {
        Some(d) if d == digest => Ok(()),
        other => Err(format!(
            "the payload signs {}, not {digest}",
            other.unwrap_or("no digest")
        )),
    }
}

/// Checks the DSSE envelope of an attestation of the image `digest` annotated as of
/// `predicate_type`, and returns its predicate.
pub fn attestation(
    envelope: &[u8],
    predicate_type: Option<&str>,
    digest: &str,
    key: &PublicKey,
) -> Result<Attestation, String> {
    let e: Value =
        serde_json::from_slice(envelope).map_err(|e| format!("the envelope is not JSON: {e}"))?;
    if e["payloadType"] != dsse::PAYLOAD_TYPE {
        return Err(format!(
            "the envelope's payload type is {}, not `{}`",
            e["payloadType"],
            dsse::PAYLOAD_TYPE
        ));
    }
    let payload = e["payload"]
        .as_str()
        .and_then(|p| B64.decode(p).ok())
        .ok_or("the envelope's payload is not base64")?;
    let pae = dsse::pae(dsse::PAYLOAD_TYPE, &payload);
    let signed = e["signatures"].as_array().is_some_and(|sigs| {
        sigs.iter()
            .filter_map(|s| s["sig"].as_str())
            .any(|s| key.verifies(&pae, s))
    });
    if !signed {
        return Err("no signature of the envelope is this key's".into());
    }
    let s: Value =
        serde_json::from_slice(&payload).map_err(|e| format!("the statement is not JSON: {e}"))?;
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    let about = s["subject"]
        .as_array()
        .is_some_and(|subs| subs.iter().any(|x| x["digest"]["sha256"] == hex));
    if !about {
        return Err(format!("the statement is not about {digest}"));
    }
    let stated = s["predicateType"].as_str().unwrap_or_default();
    if predicate_type.is_some_and(|t| t != stated) {
        return Err(format!(
            "the statement's predicate type `{stated}` is not the layer's `{}`",
            predicate_type.unwrap_or_default()
        ));
    }
    Ok(Attestation {
        predicate_type: stated.to_string(),
        predicate: s["predicate"].clone(),
    })
}

/// One layer of a signature or attestation manifest, as the manifest describes it.
struct LayerRef {
    media_type: String,
    digest: String,
    size: u64,
    annotations: serde_json::Map<String, Value>,
}

fn layers(manifest: &[u8]) -> Result<Vec<LayerRef>, String> {
    let v: Value =
        serde_json::from_slice(manifest).map_err(|e| format!("the manifest is not JSON: {e}"))?;
    let layers = v["layers"].as_array().ok_or("the manifest has no layers")?;
    layers
        .iter()
        .map(|l| {
            Ok(LayerRef {
                media_type: l["mediaType"].as_str().unwrap_or_default().to_string(),
                digest: l["digest"]
                    .as_str()
                    .ok_or("a layer has no digest")?
                    .to_string(),
                size: l["size"].as_u64().ok_or("a layer has no size")?,
                annotations: l["annotations"].as_object().cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// The registry side: manifests by tag, layers into memory (bounded).
struct Fetch {
    client: Client,
    shown: String,
    dir: tempfile::TempDir,
}

impl Fetch {
    fn refused(&self, reason: String) -> SignError {
        SignError::Refused {
            reference: self.shown.clone(),
            reason,
        }
    }

    fn registry(&self, what: &str, f: Failure) -> SignError {
        SignError::Registry(Box::new(self.client.error(what.to_string(), f)))
    }

    /// The manifest under `tag`, None when the registry has none.
    fn manifest(&self, tag: &str, accept: &str) -> Result<Option<Vec<u8>>, SignError> {
        match self.client.get_manifest(tag, accept) {
            Ok((_, bytes)) => Ok(Some(bytes)),
            Err(Failure::Status { status: 404, .. }) => Ok(None),
            Err(f) => Err(self.registry(&format!("get the manifest `{tag}`"), f)),
        }
    }

    fn layer(&self, l: &LayerRef) -> Result<Vec<u8>, SignError> {
        if l.size > MAX_LAYER {
            return Err(self.refused(format!(
                "layer {} is {} bytes, more than the {MAX_LAYER} read",
                l.digest, l.size
            )));
        }
        let to: PathBuf = self.dir.path().join("layer");
        self.client
            .get_blob(&l.digest, l.size, &to)
            .map_err(|f| self.registry(&format!("get blob {}", l.digest), f))?;
        std::fs::read(&to).map_err(|e| self.refused(format!("cannot read {}: {e}", l.digest)))
    }

    /// Checks the signatures of the image `digest`: one layer that holds is enough.
    fn signed(&self, digest: &str, key: &PublicKey) -> Result<(), SignError> {
        let tag = cosign::tag(digest, Kind::Signatures);
        let manifest = self
            .manifest(&tag, OCI_MANIFEST)?
            .ok_or_else(|| self.refused(format!("{digest} has no signature (no tag `{tag}`)")))?;
        let layers = layers(&manifest).map_err(|r| self.refused(format!("tag `{tag}`: {r}")))?;
        let mut why = Vec::new();
        for l in layers.iter().filter(|l| l.media_type == SIMPLE_SIGNING) {
            let payload = self.layer(l)?;
            let sig = l.annotations.get(SIGNATURE).and_then(Value::as_str);
            match signature(&payload, sig, digest, key) {
                Ok(()) => return Ok(()),
                Err(r) => why.push(r),
            }
        }
        Err(self.refused(match why.first() {
            None => format!("tag `{tag}` holds no signature layer"),
            Some(first) => format!("no signature of {digest} holds (tag `{tag}`): {first}"),
        }))
    }

    /// Checks every attestation of the image `digest`; none when it has no `.att` tag.
    fn attested(&self, digest: &str, key: &PublicKey) -> Result<Vec<Attestation>, SignError> {
        let tag = cosign::tag(digest, Kind::Attestations);
        let Some(manifest) = self.manifest(&tag, OCI_MANIFEST)? else {
            return Ok(Vec::new());
        };
        let layers = layers(&manifest).map_err(|r| self.refused(format!("tag `{tag}`: {r}")))?;
        let mut out = Vec::new();
        for l in layers.iter().filter(|l| l.media_type == DSSE_ENVELOPE) {
            let envelope = self.layer(l)?;
            let declared = l.annotations.get(PREDICATE_TYPE).and_then(Value::as_str);
            let a = attestation(&envelope, declared, digest, key).map_err(|r| {
                self.refused(format!("the attestation {} (tag `{tag}`): {r}", l.digest))
            })?;
            out.push(a);
        }
        Ok(out)
    }
}

/// Checks the signatures of the image `reference` names (and of each platform manifest of an
/// index) and its attestations, against `key`.
pub fn reference(
    reference: &Reference,
    key: &PublicKey,
    opts: &Options,
) -> Result<Verified, SignError> {
    let fetch = Fetch {
        client: Client::new(&reference.registry, &reference.repository, opts),
        shown: reference.to_string(),
        dir: tempfile::tempdir().map_err(|e| SignError::Refused {
            reference: reference.to_string(),
            reason: format!("no temporary folder: {e}"),
        })?,
    };
    let wanted = reference
        .digest
        .clone()
        .or_else(|| reference.tag.clone())
        .unwrap_or_else(|| "latest".into());
    let top = fetch
        .manifest(&wanted, crate::check::registry::ACCEPT)?
        .ok_or_else(|| fetch.refused(format!("the registry has no image `{wanted}`")))?;
    let digest = sha256(&top);
    let v: Value = serde_json::from_slice(&top)
        .map_err(|e| fetch.refused(format!("the image's manifest is not JSON: {e}")))?;
    let platforms: Vec<String> = v["manifests"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter_map(|m| m["digest"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    fetch.signed(&digest, key)?;
    for p in &platforms {
        fetch.signed(p, key)?;
    }
    Ok(Verified {
        attestations: fetch.attested(&digest, key)?,
        signed: platforms.len() + 1,
        digest,
    })
}

/// What an SLSA provenance predicate says, a line each: the builder, the recipe and its arches,
/// the build type, then each resolved dependency (`name digest`), sources and patches first.
pub fn provenance_lines(p: &Value) -> Vec<String> {
    let def = &p["buildDefinition"];
    let ext = &def["externalParameters"];
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let arches: Vec<String> = ext["arches"]
        .as_array()
        .map(|a| a.iter().map(text).collect())
        .unwrap_or_default();
    let mut out = vec![
        format!(
            "recipe {} {} for {} (build type {})",
            text(&ext["recipe"]),
            text(&ext["version"]),
            arches.join(", "),
            text(&def["buildType"])
        ),
        format!("built by {}", text(&p["runDetails"]["builder"]["id"])),
    ];
    let deps = def["resolvedDependencies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rank = |name: &str| match name.split('/').next() {
        Some("source") => 0,
        Some("debian") => 1,
        Some("patch") => 2,
        _ => 3,
    };
    let mut named: Vec<(u8, String, String)> = deps
        .iter()
        .map(|d| {
            let name = text(&d["name"]);
            let digest = d["digest"]
                .as_object()
                .and_then(|m| m.iter().next())
                .map(|(alg, hex)| format!("{alg}:{}", hex.as_str().unwrap_or("?")))
                .unwrap_or_default();
            (rank(&name), name, digest)
        })
        .collect();
    named.sort();
    out.push(format!("{} materials:", named.len()));
    out.extend(named.into_iter().map(|(_, n, d)| format!("  {n}  {d}")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::SecretKey;

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn a_signature_holds_only_for_its_key_its_bytes_and_its_digest() {
        let k = SecretKey::generate("k").unwrap();
        let public = k.public();
        let other = SecretKey::generate("o").unwrap().public();
        let layer = cosign::signature_layer("r/app", &digest('a'), &k);
        let sig = layer.annotations.get(SIGNATURE).map(String::as_str);
        assert_eq!(signature(&layer.bytes, sig, &digest('a'), &public), Ok(()));
        let e = signature(&layer.bytes, sig, &digest('a'), &other).unwrap_err();
        assert!(e.contains("not this key's"), "{e}");
        let e = signature(&layer.bytes, sig, &digest('b'), &public).unwrap_err();
        assert!(e.contains(&format!("signs {}", digest('a'))), "{e}");
        let mut changed = layer.bytes.clone();
        changed[5] ^= 1;
        assert!(signature(&changed, sig, &digest('a'), &public).is_err());
        assert!(signature(&layer.bytes, None, &digest('a'), &public).is_err());
    }

    #[test]
    fn an_attestation_holds_only_signed_about_its_image_and_of_its_type() {
        let k = SecretKey::generate("k").unwrap();
        let public = k.public();
        let predicate = serde_json::json!({"spdxVersion": "SPDX-2.3"});
        let layer =
            cosign::attestation_layer("r/app", &digest('a'), super::super::SPDX, &predicate, &k);
        let a = attestation(
            &layer.bytes,
            Some(super::super::SPDX),
            &digest('a'),
            &public,
        )
        .unwrap();
        assert_eq!(a.predicate, predicate);
        assert_eq!(a.predicate_type, super::super::SPDX);
        let other = SecretKey::generate("o").unwrap().public();
        assert!(
            attestation(&layer.bytes, None, &digest('a'), &other)
                .unwrap_err()
                .contains("this key's")
        );
        assert!(
            attestation(&layer.bytes, None, &digest('b'), &public)
                .unwrap_err()
                .contains("not about")
        );
        assert!(
            attestation(
                &layer.bytes,
                Some("https://slsa.dev/provenance/v1"),
                &digest('a'),
                &public
            )
            .unwrap_err()
            .contains("predicate type")
        );
        // The statement changed under its signature.
        let mut e: Value = serde_json::from_slice(&layer.bytes).unwrap();
        let mut s: Value =
            serde_json::from_slice(&B64.decode(e["payload"].as_str().unwrap()).unwrap()).unwrap();
        s["predicate"]["spdxVersion"] = "SPDX-9".into();
        e["payload"] = B64.encode(serde_json::to_vec(&s).unwrap()).into();
        let changed = serde_json::to_vec(&e).unwrap();
        assert!(attestation(&changed, None, &digest('a'), &public).is_err());
    }

    #[test]
    fn the_provenance_is_told_sources_first() {
        let p = serde_json::json!({
            "buildDefinition": {
                "buildType": "urn:recipe:build-type:image:v1",
                "externalParameters": {"recipe": "app", "version": "1.0", "arches": ["amd64", "arm64"]},
                "resolvedDependencies": [
                    {"name": "entry/app/amd64", "digest": {"recipeKey": "k1"}},
                    {"name": "source/app", "digest": {"sha256": "s1"}},
                    {"name": "patch/app/fix.patch", "digest": {"sha256": "p1"}},
                ],
            },
            "runDetails": {"builder": {"id": "https://ci.example/wf"}},
        });
        assert_eq!(
            provenance_lines(&p),
            [
                "recipe app 1.0 for amd64, arm64 (build type urn:recipe:build-type:image:v1)",
                "built by https://ci.example/wf",
                "3 materials:",
                "  source/app  sha256:s1",
                "  patch/app/fix.patch  sha256:p1",
                "  entry/app/amd64  recipeKey:k1",
            ]
        );
    }
}
