//! Executing a planned job: prepare its directory, get its source, provision the toolchain,
//! run each step with its output in the job's log, and collect the app files it installed.

mod cargo;
pub mod compress;
pub mod debian;
mod fsutil;
pub mod install;
mod run;
pub mod schedule;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::arch::Arch;
use crate::plan::{Job, Step};
use crate::recipe::{Origin, Recipe, Source};
use crate::source;
use crate::toolchain::{self, Go, Zig};

pub use fsutil::{copy_tree, is_elf};
pub use run::Run;

pub use crate::progress::{Progress, Silent};

/// Toolchains, provisioned once per run and shared by the jobs, and the jobserver their
/// builds share.
pub struct Tools {
    pub zig: Option<Zig>,
    pub go: Option<Go>,
    pub meson: Option<PathBuf>,
    pub upx: Option<crate::toolchain::upx::Upx>,
    /// Rust, for cargo jobs.
    pub rust: Option<RustTools>,
    pub jobserver: Option<jobserver::Client>,
    /// How the steps run: in the sandbox, or not (`--no-sandbox`).
    pub sandbox: crate::sandbox::Sandbox,
}

/// The pinned Rust, and what builds its std for a target once: the cache holding the
/// sysroots, and a lock so that two jobs of one arch do not build the same one at once.
pub struct RustTools {
    pub rust: crate::toolchain::rust::Rust,
    pub cache: PathBuf,
    pub std_builds: std::sync::Mutex<()>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BuildError {
    #[error(
        "step `{step}` of {recipe} for {arch} failed: `{command}` {status}\nlog: {}\nlast lines of the log:\n{tail}",
        crate::text::path(log)
    )]
    Step {
        recipe: String,
        arch: Arch,
        step: String,
        command: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("cannot get the source of {recipe}")]
    Source {
        recipe: String,
        #[source]
        source: source::SourceError,
    },
    #[error("{recipe}: Debian's patch series cannot be read: {reason}")]
    DebianSeries { recipe: String, reason: String },
    /// A recipe mistake only the source shows (a left-out patch the series does not list).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Recipe(Box<crate::recipe::RecipeError>),
    #[error(transparent)]
    Toolchain(#[from] toolchain::ToolchainError),
    #[error(
        "{recipe} for {arch}: the build did not install app file `{file}` (looked for `{}`); {}",
        crate::text::path(path), installed_text(installed, *more)
    )]
    MissingFile {
        recipe: String,
        arch: Arch,
        file: String,
        path: PathBuf,
        /// What the build did install: the first [`MAX_LISTED`] files (not folders) under
        /// DESTDIR, as image paths, sorted; `more` counts the rest.
        installed: Vec<String>,
        more: usize,
    },
    #[error("{recipe} for {arch}: app file {reason}")]
    BadLink {
        recipe: String,
        arch: Arch,
        reason: String,
    },
    #[error("{what} `{}`", crate::text::path(path))]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BuildError + 'a {
    move |source| BuildError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// One app file of a finished job: where it is in the image and where it is on disk.
#[derive(Debug, Clone)]
pub struct AppFile {
    pub image_path: String,
    /// A regular file inside the job's installed tree, reached through no symlink.
    pub host_path: PathBuf,
    /// When the install made `image_path` a symlink (inside the image): the relative target the
    /// image keeps there, and the image path of the file it names (`host_path`).
    pub link: Option<(String, String)>,
}

/// What a job's build steps leave: its app files and, for a Debian source package, what was
/// applied of Debian's part.
#[derive(Debug)]
pub struct Built {
    pub files: Vec<AppFile>,
    pub debian: Option<crate::debian::Applied>,
    /// The source's own date, in seconds since the epoch, when it has one
    /// ([`crate::source::date`]): the default date of the images holding this job.
    pub date: Option<u64>,
    /// A cargo build's crates linked into its binaries.
    pub crates: Vec<crate::sbom::cargo::Crate>,
    /// The CPU time (user and system) of the job's commands, their descendants included.
    pub cpu: std::time::Duration,
    /// Each command of the job with its wall and CPU time.
    pub steps: Vec<crate::cache::StepTime>,
}

