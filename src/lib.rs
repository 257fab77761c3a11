//! `recipe`: builds C/C++ and Go apps as fully static musl binaries for amd64, arm64 and armv7,
//! proves they are static and that they run, and packs them into distroless OCI images.
//!
//! The modules follow the pipeline: [`recipe`] (load and validate recipe files) -> [`plan`]
//! (what to do, as plain data) -> [`source`] (fetch and extract) -> [`toolchain`] (zig and Go,
//! wrappers per target) -> [`build`] (run the build system) -> [`verify`] (ELF checks) ->
//! [`smoke`] (the app run as its image runs it) -> [`image`] (reproducible OCI layout) -> [`report`] (what the user reads at the end); [`push`] uploads an
//! image to a registry.

// Errors carry the command, log tail and paths a person needs; they are the cold path, so their
// size is not worth boxing.
#![allow(clippy::result_large_err)]

pub mod arch;
pub mod archive;
pub mod build;
pub mod cache;
pub mod check;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod debian;
pub mod digest;
pub mod error;
pub mod image;
pub mod new;
pub mod pins;
pub mod pipeline;
pub mod plan;
pub mod process;
pub mod progress;
pub mod publish;
pub mod push;
pub mod recipe;
pub mod registry;
pub mod remote;
pub mod report;
pub mod sandbox;
pub mod sbom;
pub mod secrets;
pub mod sign;
pub mod size;
pub mod smoke;
pub mod source;
#[doc(hidden)]
pub mod testing;
pub mod text;
pub mod tls;
pub mod toolchain;
pub mod verify;
pub mod vex;
pub mod walk;
