//! What the deep ELF check learned about a binary, as plain data: the facts `recipe check` turns
//! into a verdict and `recipe verify --json` prints. Filled by [`super::elf::check_elf`].

use serde::{Deserialize, Serialize};

/// Everything the ELF says about how the binary will run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfFacts {
    pub class_bits: u8,
    /// e.g. `x86-64`, `AArch64`, `ARM`, or goblin's name for others.
    pub machine: String,
    pub little_endian: bool,
    pub kind: ElfKind,
    /// PT_INTERP, if any.
    pub interpreter: Option<String>,
    /// DT_NEEDED entries, in order.
    pub needed: Vec<String>,
    /// DT_SONAME, if any.
    pub soname: Option<String>,
    /// True for ET_DYN executables with no PT_INTERP and no DT_NEEDED.
    pub static_pie: bool,
    pub libc: Libc,
    /// Go's embedded build info, for Go binaries.
    pub go: Option<GoBuildInfo>,
    /// What rustc left in the binary, for Rust binaries. Absent from records written before it
    /// was read (and from the JSON of a binary rustc did not build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust: Option<RustInfo>,
    /// `dlopen`/`dlsym` referenced (a symbol, or musl's static stub message).
    pub dlopen: Option<String>,
    /// Evidence that the binary runs a shell (`/bin/sh` with `system`/`popen`/`exec*`).
    pub shell: Option<String>,
    /// Files the binary looks for at run time (CA bundles, zoneinfo, passwd, ...).
    pub runtime_files: Vec<RuntimeFile>,
    pub hardening: Hardening,
}

/// What kind of ELF object this is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ElfKind {
    /// ET_EXEC, or ET_DYN with an entry point or PT_INTERP (PIE).
    #[default]
    Executable,
    /// ET_DYN with a SONAME or no entry point.
    SharedLibrary,
    Relocatable,
    Core,
    Other,
}

/// Which C library is inside (static) or asked for (dynamic).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "name")]
pub enum Libc {
    Musl,
    /// glibc: `version` is the highest `GLIBC_x.y` seen; `evidence` says how it was recognised.
    Glibc {
        version: Option<String>,
        evidence: String,
    },
    /// A Go binary built without cgo: no C library at all.
    None,
    #[default]
    Unknown,
}

/// A file the binary expects at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeFile {
    /// The path as found in the binary, e.g. `/etc/ssl/certs/ca-certificates.crt`.
    pub path: String,
    /// What it is for; in JSON (`what`) its description, e.g. `CA certificates`.
    #[serde(rename = "what")]
    pub kind: RuntimeKind,
}

/// What a [`RuntimeFile`] is for. A `runtime-file` finding carries it
/// ([`super::Code::RuntimeFile`]), so callers match on the kind, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuntimeKind {
    /// A CA bundle or folder (`/etc/ssl/certs/ca-certificates.crt`, ...).
    CaBundle,
    /// Time zone data (`/usr/share/zoneinfo`, `/etc/localtime`).
    Zoneinfo,
    /// The user and group database (`/etc/passwd`, `/etc/group`).
    Users,
    /// `/etc/nsswitch.conf`.
    NameServiceSwitch,
    /// `/etc/resolv.conf`.
    Resolver,
    /// `/etc/hosts`.
    Hosts,
}

impl RuntimeKind {
    /// Paths binaries look for at run time, and what each is. (A folder is named only when no
    /// file under it is found.)
    pub const PATHS: &[(&str, RuntimeKind)] = &[
        ("/etc/ssl/certs/ca-certificates.crt", RuntimeKind::CaBundle),
        ("/etc/pki/tls/certs/ca-bundle.crt", RuntimeKind::CaBundle),
        ("/etc/ssl/ca-bundle.pem", RuntimeKind::CaBundle),
        ("/etc/pki/tls/cacert.pem", RuntimeKind::CaBundle),
        ("/etc/ssl/cert.pem", RuntimeKind::CaBundle),
        ("/etc/ssl/certs", RuntimeKind::CaBundle),
        ("/usr/share/zoneinfo", RuntimeKind::Zoneinfo),
        ("/etc/localtime", RuntimeKind::Zoneinfo),
        ("/etc/passwd", RuntimeKind::Users),
        ("/etc/group", RuntimeKind::Users),
        ("/etc/nsswitch.conf", RuntimeKind::NameServiceSwitch),
        ("/etc/resolv.conf", RuntimeKind::Resolver),
        ("/etc/hosts", RuntimeKind::Hosts),
    ];

