//! The smoke test: a built app run as its image will run it, and what it did judged.

pub mod container;
pub mod form;
pub mod job;
pub mod outcome;
pub mod root;
pub mod run;
pub mod serve;
pub mod service;

pub use form::Form;
pub use outcome::{By, End, Failure, Outcome, Passed, Ran, ServiceFailure};
pub use run::{Place, QEMU_PACKAGE, SmokeError, run_smoke, run_smoke_served, runner};
