//! The deep part of the ELF check: what a static binary still needs at run time. Which C library
//! is inside (glibc's NSS lookups load shared modules even from a static binary), `dlopen`, a
//! shell, the files it reads (CA bundle, zoneinfo, user database), hardening, and for Go binaries
//! the build info checked against what the recipe asked for. Pure functions over the bytes.

use std::collections::BTreeSet;

use goblin::elf::Elf;
use goblin::elf::dynamic::{DF_1_NOW, DF_BIND_NOW};
use goblin::elf::header::ET_DYN;
use goblin::elf::program_header::{PF_X, PT_GNU_RELRO, PT_GNU_STACK};
use goblin::elf::section_header::SHT_SYMTAB;

use super::elf::{Finding, error, info, warning};
use super::facts::{ElfFacts, GoBuildInfo, Hardening, Libc, Relro, RuntimeFile};
use crate::arch::Arch;

/// What the caller knows the binary should be: its arch, for Go what the recipe asked of the
/// Go toolchain, and the files the image will hold (to say which runtime files are missing).
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub arch: Option<Arch>,
    pub go: Option<GoExpect>,
    /// Absolute paths of every file, folder and link in the image; None when unknown.
    pub image_files: Option<BTreeSet<String>>,
}

impl Expect {
    pub fn arch(arch: Option<Arch>) -> Expect {
        Expect {
            arch,
            ..Expect::default()
        }
    }
}

/// What a Go build was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoExpect {
    /// `go1.26.8`.
    pub go_version: Option<String>,
    pub cgo: bool,
    /// Build tags that must appear in `-tags`.
    pub tags: Vec<String>,
    /// The main module's path, when the source is a Go module.
    pub module: Option<String>,
}

/// musl's default thread stack size, and the most it takes from PT_GNU_STACK.
const MUSL_THREAD_STACK: u64 = 128 * 1024;
const MUSL_THREAD_STACK_MAX: u64 = 8 * 1024 * 1024;

/// Functions that make glibc consult NSS (and so `dlopen` `libnss_*.so.2`, even when static).
const NSS_FUNCTIONS: &[&str] = &[
    "getpwnam",
    "getpwnam_r",
    "getpwuid",
    "getpwuid_r",
    "getpwent",
    "getgrnam",
    "getgrnam_r",
    "getgrgid",
    "getgrgid_r",
    "getgrent",
    "getgrouplist",
    "initgroups",
    "getaddrinfo",
    "gethostbyname",
    "gethostbyname2",
    "gethostbyname_r",
    "gethostbyaddr",
    "getnameinfo",
    "getservbyname",
    "getservbyport",
    "getprotobyname",
    "getspnam",
];

const SHELL_FUNCTIONS: &[&str] = &[
    "system",
    "popen",
    "execl",
    "execlp",
    "execle",
    "execv",
    "execvp",
    "execvpe",
    "posix_spawn",
    "posix_spawnp",
    "wordexp",
];

/// Paths binaries look for at run time, and what each is.
const RUNTIME_FILES: &[(&str, &str)] = &[
    ("/etc/ssl/certs/ca-certificates.crt", CA_BUNDLE),
    ("/etc/pki/tls/certs/ca-bundle.crt", CA_BUNDLE),
    ("/etc/ssl/ca-bundle.pem", CA_BUNDLE),
    ("/etc/pki/tls/cacert.pem", CA_BUNDLE),
    ("/etc/ssl/cert.pem", CA_BUNDLE),
    ("/etc/ssl/certs", CA_BUNDLE),
    ("/usr/share/zoneinfo", ZONEINFO),
    ("/etc/localtime", ZONEINFO),
    ("/etc/passwd", USERS),
    ("/etc/group", USERS),
    ("/etc/nsswitch.conf", NSSWITCH),
    ("/etc/resolv.conf", RESOLVER),
    ("/etc/hosts", HOSTS),
];
const NSSWITCH: &str = "the name service switch";
const RESOLVER: &str = "the DNS resolver config";
const HOSTS: &str = "the hosts file";
const CA_BUNDLE: &str = "CA certificates";
const ZONEINFO: &str = "time zones";
const USERS: &str = "the user database";

