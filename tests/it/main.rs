//! The one integration test binary: every test of `recipe` as a user sees it.

mod bad_sources;
mod build;
mod check;
mod compress;
mod container;
mod context;
mod docs;
mod errors;
mod format_gaps;
mod fuzz_corpus;
mod go_binaries;
mod graph;
mod harness;
mod image;
mod image_files;
mod invariants;
mod push;
mod recipes;
mod run;
mod run_target_programs;
mod sbom;
mod service;
mod source;
mod util;
mod verify;
mod wrapper;
