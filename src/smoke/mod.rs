//! The smoke test: a built app run as its image will run it, and what it did judged.

pub mod container;
pub mod run;
pub mod serve;
pub mod service;

pub use run::{Place, QEMU_PACKAGE, SmokeError, SmokeOutcome, run_smoke, run_smoke_served, runner};
