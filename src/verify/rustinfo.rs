//! Rust binaries: rustc names itself in the `.comment` section (`rustc version 1.96.0
//! (ac68faa20 2026-05-25)`), which linkers merge and `strip` keeps; the panic strategy is
//! guessed from core's messages ([`super::facts::PanicStrategy`]). A leaf module: pure
//! functions over the bytes.

use goblin::elf::Elf;

use super::facts::{PanicStrategy, RustInfo};
use super::strings::{Strings, UNWIND_MARKER};

/// What `.comment` may hold, at most: a linker writes one line per tool (a few hundred bytes).
const COMMENT_MAX: usize = 64 * 1024;

/// The Rust facts of a binary, when its `.comment` says rustc built it.
pub(super) fn rust_info(bytes: &[u8], elf: &Elf<'_>, strings: &Strings) -> Option<RustInfo> {
    let rustc_version = comment(bytes, elf)?
        .split(|&b| b == 0)
        .find_map(rustc_version)?;
    let panic = if strings.has(UNWIND_MARKER) {
        PanicStrategy::Unwind
    } else {
        PanicStrategy::Abort
    };
    Some(RustInfo {
        rustc_version,
        panic,
    })
}

/// The bytes of the `.comment` section, if there is one inside the file (capped).
fn comment<'a>(bytes: &'a [u8], elf: &Elf<'_>) -> Option<&'a [u8]> {
    let sh = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".comment"))?;
    let start = usize::try_from(sh.sh_offset).ok()?;
    let len = usize::try_from(sh.sh_size).ok()?.min(COMMENT_MAX);
    bytes.get(start..start.checked_add(len)?)
}

