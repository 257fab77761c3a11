//! What a static build does about a shared library, and which Go modules need cgo: a static,
//! tested table. Every piece of advice `recipe check` gives about a library comes from here
//! ([`Library::advice`], [`ProgramSwitch`], [`GoModule`]), never from free text.

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

const fn lib(
    soname_prefix: &'static str,
    name: &'static str,
    debian: &'static [&'static str],
    action: Action,
) -> Library {
    Library {
        soname_prefix,
        name,
        debian,
        action,
    }
}

const fn static_(recipe: Option<&'static str>) -> Action {
    Action::LinkStatic { recipe }
}

const fn without(what: &'static str) -> Action {
    Action::BuildWithout {
        what,
        switches: &[],
    }
}

const GPU: &str = "a GPU driver library matches the host's kernel driver and is loaded from the \
                   host at run time";
const PAM: &str = "PAM loads its modules (pam_*.so) with dlopen and reads /etc/pam.d at run time";
const NSS: &str = "glibc loads NSS modules with dlopen to look up users and hosts; musl has no \
                   NSS (a static build uses /etc/passwd and DNS directly)";

/// The table. Order matters only where prefixes overlap: the first match wins.
pub static LIBRARIES: &[Library] = &[
    // The C library family.
    lib("libc", "the C library", &["libc6"], Action::Musl),
    lib("libm", "libm", &["libc6"], Action::Musl),
    lib("libpthread", "libpthread", &["libc6"], Action::Musl),
    lib("libdl", "libdl", &["libc6"], Action::Musl),
    lib("librt", "librt", &["libc6"], Action::Musl),
    lib("libutil", "libutil", &["libc6"], Action::Musl),
    lib("libresolv", "libresolv", &["libc6"], Action::Musl),
    lib("libanl", "libanl", &["libc6"], Action::Musl),
    lib("libcrypt", "libcrypt", &["libcrypt1"], Action::Musl),
    lib("ld-linux-", "the dynamic loader", &["libc6"], Action::Musl),
    lib("ld-linux", "the dynamic loader", &["libc6"], Action::Musl),
    lib("ld64", "the dynamic loader", &["libc6"], Action::Musl),
    lib("ld-musl-", "musl's dynamic loader", &["musl"], Action::Musl),
    // The compiler's runtime.
    lib(
        "libstdc++",
        "the C++ runtime",
        &["libstdc++6"],
        Action::Toolchain,
    ),
    lib("libgcc_s", "libgcc", &["libgcc-s1"], Action::Toolchain),
    lib("libatomic", "libatomic", &["libatomic1"], Action::Toolchain),
    lib(
        "libc++",
        "the C++ runtime (libc++)",
        &["libc++1*"],
        Action::Toolchain,
    ),
    lib(
        "libc++abi",
        "libc++abi",
        &["libc++abi1*"],
        Action::Toolchain,
    ),
    lib("libunwind", "libunwind", &["libunwind*"], Action::Toolchain),
    // Libraries with a catalogue recipe.
    lib(
        "libssl",
        "OpenSSL",
        &["libssl3", "libssl3t64", "libssl1.1"],
        static_(Some("openssl")),
    ),
    lib(
        "libcrypto",
        "OpenSSL",
        &["libssl3", "libssl3t64", "libssl1.1"],
        static_(Some("openssl")),
    ),
    lib("libz", "zlib", &["zlib1g"], static_(Some("zlib"))),
    lib(
        "libpcre2",
        "PCRE2",
        &[
            "libpcre2-8-0",
            "libpcre2-16-0",
            "libpcre2-32-0",
            "libpcre2-posix3",
        ],
        static_(Some("pcre2")),
    ),
    lib("libexpat", "expat", &["libexpat1"], static_(Some("expat"))),
    lib(
        "libcurl",
        "curl",
        &[
            "libcurl4",
            "libcurl4t64",
            "libcurl3-gnutls",
            "libcurl3t64-gnutls",
        ],
        static_(Some("curl")),
    ),
    // Libraries without one: build them static first.
    lib(
        "libnettle",
        "nettle",
        &["libnettle8", "libnettle8t64"],
        static_(None),
    ),
    lib(
        "libhogweed",
        "nettle",
        &["libhogweed6", "libhogweed6t64"],
        static_(None),
    ),
    lib("libgmp", "GMP", &["libgmp10"], static_(None)),
    lib(
        "libgnutls",
        "GnuTLS",
        &["libgnutls30", "libgnutls30t64"],
        static_(None),
    ),
    lib("libsodium", "libsodium", &["libsodium23"], static_(None)),
    lib("libevent", "libevent", &["libevent-2.1-7*"], static_(None)),
    lib("libevent_", "libevent", &["libevent-*"], static_(None)),
    lib(
        "libnl",
        "libnl",
        &["libnl-3-200", "libnl-genl-3-200", "libnl-route-3-200"],
        static_(None),
    ),
    lib("libnghttp2", "nghttp2", &["libnghttp2-14"], static_(None)),
    lib(
        "libprotobuf-c",
        "protobuf-c",
        &["libprotobuf-c1"],
        static_(None),
    ),
    lib("libbsd", "libbsd", &["libbsd0"], static_(None)),
    lib("libmd", "libmd", &["libmd0"], static_(None)),
    lib("liblzma", "xz", &["liblzma5"], static_(None)),
    lib("libzstd", "zstd", &["libzstd1"], static_(None)),
    lib("libbz2", "bzip2", &["libbz2-1.0"], static_(None)),
    lib("liblz4", "lz4", &["liblz4-1"], static_(None)),
    lib("libpcre", "PCRE", &["libpcre3"], static_(None)),
    lib("libxml2", "libxml2", &["libxml2"], static_(None)),
    lib("libyaml", "libyaml", &["libyaml-0-2"], static_(None)),
    lib("libsqlite3", "SQLite", &["libsqlite3-0"], static_(None)),
    lib("libffi", "libffi", &["libffi8"], static_(None)),
    lib("libuuid", "libuuid", &["libuuid1"], static_(None)),
    lib("libmnl", "libmnl", &["libmnl0"], static_(None)),
    // Optional integrations a container does without.
    lib(
        "libsystemd",
        "systemd",
        &["libsystemd0"],
        without("systemd (sd_notify, the journal)"),
    ),
    lib(
        "libwrap",
        "tcp-wrappers",
        &["libwrap0"],
        without("tcp-wrappers (libwrap)"),
    ),
    lib("libdbus", "D-Bus", &["libdbus-1-3"], without("D-Bus")),
    lib(
        "libselinux",
        "SELinux",
        &["libselinux1"],
        without("SELinux"),
    ),
    lib(
        "libapparmor",
        "AppArmor",
        &["libapparmor1"],
        without("AppArmor"),
    ),
    lib(
        "libaudit",
        "the audit library",
        &["libaudit1"],
        without("audit logging (libaudit)"),
    ),
    lib(
        "libcap",
        "libcap",
        &["libcap2"],
        without("libcap (privilege dropping: a container gets its capabilities from the runtime)"),
    ),
    lib(
        "libseccomp",
        "libseccomp",
        &["libseccomp2"],
        without("its own seccomp filter (the container runtime applies one)"),
    ),
    lib(
        "libidn2",
        "libidn2",
        &["libidn2-0"],
        without("IDN (libidn2)"),
    ),
    lib("libidn", "libidn", &["libidn12"], without("IDN (libidn)")),
    lib(
        "libnetfilter_conntrack",
        "libnetfilter_conntrack",
        &["libnetfilter-conntrack3"],
        without("conntrack support (libnetfilter_conntrack)"),
    ),
    lib(
        "libnftables",
        "nftables",
        &["libnftables1"],
        without("nftables sets (libnftables)"),
    ),
    lib(
        "libedit",
        "libedit",
        &["libedit2"],
        without("line editing (libedit)"),
    ),
    lib(
        "libreadline",
        "readline",
        &["libreadline8*"],
        without("line editing (readline)"),
    ),
    // Embedded language runtimes: plugins.
    lib(
        "libpython",
        "Python",
        &["libpython3.*", "libpython2.*"],
        Action::Embedded { language: "Python" },
    ),
    lib(
        "libperl",
        "Perl",
        &["libperl5.*"],
        Action::Embedded { language: "Perl" },
    ),
    lib(
        "libluajit",
        "LuaJIT",
        &["libluajit-5.1-2", "libluajit2-5.1-2"],
        Action::Embedded { language: "Lua" },
    ),
    lib(
        "liblua",
        "Lua",
        &["liblua5.*"],
        Action::Embedded { language: "Lua" },
    ),
    // Cannot be static.
    lib(
        "libGL",
        "OpenGL",
        &["libgl1", "libglx0"],
        Action::NotStatic { why: GPU },
    ),
    lib(
        "libGLX",
        "OpenGL (GLX)",
        &["libglx0"],
        Action::NotStatic { why: GPU },
    ),
    lib(
        "libEGL",
        "EGL",
        &["libegl1"],
        Action::NotStatic { why: GPU },
    ),
    lib(
        "libGLESv2",
        "OpenGL ES",
        &["libgles2"],
        Action::NotStatic { why: GPU },
    ),
    lib(
        "libvulkan",
        "Vulkan",
        &["libvulkan1"],
        Action::NotStatic { why: GPU },
    ),
    lib(
        "libcuda",
        "CUDA",
        &["libcuda1", "libnvidia-*"],
        Action::NotStatic { why: GPU },
    ),
    lib(
        "libnvidia-",
        "the NVIDIA driver",
        &["libnvidia-*"],
        Action::NotStatic { why: GPU },
    ),
    lib(
        "libpam",
        "PAM",
        &["libpam0g"],
        Action::NotStatic { why: PAM },
    ),
    lib(
        "libnss_",
        "an NSS module",
        &["libnss-*"],
        Action::NotStatic { why: NSS },
    ),
];

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

