//! The whole of `recipe build`: load every recipe, plan every (recipe, arch) job, then run each
//! job, verify and smoke-test its app files, and pack one multi-arch image per recipe.

use std::path::PathBuf;

use crate::arch::Arch;
use std::collections::BTreeMap;

use crate::build::{self, AppFile, BuildError, Tools};
use crate::cache::{self, Cache};
use crate::image;
use crate::plan;
use crate::progress::{Event, Finished, Progress};
use crate::recipe::{self, Catalogue, Recipe};
use crate::source;
use crate::toolchain::{self, Specs};

mod check;
mod contents;
mod job;
mod pack;
mod remote;
mod smoke;
mod vex;
pub use check::recheck_entry;
use check::{check_image_files, packed_records};
pub use job::JobFiles;
use job::run_node;
use pack::{ArchFiles, image_key, image_sbom, pack, part_files};
use remote::fetch_remote;
pub use remote::find_remote;

/// Where things are and how much to do at once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub catalogue: Catalogue,
    pub cache: PathBuf,
    pub out: PathBuf,
    pub jobs: usize,
    /// An explicit SOURCE_DATE_EPOCH (the environment's): the builds' date, every image's
    /// `created` and its SBOM's and VEX documents' date. None: each build step sees its
    /// source's own date, and each image (with its SBOM and VEX) is dated by its parts'
    /// sources ([`pack::image_created`]).
    pub source_date_epoch: Option<u64>,
    pub toolchains: Option<PathBuf>,
    /// Build every job again, replacing its cache entry (to check reproducibility).
    pub rebuild: bool,
    /// Extra images to pack with these users instead of the recipe's (`--user UID:GID`): the
    /// same binaries, other owners for the writable folders.
    pub users: Vec<recipe::User>,
    /// Also write each image as a BuildKit build context here (`--emit-context`).
    pub emit_context: Option<PathBuf>,
    /// The remote build cache (`--remote-cache`): entries looked up before building, pushed
    /// after, when a signing key is given.
    pub remote: Option<std::sync::Arc<crate::remote::Remote>>,
    /// Build and store the jobs, pack no image (`--no-image`: a CI runner's share of a graph).
    pub no_image: bool,
    /// Run build steps without the sandbox (`--no-sandbox`): recorded in each entry's
    /// `meta.json` and build log; such entries are never pushed to a remote cache.
    pub no_sandbox: bool,
    /// Who runs the build, as each image's SLSA provenance names it (`--builder-id`, else the
    /// CI's variables, else a local machine).
    pub builder: crate::sign::provenance::BuilderInfo,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PipelineError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] recipe::LoadError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Graph(#[from] plan::GraphError),
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error(transparent)]
    Toolchain(#[from] toolchain::ToolchainError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Remote(#[from] crate::remote::RemoteError),
    #[error(
        "{id}: the plan reuses its cache entry {key}, which is gone now (removed by `recipe cache \
         gc` or by hand while this build ran); run the build again"
    )]
    EntryGone { id: String, key: String },
    #[error("{id}: its cache entry {key} cannot be read: {why}; `--rebuild` makes a new one")]
    EntryMeta {
        id: String,
        key: String,
        why: String,
    },
    #[error("{recipe} for {arch}: `{file}` is packed, but what it was before is unknown: {why}")]
    PackedUnknown {
        recipe: String,
        arch: Arch,
        file: String,
        why: String,
    },
    #[error("{recipe} for {arch}: `{file}` fails verification:\n{reasons}")]
    Verify {
        recipe: String,
        arch: Arch,
        file: String,
        reasons: String,
    },
    #[error("{recipe} for {arch}: {failure}")]
    Smoke {
        recipe: String,
        arch: Arch,
        failure: Box<crate::smoke::Failure>,
    },
    #[error("{recipe}: smoke command `{program}` is not one of the app files")]
    SmokeProgram { recipe: String, program: String },
    #[error("{recipe}: cannot run the smoke test")]
    SmokeRun {
        recipe: String,
        #[source]
        source: crate::smoke::SmokeError,
    },
    /// `recipe check` does not call the image just written distroless-ready: an executable
    /// needs a shell, dlopen or a runtime the recipe does not accept.
    #[error("{recipe}: the image is not distroless:\n{reasons}")]
    #[diagnostic(help("{help}"))]
    NotDistroless {
        recipe: String,
        /// One `  - ` line per need: the file, its platforms, the finding.
        reasons: String,
        /// The `[app] accept` line that would allow it, or what it takes.
        help: String,
    },
    #[error("{recipe}: refusing to write an unsafe image: {reason}")]
    UnsafeImage { recipe: String, reason: String },
    #[error("{recipe}: cannot write the image")]
    Image {
        recipe: String,
        #[source]
        source: image::ImageError,
    },
    /// A recipe's local source folder that cannot be read (input, unlike [`Self::Io`]).
    #[error("cannot read `{}`", crate::text::path(path))]
    LocalSource {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read `{}`", crate::text::path(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a finished recipe build produced.
#[derive(Debug, Clone)]
pub struct Built {
    pub recipe: Recipe,
    /// `NAME:TAG`.
    pub image: String,
    /// `uid:gid` the image runs as.
    pub user: String,
    pub layout: PathBuf,
    pub archive: PathBuf,
    pub written: image::Written,
    pub binaries: Vec<(Arch, PathBuf)>,
    /// `recipe check` calls every platform's entrypoint distroless-ready (said when the image
    /// was written, kept in its stamp).
    pub distroless: bool,
}

/// Loads all recipes first, so that a mistake in any of them stops the run before any work.
pub fn load_all(settings: &Settings, names: &[String]) -> Result<Vec<Recipe>, PipelineError> {
    names
        .iter()
        .map(|n| Ok(recipe::load(&settings.catalogue, n)?))
        .collect()
}

/// The recipes `roots` and everything they reach through `depends` and `host-depends`, by name.
/// An unknown dependency is an error pointing at where it is named.
pub fn load_closure(
    settings: &Settings,
    roots: &[Recipe],
) -> Result<BTreeMap<String, Recipe>, PipelineError> {
    let mut all: BTreeMap<String, Recipe> = BTreeMap::new();
    let mut todo: Vec<Recipe> = roots.to_vec();
    while let Some(r) = todo.pop() {
        if all.contains_key(&r.name) {
            continue;
        }
        for d in r
            .depends
            .iter()
            .chain(&r.host_depends)
            .chain(&r.image.include)
        {
            if all.contains_key(&d.name) || todo.iter().any(|t| t.name == d.name) {
                continue;
            }
            match recipe::load(&settings.catalogue, &d.name) {
                Ok(dep) => todo.push(dep),
                Err(recipe::LoadError::Unknown { known, .. }) => {
                    return Err(PipelineError::Load(recipe::LoadError::Invalid(Box::new(
                        r.error_at(
                            d.span.clone(),
                            format!("unknown recipe `{}`", d.name),
                            Some(known),
                        ),
                    ))));
                }
                Err(e) => return Err(e.into()),
            }
        }
        all.insert(r.name.clone(), r);
    }
    Ok(all)
}

/// Everything planned: the graph, and what planning was based on.
pub struct Planned {
    pub graph: plan::Graph,
    pub ctx: plan::Context,
    pub specs: Specs,
}

/// Plans the job graph of `roots` for `arches` against the cache, without building anything.
pub fn plan(
    settings: &Settings,
    roots: &[Recipe],
    arches: &[Arch],
) -> Result<Planned, PipelineError> {
    let specs = Specs::load(settings.toolchains.as_deref())?;
    let recipes = load_closure(settings, roots)?;
    let mut fingerprints = BTreeMap::new();
    for r in recipes.values() {
        if let recipe::Source::Path(dir) = &r.source {
            let fp = source::fingerprint_dir(dir).map_err(|source| PipelineError::LocalSource {
                path: dir.clone(),
                source,
            })?;
            fingerprints.insert(r.name.clone(), fp);
        }
    }
    let ctx = plan::Context {
        cache: settings.cache.clone(),
        jobs: settings.jobs,
        zig_version: specs.zig.version.clone(),
        go_version: specs.go.version.clone(),
        rust_version: specs.rust.debian_version.clone(),
        upx: Arch::ALL
            .into_iter()
            .map(|a| (a, toolchain::upx::identity(&specs.upx, a)))
            .collect(),
        jobserver: true,
        go_env: toolchain::go_env(&specs.go, &settings.cache),
        host_path: crate::process::host_path(),
        source_date_epoch: settings.source_date_epoch,
        fixed_paths: !settings.no_sandbox,
    };
    let names: Vec<String> = roots.iter().map(|r| r.name.clone()).collect();
    let view = Cache::new(&settings.cache).view();
    let graph = plan::graph(&recipes, &names, arches, &ctx, &fingerprints, &view)?;
    Ok(Planned { graph, ctx, specs })
}

pub fn build(
    settings: &Settings,
    recipes: &[Recipe],
    arches: &[Arch],
    progress: &dyn Progress,
) -> Result<Vec<Built>, PipelineError> {
    let Planned {
        mut graph, specs, ..
    } = plan(settings, recipes, arches)?;
    if !settings.no_image {
        for r in recipes.iter().filter(|r| !r.is_library()) {
            check_image_files(r, arches)?;
        }
    }
    distrust_changed_entries(&mut graph, settings, progress)?;
    let go_version = format!("go{}", specs.go.version);
    let fetched = match &settings.remote {
        Some(remote) if !settings.rebuild => fetch_remote(&mut graph, settings, remote, progress)?,
        _ => Default::default(),
    };
    let tools = provision(settings, &specs, &graph, progress)?;

    let store = source_store(settings, &tools);
    let cache = Cache::new(&settings.cache);
    // An app's smoke test runs in its image's files: the recipes the image includes (small
    // data: the CA bundle, zoneinfo) are ready before it.
    let deps: Vec<Vec<usize>> = graph
        .nodes
        .iter()
        .map(|n| {
            n.deps
                .iter()
                .chain(&n.host_deps)
                .chain(&n.image_parts)
                .copied()
                .collect()
        })
        .collect();
    announce(&graph, settings, progress);
    let results = build::schedule::run_graph(&deps, settings.jobs.max(1), |i| {
        let node = &graph.nodes[i];
        let id = node.id();
        progress.event(Event::Started { job: &id });
        let started = std::time::Instant::now();
        // One token of the shared pool per running job; its make takes more from the pool.
        let _token = match &tools.jobserver {
            Some(c) if node.builds() => Some(c.acquire().map_err(|source| PipelineError::Io {
                path: "jobserver".into(),
                source,
            })?),
            _ => None,
        };
        let parts: Vec<&plan::Node> = node.image_parts.iter().map(|&p| &graph.nodes[p]).collect();
        let done = run_node(
            node,
            &parts,
            (&tools, &go_version),
            &store,
            &cache,
            settings,
            progress,
        );
        let how = match &done {
            Err(_) => Finished::Failed,
            Ok((_, Finished::Cached)) if fetched.contains(&i) => Finished::Fetched,
            Ok((_, how)) => *how,
        };
        progress.event(Event::Finished {
            job: &id,
            how,
            elapsed: started.elapsed(),
        });
        done.map(|(files, _)| files)
    })?;

    let mut out = Vec::new();
    if settings.no_image {
        return Ok(out);
    }
    for r in recipes.iter().filter(|r| !r.is_library()) {
        out.extend(pack_app(settings, r, (&graph, &specs), &results, progress)?);
    }
    Ok(out)
}

/// The source store of a build: Go modules fetched with the pinned Go (never whatever `go` is
/// on PATH), undated sources allowed only when the user gives SOURCE_DATE_EPOCH.
fn source_store(settings: &Settings, tools: &Tools) -> source::Store {
    let store = source::Store::new(cache::Layout::new(&settings.cache).sources())
        .with_explicit_date(settings.source_date_epoch.is_some());
    match &tools.go {
        Some(go) => store.with_go(go.pinned.clone()),
        None => store,
    }
}

/// Tells the progress display every job of the run, before any starts, with what each is
/// expected to take.
fn announce(graph: &plan::Graph, settings: &Settings, progress: &dyn Progress) {
    let planned: Vec<crate::progress::Planned> = graph
        .nodes
        .iter()
        .map(|n| crate::progress::Planned {
            job: n.id(),
            builds: n.builds(),
            expect: n.last_build,
        })
        .collect();
    progress.event(Event::Planned {
        jobs: &planned,
        parallel: settings.jobs.max(1),
    });
}

/// The toolchains the graph's misses need (meson, Go, zig and its wrappers for each arch), and
/// the jobserver their builds share; nothing when everything is cached.
fn provision(
    settings: &Settings,
    specs: &Specs,
    graph: &plan::Graph,
    progress: &dyn Progress,
) -> Result<Tools, PipelineError> {
    let misses: Vec<&plan::Node> = graph.nodes.iter().filter(|n| n.builds()).collect();
    let mut tools = Tools {
        zig: None,
        go: None,
        meson: None,
        upx: None,
        rust: None,
        jobserver: None,
        sandbox: crate::sandbox::Sandbox::Off,
    };
    if !misses.is_empty() && !settings.no_sandbox {
        tools.sandbox = crate::sandbox::Sandbox::check()?;
    }
    if misses.iter().any(|n| n.recipe.compress.is_some()) {
        tools.upx = Some(toolchain::upx::provision(
            &specs.upx,
            &settings.cache,
            &mut |m: &str| progress.note("upx", m),
        )?);
    }
    if misses.iter().any(|n| n.job.system == recipe::System::Meson) {
        tools.meson = Some(toolchain::provision_meson(
            &specs.meson,
            &settings.cache,
            &mut |m: &str| progress.note("meson", m),
        )?);
    }
    if misses.iter().any(|n| n.job.system == recipe::System::Cargo) {
        let rust_err = |e: crate::source::SourceError| toolchain::ToolchainError::Rust {
            version: specs.rust.version.clone(),
            reason: e.to_string(),
        };
        let mirror = crate::source::debian_mirror().map_err(rust_err)?;
        let rust = toolchain::rust::provision_rust(
            &specs.rust,
            &settings.cache,
            &mirror,
            &mut |m: &str| progress.note("rust", m),
        )?;
        tools.rust = Some(build::RustTools {
            rust,
            cache: settings.cache.clone(),
            std_builds: std::sync::Mutex::new(()),
        });
    }
    if misses.iter().any(|n| n.job.needs_go) {
        tools.go = Some(toolchain::provision_go(&specs.go, &settings.cache)?);
    }
    if misses.iter().any(|n| n.job.needs_zig) {
        let zig = toolchain::provision_zig(&specs.zig, &settings.cache, &mut |m: &str| {
            progress.note("zig", m)
        })?;
        // The wrappers of every arch, once, before any job runs.
        let arches: std::collections::BTreeSet<Arch> = misses
            .iter()
            .filter(|n| n.job.needs_zig)
            .map(|n| n.arch)
            .collect();
        for arch in arches {
            toolchain::wrappers::write(&zig, arch, &settings.cache, !settings.no_sandbox)?;
        }
        tools.zig = Some(zig);
    }
    if !misses.is_empty() {
        tools.jobserver = Some(
            jobserver::Client::new(settings.jobs.max(1)).map_err(|source| PipelineError::Io {
                path: "jobserver".into(),
                source,
            })?,
        );
    }
    Ok(tools)
}

/// The image of app recipe `r` (and its `--user` variants) from the graph's results: each
/// arch's app files and the files of the recipes it includes, its SBOM and image key.
fn pack_app(
    settings: &Settings,
    r: &Recipe,
    (graph, specs): (&plan::Graph, &Specs),
    results: &[JobFiles],
    progress: &dyn Progress,
) -> Result<Vec<Built>, PipelineError> {
    let roots: Vec<usize> = graph
        .roots
        .iter()
        .copied()
        .filter(|&i| graph.nodes[i].recipe.name == r.name)
        .collect();
    if roots.is_empty() {
        return Ok(Vec::new()); // its `arches` has none of the arches asked for
    }
    let cache = Cache::new(&settings.cache);
    let mut per_arch = Vec::new();
    let mut keys: Vec<&str> = Vec::new();
    for &i in &roots {
        let node = &graph.nodes[i];
        keys.push(&node.key);
        let mut extra = Vec::new();
        let mut reports = results[i].reports.clone();
        for &p in &node.image_parts {
            keys.push(&graph.nodes[p].key);
            extra.extend(part_files(
                &graph.nodes[p],
                &results[p].files,
                &settings.cache,
            )?);
            reports.extend(results[p].reports.clone());
        }
        let packed = match node.recipe.compress {
            Some(_) => packed_records(&cache, node, &results[i].files)?,
            None => Vec::new(),
        };
        let date = std::iter::once(i)
            .chain(node.image_parts.iter().copied())
            .filter_map(|n| source_date(&cache, &graph.nodes[n]))
            .max();
        per_arch.push(ArchFiles {
            date,
            arch: node.arch,
            app: results[i].files.clone(),
            extra,
            packed,
            reports,
        });
    }
    let sbom = image_sbom(settings, r, graph, &roots, &per_arch)?;
    let created = pack::image_created(settings, &per_arch);
    let vex = vex::image_vex(settings, (r, created), graph, &roots, progress);
    let key = image_key(settings, r, &keys, (&sbom, &vex), &per_arch);
    // What the image was built from, for its signed attestation (no clock: the same plan and
    // builder, the same bytes).
    let provenance = crate::sign::provenance::predicate(
        r,
        &crate::sign::provenance::parts(graph, &r.name),
        specs,
        &crate::sign::provenance::Run {
            builder: settings.builder.clone(),
            started_on: None,
            finished_on: None,
        },
    )
    .to_json();
    let docs = pack::Documents {
        sbom: &sbom,
        vex: &vex,
        provenance: &provenance,
    };
    let variants = std::iter::once(None).chain(settings.users.iter().map(Some));
    variants
        .map(|user| pack(settings, r, &per_arch, &docs, &key, user, progress))
        .collect()
}

/// The source date of `node`'s entry, as its `meta.json` recorded it when the source was
/// unpacked (a local folder has none).
fn source_date(cache: &Cache, node: &plan::Node) -> Option<u64> {
    match &node.recipe.source {
        recipe::Source::Path(_) => None,
        recipe::Source::Archive { .. } => cache.meta(&node.key).ok()?.source_date,
    }
}

/// The files an included recipe's entry gives an image (its whole tree for a library, its app
/// files for an app), from the local cache, where the scheduler put it before the includer.
pub(super) fn included_files(
    p: &plan::Node,
    cache_root: &std::path::Path,
) -> Result<Vec<AppFile>, PipelineError> {
    if p.recipe.is_library() {
        return part_files(p, &[], cache_root);
    }
    let dest = plan::graph::entry_dest(cache_root, &p.key);
    let files = build::app_files(&p.recipe, p.arch, &dest)?;
    part_files(p, &files, cache_root)
}

/// Checks every entry the plan would reuse against its manifest; one that changed since it was
/// made is removed and its node becomes a miss, with a warning.
fn distrust_changed_entries(
    graph: &mut plan::Graph,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    if settings.rebuild {
        graph.rebuild_all();
        return Ok(());
    }
    let cache = Cache::new(&settings.cache);
    for node in graph
        .nodes
        .iter_mut()
        .filter(|n| n.action == plan::Action::Reuse)
    {
        let _lock = cache.lock(&node.key)?;
        if let Err(why) = cache.verify(&node.key) {
            progress.warn(
                &node.id(),
                &format!(
                    "the cache entry {} changed after it was made: {why}; building it again",
                    &node.key[..12]
                ),
            );
            cache.discard(&node.key)?;
            node.action = plan::Action::Build(plan::Miss::EntryChanged(why));
        }
    }
    Ok(())
}
