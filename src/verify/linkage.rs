//! Linkage: PT_INTERP, DT_NEEDED and DT_SONAME, and what kind of ELF object the file is (static,
//! static-pie, dynamic; executable, shared library, object file, core dump).

use goblin::elf::Elf;
use goblin::elf::dynamic::{DT_NEEDED, DT_SONAME};
use goblin::elf::header::{ET_CORE, ET_DYN, ET_EXEC, ET_REL};
use goblin::elf::program_header::PT_INTERP;

use super::facts::{ElfFacts, ElfKind};
use super::finding::{Code, Finding, error};
use super::header::RawHeader;

/// Static, static-pie or not; executable or not. Fills the linkage facts and returns the
/// description word.
pub(super) fn check_linkage(
    bytes: &[u8],
    elf: &Elf<'_>,
    hdr: &RawHeader,
    facts: &mut ElfFacts,
    findings: &mut Vec<Finding>,
) -> String {
    let interp = interpreter(bytes, elf);
    let (needed, soname) = dynamic_names(elf);
    let is_dynamic = interp.is_some() || !needed.is_empty();
    // An ET_DYN with no interpreter is a library when it names itself or has no entry point.
    let library = interp.is_none() && (soname.is_some() || elf.entry == 0);
    facts.kind = match hdr.e_type {
        ET_EXEC => ElfKind::Executable,
        ET_DYN if library => ElfKind::SharedLibrary,
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
        findings.push(error(
            Code::Dynamic,
            format!("dynamic: {}", parts.join(", ")),
        ));
    }
    facts.interpreter = interp;
    facts.needed = needed;
    facts.soname = soname;
    kind_word(
        hdr.e_type,
        is_dynamic,
        library,
        facts.soname.as_deref(),
        findings,
    )
}

/// PT_INTERP, even when goblin could not read its string (e.g. not UTF-8).
fn interpreter(bytes: &[u8], elf: &Elf<'_>) -> Option<String> {
    let ph = elf
        .program_headers
        .iter()
        .find(|ph| ph.p_type == PT_INTERP)?;
    if let Some(i) = elf.interpreter {
        return Some(i.to_string());
    }
    let s = usize::try_from(ph.p_offset).ok();
    let n = usize::try_from(ph.p_filesz).ok();
    let read = match (s, n) {
        (Some(s), Some(n)) => s.checked_add(n).and_then(|e| bytes.get(s..e)).map(|b| {
            let b = b.split(|&c| c == 0).next().unwrap_or_default();
            String::from_utf8_lossy(b).into_owned()
        }),
        _ => None,
    };
    Some(read.unwrap_or_else(|| "<unreadable>".to_string()))
}

/// Every DT_NEEDED, even those whose name goblin could not read, and DT_SONAME.
fn dynamic_names(elf: &Elf<'_>) -> (Vec<String>, Option<String>) {
    let mut needed: Vec<String> = Vec::new();
    let mut soname = None;
    let Some(dynamic) = &elf.dynamic else {
        return (needed, soname);
    };
    for d in &dynamic.dyns {
        let tag = d.d_tag;
        if tag != DT_NEEDED && tag != DT_SONAME {
            continue;
        }
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
    (needed, soname)
}

/// The description word for the ELF type, with a `not-executable` finding for a type that
/// does not run.
fn kind_word(
    e_type: u16,
    is_dynamic: bool,
    library: bool,
    soname: Option<&str>,
    findings: &mut Vec<Finding>,
) -> String {
    let mut not_executable = |message: String| findings.push(error(Code::NotExecutable, message));
    match e_type {
        ET_EXEC if is_dynamic => "dynamic".into(),
        ET_EXEC => "static".into(),
        ET_DYN if library => {
            let what = match soname {
                Some(s) => format!("a shared library (SONAME {s})"),
                None => "a shared library (ET_DYN with no entry point)".to_string(),
            };
            not_executable(format!(
                "{what}, not an executable: link the program itself, statically"
            ));
            "shared library".into()
        }
        ET_DYN if is_dynamic => "dynamic-pie".into(),
        ET_DYN => "static-pie".into(),
        ET_REL => {
            not_executable(
                "a relocatable object (ET_REL, a .o file), not an executable: the link step did \
                 not run"
                    .to_string(),
            );
            "relocatable".into()
        }
        ET_CORE => {
            not_executable("a core dump (ET_CORE), not an executable".to_string());
            "core dump".into()
        }
        t => {
            not_executable(format!(
                "ELF type {t:#x} is not an executable (expected ET_EXEC or ET_DYN)"
            ));
            format!("type {t:#x}")
        }
    }
}
