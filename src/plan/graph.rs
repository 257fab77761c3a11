//! The job graph: every (recipe, arch) a build needs, with its dependencies, its cache key and
//! whether the cache already has it. Pure: the caller gathers recipes, source fingerprints and
//! cache contents first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::{Action, Context, Job, Miss, PlanError};
use crate::arch::Arch;
use crate::recipe::{Dep, Recipe, RecipeError, Source, System};

/// Bumped when what `recipe` does with the same inputs changes, so old cache entries are not
/// reused for a build that would now differ. v2: steps see fixed paths, and the smoke test runs
/// as the image runs (its root, its user, loopback only): an entry proven before is proven again.
/// v3: steps see the source's own date as SOURCE_DATE_EPOCH (was 0), the compiler wrappers drop
/// coverage flags (were refused), and entries record the Go module's publication date.
pub const BUILD_LOGIC: &str = "recipe-build-v3";

/// What a node is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// For the target arch: its files go to a sysroot or an image.
    Target,
    /// For the build machine: its programs run during dependents' builds.
    Host,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub recipe: Recipe,
    pub arch: Arch,
    pub roles: BTreeSet<Role>,
    /// Library dependencies (same arch), as node indices.
    pub deps: Vec<usize>,
    /// Host tools, as node indices.
    pub host_deps: Vec<usize>,
    /// For an app: the recipes its image also holds (`[image] include`), same arch. They are
    /// not inputs of its key: only its image changes with them.
    pub image_parts: Vec<usize>,
    pub key: String,
    /// What the key was made of.
    pub inputs: Inputs,
    pub job: Job,
    /// What the build does with it, and why ([`Action`]).
    pub action: Action,
    /// How long its last build took (the newest entry of its recipe and arch), if known: what
    /// the progress display expects this one to take.
    pub last_build: Option<std::time::Duration>,
}

impl Node {
    pub fn id(&self) -> String {
        format!("{}/{}", self.recipe.name, self.arch)
    }

    /// Neither cache has it: it is built.
    pub fn builds(&self) -> bool {
        self.action.builds()
    }

    /// Why the local cache has no entry of it to reuse, if it has none.
    pub fn miss(&self) -> Option<&Miss> {
        self.action.miss()
    }
}

/// Nodes in dependency order: every node comes after the nodes it needs.
#[derive(Debug, Clone)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// The nodes the user asked for, per recipe name, per arch.
    pub roots: Vec<usize>,
}

/// What the cache knows, gathered by the caller: the keys present, and for each (recipe, arch)
/// the inputs of its most recent entry (to say why a key changed).
#[derive(Debug, Clone, Default)]
pub struct CacheView {
    pub present: BTreeSet<String>,
    pub latest: BTreeMap<(String, Arch), Inputs>,
    /// How long the newest entry of each (recipe, arch) took to build, in seconds, if known.
    pub seconds: BTreeMap<(String, Arch), u64>,
}

/// The inputs a key is made of, by part, so a miss can say which part changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inputs {
    pub recipe: String,
    pub source: String,
    pub toolchain: String,
    pub arch: String,
    pub deps: BTreeMap<String, String>,
    /// Where the steps see the job's folders and the cache: `fixed` in the sandbox (the same
    /// on every machine), or `as is in <cache>` without it, since a build may record them.
    #[serde(default)]
    pub paths: String,
}

