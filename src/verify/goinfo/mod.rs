//! Go's embedded build info (what `go version -m` prints), read from the bytes of a Go ELF binary.
//!
//! The Go linker writes a 32-byte header, 16-byte aligned, normally as the `.go.buildinfo`
//! section: the 14-byte magic `\xff Go buildinf:`, the pointer size, and a flags byte (bit 0: big
//! endian, bit 1: the strings follow inline). Since Go 1.18 the header is followed by two
//! uvarint-length-prefixed strings, the Go version and the module info; older linkers wrote two
//! pointers to Go string headers `{data, len}` in virtual memory instead. The module info is
//! framed by 16-byte sentinels and holds `path`, `mod`, `dep`, `=>` and `build` lines, the text
//! `runtime/debug.ParseBuildInfo` reads (see [`parse_modinfo`]).
//!
//! Every read is bounds-checked and nothing is allocated by a length the file claims beyond what
//! the file holds, so hostile input gives an error, never a panic or a runaway allocation.

use goblin::elf::Elf;
use goblin::elf::program_header::{PF_W, PF_X, PT_LOAD};
use goblin::elf::section_header::SHT_NOBITS;

use super::facts::GoBuildInfo;

mod modinfo;

pub use modinfo::{parse_modinfo, strip_sentinels, unquote_prefix};

/// The first 14 bytes of the build info blob.
pub const BUILDINFO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// The blob's header: magic, pointer size, flags, then two pointer slots (or padding).
const HEADER_SIZE: usize = 32;
const ALIGN: u64 = 16;
const FLAG_BIG_ENDIAN: u8 = 1;
const FLAG_INLINE: u8 = 2;
/// Length of each sentinel around the module info (`cmd/go/internal/modload.infoStart/infoEnd`).
const SENTINEL: usize = 16;

/// One `PT_LOAD` segment's file image: how virtual addresses map to file offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub vaddr: u64,
    pub offset: u64,
    pub filesz: u64,
}

/// Reads `len` bytes at virtual address `addr` through the `PT_LOAD` segments: the bytes must lie
/// in one segment's file image and in the file.
pub fn read_vaddr<'a>(bytes: &'a [u8], loads: &[Load], addr: u64, len: u64) -> Option<&'a [u8]> {
    let l = loads
        .iter()
        .find(|l| addr >= l.vaddr && addr - l.vaddr < l.filesz)?;
    let rel = addr - l.vaddr;
    if len > l.filesz - rel {
        return None;
    }
    let start = usize::try_from(l.offset.checked_add(rel)?).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

/// The build info of an ELF file already parsed by goblin.
///
/// None when this is not a Go binary: no `.go.buildinfo` section and no magic in a writable data
/// segment (or, for a file without `PT_LOAD` segments, anywhere in the file at a 16-byte-aligned
/// offset). `Some(Err)` when the blob is there but malformed.
pub fn go_buildinfo(bytes: &[u8], elf: &Elf<'_>) -> Option<Result<GoBuildInfo, String>> {
    let loads: Vec<Load> = elf
        .program_headers
        .iter()
        .filter(|ph| ph.p_type == PT_LOAD)
        .map(|ph| Load {
            vaddr: ph.p_vaddr,
            offset: ph.p_offset,
            filesz: ph.p_filesz,
        })
        .collect();
    let blob = match locate(bytes, elf, &loads)? {
        Ok(b) => b,
        Err(e) => return Some(Err(e)),
    };
    let read = |addr: u64, len: u64| read_vaddr(bytes, &loads, addr, len);
    Some(decode_blob(blob, &read).and_then(|raw| raw.parse()))
}

/// Parses `bytes` as ELF (under `catch_unwind`: goblin can panic on hostile input) and reads its
/// Go build info; None when the file is not an ELF goblin can read, or not a Go binary.
pub fn read_go_buildinfo(bytes: &[u8]) -> Option<Result<GoBuildInfo, String>> {
    crate::verify::parses::note(bytes);
    let elf = match std::panic::catch_unwind(|| Elf::parse(bytes)) {
        Ok(Ok(elf)) => elf,
        _ => return None,
    };
    go_buildinfo(bytes, &elf)
}

/// Finds the blob: from its magic to the end of the section or segment holding it.
fn locate<'a>(bytes: &'a [u8], elf: &Elf<'_>, loads: &[Load]) -> Option<Result<&'a [u8], String>> {
    let sh = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".go.buildinfo"));
    if let Some(sh) = sh {
        if sh.sh_type == SHT_NOBITS {
            return Some(Err("the .go.buildinfo section has no file data".to_string()));
        }
        let Some(data) = file_range(bytes, sh.sh_offset, sh.sh_size) else {
            return Some(Err(
                "the .go.buildinfo section lies outside the file".to_string()
            ));
        };
        return Some(
            find_magic(data, sh.sh_addr)
                .ok_or_else(|| "no build info magic in the .go.buildinfo section".to_string()),
        );
    }
    // No section headers (stripped with sstrip, or a linker that does not name it): Go's own
    // reader looks in the first writable, non-executable data segment; look in all of them.
    for ph in &elf.program_headers {
        if ph.p_type != PT_LOAD || ph.p_flags & (PF_W | PF_X) != PF_W {
            continue;
        }
        if let Some(b) =
            file_range(bytes, ph.p_offset, ph.p_filesz).and_then(|d| find_magic(d, ph.p_vaddr))
        {
            return Some(Ok(b));
        }
    }
    if loads.is_empty() {
        return find_magic(bytes, 0).map(Ok);
    }
    None
}

