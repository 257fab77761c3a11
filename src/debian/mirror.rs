//! Where Debian's archives are: a mirror's base URL, under which `debian/` (the main archive)
//! and `debian-security/` (the security archive) live, and the URLs of a suite's index files
//! and of a source package's files in each archive's pool. Pure.

use super::index::pool_path;
use super::suites::{Archive, Suite};

/// The mirror used when none is configured.
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org";

/// A mirror's base URL, without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    base: String,
}

impl Default for Mirror {
    fn default() -> Self {
        Mirror {
            base: DEFAULT_MIRROR.into(),
        }
    }
}

impl Mirror {
    /// An `http://` or `https://` base URL with a host, without query, fragment, whitespace or
    /// control characters; `None` otherwise.
    pub fn parse(base: &str) -> Option<Mirror> {
        let base = base.trim().trim_end_matches('/');
        let lower = base.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"))?;
        let ok = !rest.is_empty()
            && !rest.starts_with('/')
            && !base
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#');
        ok.then(|| Mirror { base: base.into() })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `BASE/debian/dists/SUITE/PATH` (or `debian-security` for a security suite).
    pub fn dists_url(&self, suite: &Suite, path: &str) -> String {
        format!(
            "{}/{}/dists/{}/{path}",
            self.base,
            suite.archive().folder(),
            suite.name
        )
    }

    /// Where `file` of source package `package` is in `archive`'s pool:
    /// `BASE/debian/pool/main/c/curl/FILE`, `BASE/debian-security/pool/updates/main/...`.
    /// The file name is percent-encoded where a URL needs it (`+` stays, as Debian's mirrors
    /// serve it).
    pub fn pool_url(&self, archive: Archive, package: &str, file: &str) -> String {
        let path: String = pool_path(package, file)
            .chars()
            .map(|c| match c {
                'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '-' | '_' | '~' | '+' | '/' => {
                    c.to_string()
                }
                c => {
                    let mut b = [0u8; 4];
                    c.encode_utf8(&mut b)
                        .bytes()
                        .map(|x| format!("%{x:02X}"))
                        .collect()
                }
            })
            .collect();
        format!(
            "{}/{}/{}/{path}",
            self.base,
            archive.folder(),
            archive.pool()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let m = Mirror::parse("http://127.0.0.1:8080/mirror/").unwrap();
        assert_eq!(m.base(), "http://127.0.0.1:8080/mirror");
        let s = Suite::parse("bookworm-security").unwrap();
        assert_eq!(
            m.dists_url(&s, "InRelease"),
            "http://127.0.0.1:8080/mirror/debian-security/dists/bookworm-security/InRelease"
        );
        let d = Mirror::default();
        assert_eq!(
            d.pool_url(
                Archive::Main,
                "curl",
                "curl_7.88.1-10+deb12u15.debian.tar.xz"
            ),
            "http://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1-10+deb12u15.debian.tar.xz"
        );
        assert_eq!(
            d.pool_url(
                Archive::Security,
                "redis",
                "redis_7.0.15-1~deb12u10.debian.tar.xz"
            ),
            "http://deb.debian.org/debian-security/pool/updates/main/r/redis/redis_7.0.15-1~deb12u10.debian.tar.xz"
        );
        assert!(Mirror::parse("ftp://x").is_none());
        assert!(Mirror::parse("http://").is_none());
        assert!(Mirror::parse("http://x y").is_none());
    }
}
