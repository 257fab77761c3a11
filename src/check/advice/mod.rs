//! What a static build does about a shared library, which Go modules need cgo, and what a Rust
//! program's build does instead of linking glibc and system libraries: static, tested tables.
//! Every piece of advice `recipe check` gives about a library comes from here
//! ([`Library::advice`], [`ProgramSwitch`], [`GoModule`], [`rust`]), never from free text.

pub mod rust;
mod table;

pub use table::{CGO_MODULES, LIBRARIES, PROGRAM_SWITCHES};

/// What a static, distroless build does about one library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The C library family (libc, libm, libpthread, libdl, ld-linux...): musl, linked
    /// statically.
    Musl,
    /// The compiler's runtime (libstdc++, libgcc_s, libatomic): linked statically by the
    /// toolchain (zig's libc++ and compiler-rt).
    Toolchain,
    /// An ordinary library: build it static and link it in; `recipe` is the catalogue recipe
    /// that provides it, if any.
    LinkStatic { recipe: Option<&'static str> },
    /// An optional integration a container does without (systemd notify, tcp-wrappers,
    /// D-Bus...): build without it. `switches` are the build-system switches where one is the
    /// common one (build system: `autotools`, `meson`, `cmake`, `make`).
    BuildWithout {
        what: &'static str,
        switches: &'static [(&'static str, &'static str)],
    },
    /// Cannot be linked into a static binary: it must come from the host or a distro at run
    /// time (GPU drivers, PAM modules, NSS modules).
    NotStatic { why: &'static str },
    /// A language runtime embedded as a plugin (libpython, libperl, liblua): build without it
    /// if the plugin is optional, else the app needs that runtime.
    Embedded { language: &'static str },
}

/// One well-known library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Library {
    /// Matches a soname's stem (the part before `.so`): equal, or followed by a digit, `-` or
    /// `.` (`libpython` matches `libpython3.11`, never `libpythonista`); a prefix ending in `_`
    /// or `-` matches any continuation (`libnss_`).
    pub soname_prefix: &'static str,
    /// What a person calls it: `OpenSSL`, `zlib`, `systemd`.
    pub name: &'static str,
    /// Debian binary packages shipping it; a trailing `*` matches any continuation
    /// (`libpython3.*`).
    pub debian: &'static [&'static str],
    pub action: Action,
}

/// The stem of a soname: `libssl.so.3` → `libssl`, `ld-linux-x86-64.so.2` → `ld-linux-x86-64`;
/// a path's directory is dropped.
fn stem(soname: &str) -> &str {
    let base = soname.rsplit('/').next().unwrap_or(soname);
    base.split(".so").next().unwrap_or(base)
}

fn prefix_matches(prefix: &str, stem: &str) -> bool {
    if prefix.ends_with('_') || prefix.ends_with('-') {
        return stem.starts_with(prefix);
    }
    match stem.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => rest.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.'),
        None => false,
    }
}

/// The library a soname (`libssl.so.3`) or a loader path (`/lib64/ld-linux-x86-64.so.2`) is.
pub fn library(soname: &str) -> Option<&'static Library> {
    let s = stem(soname);
    LIBRARIES
        .iter()
        .find(|l| prefix_matches(l.soname_prefix, s))
}

/// The library a Debian binary package (`libssl3`, `zlib1g`) ships.
pub fn debian_package(pkg: &str) -> Option<&'static Library> {
    LIBRARIES.iter().find(|l| {
        l.debian.iter().any(|d| match d.strip_suffix('*') {
            Some(p) => pkg.starts_with(p),
            None => *d == pkg,
        })
    })
}

impl Library {
    /// The advice for this library, one line, from the table: what a static build does about
    /// it.
    pub fn advice(&self) -> String {
        match self.action {
            Action::Musl => "musl, linked statically".to_string(),
            Action::Toolchain => {
                format!("{}: linked statically by the toolchain (zig)", self.name)
            }
            Action::LinkStatic { recipe: Some(r) } => {
                format!("link {} statically (catalogue recipe `{r}`)", self.name)
            }
            Action::LinkStatic { recipe: None } => format!(
                "link {} statically (no catalogue recipe: build it static first)",
                self.name
            ),
            Action::BuildWithout { what, switches } => {
                let mut s = format!("build without {what}");
                if !switches.is_empty() {
                    let sw: Vec<String> = switches
                        .iter()
                        .map(|(sys, sw)| format!("{sys}: `{sw}`"))
                        .collect();
                    s.push_str(&format!(" ({})", sw.join(", ")));
                }
                s
            }
            Action::NotStatic { why } => {
                format!("{} cannot be linked statically: {why}", self.name)
            }
            Action::Embedded { language } => format!(
                "embeds {language} as a plugin: build without it if it is optional (else the app \
                 needs {language}'s runtime)"
            ),
        }
    }

