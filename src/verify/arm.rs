//! ARM specifics of the ELF check: the `.ARM.attributes` parser (Tag_CPU_arch, FP arch, VFP
//! argument passing) and the armv7 hard-float verdict, with Go's GOARM from its build info where
//! Go's linker records neither.

use goblin::elf::Elf;

use super::finding::{Code, Finding, error, info, warning};
use super::header::{RawHeader, rd_u32};
use crate::arch::ArchInfo;

pub(super) const EF_ARM_EABIMASK: u32 = 0xff00_0000;
pub(super) const EF_ARM_ABI_FLOAT_SOFT: u32 = 0x200;
pub(super) const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;
pub(super) const SHT_ARM_ATTRIBUTES: u32 = 0x7000_0003;
// .ARM.attributes tags.
pub(super) const TAG_FILE: u8 = 1;
pub(super) const TAG_CPU_NAME: u64 = 5;
pub(super) const TAG_CPU_ARCH: u64 = 6;
pub(super) const TAG_CPU_ARCH_PROFILE: u64 = 7;
pub(super) const TAG_ABI_VFP_ARGS: u64 = 28;
pub(super) const TAG_COMPATIBILITY: u64 = 32;
// Tag_ABI_VFP_args values that mean "floats in VFP registers" (1) or "no FP arguments, fits
// either" (3).
pub(super) const VFP_ARGS_VFP: u64 = 1;
pub(super) const VFP_ARGS_COMPATIBLE: u64 = 3;

/// What `.ARM.attributes` says, from the `aeabi` File subsection.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ArmAttributes {
    /// Tag_CPU_arch (6); absent means 0 (pre-v4) per the ABI.
    pub cpu_arch: Option<u64>,
    /// Tag_CPU_name (5).
    pub cpu_name: Option<String>,
    /// Tag_CPU_arch_profile (7): b'A', b'R', b'M', b'S' or 0.
    pub cpu_arch_profile: Option<u64>,
    /// Tag_FP_arch (10).
    pub fp_arch: Option<u64>,
    /// Tag_ABI_VFP_args (28); absent means 0 (base AAPCS, soft-float) per the ABI.
    pub vfp_args: Option<u64>,
}

pub(super) fn uleb(b: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let byte = *b.get(*pos).ok_or("truncated ULEB128")?;
        *pos += 1;
        if shift >= 64 {
            return Err("ULEB128 value too long".to_string());
        }
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
    }
}

fn ntbs(b: &[u8], pos: &mut usize) -> Result<String, String> {
    let rest = b.get(*pos..).ok_or("truncated string")?;
    let n = rest
        .iter()
        .position(|&c| c == 0)
        .ok_or("unterminated string")?;
    *pos += n + 1;
    Ok(String::from_utf8_lossy(&rest[..n]).into_owned())
}

