//! The one integration test binary: every test of `recipe` as a user sees it.

mod bad_sources;
mod build;
mod docs;
mod fuzz_corpus;
mod graph;
mod image;
mod recipes;
mod source;
mod util;
mod verify;