/// Fills the deep facts of a parsed ELF and adds the findings they call for.
pub(super) fn inspect(
    bytes: &[u8],
    elf: &Elf<'_>,
    expect: &Expect,
    facts: &mut ElfFacts,
    findings: &mut Vec<Finding>,
) {
    let strings = Strings::scan(bytes, elf);
    facts.go = match super::goinfo::go_buildinfo(bytes, elf) {
        None => None,
        Some(Ok(g)) => Some(g),
        Some(Err(e)) => {
            findings.push(error(
                "go-buildinfo",
                format!("unreadable Go build info: {e}"),
            ));
            None
        }
    };
    facts.libc = libc(&strings, elf, facts);
    let is_static = facts.interpreter.is_none() && facts.needed.is_empty();
    let glibc_static = is_static && matches!(facts.libc, Libc::Glibc { .. });
    let syms = Symbols::of(elf, glibc_static);

    if let Libc::Glibc { evidence, .. } = &facts.libc
        && is_static
    {
        findings.push(warning(
            "glibc-static",
            format!(
                "glibc linked statically ({evidence}): glibc does not support static linking \
                 fully; musl does"
            ),
        ));
        let nss: Vec<&str> = NSS_FUNCTIONS
            .iter()
            .copied()
            .filter(|f| syms.has(f))
            .collect();
        if !nss.is_empty() || strings.has("nsswitch.conf") {
            let what = if nss.is_empty() {
                "it reads /etc/nsswitch.conf".to_string()
            } else {
                format!("it calls {}", nss.join(", "))
            };
            findings.push(error(
                "nss",
                format!(
                    "static glibc with NSS lookups ({what}): since glibc 2.34 the `files` and \
                     `dns` sources are built in, but any other source named in \
                     /etc/nsswitch.conf makes it dlopen libnss_*.so.2 of this exact glibc \
                     version, which a distroless image lacks; rebuild against musl"
                ),
            ));
        }
    }

    // Static glibc references dlopen itself (NSS, iconv): the `nss` finding covers that need.
    facts.dlopen = if glibc_static {
        None
    } else {
        dlopen(&strings, &syms, facts.go.is_some())
    };
    if let Some(ev) = &facts.dlopen {
        findings.push(warning(
            "dlopen",
            format!(
                "loads code at run time ({ev}): in a static binary dlopen always fails, so \
                 plugins, engines or modules it would load are unavailable"
            ),
        ));
    }
    facts.shell = shell(&strings, &syms);
    if let Some(ev) = &facts.shell {
        findings.push(warning(
            "shell",
            format!("runs a shell ({ev}); a distroless image has no /bin/sh, so those calls fail"),
        ));
    }

    facts.runtime_files = runtime_files(&strings);
    runtime_file_findings(&facts.runtime_files, expect, findings);

    facts.hardening = hardening(elf, facts, &syms);
    if let Some(f) = hardening_finding(&facts.hardening, facts) {
        findings.push(f);
    }

    if let Some(go) = &expect.go {
        check_go(facts.go.as_ref(), go, expect.arch, findings);
    }
}

/// Symbol names from `.dynsym` and `.symtab` (imports and, when not stripped, definitions).
/// Of the symbol names the deep check asks about (NSS, shell and dlopen functions), those the
/// binary imports (`.dynsym`) or, with `symtab`, defines (`.symtab`: only worth reading for a
/// static glibc, whose NSS calls have no other trace; a large Go binary has 100,000 symbols).
struct Symbols {
    names: BTreeSet<&'static str>,
}

const DLOPEN_FUNCTIONS: &[&str] = &["dlopen", "dlmopen", "dlsym", "dlvsym"];

