//! A cache entry as an OCI 1.1 artifact (pure): the manifest `recipe` pushes under the tag of
//! its key, and the checks a reader makes of one before it fetches a byte of its content.
//!
//! The manifest has its own `artifactType`, the empty config, and three layers: the installed
//! tree (tar+gzip), the entry's `meta.json` and its gzipped build log. Its annotations carry
//! the key, the signer's key name and an ed25519 signature over [`message`]: the key and each
//! layer's media type, digest and size. Readers need no referrers API: a tag per key.

use std::collections::HashMap;

use oci_spec::image::{Descriptor, ImageManifest, ImageManifestBuilder, MediaType};

use super::keys::{PublicKey, SecretKey};

pub const ARTIFACT_TYPE: &str = "application/vnd.recipe.cache.entry.v1";
/// `{}`, the empty config's bytes, and their digest.
pub const EMPTY_BYTES: &[u8] = b"{}";
pub const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
pub const TREE: &str = "application/vnd.recipe.cache.tree.v1.tar+gzip";
pub const META: &str = "application/vnd.recipe.cache.meta.v1+json";
pub const LOG: &str = "application/vnd.recipe.cache.log.v1+gzip";
/// The layers in the order they are signed and pushed.
pub const LAYERS: [&str; 3] = [TREE, META, LOG];

pub const KEY: &str = "org.recipe.cache.key";
pub const RECIPE: &str = "org.recipe.cache.recipe";
pub const ARCH: &str = "org.recipe.cache.arch";
pub const SIGNER: &str = "org.recipe.cache.signer";
pub const SIGNATURE: &str = "org.recipe.cache.signature";

/// Largest `meta.json` layer read (a Qt-sized tree lists tens of thousands of files).
pub const MAX_META: u64 = 64 << 20;
/// Largest build-log layer read.
pub const MAX_LOG: u64 = 256 << 20;

/// The descriptor of a layer of `media_type` (one of [`LAYERS`]) whose bytes hash to
/// `sha256:HEX`.
pub fn layer(media_type: &str, hex: &str, size: u64) -> Descriptor {
    Descriptor::new(
        MediaType::from(media_type),
        size,
        crate::image::digest(&format!("sha256:{hex}")),
    )
}

/// What a signature covers: the key asked for and every layer, in order.
pub fn message(key: &str, layers: &[Descriptor]) -> Vec<u8> {
    let mut m = format!("recipe cache entry v1\nkey {key}\n");
    for l in layers {
        m.push_str(&format!(
            "layer {} {} {}\n",
            l.media_type(),
            l.digest(),
            l.size()
        ));
    }
    m.into_bytes()
}

/// The manifest of the entry of `key` (of `recipe` for `arch`) whose layers are `layers`
/// (tree, meta, log), signed by `signer`: canonical JSON, so the same entry always has the
/// same manifest digest.
pub fn manifest(
    key: &str,
    recipe: &str,
    arch: &str,
    layers: [Descriptor; 3],
    signer: &SecretKey,
) -> Vec<u8> {
    let signature = signer.sign(&message(key, &layers));
    let annotations = HashMap::from([
        (KEY.to_string(), key.to_string()),
        (RECIPE.to_string(), recipe.to_string()),
        (ARCH.to_string(), arch.to_string()),
        (SIGNER.to_string(), signer.name.clone()),
        (SIGNATURE.to_string(), signature),
    ]);
    let mut config = Descriptor::new(
        MediaType::EmptyJSON,
        EMPTY_BYTES.len() as u64,
        crate::image::digest(EMPTY_DIGEST),
    );
    config.set_data(Some("e30=".into()));
    let m = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .artifact_type(MediaType::from(ARTIFACT_TYPE))
        .config(config)
        .layers(layers.to_vec())
        .annotations(annotations)
        .build()
        .expect("every required field is set");
    crate::image::to_canonical(&m)
}

/// The layers of a manifest that a reader may fetch: tree, meta, log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub tree: Descriptor,
    pub meta: Descriptor,
    pub log: Descriptor,
    /// The name of the key that signed it.
    pub signer: String,
}