    /// True when a distroless image cannot hold the app built this way.
    pub fn blocks(&self) -> bool {
        matches!(self.action, Action::NotStatic { .. })
    }
}

/// What one program's own build does about a library, where it has a switch for it (unbound's
/// `--without-pythonmodule`). This overrides the library's generic [`Action`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramSwitch {
    /// Program names (basenames) built by the same source.
    pub programs: &'static [&'static str],
    /// As [`Library::soname_prefix`].
    pub soname_prefix: &'static str,
    /// What the library brings to this program.
    pub what: &'static str,
    /// How to build without it.
    pub switch: &'static str,
}

/// What `program`'s own build does about `soname`, if the table knows.
pub fn program_switch(program: &str, soname: &str) -> Option<&'static ProgramSwitch> {
    let s = stem(soname);
    PROGRAM_SWITCHES
        .iter()
        .find(|p| p.programs.contains(&program) && prefix_matches(p.soname_prefix, s))
}

impl ProgramSwitch {
    pub fn advice(&self) -> String {
        format!("build without {}: {}", self.what, self.switch)
    }
}

/// The advice for one library of one program: the program's own switch, else the library's
/// table entry; `None` for a library the table does not know.
pub fn advise(program: &str, soname: &str) -> Option<String> {
    if let Some(p) = program_switch(program, soname) {
        return Some(p.advice());
    }
    library(soname).map(Library::advice)
}

/// [`advise`] for a library of a dynamic Rust program: the `-sys` crate's static build where
/// the table knows the crate ([`rust::sys_crate`]).
pub fn advise_rust(program: &str, soname: &str) -> Option<String> {
    match rust::sys_crate(soname) {
        Some(c) => Some(c.advice()),
        None => advise(program, soname),
    }
}

/// What a static rebuild of one or more programs takes, from their sonames: the sentence
/// `recipe check` prints, grouped and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// For a dynamic Rust program: its musl target ([`rust::musl_target`]).
    pub rust_target: Option<String>,
    /// What Rust programs' `-sys` crates do instead: `openssl-sys: enable its `vendored` ...`.
    pub crates: Vec<String>,
    /// `the Python module (--without-pythonmodule ...)`, `D-Bus`.
    pub without: Vec<String>,
    /// `OpenSSL (catalogue recipe `openssl`)`, `nettle`.
    pub link: Vec<String>,
    /// Libraries that cannot be static: `OpenGL`.
    pub blocked: Vec<String>,
    /// Sonames the table does not know: link them statically, if they build static.
    pub unknown: Vec<String>,
}

