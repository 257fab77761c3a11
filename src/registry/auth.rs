//! Who we are to a registry: HTTP basic credentials (the one reader of `REGISTRY_AUTH`, never
//! shown), and the `WWW-Authenticate` challenge that picks basic or a bearer token.

/// The environment variable holding HTTP basic credentials, `user:password`.
pub const AUTH_ENV: &str = "REGISTRY_AUTH";

/// A malformed [`AUTH_ENV`] (its value is never shown: it holds a password).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("REGISTRY_AUTH must be `user:password`")]
pub struct AuthError;

/// HTTP basic credentials from [`AUTH_ENV`] (none when it is unset or empty, as a CI secret
/// that is not given to a fork's pull request): the one place that variable is read.
pub fn basic_auth_from_env() -> Result<Option<(String, String)>, AuthError> {
    match crate::secrets::var(AUTH_ENV) {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => parse_basic_auth(&v).map(Some),
        None => Ok(None),
    }
}

/// `user:password` split at the first `:` (a password may hold more).
pub fn parse_basic_auth(v: &str) -> Result<(String, String), AuthError> {
    match v.split_once(':') {
        Some((u, p)) => Ok((u.to_string(), p.to_string())),
        None => Err(AuthError),
    }
}

/// Basic credentials for `Debug` output: the user, never the password.
pub fn redacted(auth: &Option<(String, String)>) -> Option<(String, &'static str)> {
    auth.as_ref().map(|(user, _)| (user.clone(), "<password>"))
}

/// Standard base64 with padding (HTTP basic credentials).
pub(super) fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A `WWW-Authenticate` challenge: the scheme (lowercase) and its parameters.
pub(super) fn parse_challenge(h: &str) -> (String, Vec<(String, String)>) {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        params.push((key, value));
    }
    (scheme.to_ascii_lowercase(), params)
}
