//! Proves a built binary is what we promise: a fully static ELF executable for its arch
//! ([`elf::check_elf`], a pure function over bytes), and that it runs ([`smoke::run_smoke`],
//! natively or under qemu-user).

pub mod arm;
pub mod elf;
pub mod facts;
pub mod goinfo;
pub mod smoke;

pub use arm::{ArmAttributes, parse_arm_attributes};
pub use elf::{ElfReport, Finding, Severity, check_elf};
pub use facts::{ElfFacts, ElfKind, GoBuildInfo, GoModule, Hardening, Libc, Relro, RuntimeFile};
pub use smoke::{SmokeError, SmokeOutcome, run_smoke, runner};
