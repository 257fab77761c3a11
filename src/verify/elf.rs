//! Proves a file is a fully static ELF executable for one of our arches: a pure function over
//! bytes ([`check_elf`]), with every arch fact taken from [`crate::arch`].
//!
//! Malformed input never panics or hangs: the header is read by hand with bounds checks before
//! goblin sees it, goblin's own sanity checks bound every count by the file size, and the whole
//! check runs under `catch_unwind` as a last resort.

use std::fmt;

use goblin::elf::Elf;
use goblin::elf::dynamic::{DT_NEEDED, DT_SONAME};
use goblin::elf::header::{ET_CORE, ET_DYN, ET_EXEC, ET_REL};
use goblin::elf::program_header::PT_INTERP;
use goblin::options::ParseOptions;
use serde::Serialize;

use super::deep::Expect;
use super::facts::{ElfFacts, ElfKind, Libc};
use crate::arch::Arch;

/// How bad a finding is: any [`Severity::Error`] fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One thing the check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable short name: `not-elf`, `truncated`, `unparsable`, `class`, `endianness`,
    /// `wrong-machine`, `unknown-machine`, `dynamic`, `not-executable`, `arm-eabi`,
    /// `soft-float`, `arm-arch`, `arm-attributes`, `float-abi-unknown`, `arm-arch-unknown`,
    /// `go-buildinfo`, `malformed`, `truncated`, and from the deep check `glibc-static`, `nss`,
    /// `dlopen`, `shell`, `runtime-file`, `hardening`.
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.severity, self.code, self.message)
    }
}

/// What [`check_elf`] found about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElfReport {
    /// The arch whose ELF class and `e_machine` the file has, if one of ours. (An ARMv6 binary
    /// is detected as `armv7`'s family and fails with an `arm-arch` finding.)
    #[serde(serialize_with = "ser_arch")]
    pub arch: Option<Arch>,
    /// One line, e.g. `ELF 64-bit x86-64, static-pie` or
    /// `ELF 32-bit ARM, EABI5 hard-float, ARMv7, static`.
    pub description: String,
    pub findings: Vec<Finding>,
    /// What the ELF says about how it runs; None when it could not be parsed.
    pub facts: Option<ElfFacts>,
}

fn ser_arch<S: serde::Serializer>(a: &Option<Arch>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.serialize_some(a.name()),
        None => s.serialize_none(),
    }
}

impl ElfReport {
    /// True when there is no [`Severity::Error`] finding.
    pub fn passed(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The error findings.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

// ELF format constants (not arch facts: the ARM ELF ABI's spelling of them).
const EI_NIDENT: usize = 16;
const ELFCLASS32: u8 = 1;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const ELFDATA2MSB: u8 = 2;

/// Checks that `bytes` is a fully static ELF executable for `expected` (or, with None, for any
/// arch of ours, reporting which).
pub fn check_elf(bytes: &[u8], expected: Option<Arch>) -> ElfReport {
    check_elf_with(bytes, &Expect::arch(expected))
}

/// [`check_elf`] with everything the caller knows: the arch, what a Go build asked for, the
/// files of the image (to say which runtime files it lacks).
pub fn check_elf_with(bytes: &[u8], expect: &Expect) -> ElfReport {
    match std::panic::catch_unwind(|| check_inner(bytes, expect)) {
        Ok(r) => r,
        Err(_) => ElfReport {
            arch: None,
            description: "ELF (unparsable)".to_string(),
            findings: vec![error(
                "unparsable",
                "the ELF parser failed on this file: it is malformed".to_string(),
            )],
            facts: None,
        },
    }
}

/// A message or description with the names it quotes from the file (libraries, paths, Go
/// modules) made safe to print ([`crate::text::escape`]).
fn escaped(s: String) -> String {
    match crate::text::escape(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(e) => e,
    }
}

pub(super) fn error(code: &'static str, message: String) -> Finding {
    Finding {
        severity: Severity::Error,
        code,
        message: escaped(message),
    }
}
pub(super) fn warning(code: &'static str, message: String) -> Finding {
    Finding {
        severity: Severity::Warning,
        code,
        message: escaped(message),
    }
}
pub(super) fn info(code: &'static str, message: String) -> Finding {
    Finding {
        severity: Severity::Info,
        code,
        message: escaped(message),
    }
}

/// The ELF header fields we need, read by hand with bounds checks.
pub(super) struct RawHeader {
    pub(super) class_bits: u8,
    pub(super) little: bool,
    pub(super) e_type: u16,
    pub(super) e_machine: u16,
    pub(super) e_flags: u32,
}

pub(super) fn rd_u16(b: &[u8], off: usize, little: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(off..off.checked_add(2)?)?.try_into().ok()?;
    Some(if little {
        u16::from_le_bytes(s)
    } else {
        u16::from_be_bytes(s)
    })
}
pub(super) fn rd_u32(b: &[u8], off: usize, little: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(s)
    } else {
        u32::from_be_bytes(s)
    })
}