impl Inputs {
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(BUILD_LOGIC.as_bytes());
        for part in [
            &self.recipe,
            &self.source,
            &self.toolchain,
            &self.arch,
            &self.paths,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        for (name, key) in &self.deps {
            h.update(name.as_bytes());
            h.update(b"=");
            h.update(key.as_bytes());
            h.update(b"\n");
        }
        hex::encode(h.finalize())
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum GraphError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Recipe(Box<RecipeError>),
    /// A recipe needs itself through its dependencies; the error points at the entry that
    /// closes the cycle and names it.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Cycle(Box<RecipeError>),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// The fingerprint of a recipe's source: its sha256, or for a local directory the hash of its
/// files, computed by the caller.
pub fn source_identity(recipe: &Recipe, path_fingerprint: Option<&str>) -> String {
    match &recipe.source {
        Source::Archive { sha256, strip, .. } => format!("sha256:{sha256} strip:{strip}"),
        Source::Path(_) => format!("dir:{}", path_fingerprint.unwrap_or("?")),
    }
}

/// Builds the graph for `roots` x `arches`. `recipes` holds every recipe reachable through
/// `depends` and `host-depends`; `fingerprints` the directory hashes of local sources.
pub fn graph(
    recipes: &BTreeMap<String, Recipe>,
    roots: &[String],
    arches: &[Arch],
    ctx: &Context,
    fingerprints: &BTreeMap<String, String>,
    cache: &CacheView,
) -> Result<Graph, GraphError> {
    let mut b = Builder {
        recipes,
        ctx,
        fingerprints,
        cache,
        nodes: Vec::new(),
        index: BTreeMap::new(),
        visiting: Vec::new(),
    };
    let mut root_ids = Vec::new();
    for name in roots {
        for &arch in arches {
            // A recipe's `arches` leaves the others out (the command said so when it skipped).
            if b.recipes.get(name).is_some_and(|r| !r.supports(arch)) {
                continue;
            }
            let i = b.visit(name, arch, Role::Target)?;
            root_ids.push(i);
            let recipe = b.nodes[i].recipe.clone();
            if recipe.is_library() {
                continue;
            }
            for d in &recipe.image.include {
                let Some(dep) = b.recipes.get(&d.name) else {
                    return Err(unknown_dep(&recipe, d));
                };
                supported(&recipe, d, dep, arch, Need::Include)?;
                let part = b.visit(&d.name, arch, Role::Target)?;
                b.nodes[i].image_parts.push(part);
            }
        }
    }
    Ok(Graph {
        nodes: b.nodes,
        roots: root_ids,
    })
}

/// What a node needs: libraries and host tools as node indices, and their keys by name
/// (`host:NAME` for a host tool).
struct Needs {
    deps: Vec<usize>,
    host_deps: Vec<usize>,
    keys: BTreeMap<String, String>,
}

struct Builder<'a> {
    recipes: &'a BTreeMap<String, Recipe>,
    ctx: &'a Context,
    fingerprints: &'a BTreeMap<String, String>,
    cache: &'a CacheView,
    nodes: Vec<Node>,
    index: BTreeMap<(String, Arch), usize>,
    visiting: Vec<(String, Arch)>,
}

impl Builder<'_> {
    fn visit(&mut self, name: &str, arch: Arch, role: Role) -> Result<usize, GraphError> {
        let id = (name.to_string(), arch);
        if let Some(&i) = self.index.get(&id) {
            self.nodes[i].roles.insert(role);
            return Ok(i);
        }
        let recipe = self.recipes[name].clone();
        self.visiting.push(id.clone());
        let Needs {
            deps,
            host_deps,
            keys: dep_keys,
        } = self.visit_deps(&recipe, arch)?;
        self.visiting.pop();

        let inputs = self.inputs(&recipe, arch, dep_keys);
        let key = inputs.key();
        let miss = if self.cache.present.contains(&key) {
            None
        } else {
            Some(Miss::between(&inputs, self.cache.latest.get(&id)))
        };
        let (sysroot_from, host_from) = self.sysroot(&deps, &host_deps);
        let job = super::job_with(&recipe, arch, self.ctx, &key, sysroot_from, host_from)?;
        self.nodes.push(Node {
            recipe,
            arch,
            roles: [role].into(),
            deps,
            host_deps,
            image_parts: Vec::new(),
            key,
            inputs,
            job,
            action: Action::from_miss(miss),
            last_build: self
                .cache
                .seconds
                .get(&id)
                .map(|&s| std::time::Duration::from_secs(s)),
        });
        let i = self.nodes.len() - 1;
        self.index.insert(id, i);
        Ok(i)
    }

