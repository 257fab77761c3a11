//! The one TLS trust setting of every HTTP client (`ureq` agents: downloads, registries, the
//! remote cache): the machine's CA bundle, as curl, cargo, go and pip use it, so that a
//! machine whose HTTPS goes through an inspecting proxy with its own root (as many company
//! networks, and this project's CI, do) works the same for `recipe`. The bundle is the file
//! `SSL_CERT_FILE` names, else Debian's (and Alpine's, Arch's) `/etc/ssl/certs/ca-certificates.crt`,
//! else Fedora's; with none readable, the Mozilla roots compiled into the client.
//!
//! Trust is not what pins a download: every source, toolchain and crate is checked against its
//! sha256 whichever server gave it.

use std::sync::{Arc, OnceLock};

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// Where bundles are looked for when `SSL_CERT_FILE` names none.
const BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// The largest bundle read (Debian's is about 220 KB).
const MAX_BUNDLE: u64 = 16 << 20;

/// The TLS configuration every agent is built with.
pub fn config() -> TlsConfig {
    TlsConfig::builder().root_certs(roots().clone()).build()
}

fn roots() -> &'static RootCerts {
    static ROOTS: OnceLock<RootCerts> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let named = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
        named
            .into_iter()
            .chain(BUNDLES.iter().map(std::path::PathBuf::from))
            .find_map(|p| {
                let bytes = crate::walk::read_capped(&p, MAX_BUNDLE).ok()?;
                let certs = certificates(&bytes);
                (!certs.is_empty()).then(|| RootCerts::Specific(Arc::new(certs)))
            })
            .unwrap_or(RootCerts::WebPki)
    })
}

/// The certificates of a PEM bundle (other items and unreadable ones skipped).
fn certificates(pem: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_gives_its_certificates_and_nothing_else() {
        assert!(certificates(b"not pem at all").is_empty());
        // The machine's own bundle, when it has one, parses to many roots.
        if let Ok(bytes) = std::fs::read(BUNDLES[0]) {
            assert!(certificates(&bytes).len() > 50);
        }
    }
}
