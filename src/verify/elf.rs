//! Proves a file is a fully static ELF executable for one of our arches: a pure function over
//! bytes ([`check_elf`]), with every arch fact taken from [`crate::arch`].
//!
//! Malformed input never panics or hangs: the header is read by hand with bounds checks before
//! goblin sees it, goblin's own sanity checks bound every count by the file size, and the whole
//! check runs under `catch_unwind` as a last resort.

use goblin::elf::Elf;
use serde::{Deserialize, Serialize};

use super::expect::Expect;
use super::facts::{ElfFacts, Libc};
use super::finding::{Code, Finding, Severity, error, escaped};
use super::header::{RawHeader, endian_name, machine_name, read_header};
use crate::arch::Arch;

/// True for an executable packed with UPX: its loader stub's header, `UPX!`, follows the
/// program headers at the start of the file. What is inside was compressed and cannot be read.
pub fn is_upx_packed(bytes: &[u8]) -> bool {
    memchr::memmem::find(&bytes[..bytes.len().min(1024)], b"UPX!").is_some()
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

/// Read back from a cache entry's record ([`super::FileRecord`]). The `runtime-file` findings
/// are made again from the facts (their code's kind is not in the JSON), where the first stood.
impl<'de> Deserialize<'de> for ElfReport {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            arch: Option<Arch>,
            description: String,
            findings: Vec<StoredFinding>,
            facts: Option<ElfFacts>,
        }
        #[derive(Deserialize)]
        struct StoredFinding {
            severity: Severity,
            code: String,
            message: String,
        }
        let s = Stored::deserialize(d)?;
        let runtime = Code::RuntimeFile(super::RuntimeKind::CaBundle).as_str();
        let mut findings = Vec::new();
        let mut runtime_done = false;
        for f in s.findings {
            if f.code == runtime {
                if let (false, Some(facts)) = (runtime_done, &s.facts) {
                    super::runtime::runtime_file_findings(
                        &facts.runtime_files,
                        &Expect::default(),
                        &mut findings,
                    );
                }
                runtime_done = true;
                continue;
            }
            findings.push(Finding {
                severity: f.severity,
                code: f.code.parse().map_err(serde::de::Error::custom)?,
                message: f.message,
            });
        }
        Ok(ElfReport {
            arch: s.arch,
            description: s.description,
            findings,
            facts: s.facts,
        })
    }
}

/// Checks that `bytes` is a fully static ELF executable for `expected` (or, with None, for any
/// arch of ours, reporting which).
pub fn check_elf(bytes: &[u8], expected: Option<Arch>) -> ElfReport {
    check_elf_with(bytes, &Expect::arch(expected))
}

/// [`check_elf`] with everything the caller knows: the arch, what a Go build asked for, the
/// files of the image (to say which runtime files it lacks).
pub fn check_elf_with(bytes: &[u8], expect: &Expect) -> ElfReport {
    super::parses::note(bytes);
    match std::panic::catch_unwind(|| check_inner(bytes, expect)) {
        Ok(r) => r,
        Err(_) => ElfReport {
            arch: None,
            description: "ELF (unparsable)".to_string(),
            findings: vec![error(
                Code::Unparsable,
                "the ELF parser failed on this file: it is malformed".to_string(),
            )],
            facts: None,
        },
    }
}