fn read_header(bytes: &[u8]) -> Result<RawHeader, Finding> {
    if bytes.is_empty() {
        return Err(error(
            "not-elf",
            "not an ELF file: the file is empty".to_string(),
        ));
    }
    if !bytes.starts_with(b"\x7fELF") {
        let what = if bytes.starts_with(b"#!") {
            let line = bytes.split(|&c| c == b'\n').next().unwrap_or_default();
            let line = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
            format!("a script (`{line}`), not a compiled binary")
        } else if bytes.starts_with(b"!<arch>\n") {
            "an `ar` archive (a static library), not an executable".to_string()
        } else {
            let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
            format!("no ELF magic (starts with {})", head.join(" "))
        };
        return Err(error("not-elf", format!("not an ELF file: {what}")));
    }
    if bytes.len() < EI_NIDENT {
        return Err(error(
            "truncated",
            format!(
                "truncated ELF header: {} bytes, e_ident alone is {EI_NIDENT}",
                bytes.len()
            ),
        ));
    }
    let class_bits = match bytes[4] {
        ELFCLASS32 => 32,
        ELFCLASS64 => 64,
        c => {
            return Err(error(
                "class",
                format!("invalid ELF class {c} (EI_CLASS must be 1 for 32-bit or 2 for 64-bit)"),
            ));
        }
    };
    let little = match bytes[5] {
        ELFDATA2LSB => true,
        ELFDATA2MSB => false,
        d => {
            return Err(error(
                "endianness",
                format!("invalid ELF byte order {d} (EI_DATA must be 1 or 2)"),
            ));
        }
    };
    let (ehsize, flags_off) = if class_bits == 32 { (52, 36) } else { (64, 48) };
    if bytes.len() < ehsize {
        return Err(error(
            "truncated",
            format!(
                "truncated ELF header: {} bytes, an ELF{class_bits} header is {ehsize}",
                bytes.len()
            ),
        ));
    }
    // In bounds: checked against ehsize above.
    Ok(RawHeader {
        class_bits,
        little,
        e_type: rd_u16(bytes, 16, little).unwrap_or(0),
        e_machine: rd_u16(bytes, 18, little).unwrap_or(0),
        e_flags: rd_u32(bytes, flags_off, little).unwrap_or(0),
    })
}

/// Human name of an `e_machine`: the table's for ours, goblin's otherwise.
pub(super) fn machine_name(machine: u16) -> String {
    match Arch::ALL
        .iter()
        .map(|a| a.info())
        .find(|i| i.elf.machine == machine)
    {
        Some(i) => i.elf.machine_name.to_string(),
        None => format!(
            "{} (e_machine {machine})",
            goblin::elf::header::machine_to_str(machine)
        ),
    }
}