fn push_once(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

impl Plan {
    /// Adds what `program` needs of `soname` to the plan.
    pub fn add(&mut self, program: &str, soname: &str) {
        if let Some(p) = program_switch(program, soname) {
            push_once(&mut self.without, format!("{} ({})", p.what, p.switch));
            return;
        }
        let Some(l) = library(soname) else {
            push_once(&mut self.unknown, stem(soname).to_string());
            return;
        };
        match l.action {
            Action::Musl | Action::Toolchain => {}
            Action::LinkStatic { recipe: Some(r) } => {
                push_once(&mut self.link, format!("{} (recipe `{r}`)", l.name))
            }
            Action::LinkStatic { recipe: None } => push_once(&mut self.link, l.name.to_string()),
            Action::BuildWithout { what, switches } => {
                let sw: Vec<&str> = switches.iter().map(|(_, s)| *s).collect();
                push_once(
                    &mut self.without,
                    if sw.is_empty() {
                        what.to_string()
                    } else {
                        format!("{what} ({})", sw.join(" or "))
                    },
                )
            }
            Action::Embedded { language } => push_once(
                &mut self.without,
                format!("the embedded {language} (a plugin, if optional)"),
            ),
            Action::NotStatic { .. } => push_once(&mut self.blocked, l.name.to_string()),
        }
    }

    /// Adds a dynamic Rust program for `arch` and the libraries it needs (`needed`): the musl
    /// target, and each library's `-sys` crate where the table knows it (else as [`Plan::add`]).
    pub fn add_rust(&mut self, program: &str, arch: Option<crate::arch::Arch>, needed: &[String]) {
        self.rust_target
            .get_or_insert_with(|| rust::musl_target(arch));
        for soname in needed {
            match rust::sys_crate(soname) {
                Some(c) => push_once(&mut self.crates, c.advice()),
                None => self.add(program, soname),
            }
        }
    }

    /// Nothing beyond musl and the toolchain.
    pub fn is_empty(&self) -> bool {
        self.rust_target.is_none()
            && self.crates.is_empty()
            && self.without.is_empty()
            && self.link.is_empty()
            && self.blocked.is_empty()
            && self.unknown.is_empty()
    }

    /// `build without D-Bus, IDN; link nettle, GMP statically; ...`; empty for an empty plan.
    pub fn sentence(&self) -> String {
        let mut parts = Vec::new();
        if !self.blocked.is_empty() {
            parts.push(format!("cannot be static: {}", self.blocked.join(", ")));
        }
        parts.extend(self.rust_target.iter().cloned());
        parts.extend(self.crates.iter().cloned());
        if !self.without.is_empty() {
            parts.push(format!("build without {}", self.without.join(", ")));
        }
        if !self.link.is_empty() {
            parts.push(format!("link {} statically", self.link.join(", ")));
        }
        if !self.unknown.is_empty() {
            parts.push(format!(
                "link {} statically (not in the advice table)",
                self.unknown.join(", ")
            ));
        }
        parts.join("; ")
    }
}

/// A Go module that needs cgo: its C code is the point of it, so `CGO_ENABLED=0` breaks the
/// build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoModule {
    pub path_prefix: &'static str,
    pub why: &'static str,
}

