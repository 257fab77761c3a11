//! Image references (`registry/repository[:tag][@digest]`) as the distribution spec names them,
//! with Docker's defaults: no registry means `docker.io`, a one-part name there means
//! `library/NAME`.

use std::fmt;
use std::str::FromStr;

/// The registry of references that name none.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Where `docker.io`'s API answers.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The distribution spec's limit on a repository name.
const MAX_NAME: usize = 255;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `127.0.0.1:5000`, `ghcr.io`, `docker.io`: as written (or the default).
    pub registry: String,
    /// `team/app`, `library/redis`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// The host (and port) the registry's API answers on.
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }
}

/// The host (and port) a registry's API answers on (`docker.io` answers elsewhere).
pub fn api_host(registry: &str) -> &str {
    if registry == DEFAULT_REGISTRY {
        DOCKER_HUB_API
    } else {
        registry
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Why a reference is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReferenceError(String);

fn component_ok(c: &str) -> bool {
    // [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

fn tag_ok(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

fn host_ok(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) if !h.starts_with('[') || host.ends_with(']') => (host, Some(port)),
        _ => (h, None),
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        !v6.is_empty() && v6.bytes().all(|x| x.is_ascii_hexdigit() || x == b':')
    } else {
        !host.is_empty()
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|x| x.is_ascii_alphanumeric() || x == b'-'))
    };
    host_ok
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|x| x.is_ascii_digit()))
}

/// True for `sha256:` and 64 lowercase hex digits.
pub fn digest_ok(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Reference, ReferenceError> {
        let bad = |m: &str| Err(ReferenceError(m.to_string()));
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                if !digest_ok(d) {
                    return bad("a digest is `sha256:` and 64 lowercase hex digits");
                }
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path)
            }
            _ => (DEFAULT_REGISTRY.to_string(), rest),
        };
        if !host_ok(&registry) {
            return bad("the registry is not a host name with an optional port");
        }
        let (name, tag) = match path.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_string())),
            _ => (path, None),
        };
        if let Some(t) = &tag
            && !tag_ok(t)
        {
            return bad("a tag is up to 128 letters, digits, `_`, `.` and `-`");
        }
        if name.is_empty() || !name.split('/').all(component_ok) {
            return bad(
                "a repository is lowercase letters and digits, parts joined by `.`, `_`, `-` and `/`",
            );
        }
        let repository = if registry == DEFAULT_REGISTRY && !name.contains('/') {
            format!("library/{name}")
        } else {
            name.to_string()
        };
        if repository.len() > MAX_NAME {
            return bad("the repository name is longer than 255 characters");
        }
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_usual_forms() {
        let x = r("127.0.0.1:5000/team/app:1.0");
        assert_eq!(
            (x.registry.as_str(), x.repository.as_str(), x.tag.as_deref()),
            ("127.0.0.1:5000", "team/app", Some("1.0"))
        );
        assert_eq!(x.to_string(), "127.0.0.1:5000/team/app:1.0");
        let x = r("redis");
        assert_eq!(
            (x.registry.as_str(), x.repository.as_str()),
            ("docker.io", "library/redis")
        );
        assert_eq!(x.api_host(), "registry-1.docker.io");
        let x = r("localhost/a_b/c-d");
        assert_eq!(
            (x.registry.as_str(), x.repository.as_str(), x.tag),
            ("localhost", "a_b/c-d", None)
        );
        let x = r(&format!("ghcr.io/o/app@sha256:{}", "a".repeat(64)));
        assert_eq!(x.digest.as_deref().map(str::len), Some(71));
        assert_eq!(r("[::1]:5000/app").registry, "[::1]:5000");
    }

    #[test]
    fn refuses_what_is_not_a_reference() {
        for s in [
            "UPPER/Case",
            "host:5000/App",
            "host:5000/app:",
            "host:5000/app:-x",
            "host:5000//app",
            "host:5000/app/",
            "host:5000/a..b",
            "host:5000/app@sha256:00",
            "ho st:5000/app",
            "host:50a/app",
            "",
        ] {
            assert!(s.parse::<Reference>().is_err(), "{s}");
        }
        assert!(component_ok("a__b") && component_ok("a---b") && !component_ok("a___b"));
    }
}
