//! Proves a built binary is what we promise: a fully static ELF executable for its arch
//! ([`elf::check_elf`], a pure function over bytes), and that it runs ([`smoke::run_smoke`],
//! natively or under qemu-user).

pub mod arm;
pub mod deep;
pub mod elf;
pub mod facts;
pub mod goinfo;
pub mod smoke;

pub use arm::{ArmAttributes, parse_arm_attributes};
pub use deep::{Expect, GoExpect};
pub use elf::{ElfReport, Finding, Severity, check_elf, check_elf_with};
pub use facts::{ElfFacts, ElfKind, GoBuildInfo, GoModule, Hardening, Libc, Relro, RuntimeFile};
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