/// Runs `job` for `recipe` to the end of its build steps: its app files and what was applied.
pub fn run_job(
    recipe: &Recipe,
    job: &Job,
    tools: &Tools,
    store: &source::Store,
    cache: &Path,
    progress: &dyn Progress,
) -> Result<Built, BuildError> {
    let id = format!("{}/{}", job.recipe, job.arch);
    // A fresh directory every time: nothing of an earlier (maybe killed) run is trusted.
    if job.work.exists() {
        // A killed run's stray children must not write into this job's new folders.
        crate::process::kill_strays(&job.work);
        std::fs::remove_dir_all(&job.work)
            .map_err(io("cannot clear the work directory", &job.work))?;
    }
    std::fs::create_dir_all(&job.dest).map_err(io("cannot create", &job.dest))?;
    let mut log = File::create(&job.log).map_err(io("cannot create the log", &job.log))?;
    writeln!(log, "{}", crate::sandbox::log_line(&tools.sandbox)).ok();

    if !job.sysroot_from.is_empty() {
        progress.step(&id, "sysroot");
        std::fs::create_dir_all(&job.sysroot).map_err(io("cannot create", &job.sysroot))?;
        for tree in &job.sysroot_from {
            copy_tree(tree, &job.sysroot).map_err(io("cannot assemble the sysroot from", tree))?;
        }
    }
    std::fs::create_dir_all(&job.host_sysroot).map_err(io("cannot create", &job.host_sysroot))?;
    // The cache's folders the steps are shown (toolchains, zig's and Go's caches) exist, even
    // in a fresh cache whose job needs no zig (a Go job): the sandbox binds what is there.
    for m in job.view.mounts.iter().filter(|m| m.real.starts_with(cache)) {
        std::fs::create_dir_all(&m.real).map_err(io("cannot create", &m.real))?;
    }
    for tree in &job.host_sysroot_from {
        copy_tree(tree, &job.host_sysroot)
            .map_err(io("cannot assemble the host tools' tree from", tree))?;
    }
    let mut run = Run::new(recipe, job, tools, progress, &id, &mut log);
    let (debian, date) = unpack_dated(&mut run, store)?;
    // From here on, `${SOURCE_DATE}` is the source's date (0 for one without).
    run.date = Some(date.unwrap_or(0));
    if job.needs_zig
        && let Some(zig) = &tools.zig
    {
        toolchain::wrappers::write(zig, job.arch, cache, job.view.fixed)?;
    }
    go_modules(&mut run)?;
    let rust = cargo::prepare(&mut run, store)?;
    for step in &job.steps {
        run.step(step.name());
        match step {
            Step::Write { path, contents, .. } => {
                let real = job.view.real(path);
                std::fs::write(&real, contents).map_err(io("cannot write", &real))?;
                run.log_line(&format!("==> wrote {}", path.display()));
            }
            Step::Run(cmd) => run.command(cmd)?,
        }
    }
    let files = collect(recipe, job)?;
    strip(&mut run, &files)?;
    let crates = match &rust {
        Some(prepared) => cargo::linked(recipe, job, prepared)?,
        None => Vec::new(),
    };
    Ok(Built {
        files,
        debian,
        date,
        crates,
        cpu: run.cpu,
        steps: run.steps,
    })
}

/// Fetches and unpacks `recipe`'s source into `job.src`, Debian's part and then the recipe's
/// own patches applied, each a step in the log: the tree the build steps start from, and what
/// was applied of Debian's part.
pub fn unpack_source(
    recipe: &Recipe,
    job: &Job,
    store: &source::Store,
    log: &mut File,
    tools: &Tools,
    progress: &dyn Progress,
    id: &str,
) -> Result<Option<crate::debian::Applied>, BuildError> {
    let mut run = Run::new(recipe, job, tools, progress, id, log);
    unpack_dated(&mut run, store).map(|(debian, _)| debian)
}