impl Symbols {
    fn of(elf: &Elf<'_>, symtab: bool) -> Symbols {
        use std::collections::HashSet;
        use std::sync::OnceLock;
        static WANTED: OnceLock<HashSet<&'static str>> = OnceLock::new();
        let wanted = WANTED.get_or_init(|| {
            NSS_FUNCTIONS
                .iter()
                .chain(SHELL_FUNCTIONS)
                .chain(DLOPEN_FUNCTIONS)
                .copied()
                .collect()
        });
        let mut names = BTreeSet::new();
        let mut look = |name: Option<&str>| {
            if let Some(w) = name.and_then(|n| wanted.get(strip_version(n))) {
                names.insert(*w);
            }
        };
        // Imports only: what a dynamic executable defines in .dynsym it exports (a cgo binary
        // exports its whole Go runtime, 170,000 names for dockerd), and exports call nothing.
        for s in elf.dynsyms.iter().filter(|s| s.st_shndx == 0) {
            look(elf.dynstrtab.get_at(s.st_name));
        }
        if symtab {
            for s in elf.syms.iter() {
                look(elf.strtab.get_at(s.st_name));
            }
        }
        Symbols { names }
    }

    fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

fn strip_version(n: &str) -> &str {
    n.split_once('@').map_or(n, |(name, _)| name)
}

/// Every string the deep check looks for, found in one pass over the file's data.
const MARKERS: &[&str] = &[
    "/bin/sh",
    "/bin/bash",
    "Dynamic loading not supported",
    "GLIBC_TUNABLES",
    "GNU C Library",
    "No error information",
    "nsswitch.conf",
    "GLIBC_2.",
];

/// Which markers and runtime-file paths occur in the file's data (allocated, non-executable
/// sections: .rodata, .data, .dynstr, ...; the whole file when it has no section headers), in
/// one Aho-Corasick pass, so a large binary's code and debug info are not scanned at all. A path
/// that only occurs inside a longer one is not reported on its own.
pub(super) struct Strings {
    /// Needle -> found anywhere.
    found: BTreeSet<&'static str>,
    /// Needle -> found as a whole path (not followed by more path characters).
    whole: BTreeSet<&'static str>,
    /// Every `GLIBC_x.y[.z]` seen.
    glibc: Vec<String>,
}

impl Strings {
    pub(super) fn scan(bytes: &[u8], elf: &Elf<'_>) -> Strings {
        Strings::in_ranges(bytes, data_ranges(bytes, elf))
    }

    fn in_ranges(bytes: &[u8], ranges: Vec<std::ops::Range<usize>>) -> Strings {
        use aho_corasick::AhoCorasick;
        use std::sync::OnceLock;
        static AC: OnceLock<(AhoCorasick, Vec<&'static str>)> = OnceLock::new();
        let (ac, needles) = AC.get_or_init(|| {
            let needles: Vec<&'static str> = MARKERS
                .iter()
                .copied()
                .chain(RUNTIME_FILES.iter().map(|(p, _)| *p))
                .collect();
            // Leftmost-longest, not overlapping: several times faster, and a path found inside a
            // longer one (`/etc/ssl/certs` in the bundle's path) adds nothing.
            let ac = AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&needles)
                .expect("fixed needles build");
            (ac, needles)
        });
        let mut out = Strings {
            found: BTreeSet::new(),
            whole: BTreeSet::new(),
            glibc: Vec::new(),
        };
        for range in ranges {
            let hay = &bytes[range];
            for m in ac.find_iter(hay) {
                let needle = needles[m.pattern().as_usize()];
                out.found.insert(needle);
                let next = hay.get(m.end()).copied().unwrap_or(0);
                if !(next.is_ascii_alphanumeric() || matches!(next, b'_' | b'-' | b'.')) {
                    out.whole.insert(needle);
                }
                if needle == "GLIBC_2." {
                    let rest = &hay[m.start() + 6..];
                    let n = rest
                        .iter()
                        .take(16)
                        .take_while(|c| c.is_ascii_digit() || **c == b'.')
                        .count();
                    out.glibc
                        .push(String::from_utf8_lossy(&rest[..n]).into_owned());
                }
            }
        }
        // A needle inside a found one was there too (`nsswitch.conf` in `/etc/nsswitch.conf`).
        let inner: Vec<&'static str> = needles
            .iter()
            .copied()
            .filter(|n| out.found.iter().any(|f| f != n && f.contains(n)))
            .collect();
        out.found.extend(inner);
        out
    }