fn check_inner(bytes: &[u8], expect: &Expect) -> ElfReport {
    let expected = expect.arch;
    let hdr = match read_header(bytes) {
        Ok(h) => h,
        Err(f) => {
            let description = match f.code {
                "not-elf" => "not ELF".to_string(),
                _ => "ELF (truncated or invalid header)".to_string(),
            };
            return ElfReport {
                arch: None,
                description,
                findings: vec![f],
                facts: None,
            };
        }
    };
    let mut findings = Vec::new();
    let mut desc = vec![format!(
        "ELF {}-bit {}",
        hdr.class_bits,
        machine_name(hdr.e_machine)
    )];
    if !hdr.little {
        desc[0].push_str(" big-endian");
    }

    // Which of our arches the header says, then which one we hold it to.
    let detected = Arch::ALL.into_iter().find(|a| {
        let e = a.info().elf;
        e.machine == hdr.e_machine && e.class_bits == hdr.class_bits
    });
    let target = expected.or(detected);
    let machine_ok = match (expected, detected) {
        (Some(exp), _) => {
            let e = exp.info().elf;
            if e.machine != hdr.e_machine {
                findings.push(error(
                    "wrong-machine",
                    format!(
                        "machine is {}, expected {} (for {exp}): rebuild with -target {}",
                        machine_name(hdr.e_machine),
                        e.machine_name,
                        exp.info().triple
                    ),
                ));
                false
            } else if e.class_bits != hdr.class_bits {
                findings.push(error(
                    "class",
                    format!(
                        "ELF class is {}-bit, expected {}-bit for {exp}",
                        hdr.class_bits, e.class_bits
                    ),
                ));
                false
            } else {
                true
            }
        }
        (None, Some(_)) => true,
        (None, None) => {
            findings.push(error(
                "unknown-machine",
                format!(
                    "machine is {} ({}-bit), not one of ours ({})",
                    machine_name(hdr.e_machine),
                    hdr.class_bits,
                    Arch::ALL.map(|a| a.name()).join(", ")
                ),
            ));
            false
        }
    };
    if let Some(t) = target
        && t.info().elf.little_endian != hdr.little
    {
        findings.push(error(
            "endianness",
            format!(
                "byte order is {}, expected {} for {t}",
                endian_name(hdr.little),
                endian_name(t.info().elf.little_endian)
            ),
        ));
    }

    // Full parse: strict, then permissive (with a warning) before giving up.
    let elf = match parse_guarded(bytes, false) {
        Ok(e) => Some(e),
        Err(strict_err) => match parse_guarded(bytes, true) {
            Ok(e) => {
                // A real executable parses strictly; facts still come from what could be read.
                findings.push(error(
                    "malformed",
                    format!("malformed ELF (read leniently, parts skipped): {strict_err}"),
                ));
                Some(e)
            }
            Err(_) => {
                findings.push(error(
                    "unparsable",
                    format!("cannot parse the ELF: {strict_err}"),
                ));
                None
            }
        },
    };

    let mut facts = None;
    if let Some(elf) = &elf {
        check_extent(bytes, elf, &mut findings);
        if let (Some(t), true) = (target, machine_ok) {
            let ti = t.info();
            if ti.elf.arm_hard_float_eabi5 || ti.elf.arm_min_cpu_arch.is_some() {
                super::arm::check_arm(bytes, elf, &hdr, ti, &mut desc, &mut findings);
            }
        }
        let mut f = ElfFacts {
            class_bits: hdr.class_bits,
            machine: machine_name(hdr.e_machine),
            little_endian: hdr.little,
            ..ElfFacts::default()
        };
        desc.push(check_linkage(bytes, elf, &hdr, &mut f, &mut findings));
        super::deep::inspect(bytes, elf, expect, &mut f, &mut findings);
        match &f.libc {
            Libc::Musl => desc.push("musl".into()),
            Libc::Glibc { version, .. } => desc.push(match version {
                Some(v) => format!("glibc {v}"),
                None => "glibc".into(),
            }),
            Libc::None if f.go.is_some() => {}
            Libc::None | Libc::Unknown => {}
        }
        if let Some(go) = &f.go {
            desc.push(format!("Go {}", go.go_version.trim_start_matches("go")));
        }
        facts = Some(f);
    } else {
        desc.push("unparsable".to_string());
    }

    ElfReport {
        arch: detected,
        description: escaped(desc.join(", ")),
        findings,
        facts,
    }
}

