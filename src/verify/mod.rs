//! Proves a built binary is what we promise: a fully static ELF executable for its arch
//! ([`elf::check_elf`], a pure function over bytes). Nothing here runs a binary: running one
//! is the smoke test's ([`crate::smoke`]).
//!
//! Layers, each importing only those below it (no module imports one that imports it back):
//! - leaves: [`finding`] (findings, severity, codes), [`expect`] (what the caller expects),
//!   [`facts`] (what was learned), `header` (the hand-read ELF header), `lean` (goblin's parse less what verify never reads), `strings` and `symbols`
//!   (what the binary names), [`goinfo`] (Go build info), `rustinfo` (rustc's version and the
//!   panic strategy);
//! - checks: [`arm`] (ARM ABI), [`runtime`] (runtime files), [`deep`] (libc, dlopen, shell,
//!   hardening, Go expectations);
//! - the orchestrator: [`elf`] ([`check_elf`]), which `parses` (a test hook counting parses)
//!   sits below;
//! - [`record`]: a report as a job's cache entry keeps it, read back instead of the bytes.

pub mod arm;
pub mod deep;
pub mod elf;
pub mod expect;
pub mod facts;
pub mod finding;
pub mod goinfo;
mod header;
mod lean;
mod linkage;
mod parses;
pub mod record;
pub mod runtime;
mod rustinfo;
mod strings;
mod symbols;

pub use arm::{ArmAttributes, parse_arm_attributes};
pub use deep::go_findings;
pub use elf::{ElfReport, check_elf, check_elf_with, is_upx_packed};
pub use expect::{Expect, GoExpect};
pub use facts::{
    ElfFacts, ElfKind, GoBuildInfo, GoModule, Hardening, Libc, PanicStrategy, Relro, RuntimeFile,
    RuntimeKind, RustInfo,
};
pub use finding::{Code, Finding, Severity, UnknownCode};
pub use record::{FileRecord, Reports};

/// A file's bytes for checking: memory-mapped, so a large binary is not copied into memory
/// (an empty file, which cannot be mapped, is an empty buffer).
pub enum FileBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
    Empty,
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Read(v) => v,
            FileBytes::Empty => &[],
        }
    }
}

/// Files up to this size are read rather than mapped: mapping and unmapping costs more than
/// copying them, and more still with several threads (each unmap interrupts every core that
/// runs one of them).
const READ_WHOLE: u64 = 4 << 20;

/// Opens `path` for checking (see [`FileBytes`]). Only a regular file is opened: a FIFO, a
/// device or a socket is an error saying what it is, never a read that blocks
/// ([`crate::walk::open_regular`]).
pub fn read_file(path: &std::path::Path) -> std::io::Result<FileBytes> {
    let (file, meta) = crate::walk::open_regular(path, true)?;
    if meta.len() == 0 {
        return Ok(FileBytes::Empty);
    }
    if meta.len() <= READ_WHOLE {
        let mut v = Vec::with_capacity(meta.len() as usize);
        std::io::Read::read_to_end(&mut std::io::Read::take(&file, meta.len()), &mut v)?;
        return Ok(FileBytes::Read(v));
    }
    // SAFETY: the map is read-only and private; a file truncated by another process while it is
    // checked could fault (SIGBUS), which is the accepted risk of every mmap-based reader
    // (ripgrep's too). The files checked are build outputs and files given on the command line.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(FileBytes::Mapped(map))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// The sibling modules each file of `src/<dir>/` imports (`super::name`, `super::{a, b}`;
    /// lowercase names only, outside its tests).
    fn imports(dir: &str) -> BTreeMap<String, BTreeSet<String>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(dir);
        let mut graph = BTreeMap::new();
        for e in std::fs::read_dir(&root).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            // A folder module is its `mod.rs` (its own files' `super::` is the folder's).
            let file = if path.is_dir() {
                path.join("mod.rs")
            } else {
                path
            };
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let mut deps = BTreeSet::new();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (_, rest) in line
                    .match_indices("super::")
                    .map(|(i, _)| line.split_at(i + 7))
                {
                    let ident = |n: &str| {
                        n.trim()
                            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .next()
                            .unwrap_or("")
                            .to_string()
                    };
                    let names: Vec<String> = match rest.strip_prefix('{') {
                        Some(group) => group
                            .split('}')
                            .next()
                            .unwrap_or("")
                            .split(',')
                            .map(ident)
                            .collect(),
                        None => vec![ident(rest)],
                    };
                    for n in names {
                        if n.starts_with(|c: char| c.is_ascii_lowercase()) && n != name {
                            deps.insert(n);
                        }
                    }
                }
            }
            graph.insert(name, deps);
        }
        graph
    }

    /// A module path `from` -> ... -> `from` through sibling modules, if there is one.
    fn cycle(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
        let mut stack = vec![vec![from.to_string()]];
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let last = path.last().unwrap();
            for dep in graph.get(last).into_iter().flatten() {
                if dep == from {
                    return Some([path.clone(), vec![dep.clone()]].concat());
                }
                if graph.contains_key(dep) && seen.insert(dep.clone()) {
                    stack.push([path.clone(), vec![dep.clone()]].concat());
                }
            }
        }
        None
    }

    /// ARCHITECTURE's layering: in `verify/`, `source/` and `smoke/`, no module imports one
    /// that imports it back (shared types live in leaf modules; `mod.rs` is the root and its functions are
    /// helpers, so calls from it into a child are not counted).
    #[test]
    fn verify_and_source_modules_import_no_cycle() {
        for dir in ["verify", "source", "smoke"] {
            let mut graph = imports(dir);
            graph.remove("mod");
            for m in graph.keys() {
                assert_eq!(cycle(&graph, m), None, "import cycle in src/{dir}/");
            }
        }
        // The origins share `download`, never each other.
        let source = imports("source");
        for origin in ["debian", "gomod", "http", "pypi"] {
            let deps = &source[origin];
            assert!(deps.contains("download"), "{origin}: {deps:?}");
            for other in ["debian", "gomod", "http", "pypi", "store"] {
                assert!(!deps.contains(other), "{origin} imports {other}");
            }
        }
    }
}