    fn has(&self, needle: &str) -> bool {
        self.found.contains(needle)
    }

    fn has_path(&self, needle: &str) -> bool {
        self.whole.contains(needle)
    }
}

/// The parts of the file that hold data: allocated sections that are not code and not NOBITS,
/// or the whole file when there are no section headers (or they are unreadable).
fn data_ranges(bytes: &[u8], elf: &Elf<'_>) -> Vec<std::ops::Range<usize>> {
    use goblin::elf::section_header::{SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS};
    let mut ranges: Vec<std::ops::Range<usize>> = elf
        .section_headers
        .iter()
        .filter(|sh| {
            sh.sh_flags & u64::from(SHF_ALLOC) != 0
                && sh.sh_flags & u64::from(SHF_EXECINSTR) == 0
                && sh.sh_type != SHT_NOBITS
        })
        .filter_map(|sh| {
            let start = usize::try_from(sh.sh_offset).ok()?;
            let end = start.checked_add(usize::try_from(sh.sh_size).ok()?)?;
            (end <= bytes.len() && start < end).then_some(start..end)
        })
        .collect();
    if ranges.is_empty() {
        return std::iter::once(0..bytes.len()).collect();
    }
    ranges.sort_by_key(|r| r.start);
    ranges
}

fn libc(strings: &Strings, elf: &Elf<'_>, facts: &ElfFacts) -> Libc {
    if let Some(i) = &facts.interpreter {
        if i.contains("ld-musl") {
            return Libc::Musl;
        }
        if i.contains("ld-linux") || i.contains("ld64.so") {
            return Libc::Glibc {
                version: glibc_version(&strings.glibc),
                evidence: format!("interpreter {i}"),
            };
        }
    }
    if let Some(n) = facts.needed.iter().find(|n| n.starts_with("libc.so.6")) {
        return Libc::Glibc {
            version: glibc_version(&strings.glibc),
            evidence: format!("needs {n}"),
        };
    }
    if facts.needed.iter().any(|n| n.starts_with("libc.musl")) {
        return Libc::Musl;
    }
    if let Some(go) = &facts.go
        && go.setting("CGO_ENABLED") != Some("1")
    {
        return Libc::None;
    }
    if elf
        .section_headers
        .iter()
        .any(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".note.ABI-tag"))
    {
        return Libc::Glibc {
            version: glibc_version(&strings.glibc),
            evidence: "a .note.ABI-tag note".into(),
        };
    }
    if strings.has("GLIBC_TUNABLES") {
        return Libc::Glibc {
            version: glibc_version(&strings.glibc),
            evidence: "GLIBC_TUNABLES in the binary".into(),
        };
    }
    if strings.has("GNU C Library") {
        return Libc::Glibc {
            version: glibc_version(&strings.glibc),
            evidence: "the GNU C Library banner".into(),
        };
    }
    // musl's strerror(0) text; glibc says "Success".
    if strings.has("No error information") {
        return Libc::Musl;
    }
    Libc::Unknown
}

