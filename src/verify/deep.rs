//! The deep part of the ELF check: what a static binary still needs at run time. Which C library
//! is inside (glibc's NSS lookups load shared modules even from a static binary), `dlopen`, a
//! shell, the files it reads (CA bundle, zoneinfo, user database), hardening, for Go binaries
//! the build info checked against what the recipe asked for, and for Rust binaries rustc's
//! version and the panic strategy. Pure functions over the bytes.

use goblin::elf::Elf;
use goblin::elf::dynamic::{DF_1_NOW, DF_BIND_NOW};
use goblin::elf::header::ET_DYN;
use goblin::elf::program_header::{PF_X, PT_GNU_RELRO, PT_GNU_STACK};
use goblin::elf::section_header::SHT_SYMTAB;

use super::expect::{Expect, GoExpect};
use super::facts::{ElfFacts, GoBuildInfo, Hardening, Libc, Relro};
use super::finding::{Code, Finding, error, info, warning};
use super::runtime::{runtime_file_findings, runtime_files};
use super::strings::Strings;
use super::symbols::{DLOPEN_FUNCTIONS, NSS_FUNCTIONS, SHELL_FUNCTIONS, Symbols};
use crate::arch::Arch;

/// musl's default thread stack size, and the most it takes from PT_GNU_STACK.
const MUSL_THREAD_STACK: u64 = 128 * 1024;
const MUSL_THREAD_STACK_MAX: u64 = 8 * 1024 * 1024;

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
                Code::GoBuildinfo,
                format!("unreadable Go build info: {e}"),
            ));
            None
        }
    };
    facts.rust = super::rustinfo::rust_info(bytes, elf, &strings);
    facts.libc = libc(&strings, elf, facts);
    let is_static = facts.interpreter.is_none() && facts.needed.is_empty();
    let glibc_static = is_static && matches!(facts.libc, Libc::Glibc { .. });
    let syms = Symbols::of(bytes, elf, glibc_static);

    if let Libc::Glibc { evidence, .. } = &facts.libc
        && is_static
    {
        findings.push(warning(
            Code::GlibcStatic,
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
                Code::Nss,
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
            Code::Dlopen,
            format!(
                "loads code at run time ({ev}): in a static binary dlopen always fails, so \
                 plugins, engines or modules it would load are unavailable"
            ),
        ));
    }
    facts.shell = shell(&strings, &syms);
    if let Some(ev) = &facts.shell {
        findings.push(warning(
            Code::Shell,
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
        info(Code::Hardening, line)
    } else {
        warning(Code::Hardening, line)
    })
}

/// The findings of a file's Go build info (from its facts) against what its recipe asked for:
/// the same as [`super::check_elf_with`] gives with `expect.go`, without parsing it again.
pub fn go_findings(facts: Option<&ElfFacts>, want: &GoExpect, arch: Option<Arch>) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(facts) = facts {
        check_go(facts.go.as_ref(), want, arch, &mut findings);
    }
    findings
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
            Code::GoBuildinfo,
            "no Go build info: this is not a binary the Go toolchain built".into(),
        ));
        return;
    };
    let mut bad = |what: String| findings.push(error(Code::GoBuildinfo, what));
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

    use crate::verify::strings::tests::all;

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
        assert_eq!(f[0].code, Code::GoBuildinfo);
    }
}
