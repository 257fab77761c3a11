//! A small blocking client for OCI registries (the distribution API over `ureq`) that trusts
//! no answer: every request has connect and read timeouts, error bodies are read up to
//! [`MAX_ERROR_BODY`] and printed escaped and shortened, no redirect is followed (except by a
//! blob GET, to where the registry stores its bytes: at most [`MAX_BLOB_REDIRECTS`], https
//! only unless `insecure`, without our credentials, the bytes checked against the digest), a blob
//! is present only when the registry itself answers `200` for that digest, and every digest a
//! registry returns is compared with ours.
//!
//! Authentication: anonymous, HTTP basic (`REGISTRY_AUTH=user:password`), and the bearer-token
//! flow (`WWW-Authenticate: Bearer realm=..,service=..,scope=..` answered by a token from the
//! realm), chosen by the registry's challenge on a `401`. One client talks to one repository.

mod auth;
mod failure;
mod reference;
mod timeouts;

use std::cell::RefCell;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use ureq::http::Response;

pub use auth::{AUTH_ENV, AuthError, basic_auth_from_env, parse_basic_auth, redacted};
use auth::{base64, parse_challenge};
pub use failure::{Failure, MAX_ERROR_BODY, RegistryError, SHOWN_ERROR};
use failure::{error_body, shorten, status_line, unexpected};
pub use reference::{Reference, ReferenceError, api_host, digest_ok};
pub use timeouts::{CONNECT_TIMEOUT, READ_TIMEOUT, SettingError, TIMEOUT_ENV, Timeouts};

/// Bytes of a token answer read; tokens are a few KiB.
pub const MAX_TOKEN_BODY: u64 = 1 << 20;
/// Bytes of a manifest or index read when pulling; ours are a few KiB, the spec suggests
/// registries refuse above 4 MiB.
pub const MAX_MANIFEST: u64 = 4 << 20;

const DIGEST_HEADER: &str = "docker-content-digest";
/// Redirects a blob GET follows: registries send blob downloads to their storage (S3, a CDN).
pub const MAX_BLOB_REDIRECTS: usize = 3;

/// Where to reach a registry and as whom. (Its `Debug` never shows the password.)
#[derive(Clone, Default)]
pub struct Options {
    /// Plain http (for a registry on 127.0.0.1 without TLS).
    pub insecure: bool,
    /// HTTP basic credentials, also given to a token realm; anonymous without.
    pub basic_auth: Option<(String, String)>,
    pub timeouts: Timeouts,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("insecure", &self.insecure)
            .field("basic_auth", &redacted(&self.basic_auth))
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

pub use crate::digest::sha256;

/// `s` percent-encoded for a query value (RFC 3986 unreserved characters kept).
fn query_escape(s: &str) -> String {
    crate::text::percent_encode(s, crate::text::UNRESERVED)
}

/// A client for one repository of one registry.
pub struct Client {
    agent: ureq::Agent,
    /// The registry as the user named it, for messages.
    registry: String,
    /// `https://host:port`.
    base: String,
    repository: String,
    opts: Options,
    /// The `Authorization` value that worked last, if any.
    auth: RefCell<Option<String>>,
}

/// A registry's answer, or why there is none.
type Answer = Result<Response<ureq::Body>, ureq::Error>;

/// The header of an answer, if any, as text.
fn header<'a>(resp: &'a Response<ureq::Body>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

impl Client {
    pub fn new(registry: &str, repository: &str, opts: &Options) -> Client {
        let t = opts.timeouts;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(t.connect))
            .timeout_send_request(Some(t.read))
            .timeout_recv_response(Some(t.read))
            .timeout_per_read(Some(t.read))
            .timeout_per_write(Some(t.read))
            // Every body this client reads is small (error answers, tokens, manifests): one
            // that trickles in is cut off like a silent one.
            .timeout_recv_body(Some(t.read))
            .accept_encoding("identity")
            .user_agent(concat!("recipe/", env!("CARGO_PKG_VERSION")))
            .tls_config(crate::tls::config())
            .build()
            .into();
        let scheme = if opts.insecure { "http" } else { "https" };
        Client {
            agent,
            registry: registry.to_string(),
            base: format!("{scheme}://{}", api_host(registry)),
            repository: repository.to_string(),
            opts: opts.clone(),
            auth: RefCell::new(None),
        }
    }