/// Checks the manifest found under the tag of `key`: an entry of ours, for that key, signed by
/// one of `trusted`, its signature over that key and these layers. `Err` says why it must not
/// be used, for a warning.
pub fn check(key: &str, bytes: &[u8], trusted: &[PublicKey]) -> Result<Checked, String> {
    let m: ImageManifest = serde_json::from_slice(bytes)
        .map_err(|e| format!("its manifest is not a valid OCI manifest ({e})"))?;
    if m.schema_version() != 2
        || m.media_type()
            .as_ref()
            .is_some_and(|t| *t != MediaType::ImageManifest)
    {
        return Err("its manifest is not an OCI image manifest".into());
    }
    let artifact_type = m.artifact_type().as_ref().map(|t| t.to_string());
    if artifact_type.as_deref() != Some(ARTIFACT_TYPE) {
        return Err(format!(
            "it is not a recipe cache entry (artifactType `{}`)",
            crate::text::escape(artifact_type.as_deref().unwrap_or("none"))
        ));
    }
    let annotations = m.annotations().clone().unwrap_or_default();
    let named = annotations.get(KEY).map(String::as_str).unwrap_or("");
    if named != key {
        return Err(format!(
            "the tag points at the entry of another key ({})",
            crate::text::escape(&named.chars().take(12).collect::<String>())
        ));
    }
    let (Some(signer), Some(signature)) = (annotations.get(SIGNER), annotations.get(SIGNATURE))
    else {
        return Err("it is not signed".into());
    };
    // Two trusted keys may share a name (a key made again instead of rotated): any may verify.
    let named: Vec<&PublicKey> = trusted.iter().filter(|k| &k.name == signer).collect();
    if named.is_empty() {
        return Err(format!(
            "it is signed by `{}`, a key not trusted here",
            crate::text::escape(&signer.chars().take(64).collect::<String>())
        ));
    }
    let signed = message(key, m.layers());
    if !named.iter().any(|k| k.verifies(&signed, signature)) {
        return Err(format!(
            "its signature by `{signer}` does not verify: the entry was changed after it was signed"
        ));
    }
    // Signed by a trusted key from here on; still, nothing malformed is fetched.
    let kinds: Vec<String> = m
        .layers()
        .iter()
        .map(|l| l.media_type().to_string())
        .collect();
    if kinds != LAYERS {
        return Err("its layers are not a tree, a meta.json and a build log".into());
    }
    for l in m.layers() {
        if !crate::registry::digest_ok(l.digest().as_ref()) {
            return Err(format!(
                "a layer's digest `{}` is not a sha256 digest",
                crate::text::escape(l.digest().as_ref())
            ));
        }
    }
    let [tree, meta, log]: [Descriptor; 3] = m.layers().clone().try_into().expect("three layers");
    for (d, cap, what) in [(&meta, MAX_META, "meta.json"), (&log, MAX_LOG, "build log")] {
        if d.size() > cap {
            return Err(format!(
                "its {what} layer is {} bytes, above {cap}",
                d.size()
            ));
        }
    }
    Ok(Checked {
        tree,
        meta,
        log,
        signer: signer.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(kind: &str, n: u8) -> Descriptor {
        super::layer(kind, &hex::encode([n; 32]), n as u64 * 10)
    }

    fn layers() -> [Descriptor; 3] {
        [layer(TREE, 1), layer(META, 2), layer(LOG, 3)]
    }

    const KEY_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const KEY_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn an_entry_signed_by_a_trusted_key_is_accepted() {
        let k = SecretKey::generate("ci").unwrap();
        let m = manifest(KEY_A, "zlib", "arm64", layers(), &k);
        let c = check(KEY_A, &m, &[k.public()]).unwrap();
        assert_eq!(c.tree, layers()[0]);
        assert_eq!(c.signer, "ci");
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(v["artifactType"], ARTIFACT_TYPE);
        assert_eq!(
            v["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        assert_eq!(
            crate::registry::sha256(EMPTY_BYTES),
            EMPTY_DIGEST,
            "the empty config's digest"
        );
    }

    #[test]
    fn every_other_entry_is_refused_with_its_reason() {
        let k = SecretKey::generate("ci").unwrap();
        let stranger = SecretKey::generate("ci").unwrap();
        let other_name = SecretKey::generate("mallory").unwrap();
        let trusted = [k.public()];
        let m = manifest(KEY_A, "zlib", "arm64", layers(), &k);
        // Another key's entry under this key's tag.
        assert!(
            check(KEY_B, &m, &trusted)
                .unwrap_err()
                .contains("another key")
        );
        // Same name, other key; another name.
        let forged = manifest(KEY_A, "zlib", "arm64", layers(), &stranger);
        assert!(
            check(KEY_A, &forged, &trusted)
                .unwrap_err()
                .contains("does not verify")
        );
        let untrusted = manifest(KEY_A, "zlib", "arm64", layers(), &other_name);
        assert!(
            check(KEY_A, &untrusted, &trusted)
                .unwrap_err()
                .contains("not trusted")
        );
        // A layer swapped after signing.
        let mut v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        v["layers"][0]["digest"] = format!("sha256:{}", hex::encode([9u8; 32])).into();
        let changed = serde_json::to_vec(&v).unwrap();
        assert!(
            check(KEY_A, &changed, &trusted)
                .unwrap_err()
                .contains("does not verify")
        );
        // The key annotation rewritten to match: the signature is over the other key.
        let mut v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        v["annotations"][KEY] = KEY_B.into();
        let moved = serde_json::to_vec(&v).unwrap();
        assert!(
            check(KEY_B, &moved, &trusted)
                .unwrap_err()
                .contains("does not verify")
        );
        // Unsigned.
        let mut v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        v["annotations"].as_object_mut().unwrap().remove(SIGNATURE);
        let unsigned = serde_json::to_vec(&v).unwrap();
        assert_eq!(
            check(KEY_A, &unsigned, &trusted).unwrap_err(),
            "it is not signed"
        );
        // Not ours, not JSON.
        let mut v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        v["artifactType"] = "application/vnd.other".into();
        assert!(
            check(KEY_A, &serde_json::to_vec(&v).unwrap(), &trusted)
                .unwrap_err()
                .contains("not a recipe cache entry")
        );
        assert!(
            check(KEY_A, b"<html>", &trusted)
                .unwrap_err()
                .contains("not a valid")
        );
    }

    #[test]
    fn any_trusted_key_of_the_signers_name_may_verify() {
        let old = SecretKey::generate("ci").unwrap();
        let new = SecretKey::generate("ci").unwrap();
        let m = manifest(KEY_A, "zlib", "arm64", layers(), &new);
        assert!(check(KEY_A, &m, &[old.public(), new.public()]).is_ok());
        assert!(check(KEY_A, &m, &[old.public()]).is_err());
    }

    #[test]
    fn a_signed_entry_with_odd_layers_is_still_refused() {
        let k = SecretKey::generate("ci").unwrap();
        let mut big = layers();
        big[1].set_size(MAX_META + 1);
        let m = manifest(KEY_A, "zlib", "arm64", big, &k);
        assert!(
            check(KEY_A, &m, &[k.public()])
                .unwrap_err()
                .contains("above")
        );
        let mut bad = layers();
        bad[0].set_digest(format!("sha512:{}", "a".repeat(128)).parse().unwrap());
        let m = manifest(KEY_A, "zlib", "arm64", bad, &k);
        assert!(
            check(KEY_A, &m, &[k.public()])
                .unwrap_err()
                .contains("not a sha256")
        );
        // A digest that is no digest at all is refused before anything else.
        let mut v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        v["layers"][0]["digest"] = "sha256:../../etc".into();
        assert!(
            check(KEY_A, &serde_json::to_vec(&v).unwrap(), &[k.public()])
                .unwrap_err()
                .contains("not a valid OCI manifest")
        );
    }
}