/// Every segment's bytes and the section header table must lie inside the file: a cut-off
/// binary (an interrupted copy or download) can still have a readable header.
fn check_extent(bytes: &[u8], elf: &Elf<'_>, findings: &mut Vec<Finding>) {
    let len = bytes.len() as u64;
    let end = |off: u64, size: u64| off.saturating_add(size);
    if let Some((i, ph)) = elf
        .program_headers
        .iter()
        .enumerate()
        .find(|(_, ph)| end(ph.p_offset, ph.p_filesz) > len)
    {
        findings.push(error(
            "truncated",
            format!(
                "truncated: segment {i} ends at byte {}, but the file has {len} bytes",
                end(ph.p_offset, ph.p_filesz)
            ),
        ));
        return;
    }
    let h = &elf.header;
    let table = end(h.e_shoff, u64::from(h.e_shnum) * u64::from(h.e_shentsize));
    if h.e_shoff != 0 && table > len {
        findings.push(error(
            "truncated",
            format!("truncated: the section header table ends at byte {table}, but the file has {len} bytes"),
        ));
    }
}

fn endian_name(little: bool) -> &'static str {
    if little {
        "little-endian"
    } else {
        "big-endian"
    }
}

fn parse_guarded(bytes: &[u8], permissive: bool) -> Result<Elf<'_>, String> {
    let opts = if permissive {
        ParseOptions::permissive()
    } else {
        ParseOptions::strict()
    };
    match std::panic::catch_unwind(|| Elf::parse_with_opts(bytes, &opts)) {
        Ok(Ok(e)) => Ok(e),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the ELF parser panicked on malformed data".to_string()),
    }
}