    /// What the file is, as messages and `--json` say it: `CA certificates`, `time zones`, ...
    pub const fn describe(self) -> &'static str {
        match self {
            RuntimeKind::CaBundle => "CA certificates",
            RuntimeKind::Zoneinfo => "time zones",
            RuntimeKind::Users => "the user database",
            RuntimeKind::NameServiceSwitch => "the name service switch",
            RuntimeKind::Resolver => "the DNS resolver config",
            RuntimeKind::Hosts => "the hosts file",
        }
    }

    /// True for files container runtimes provide (resolv.conf, hosts), or whose absence is the
    /// default (without nsswitch.conf musl never reads it; Go and glibc fall back to
    /// `files dns`): an image lacking them is not worth a warning.
    pub const fn provided_by_runtime(self) -> bool {
        matches!(
            self,
            RuntimeKind::Resolver | RuntimeKind::Hosts | RuntimeKind::NameServiceSwitch
        )
    }

    /// What goes wrong when the image lacks it.
    pub const fn consequence(self) -> &'static str {
        match self {
            RuntimeKind::CaBundle => "TLS connections cannot verify servers",
            RuntimeKind::Zoneinfo => "time zones other than UTC are unknown",
            RuntimeKind::Users => "user and group names do not resolve",
            _ => "reads of it fail",
        }
    }
}

impl Serialize for RuntimeKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.describe())
    }
}

impl<'de> Deserialize<'de> for RuntimeKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let what = String::deserialize(d)?;
        RuntimeKind::PATHS
            .iter()
            .map(|&(_, kind)| kind)
            .find(|kind| kind.describe() == what)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown runtime file kind `{what}`")))
    }
}

/// Hardening properties from the program headers and dynamic section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardening {
    /// PT_GNU_STACK present without the execute flag.
    pub nx_stack: bool,
    pub relro: Relro,
    pub pie: bool,
    /// No `.symtab` section.
    pub stripped: bool,
    /// PT_GNU_STACK's p_memsz when non-zero: musl uses it as the default thread stack size.
    pub stack_size: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relro {
    #[default]
    None,
    Partial,
    /// PT_GNU_RELRO with BIND_NOW (or a static binary with PT_GNU_RELRO).
    Full,
}

/// What a binary says about the rustc that built it ([`super::rustinfo`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustInfo {
    /// rustc's version from the `.comment` section, e.g. `1.96.0` (from `rustc version 1.96.0
    /// (ac68faa20 2026-05-25)`).
    pub rustc_version: String,
    /// The panic strategy the binary looks built with: a hint, not a proof (see
    /// [`PanicStrategy`]).
    pub panic: PanicStrategy,
}

/// How a Rust binary's panics end, as its bytes suggest: with `panic = "unwind"` core's
/// `panic in a function that cannot unwind` message is linked in (and landing pads fill a
/// `.gcc_except_table`); with `panic = "abort"` and a std built for it, neither. C++ code
/// linked in brings a `.gcc_except_table` of its own, so the message decides; a std built for
/// unwinding, linked into a `panic = "abort"` program, still carries it (then this says
/// `unwind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PanicStrategy {
    Unwind,
    Abort,
}

impl PanicStrategy {
    /// `unwind` or `abort`, as Cargo's `panic` setting spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            PanicStrategy::Unwind => "unwind",
            PanicStrategy::Abort => "abort",
        }
    }
}

/// Go's build info (`runtime/debug.BuildInfo`), read from the `.go.buildinfo` blob.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBuildInfo {
    /// e.g. `go1.26.8`.
    pub go_version: String,
    /// The main package path, e.g. `github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin`.
    pub path: String,
    /// The main module, when built in module mode.
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
    /// `build` lines in order: `-tags`, `CGO_ENABLED`, `GOARCH`, `GOARM`, `-ldflags`, ...
    pub settings: Vec<(String, String)>,
}

impl GoBuildInfo {
    /// The value of a `build` setting, e.g. `setting("CGO_ENABLED") == Some("0")`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    /// The `h1:` checksum, when recorded.
    pub sum: Option<String>,
    /// A `=>` replacement of this module.
    pub replace: Option<Box<GoModule>>,
}
