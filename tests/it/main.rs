//! The one integration test binary: every test of `recipe` as a user sees it.

mod build;
mod docs;
mod image;
mod recipes;
mod source;
mod util;
mod verify;
