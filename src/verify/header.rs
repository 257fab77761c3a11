//! The ELF header, read by hand with bounds checks before goblin sees the file ([`read_header`]),
//! and the byte readers and names the arch checks share. A leaf module.

use super::finding::{Code, Finding, error};
use crate::arch::Arch;

// ELF format constants (not arch facts: the ARM ELF ABI's spelling of them).
pub(super) const EI_NIDENT: usize = 16;
pub(super) const ELFCLASS32: u8 = 1;
pub(super) const ELFCLASS64: u8 = 2;
pub(super) const ELFDATA2LSB: u8 = 1;
pub(super) const ELFDATA2MSB: u8 = 2;

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

pub(super) fn read_header(bytes: &[u8]) -> Result<RawHeader, Finding> {
    if bytes.is_empty() {
        return Err(error(
            Code::NotElf,
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
        return Err(error(Code::NotElf, format!("not an ELF file: {what}")));
    }
    if bytes.len() < EI_NIDENT {
        return Err(error(
            Code::Truncated,
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
                Code::Class,
                format!("invalid ELF class {c} (EI_CLASS must be 1 for 32-bit or 2 for 64-bit)"),
            ));
        }
    };
    let little = match bytes[5] {
        ELFDATA2LSB => true,
        ELFDATA2MSB => false,
        d => {
            return Err(error(
                Code::Endianness,
                format!("invalid ELF byte order {d} (EI_DATA must be 1 or 2)"),
            ));
        }
    };
    let (ehsize, flags_off) = if class_bits == 32 { (52, 36) } else { (64, 48) };
    if bytes.len() < ehsize {
        return Err(error(
            Code::Truncated,
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

pub(super) fn endian_name(little: bool) -> &'static str {
    if little {
        "little-endian"
    } else {
        "big-endian"
    }
}
