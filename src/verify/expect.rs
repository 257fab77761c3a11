//! What the caller knows a binary should be ([`Expect`], [`GoExpect`]): plain data, a leaf module
//! the orchestrator ([`super::elf`]) and the deep check ([`super::deep`]) both read.

use std::collections::BTreeSet;

use crate::arch::Arch;

/// What the caller knows the binary should be: its arch, for Go what the recipe asked of the
/// Go toolchain, and the files the image will hold (to say which runtime files are missing).
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub arch: Option<Arch>,
    pub go: Option<GoExpect>,
    /// Absolute paths of every file, folder and link in the image; None when unknown.
    pub image_files: Option<BTreeSet<String>>,
}

impl Expect {
    pub fn arch(arch: Option<Arch>) -> Expect {
        Expect {
            arch,
            ..Expect::default()
        }
    }
}

/// What a Go build was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoExpect {
    /// `go1.26.8`.
    pub go_version: Option<String>,
    pub cgo: bool,
    /// Build tags that must appear in `-tags`.
    pub tags: Vec<String>,
    /// The main module's path, when the source is a Go module.
    pub module: Option<String>,
}