/// The highest `GLIBC_x.y[.z]` version among those seen.
fn glibc_version(seen: &[String]) -> Option<String> {
    seen.iter()
        .map(|v| v.trim_end_matches('.'))
        .filter_map(|v| {
            let parts: Vec<u32> = v
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            (parts.len() >= 2).then(|| (parts, v.to_string()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v)
}

fn dlopen(strings: &Strings, syms: &Symbols, is_go: bool) -> Option<String> {
    if strings.has("Dynamic loading not supported") {
        return Some("musl's static dlopen stub is linked in".into());
    }
    if is_go {
        // Go's runtime names dlopen-free symbols only; cgo binaries show up through dynsym.
        return syms.has("dlopen").then(|| "imports dlopen".into());
    }
    let used: Vec<&str> = DLOPEN_FUNCTIONS
        .iter()
        .copied()
        .filter(|s| syms.has(s))
        .collect();
    (!used.is_empty()).then(|| format!("references {}", used.join(", ")))
}

fn shell(strings: &Strings, syms: &Symbols) -> Option<String> {
    let sh = ["/bin/sh", "/bin/bash"]
        .into_iter()
        .find(|p| strings.has_path(p))?;
    let calls: Vec<&str> = SHELL_FUNCTIONS
        .iter()
        .copied()
        .filter(|f| syms.has(f))
        .collect();
    Some(if calls.is_empty() {
        format!("`{sh}` is named in the binary")
    } else {
        format!("`{sh}` is named in the binary, with {}", calls.join(", "))
    })
}

fn runtime_files(strings: &Strings) -> Vec<RuntimeFile> {
    let found: Vec<&(&str, &str)> = RUNTIME_FILES
        .iter()
        .filter(|(p, _)| strings.has(p))
        .collect();
    // A folder is worth naming only when no file under it was found.
    let under = |dir: &str| {
        found.iter().any(|(p, _)| {
            p.len() > dir.len() && p.starts_with(dir) && p.as_bytes()[dir.len()] == b'/'
        })
    };
    found
        .iter()
        .filter(|(p, _)| !under(p))
        .map(|&&(path, what)| RuntimeFile {
            path: path.to_string(),
            what,
        })
        .collect()
}

/// The `runtime-file` findings for `files`: notes, or warnings for those the image (when
/// `expect.image_files` is known) lacks.
pub fn runtime_file_findings(files: &[RuntimeFile], expect: &Expect, findings: &mut Vec<Finding>) {
    let mut kinds: Vec<&str> = files.iter().map(|f| f.what).collect();
    kinds.dedup();
    for what in kinds {
        let paths: Vec<&str> = files
            .iter()
            .filter(|f| f.what == what)
            .map(|f| f.path.as_str())
            .collect();
        let listed = paths
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ");
        // Container runtimes provide resolv.conf and hosts; without nsswitch.conf, musl never
        // reads it and Go and glibc fall back to `files dns`.
        let provided_by_runtime = matches!(what, RESOLVER | HOSTS | NSSWITCH);
        let missing = match &expect.image_files {
            Some(have) if !provided_by_runtime => !paths.iter().any(|p| image_has(have, p)),
            _ => false,
        };
        if missing {
            let consequence = match what {
                CA_BUNDLE => "TLS connections cannot verify servers",
                ZONEINFO => "time zones other than UTC are unknown",
                USERS => "user and group names do not resolve",
                _ => "reads of it fail",
            };
            findings.push(warning(
                "runtime-file",
                format!("reads {what} from {listed}; the image has none, so {consequence}"),
            ));
        } else {
            findings.push(info("runtime-file", format!("reads {what} from {listed}")));
        }
    }
}

/// True when the image holds `path` or something under it.
fn image_has(have: &BTreeSet<String>, path: &str) -> bool {
    if have.contains(path) {
        return true;
    }
    let prefix = format!("{path}/");
    have.range(prefix.clone()..)
        .next()
        .is_some_and(|p| p.starts_with(&prefix))
}

fn hardening(elf: &Elf<'_>, facts: &ElfFacts, syms: &Symbols) -> Hardening {
    let stack = elf
        .program_headers
        .iter()
        .find(|ph| ph.p_type == PT_GNU_STACK);
    let relro_seg = elf
        .program_headers
        .iter()
        .any(|ph| ph.p_type == PT_GNU_RELRO);
    let bind_now = elf
        .dynamic
        .as_ref()
        .is_some_and(|d| d.info.flags & DF_BIND_NOW != 0 || d.info.flags_1 & DF_1_NOW != 0);
    let is_static = facts.interpreter.is_none() && facts.needed.is_empty();
    let _ = syms;
    Hardening {
        nx_stack: stack.is_some_and(|ph| ph.p_flags & PF_X == 0),
        relro: match (relro_seg, bind_now || is_static) {
            (false, _) => Relro::None,
            (true, false) => Relro::Partial,
            (true, true) => Relro::Full,
        },
        pie: elf.header.e_type == ET_DYN,
        stripped: !elf
            .section_headers
            .iter()
            .any(|sh| sh.sh_type == SHT_SYMTAB),
        stack_size: stack.map(|ph| ph.p_memsz).filter(|&n| n > 0),
    }
}

fn hardening_finding(h: &Hardening, facts: &ElfFacts) -> Option<Finding> {
    if facts.kind != super::facts::ElfKind::Executable {
        return None;
    }
    let mut parts = vec![
        if h.nx_stack {
            "NX stack"
        } else {
            "executable stack"
        }
        .to_string(),
        match h.relro {
            Relro::None => "no RELRO",
            Relro::Partial => "partial RELRO",
            Relro::Full => "full RELRO",
        }
        .to_string(),
        if h.pie { "PIE" } else { "not PIE" }.to_string(),
        if h.stripped {
            "stripped"
        } else {
            "not stripped"
        }
        .to_string(),
    ];
    if matches!(facts.libc, Libc::Musl | Libc::Unknown) && facts.go.is_none() {
        parts.push(match h.stack_size {
            None => format!(
                "thread stack: musl's default {} KiB (PT_GNU_STACK gives no size; link with \
                 -Wl,-z,stack-size=N for more)",
                MUSL_THREAD_STACK / 1024
            ),
            Some(n) if n > MUSL_THREAD_STACK_MAX => format!(
                "thread stack: {} KiB (PT_GNU_STACK asks {} KiB, musl caps it)",
                MUSL_THREAD_STACK_MAX / 1024,
                n / 1024
            ),
            Some(n) => format!(
                "thread stack: {} KiB (PT_GNU_STACK)",
                n.max(MUSL_THREAD_STACK) / 1024
            ),
        });
    }
    let line = format!("hardening: {}", parts.join(", "));
    Some(if h.nx_stack {
        info("hardening", line)
    } else {
        warning("hardening", line)
    })
}

/// Go build info against what the recipe asked for.
fn check_go(
    got: Option<&GoBuildInfo>,
    want: &GoExpect,
    arch: Option<Arch>,
    findings: &mut Vec<Finding>,
) {
    let Some(got) = got else {
        findings.push(error(
            "go-buildinfo",
            "no Go build info: this is not a binary the Go toolchain built".into(),
        ));
        return;
    };
    let mut bad = |what: String| findings.push(error("go-buildinfo", what));
    if let Some(v) = &want.go_version
        && &got.go_version != v
    {
        bad(format!(
            "built by {}, but the pinned Go is {v}",
            got.go_version
        ));
    }
    let cgo = got.setting("CGO_ENABLED");
    let want_cgo = if want.cgo { "1" } else { "0" };
    if cgo != Some(want_cgo) {
        bad(format!(
            "CGO_ENABLED is {}, the recipe asks for {want_cgo}",
            cgo.unwrap_or("unrecorded")
        ));
    }
    if let Some(arch) = arch {
        let info = arch.info();
        let goarch = got.setting("GOARCH");
        if goarch != Some(info.goarch) {
            bad(format!(
                "GOARCH is {}, expected {} for {arch}",
                goarch.unwrap_or("unrecorded"),
                info.goarch
            ));
        }
        if let Some(want_arm) = info.goarm {
            let goarm = got.setting("GOARM");
            if goarm != Some(want_arm) {
                bad(format!(
                    "GOARM is {}, expected {want_arm} for {arch}",
                    goarm.unwrap_or("unrecorded")
                ));
            }
        }
    }
    let tags: Vec<&str> = got
        .setting("-tags")
        .map(|t| t.split(',').collect())
        .unwrap_or_default();
    let missing: Vec<&str> = want
        .tags
        .iter()
        .map(String::as_str)
        .filter(|t| !tags.contains(t))
        .collect();
    if !missing.is_empty() {
        bad(format!(
            "build tags {} missing (built with -tags={})",
            missing.join(", "),
            tags.join(",")
        ));
    }
    if let Some(m) = &want.module {
        let main = got.main.as_ref().map(|m| m.path.as_str());
        if main != Some(m.as_str()) {
            bad(format!(
                "main module is {}, the recipe builds {m}",
                main.unwrap_or("unrecorded")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_versions_are_compared_numerically() {
        let b = b"xx GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.4\0GLIBC_PRIVATE\0";
        assert_eq!(glibc_version(&all(b).glibc).as_deref(), Some("2.34"));
        assert_eq!(glibc_version(&all(b"GLIBC_2.").glibc), None);
    }

    fn all(b: &[u8]) -> Strings {
        Strings::in_ranges(b, std::iter::once(0..b.len()).collect())
    }

    #[test]
    fn paths_match_whole() {
        assert!(all(b"a\0/bin/sh\0b").has_path("/bin/sh"));
        assert!(!all(b"/bin/shutdown").has_path("/bin/sh"));
        assert!(all(b"/bin/shutdown").has("/bin/sh"));
        assert!(all(b"x/bin/sh").has_path("/bin/sh"));
        // Found inside a longer needle: still found.
        assert!(all(b"\0/etc/nsswitch.conf\0").has("nsswitch.conf"));
        assert!(all(b"\0/etc/ssl/certs/ca-certificates.crt\0").has("/etc/ssl/certs"));
    }

    #[test]
    fn image_has_folders_by_prefix() {
        let have: BTreeSet<String> = [
            "/etc/ssl/certs/ca-certificates.crt",
            "/usr/share/zoneinfo/UTC",
        ]
        .map(String::from)
        .into();
        assert!(image_has(&have, "/etc/ssl/certs"));
        assert!(image_has(&have, "/usr/share/zoneinfo"));
        assert!(!image_has(&have, "/etc/ssl/cert.pem"));
        assert!(!image_has(&have, "/usr/share/zone"));
    }

    #[test]
    fn missing_runtime_files_warn_only_when_the_image_is_known() {
        let files = runtime_files(&all(
            b"\0/etc/ssl/certs/ca-certificates.crt\0/etc/resolv.conf\0",
        ));
        assert_eq!(files.len(), 2, "{files:?}"); // the bundle (not its folder), resolv.conf
        let mut f = Vec::new();
        runtime_file_findings(&files, &Expect::default(), &mut f);
        assert!(f.iter().all(|f| f.severity == super::super::Severity::Info));
        let mut f = Vec::new();
        let e = Expect {
            image_files: Some(BTreeSet::from(["/etc/passwd".to_string()])),
            ..Expect::default()
        };
        runtime_file_findings(&files, &e, &mut f);
        let warns: Vec<_> = f
            .iter()
            .filter(|f| f.severity == super::super::Severity::Warning)
            .collect();
        assert_eq!(warns.len(), 1, "{f:?}");
        assert!(warns[0].message.contains("TLS connections cannot verify"));
    }

    #[test]
    fn go_expectations() {
        let mut got = GoBuildInfo {
            go_version: "go1.26.8".into(),
            path: "example.com/x".into(),
            main: Some(super::super::facts::GoModule {
                path: "example.com/x".into(),
                version: "(devel)".into(),
                ..Default::default()
            }),
            deps: vec![],
            settings: vec![
                ("-tags".into(), "netgo,osusergo".into()),
                ("CGO_ENABLED".into(), "0".into()),
                ("GOARCH".into(), "arm".into()),
                ("GOARM".into(), "7".into()),
            ],
        };
        let want = GoExpect {
            go_version: Some("go1.26.8".into()),
            cgo: false,
            tags: vec!["netgo".into(), "osusergo".into()],
            module: Some("example.com/x".into()),
        };
        let mut f = Vec::new();
        check_go(Some(&got), &want, Some(Arch::Armv7), &mut f);
        assert!(f.is_empty(), "{f:?}");
        got.settings[1].1 = "1".into();
        got.settings[3].1 = "6".into();
        check_go(Some(&got), &want, Some(Arch::Armv7), &mut f);
        let msgs: Vec<_> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "CGO_ENABLED is 1, the recipe asks for 0",
                "GOARM is 6, expected 7 for armv7"
            ]
        );
        let mut f = Vec::new();
        check_go(Some(&got), &want, Some(Arch::Arm64), &mut f);
        assert!(
            f.iter()
                .any(|f| f.message == "GOARCH is arm, expected arm64 for arm64")
        );
        let mut f = Vec::new();
        check_go(None, &want, None, &mut f);
        assert_eq!(f[0].code, "go-buildinfo");
    }
}
