//! What a cargo job needs between unpacking and its steps, which depends on the unpacked
//! source: the crates of its `Cargo.lock` vendored (fetched into the source store, each checked
//! against the lock file's checksum; [`crate::source::crates`]), std prebuilt for the target
//! and the package's release `panic` strategy ([`crate::toolchain::rust_std`]), and cargo's
//! configuration (`CARGO_HOME/config.toml`) naming both. After the steps, the crates linked
//! into the binaries, from the `cargo metadata` the plan's `metadata` step wrote, for the SBOM.
//!
//! All of it runs outside the sandbox but the std build, which has one of its own; nothing here
//! reaches the network but the store's fetches of pinned bytes.

use std::path::{Path, PathBuf};

use super::{BuildError, Run, io};
use crate::plan::systems::cargo::{CARGO_HOME, METADATA, VENDOR};
use crate::plan::{Job, Step};
use crate::recipe::{Recipe, System};
use crate::sbom::cargo::Crate;
use crate::source::{self, crates};
use crate::toolchain::rust_std::{self, Panic};

/// What [`prepare`] leaves for [`linked`]: the lock file's checksums.
pub struct Prepared {
    checksums: std::collections::BTreeMap<(String, String), String>,
}

/// Vendors the crates, provisions std and writes cargo's configuration (see the module doc).
/// None for a job that is not a cargo build.
pub fn prepare(run: &mut Run, store: &source::Store) -> Result<Option<Prepared>, BuildError> {
    let (recipe, job, tools) = (run.recipe, run.job, run.tools);
    if job.system != System::Cargo {
        return Ok(None);
    }
    let source_err = |source| BuildError::Source {
        recipe: recipe.name.clone(),
        source,
    };
    let cwd = build_dir(job);
    let (lock_path, lock) = find_lock(recipe, job, &cwd)?;
    let locked = crates::locked_crates(&lock, &lock_path).map_err(source_err)?;
    run.step("vendor crates");
    run.log_line(&format!(
        "==> vendor {} crates of {} (checked against its checksums)",
        locked.len(),
        lock_path.display()
    ));
    let vendor = job.work.join(VENDOR);
    crates::vendor(store, &locked, &vendor, &mut |m: &str| run.note(m)).map_err(source_err)?;
    let panic = panic_strategy(recipe, job, lock_path.parent().unwrap_or(&job.src))?;
    let rt = tools.rust.as_ref().ok_or_else(|| {
        BuildError::Toolchain(crate::toolchain::ToolchainError::Rust {
            version: String::new(),
            reason: "a cargo job ran without the Rust toolchain provisioned".into(),
        })
    })?;
    let sysroot = {
        // One std build at a time: two jobs of one arch would build the same one.
        let _one = rt.std_builds.lock().unwrap_or_else(|p| p.into_inner());
        rust_std::provision_std(
            &rt.rust,
            &rt.cache,
            job.arch,
            panic,
            &tools.sandbox,
            &mut |m: &str| run.note(m),
        )?
    };
    let config = config_text(job, &job.view.seen(&sysroot.dir));
    let file = job.work.join(CARGO_HOME).join("config.toml");
    std::fs::create_dir_all(job.work.join(CARGO_HOME))
        .and_then(|()| std::fs::write(&file, &config))
        .map_err(io("cannot write", &file))?;
    run.log_line(&format!(
        "==> panic = {} (std {}), wrote {}:\n{config}",
        panic.name(),
        sysroot.dir.display(),
        file.display()
    ));
    Ok(Some(Prepared {
        checksums: crates::checksums(&locked),
    }))
}

/// The crates linked into the job's binaries, from the metadata its `metadata` step wrote.
pub fn linked(recipe: &Recipe, job: &Job, prepared: &Prepared) -> Result<Vec<Crate>, BuildError> {
    let path = job.work.join(METADATA);
    let bytes = crate::walk::read_capped(&path, 64 << 20).map_err(io("cannot read", &path))?;
    let metadata: cargo_metadata::Metadata =
        serde_json::from_slice(&bytes).map_err(|e| BuildError::BadLink {
            recipe: recipe.name.clone(),
            arch: job.arch,
            reason: format!("`cargo metadata` wrote what is not its JSON: {e}"),
        })?;
    let bins = recipe.build.options(job.arch).bins;
    Ok(crate::sbom::cargo::linked_crates(
        &metadata,
        &prepared.checksums,
        &bins,
    ))
}