fn check_inner(bytes: &[u8], expect: &Expect) -> ElfReport {
    let hdr = match read_header(bytes) {
        Ok(h) => h,
        Err(f) => {
            let description = match f.code {
                Code::NotElf => "not ELF".to_string(),
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
    let (detected, machine_ok) = check_machine(&hdr, expect.arch, &mut findings);
    let target = expect.arch.or(detected);
    if let Some(t) = target
        && t.info().elf.little_endian != hdr.little
    {
        findings.push(error(
            Code::Endianness,
            format!(
                "byte order is {}, expected {} for {t}",
                endian_name(hdr.little),
                endian_name(t.info().elf.little_endian)
            ),
        ));
    }
    let facts = match parse(bytes, &mut findings) {
        Some(elf) => {
            let target = target.filter(|_| machine_ok);
            let parsed = Parsed {
                bytes,
                elf: &elf,
                hdr: &hdr,
            };
            Some(inspect(&parsed, expect, target, &mut desc, &mut findings))
        }
        None => {
            desc.push("unparsable".to_string());
            None
        }
    };
    if is_upx_packed(bytes) {
        desc.push("UPX-packed".to_string());
    }
    ElfReport {
        arch: detected,
        description: escaped(desc.join(", ")),
        findings,
        facts,
    }
}

/// Which of our arches the header says, and whether it is the one expected (a finding when
/// not, or when it is none of ours).
fn check_machine(
    hdr: &RawHeader,
    expected: Option<Arch>,
    findings: &mut Vec<Finding>,
) -> (Option<Arch>, bool) {
    let detected = Arch::ALL.into_iter().find(|a| {
        let e = a.info().elf;
        e.machine == hdr.e_machine && e.class_bits == hdr.class_bits
    });
    let machine_ok = match (expected, detected) {
        (Some(exp), _) => {
            let e = exp.info().elf;
            if e.machine != hdr.e_machine {
                findings.push(error(
                    Code::WrongMachine,
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
                    Code::Class,
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
                Code::UnknownMachine,
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
    (detected, machine_ok)
}

/// The full parse: strict, then permissive (with an error finding) before giving up (another).
fn parse<'a>(bytes: &'a [u8], findings: &mut Vec<Finding>) -> Option<Elf<'a>> {
    match parse_guarded(bytes, false) {
        Ok(e) => Some(e),
        Err(strict_err) => match parse_guarded(bytes, true) {
            Ok(e) => {
                // A real executable parses strictly; facts still come from what could be read.
                findings.push(error(
                    Code::Malformed,
                    format!("malformed ELF (read leniently, parts skipped): {strict_err}"),
                ));
                Some(e)
            }
            Err(_) => {
                findings.push(error(
                    Code::Unparsable,
                    format!("cannot parse the ELF: {strict_err}"),
                ));
                None
            }
        },
    }
}

/// A parsed file: its bytes, goblin's view and the hand-read header.
struct Parsed<'a, 'b> {
    bytes: &'a [u8],
    elf: &'b Elf<'a>,
    hdr: &'b RawHeader,
}

/// The checks of a parsed file: extent, ARM ABI (for `target`, the arch it is held to when its
/// machine is right), linkage and the deep check; returns the facts and adds to `desc`.
fn inspect(
    p: &Parsed<'_, '_>,
    expect: &Expect,
    target: Option<Arch>,
    desc: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) -> ElfFacts {
    let (bytes, elf, hdr) = (p.bytes, p.elf, p.hdr);
    check_extent(bytes, elf, findings);
    if let Some(t) = target {
        let ti = t.info();
        if ti.elf.arm_hard_float_eabi5 || ti.elf.arm_min_cpu_arch.is_some() {
            super::arm::check_arm(bytes, elf, hdr, ti, desc, findings);
        }
    }
    let mut f = ElfFacts {
        class_bits: hdr.class_bits,
        machine: machine_name(hdr.e_machine),
        little_endian: hdr.little,
        ..ElfFacts::default()
    };
    desc.push(super::linkage::check_linkage(
        bytes, elf, hdr, &mut f, findings,
    ));
    super::deep::inspect(bytes, elf, expect, &mut f, findings);
    match &f.libc {
        Libc::Musl => desc.push("musl".into()),
        Libc::Glibc { version, .. } => desc.push(match version {
            Some(v) => format!("glibc {v}"),
            None => "glibc".into(),
        }),
        Libc::None | Libc::Unknown => {}
    }
    if let Some(go) = &f.go {
        desc.push(format!("Go {}", go.go_version.trim_start_matches("go")));
    }
    if let Some(rust) = &f.rust {
        desc.push(format!(
            "Rust {}, panic={}",
            rust.rustc_version,
            rust.panic.as_str()
        ));
    }
    f
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
            Code::Truncated,
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
            Code::Truncated,
            format!("truncated: the section header table ends at byte {table}, but the file has {len} bytes"),
        ));
    }
}

fn parse_guarded(bytes: &[u8], permissive: bool) -> Result<Elf<'_>, String> {
    match std::panic::catch_unwind(|| super::lean::parse(bytes, permissive)) {
        Ok(Ok(e)) => Ok(e),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the ELF parser panicked on malformed data".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::arm::*;
    use crate::verify::header::*;
    use goblin::elf::header::{ET_CORE, ET_EXEC, ET_REL};

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
        assert!(r.findings.iter().any(|f| f.code == Code::ArmArchUnknown));
        // Go's internal linker (0x5000002) without build info: warnings only.
        let r = check_elf(&tiny_arm(0x0500_0002), None);
        assert!(r.passed(), "{r:?}");
        assert!(r.findings.iter().any(|f| f.code == Code::FloatAbiUnknown));
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
        r.errors().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn messages_quote_names_escaped() {
        let f = error(
            Code::Dynamic,
            "needs lib\x1b[31m.so\nrecipe: ok".to_string(),
        );
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
