//! Planning: what a build will do, as plain data, before anything runs. Pure: no process is
//! spawned and no file is touched here; [`crate::build`] executes what this computes.

pub mod action;
pub mod graph;
pub mod miss;
pub mod systems;
#[cfg(test)]
mod tests;
pub mod view;

pub use action::Action;
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
    /// The pinned Rust's Debian version (`toolchains/rust.toml`): its install folder's name
    /// and, with the std sysroot's revision, the toolchain part of a cargo job's key.
    pub rust_version: String,
    /// The packer's identity per arch (`toolchain::upx::identity`), in the key of recipes
    /// that pack.
    pub upx: BTreeMap<Arch, String>,
    /// A GNU make jobserver is shared with the builds: `make` gets no `-j` of its own.
    pub jobserver: bool,
    /// GOTOOLCHAIN, GOCACHE... from the Go toolchain.
    pub go_env: Vec<(String, String)>,
    /// The host PATH, which the wrapper directory is put in front of.
    pub host_path: String,
    /// The steps' `SOURCE_DATE_EPOCH`: the one the user gave, or None for each source's own
    /// date, which the plan leaves as [`SOURCE_DATE`] for the executor to fill in once the
    /// source is unpacked ([`Command::dated`]).
    pub source_date_epoch: Option<u64>,
    /// Steps see the job's folders and the cache at fixed paths ([`view`]; in the sandbox), or
    /// where they are (`--no-sandbox`).
    pub fixed_paths: bool,
}

#[cfg(test)]
impl Context {
    /// The facts unit tests plan with: fixed paths, a cache at `/cache`, every toolchain
    /// version set, no packer.
    pub(crate) fn for_tests() -> Context {
        Context {
            cache: "/cache".into(),
            jobs: 2,
            zig_version: "0.14.0".into(),
            upx: BTreeMap::new(),
            go_version: "1.24.0".into(),
            rust_version: "1.96.0+dfsg1-1~deb12u2".into(),
            jobserver: true,
            go_env: vec![],
            host_path: "/usr/bin".into(),
            source_date_epoch: Some(1),
            fixed_paths: true,
        }
    }
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
    /// The recipe's own patches, applied in order after the source is unpacked (and after
    /// Debian's series, which only the fetched source names) and before `steps`.
    pub patches: Vec<PatchStep>,
    pub steps: Vec<Step>,
    /// Stripping the ELF app files after the install (C builds; Go links with `-s -w`).
    pub strip: Option<Strip>,
}

/// One of the recipe's patches: its bytes written at `file` in the job's folder, then `cmd`
/// applies it to the source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchStep {
    /// The patch as the recipe names it (`patches/fix.patch`).
    pub patch: String,
    /// The arches it applies to: those its entry lists, else every arch the recipe supports.
    pub arches: Vec<Arch>,
    /// Where its bytes are written (a real path; `cmd` names it as the step sees it).
    pub file: PathBuf,
    pub cmd: Command,
}

/// The strip step: `cmd` names the app files as declared; the run passes each one as resolved
/// inside the installed tree (a link's target), leaving out those that are not ELF (data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strip {
    pub cmd: Command,
    /// How many arguments of `cmd.argv` come before the files (the tool and its options).
    pub files_from: usize,
}

impl Strip {
    /// The command that strips `files` (paths as the step sees them).
    pub fn with_files(&self, files: impl IntoIterator<Item = String>) -> Command {
        let mut cmd = self.cmd.clone();
        cmd.argv.truncate(self.files_from);
        cmd.argv.extend(files);
        cmd
    }
}

/// The steps that apply `recipe`'s own patches for `arch` (those that apply to it) to the tree
/// at `src`, their files kept under `work/patches` (`NNN-NAME`, in order).
pub fn patch_steps(
    recipe: &Recipe,
    arch: Arch,
    work: &Path,
    src: &Path,
    view: &View,
) -> Vec<PatchStep> {
    let dir = crate::cache::Work::at(work).patches();
    let every = recipe
        .arches
        .as_ref()
        .map_or(Arch::ALL.to_vec(), |a| a.list.clone());
    recipe
        .patches
        .iter()
        .filter(|p| p.applies_to(arch))
        .enumerate()
        .map(|(n, p)| {
            let name = p.path.rsplit('/').next().unwrap_or(&p.path);
            let file = dir.join(format!("{n:03}-{name}"));
            let cmd = patch_command(
                format!("patch {}", p.path),
                &view.seen(&file),
                1,
                &view.seen(src),
            );
            PatchStep {
                patch: p.path.clone(),
                arches: p.arches.as_ref().map_or(every.clone(), |a| a.list.clone()),
                file,
                cmd,
            }
        })
        .collect()
}