/// [`unpack_source`], also saying the source's own date ([`source::date`]), taken before the
/// recipe's patches touch the tree: the changelog's newest entry for a Debian source package,
/// a Go module's publication time, else the newest file time of the unpacked tree (none for a
/// local folder).
fn unpack_dated(
    run: &mut Run,
    store: &source::Store,
) -> Result<(Option<crate::debian::Applied>, Option<u64>), BuildError> {
    let (recipe, job) = (run.recipe, run.job);
    run.step("fetch");
    let started = std::time::SystemTime::now();
    fetch_source(run, store)?;
    let mut date = match &recipe.source {
        // A local folder has no date of its own: its files' mtimes are when it was checked out
        // on this machine, and the image would differ between machines.
        Source::Path(_) => None,
        // When the origin said the bytes were published (a Go module's `.info`), that; else
        // the files' times (entries the archive left undated got the time of extraction: not
        // the source's). Never the files' for a Go module: its fetch failed without the
        // date, unless an explicit SOURCE_DATE_EPOCH dates the steps instead.
        Source::Archive {
            sha256, origins, ..
        } => store.date_of(sha256).or_else(|| {
            let go = origins.iter().any(|o| matches!(o, Origin::GoModule { .. }));
            (!go).then(|| source::date::newest_mtime(&job.src, Some(started)))?
        }),
    };
    let debian = debian::apply(run, store)?;
    if debian.is_some() {
        date = source::date::debian_date(&job.src).or(date);
    }
    apply_patches(run)?;
    Ok((debian, date))
}

/// Applies the recipe's patches for the job's arch in order to the unpacked source, each the
/// planned step of its own in the log (`patch NAME`, [`crate::plan::PatchStep`]), so a hunk
/// that does not apply exactly, or a patch already applied, fails the build naming the patch.
fn apply_patches(run: &mut Run) -> Result<(), BuildError> {
    let (recipe, job) = (run.recipe, run.job);
    for step in &job.patches {
        // The job's steps are the patches that apply to its arch, each named by its path.
        let Some(p) = recipe.patches.iter().find(|p| p.path == step.patch) else {
            continue;
        };
        let name = p.path.rsplit('/').next().unwrap_or(&p.path);
        run.step(&format!("patch {name}"));
        if let Some(dir) = step.file.parent() {
            std::fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
        }
        let bytes = p
            .contents
            .as_ref()
            .map(|c| &c.bytes[..])
            .unwrap_or_default();
        std::fs::write(&step.file, bytes).map_err(io("cannot write", &step.file))?;
        run.command(&step.cmd)?;
    }
    Ok(())
}

/// Runs the planned strip step on the ELF app files of a C build, in place.
fn strip(run: &mut Run, files: &[AppFile]) -> Result<(), BuildError> {
    let job = run.job;
    let (Some(planned), Some(_)) = (&job.strip, &run.tools.zig) else {
        return Ok(());
    };
    let mut elves: Vec<String> = Vec::new();
    for f in files.iter().filter(|f| fsutil::is_elf(&f.host_path)) {
        let seen = job.view.seen(&f.host_path).display().to_string();
        if !elves.contains(&seen) {
            elves.push(seen);
        }
    }
    if elves.is_empty() {
        return Ok(());
    }
    run.step("strip");
    run.command(&planned.with_files(elves))
}

fn fetch_source(run: &Run, store: &source::Store) -> Result<(), BuildError> {
    let (recipe, job) = (run.recipe, run.job);
    match &recipe.source {
        Source::Path(dir) => {
            copy_tree(dir, &job.src).map_err(io("cannot copy the source directory", dir))?;
        }
        Source::Archive {
            sha256,
            origins,
            strip,
        } => {
            let fetch = source::Fetch {
                sha256: sha256.clone(),
                origins: origins
                    .iter()
                    .map(|o| match o {
                        Origin::Url(u) => source::Origin::Url(u.clone()),
                        Origin::Debian {
                            package,
                            version,
                            file,
                        } => source::Origin::Debian(source::DebianSource {
                            package: package.clone(),
                            version: version.clone(),
                            file: file.clone(),
                        }),
                        Origin::GoModule { module, version } => source::Origin::GoModule {
                            module: module.clone(),
                            version: version.clone(),
                        },
                        Origin::Pypi {
                            package,
                            version,
                            file,
                        } => source::Origin::Pypi {
                            package: package.clone(),
                            version: version.clone(),
                            file: file.clone(),
                        },
                        Origin::Crate { name, version } => {
                            source::Origin::Url(source::crates::crate_url(name, version))
                        }
                    })
                    .collect(),
            };
            let err = |source| BuildError::Source {
                recipe: recipe.name.clone(),
                source,
            };
            let archive = store
                .fetch(&fetch, &mut |m: &str| run.note(m))
                .map_err(err)?;
            run.step("extract");
            source::extract(&archive, &job.src, *strip).map_err(err)?;
        }
    }
    Ok(())
}

