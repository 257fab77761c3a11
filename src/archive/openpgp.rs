//! `InRelease` verification: an OpenPGP cleartext-signed message checked against a keyring of
//! trusted archive keys with rpgp (pure Rust), so no `gpgv` or `sqv` has to be installed. The
//! keyring is Debian's archive keys committed under `keys/debian/` (compiled in), or the keys
//! of `RECIPE_DEBIAN_KEYRING` instead.

use std::path::Path;

use pgp::composed::{CleartextSignedMessage, Deserializable, SignedPublicKey};
use pgp::types::KeyDetails;

/// Debian's archive keys for bookworm and trixie (main and security archives, and the release
/// keys), exported armored from Debian 12's `debian-archive-keyring`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "bookworm-automatic",
        include_str!("../../keys/debian/bookworm-automatic.asc"),
    ),
    (
        "bookworm-security-automatic",
        include_str!("../../keys/debian/bookworm-security-automatic.asc"),
    ),
    (
        "bookworm-stable",
        include_str!("../../keys/debian/bookworm-stable.asc"),
    ),
    (
        "trixie-automatic",
        include_str!("../../keys/debian/trixie-automatic.asc"),
    ),
    (
        "trixie-security-automatic",
        include_str!("../../keys/debian/trixie-security-automatic.asc"),
    ),
    (
        "trixie-stable",
        include_str!("../../keys/debian/trixie-stable.asc"),
    ),
];

/// Most bytes of one key file read from `RECIPE_DEBIAN_KEYRING`.
const MAX_KEY_FILE: u64 = 1 << 20;

/// The keys an `InRelease` must be signed by (one good signature by any of them is enough).
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<SignedPublicKey>,
    /// Where they came from, for messages: `built-in Debian archive keys` or a path.
    pub origin: String,
}

impl Keyring {
    /// The committed Debian archive keys.
    pub fn builtin() -> Keyring {
        let mut keys = Vec::new();
        for (name, text) in BUILTIN {
            match parse(text.as_bytes()) {
                Ok(k) => keys.extend(k),
                Err(e) => panic!("built-in key {name} does not parse: {e}"),
            }
        }
        Keyring {
            keys,
            origin: "the built-in Debian archive keys".into(),
        }
    }

    /// The keys of a file (armored or binary; several keys may follow each other), or of every
    /// `*.asc`, `*.gpg` and `*.pgp` file of a folder.
    pub fn load(path: &Path) -> Result<Keyring, String> {
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            let mut f: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x == "asc" || x == "gpg" || x == "pgp")
                })
                .collect();
            f.sort();
            f
        } else {
            vec![path.to_path_buf()]
        };
        let mut keys = Vec::new();
        for f in &files {
            let (file, _) =
                crate::walk::open_regular(f, true).map_err(|e| format!("{}: {e}", f.display()))?;
            let mut bytes = Vec::new();
            use std::io::Read;
            file.take(MAX_KEY_FILE + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{}: {e}", f.display()))?;
            if bytes.len() as u64 > MAX_KEY_FILE {
                return Err(format!("{}: larger than 1 MiB", f.display()));
            }
            keys.extend(parse(&bytes).map_err(|e| format!("{}: {e}", f.display()))?);
        }
        if keys.is_empty() {
            return Err("no OpenPGP public key in it".into());
        }
        Ok(Keyring {
            keys,
            origin: path.display().to_string(),
        })
    }

    /// The fingerprints of the primary keys, for messages and tests.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| format!("{}", k.fingerprint()))
            .collect()
    }

    /// Checks a cleartext-signed message: at least one of its signatures verifies over the
    /// signed text with a key of the ring (a primary key, or one of its subkeys whose binding
    /// signature verifies). Returns the signed text, dash-unescaped, as it was signed.
    pub fn verify(&self, armored: &str) -> Result<String, String> {
        let (msg, _) = CleartextSignedMessage::from_string(armored)
            .map_err(|e| format!("not an OpenPGP cleartext-signed message: {e}"))?;
        if msg.signatures().is_empty() {
            return Err("it carries no signature".into());
        }
        let signed = msg.signed_text();
        let mut issuers = Vec::new();
        for sig in msg.signatures() {
            for key in &self.keys {
                if sig.verify(key, signed.as_bytes()).is_ok() {
                    return Ok(unescape(msg.text()));
                }
                for sub in &key.public_subkeys {
                    if sig.verify(&sub.key, signed.as_bytes()).is_ok()
                        && sub.verify_bindings(&key.primary_key).is_ok()
                    {
                        return Ok(unescape(msg.text()));
                    }
                }
            }
            issuers.extend(sig.issuer_key_id().iter().map(|id| format!("{id}")));
        }
        Err(format!(
            "no signature verifies with a trusted key (signed by key ids: {})",
            if issuers.is_empty() {
                "none named".to_string()
            } else {
                issuers.join(", ")
            }
        ))
    }
}

fn parse(bytes: &[u8]) -> Result<Vec<SignedPublicKey>, String> {
    let (keys, _) = SignedPublicKey::from_reader_many(bytes).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for k in keys {
        // The primary key is the trust anchor itself; its user ids carry certifications by
        // other keys that are not ours to check. A subkey counts only with a binding signature
        // by it (checked in `verify`).
        out.push(k.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// The cleartext framework's dash escaping undone (`- -line` is `-line`).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(line.strip_prefix("- ").unwrap_or(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_keys_parse() {
        let k = Keyring::builtin();
        assert_eq!(k.fingerprints().len(), 6);
    }

    /// A real `InRelease` (bookworm-security's of 2026-12-04, signed by the bookworm security
    /// key's subkey and by a key not in the ring) verifies against the committed keys; a
    /// changed byte of its signed text does not.
    #[test]
    fn a_real_inrelease_verifies() {
        let text = include_str!("testdata/bookworm-security.InRelease");
        let k = Keyring::builtin();
        let signed = k.verify(text).unwrap();
        assert!(signed.starts_with("Origin: Debian\n"), "{signed:.80}");
        assert!(signed.contains("\nCodename: bookworm-security\n"));
        assert!(!signed.contains("BEGIN PGP"));
        let bad = text.replacen(
            "Codename: bookworm-security",
            "Codename: bookworm-securitz",
            1,
        );
        let e = k.verify(&bad).unwrap_err();
        assert!(
            e.starts_with("no signature verifies with a trusted key"),
            "{e}"
        );
        assert!(
            Keyring {
                keys: Vec::new(),
                origin: String::new()
            }
            .verify(text)
            .is_err()
        );
        assert!(k.verify("Origin: Debian\n").is_err());
    }
}