    /// Visits the libraries `recipe` builds against (same arch) and the host tools it runs
    /// (the build machine's arch).
    fn visit_deps(&mut self, recipe: &Recipe, arch: Arch) -> Result<Needs, GraphError> {
        let mut keys = BTreeMap::new();
        let mut deps = Vec::new();
        for d in &recipe.depends {
            let dep = self
                .recipes
                .get(&d.name)
                .ok_or_else(|| unknown_dep(recipe, d))?;
            if !dep.is_library() {
                return Err(GraphError::Recipe(Box::new(recipe.error_at(
                    d.span.clone(),
                    format!(
                        "`{}` is an app, not a library: nothing to build against",
                        d.name
                    ),
                    Some(
                        "list it under `host-depends` to run its programs during the build".into(),
                    ),
                ))));
            }
            supported(recipe, d, dep, arch, Need::Library)?;
            self.no_cycle(recipe, d, arch)?;
            let i = self.visit(&d.name, arch, Role::Target)?;
            keys.insert(d.name.clone(), self.nodes[i].key.clone());
            deps.push(i);
        }
        let mut host_deps = Vec::new();
        let host = Arch::build_machine();
        for d in &recipe.host_depends {
            let dep = self
                .recipes
                .get(&d.name)
                .ok_or_else(|| unknown_dep(recipe, d))?;
            supported(recipe, d, dep, host, Need::HostTool)?;
            self.no_cycle(recipe, d, host)?;
            let i = self.visit(&d.name, host, Role::Host)?;
            keys.insert(format!("host:{}", d.name), self.nodes[i].key.clone());
            host_deps.push(i);
        }
        Ok(Needs {
            deps,
            host_deps,
            keys,
        })
    }

    /// Refuses the entry `d` of `recipe` when it leads back to a recipe still being visited:
    /// the error points at that entry and names the whole cycle.
    fn no_cycle(&self, recipe: &Recipe, d: &Dep, arch: Arch) -> Result<(), GraphError> {
        let Some(pos) = self
            .visiting
            .iter()
            .position(|(n, a)| n == &d.name && *a == arch)
        else {
            return Ok(());
        };
        let mut cycle: Vec<&str> = self.visiting[pos..]
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        cycle.push(&d.name);
        Err(GraphError::Cycle(Box::new(recipe.error_at(
            d.span.clone(),
            format!("dependency cycle: {}", cycle.join(" -> ")),
            Some(format!(
                "`{}` needs itself through its dependencies: remove one of the entries of the cycle",
                d.name
            )),
        ))))
    }

    /// What the key of `recipe` for `arch` is made of.
    fn inputs(&self, recipe: &Recipe, arch: Arch, deps: BTreeMap<String, String>) -> Inputs {
        // zig and the revision of the wrappers in front of it
        let zig = format!(
            "zig {} (wrappers {})",
            self.ctx.zig_version,
            crate::toolchain::cc::REVISION
        );
        let mut toolchain = match recipe.build.system {
            System::Go if !recipe.build.options(arch).cgo => format!("go {}", self.ctx.go_version),
            System::Go => format!("go {} + {zig}", self.ctx.go_version),
            System::Cargo => format!(
                "rust {} (std {}) + {zig}",
                self.ctx.rust_version,
                crate::toolchain::rust_std::SYSROOT_REVISION,
            ),
            _ => zig,
        };
        if recipe.compress.is_some() {
            toolchain.push_str(" + ");
            toolchain.push_str(self.ctx.upx.get(&arch).map_or("upx", String::as_str));
        }
        let mut source = source_identity(
            recipe,
            self.fingerprints.get(&recipe.name).map(String::as_str),
        );
        // The steps' SOURCE_DATE_EPOCH is the source's own date (a function of its bytes),
        // unless the user gives one: then that is an input too.
        if let Some(epoch) = self.ctx.source_date_epoch {
            source.push_str(&format!(" date:{epoch}"));
        }
        Inputs {
            recipe: recipe_identity(recipe, arch),
            source,
            toolchain,
            arch: arch.name().to_string(),
            deps,
            paths: if self.ctx.fixed_paths {
                "fixed".into()
            } else {
                format!("as is in {}", self.ctx.cache.display())
            },
        }
    }

    /// Everything a job builds against (the dependencies and theirs, each once) and the
    /// installed trees of its host tools.
    fn sysroot(&self, deps: &[usize], host_deps: &[usize]) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let mut sysroot_from = Vec::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = deps.to_vec();
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                sysroot_from.push(entry_dest(&self.ctx.cache, &self.nodes[i].key));
                stack.extend(self.nodes[i].deps.iter().copied());
            }
        }
        sysroot_from.sort();
        let host_from = host_deps
            .iter()
            .map(|&i| entry_dest(&self.ctx.cache, &self.nodes[i].key))
            .collect();
        (sysroot_from, host_from)
    }
}