/// The step that applies one patch file (`file`, as the step sees it) to the tree `cwd`, for
/// Debian's series and the recipe's own patches alike, with the options `dpkg-source` gives
/// `patch`: no fuzz (every context line as written), not reversed or applied twice (`-N`),
/// never interactive (`-t`), files a patch empties removed (`-E`), no backup or reject files.
pub fn patch_command(name: String, file: &Path, strip: u32, cwd: &Path) -> Command {
    let argv = [
        "patch",
        "-t",
        "-F",
        "0",
        "-N",
        "-V",
        "never",
        "-E",
        "--no-backup-if-mismatch",
        "--reject-file=-",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("-p{strip}"),
        "-i".into(),
        file.display().to_string(),
    ])
    .collect();
    Command {
        name,
        argv,
        env: crate::process::tool_env().into_iter().collect(),
        cwd: cwd.to_path_buf(),
    }
}

/// The strip step of a job whose C build zig's wrappers made: the wrappers' `strip` on every
/// declared app file, with the environment of the job's first command.
fn strip_step(
    recipe: &Recipe,
    ctx: &Context,
    arch: Arch,
    layout: &systems::Layout,
    steps: &[Step],
) -> Strip {
    let w =
        crate::toolchain::wrappers::paths(&layout.cache, &ctx.zig_version, arch, layout.view.fixed);
    let env = steps
        .iter()
        .find_map(|s| match s {
            Step::Run(c) => Some(c.env.clone()),
            _ => None,
        })
        .unwrap_or_else(|| [("PATH".to_string(), ctx.host_path.clone())].into());
    let mut argv = vec![w.strip.display().to_string(), "--strip-all".to_string()];
    let files_from = argv.len();
    let mut seen = std::collections::BTreeSet::new();
    for f in &recipe.app_files {
        let path = layout
            .dest
            .join(f.trim_start_matches('/'))
            .display()
            .to_string();
        if seen.insert(path.clone()) {
            argv.push(path);
        }
    }
    Strip {
        cmd: Command {
            name: "strip".into(),
            argv,
            env,
            cwd: layout.dest.clone(),
        },
        files_from,
    }
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

/// The value a step's `SOURCE_DATE_EPOCH` has in the plan when the user gave none: the
/// source's own date ([`crate::source::date`]), known once the source is unpacked. The key
/// needs no part for it: the date is a function of the source, which the key hashes.
pub const SOURCE_DATE: &str = "${SOURCE_DATE}";

impl Command {
    /// This command as it runs for a source dated `date` (seconds since the epoch; 0 for a
    /// source without a date): a planned [`SOURCE_DATE`] becomes that number.
    pub fn dated(&self, date: u64) -> std::borrow::Cow<'_, Command> {
        if self.env.get("SOURCE_DATE_EPOCH").map(String::as_str) != Some(SOURCE_DATE) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut cmd = self.clone();
        cmd.env
            .insert("SOURCE_DATE_EPOCH".to_string(), date.to_string());
        std::borrow::Cow::Owned(cmd)
    }

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
    let folders = crate::cache::Layout::new(&ctx.cache).work_dir(&recipe.name, arch, key);
    let work = folders.dir().to_path_buf();
    let src = folders.src();
    let dest = folders.dest();
    let sysroot = folders.sysroot();
    let host_sysroot = folders.host_sysroot();
    let opts = recipe.build.options(arch);
    let needs_go = recipe.build.system == System::Go;
    // A cargo build links with zig and compiles its C with it.
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
    // A library has no app files to strip.
    let strip = (needs_zig && !recipe.app_files.is_empty())
        .then(|| strip_step(recipe, ctx, arch, &layout, &steps));
    let patches = patch_steps(recipe, arch, &work, &src, &view);
    Ok(Job {
        recipe: recipe.name.clone(),
        arch,
        system: recipe.build.system,
        key: key.to_string(),
        sysroot_from,
        sysroot,
        // Assembled only for a recipe that names it (Qt's host tree is large).
        host_sysroot_from: if recipe.build_text().contains("HOST_SYSROOT") {
            host_from
        } else {
            Vec::new()
        },
        host_sysroot,
        log: folders.log(),
        view,
        work,
        src,
        dest,
        needs_zig,
        needs_go,
        patches,
        steps,
        strip,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("unknown variable `${{{name}}}` in `{text}`")]
    UnknownVariable { name: String, text: String },
}
