//! What went wrong in an exchange with a registry, worded for people: the answer's status and
//! its error body (read up to a cap, escaped and shortened), a redirect not followed, a digest
//! that is not ours.

use std::fmt;
use std::io::Read;

use ureq::http::Response;

use super::header;

/// Bytes of an error answer read (the rest is never read); registries send a few hundred.
pub const MAX_ERROR_BODY: u64 = 64 << 10;
/// Characters of an error answer shown in a message.
pub const SHOWN_ERROR: usize = 300;
/// What went wrong in one exchange with a registry: its answer, or the lack of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection, or no answer in time (already worded).
    Transport(String),
    /// An answer with an unexpected status; `body` is escaped and shortened.
    Status {
        method: &'static str,
        status: u16,
        body: String,
    },
    /// A redirect where none is followed.
    Redirect {
        method: &'static str,
        status: u16,
        location: String,
    },
    /// The registry named another digest than ours.
    Digest { ours: String, theirs: String },
    /// Anything else the registry got wrong (already worded and escaped).
    Protocol(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Transport(m) | Failure::Protocol(m) => f.write_str(m),
            Failure::Status {
                method,
                status,
                body,
            } => {
                write!(f, "{method} answered `{}`", status_line(*status))?;
                if !body.is_empty() {
                    write!(f, ": {body}")?;
                }
                Ok(())
            }
            Failure::Redirect {
                method,
                status,
                location,
            } => write!(
                f,
                "{method} answered `{}` to `{location}`; redirects are not followed",
                status_line(*status)
            ),
            Failure::Digest { ours, theirs } => write!(
                f,
                "the registry answered digest `{theirs}` for `{ours}`; the content differs"
            ),
        }
    }
}

/// A failure with the registry and the object it was about.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("registry {registry}: cannot {action}: {failure}")]
pub struct RegistryError {
    pub registry: String,
    /// `push blob sha256:… (a linux/amd64 layer)`.
    pub action: String,
    pub failure: Failure,
}

pub(super) fn status_line(status: u16) -> String {
    match ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(r) => format!("{status} {r}"),
        None => status.to_string(),
    }
}

/// Outside text for a message: escaped, cut to `max` characters.
pub(super) fn shorten(s: &str, max: usize) -> String {
    let s = crate::text::escape(s.trim());
    let n = s.chars().count();
    if n <= max {
        return s.into_owned();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}… ({} more characters)", n - max)
}

/// An error answer's body, read up to [`MAX_ERROR_BODY`]: the distribution spec's
/// `{"errors":[{"code","message"}]}` as `CODE: message`, else the text; escaped and shortened.
pub(super) fn error_body(resp: Response<ureq::Body>) -> String {
    let mut buf = Vec::new();
    let more = resp
        .into_body()
        .into_reader()
        .take(MAX_ERROR_BODY)
        .read_to_end(&mut buf)
        .is_ok()
        && buf.len() as u64 == MAX_ERROR_BODY;
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&buf)
        && let Some(errors) = v["errors"].as_array()
    {
        let parts: Vec<String> = errors
            .iter()
            .map(|e| {
                let code = e["code"].as_str().unwrap_or("");
                let msg = e["message"].as_str().unwrap_or("");
                match (code.is_empty(), msg.is_empty()) {
                    (false, false) => format!("{code}: {msg}"),
                    (true, _) => msg.to_string(),
                    (_, true) => code.to_string(),
                }
            })
            .collect();
        return shorten(&parts.join("; "), SHOWN_ERROR);
    }
    let text = String::from_utf8_lossy(&buf);
    if more {
        let cut: String = crate::text::escape(text.trim_start())
            .chars()
            .take(SHOWN_ERROR)
            .collect();
        return format!("{cut}… (an answer over {MAX_ERROR_BODY} bytes, the rest not read)");
    }
    shorten(&text, SHOWN_ERROR)
}

/// The failure of an answer with an unexpected status.
pub(super) fn unexpected(method: &'static str, resp: Response<ureq::Body>) -> Failure {
    let status = resp.status().as_u16();
    if (300..400).contains(&status) {
        let location = header(&resp, "location").unwrap_or("").to_string();
        return Failure::Redirect {
            method,
            status,
            location: shorten(&location, SHOWN_ERROR),
        };
    }
    Failure::Status {
        method,
        status,
        body: error_body(resp),
    }
}