const UNBOUND: &[&str] = &[
    "unbound",
    "unbound-checkconf",
    "unbound-control",
    "unbound-anchor",
];
const CHRONY: &[&str] = &["chronyd", "chronyc"];

/// Switches read from the programs' sources: unbound 1.17's configure.ac (and Debian's
/// rules, which turn these on), dnsmasq 2.90's config.h (every integration is off unless
/// `COPTS` defines it; Debian's rules define them), chrony 4.3's configure.
pub static PROGRAM_SWITCHES: &[ProgramSwitch] = &[
    ProgramSwitch {
        programs: UNBOUND,
        soname_prefix: "libpython",
        what: "the Python module",
        switch: "--without-pythonmodule (the default; Debian passes --with-pythonmodule)",
    },
    ProgramSwitch {
        programs: UNBOUND,
        soname_prefix: "libsystemd",
        what: "systemd support",
        switch: "leave out --enable-systemd",
    },
    ProgramSwitch {
        programs: UNBOUND,
        soname_prefix: "libprotobuf-c",
        what: "dnstap",
        switch: "leave out --enable-dnstap",
    },
    ProgramSwitch {
        programs: UNBOUND,
        soname_prefix: "libnghttp2",
        what: "DNS over HTTPS",
        switch: "leave out --with-libnghttp2",
    },
    ProgramSwitch {
        programs: UNBOUND,
        soname_prefix: "libevent",
        what: "libevent",
        switch: "--without-libevent (its own event loop)",
    },
    ProgramSwitch {
        programs: &["dnsmasq"],
        soname_prefix: "libdbus",
        what: "D-Bus",
        switch: "leave -DHAVE_DBUS out of COPTS",
    },
    ProgramSwitch {
        programs: &["dnsmasq"],
        soname_prefix: "libidn2",
        what: "IDN",
        switch: "leave -DHAVE_LIBIDN2 out of COPTS",
    },
    ProgramSwitch {
        programs: &["dnsmasq"],
        soname_prefix: "libnetfilter_conntrack",
        what: "conntrack",
        switch: "leave -DHAVE_CONNTRACK out of COPTS",
    },
    ProgramSwitch {
        programs: &["dnsmasq"],
        soname_prefix: "libnftables",
        what: "nftables sets",
        switch: "leave -DHAVE_NFTSET out of COPTS",
    },
    ProgramSwitch {
        programs: CHRONY,
        soname_prefix: "libgnutls",
        what: "NTS",
        switch: "--disable-nts --without-gnutls",
    },
    ProgramSwitch {
        programs: CHRONY,
        soname_prefix: "libcap",
        what: "libcap",
        switch: "--without-libcap",
    },
    ProgramSwitch {
        programs: CHRONY,
        soname_prefix: "libseccomp",
        what: "seccomp",
        switch: "--without-seccomp",
    },
    ProgramSwitch {
        programs: CHRONY,
        soname_prefix: "libedit",
        what: "line editing",
        switch: "--without-editline",
    },
];

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

