//! What a static build of a Rust program does: it is built for the musl target with crt-static
//! (what a recipe's `system = "cargo"` does), and the `-sys` crates that link a system library
//! build theirs from source instead, through a feature of theirs ([`SYS_CRATES`]).

use crate::arch::Arch;

/// A `-sys` crate that links a C library, and how a static build gets that library linked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysCrate {
    /// As [`super::Library::soname_prefix`]: the sonames the crate links.
    pub soname_prefix: &'static str,
    /// The crate, e.g. `openssl-sys`.
    pub krate: &'static str,
    /// What a static build does instead, e.g. "enable its `vendored` feature (...)".
    pub instead: &'static str,
}

/// The `-sys` crates a dynamic Rust binary's libraries come from.
pub const SYS_CRATES: &[SysCrate] = &[
    SysCrate {
        soname_prefix: "libssl",
        krate: "openssl-sys",
        instead: OPENSSL,
    },
    SysCrate {
        soname_prefix: "libcrypto",
        krate: "openssl-sys",
        instead: OPENSSL,
    },
    SysCrate {
        soname_prefix: "libz",
        krate: "libz-sys",
        instead: "enable its `static` feature (zlib built from source, linked in)",
    },
    SysCrate {
        soname_prefix: "libsqlite3",
        krate: "libsqlite3-sys",
        instead: "enable its `bundled` feature (rusqlite's `bundled`: SQLite built from source, \
                  linked in)",
    },
    SysCrate {
        soname_prefix: "libcurl",
        krate: "curl-sys",
        instead: "enable its `static-curl` feature (curl's `static-curl`: curl built from \
                  source, linked in)",
    },
];

const OPENSSL: &str = "enable its `vendored` feature (the `openssl` crate's `vendored`: OpenSSL \
                       built from source, linked in; it reads no system CA store by itself), or \
                       switch to rustls";

/// The `-sys` crate a Rust binary's library (`libssl.so.3`) comes from, if the table knows.
pub fn sys_crate(soname: &str) -> Option<&'static SysCrate> {
    let s = super::stem(soname);
    SYS_CRATES
        .iter()
        .find(|c| super::prefix_matches(c.soname_prefix, s))
}

impl SysCrate {
    /// `openssl-sys: enable its `vendored` feature (...), or switch to rustls`.
    pub fn advice(&self) -> String {
        format!("{}: {}", self.krate, self.instead)
    }
}

/// The advice for a dynamic Rust binary as a whole: the musl target of its arch (of every arch
/// of ours when it is none of them), with crt-static.
pub fn musl_target(arch: Option<Arch>) -> String {
    let targets: Vec<String> = match arch {
        Some(a) => vec![format!("`{}`", a.info().rust_target)],
        None => Arch::ALL
            .iter()
            .map(|a| format!("`{}`", a.info().rust_target))
            .collect(),
    };
    format!(
        "build for the musl target ({}) with crt-static, as a recipe's `system = \"cargo\"` does",
        targets.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_crates_by_soname() {
        for (soname, krate) in [
            ("libssl.so.3", "openssl-sys"),
            ("libcrypto.so.3", "openssl-sys"),
            ("libssl.so.1.1", "openssl-sys"),
            ("libz.so.1", "libz-sys"),
            ("libsqlite3.so.0", "libsqlite3-sys"),
            ("libcurl.so.4", "curl-sys"),
            ("libcurl-gnutls.so.4", "curl-sys"),
        ] {
            assert_eq!(sys_crate(soname).map(|c| c.krate), Some(krate), "{soname}");
        }
        for other in ["libc.so.6", "libgcc_s.so.1", "libzstd.so.1", "libsslx.so"] {
            assert_eq!(sys_crate(other), None, "{other}");
        }
        let a = sys_crate("libssl.so.3").unwrap().advice();
        assert!(
            a.starts_with("openssl-sys: enable its `vendored` feature"),
            "{a}"
        );
        assert!(a.ends_with("or switch to rustls"), "{a}");
        // Every library of the table is one the generic advice knows too.
        for c in SYS_CRATES {
            assert!(super::super::library(&format!("{}.so.1", c.soname_prefix)).is_some());
        }
    }

    #[test]
    fn the_musl_target_of_the_arch() {
        assert_eq!(
            musl_target(Some(Arch::Amd64)),
            "build for the musl target (`x86_64-unknown-linux-musl`) with crt-static, as a \
             recipe's `system = \"cargo\"` does"
        );
        let all = musl_target(None);
        for a in Arch::ALL {
            assert!(all.contains(a.info().rust_target), "{all}");
        }
    }
}
