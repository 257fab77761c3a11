//! Proves a built binary is what we promise: a fully static ELF executable for its arch
//! ([`elf::check_elf`], a pure function over bytes), and that it runs ([`smoke::run_smoke`],
//! natively or under qemu-user).
//!
//! Layers, each importing only those below it (no module imports one that imports it back):
//! - leaves: [`finding`] (findings, severity, codes), [`expect`] (what the caller expects),
//!   [`facts`] (what was learned), `header` (the hand-read ELF header), `strings` and `symbols`
//!   (what the binary names), [`goinfo`] (Go build info);
//! - checks: [`arm`] (ARM ABI), [`runtime`] (runtime files), [`deep`] (libc, dlopen, shell,
//!   hardening, Go expectations);
//! - the orchestrator: [`elf`] ([`check_elf`]), and apart from it [`smoke`].

pub mod arm;
pub mod deep;
pub mod elf;
pub mod expect;
pub mod facts;
pub mod finding;
pub mod goinfo;
mod header;
mod linkage;
pub mod runtime;
pub mod smoke;
mod strings;
mod symbols;

pub use arm::{ArmAttributes, parse_arm_attributes};
pub use elf::{ElfReport, check_elf, check_elf_with};
pub use expect::{Expect, GoExpect};
pub use facts::{
    ElfFacts, ElfKind, GoBuildInfo, GoModule, Hardening, Libc, Relro, RuntimeFile, RuntimeKind,
};
pub use finding::{Code, Finding, Severity, UnknownCode};
pub use smoke::{SmokeError, SmokeOutcome, run_smoke, runner};

/// A file's bytes for checking: memory-mapped, so a large binary is not copied into memory
/// (an empty file, which cannot be mapped, is an empty buffer).
pub enum FileBytes {
    Mapped(memmap2::Mmap),
    Empty,
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Empty => &[],
        }
    }
}

/// Opens `path` for checking (see [`FileBytes`]). Only a regular file is opened: a FIFO, a
/// device or a socket is an error saying what it is, never a read that blocks
/// ([`crate::walk::open_regular`]).
pub fn read_file(path: &std::path::Path) -> std::io::Result<FileBytes> {
    let (file, meta) = crate::walk::open_regular(path, true)?;
    if meta.len() == 0 {
        return Ok(FileBytes::Empty);
    }
    // SAFETY: the map is read-only and private; a file truncated by another process while it is
    // checked could fault (SIGBUS), which is the accepted risk of every mmap-based reader
    // (ripgrep's too). The files checked are build outputs and files given on the command line.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    Ok(FileBytes::Mapped(map))
}
