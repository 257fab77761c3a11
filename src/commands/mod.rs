//! One file per subcommand (as cargo's `src/bin/cargo/commands/` and uv's `commands/`): each
//! holds its clap arguments and a `run` that does the work through the module owning it,
//! prints what the user reads, and returns an [`Exit`] (0, or 1 for a verdict that is not a
//! pass) or an [`Error`] that knows its own exit code. `cli.rs` parses and dispatches.

pub mod build;
pub mod cache;
pub mod check;
pub mod list;
pub mod plan;
pub mod progress;
pub mod push;
pub mod show;
pub mod test;
pub mod toolchain;
pub mod verify;

use std::path::PathBuf;

use crate::arch::Arch;
use crate::error::{Error, Exit, UsageError};
use crate::pipeline::Settings;
use crate::recipe::Catalogue;

/// What a command returns: how it ended, or the error to render.
pub type Outcome = Result<Exit, Error>;

/// What every command gets from the global options.
pub struct Context {
    pub catalogue: Catalogue,
    /// Absolute.
    pub cache: PathBuf,
    pub quiet: bool,
}

impl Context {
    /// From `--recipes` (folders separated by `:`), `--cache` (default: the XDG cache folder)
    /// and `--quiet`.
    pub fn new(recipes: &std::path::Path, cache: Option<PathBuf>, quiet: bool) -> Context {
        let cache = cache.unwrap_or_else(default_cache);
        Context {
            catalogue: Catalogue {
                dirs: std::env::split_paths(recipes).collect(),
            },
            cache: std::path::absolute(&cache).unwrap_or(cache),
            quiet,
        }
    }

    /// The pipeline's settings for a command that plans or builds (`out` `out`, no rebuild,
    /// no extra users); `jobs` defaults to the number of cores.
    pub fn settings(&self, jobs: Option<usize>) -> Settings {
        Settings {
            catalogue: self.catalogue.clone(),
            cache: self.cache.clone(),
            out: PathBuf::from("out"),
            jobs: jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            }),
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            toolchains: std::env::var_os("RECIPE_TOOLCHAINS").map(PathBuf::from),
            rebuild: false,
            users: Vec::new(),
            emit_context: None,
        }
    }
}

fn default_cache() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(x).join("recipe");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache").join("recipe"),
        None => PathBuf::from(".recipe-cache"),
    }
}

/// The recipes and arches `build` and `plan` work on: the recipes named, or with `--all` every
/// recipe of the catalogue (libraries are built too; images are packed for apps), and `--arch`:
/// one arch, a comma-separated list, or `all`.
#[derive(clap::Args, Debug)]
pub struct Targets {
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub names: Vec<String>,
    /// Every recipe of the catalogue (`--recipes`): a recipe that does not load stops the run
    /// before any work starts.
    #[arg(long)]
    pub all: bool,
    /// amd64, arm64, armv7, a comma-separated list, or all.
    #[arg(long, default_value = "amd64")]
    pub arch: String,
}

impl Targets {
    /// The arches asked for, and the recipes named, each loaded and validated.
    fn load(
        &self,
        settings: &crate::pipeline::Settings,
    ) -> Result<(Vec<Arch>, Vec<crate::recipe::Recipe>), Error> {
        let arches = arches(&self.arch)?;
        Ok((arches, self.recipes(settings)?))
    }

    /// The recipes named, or every recipe of the catalogue with `--all`, loaded and validated.
    fn recipes(
        &self,
        settings: &crate::pipeline::Settings,
    ) -> Result<Vec<crate::recipe::Recipe>, Error> {
        let names = if self.all {
            let names = settings.catalogue.names();
            if names.is_empty() {
                return Err(UsageError::EmptyCatalogue {
                    dirs: settings.catalogue.dirs.clone(),
                }
                .into());
            }
            names
        } else {
            self.names.clone()
        };
        Ok(crate::pipeline::load_all(settings, &names)?)
    }
}

fn arches(list: &str) -> Result<Vec<Arch>, Error> {
    Ok(Arch::parse_list(list)?)
}

/// `--arch` of `verify` and `check`: one arch, if given.
fn arch(name: Option<&str>) -> Result<Option<Arch>, Error> {
    Ok(name.map(str::parse).transpose()?)
}

/// Exit 0 when every verdict passed, else 1.
fn verdict(all_passed: bool) -> Exit {
    if all_passed { Exit::Ok } else { Exit::Failed }
}