impl Graph {
    /// The nodes `roots` and every node they reach through `depends` (what an image links:
    /// `host-depends` tools are not followed), each once, roots first, then in the order met.
    pub fn linked(&self, roots: &[usize]) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let mut todo: Vec<usize> = roots.iter().rev().copied().collect();
        while let Some(i) = todo.pop() {
            if out.contains(&i) {
                continue;
            }
            out.push(i);
            todo.extend(self.nodes[i].deps.iter().rev());
        }
        out
    }

    /// `--rebuild`: every node builds again, saying so.
    pub fn rebuild_all(&mut self) {
        for n in &mut self.nodes {
            n.action = Action::Build(Miss::RebuildRequested);
        }
    }
}

fn unknown_dep(recipe: &Recipe, d: &Dep) -> GraphError {
    GraphError::Recipe(Box::new(recipe.error_at(
        d.span.clone(),
        format!("unknown recipe `{}`", d.name),
        None,
    )))
}

/// How a recipe needs another, for [`supported`]'s message.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// `depends`: built against, for the same arch.
    Library,
    /// `host-depends`: run on the build machine.
    HostTool,
    /// `[image] include`: its files in the image, for the same arch.
    Include,
}

/// Refuses the entry `d` of `recipe` when the recipe it names, `dep`, leaves `arch` out of its
/// `arches`: building `recipe` for `arch` would need a build `dep` says it does not support.
/// The error points at the entry and names both recipes and the arch.
fn supported(
    recipe: &Recipe,
    d: &Dep,
    dep: &Recipe,
    arch: Arch,
    need: Need,
) -> Result<(), GraphError> {
    let Some(arches) = dep.arches.as_ref().filter(|_| !dep.supports(arch)) else {
        return Ok(());
    };
    let names: Vec<&str> = arches.list.iter().map(|a| a.name()).collect();
    let (r, n) = (&recipe.name, &d.name);
    let (message, help) = match need {
        Need::Library => (
            format!("{r} for {arch} depends on `{n}`, which does not support {arch}"),
            format!("list in {r}'s `arches` only arches {n} supports, or add {arch} to {n}'s"),
        ),
        Need::Include => (
            format!("the {arch} image of {r} includes `{n}`, which does not support {arch}"),
            format!("list in {r}'s `arches` only arches {n} supports, or add {arch} to {n}'s"),
        ),
        Need::HostTool => (
            format!("{r} runs `{n}` on the build machine ({arch}), which {n} does not support"),
            format!("add {arch} to {n}'s `arches`: a host tool builds for the build machine"),
        ),
    };
    Err(GraphError::Recipe(Box::new(recipe.error_at(
        d.span.clone(),
        message,
        Some(format!("{n}'s `arches` lists {}; {help}", names.join(", "))),
    ))))
}

/// Where the cache entry of `key` keeps its installed tree.
pub fn entry_dest(cache: &std::path::Path, key: &str) -> PathBuf {
    crate::cache::Layout::new(cache).entry(key).dest()
}

/// The recipe part of the key for `arch`: its meaning (but `cpe`, and only the patches that
/// apply to `arch`: [`Recipe::build_text_for`]), the bytes of those patches, the plan rules
/// revised for its kind of job ([`super::systems::revised_rules`]), and the bytes of the smoke
/// test's files beside it (they decide whether a cached build passed its smoke test).
/// `[[image.file]]`s are not in it: they change the image, not the build.
fn recipe_identity(recipe: &Recipe, arch: Arch) -> String {
    let mut h = Sha256::new();
    h.update(recipe.build_text_for(arch).as_bytes());
    for p in recipe.patches.iter().filter(|p| p.applies_to(arch)) {
        h.update(format!("\0patch {}\0", p.path).as_bytes());
        h.update(
            p.contents
                .as_ref()
                .map_or("", |c| c.sha256.as_str())
                .as_bytes(),
        );
    }
    for rule in super::systems::revised_rules(recipe.build.system, &recipe.build.options(arch)) {
        h.update(format!("\0rule {rule}\0").as_bytes());
    }
    if let Some(smoke) = &recipe.smoke {
        for f in &smoke.files {
            h.update(format!("\0smoke-file {}\0", f.path).as_bytes());
            h.update(Sha256::digest(f.contents.as_deref().unwrap_or_default()));
        }
    }
    hex::encode(h.finalize())
}