/// Static, static-pie or not; executable or not. Returns the description word.
fn check_linkage(
    bytes: &[u8],
    elf: &Elf<'_>,
    hdr: &RawHeader,
    facts: &mut ElfFacts,
    findings: &mut Vec<Finding>,
) -> String {
    // PT_INTERP, even when goblin could not read its string (e.g. not UTF-8).
    let interp: Option<String> = elf
        .program_headers
        .iter()
        .find(|ph| ph.p_type == PT_INTERP)
        .map(|ph| {
            elf.interpreter.map(str::to_string).unwrap_or_else(|| {
                let s = usize::try_from(ph.p_offset).ok();
                let n = usize::try_from(ph.p_filesz).ok();
                match (s, n) {
                    (Some(s), Some(n)) => s
                        .checked_add(n)
                        .and_then(|e| bytes.get(s..e))
                        .map(|b| {
                            let b = b.split(|&c| c == 0).next().unwrap_or_default();
                            String::from_utf8_lossy(b).into_owned()
                        })
                        .unwrap_or_else(|| "<unreadable>".to_string()),
                    _ => "<unreadable>".to_string(),
                }
            })
        });
    // Every DT_NEEDED, even those whose name goblin could not read.
    let mut needed: Vec<String> = Vec::new();
    let mut soname = None;
    if let Some(dynamic) = &elf.dynamic {
        for d in &dynamic.dyns {
            let tag = d.d_tag;
            if tag == DT_NEEDED || tag == DT_SONAME {
                let name = usize::try_from(d.d_val)
                    .ok()
                    .and_then(|off| elf.dynstrtab.get_at(off))
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("<unreadable name at {:#x}>", d.d_val));
                if tag == DT_NEEDED {
                    needed.push(name);
                } else {
                    soname = Some(name);
                }
            }
        }
    }
    let is_dynamic = interp.is_some() || !needed.is_empty();
    facts.interpreter = interp.clone();
    facts.needed = needed.clone();
    facts.soname = soname.clone();
    facts.kind = match hdr.e_type {
        ET_EXEC => ElfKind::Executable,
        ET_DYN if interp.is_none() && (soname.is_some() || elf.entry == 0) => {
            ElfKind::SharedLibrary
        }
        ET_DYN => ElfKind::Executable,
        ET_REL => ElfKind::Relocatable,
        ET_CORE => ElfKind::Core,
        _ => ElfKind::Other,
    };
    facts.static_pie = hdr.e_type == ET_DYN && !is_dynamic && facts.kind == ElfKind::Executable;
    if is_dynamic {
        let mut parts = Vec::new();
        if let Some(i) = &interp {
            parts.push(format!("PT_INTERP {i}"));
        }
        if !needed.is_empty() {
            parts.push(format!("needs {}", needed.join(", ")));
        }
        findings.push(error("dynamic", format!("dynamic: {}", parts.join(", "))));
    }

    match hdr.e_type {
        ET_EXEC => {
            if is_dynamic {
                "dynamic".into()
            } else {
                "static".into()
            }
        }
        ET_DYN => {
            if interp.is_none() && (soname.is_some() || elf.entry == 0) {
                let what = match &soname {
                    Some(s) => format!("a shared library (SONAME {s})"),
                    None => "a shared library (ET_DYN with no entry point)".to_string(),
                };
                findings.push(error(
                    "not-executable",
                    format!("{what}, not an executable: link the program itself, statically"),
                ));
                "shared library".into()
            } else if is_dynamic {
                "dynamic-pie".into()
            } else {
                "static-pie".into()
            }
        }
        ET_REL => {
            findings.push(error(
                "not-executable",
                "a relocatable object (ET_REL, a .o file), not an executable: the link step did \
                 not run"
                    .to_string(),
            ));
            "relocatable".into()
        }
        ET_CORE => {
            findings.push(error(
                "not-executable",
                "a core dump (ET_CORE), not an executable".to_string(),
            ));
            "core dump".into()
        }
        t => {
            findings.push(error(
                "not-executable",
                format!("ELF type {t:#x} is not an executable (expected ET_EXEC or ET_DYN)"),
            ));
            format!("type {t:#x}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::arm::*;

    /// A minimal, valid ELF64 x86-64 static executable header (no program or section headers).
    fn tiny_elf64(machine: u16, e_type: u16) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = ELFCLASS64;
        b[5] = ELFDATA2LSB;
        b[6] = 1;
        b[16..18].copy_from_slice(&e_type.to_le_bytes());
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
        b[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        b[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        b[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        b
    }

    /// A minimal ELF32 ARM executable header with `flags` (no sections: no .ARM.attributes).
    fn tiny_arm(flags: u32) -> Vec<u8> {
        let mut b = vec![0u8; 52];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = ELFCLASS32;
        b[5] = ELFDATA2LSB;
        b[6] = 1;
        b[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        b[18..20].copy_from_slice(&40u16.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..28].copy_from_slice(&0x10000u32.to_le_bytes());
        b[36..40].copy_from_slice(&flags.to_le_bytes());
        b[40..42].copy_from_slice(&52u16.to_le_bytes());
        b[42..44].copy_from_slice(&32u16.to_le_bytes());
        b[46..48].copy_from_slice(&40u16.to_le_bytes());
        b
    }

    #[test]
    fn arm_e_flags() {
        // Hard-float EABI5 but no attributes: passes, with a warning about the CPU arch.
        let r = check_elf(&tiny_arm(0x0500_0400), Some(Arch::Armv7));
        assert!(r.passed(), "{r:?}");
        assert_eq!(r.arch, Some(Arch::Armv7));
        assert_eq!(
            r.description,
            "ELF 32-bit ARM, EABI5 hard-float, arch unrecorded, static"
        );
        assert!(r.findings.iter().any(|f| f.code == "arm-arch-unknown"));
        // Go's internal linker (0x5000002) without build info: warnings only.
        let r = check_elf(&tiny_arm(0x0500_0002), None);
        assert!(r.passed(), "{r:?}");
        assert!(r.findings.iter().any(|f| f.code == "float-abi-unknown"));
        // Soft-float bit, and an old EABI.
        assert_eq!(
            codes(&check_elf(&tiny_arm(0x0500_0200), None)),
            ["soft-float"]
        );
        assert_eq!(
            codes(&check_elf(&tiny_arm(0x0400_0400), None)),
            ["arm-eabi"]
        );
        // The arm checks are not applied to a binary of the wrong machine.
        assert_eq!(
            codes(&check_elf(&tiny_arm(0), Some(Arch::Arm64))),
            ["wrong-machine"]
        );
    }

    fn codes(r: &ElfReport) -> Vec<&'static str> {
        r.errors().map(|f| f.code).collect()
    }

    #[test]
    fn messages_quote_names_escaped() {
        let f = error("needed", "needs lib\x1b[31m.so\nrecipe: ok".to_string());
        assert_eq!(f.message, "needs lib\\x1b[31m.so\\nrecipe: ok");
        assert_eq!(escaped("plain".to_string()), "plain");
    }

    #[test]
    fn empty_and_garbage_are_not_elf() {
        let r = check_elf(b"", None);
        assert!(!r.passed());
        assert_eq!(codes(&r), ["not-elf"]);
        let r = check_elf(b"hello world, this is text\n", Some(Arch::Amd64));
        assert_eq!(codes(&r), ["not-elf"]);
        assert_eq!(r.description, "not ELF");
        let r = check_elf(b"#!/bin/sh\necho hi\n", None);
        assert!(
            r.findings[0].message.contains("a script (`#!/bin/sh`)"),
            "{r:?}"
        );
    }

    #[test]
    fn truncated_header() {
        let full = tiny_elf64(62, ET_EXEC);
        for n in 1..full.len() {
            let r = check_elf(&full[..n], Some(Arch::Amd64));
            assert!(!r.passed(), "len {n}");
            let c = codes(&r);
            assert!(c == ["truncated"] || c == ["not-elf"], "len {n}: {c:?}");
        }
        let mut bad = full.clone();
        bad[4] = 7;
        assert_eq!(codes(&check_elf(&bad, None)), ["class"]);
    }

    #[test]
    fn tiny_static_exec_passes() {
        let r = check_elf(&tiny_elf64(62, ET_EXEC), Some(Arch::Amd64));
        assert!(r.passed(), "{r:?}");
        assert_eq!(r.arch, Some(Arch::Amd64));
        assert_eq!(r.description, "ELF 64-bit x86-64, static");
        let r = check_elf(&tiny_elf64(62, ET_EXEC), None);
        assert_eq!(r.arch, Some(Arch::Amd64));
    }

    #[test]
    fn wrong_machine_and_types() {
        let r = check_elf(&tiny_elf64(62, ET_EXEC), Some(Arch::Arm64));
        assert_eq!(codes(&r), ["wrong-machine"]);
        assert!(
            r.findings[0]
                .message
                .starts_with("machine is x86-64, expected AArch64")
        );
        let r = check_elf(&tiny_elf64(243, ET_EXEC), None); // RISC-V
        assert_eq!(codes(&r), ["unknown-machine"]);
        assert_eq!(r.arch, None);
        assert_eq!(
            codes(&check_elf(&tiny_elf64(62, ET_REL), None)),
            ["not-executable"]
        );
        assert_eq!(
            codes(&check_elf(&tiny_elf64(62, ET_CORE), None)),
            ["not-executable"]
        );
        let mut big = tiny_elf64(62, ET_EXEC);
        big[5] = ELFDATA2MSB;
        big[16..18].copy_from_slice(&ET_EXEC.to_be_bytes());
        big[18..20].copy_from_slice(&62u16.to_be_bytes());
        let r = check_elf(&big, Some(Arch::Amd64));
        assert!(codes(&r).contains(&"endianness"), "{r:?}");
    }

    #[test]
    fn arm_attributes_parse() {
        // 'A', subsection: len, "aeabi\0", Tag_File(1) size, then
        // Tag_CPU_name "7-A", Tag_CPU_arch 10, Tag_CPU_arch_profile 'A', Tag_FP_arch 3,
        // Tag_ABI_VFP_args 1, Tag_compatibility 0 "", Tag_also_compatible_with(65) "x".
        let mut pairs = vec![5u8];
        pairs.extend(b"7-A\0");
        pairs.extend([6, 10, 7, b'A', 10, 3, 28, 1, 32, 0, 0, 65, b'x', 0]);
        let mut file = vec![TAG_FILE];
        file.extend(((pairs.len() + 5) as u32).to_le_bytes());
        file.extend(&pairs);
        let mut sub = Vec::new();
        sub.extend(((4 + 6 + file.len()) as u32).to_le_bytes());
        sub.extend(b"aeabi\0");
        sub.extend(&file);
        let mut data = vec![b'A'];
        data.extend(&sub);
        let a = parse_arm_attributes(&data, true).unwrap();
        assert_eq!(a.cpu_arch, Some(10));
        assert_eq!(a.cpu_name.as_deref(), Some("7-A"));
        assert_eq!(a.cpu_arch_profile, Some(u64::from(b'A')));
        assert_eq!(a.fp_arch, Some(3));
        assert_eq!(a.vfp_args, Some(1));
        // Every truncation is an error or a partial result, never a panic.
        for n in 0..data.len() {
            let _ = parse_arm_attributes(&data[..n], true);
        }
        assert!(parse_arm_attributes(b"B", true).is_err());
        // An overlong ULEB128 is an error, not an overflow.
        let mut pos = 0;
        assert!(uleb(&[0xff; 20], &mut pos).is_err());
    }

    #[test]
    fn cpu_arch_names() {
        assert_eq!(arm_cpu_arch_name(10), "ARMv7");
        assert_eq!(arm_cpu_arch_name(6), "ARMv6");
        assert!(arm_is_m_profile(13));
        assert!(!arm_is_m_profile(14));
    }

    /// Mutations of the test binary itself (a real ELF): never a panic.
    #[test]
    fn mutated_real_elf_never_panics() {
        // A small real ELF: the host's /bin/true, else the head of this test binary.
        let exe = std::fs::read("/bin/true")
            .or_else(|_| std::fs::read(std::env::current_exe().unwrap()))
            .unwrap();
        let real = &exe[..exe.len().min(256 << 10)];
        let r = check_elf(real, None);
        assert!(r.description.starts_with("ELF"), "{r:?}");
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Header and the first program/section header bytes, each set to 0, 0xff and random.
        let mut buf = real.to_vec();
        let offsets: Vec<usize> = (0..512)
            .chain((0..400).map(|_| (next() as usize) % real.len()))
            .collect();
        for off in offsets {
            for v in [0u8, 0xff, next() as u8, 0x80] {
                let old = buf[off];
                buf[off] = v;
                let _ = check_elf(&buf, Some(Arch::Amd64));
                buf[off] = old;
            }
        }
        // Truncations at many lengths.
        let lens: Vec<usize> = (0..4096)
            .chain((0..50).map(|_| (next() as usize) % real.len()))
            .collect();
        for n in lens {
            let _ = check_elf(&real[..n.min(real.len())], None);
        }
    }
}
