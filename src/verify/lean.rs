//! goblin's ELF parse without what verify never reads: the names of `.symtab` (its `.strtab`),
//! the section relocations and the symbol versions. A leaf module.
//!
//! goblin's full parse splits the whole `.strtab` into a vector of every name: for an unstripped
//! debug build (a 200 MiB Rust or C++ binary) that is tens of MiB of names and half of verify's
//! time on the file, to answer a question asked only of a static glibc binary (does it define an
//! NSS function?), which [`symtab_name`] answers by reading the one name it needs.
//!
//! Everything else is goblin's own code called the way its full parse calls it: program and
//! section headers, the interpreter, `.shstrtab`, the dynamic section, its string table and
//! `.dynsym`. `.dynsym`'s length is its section header's, where goblin counts from the hash
//! table and the relocations, which can fall short (a file without a hash table shows goblin no
//! imports at all); a file with a dynamic section but no `.dynsym` header (section headers
//! stripped) takes goblin's full parse.

use goblin::container::Ctx;
use goblin::elf::dynamic::Dynamic;
use goblin::elf::program_header::PT_INTERP;
use goblin::elf::section_header::{SHN_XINDEX, SHT_DYNSYM, SHT_SYMTAB};
use goblin::elf::{Elf, ProgramHeader, SectionHeader, Symtab};
use goblin::error::{Error, Result};
use goblin::options::ParseOptions;
use goblin::strtab::Strtab;

/// Parses `bytes` as goblin's strict full parse would, leaving `strtab` empty (names of
/// `.symtab`: read them with [`symtab_name`]), `shdr_relocs` empty and the symbol versions
/// unread. `permissive` (a file the strict parse refused) is goblin's own permissive parse: it
/// reads what it can of each broken part, and such a file is rare and never large.
pub(super) fn parse(bytes: &[u8], permissive: bool) -> Result<Elf<'_>> {
    if permissive {
        return Elf::parse_with_opts(bytes, &ParseOptions::permissive());
    }
    let header = Elf::parse_header(bytes)?;
    let mut elf = Elf::lazy_parse(header)?;
    let ctx = Ctx::new(header.container()?, header.endianness()?);

    elf.program_headers =
        ProgramHeader::parse(bytes, header.e_phoff as usize, header.e_phnum as usize, ctx)?;
    for ph in &elf.program_headers {
        if ph.p_type == PT_INTERP && ph.p_filesz != 0 {
            let start = ph.p_offset as usize;
            elf.interpreter = start
                .checked_add((ph.p_filesz - 1) as usize)
                .and_then(|end| bytes.get(start..end))
                .and_then(|b| std::str::from_utf8(b).ok());
        }
    }
    elf.section_headers =
        SectionHeader::parse(bytes, header.e_shoff as usize, header.e_shnum as usize, ctx)?;
    elf.shdr_strtab = string_table(bytes, &elf.section_headers, header.e_shstrndx as usize)?;

    if let Some(sh) = elf
        .section_headers
        .iter()
        .rfind(|s| s.sh_type == SHT_SYMTAB)
    {
        elf.syms = Symtab::parse(bytes, sh.sh_offset as usize, count(sh)?, ctx)?;
    }

    elf.dynamic = Dynamic::parse(bytes, &elf.program_headers, ctx)?;
    if let Some(dynamic) = &elf.dynamic {
        let Some(dynsym) = elf.section_headers.iter().find(|s| s.sh_type == SHT_DYNSYM) else {
            return Elf::parse_with_opts(bytes, &ParseOptions::strict());
        };
        let info = &dynamic.info;
        elf.dynstrtab = Strtab::parse(bytes, info.strtab, info.strsz, 0)?;
        if info.soname != 0 {
            elf.soname = elf.dynstrtab.get_at(info.soname);
        }
        if info.needed_count > 0 {
            elf.libraries = dynamic.get_libraries(&elf.dynstrtab);
        }
        elf.dynsyms = Symtab::parse(bytes, info.symtab, count(dynsym)?, ctx)?;
    }
    Ok(elf)
}

/// The number of entries of a symbol table section (goblin bounds it by the file's size).
fn count(sh: &SectionHeader) -> Result<usize> {
    let n = sh.sh_size.checked_div(sh.sh_entsize).unwrap_or(0);
    usize::try_from(n).map_err(|_| Error::Malformed(format!("symbol table count {n} is too large")))
}

