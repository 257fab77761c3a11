//! Planning: what a build will do, as plain data, before anything runs. Pure: no process is
//! spawned and no file is touched here; [`crate::build`] executes what this computes.

pub mod graph;
pub mod miss;
pub mod systems;
#[cfg(test)]
mod tests;
pub mod view;

pub use graph::{CacheView, Graph, GraphError, Inputs, Node, Role, graph};
pub use miss::{Change, Miss};
pub use view::View;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::arch::Arch;
use crate::recipe::{Recipe, System};

/// Facts about the machine and settings a plan depends on, gathered by the caller.
#[derive(Debug, Clone)]
pub struct Context {
    pub cache: PathBuf,
    /// Parallel jobs given to make / cmake / go.
    pub jobs: usize,
    pub zig_version: String,
    pub go_version: String,
    /// The packer's identity per arch (`toolchain::upx::identity`), in the key of recipes
    /// that pack.
    pub upx: BTreeMap<Arch, String>,
    /// A GNU make jobserver is shared with the builds: `make` gets no `-j` of its own.
    pub jobserver: bool,
    /// GOTOOLCHAIN, GOCACHE... from the Go toolchain.
    pub go_env: Vec<(String, String)>,
    /// The host PATH, which the wrapper directory is put in front of.
    pub host_path: String,
    pub source_date_epoch: u64,
    /// Steps see the job's folders and the cache at fixed paths ([`view`]; in the sandbox), or
    /// where they are (`--no-sandbox`).
    pub fixed_paths: bool,
}

/// One build of one recipe for one arch.
#[derive(Debug, Clone)]
pub struct Job {
    pub recipe: String,
    pub arch: Arch,
    pub system: System,
    /// The cache key of this job's output.
    pub key: String,
    /// The cache entry's installed trees of every library this builds against (assembled into
    /// `sysroot` before the build).
    pub sysroot_from: Vec<PathBuf>,
    pub sysroot: PathBuf,
    /// The cache entry's installed trees of the host tools (`host-depends`), assembled into
    /// `host_sysroot` (`${HOST_SYSROOT}`) before the build; their `usr/local/bin` is on PATH.
    pub host_sysroot_from: Vec<PathBuf>,
    pub host_sysroot: PathBuf,
    /// Scratch directory of this job: `src/`, `dest/`, `build.log`, zig's local cache.
    pub work: PathBuf,
    pub src: PathBuf,
    /// Where the build system installs (DESTDIR).
    pub dest: PathBuf,
    pub log: PathBuf,
    /// How the steps see the paths above and the cache: every path in `steps` is a seen one.
    pub view: View,
    /// Whether the zig wrappers for this arch are needed.
    pub needs_zig: bool,
    pub needs_go: bool,
    pub steps: Vec<Step>,
}

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Write a generated file (a CMake toolchain file, ...).
    Write {
        name: String,
        path: PathBuf,
        contents: String,
    },
    /// Run a command; its output goes to the job's log.
    Run(Command),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// What the progress display says: `configure`, `build`, `install`...
    pub name: String,
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
}

impl Command {
    /// The command line as a person would type it (for errors and logs).
    pub fn display(&self) -> String {
        self.argv
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Step {
    pub fn name(&self) -> &str {
        match self {
            Step::Write { name, .. } => name,
            Step::Run(c) => &c.name,
        }
    }
}

/// `s` as one shell word ([`crate::text::shell_word`]).
pub fn shell_quote(s: &str) -> String {
    crate::text::shell_word(s)
}

/// The install prefix inside DESTDIR.
pub const PREFIX: &str = "/usr/local";

/// Where a job of `recipe` for `arch` with cache key `key` works.
pub fn work_dir(cache: &Path, recipe: &str, arch: Arch, key: &str) -> PathBuf {
    cache
        .join("work")
        .join(format!("{recipe}-{arch}-{}", &key[..key.len().min(12)]))
}

/// Plans the build of `recipe` for `arch` whose output has cache key `key`, against the
/// installed trees `sysroot_from`, with the host tools installed in `host_from` (their
/// `usr/local/bin` on PATH, their trees merged as `${HOST_SYSROOT}`).
pub fn job_with(
    recipe: &Recipe,
    arch: Arch,
    ctx: &Context,
    key: &str,
    sysroot_from: Vec<PathBuf>,
    host_from: Vec<PathBuf>,
) -> Result<Job, PlanError> {
    let work = work_dir(&ctx.cache, &recipe.name, arch, key);
    let src = work.join("src");
    let dest = work.join("dest");
    let sysroot = work.join("sysroot");
    let host_sysroot = work.join("host-sysroot");
    let opts = recipe.build.options(arch);
    let needs_go = recipe.build.system == System::Go;
    let needs_zig = !needs_go || opts.cgo;
    let view = if ctx.fixed_paths {
        View::fixed(view::Parts {
            cache: &ctx.cache,
            work: &work,
            host_entries: &host_from,
            go: needs_go,
        })
    } else {
        View::as_is()
    };
    let layout = systems::Layout {
        work: view.seen(&work),
        src: view.seen(&src),
        dest: view.seen(&dest),
        sysroot: view.seen(&sysroot),
        host_sysroot: view.seen(&host_sysroot),
        host_bins: host_from
            .iter()
            .map(|d| view.seen(&d.join("usr/local/bin")))
            .collect(),
        cache: view.cache(&ctx.cache),
        view: view.clone(),
    };
    let steps = systems::steps(recipe.build.system, &opts, arch, ctx, &layout)?;
    Ok(Job {
        recipe: recipe.name.clone(),
        arch,
        system: recipe.build.system,
        key: key.to_string(),
        sysroot_from,
        sysroot,
        // Assembled only for a recipe that names it (Qt's host tree is large).
        host_sysroot_from: if recipe.text.contains("HOST_SYSROOT") {
            host_from
        } else {
            Vec::new()
        },
        host_sysroot,
        log: work.join("build.log"),
        view,
        work,
        src,
        dest,
        needs_zig,
        needs_go,
        steps,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("unknown variable `${{{name}}}` in `{text}`")]
    UnknownVariable { name: String, text: String },
}
