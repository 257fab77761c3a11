//! How long a registry may take: the connect and read timeouts and the one reader of
//! `RECIPE_REGISTRY_TIMEOUT`.

use std::time::Duration;

/// The environment variable that sets both registry timeouts, in seconds.
pub const TIMEOUT_ENV: &str = "RECIPE_REGISTRY_TIMEOUT";
/// Time to set up a connection (TCP and TLS) to a registry, unless [`TIMEOUT_ENV`] says
/// otherwise.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time a registry may stay silent: waiting for an answer's head, receiving an answer's body
/// (all small), and any single write of an upload (a slow, steady upload is fine; a stalled one
/// fails). Unless [`TIMEOUT_ENV`] says otherwise.
pub const READ_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to wait for a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: CONNECT_TIMEOUT,
            read: READ_TIMEOUT,
        }
    }
}

impl Timeouts {
    /// The defaults, or both set to [`TIMEOUT_ENV`]'s seconds (1 to 3600) when it is set: the
    /// one place that variable is read.
    pub fn from_env() -> Result<Timeouts, SettingError> {
        match std::env::var(TIMEOUT_ENV) {
            Err(_) => Ok(Timeouts::default()),
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(s @ 1..=3600) => Ok(Timeouts {
                    connect: Duration::from_secs(s),
                    read: Duration::from_secs(s),
                }),
                _ => Err(SettingError(crate::text::escape(&v).into_owned())),
            },
        }
    }
}

/// A bad [`TIMEOUT_ENV`].
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("`RECIPE_REGISTRY_TIMEOUT` must be a number of seconds from 1 to 3600, not `{0}`")]
pub struct SettingError(String);