    /// `failure` about `action`, with the registry's name.
    pub fn error(&self, action: impl Into<String>, failure: Failure) -> RegistryError {
        RegistryError {
            registry: self.registry.clone(),
            action: action.into(),
            failure,
        }
    }

    fn transport(&self, e: ureq::Error) -> Failure {
        let t = self.opts.timeouts;
        let secs = |d: Duration| d.as_secs();
        match e {
            ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
                Failure::Transport(format!(
                    "no connection within {} s (`{TIMEOUT_ENV}`)",
                    secs(t.connect)
                ))
            }
            ureq::Error::Timeout(_) => Failure::Transport(format!(
                "no answer within {} s (`{TIMEOUT_ENV}`)",
                secs(t.read)
            )),
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => Failure::Transport(
                format!("no answer within {} s (`{TIMEOUT_ENV}`)", secs(t.read)),
            ),
            e => Failure::Transport(crate::text::escape(&e.to_string()).into_owned()),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.repository)
    }

    /// Sends a request made by `send` (given the `Authorization` value to use); on a `401` with
    /// a challenge it can meet, authenticates and sends it once more.
    fn call(
        &self,
        send: &dyn Fn(&ureq::Agent, Option<&str>) -> Answer,
    ) -> Result<Response<ureq::Body>, Failure> {
        let mut retried = false;
        loop {
            let auth = self.auth.borrow().clone();
            let resp = send(&self.agent, auth.as_deref()).map_err(|e| self.transport(e))?;
            if resp.status().as_u16() != 401 || retried {
                return Ok(resp);
            }
            let Some(challenge) = header(&resp, "www-authenticate").map(str::to_string) else {
                return Ok(resp);
            };
            let Some(value) = self.authenticate(&challenge)? else {
                return Ok(resp);
            };
            if auth.as_deref() == Some(value.as_str()) {
                return Ok(resp);
            }
            *self.auth.borrow_mut() = Some(value);
            retried = true;
        }
    }

    /// The `Authorization` value meeting `challenge`, or `None` when there is nothing to try.
    fn authenticate(&self, challenge: &str) -> Result<Option<String>, Failure> {
        let (scheme, params) = parse_challenge(challenge);
        let basic = self
            .opts
            .basic_auth
            .as_ref()
            .map(|(u, p)| format!("Basic {}", base64(format!("{u}:{p}").as_bytes())));
        match scheme.as_str() {
            "basic" => Ok(basic),
            "bearer" => {
                let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                let Some(realm) = get("realm") else {
                    return Err(Failure::Protocol(
                        "its bearer challenge names no `realm`".into(),
                    ));
                };
                let lower = realm.to_ascii_lowercase();
                if !(lower.starts_with("https://")
                    || (self.opts.insecure && lower.starts_with("http://")))
                {
                    return Err(Failure::Protocol(format!(
                        "its token realm `{}` is not an https URL",
                        shorten(realm, SHOWN_ERROR)
                    )));
                }
                let mut url = format!(
                    "{realm}{}scope={}",
                    if realm.contains('?') { '&' } else { '?' },
                    query_escape(&format!("repository:{}:pull,push", self.repository))
                );
                if let Some(service) = get("service") {
                    url.push_str(&format!("&service={}", query_escape(service)));
                }
                let mut req = self.agent.get(&url);
                if let Some(b) = &basic {
                    req = req.header("Authorization", b);
                }
                let resp = req.call().map_err(|e| self.transport(e))?;
                let status = resp.status().as_u16();
                if status != 200 {
                    let body = error_body(resp);
                    return Err(Failure::Protocol(format!(
                        "its token realm answered `{}`: {body}",
                        status_line(status)
                    )));
                }
                let mut buf = Vec::new();
                resp.into_body()
                    .into_reader()
                    .take(MAX_TOKEN_BODY)
                    .read_to_end(&mut buf)
                    .map_err(|e| Failure::Transport(format!("reading a token: {e}")))?;
                let v: serde_json::Value = serde_json::from_slice(&buf).map_err(|_| {
                    Failure::Protocol("its token realm did not answer a JSON token".into())
                })?;
                let token = v["token"]
                    .as_str()
                    .or(v["access_token"].as_str())
                    .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
                    .ok_or_else(|| {
                        Failure::Protocol("its token realm answered no usable token".into())
                    })?;
                Ok(Some(format!("Bearer {token}")))
            }
            _ => Ok(None),
        }
    }

    /// True when the registry itself answers `200` to a HEAD of blob `digest`, naming no other
    /// digest; a redirect (never followed) or `404` is false.
    pub fn blob_exists(&self, digest: &str) -> Result<bool, Failure> {
        let url = self.url(&format!("blobs/{digest}"));
        let resp = self.call(&|a, auth| {
            let mut r = a.head(&url);
            if let Some(v) = auth {
                r = r.header("Authorization", v);
            }
            r.call()
        })?;
        match resp.status().as_u16() {
            200 => {
                if let Some(theirs) = header(&resp, DIGEST_HEADER)
                    && theirs != digest
                {
                    return Err(Failure::Digest {
                        ours: digest.to_string(),
                        theirs: shorten(theirs, 80),
                    });
                }
                Ok(true)
            }
            300..=399 | 404 => Ok(false),
            status => Err(Failure::Status {
                method: "HEAD",
                status,
                body: String::new(),
            }),
        }
    }

    /// The absolute URL of a `Location` answer, which must be on this registry.
    fn location(&self, resp: &Response<ureq::Body>) -> Result<String, Failure> {
        let Some(loc) = header(resp, "location") else {
            return Err(Failure::Protocol("its answer has no `Location`".into()));
        };
        if loc.starts_with('/') && !loc.starts_with("//") {
            return Ok(format!("{}{loc}", self.base));
        }
        let lower = loc.to_ascii_lowercase();
        let base = self.base.to_ascii_lowercase();
        if lower.starts_with(&base) && matches!(lower.as_bytes().get(base.len()), Some(b'/' | b'?'))
        {
            return Ok(loc.to_string());
        }
        Err(Failure::Protocol(format!(
            "its upload location `{}` is not on the registry",
            shorten(loc, SHOWN_ERROR)
        )))
    }

    /// Uploads the file at `path` as blob `digest` (`size` bytes): POST for an upload, then
    /// one PUT of the whole blob to the location given; the registry must answer `201` and
    /// name no other digest.
    pub fn upload_blob(&self, digest: &str, path: &Path, size: u64) -> Result<(), Failure> {
        self.upload(digest, size, &|| {
            let file = std::fs::File::open(path)?;
            Ok(Box::new(file.take(size)))
        })
    }

    /// Uploads `bytes` as blob `digest`, as [`Client::upload_blob`] does a file (small blobs
    /// made in memory: signatures and attestations).
    pub fn upload_blob_bytes(&self, digest: &str, bytes: &[u8]) -> Result<(), Failure> {
        self.upload(digest, bytes.len() as u64, &|| {
            Ok(Box::new(std::io::Cursor::new(bytes.to_vec())))
        })
    }

    /// [`Client::upload_blob`] of the `size` bytes that `open` reads (opened once per try).
    fn upload(
        &self,
        digest: &str,
        size: u64,
        open: &dyn Fn() -> std::io::Result<Box<dyn Read>>,
    ) -> Result<(), Failure> {
        let start = self.url("blobs/uploads/");
        let resp = self.call(&|a, auth| {
            let mut r = a.post(&start).header("Content-Length", "0");
            if let Some(v) = auth {
                r = r.header("Authorization", v);
            }
            r.send_empty()
        })?;
        let status = resp.status().as_u16();
        if status != 202 {
            return Err(unexpected("POST", resp));
        }
        let loc = self.location(&resp)?;
        drop(resp);
        let put = format!(
            "{loc}{}digest={}",
            if loc.contains('?') { '&' } else { '?' },
            query_escape(digest)
        );
        let resp = self.call(&|a, auth| {
            let body = open().map_err(ureq::Error::Io)?;
            let mut r = a
                .put(&put)
                .header("Content-Type", "application/octet-stream")
                .header("Content-Length", size.to_string());
            if let Some(v) = auth {
                r = r.header("Authorization", v);
            }
            r.send(ureq::SendBody::from_owned_reader(body))
        })?;
        if resp.status().as_u16() != 201 {
            return Err(unexpected("PUT", resp));
        }
        check_digest(&resp, digest)
    }

    /// PUTs `bytes` (of type `media_type`) as the manifest `reference` (a tag or its digest);
    /// the registry must accept it and name no other digest than the bytes'.
    pub fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<(), Failure> {
        let url = self.url(&format!("manifests/{reference}"));
        let resp = self.call(&|a, auth| {
            let mut r = a.put(&url).header("Content-Type", media_type);
            if let Some(v) = auth {
                r = r.header("Authorization", v);
            }
            r.send(bytes)
        })?;
        if !resp.status().is_success() {
            return Err(unexpected("PUT", resp));
        }
        check_digest(&resp, &sha256(bytes))
    }

    /// GETs `path` of the repository: a manifest (`accept` given: its small body must arrive
    /// within the read timeout) or a blob (no `accept`: its body may take as long as bytes keep
    /// coming); anything but `200` is a failure.
    fn get(&self, path: &str, accept: Option<&str>) -> Result<Response<ureq::Body>, Failure> {
        let resp = self.request(path, accept)?;
        if resp.status().as_u16() != 200 {
            return Err(unexpected("GET", resp));
        }
        Ok(resp)
    }

    /// [`Client::get`]'s request, whatever the answer.
    fn request(&self, path: &str, accept: Option<&str>) -> Result<Response<ureq::Body>, Failure> {
        let url = self.url(path);
        self.call(&|a, auth| {
            let mut r = match accept {
                Some(types) => a.get(&url).header("Accept", types),
                None => a.get(&url).config().timeout_recv_body(None).build(),
            };
            if let Some(v) = auth {
                r = r.header("Authorization", v);
            }
            r.call()
        })
    }

    /// GETs the manifest `reference` (a tag or digest) accepting `accept`: its media type and
    /// bytes, at most [`MAX_MANIFEST`], checked against the digest asked for or the one the
    /// registry names.
    pub fn get_manifest(
        &self,
        reference: &str,
        accept: &str,
    ) -> Result<(String, Vec<u8>), Failure> {
        let resp = self.get(&format!("manifests/{reference}"), Some(accept))?;
        let media = header(&resp, "content-type").unwrap_or("").to_string();
        let named = header(&resp, DIGEST_HEADER).map(str::to_string);
        let mut buf = Vec::new();
        resp.into_body()
            .into_reader()
            .take(MAX_MANIFEST + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Failure::Transport(crate::text::escape(&e.to_string()).into_owned()))?;
        if buf.len() as u64 > MAX_MANIFEST {
            return Err(Failure::Protocol(format!(
                "the manifest is larger than {MAX_MANIFEST} bytes"
            )));
        }
        let ours = sha256(&buf);
        let expected = if digest_ok(reference) {
            Some(reference.to_string())
        } else {
            named
        };
        if let Some(e) = expected
            && e != ours
        {
            return Err(Failure::Digest {
                ours,
                theirs: shorten(&e, 80),
            });
        }
        Ok((media, buf))
    }

    /// Where a blob GET's redirect leads, when it may be followed: a path on this registry, an
    /// https URL, or (with `insecure` only) an http URL. Credentials are never sent there.
    fn blob_location(&self, resp: &Response<ureq::Body>) -> Option<String> {
        let loc = header(resp, "location")?;
        if loc.starts_with('/') && !loc.starts_with("//") {
            return Some(format!("{}{loc}", self.base));
        }
        let lower = loc.to_ascii_lowercase();
        (lower.starts_with("https://") || (self.opts.insecure && lower.starts_with("http://")))
            .then(|| loc.to_string())
    }

    /// GETs blob `digest`, which must be exactly `size` bytes, into `to` (created): streamed,
    /// never more than `size + 1` bytes read, the length and sha256 checked at the end (a
    /// short, long or changed blob is a failure and `to` must not be used). The body may take
    /// as long as it takes while bytes keep coming (each read has the read timeout).
    pub fn get_blob(&self, digest: &str, size: u64, to: &Path) -> Result<(), Failure> {
        let mut resp = self.request(&format!("blobs/{digest}"), None)?;
        let mut redirected = false;
        for _ in 0..MAX_BLOB_REDIRECTS {
            if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                break;
            }
            let Some(next) = self.blob_location(&resp) else {
                break;
            };
            drop(resp);
            resp = self
                .agent
                .get(&next)
                .config()
                .timeout_recv_body(None)
                .build()
                .call()
                .map_err(|e| self.transport(e))?;
            redirected = true;
        }
        match resp.status().as_u16() {
            200 => {}
            // Where a redirect led is not the registry: its answer's body is not shown.
            status if redirected => {
                return Err(Failure::Status {
                    method: "GET",
                    status,
                    body: String::new(),
                });
            }
            _ => return Err(unexpected("GET", resp)),
        }
        let file = std::fs::File::create(to)
            .map_err(|e| Failure::Transport(format!("cannot write `{}`: {e}", to.display())))?;
        let mut w = crate::digest::HashWriter::new(std::io::BufWriter::new(file));
        // A blob may take its time, not forever: at least MIN_BLOB_RATE on the whole.
        let allowed = self
            .opts
            .timeouts
            .read
            .max(Duration::from_secs(size / MIN_BLOB_RATE));
        let mut body = Paced {
            inner: resp.into_body().into_reader(),
            start: std::time::Instant::now(),
            allowed,
        }
        .take(size.saturating_add(1));
        std::io::copy(&mut body, &mut w).map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                Failure::Transport(format!(
                    "blob {digest} did not arrive within {} s (slower than {} KiB/s; `{TIMEOUT_ENV}`)",
                    allowed.as_secs(),
                    MIN_BLOB_RATE >> 10
                ))
            } else {
                Failure::Transport(crate::text::escape(&e.to_string()).into_owned())
            }
        })?;
        let (inner, hex, got) = w.finish();
        inner
            .into_inner()
            .map_err(|e| Failure::Transport(format!("cannot write `{}`: {e}", to.display())))?;
        if got != size {
            return Err(Failure::Protocol(format!(
                "blob {digest} is {} bytes, not the {size} its manifest says{}",
                if got > size {
                    format!("more than {size}")
                } else {
                    got.to_string()
                },
                if got < size { " (truncated)" } else { "" }
            )));
        }
        if format!("sha256:{hex}") != digest {
            return Err(Failure::Protocol(format!(
                "blob {digest} hashes to sha256:{hex}: its content was changed"
            )));
        }
        Ok(())
    }
}

