//! Proves a built binary is what we promise: a fully static ELF executable for its arch
//! ([`elf::check_elf`], a pure function over bytes), and that it runs ([`smoke::run_smoke`],
//! natively or under qemu-user).

pub mod elf;
pub mod smoke;

pub use elf::{ArmAttributes, ElfReport, Finding, Severity, check_elf, parse_arm_attributes};
pub use smoke::{SmokeError, SmokeOutcome, run_smoke, runner};
