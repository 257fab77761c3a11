//! What a recipe's names, versions, image users and paths may be: pure checks, shared by the
//! loader ([`super::load`]) and the `--user` option. Each returns the reason a value is refused
//! and a help line saying what is allowed.
//!
//! `names.rs`: recipe names, versions and image users; `paths.rs`: image paths, writable
//! folders and files beside the recipe; `variables.rs`: `${NAME}` in build options; `cpe.rs`:
//! the `cpe` vendor and product; `bytes.rs`: the escapes of bytes in smoke requests.

mod bytes;
mod cpe;
mod names;
mod paths;
mod variables;

pub use bytes::*;
pub use cpe::*;
pub use names::*;
pub use paths::*;
pub use variables::*;

/// A refused value: what is wrong, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub help: String,
}

fn refuse(message: String, help: &str) -> Refusal {
    Refusal {
        message,
        help: help.to_string(),
    }
}
