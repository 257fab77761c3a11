//! Signing keys of the remote build cache, written like Nix's binary-cache keys: `NAME:BASE64`,
//! the secret key's 64 bytes (ed25519 seed, then public key) or the public key's 32 bytes (so
//! a secret given where a public key belongs is refused, not trusted). The name travels with
//! every signature, so a reader looks the signer up among the keys it trusts by name and
//! checks the signature with that key only.
//!
//! The same keys sign pushed images in cosign's format (`crate::sign`); cosign reads the public
//! key as PKIX PEM (`SubjectPublicKeyInfo`, RFC 8410), which [`PublicKey::to_pem`] writes.

use base64::Engine;
use ed25519_dalek::{Signature, Signer, Verifier};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Longest key name.
const MAX_NAME: usize = 64;

#[derive(Debug, thiserror::Error, miette::Diagnostic, PartialEq, Eq)]
pub enum KeyError {
    /// Not one character of the text is kept: a secret key pasted where a public one belongs
    /// (or without its name) must not reach a terminal or a CI log, not even its start.
    #[error("{what} ({chars} characters, not shown) is not `NAME:BASE64`")]
    #[diagnostic(help("{}", form_help(*secret)))]
    Form {
        what: &'static str,
        chars: usize,
        /// It is the base64 of a signing key's 64 bytes.
        secret: bool,
    },
    #[error(
        "key name {} must be 1 to {MAX_NAME} letters, digits, `.`, `_` or `-`",
        shown_name(name)
    )]
    Name { name: String },
    #[error("{what} `{name}`: its key is not {len} bytes of base64")]
    #[diagnostic(help(
        "`recipe key generate` writes NAME.secret (64 bytes: sign with it) and NAME.pub (32 bytes: trust it)"
    ))]
    Bytes {
        what: &'static str,
        name: String,
        len: usize,
    },
    #[error("signing key `{name}`: its public half does not belong to its seed")]
    Halves { name: String },
    #[error("{what} `{name}` is not a valid ed25519 public key")]
    Point { what: &'static str, name: String },
}

fn form_help(secret: bool) -> &'static str {
    if secret {
        "that is the base64 of a signing key: keep it secret, and trust its public key instead \
         (`recipe key public NAME.secret` prints it)"
    } else {
        "a key is one line, as `recipe key generate` writes it"
    }
}

/// A rejected key name as it may be printed: a short one (escaped), never a long run of
/// characters that may be a key's base64.
fn shown_name(name: &str) -> String {
    if name.chars().count() <= MAX_NAME {
        format!("`{}`", crate::text::escape(name))
    } else {
        format!("({} characters, not shown)", name.chars().count())
    }
}

/// Whether `name` can name a key.
pub fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn split<'a, const N: usize>(
    what: &'static str,
    text: &'a str,
) -> Result<(&'a str, [u8; N]), KeyError> {
    let text = text.trim();
    let Some((name, b64)) = text.split_once(':') else {
        return Err(KeyError::Form {
            what,
            chars: text.chars().count(),
            secret: B64.decode(text).is_ok_and(|b| b.len() == 64),
        });
    };
    if !name_ok(name) {
        return Err(KeyError::Name { name: name.into() });
    }
    let bytes = B64
        .decode(b64)
        .ok()
        .and_then(|b| <[u8; N]>::try_from(b).ok())
        .ok_or_else(|| KeyError::Bytes {
            what,
            name: name.into(),
            len: N,
        })?;
    Ok((name, bytes))
}

/// A key the maintainer holds: signs the entries this machine pushes.
pub struct SecretKey {
    pub name: String,
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.name)
    }
}

/// A key a reader trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub name: String,
    key: ed25519_dalek::VerifyingKey,
}