/// The slowest a blob may arrive on the whole, in bytes per second (each read also has the read
/// timeout): a registry dripping a byte per read timeout must not hold a job for days.
const MIN_BLOB_RATE: u64 = 64 << 10;

/// A reader that fails with `TimedOut` once `allowed` has passed since `start`.
struct Paced<R> {
    inner: R,
    start: std::time::Instant,
    allowed: Duration,
}

impl<R: Read> Read for Paced<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.start.elapsed() > self.allowed {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the blob is arriving too slowly",
            ));
        }
        self.inner.read(buf)
    }
}

/// A `Docker-Content-Digest`, when sent, must be `digest`.
fn check_digest(resp: &Response<ureq::Body>, digest: &str) -> Result<(), Failure> {
    match header(resp, DIGEST_HEADER) {
        Some(theirs) if theirs != digest => Err(Failure::Digest {
            ours: digest.to_string(),
            theirs: shorten(theirs, 80),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn basic_auth_splits_at_the_first_colon() {
        assert_eq!(
            super::parse_basic_auth("me:pa:ss").unwrap(),
            ("me".to_string(), "pa:ss".to_string())
        );
        assert!(super::parse_basic_auth("nocolon").is_err());
    }

    use super::*;

    #[test]
    fn base64_and_query_escape() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass word"), "dXNlcjpwYXNzIHdvcmQ=");
        assert_eq!(
            query_escape("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }

    #[test]
    fn challenges() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(
            p,
            vec![
                ("realm".into(), "https://auth.docker.io/token".into()),
                ("service".into(), "registry.docker.io".into()),
                ("scope".into(), "repository:samalba/my-app:pull,push".into()),
            ]
        );
        let (s, p) = parse_challenge(r#"Basic realm="a \"b\"", charset=UTF-8"#);
        assert_eq!(s, "basic");
        assert_eq!(p[0].1, "a \"b\"");
        assert_eq!(p[1], ("charset".into(), "UTF-8".into()));
    }

    #[test]
    fn a_blob_that_takes_too_long_is_cut_off() {
        let mut fast = Paced {
            inner: &b"abc"[..],
            start: std::time::Instant::now(),
            allowed: Duration::from_secs(3600),
        };
        let mut out = Vec::new();
        fast.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
        let mut slow = Paced {
            inner: &b"abc"[..],
            start: std::time::Instant::now() - Duration::from_secs(2),
            allowed: Duration::from_secs(1),
        };
        let e = slow.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    }

    #[test]
    fn failures_are_worded() {
        let f = Failure::Status {
            method: "PUT",
            status: 403,
            body: "DENIED: no".into(),
        };
        assert_eq!(f.to_string(), "PUT answered `403 Forbidden`: DENIED: no");
        let long = format!("\x1b[31m{}", "x".repeat(1000));
        let s = shorten(&long, SHOWN_ERROR);
        assert!(s.starts_with("\\x1b[31m"), "{s}");
        assert!(s.ends_with("(708 more characters)"), "{s}");
    }
}
