//! A bounded HTTP GET into memory for index files: timeouts on connect, the response head,
//! each read and the whole transfer, a size cap checked against `Content-Length` before the
//! body and enforced while reading it.

use std::io::Read;
use std::time::Duration;

/// The body of `url`, or why not (a status, a transport error, more than `cap` bytes).
pub(super) fn get(url: &str, cap: u64) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(5)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .timeout_global(Some(Duration::from_secs(600)))
        .accept_encoding("identity")
        .user_agent(concat!("recipe/", env!("CARGO_PKG_VERSION")))
        .tls_config(crate::tls::config())
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(format!("http status {status}"));
    }
    let declared = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|d| d > cap) {
        return Err(format!(
            "the server declares {} bytes, over the cap of {}",
            declared.unwrap_or_default(),
            crate::size::Bytes(cap)
        ));
    }
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(cap + 1)
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    if body.len() as u64 > cap {
        return Err(format!("more than the cap of {}", crate::size::Bytes(cap)));
    }
    Ok(body)
}