/// Parses the contents of an `.ARM.attributes` section (format version 'A').
pub fn parse_arm_attributes(data: &[u8], little: bool) -> Result<ArmAttributes, String> {
    let mut out = ArmAttributes::default();
    match data.first() {
        Some(b'A') => {}
        Some(v) => return Err(format!("unknown format version {v:#04x} (expected 'A')")),
        None => return Err("empty section".to_string()),
    }
    let mut pos = 1;
    while pos < data.len() {
        let len = rd_u32(data, pos, little).ok_or("truncated subsection length")? as usize;
        let end = pos
            .checked_add(len)
            .filter(|&e| len >= 4 && e <= data.len());
        let end = end.ok_or_else(|| format!("subsection length {len} out of bounds"))?;
        let sub = &data[pos + 4..end];
        pos = end;
        let mut q = 0;
        let vendor = ntbs(sub, &mut q)?;
        if vendor != "aeabi" {
            continue;
        }
        while q < sub.len() {
            let tag = sub[q];
            let size = rd_u32(sub, q + 1, little).ok_or("truncated attribute block")? as usize;
            let bend = q.checked_add(size).filter(|&e| size >= 5 && e <= sub.len());
            let bend = bend.ok_or_else(|| format!("attribute block size {size} out of bounds"))?;
            let body = &sub[q + 5..bend];
            q = bend;
            if tag != TAG_FILE {
                continue; // Section/Symbol scoped attributes: not about the whole file.
            }
            let mut i = 0;
            while i < body.len() {
                let t = uleb(body, &mut i)?;
                match t {
                    4 | TAG_CPU_NAME | 65 | 67 => {
                        let s = ntbs(body, &mut i)?;
                        if t == TAG_CPU_NAME {
                            out.cpu_name = Some(s);
                        }
                    }
                    TAG_COMPATIBILITY => {
                        uleb(body, &mut i)?;
                        ntbs(body, &mut i)?;
                    }
                    // Unknown tags >= 32: odd ones are strings, even ones ULEB128.
                    t if t > 32 && t % 2 == 1 => {
                        ntbs(body, &mut i)?;
                    }
                    _ => {
                        let v = uleb(body, &mut i)?;
                        match t {
                            TAG_CPU_ARCH => out.cpu_arch = Some(v),
                            TAG_CPU_ARCH_PROFILE => out.cpu_arch_profile = Some(v),
                            10 => out.fp_arch = Some(v),
                            TAG_ABI_VFP_ARGS => out.vfp_args = Some(v),
                            _ => {}
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Name of a Tag_CPU_arch value, as the ARM ABI addenda list them.
pub fn arm_cpu_arch_name(v: u64) -> String {
    let n = match v {
        0 => "pre-ARMv4",
        1 => "ARMv4",
        2 => "ARMv4T",
        3 => "ARMv5T",
        4 => "ARMv5TE",
        5 => "ARMv5TEJ",
        6 => "ARMv6",
        7 => "ARMv6KZ",
        8 => "ARMv6T2",
        9 => "ARMv6K",
        10 => "ARMv7",
        11 => "ARMv6-M",
        12 => "ARMv6S-M",
        13 => "ARMv7E-M",
        14 => "ARMv8-A",
        15 => "ARMv8-R",
        16 => "ARMv8-M.baseline",
        17 => "ARMv8-M.mainline",
        18 => "ARMv8.1-A",
        19 => "ARMv8.2-A",
        20 => "ARMv8.3-A",
        21 => "ARMv8.1-M.mainline",
        22 => "ARMv9-A",
        _ => return format!("unknown ARM arch {v}"),
    };
    n.to_string()
}

/// Microcontroller (M-profile) arches: numbered above v7 but no use on Linux.
pub(super) fn arm_is_m_profile(v: u64) -> bool {
    matches!(v, 11 | 12 | 13 | 16 | 17 | 21)
}

/// GOARM=N as the Go linker records it in the build info, and the float mode.
fn go_arm(bytes: &[u8], elf: &Elf<'_>) -> Option<(u8, bool)> {
    let info = super::goinfo::go_buildinfo(bytes, elf)?.ok()?;
    let mut parts = info.setting("GOARM")?.split(',');
    let n: u8 = parts.next()?.trim().parse().ok()?;
    let soft = parts.any(|p| p.trim() == "softfloat");
    Some((n, soft))
}

fn section_bytes(bytes: &[u8], off: u64, size: u64) -> Option<&[u8]> {
    let s = usize::try_from(off).ok()?;
    let n = usize::try_from(size).ok()?;
    bytes.get(s..s.checked_add(n)?)
}

/// The ARM checks for an arch that wants hard-float EABI5 or a minimum CPU arch: findings, and
/// two description words (`EABI5 hard-float`, `ARMv7`).
pub(super) fn check_arm(
    bytes: &[u8],
    elf: &Elf<'_>,
    hdr: &RawHeader,
    ti: &ArchInfo,
    desc: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) {
    let flags = hdr.e_flags;
    let attrs = read_attributes(bytes, elf, hdr.little, findings);
    let go = if attrs.is_none() {
        go_arm(bytes, elf)
    } else {
        None
    };
    let eabi_word = check_eabi(flags, ti, findings);
    let float_word = if ti.elf.arm_hard_float_eabi5 {
        check_hard_float(flags, attrs.as_ref(), go, ti, findings)
    } else if flags & EF_ARM_ABI_FLOAT_HARD != 0 {
        "hard-float"
    } else if flags & EF_ARM_ABI_FLOAT_SOFT != 0 {
        "soft-float"
    } else {
        "float ABI unrecorded"
    };
    desc.push(format!("{eabi_word} {float_word}"));
    desc.push(check_cpu_arch(attrs.as_ref(), go, ti, findings));
}

/// `.ARM.attributes`, found by type or by name; an `arm-attributes` finding when unreadable.
fn read_attributes(
    bytes: &[u8],
    elf: &Elf<'_>,
    little: bool,
    findings: &mut Vec<Finding>,
) -> Option<ArmAttributes> {
    let sh = elf.section_headers.iter().find(|sh| {
        sh.sh_type == SHT_ARM_ATTRIBUTES
            || elf.shdr_strtab.get_at(sh.sh_name) == Some(".ARM.attributes")
    })?;
    match section_bytes(bytes, sh.sh_offset, sh.sh_size)
        .ok_or_else(|| "section lies outside the file".to_string())
        .and_then(|d| parse_arm_attributes(d, little))
    {
        Ok(a) => Some(a),
        Err(e) => {
            findings.push(error(
                Code::ArmAttributes,
                format!("cannot read .ARM.attributes: {e}"),
            ));
            None
        }
    }
}

/// The EABI version word, with an `arm-eabi` finding when EABI5 is wanted and not there.
fn check_eabi(flags: u32, ti: &ArchInfo, findings: &mut Vec<Finding>) -> String {
    let eabi = (flags & EF_ARM_EABIMASK) >> 24;
    let mut eabi_word = format!("EABI{eabi}");
    if ti.elf.arm_hard_float_eabi5 && eabi != 5 {
        if eabi == 0 {
            eabi_word = "no EABI".into();
        }
        findings.push(error(
            Code::ArmEabi,
            format!(
                "e_flags {flags:#010x} give EABI version {eabi}, expected EABI5: build with the {} \
                 triple",
                ti.triple
            ),
        ));
    }
    eabi_word
}

/// The float ABI word where hard-float is wanted: a `soft-float` error with every reason found
/// (e_flags, Tag_ABI_VFP_args, GOARM), or where nothing records it a note (Go) or a warning.
fn check_hard_float(
    flags: u32,
    attrs: Option<&ArmAttributes>,
    go: Option<(u8, bool)>,
    ti: &ArchInfo,
    findings: &mut Vec<Finding>,
) -> &'static str {
    let soft_reasons = soft_float_reasons(flags, attrs, go);
    if !soft_reasons.is_empty() {
        findings.push(error(
            Code::SoftFloat,
            format!(
                "soft-float ABI: {}; build with the hard-float triple {}",
                soft_reasons.join("; "),
                ti.triple
            ),
        ));
        "soft-float"
    } else if flags & EF_ARM_ABI_FLOAT_HARD != 0 {
        "hard-float"
    } else if let Some((n, false)) = go {
        // Go's internal linker writes e_flags 0x5000002 and no .ARM.attributes; a fully static
        // Go binary calls no foreign code, and GOARM>=6 uses VFP.
        findings.push(info(
            Code::GoBuildinfo,
            format!(
                "float ABI from the Go build info (GOARM={n}); e_flags {flags:#010x} record none"
            ),
        ));
        "hard-float"
    } else {
        findings.push(warning(
            Code::FloatAbiUnknown,
            format!(
                "e_flags {flags:#010x} record no float ABI and there is no .ARM.attributes \
                 or Go build info: cannot confirm hard-float"
            ),
        ));
        "float ABI unrecorded"
    }
}

/// Why the binary uses the soft-float ABI, if it does.
fn soft_float_reasons(
    flags: u32,
    attrs: Option<&ArmAttributes>,
    go: Option<(u8, bool)>,
) -> Vec<String> {
    let mut soft_reasons = Vec::new();
    if flags & EF_ARM_ABI_FLOAT_SOFT != 0 {
        soft_reasons.push(format!(
            "e_flags {flags:#010x} lack the hard-float bit (0x400) and have the soft-float \
             bit (0x200)"
        ));
    } else if flags & EF_ARM_ABI_FLOAT_HARD == 0 && attrs.is_some() {
        soft_reasons.push(format!(
            "e_flags {flags:#010x} lack the hard-float bit (0x400)"
        ));
    }
    if let Some(a) = attrs {
        let v = a.vfp_args.unwrap_or(0);
        if v != VFP_ARGS_VFP && v != VFP_ARGS_COMPATIBLE {
            let what = match v {
                0 => "base AAPCS, floats in core registers",
                2 => "toolchain-specific",
                _ => "unknown",
            };
            let shown = if a.vfp_args.is_some() {
                format!("{v}")
            } else {
                "absent (0)".into()
            };
            soft_reasons.push(format!(
                "Tag_ABI_VFP_args is {shown} ({what}), not VFP registers"
            ));
        }
    }
    if let Some((n, true)) = go {
        soft_reasons.push(format!("Go build info says GOARM={n},softfloat"));
    }
    soft_reasons
}

/// The CPU arch word, from `.ARM.attributes` or GOARM, with `arm-arch` errors below the arch's
/// minimum or for a microcontroller profile, and `arm-arch-unknown` when nothing records it.
fn check_cpu_arch(
    attrs: Option<&ArmAttributes>,
    go: Option<(u8, bool)>,
    ti: &ArchInfo,
    findings: &mut Vec<Finding>,
) -> String {
    let (cpu_word, cpu_val, source) = match (attrs, go) {
        (Some(a), _) => {
            let v = a.cpu_arch.unwrap_or(0);
            (arm_cpu_arch_name(v), Some(v), format!("Tag_CPU_arch {v}"))
        }
        (None, Some((n, _))) => {
            // GOARM=5 targets ARMv5TE, 6 ARMv6, 7 ARMv7.
            let v = match n {
                0..=5 => 4,
                6 => 6,
                _ => 10,
            };
            (format!("ARMv{n}"), Some(v), format!("GOARM={n}"))
        }
        (None, None) => ("arch unrecorded".to_string(), None, String::new()),
    };
    let Some(min) = ti.elf.arm_min_cpu_arch.map(u64::from) else {
        return cpu_word;
    };
    match cpu_val {
        Some(v) if v < min || arm_is_m_profile(v) => {
            let extra = if arm_is_m_profile(v) {
                ", a microcontroller profile"
            } else {
                ""
            };
            findings.push(error(
                Code::ArmArch,
                format!(
                    "built for {cpu_word} ({source}){extra}, expected {}: build with -mcpu={}",
                    arm_cpu_arch_name(min),
                    ti.zig_cpu.unwrap_or("<the table's cpu>")
                ),
            ));
        }
        Some(_) => {}
        None => findings.push(warning(
            Code::ArmArchUnknown,
            format!(
                "no .ARM.attributes and no Go build info: cannot confirm the CPU arch is {}",
                arm_cpu_arch_name(min)
            ),
        )),
    }
    if attrs.is_some_and(|a| a.cpu_arch_profile == Some(u64::from(b'M'))) {
        findings.push(error(
            Code::ArmArch,
            "Tag_CPU_arch_profile is 'M' (microcontroller), expected an application profile"
                .to_string(),
        ));
    }
    cpu_word
}