/// The Go modules a Go job's `go.mod` requires, downloaded before its build steps (which have
/// no network in the sandbox) into the pinned toolchain's module cache, as a fetch: outside the
/// sandbox, with the host's registry settings, each module checked by go against the
/// module's `go.sum` (itself part of the source the recipe pins). A `go mod download` step in
/// the log. First, go.mod's `replace` directives that name a folder are checked: the folder
/// must be in the source, with its go.mod.
fn go_modules(run: &mut Run) -> Result<(), BuildError> {
    let (recipe, job) = (run.recipe, run.job);
    let Some(cwd) = job.steps.iter().find_map(|s| match s {
        Step::Run(c) if c.argv.first().is_some_and(|a| a == "go") => Some(c.cwd.clone()),
        _ => None,
    }) else {
        return Ok(());
    };
    // Run outside the sandbox: where the folder really is.
    let cwd = job.view.real(&cwd);
    if !cwd.join("go.mod").is_file() {
        return Ok(());
    }
    // A `replace` with a folder the source lacks fails in go with no hint of the fix.
    source::check_local_replaces(&job.src, &cwd).map_err(|source| BuildError::Source {
        recipe: recipe.name.clone(),
        source,
    })?;
    let Some(go) = &run.tools.go else {
        return Ok(());
    };
    run.step("go mod download");
    let mut env: std::collections::BTreeMap<String, String> =
        crate::process::host_env().into_iter().collect();
    env.extend(go.env.iter().cloned());
    let cmd = crate::plan::Command {
        name: "go mod download".into(),
        argv: vec!["go".into(), "mod".into(), "download".into()],
        env,
        cwd,
    };
    run.command_in(&cmd, &crate::sandbox::Sandbox::Off)
}

/// The most installed files a missing-app-file error lists.
pub const MAX_LISTED: usize = 40;

/// "it installed N files: ..." for [`BuildError::MissingFile`], one file a line.
fn installed_text(installed: &[String], more: usize) -> String {
    if installed.is_empty() {
        return "it installed no files".into();
    }
    let n = installed.len() + more;
    let mut out = format!("it installed {n} file{}:", if n == 1 { "" } else { "s" });
    for f in installed {
        out.push_str(&format!("\n    {}", crate::text::escape(f)));
    }
    if more > 0 {
        out.push_str(&format!("\n    ... and {more} more"));
    }
    out
}

/// Every file (not folder) under `dest` as its image path, sorted: the first [`MAX_LISTED`]
/// and how many more there are. An unreadable tree lists what could be read.
fn installed_files(dest: &Path) -> (Vec<String>, usize) {
    let files: Vec<String> = crate::walk::walk(dest)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !e.file_type.is_dir())
        .map(|e| format!("/{}", e.rel.display()))
        .collect();
    let more = files.len().saturating_sub(MAX_LISTED);
    (files.into_iter().take(MAX_LISTED).collect(), more)
}

fn collect(recipe: &Recipe, job: &Job) -> Result<Vec<AppFile>, BuildError> {
    app_files(recipe, job.arch, &job.dest)
}

/// The app files of `recipe` in the installed tree `dest` (a job's, or a cache entry's), each
/// followed inside the tree only ([`install::resolve`]).
pub fn app_files(recipe: &Recipe, arch: Arch, dest: &Path) -> Result<Vec<AppFile>, BuildError> {
    recipe
        .app_files
        .iter()
        .map(|f| {
            let plain = dest.join(f.trim_start_matches('/'));
            if std::fs::symlink_metadata(&plain).is_err() {
                let (installed, more) = installed_files(dest);
                return Err(BuildError::MissingFile {
                    recipe: recipe.name.clone(),
                    arch,
                    file: f.clone(),
                    path: plain,
                    installed,
                    more,
                });
            }
            let r = install::resolve(dest, f).map_err(|reason| BuildError::BadLink {
                recipe: recipe.name.clone(),
                arch,
                reason,
            })?;
            Ok(AppFile {
                image_path: f.clone(),
                host_path: r.host,
                link: r.link.map(|l| (l, r.image_path)),
            })
        })
        .collect()
}

/// Keeps the log of a job open in append mode (for steps run after the build).
pub fn append_log(job: &Job) -> std::io::Result<File> {
    OpenOptions::new().append(true).create(true).open(&job.log)
}
