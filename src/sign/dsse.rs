//! In-toto statements (v1) about an image, signed in DSSE envelopes: the attestations cosign
//! attaches (`cosign attest`) and checks (`cosign verify-attestation`).
//!
//! Pure: bytes in, bytes out, no clock. The statement's one subject is the image, named by its
//! repository (`registry/repository`, as cosign names it) with the sha256 of its manifest or
//! index; the envelope's one signature is ed25519 over DSSE's pre-authentication encoding
//! ([`pae`]) of the statement, with an empty `keyid` (cosign writes none for a key file and
//! matches any). ed25519 is deterministic, so the same statement and key give the same bytes.

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use crate::remote::SecretKey;

/// The envelope's `payloadType`: an in-toto statement (cosign refuses any other).
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The statement's `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "_type")]
    kind: &'a str,
    subject: [Subject<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: &'a Value,
}

#[derive(Serialize)]
struct Subject<'a> {
    name: &'a str,
    digest: Sha256<'a>,
}

#[derive(Serialize)]
struct Sha256<'a> {
    sha256: &'a str,
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "payloadType")]
    payload_type: &'a str,
    payload: String,
    signatures: [EnvelopeSignature; 1],
}

#[derive(Serialize)]
struct EnvelopeSignature {
    keyid: String,
    sig: String,
}

/// The statement that `predicate` (of `predicate_type`) holds for the image `name` (its
/// repository) at `digest` (`sha256:HEX`).
pub fn statement(name: &str, digest: &str, predicate_type: &str, predicate: &Value) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    let s = Statement {
        kind: STATEMENT_TYPE,
        subject: [Subject {
            name,
            digest: Sha256 { sha256: hex },
        }],
        predicate_type,
        predicate,
    };
    serde_json::to_vec(&s).expect("a statement always serializes")
}

/// DSSE's pre-authentication encoding: `DSSEv1 LEN(type) type LEN(body) body`, lengths in
/// ASCII decimal, single spaces between. What is signed, so the type cannot be swapped.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The DSSE envelope (JSON) of `payload`, an in-toto statement, signed with `key`.
pub fn envelope(payload: &[u8], key: &SecretKey) -> Vec<u8> {
    let e = Envelope {
        payload_type: PAYLOAD_TYPE,
        payload: B64.encode(payload),
        signatures: [EnvelopeSignature {
            keyid: String::new(),
            sig: key.sign(&pae(PAYLOAD_TYPE, payload)),
        }],
    };
    serde_json::to_vec(&e).expect("an envelope always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::PublicKey;

    fn key() -> SecretKey {
        SecretKey::generate("test").unwrap()
    }

    #[test]
    fn pae_is_dsse_v1s_encoding() {
        // The specification's example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn a_statement_names_the_image_and_its_predicate() {
        let p = serde_json::json!({"spdxVersion": "SPDX-2.3"});
        let digest = format!("sha256:{}", "ab".repeat(32));
        let s = statement(
            "127.0.0.1:5000/app",
            &digest,
            "https://spdx.dev/Document",
            &p,
        );
        let v: Value = serde_json::from_slice(&s).unwrap();
        assert_eq!(v["_type"], STATEMENT_TYPE);
        assert_eq!(v["subject"][0]["name"], "127.0.0.1:5000/app");
        assert_eq!(v["subject"][0]["digest"]["sha256"], "ab".repeat(32));
        assert_eq!(v["predicateType"], "https://spdx.dev/Document");
        assert_eq!(v["predicate"], p);
    }

    #[test]
    fn the_envelope_is_signed_over_the_pae_and_deterministic() {
        let k = key();
        let payload = b"{\"_type\":\"x\"}";
        let e = envelope(payload, &k);
        assert_eq!(e, envelope(payload, &k));
        let v: Value = serde_json::from_slice(&e).unwrap();
        assert_eq!(v["payloadType"], PAYLOAD_TYPE);
        assert_eq!(B64.decode(v["payload"].as_str().unwrap()).unwrap(), payload);
        assert_eq!(v["signatures"][0]["keyid"], "");
        let sig = v["signatures"][0]["sig"].as_str().unwrap();
        let public = PublicKey::parse(&k.public().to_text()).unwrap();
        assert!(public.verifies(&pae(PAYLOAD_TYPE, payload), sig));
        assert!(!public.verifies(payload, sig));
    }
}
