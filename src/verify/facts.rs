//! What the deep ELF check learned about a binary, as plain data: the facts `recipe check` turns
//! into a verdict and `recipe verify --json` prints. Filled by [`super::elf::check_elf`].

use serde::Serialize;

/// Everything the ELF says about how the binary will run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// `dlopen`/`dlsym` referenced (a symbol, or musl's static stub message).
    pub dlopen: Option<String>,
    /// Evidence that the binary runs a shell (`/bin/sh` with `system`/`popen`/`exec*`).
    pub shell: Option<String>,
    /// Files the binary looks for at run time (CA bundles, zoneinfo, passwd, ...).
    pub runtime_files: Vec<RuntimeFile>,
    pub hardening: Hardening,
}

/// What kind of ELF object this is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeFile {
    /// The path as found in the binary, e.g. `/etc/ssl/certs/ca-certificates.crt`.
    pub path: String,
    /// What it is for, e.g. `CA bundle`, `zoneinfo`, `user database`.
    pub what: &'static str,
}

/// Hardening properties from the program headers and dynamic section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relro {
    #[default]
    None,
    Partial,
    /// PT_GNU_RELRO with BIND_NOW (or a static binary with PT_GNU_RELRO).
    Full,
}

/// Go's build info (`runtime/debug.BuildInfo`), read from the `.go.buildinfo` blob.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    /// The `h1:` checksum, when recorded.
    pub sum: Option<String>,
    /// A `=>` replacement of this module.
    pub replace: Option<Box<GoModule>>,
}