/// Where the cargo steps run, as this process sees it.
fn build_dir(job: &Job) -> PathBuf {
    let seen = job
        .steps
        .iter()
        .find_map(|s| match s {
            Step::Run(c) => Some(c.cwd.clone()),
            _ => None,
        })
        .unwrap_or_else(|| job.view.seen(&job.src));
    job.view.real(&seen)
}

/// The `Cargo.lock` cargo will use: in the build folder or the nearest folder above it within
/// the source (a workspace's), and its text.
fn find_lock(recipe: &Recipe, job: &Job, cwd: &Path) -> Result<(PathBuf, String), BuildError> {
    let mut dir = Some(cwd);
    while let Some(d) = dir.filter(|d| d.starts_with(&job.src)) {
        let lock = d.join("Cargo.lock");
        if lock.is_file() {
            let bytes =
                crate::walk::read_capped(&lock, 16 << 20).map_err(io("cannot read", &lock))?;
            return Ok((lock, String::from_utf8_lossy(&bytes).into_owned()));
        }
        dir = d.parent();
    }
    Err(BuildError::Source {
        recipe: recipe.name.clone(),
        source: source::SourceError::CargoLock {
            file: cwd.join("Cargo.lock"),
            reason: "there is no Cargo.lock in the build folder or above it in the source: a \
                     cargo build needs the lock file that pins every crate (a binary crate \
                     published on crates.io includes it; otherwise add it with a patch)"
                .into(),
        },
    })
}

/// The release profile's `panic` of the workspace manifest in `root`, or the recipe's
/// `CARGO_PROFILE_RELEASE_PANIC`; `unwind`, cargo's default, when neither says.
fn panic_strategy(recipe: &Recipe, job: &Job, root: &Path) -> Result<Panic, BuildError> {
    let from_env = recipe
        .build
        .options(job.arch)
        .env
        .get("CARGO_PROFILE_RELEASE_PANIC")
        .cloned();
    let manifest = root.join("Cargo.toml");
    let from_manifest = || -> Result<Option<String>, BuildError> {
        let Ok(bytes) = crate::walk::read_capped(&manifest, 4 << 20) else {
            return Ok(None);
        };
        let table: toml::Table =
            toml::from_str(&String::from_utf8_lossy(&bytes)).map_err(|e| BuildError::Source {
                recipe: recipe.name.clone(),
                source: source::SourceError::CargoLock {
                    file: manifest.clone(),
                    reason: format!("cannot read the manifest: {}", e.message()),
                },
            })?;
        Ok(table
            .get("profile")
            .and_then(|p| p.get("release"))
            .and_then(|r| r.get("panic"))
            .and_then(|p| p.as_str())
            .map(str::to_string))
    };
    let value = match from_env {
        Some(v) => Some(v),
        None => from_manifest()?,
    };
    match value.as_deref() {
        None | Some("unwind") => Ok(Panic::Unwind),
        Some("abort") => Ok(Panic::Abort),
        Some(other) => Err(BuildError::Source {
            recipe: recipe.name.clone(),
            source: source::SourceError::CargoLock {
                file: manifest,
                reason: format!(
                    "the release profile's panic strategy `{}` is neither `unwind` nor `abort`",
                    crate::text::escape(other)
                ),
            },
        }),
    }
}

/// cargo's configuration: crates.io is the vendor folder, and the target's rustflags give the
/// prebuilt std (`sysroot`, as the steps see it) and a static musl link.
fn config_text(job: &Job, sysroot: &Path) -> String {
    let vendor = job.view.seen(&job.work.join(VENDOR));
    let flags = [
        format!("--sysroot={}", sysroot.display()),
        "-Clink-self-contained=no".into(),
        "-Ctarget-feature=+crt-static".into(),
    ];
    let flags: Vec<toml::Value> = flags.into_iter().map(toml::Value::String).collect();
    format!(
        "{}\n[target.{}]\nrustflags = {}\n",
        crates::cargo_config(&vendor.display().to_string()),
        job.arch.info().rust_target,
        toml::Value::Array(flags)
    )
}