/// A Go module that needs cgo: its C code is the point of it, so `CGO_ENABLED=0` breaks the
/// build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoModule {
    pub path_prefix: &'static str,
    pub why: &'static str,
}

/// Modules whose only implementation is a cgo binding.
pub static CGO_MODULES: &[GoModule] = &[
    GoModule {
        path_prefix: "github.com/mattn/go-sqlite3",
        why: "compiles SQLite's C source through cgo (modernc.org/sqlite is a pure-Go driver)",
    },
    GoModule {
        path_prefix: "github.com/confluentinc/confluent-kafka-go",
        why: "wraps librdkafka, a C library (build with `-tags musl` on musl)",
    },
    GoModule {
        path_prefix: "github.com/DataDog/zstd",
        why: "wraps the zstd C library",
    },
    GoModule {
        path_prefix: "github.com/valyala/gozstd",
        why: "wraps the zstd C library",
    },
    GoModule {
        path_prefix: "github.com/seccomp/libseccomp-golang",
        why: "binds libseccomp, a C library",
    },
    GoModule {
        path_prefix: "github.com/godror/godror",
        why: "binds Oracle's ODPI-C",
    },
    GoModule {
        path_prefix: "github.com/mattn/go-oci8",
        why: "binds Oracle's OCI, a C library",
    },
    GoModule {
        path_prefix: "github.com/linxGnu/grocksdb",
        why: "binds RocksDB, a C++ library",
    },
    GoModule {
        path_prefix: "github.com/tecbot/gorocksdb",
        why: "binds RocksDB, a C++ library",
    },
    GoModule {
        path_prefix: "github.com/go-gl/glfw",
        why: "binds GLFW, a C library (and needs the host's OpenGL)",
    },
    GoModule {
        path_prefix: "github.com/ceph/go-ceph",
        why: "binds librados and libcephfs, C libraries",
    },
    GoModule {
        path_prefix: "libvirt.org/go/libvirt",
        why: "binds libvirt, a C library",
    },
    GoModule {
        path_prefix: "github.com/libvirt/libvirt-go",
        why: "binds libvirt, a C library",
    },
    GoModule {
        path_prefix: "github.com/miekg/pkcs11",
        why: "calls PKCS#11 modules through cgo",
    },
];

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
    fn cgo_modules() {
        assert!(cgo_module("github.com/mattn/go-sqlite3").is_some());
        assert!(cgo_module("github.com/confluentinc/confluent-kafka-go/v2").is_some());
        assert!(cgo_module("github.com/mattn/go-sqlite3x").is_none());
        assert!(cgo_module("modernc.org/sqlite").is_none());
        assert!(cgo_module("github.com/mattn/go-isatty").is_none());
    }
}