/// The string table at section `index` (`SHN_XINDEX`: the index is in section 0's `sh_link`);
/// empty when there is no such section, as in goblin.
fn string_table<'a>(
    bytes: &'a [u8],
    sections: &[SectionHeader],
    mut index: usize,
) -> Result<Strtab<'a>> {
    if index == SHN_XINDEX as usize {
        match sections.first() {
            Some(s) => index = s.sh_link as usize,
            None => return Ok(Strtab::default()),
        }
    }
    match sections.get(index) {
        None => Ok(Strtab::default()),
        Some(sh) => {
            sh.check_size(bytes.len())?;
            Strtab::parse(bytes, sh.sh_offset as usize, sh.sh_size as usize, 0)
        }
    }
}

/// The name at `offset` in the string table of `.symtab` (the section its `sh_link` names):
/// the bytes up to the next NUL or the table's end, when they are UTF-8 and inside the file.
/// A permissive parse is goblin's own, whose table is read already.
pub(super) fn symtab_name<'a>(bytes: &'a [u8], elf: &Elf<'a>, offset: usize) -> Option<&'a str> {
    if elf.strtab.len() > 0 {
        return elf.strtab.get_at(offset);
    }
    let symtab = elf
        .section_headers
        .iter()
        .rfind(|s| s.sh_type == SHT_SYMTAB)?;
    let table = elf.section_headers.get(symtab.sh_link as usize)?;
    let start = usize::try_from(table.sh_offset).ok()?;
    let len = usize::try_from(table.sh_size).ok()?;
    let table = bytes.get(start..start.checked_add(len)?)?;
    let rest = table.get(offset..)?;
    let end = memchr::memchr(0, rest).unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()
}

#[cfg(test)]
mod tests {
    use goblin::options::ParseOptions;

    use super::*;

    /// `.dynsym`'s symbols: index and name.
    fn dynsyms<'a>(elf: &Elf<'a>) -> Vec<(usize, Option<&'a str>)> {
        let names = elf.dynsyms.iter().map(|s| elf.dynstrtab.get_at(s.st_name));
        elf.dynsyms.iter().map(|s| s.st_shndx).zip(names).collect()
    }

    /// The fields verify reads but `.dynsym`, as text, for comparing two parses of one file.
    fn read_by_verify(elf: &Elf<'_>) -> String {
        let names: Vec<_> = elf
            .section_headers
            .iter()
            .map(|s| elf.shdr_strtab.get_at(s.sh_name))
            .collect();
        let dynamic = elf.dynamic.as_ref().map(|d| format!("{:?}", d.dyns));
        let symtab: Vec<_> = elf.syms.iter().map(|s| (s.st_name, s.st_shndx)).collect();
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            elf.header,
            elf.program_headers,
            elf.section_headers,
            names,
            elf.interpreter,
            dynamic,
            elf.libraries,
            symtab,
        )
    }

    /// Every seed of the ELF fuzz corpus (real binaries of every arch and malformed ones) parses
    /// the same way as goblin's full parse, in strict and permissive modes, and every `.symtab`
    /// name reads the same.
    #[test]
    fn the_lean_parse_reads_what_goblin_reads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/elf");
        let (mut parsed, mut names, mut longer) = (0, 0, 0);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            for permissive in [false, true] {
                let opts = if permissive {
                    ParseOptions::permissive()
                } else {
                    ParseOptions::strict()
                };
                let full = std::panic::catch_unwind(|| Elf::parse_with_opts(&bytes, &opts));
                let lean = std::panic::catch_unwind(|| parse(&bytes, permissive));
                let (Ok(Ok(full)), Ok(Ok(lean))) = (full, lean) else {
                    continue;
                };
                let (a, b) = (read_by_verify(&full), read_by_verify(&lean));
                for (i, (a, b)) in a.lines().zip(b.lines()).enumerate() {
                    assert_eq!(a, b, "part {i} of {}", path.display());
                }
                // goblin's `.dynsym` is the lean parse's or, counted from the hash table, a part.
                let (a, b) = (dynsyms(&full), dynsyms(&lean));
                assert!(b.starts_with(&a), "{}: {a:?} {b:?}", path.display());
                longer += usize::from(b.len() > a.len());
                parsed += 1;
                for s in full.syms.iter() {
                    if let Some(name) = full.strtab.get_at(s.st_name) {
                        assert_eq!(symtab_name(&bytes, &lean, s.st_name), Some(name));
                        names += 1;
                    }
                }
            }
        }
        assert!(parsed > 500, "only {parsed} parses compared");
        assert!(names > 1000, "only {names} symbol names compared");
        assert!(longer > 0, "no seed where goblin's count falls short");
    }
}
