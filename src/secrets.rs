//! The secrets `recipe` reads from its environment (`REGISTRY_AUTH`,
//! `RECIPE_CACHE_SIGNING_KEY`) stay with `recipe`: [`take`], first thing in the CLI, copies
//! them, overwrites their bytes in the environment block the kernel shows as
//! `/proc/PID/environ`, removes them from the environment, and makes `recipe` non-dumpable
//! (no core file, no ptrace or `/proc/PID/mem` by a process of the same user). No child gets
//! them either way: the process layer gives every child an explicit environment, and build
//! steps run in a PID namespace of their own (`sandbox`) where `recipe` cannot be seen.

use std::ffi::CStr;
use std::sync::OnceLock;

use crate::commands::SIGNING_KEY_ENV;
use crate::registry::AUTH_ENV;

/// The variables [`take`] takes.
pub const NAMES: [&str; 2] = [AUTH_ENV, SIGNING_KEY_ENV];

static TAKEN: OnceLock<Vec<(String, String)>> = OnceLock::new();

unsafe extern "C" {
    static mut environ: *const *mut libc::c_char;
}

/// Takes [`NAMES`] out of the environment (see the module doc) and makes the process
/// non-dumpable. Call it while the process has one thread: it edits the environment.
pub fn take() {
    let mut taken = Vec::new();
    // SAFETY: the process has one thread (the caller's promise), so nothing reads or changes
    // the environment meanwhile; each entry is a NUL-terminated string we may write over.
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            let entry = *p;
            let bytes = CStr::from_ptr(entry).to_bytes();
            for name in NAMES {
                let prefix = name.len() + 1;
                if bytes.len() >= prefix
                    && bytes.starts_with(name.as_bytes())
                    && bytes[name.len()] == b'='
                {
                    let value = String::from_utf8_lossy(&bytes[prefix..]).into_owned();
                    taken.push((name.to_string(), value));
                    std::ptr::write_bytes(entry.add(prefix), 0, bytes.len() - prefix);
                }
            }
            p = p.add(1);
        }
        for name in NAMES {
            std::env::remove_var(name);
        }
        libc::prctl(libc::PR_SET_DUMPABLE, 0);
    }
    let _ = TAKEN.set(taken);
}

/// The secret `name` (one of [`NAMES`]): as [`take`] found it, or from the environment when
/// nothing was taken (library use, unit tests).
pub fn var(name: &str) -> Option<String> {
    match TAKEN.get() {
        Some(taken) => taken
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone()),
        None => std::env::var(name).ok(),
    }
}