/// The cgo-only module a build-info module path is (or is a version suffix of:
/// `github.com/confluentinc/confluent-kafka-go/v2`).
pub fn cgo_module(path: &str) -> Option<&'static GoModule> {
    CGO_MODULES.iter().find(|m| {
        path.strip_prefix(m.path_prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libc_family_is_musl() {
        for s in [
            "libc.so.6",
            "libm.so.6",
            "libpthread.so.0",
            "libdl.so.2",
            "libcrypt.so.1",
            "/lib64/ld-linux-x86-64.so.2",
            "ld-linux-aarch64.so.1",
            "ld-linux-armhf.so.3",
        ] {
            assert_eq!(library(s).map(|l| l.action), Some(Action::Musl), "{s}");
        }
        assert_eq!(
            library("libc.so.6").unwrap().advice(),
            "musl, linked statically"
        );
        // `libc` is not a prefix of `libcap`, `libcrypto`, `libcurl`.
        assert_eq!(library("libcap.so.2").unwrap().name, "libcap");
        assert_eq!(library("libcrypto.so.3").unwrap().name, "OpenSSL");
        assert_eq!(library("libcurl.so.4").unwrap().name, "curl");
        assert_eq!(library("libcurl-gnutls.so.4").unwrap().name, "curl");
    }

    #[test]
    fn toolchain_runtime() {
        for s in ["libstdc++.so.6", "libgcc_s.so.1", "libatomic.so.1"] {
            assert_eq!(library(s).unwrap().action, Action::Toolchain, "{s}");
        }
        assert!(library("libstdc++.so.6").unwrap().advice().contains("zig"));
    }

    #[test]
    fn link_static_with_and_without_a_recipe() {
        let want = [
            ("libssl.so.3", Some("openssl")),
            ("libcrypto.so.3", Some("openssl")),
            ("libz.so.1", Some("zlib")),
            ("libpcre2-8.so.0", Some("pcre2")),
            ("libexpat.so.1", Some("expat")),
            ("libcurl.so.4", Some("curl")),
            ("libnettle.so.8", None),
            ("libhogweed.so.6", None),
            ("libgmp.so.10", None),
            ("libgnutls.so.30", None),
            ("libsodium.so.23", None),
            ("libevent-2.1.so.7", None),
            ("libevent_core-2.1.so.7", None),
            ("libnl-3.so.200", None),
            ("libnl-genl-3.so.200", None),
        ];
        for (s, recipe) in want {
            assert_eq!(
                library(s).map(|l| l.action),
                Some(Action::LinkStatic { recipe }),
                "{s}"
            );
        }
        assert_eq!(
            library("libssl.so.3").unwrap().advice(),
            "link OpenSSL statically (catalogue recipe `openssl`)"
        );
        assert!(
            library("libnettle.so.8")
                .unwrap()
                .advice()
                .contains("no catalogue recipe")
        );
    }

    #[test]
    fn build_without_optional_integrations() {
        for (s, what) in [
            ("libsystemd.so.0", "systemd"),
            ("libwrap.so.0", "tcp-wrappers"),
            ("libdbus-1.so.3", "D-Bus"),
            ("libselinux.so.1", "SELinux"),
            ("libcap.so.2", "libcap"),
            ("libidn2.so.0", "IDN"),
            ("libseccomp.so.2", "seccomp"),
        ] {
            let l = library(s).unwrap_or_else(|| panic!("{s}"));
            assert!(
                matches!(l.action, Action::BuildWithout { what: w, .. } if w.contains(what)),
                "{s}: {l:?}"
            );
            assert!(l.advice().starts_with("build without "), "{s}");
            assert!(!l.blocks());
        }
        // A switch is named only where it is the common one; none is invented.
        let a = Action::BuildWithout {
            what: "x",
            switches: &[("autotools", "--without-x"), ("meson", "-Dx=disabled")],
        };
        let l = Library {
            soname_prefix: "libx",
            name: "x",
            debian: &[],
            action: a,
        };
        assert_eq!(
            l.advice(),
            "build without x (autotools: `--without-x`, meson: `-Dx=disabled`)"
        );
    }

    #[test]
    fn not_static_blocks() {
        for s in [
            "libGL.so.1",
            "libGLX.so.0",
            "libEGL.so.1",
            "libvulkan.so.1",
            "libcuda.so.1",
            "libnvidia-ml.so.1",
            "libpam.so.0",
            "libnss_systemd.so.2",
        ] {
            let l = library(s).unwrap_or_else(|| panic!("{s}"));
            assert!(matches!(l.action, Action::NotStatic { .. }), "{s}");
            assert!(l.blocks(), "{s}");
            assert!(l.advice().contains("cannot be linked statically"), "{s}");
        }
        // Mozilla's libnss3 is a crypto library, not an NSS module.
        assert!(library("libnss3.so").is_none_or(|l| !l.blocks()));
    }

    #[test]
    fn embedded_runtimes() {
        for (s, lang) in [
            ("libpython3.11.so.1.0", "Python"),
            ("libpython2.7.so.1", "Python"),
            ("libperl.so.5.36", "Perl"),
            ("liblua5.4.so.0", "Lua"),
            ("libluajit-5.1.so.2", "Lua"),
        ] {
            assert_eq!(
                library(s).map(|l| l.action),
                Some(Action::Embedded { language: lang }),
                "{s}"
            );
        }
        assert!(library("libpythonista.so").is_none());
    }

    #[test]
    fn debian_packages() {
        for (pkg, name) in [
            ("libssl3", "OpenSSL"),
            ("libssl3t64", "OpenSSL"),
            ("zlib1g", "zlib"),
            ("libsystemd0", "systemd"),
            ("libpython3.11", "Python"),
            ("libc6", "the C library"),
            ("libnettle8", "nettle"),
            ("libdbus-1-3", "D-Bus"),
            ("libpam0g", "PAM"),
        ] {
            assert_eq!(debian_package(pkg).map(|l| l.name), Some(name), "{pkg}");
        }
        assert!(debian_package("libfoo9").is_none());
    }

    #[test]
    fn every_recipe_named_exists_in_the_catalogue() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
        let mut n = 0;
        for l in LIBRARIES {
            if let Action::LinkStatic { recipe: Some(r) } = l.action {
                assert!(dir.join(format!("{r}.toml")).is_file(), "recipes/{r}.toml");
                n += 1;
            }
        }
        assert!(n >= 5);
    }

    #[test]
    fn every_entry_is_reachable() {
        // Each entry's own prefix finds it (or an earlier entry of the same library), and
        // every Debian name finds a library.
        for l in LIBRARIES {
            let probe = if l.soname_prefix.ends_with(['_', '-']) {
                format!("{}x.so.1", l.soname_prefix)
            } else {
                format!("{}.so.1", l.soname_prefix)
            };
            let found = library(&probe).unwrap_or_else(|| panic!("{probe}"));
            assert_eq!(found.name, l.name, "{probe}");
            for d in l.debian {
                let d = d.trim_end_matches('*');
                assert!(debian_package(d).is_some(), "{d}");
            }
        }
    }

    #[test]
    fn program_switches_override_the_library() {
        let a = advise("unbound", "libpython3.11.so.1.0").unwrap();
        assert!(a.contains("--without-pythonmodule"), "{a}");
        assert!(a.starts_with("build without the Python module"), "{a}");
        let a = advise("dnsmasq", "libdbus-1.so.3").unwrap();
        assert!(a.contains("HAVE_DBUS"), "{a}");
        let a = advise("chronyd", "libgnutls.so.30").unwrap();
        assert!(a.contains("--without-gnutls"), "{a}");
        // Another program gets the generic advice.
        assert_eq!(
            advise("other", "libgnutls.so.30").unwrap(),
            library("libgnutls.so.30").unwrap().advice()
        );
        assert!(advise("x", "libunknown.so.1").is_none());
        for p in PROGRAM_SWITCHES {
            assert!(library(&format!("{}.so.1", p.soname_prefix)).is_some());
        }
    }

    #[test]
    fn plans_group_and_dedupe() {
        let mut p = Plan::default();
        for s in [
            "libssl.so.3",
            "libcrypto.so.3",
            "libpython3.11.so.1.0",
            "libsystemd.so.0",
            "libc.so.6",
            "libfoo.so.1",
        ] {
            p.add("unbound", s);
        }
        assert_eq!(
            p.sentence(),
            "build without the Python module (--without-pythonmodule, the default (Debian \
             passes --with-pythonmodule)), systemd support (leave out --enable-systemd); link \
             OpenSSL (recipe `openssl`) statically; link libfoo statically (not in the advice \
             table)"
        );
        let mut p = Plan::default();
        p.add("app", "libGL.so.1");
        p.add("app", "libperl.so.5.36");
        assert_eq!(p.blocked, ["OpenGL"]);
        assert!(
            p.sentence()
                .starts_with("cannot be static: OpenGL; build without the embedded Perl")
        );
        let mut p = Plan::default();
        p.add("app", "libc.so.6");
        p.add("app", "libstdc++.so.6");
        assert!(p.is_empty());
    }

    #[test]
    fn rust_plans_name_the_musl_target_and_the_sys_crates() {
        let needed: Vec<String> = [
            "libssl.so.3",
            "libcrypto.so.3",
            "libgcc_s.so.1",
            "libc.so.6",
        ]
        .map(String::from)
        .to_vec();
        let mut p = Plan::default();
        p.add_rust("app", Some(crate::arch::Arch::Arm64), &needed);
        p.add_rust(
            "other",
            Some(crate::arch::Arch::Arm64),
            &["libsystemd.so.0".into()],
        );
        assert!(!p.is_empty());
        assert_eq!(
            p.sentence(),
            "build for the musl target (`aarch64-unknown-linux-musl`) with crt-static, as a \
             recipe's `system = \"cargo\"` does; openssl-sys: enable its `vendored` feature (the \
             `openssl` crate's `vendored`: OpenSSL built from source, linked in; it reads no \
             system CA store by itself), or switch to rustls; build without systemd (sd_notify, the \
             journal)"
        );
        // Nothing to link: the target alone.
        let mut p = Plan::default();
        p.add_rust("app", None, &["libc.so.6".into()]);
        assert!(
            p.sentence()
                .starts_with("build for the musl target (`x86_64")
        );
        assert_eq!(
            advise_rust("app", "libssl.so.3"),
            Some(rust::sys_crate("libssl.so.3").unwrap().advice())
        );
        assert_eq!(advise_rust("app", "libc.so.6"), advise("app", "libc.so.6"));
    }

    #[test]
    fn cgo_modules() {
        assert!(cgo_module("github.com/mattn/go-sqlite3").is_some());
        assert!(cgo_module("github.com/confluentinc/confluent-kafka-go/v2").is_some());
        assert!(cgo_module("github.com/mattn/go-sqlite3x").is_none());
        assert!(cgo_module("modernc.org/sqlite").is_none());
        assert!(cgo_module("github.com/mattn/go-isatty").is_none());
    }
}
