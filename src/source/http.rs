//! The URL origin: an HTTP(S) GET streamed to a temporary file, hashed on the way.

use std::path::Path;
use std::time::Duration;

use super::SourceError;
use super::download::{Fetched, stream_to_temp};
use super::limits::Limits;

/// Downloads `url` into a temporary file inside `tmp_dir`.
///
/// Redirects are followed (up to 10). Timeouts: 30 s to connect, 60 s for the response head,
/// 60 s for any single read of the body (a stalled transfer fails; a slow, steady one does not).
/// `Accept-Encoding: identity` is sent so that the bytes stored are the bytes served, never
/// transparently decompressed.
///
/// Size: a `Content-Length` over `limits.max_download` is refused before any of the body is
/// read, and a body without one (or longer than it said) stops at the cap; either way the
/// temporary file is removed.
pub(crate) fn download(url: &str, tmp_dir: &Path, limits: &Limits) -> Result<Fetched, SourceError> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(SourceError::BadUrl(url.to_string()));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(10)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .accept_encoding("identity")
        .user_agent(concat!("recipe/", env!("CARGO_PKG_VERSION")))
        .tls_config(crate::tls::config())
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| SourceError::Http {
        url: url.to_string(),
        source: Box::new(e),
    })?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(SourceError::HttpStatus {
            url: url.to_string(),
            status,
        });
    }
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(declared) = declared
        && declared > limits.max_download
    {
        return Err(SourceError::DeclaredTooBig {
            url: url.to_string(),
            declared,
            cap: limits.max_download,
        });
    }
    let mut reader = response.into_body().into_reader();
    stream_to_temp(&mut reader, tmp_dir, url, limits.max_download)
}
