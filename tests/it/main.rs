//! The one integration test binary: every test of `recipe` as a user sees it.

mod util;
mod image;
