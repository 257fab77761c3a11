//! The smoke test: a built app run as its image will run it, and what it did judged. It owns
//! every way `recipe` runs a build's own binaries:
//! - [`form`]: what a recipe's `[smoke]` asks for ([`Form`]: `--version`, a client app with
//!   an HTTP server, a service);
//! - [`job`]: a build job's smoke test in that form, in [`root`]'s sandbox (the image's files,
//!   its user and environment) or, with `--no-sandbox`, on this machine;
//! - [`run`]: one program run natively or under qemu-user with a timeout, at a [`Place`];
//!   [`serve`]: the client form's HTTP server; [`service`]: a service started, probed
//!   ([`service::probe`], [`service::dns`]) and stopped;
//! - [`container`]: `recipe test`, the same requests sent to the image in podman or docker
//!   ([`ulimit`]: the container's resource limits within this process's hard limits);
//! - [`outcome`]: how it ended ([`Ran`], [`Passed`], [`Failure`]), the one place that turns it
//!   into text.
//!
//! Invariants (tested below): `verify/` runs no program (its proofs are read from the bytes);
//! nothing here imports `pipeline` (the pipeline hands a job's image files in); the smoke
//! test's sentences are written in `outcome.rs` only.

pub mod container;
mod engine;
pub mod form;
pub mod job;
pub mod outcome;
pub mod root;
pub mod run;
pub mod serve;
pub mod service;
pub mod ulimit;

pub use form::Form;
pub use outcome::{By, End, Failure, Outcome, Passed, Ran, ServiceFailure};
pub use run::{Place, QEMU_PACKAGE, SmokeError, run_smoke, run_smoke_served, runner};

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// The `.rs` files under `src/<dir>` with their text outside `#[cfg(test)]`.
    fn code(dir: &str) -> Vec<(PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = Vec::new();
        let mut todo = vec![root.join(dir)];
        while let Some(p) = todo.pop() {
            if p.is_dir() {
                todo.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap().to_string();
                out.push((p.strip_prefix(&root).unwrap().to_path_buf(), code));
            }
        }
        assert!(!out.is_empty(), "no files in src/{dir}");
        out
    }

    #[test]
    fn verify_runs_nothing_and_smoke_does_not_import_the_pipeline() {
        for (file, text) in code("verify") {
            for what in ["crate::process", "std::process::Command", "smoke::"] {
                assert!(!text.contains(what), "{} uses {what}", file.display());
            }
        }
        for (file, text) in code("smoke") {
            assert!(
                !text.contains("crate::pipeline"),
                "{} imports the pipeline",
                file.display()
            );
        }
    }

    #[test]
    fn the_smoke_tests_sentences_are_written_in_outcome_rs_only() {
        let phrases = [
            "output lacks",
            "request(s) on",
            "did not finish",
            "HTTP server got",
        ];
        for dir in ["smoke", "pipeline", "commands"] {
            for (file, text) in code(dir) {
                if file == Path::new("smoke/outcome.rs") {
                    continue;
                }
                for p in phrases {
                    assert!(!text.contains(p), "{} writes {p:?}", file.display());
                }
            }
        }
    }
}