/// `1.96.0` from one `.comment` line `rustc version 1.96.0 (ac68faa20 2026-05-25) (built from
/// a source tarball)`; a version of other characters than a version has is not taken.
fn rustc_version(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(b"rustc version ")?;
    let v = rest.split(|&b| b == b' ').next()?;
    let ok = !v.is_empty()
        && v.len() <= 64
        && v[0].is_ascii_digit()
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    ok.then(|| String::from_utf8_lossy(v).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::verify::check_elf;

    /// A static x86-64 ELF64 executable with `sections` (name, `SHF_*` flags, bytes) after a
    /// null section, and `.shstrtab` last; no program headers.
    fn elf_with_sections(sections: &[(&str, u64, &[u8])]) -> Vec<u8> {
        use goblin::elf::section_header::{SHT_PROGBITS, SHT_STRTAB};
        let mut names = vec![0u8];
        let mut name_at = Vec::new();
        for (name, _, _) in sections.iter().chain([&(".shstrtab", 0, &[][..])]) {
            name_at.push(names.len() as u32);
            names.extend(name.as_bytes());
            names.push(0);
        }
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2; // ELFCLASS64
        b[5] = 1; // little-endian
        b[6] = 1;
        b[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        b[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
        b[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        b[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        let mut headers = vec![[0u8; 64]];
        let datas = sections
            .iter()
            .map(|(_, flags, data)| (SHT_PROGBITS, *flags, *data))
            .chain([(SHT_STRTAB, 0, &names[..])]);
        for (i, (kind, flags, data)) in datas.enumerate() {
            let mut h = [0u8; 64];
            h[..4].copy_from_slice(&name_at[i].to_le_bytes());
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[8..16].copy_from_slice(&flags.to_le_bytes());
            h[24..32].copy_from_slice(&(b.len() as u64).to_le_bytes());
            h[32..40].copy_from_slice(&(data.len() as u64).to_le_bytes());
            h[48..56].copy_from_slice(&1u64.to_le_bytes());
            b.extend(data);
            headers.push(h);
        }
        while !b.len().is_multiple_of(8) {
            b.push(0);
        }
        let shoff = b.len() as u64;
        b[40..48].copy_from_slice(&shoff.to_le_bytes());
        b[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        b[60..62].copy_from_slice(&(headers.len() as u16).to_le_bytes());
        b[62..64].copy_from_slice(&((headers.len() - 1) as u16).to_le_bytes());
        for h in headers {
            b.extend(h);
        }
        b
    }

    const RUSTC: &[u8] = b"Linker: LLD 22.1.8\0rustc version 1.96.0 (ac68faa20 2026-05-25) \
        (built from a source tarball)\0clang version 22.1.8\0";
    /// `SHF_ALLOC`: a section the string scan reads (.rodata).
    const ALLOC: u64 = 2;

    #[test]
    fn a_rust_binary_says_its_rustc_and_panic_strategy() {
        let musl = b"No error information\0";
        let abort = elf_with_sections(&[(".rodata", ALLOC, musl), (".comment", 0, RUSTC)]);
        let r = check_elf(&abort, Some(Arch::Amd64));
        assert!(r.passed(), "{r:?}");
        assert_eq!(
            r.description,
            "ELF 64-bit x86-64, static, musl, Rust 1.96.0, panic=abort"
        );
        let rust = r.facts.as_ref().unwrap().rust.as_ref().unwrap();
        assert_eq!(rust.rustc_version, "1.96.0");
        assert_eq!(rust.panic, PanicStrategy::Abort);

        let rodata = [&musl[..], b"x\0panic in a function that cannot unwind\0"].concat();
        let unwind = elf_with_sections(&[
            (".rodata", ALLOC, &rodata),
            (".gcc_except_table", ALLOC, b"\xff\x9b"),
            (".comment", 0, RUSTC),
        ]);
        let r = check_elf(&unwind, Some(Arch::Amd64));
        assert_eq!(
            r.description,
            "ELF 64-bit x86-64, static, musl, Rust 1.96.0, panic=unwind"
        );
        // C++'s exception tables alone do not make it unwind: the message decides.
        let cxx = elf_with_sections(&[
            (".rodata", ALLOC, musl),
            (".gcc_except_table", ALLOC, b"\xff\x9b"),
            (".comment", 0, RUSTC),
        ]);
        let facts = check_elf(&cxx, None).facts.unwrap();
        assert_eq!(facts.rust.unwrap().panic, PanicStrategy::Abort);
    }

    #[test]
    fn other_binaries_have_no_rust_facts() {
        // A C binary, and the marker outside `.comment` (in data), are not Rust.
        let c = elf_with_sections(&[
            (".rodata", ALLOC, b"rustc version 1.96.0 (x)\0"),
            (".comment", 0, b"GCC: (Debian 12.2.0-14+deb12u1) 12.2.0\0"),
        ]);
        let r = check_elf(&c, Some(Arch::Amd64));
        assert_eq!(r.facts.as_ref().unwrap().rust, None, "{r:?}");
        assert_eq!(r.description, "ELF 64-bit x86-64, static");
        // A `.comment` that runs past the file is not read.
        let mut cut = elf_with_sections(&[(".comment", 0, RUSTC)]);
        let shoff = u64::from_le_bytes(cut[40..48].try_into().unwrap()) as usize;
        let size_at = shoff + 64 + 32;
        cut[size_at..size_at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
        let r = check_elf(&cut, None);
        assert!(r.facts.is_none_or(|f| f.rust.is_none()));
    }

    /// A record written before Rust facts existed reads back with none; one without them
    /// writes no `rust` key (records and `--json` of other binaries are unchanged).
    #[test]
    fn records_without_rust_facts_read_and_write_as_before() {
        let facts = crate::verify::ElfFacts::default();
        let json = serde_json::to_value(&facts).unwrap();
        assert!(json.get("rust").is_none(), "{json}");
        let back: crate::verify::ElfFacts = serde_json::from_value(json).unwrap();
        assert_eq!(back, facts);
        let with = crate::verify::ElfFacts {
            rust: Some(RustInfo {
                rustc_version: "1.96.0".into(),
                panic: PanicStrategy::Abort,
            }),
            ..facts
        };
        let json = serde_json::to_value(&with).unwrap();
        assert_eq!(
            json["rust"],
            serde_json::json!({"rustc_version": "1.96.0", "panic": "abort"})
        );
        assert_eq!(
            serde_json::from_value::<crate::verify::ElfFacts>(json).unwrap(),
            with
        );
    }

    #[test]
    fn rustc_names_its_version() {
        let line = b"rustc version 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)";
        assert_eq!(rustc_version(line).as_deref(), Some("1.96.0"));
        assert_eq!(
            rustc_version(b"rustc version 1.97.0-nightly (0123abcd 2026-06-01)").as_deref(),
            Some("1.97.0-nightly")
        );
        assert_eq!(
            rustc_version(b"rustc version 1.95.0").as_deref(),
            Some("1.95.0")
        );
        for other in [
            &b"GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"[..],
            b"clang version 22.1.8",
            b"Linker: LLD 22.1.8",
            b"rustc version ",
            b"rustc version \x1b[31m1",
            b"rustc version x.y",
        ] {
            assert_eq!(rustc_version(other), None, "{}", other.escape_ascii());
        }
    }
}
