//! The one integration test binary: every test of `recipe` as a user sees it.

mod bad_sources;
mod build;
mod check;
mod docs;
mod go_binaries;
mod graph;
mod image;
mod recipes;
mod sbom;
mod source;
mod util;
mod verify;
