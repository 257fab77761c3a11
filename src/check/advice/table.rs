//! The data of the advice table (the types and lookups are in the module above): the
//! libraries, the per-program switches read from their sources, the cgo-only Go modules.

use super::{Action, GoModule, Library, ProgramSwitch};

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
        switch: "--without-pythonmodule, the default (Debian passes --with-pythonmodule)",
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
        switch: "--without-libevent",
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