impl SecretKey {
    /// A new key named `name`, from the operating system's random source.
    pub fn generate(name: &str) -> Result<SecretKey, KeyError> {
        if !name_ok(name) {
            return Err(KeyError::Name { name: name.into() });
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the operating system's random source");
        Ok(SecretKey {
            name: name.into(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    pub fn parse(text: &str) -> Result<SecretKey, KeyError> {
        let (name, bytes) = split::<64>("signing key", text)?;
        let key = ed25519_dalek::SigningKey::from_keypair_bytes(&bytes)
            .map_err(|_| KeyError::Halves { name: name.into() })?;
        Ok(SecretKey {
            name: name.into(),
            key,
        })
    }

    /// `NAME:BASE64` of the seed and public key: the secret file's one line.
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.name, B64.encode(self.key.to_keypair_bytes()))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// The signature of `message`, base64.
    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.key.sign(message).to_bytes())
    }
}

impl PublicKey {
    pub fn parse(text: &str) -> Result<PublicKey, KeyError> {
        let (name, bytes) = split::<32>("trusted key", text)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Point {
            what: "trusted key",
            name: name.into(),
        })?;
        Ok(PublicKey {
            name: name.into(),
            key,
        })
    }

    /// The key of a PKIX PEM public key (what [`PublicKey::to_pem`] writes), named `pem`.
    pub fn from_pem(text: &str) -> Result<PublicKey, KeyError> {
        use ed25519_dalek::pkcs8::DecodePublicKey;
        let key = ed25519_dalek::VerifyingKey::from_public_key_pem(text.trim()).map_err(|_| {
            KeyError::Point {
                what: "PEM public key",
                name: "pem".into(),
            }
        })?;
        Ok(PublicKey {
            name: "pem".into(),
            key,
        })
    }

    /// `NAME:BASE64`: what readers are told to trust.
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.name, B64.encode(self.key.to_bytes()))
    }

    /// The key as cosign's `--key` reads it: PKIX PEM (`-----BEGIN PUBLIC KEY-----`, the
    /// RFC 8410 `SubjectPublicKeyInfo` of an ed25519 key), ending in a newline. The name is
    /// not part of it.
    pub fn to_pem(&self) -> String {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
        self.key
            .to_public_key_pem(LineEnding::LF)
            .expect("an ed25519 key always encodes")
    }

    /// Whether `signature` (base64) is this key's over `message` (strict verification: no
    /// malleable or small-order signatures).
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Ok(bytes) = B64.decode(signature.trim()) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&bytes) else {
            return false;
        };
        self.key.verify_strict(message, &sig).is_ok() && self.key.verify(message, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_what_its_public_key_verifies() {
        let k = SecretKey::generate("ci-2026").unwrap();
        let again = SecretKey::parse(&k.to_text()).unwrap();
        assert_eq!(again.public(), k.public());
        let p = PublicKey::parse(&k.public().to_text()).unwrap();
        let sig = k.sign(b"message");
        assert!(p.verifies(b"message", &sig));
        assert!(!p.verifies(b"messagf", &sig));
        let other = SecretKey::generate("ci-2026").unwrap().public();
        assert!(!other.verifies(b"message", &sig));
        assert!(!p.verifies(b"message", "not base64!"));
        assert!(!p.verifies(b"message", "AAAA"));
    }

    #[test]
    fn the_pem_form_is_rfc_8410s_subject_public_key_info() {
        let k = SecretKey::parse(&format!("k:{}", B64.encode([[7u8; 32], [0; 32]].concat())));
        // The seed's public half is not zeros: parse refuses the mismatch.
        assert!(k.is_err());
        let seed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let k = SecretKey::parse(&format!("k:{}", B64.encode(seed.to_keypair_bytes()))).unwrap();
        let pem = k.public().to_pem();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = B64.decode(body).unwrap();
        // SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING { key } }
        let prefix = [
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        assert_eq!(der[..12], prefix);
        assert_eq!(der[12..], seed.verifying_key().to_bytes());
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"), "{pem}");
    }

    #[test]
    fn malformed_keys_are_named() {
        assert!(matches!(
            PublicKey::parse("no-colon"),
            Err(KeyError::Form { .. })
        ));
        assert!(matches!(
            PublicKey::parse("bad name:AAAA"),
            Err(KeyError::Name { .. })
        ));
        assert!(matches!(
            PublicKey::parse("k:AAAA"),
            Err(KeyError::Bytes { .. })
        ));
        let secret = SecretKey::generate("k").unwrap().to_text();
        let e = PublicKey::parse(&format!("{secret}x"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains(&secret[10..]), "{e}");
        // The secret's base64 alone, where a public key belongs: not a character of it is
        // printed, and the help says what it is.
        let b64 = secret.split_once(':').unwrap().1;
        let e = PublicKey::parse(b64).unwrap_err();
        assert_eq!(
            e,
            KeyError::Form {
                what: "trusted key",
                chars: 88,
                secret: true
            }
        );
        assert!(!e.to_string().contains(&b64[..4]), "{e}");
        // A long "name" may be a key too.
        let e = PublicKey::parse(&format!("{b64}x:AAAA"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains(&b64[..8]) && e.contains("89 characters"), "{e}");
        assert!(SecretKey::generate("").is_err());
        // A signing key without its name: not a character of it is printed.
        let seed = secret.split_once(':').unwrap().1;
        let e = SecretKey::parse(seed).unwrap_err().to_string();
        assert!(!e.contains(&seed[..4]), "{e}");
        assert!(name_ok("ci-2026.a_b"));
        assert!(!name_ok(&"a".repeat(65)));
    }
}
