//! The whole of `recipe build`: load every recipe, plan every (recipe, arch) job, then run each
//! job, verify and smoke-test its app files, and pack one multi-arch image per recipe.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::arch::Arch;
use std::collections::BTreeMap;

use crate::build::{self, AppFile, BuildError, Progress, Tools};
use crate::cache::{self, Cache};
use crate::image;
use crate::plan;
use crate::recipe::{self, Catalogue, Recipe};
use crate::sbom;
use crate::source;
use crate::toolchain::{self, Specs};
use crate::verify;

/// Where things are and how much to do at once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub catalogue: Catalogue,
    pub cache: PathBuf,
    pub out: PathBuf,
    pub jobs: usize,
    pub source_date_epoch: u64,
    pub toolchains: Option<PathBuf>,
    /// Build every job again, replacing its cache entry (to check reproducibility).
    pub rebuild: bool,
    /// Extra images to pack with these users instead of the recipe's (`--user UID:GID`): the
    /// same binaries, other owners for the writable folders.
    pub users: Vec<recipe::User>,
    /// Also write each image as a BuildKit build context here (`--emit-context`).
    pub emit_context: Option<PathBuf>,
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
    Build(#[from] BuildError),
    #[error("{recipe} for {arch}: `{file}` fails verification:\n{reasons}")]
    Verify {
        recipe: String,
        arch: Arch,
        file: String,
        reasons: String,
    },
    #[error("{recipe} for {arch}: smoke test failed: `{command}` {outcome}\noutput:\n{output}")]
    Smoke {
        recipe: String,
        arch: Arch,
        command: String,
        outcome: String,
        output: String,
    },
    #[error("{recipe}: smoke command `{program}` is not one of the app files")]
    SmokeProgram { recipe: String, program: String },
    #[error("{recipe}: cannot run the smoke test")]
    SmokeRun {
        recipe: String,
        #[source]
        source: verify::smoke::SmokeError,
    },
    #[error("{recipe}: cannot write the image")]
    Image {
        recipe: String,
        #[source]
        source: image::ImageError,
    },
    #[error("cannot read `{}`", path.display())]
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
            let fp = source::fingerprint_dir(dir).map_err(|source| PipelineError::Io {
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
        jobserver: true,
        go_env: toolchain::go_env(&specs.go, &settings.cache),
        host_path: std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        source_date_epoch: settings.source_date_epoch,
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
    let Planned { graph, specs, .. } = plan(settings, recipes, arches)?;
    let misses: Vec<&plan::Node> = graph
        .nodes
        .iter()
        .filter(|n| settings.rebuild || n.miss.is_some())
        .collect();
    let mut tools = Tools {
        zig: None,
        go: None,
        meson: None,
        jobserver: None,
    };
    if misses.iter().any(|n| n.job.system == recipe::System::Meson) {
        tools.meson = Some(toolchain::provision_meson(
            &specs.meson,
            &settings.cache,
            &mut |m: &str| progress.note("meson", m),
        )?);
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
            toolchain::wrappers::write(&zig, arch, &settings.cache)?;
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
    build::interrupt::install();

    let store = source::Store::new(settings.cache.join("sources"));
    let cache = Cache::new(&settings.cache);
    let deps: Vec<Vec<usize>> = graph
        .nodes
        .iter()
        .map(|n| n.deps.iter().chain(&n.host_deps).copied().collect())
        .collect();
    let results = build::schedule::run_graph(&deps, settings.jobs.max(1), |i| {
        let node = &graph.nodes[i];
        // One token of the shared pool per running job; its make takes more from the pool.
        let _token = match &tools.jobserver {
            Some(c) if settings.rebuild || node.miss.is_some() => {
                Some(c.acquire().map_err(|source| PipelineError::Io {
                    path: "jobserver".into(),
                    source,
                })?)
            }
            _ => None,
        };
        run_node(node, &tools, &store, &cache, settings, progress)
    })?;

    let mut out = Vec::new();
    for r in recipes {
        if r.is_library() {
            continue;
        }
        let roots: Vec<usize> = graph
            .roots
            .iter()
            .copied()
            .filter(|&i| graph.nodes[i].recipe.name == r.name)
            .collect();
        let mut per_arch = Vec::new();
        let mut keys: Vec<&str> = Vec::new();
        for &i in &roots {
            let node = &graph.nodes[i];
            keys.push(&node.key);
            let mut extra = Vec::new();
            for &p in &node.image_parts {
                keys.push(&graph.nodes[p].key);
                extra.extend(part_files(&graph.nodes[p], &results[p], &settings.cache)?);
            }
            per_arch.push(ArchFiles {
                arch: node.arch,
                app: results[i].clone(),
                extra,
            });
        }
        let sbom = image_sbom(settings, r, &graph, &roots, &per_arch)?;
        let key = image_key(settings, r, &keys, &sbom);
        out.push(pack(settings, r, &per_arch, &sbom, &key, None, progress)?);
        for user in &settings.users {
            out.push(pack(
                settings,
                r,
                &per_arch,
                &sbom,
                &key,
                Some(user),
                progress,
            )?);
        }
    }
    Ok(out)
}

/// One node: reuse its cache entry, or build, verify, smoke-test and store it. The key's lock
/// is held throughout, so a second `recipe` waits and then reuses this one's entry.
fn run_node(
    node: &plan::Node,
    tools: &Tools,
    store: &source::Store,
    cache: &Cache,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<Vec<AppFile>, PipelineError> {
    let r = &node.recipe;
    let id = node.id();
    let _lock = cache.lock(&node.key)?;
    let entry = cache.entry(&node.key);
    if settings.rebuild || !cache.has(&node.key) {
        let files = build::run_job(r, &node.job, tools, store, &settings.cache, progress)?;
        let go_version = tools.go.as_ref().map(|g| format!("go{}", g.version));
        check_files(r, &node.job, &files, go_version, progress)?;
        smoke(r, &node.job, &files, progress)?;
        let meta = cache::Meta {
            recipe: r.name.clone(),
            version: r.version.clone(),
            arch: node.arch.name().to_string(),
            key: node.key.clone(),
            inputs: node.inputs.clone(),
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            size: cache::dir_size(&node.job.dest),
        };
        cache.commit(&node.job.dest, &node.job.log, &meta)?;
        let _ = std::fs::remove_dir_all(&node.job.work);
        progress.note(
            &id,
            &format!("stored in the build cache ({})", &node.key[..12]),
        );
    } else {
        progress.step(&id, "cached");
    }
    Ok(r.app_files
        .iter()
        .map(|f| AppFile {
            image_path: f.clone(),
            host_path: entry.join("dest").join(f.trim_start_matches('/')),
        })
        .collect())
}

/// Verifies every ELF file of a job against what its recipe asked for (arch, and for Go the
/// toolchain, cgo, tags and module) and the files its image will hold.
fn check_files(
    r: &Recipe,
    job: &plan::Job,
    files: &[AppFile],
    go_version: Option<String>,
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    let id = format!("{}/{}", r.name, job.arch);
    progress.step(&id, "verify");
    let expect = verify::Expect {
        arch: Some(job.arch),
        go: go_expect(r, job.arch, go_version),
        // The image's files are known when it is packed: `image_check` looks then.
        image_files: None,
    };
    for f in files {
        let bytes = verify::read_file(&f.host_path).map_err(|source| PipelineError::Io {
            path: f.host_path.clone(),
            source,
        })?;
        if !bytes.starts_with(b"\x7fELF") {
            continue; // data files are not executables
        }
        let report = verify::check_elf_with(&bytes, &expect);
        if !report.passed() {
            let reasons = report
                .errors()
                .map(|f| format!("  - {}", f.message))
                .collect::<Vec<_>>()
                .join("\n");
            return Err(PipelineError::Verify {
                recipe: r.name.clone(),
                arch: job.arch,
                file: f.image_path.clone(),
                reasons,
            });
        }
        progress.note(&id, &format!("{}: {}", f.image_path, report.description));
        for w in report
            .findings
            .iter()
            .filter(|f| f.severity == verify::Severity::Warning)
        {
            match r.accept.get(w.code) {
                Some(why) => progress.note(
                    &id,
                    &format!("{}: accepted `{}`: {why}", f.image_path, w.code),
                ),
                None => progress.note(&id, &format!("warning: {}: {}", f.image_path, w.message)),
            }
        }
    }
    Ok(())
}

/// What a Go recipe asked of the Go toolchain, for checking against the binary's build info.
fn go_expect(r: &Recipe, arch: Arch, go_version: Option<String>) -> Option<verify::GoExpect> {
    if r.build.system != recipe::System::Go {
        return None;
    }
    let o = r.build.options(arch);
    let mut tags = vec!["netgo".to_string(), "osusergo".to_string()];
    tags.extend(o.tags.iter().cloned());
    let module = match &r.source {
        recipe::Source::Archive { origins, .. } => origins.iter().find_map(|o| match o {
            recipe::Origin::GoModule { module, .. } => Some(module.clone()),
            _ => None,
        }),
        recipe::Source::Path(_) => None,
    };
    Some(verify::GoExpect {
        go_version,
        cgo: o.cgo,
        tags,
        module,
    })
}

/// The image's user, as the image writer takes it.
fn image_user(r: &Recipe) -> image::User {
    image::User {
        uid: r.image.user.uid,
        gid: r.image.user.gid,
        name: r.image.user.name.clone(),
    }
}

fn smoke(
    r: &Recipe,
    job: &plan::Job,
    files: &[AppFile],
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    let Some(s) = &r.smoke else { return Ok(()) };
    let id = format!("{}/{}", r.name, job.arch);
    progress.step(&id, "smoke");
    let program = &s.command[0];
    let file = files
        .iter()
        .find(|f| {
            &f.image_path == program
                || Path::new(&f.image_path)
                    .file_name()
                    .and_then(|n| n.to_str())
                    == Some(program)
        })
        .ok_or_else(|| PipelineError::SmokeProgram {
            recipe: r.name.clone(),
            program: program.clone(),
        })?;
    let cwd = job.work.join("smoke");
    std::fs::create_dir_all(&cwd).map_err(|source| PipelineError::Io {
        path: cwd.clone(),
        source,
    })?;
    let outcome = verify::smoke::run_smoke(
        job.arch,
        &file.host_path,
        &s.command[1..],
        &s.expect,
        &cwd,
        Duration::from_secs(s.timeout_secs),
    )
    .map_err(|source| PipelineError::SmokeRun {
        recipe: r.name.clone(),
        source,
    })?;
    if !outcome.passed {
        let how = match outcome.status {
            Some(c) => format!("exited with status {c} and its output lacks `{}`", s.expect),
            None => format!(
                "did not finish or was killed; its output lacks `{}`",
                s.expect
            ),
        };
        return Err(PipelineError::Smoke {
            recipe: r.name.clone(),
            arch: job.arch,
            command: outcome.command,
            outcome: how,
            output: outcome.output,
        });
    }
    progress.note(&id, &format!("smoke test passed: `{}`", outcome.command));
    Ok(())
}

/// What an image is made of: the recipe (its image settings), each arch's cache key, the
/// timestamp, this program's version and the SBOM. The same key means the same image bytes.
fn image_key(settings: &Settings, r: &Recipe, keys: &[&str], sbom: &sbom::ImageSbom) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(plan::graph::BUILD_LOGIC);
    h.update(env!("CARGO_PKG_VERSION"));
    h.update(&r.text);
    h.update(settings.source_date_epoch.to_le_bytes());
    for k in keys {
        h.update(k);
    }
    h.update(&sbom.combined);
    for (arch, doc) in &sbom.per_arch {
        h.update(arch.name());
        h.update(doc);
    }
    hex::encode(h.finalize())
}

/// Written beside a finished image: its key and summary. Written last, so it only ever
/// describes a complete layout and archive.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stamp {
    key: String,
    written: image::Written,
}

/// The files of one arch's image: the app's (verified, also copied beside the image) and those
/// of the recipes it includes.
struct ArchFiles {
    arch: Arch,
    app: Vec<AppFile>,
    extra: Vec<AppFile>,
}

/// The files an included recipe puts in an image: an app's verified files, or every file of a
/// library's tree (e.g. the CA bundle).
fn part_files(
    node: &plan::Node,
    app_files: &[AppFile],
    cache_root: &Path,
) -> Result<Vec<AppFile>, PipelineError> {
    if !node.recipe.is_library() {
        return Ok(app_files.to_vec());
    }
    let dest = plan::graph::entry_dest(cache_root, &node.key);
    let entries = crate::walk::walk(&dest).map_err(|e| PipelineError::Io {
        path: e.path,
        source: e.source,
    })?;
    Ok(entries
        .into_iter()
        .filter(|e| e.file_type.is_file())
        .map(|e| AppFile {
            image_path: format!("/{}", e.rel.display()),
            host_path: e.path,
        })
        .collect())
}

/// Checks each ELF file of each platform image against the image's whole file list: a binary
/// that reads a CA bundle, zoneinfo or the user database the image lacks gets a warning that
/// names the file (and the `include` that would add it).
fn image_check(
    r: &Recipe,
    images: &[image::PlatformImage],
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    for img in images {
        let expect = verify::Expect {
            arch: Some(img.arch),
            go: None,
            image_files: Some(img.entries.iter().map(|e| e.path.clone()).collect()),
        };
        for e in &img.entries {
            let image::EntryKind::File(image::FileSource::Path(host)) = &e.kind else {
                continue;
            };
            let bytes = verify::read_file(host).map_err(|source| PipelineError::Io {
                path: host.clone(),
                source,
            })?;
            if !bytes.starts_with(b"\x7fELF") {
                continue;
            }
            let report = verify::check_elf_with(&bytes, &expect);
            for f in report
                .findings
                .iter()
                .filter(|f| f.code == "runtime-file" && f.severity == verify::Severity::Warning)
            {
                let hint = if f.message.contains("CA certificates") {
                    " (add `include = [\"ca-certificates\"]` to [image])"
                } else if f.message.contains("time zones") {
                    " (add `include = [\"tzdata\"]` to [image])"
                } else {
                    ""
                };
                progress.note(
                    &format!("{}/{}", r.name, img.arch),
                    &format!("warning: {}: {}{hint}", e.path, f.message),
                );
            }
        }
    }
    Ok(())
}

/// The CA bundle path OpenSSL, curl and Go look at first; `SSL_CERT_FILE` names it.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The SBOM of `r`'s image: its recipe, every library its nodes reach through `depends` (host
/// tools are not linked in), and the Go build info of each arch's app files.
fn image_sbom(
    settings: &Settings,
    r: &Recipe,
    graph: &plan::Graph,
    roots: &[usize],
    per_arch: &[ArchFiles],
) -> Result<sbom::ImageSbom, PipelineError> {
    let mut libs: BTreeMap<String, Recipe> = BTreeMap::new();
    let mut todo: Vec<usize> = roots.to_vec();
    while let Some(i) = todo.pop() {
        for &d in &graph.nodes[i].deps {
            let dep = &graph.nodes[d].recipe;
            if libs.insert(dep.name.clone(), dep.clone()).is_none() {
                todo.push(d);
            }
        }
    }
    let mut go = Vec::new();
    for ArchFiles { arch, app, .. } in per_arch {
        let mut infos = Vec::new();
        for f in app {
            let bytes = verify::read_file(&f.host_path).map_err(|source| PipelineError::Io {
                path: f.host_path.clone(),
                source,
            })?;
            if let Some(Ok(info)) = verify::goinfo::read_go_buildinfo(&bytes) {
                infos.push(info);
            }
        }
        go.push((*arch, infos));
    }
    let libs: Vec<Recipe> = libs.into_values().collect();
    Ok(sbom::image_sbom(r, &libs, &go, settings.source_date_epoch))
}

fn pack(
    settings: &Settings,
    r: &Recipe,
    per_arch: &[ArchFiles],
    sbom: &sbom::ImageSbom,
    key: &str,
    variant: Option<&recipe::User>,
    progress: &dyn Progress,
) -> Result<Built, PipelineError> {
    let (id, dir, tag) = match variant {
        None => (
            r.name.clone(),
            settings.out.join(&r.name),
            r.version.clone(),
        ),
        Some(u) => (
            format!("{} as {}:{}", r.name, u.uid, u.gid),
            settings.out.join(format!("{}-{}-{}", r.name, u.uid, u.gid)),
            format!("{}-{}-{}", r.version, u.uid, u.gid),
        ),
    };
    let key = match variant {
        None => key.to_string(),
        Some(u) => format!("{key}-user-{}-{}", u.uid, u.gid),
    };
    let layout = dir.join("oci");
    let archive = dir.join(format!("{}-{tag}.oci.tar", r.name));
    let stamp_path = dir.join(".recipe-image.json");
    let sbom_path = dir.join(sbom::file_name(r));
    let bin_dirs: Vec<(Arch, PathBuf)> = per_arch
        .iter()
        .map(|f| (f.arch, dir.join("bin").join(f.arch.name())))
        .collect();
    let user = match variant {
        None => image_user(r),
        Some(u) => image::User {
            uid: u.uid,
            gid: u.gid,
            name: if u.name.is_empty() {
                "app".into()
            } else {
                u.name.clone()
            },
        },
    };
    // The same image is already there: nothing to write.
    // (--emit-context writes the image again: the context is made from its entries.)
    let stamp_bytes = std::fs::read(&stamp_path)
        .ok()
        .filter(|_| settings.emit_context.is_none());
    if let Some(bytes) = stamp_bytes
        && let Ok(stamp) = serde_json::from_slice::<Stamp>(&bytes)
        && stamp.key == key
        && layout.join("index.json").is_file()
        && archive.is_file()
        && sbom_path.is_file()
        && bin_dirs.iter().all(|(_, d)| d.is_dir())
    {
        progress.step(&id, "image (unchanged)");
        return Ok(Built {
            recipe: r.clone(),
            image: format!("{}:{tag}", r.name),
            user: format!("{}:{}", user.uid, user.gid),
            layout,
            archive,
            written: stamp.written,
            binaries: bin_dirs,
        });
    }
    let _ = std::fs::remove_file(&stamp_path);
    progress.step(&id, "image");
    let mut labels = r.image.labels.clone();
    labels.insert("org.opencontainers.image.title".into(), r.name.clone());
    labels.insert("org.opencontainers.image.version".into(), r.version.clone());
    labels.insert(
        "org.opencontainers.image.licenses".into(),
        r.license.clone(),
    );
    labels.insert("org.opencontainers.image.url".into(), r.homepage.clone());
    for (code, why) in &r.accept {
        labels.insert(format!("{}{code}", recipe::ACCEPT_LABEL), why.clone());
    }
    let mut env: Vec<String> = vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()];
    let has_ca = per_arch
        .iter()
        .all(|f| f.extra.iter().any(|e| e.image_path == CA_BUNDLE));
    if has_ca && !r.image.env.contains_key("SSL_CERT_FILE") {
        env.push(format!("SSL_CERT_FILE={CA_BUNDLE}"));
    }
    env.extend(r.image.env.iter().map(|(k, v)| format!("{k}={v}")));
    let config = image::ImageConfig {
        user: format!("{}:{}", user.uid, user.gid),
        entrypoint: r.image.entrypoint.clone(),
        cmd: r.image.cmd.clone(),
        env,
        workdir: r.image.workdir.clone(),
        exposed_ports: r.image.ports.clone(),
        volumes: r.image.volumes.clone(),
        labels,
        created_epoch: settings.source_date_epoch,
        healthcheck: r.image.health.as_ref().map(|h| image::Healthcheck {
            argv: h.argv(),
            interval_secs: h.interval_secs,
            timeout_secs: h.timeout_secs,
            start_period_secs: h.start_period_secs,
            retries: h.retries,
        }),
    };
    let images: Vec<image::PlatformImage> = per_arch
        .iter()
        .map(|f| {
            let (arch, files) = (&f.arch, f.app.iter().chain(&f.extra));
            let mut entries = image::base_entries(&user, &r.image.writable);
            for f in files {
                entries.push(image::Entry {
                    path: f.image_path.clone(),
                    kind: image::EntryKind::File(image::FileSource::Path(f.host_path.clone())),
                    mode: file_mode(&f.host_path),
                    uid: 0,
                    gid: 0,
                });
            }
            let doc = sbom.for_arch(*arch).to_vec();
            entries.push(image::Entry::bytes(sbom::image_path(&r.name), 0o644, doc));
            image::PlatformImage {
                arch: *arch,
                entries,
                config: config.clone(),
                history: format!("recipe build {} {}", r.name, r.version),
            }
        })
        .collect();
    std::fs::create_dir_all(&dir).map_err(|source| PipelineError::Io {
        path: dir.clone(),
        source,
    })?;
    let err = |source| PipelineError::Image {
        recipe: r.name.clone(),
        source,
    };
    if let (Some(ctx), None) = (&settings.emit_context, variant) {
        image::write_context(ctx, &images).map_err(err)?;
    }
    image_check(r, &images, progress)?;
    let written =
        image::write_layout(&layout, &format!("{}:{tag}", r.name), &images).map_err(err)?;
    image::write_archive(&layout, &archive).map_err(err)?;
    // The SBOM, beside the image (for every arch; each layer holds its own arch's).
    let tmp = dir.join(format!(".sbom.{}", std::process::id()));
    std::fs::write(&tmp, &sbom.combined)
        .and_then(|_| std::fs::rename(&tmp, &sbom_path))
        .map_err(|source| PipelineError::Io {
            path: sbom_path.clone(),
            source,
        })?;
    // The binaries, beside the image, one folder per arch.
    let mut binaries = Vec::new();
    for ArchFiles {
        arch, app: files, ..
    } in per_arch
    {
        let bin_dir = dir.join("bin").join(arch.name());
        let tmp = dir.join(format!(".bin-{}-{}", arch.name(), std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|source| PipelineError::Io {
            path: tmp.clone(),
            source,
        })?;
        for f in files {
            let name = Path::new(&f.image_path).file_name().unwrap();
            std::fs::copy(&f.host_path, tmp.join(name)).map_err(|source| PipelineError::Io {
                path: f.host_path.clone(),
                source,
            })?;
        }
        let _ = std::fs::remove_dir_all(&bin_dir);
        std::fs::create_dir_all(bin_dir.parent().unwrap()).map_err(|source| PipelineError::Io {
            path: bin_dir.clone(),
            source,
        })?;
        std::fs::rename(&tmp, &bin_dir).map_err(|source| PipelineError::Io {
            path: bin_dir.clone(),
            source,
        })?;
        binaries.push((*arch, bin_dir));
    }
    let stamp = serde_json::to_vec_pretty(&Stamp {
        key: key.to_string(),
        written: written.clone(),
    })
    .expect("stamp serialises");
    let tmp = dir.join(format!(".recipe-image.json.{}", std::process::id()));
    std::fs::write(&tmp, stamp)
        .and_then(|_| std::fs::rename(&tmp, &stamp_path))
        .map_err(|source| PipelineError::Io {
            path: stamp_path.clone(),
            source,
        })?;
    Ok(Built {
        recipe: r.clone(),
        image: format!("{}:{tag}", r.name),
        user: format!("{}:{}", user.uid, user.gid),
        layout,
        archive,
        written,
        binaries,
    })
}

/// The image mode of an installed file: executables 0755, others 0644.
fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0o644);
    if mode & 0o111 != 0 { 0o755 } else { 0o644 }
}