fn file_range(bytes: &[u8], off: u64, size: u64) -> Option<&[u8]> {
    let s = usize::try_from(off).ok()?;
    let n = usize::try_from(size).ok()?;
    bytes.get(s..s.checked_add(n)?)
}

/// The first occurrence of the magic in `data` at a 16-byte-aligned address (`data` starts at
/// virtual address `addr`) with room for the whole header; the slice runs to the end of `data`.
fn find_magic(data: &[u8], addr: u64) -> Option<&[u8]> {
    memchr::memmem::find_iter(data, BUILDINFO_MAGIC)
        .find(|&i| {
            addr.wrapping_add(i as u64).is_multiple_of(ALIGN) && data.len() - i >= HEADER_SIZE
        })
        .map(|i| &data[i..])
}

/// The two strings of a build info blob, before the module info is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBuildInfo {
    /// `runtime.buildVersion`, e.g. `go1.26.8`.
    pub go_version: String,
    /// `runtime.modinfo` with its sentinels stripped; empty when not built in module mode.
    pub modinfo: String,
}

impl RawBuildInfo {
    /// Parses the module info and sets the Go version.
    pub fn parse(&self) -> Result<GoBuildInfo, String> {
        let mut info = parse_modinfo(&self.modinfo)?;
        info.go_version = self.go_version.clone();
        Ok(info)
    }
}

/// Decodes a blob (starting at the magic) into its two strings. `read_vaddr(addr, len)` returns
/// `len` bytes at a virtual address, for the pre-Go-1.18 layout where the header holds pointers.
pub fn decode_blob<'a>(
    blob: &'a [u8],
    read_vaddr: &dyn Fn(u64, u64) -> Option<&'a [u8]>,
) -> Result<RawBuildInfo, String> {
    let header = blob
        .get(..HEADER_SIZE)
        .ok_or("build info header truncated")?;
    if !header.starts_with(BUILDINFO_MAGIC) {
        return Err("build info magic missing".to_string());
    }
    let ptr_size = header[14];
    let flags = header[15];
    let (vers, modinfo) = if flags & FLAG_INLINE != 0 {
        let mut pos = HEADER_SIZE;
        let vers = varint_string(blob, &mut pos).map_err(|e| format!("go version: {e}"))?;
        let modinfo = varint_string(blob, &mut pos).map_err(|e| format!("module info: {e}"))?;
        (vers, modinfo)
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!("pointer size {ptr_size} is neither 4 nor 8"));
        }
        let big = flags & FLAG_BIG_ENDIAN != 0;
        let ps = usize::from(ptr_size);
        let read_ptr = |b: &[u8]| -> Option<u64> { read_uint(b.get(..ps)?, big) };
        let string_at = |slot: usize, what: &str| -> Result<&'a [u8], String> {
            let addr = read_ptr(&header[16 + slot * ps..]).ok_or("pointer truncated")?;
            let hdr = read_vaddr(addr, 2 * ps as u64)
                .ok_or_else(|| format!("{what} string header at {addr:#x} is not in the file"))?;
            let data = read_ptr(hdr).ok_or("string header truncated")?;
            let len = read_ptr(&hdr[ps..]).ok_or("string header truncated")?;
            if len == 0 {
                return Ok(&[]);
            }
            read_vaddr(data, len).ok_or_else(|| {
                format!("{what} string ({len} bytes at {data:#x}) is not in the file")
            })
        };
        (string_at(0, "go version")?, string_at(1, "module info")?)
    };
    if vers.is_empty() {
        return Err("empty go version".to_string());
    }
    Ok(RawBuildInfo {
        go_version: String::from_utf8_lossy(vers).into_owned(),
        modinfo: String::from_utf8_lossy(strip_sentinels(modinfo)).into_owned(),
    })
}

/// A pointer-sized unsigned integer (4 or 8 bytes).
fn read_uint(b: &[u8], big: bool) -> Option<u64> {
    Some(match b.len() {
        4 => {
            let a: [u8; 4] = b.try_into().ok()?;
            u64::from(if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            })
        }
        8 => {
            let a: [u8; 8] = b.try_into().ok()?;
            if big {
                u64::from_be_bytes(a)
            } else {
                u64::from_le_bytes(a)
            }
        }
        _ => return None,
    })
}

/// `encoding/binary.Uvarint`: at most 10 bytes, and no overflow past 64 bits.
pub fn uvarint(b: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let byte = *b
            .get(pos.checked_add(i).ok_or("varint truncated")?)
            .ok_or("varint truncated")?;
        if i == 9 && byte > 1 {
            return Err("varint overflows 64 bits".to_string());
        }
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *pos += i + 1;
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".to_string())
}

/// A uvarint length then that many bytes.
fn varint_string<'a>(b: &'a [u8], pos: &mut usize) -> Result<&'a [u8], String> {
    let n = uvarint(b, pos)?;
    let avail = b.len().saturating_sub(*pos);
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n <= avail)
        .ok_or_else(|| format!("string length {n} exceeds the {avail} bytes left"))?;
    let s = &b[*pos..*pos + n];
    *pos += n;
    Ok(s)
}

#[cfg(test)]
mod tests;
