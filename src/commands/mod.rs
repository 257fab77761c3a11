//! One file per subcommand (as cargo's `src/bin/cargo/commands/` and uv's `commands/`): each
//! holds its clap arguments and a `run` that does the work through the module owning it,
//! prints what the user reads, and returns an [`Exit`] (0, or 1 for a verdict that is not a
//! pass) or an [`Error`] that knows its own exit code. `cli.rs` parses and dispatches.

/// `println!` for what a command prints on stdout, through [`write_out`]: a reader that went
/// away (`recipe key generate | head -1`) is no panic.
macro_rules! outln {
    () => { $crate::commands::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::commands::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` through [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::commands::write_out(format_args!($($arg)*)) };
}

pub mod board;
pub mod build;
pub mod cache;
pub mod check;
pub mod ci;
pub mod key;
pub mod list;
pub mod new;
pub mod outdated;
pub mod plan;
pub mod progress;
pub mod push;
pub mod show;
pub mod source;
pub mod test;
pub mod toolchain;
pub mod update;
pub mod verify;

use std::path::PathBuf;

use crate::arch::Arch;
use crate::error::{Error, Exit, UsageError};
use crate::pipeline::Settings;
use crate::recipe::Catalogue;

/// Writes a command's output to stdout. A closed pipe (the reader, `head`, went away) drops
/// the output and the command goes on to do everything it was asked, exiting as it would have;
/// any other failure to write panics, as `println!` does.
pub fn write_out(args: std::fmt::Arguments) {
    use std::io::Write;
    match std::io::stdout().lock().write_fmt(args) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            panic!("failed printing to stdout: {e}")
        }
        _ => {}
    }
}

/// The recipes whose pins `recipe outdated` and `recipe update` read, and the Debian suites
/// they compare them with.
#[derive(clap::Args, Debug)]
pub struct Pins {
    /// The recipes (or --all).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    names: Vec<String>,
    /// Every recipe of the catalogue.
    #[arg(long)]
    all: bool,
    /// The Debian suites read (comma-separated; default `RECIPE_DEBIAN_SUITES` or bookworm,
    /// trixie with their -updates and -security).
    #[arg(long, value_name = "SUITES")]
    suites: Option<String>,
}

impl Pins {
    /// The recipes named (or every one), loaded and validated.
    pub fn recipes(&self, settings: &Settings) -> Result<Vec<crate::recipe::Recipe>, Error> {
        Targets {
            names: self.names.clone(),
            all: self.all,
            arch: "amd64".into(),
        }
        .recipes(settings)
    }
}

/// What a command returns: how it ended, or the error to render.
pub type Outcome = Result<Exit, Error>;

/// What every command gets from the global options.
pub struct Context {
    pub catalogue: Catalogue,
    /// Absolute.
    pub cache: PathBuf,
    pub quiet: bool,
    /// `-v`: show each command a build runs.
    pub verbose: bool,
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
            verbose: false,
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
                .and_then(|s| s.parse().ok()),
            toolchains: std::env::var_os("RECIPE_TOOLCHAINS").map(PathBuf::from),
            rebuild: false,
            users: Vec::new(),
            emit_context: None,
            remote: None,
            no_image: false,
            no_sandbox: false,
            builder: crate::sign::provenance::BuilderInfo::from_process_env(None),
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
        let recipes = self.recipes(settings)?;
        Ok((arches.clone(), self.supported(recipes, &arches)?))
    }

    /// `recipes` without those whose `arches` has none of `arches`. An arch a recipe does not
    /// support is skipped, with a line on stderr, under `--arch all` or `--all`; asked for by
    /// name for a recipe named, it is an error pointing at the recipe's `arches`.
    fn supported(
        &self,
        recipes: Vec<crate::recipe::Recipe>,
        arches: &[Arch],
    ) -> Result<Vec<crate::recipe::Recipe>, Error> {
        let skip = self.all || self.arch.split(',').any(|a| a.trim() == "all");
        let mut kept = Vec::new();
        for r in recipes {
            let Some(supported) = &r.arches else {
                kept.push(r);
                continue;
            };
            let names = supported.list.iter().map(|a| a.name()).collect::<Vec<_>>();
            for &arch in arches.iter().filter(|&&a| !r.supports(a)) {
                if !skip {
                    let e = r.error_at(
                        supported.span.clone(),
                        format!("{} does not support {arch}", r.name),
                        Some(format!(
                            "its `arches` lists {}; ask for one of them, or `--arch all`",
                            names.join(", ")
                        )),
                    );
                    return Err(crate::recipe::LoadError::Invalid(Box::new(e)).into());
                }
                eprintln!(
                    "skipped {} for {arch}: its `arches` lists {}",
                    r.name,
                    names.join(", ")
                );
            }
            if arches.iter().any(|&a| r.supports(a)) {
                kept.push(r);
            }
        }
        Ok(kept)
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

/// The remote build cache, for `build` and `plan`: where it is, whom to trust, and the key
/// this machine signs with (none: it only reads). Each has an environment variable, so a CI
/// workflow sets them once.
#[derive(clap::Args, Debug, Default)]
pub struct RemoteArgs {
    /// A registry repository holding build-cache entries (`REGISTRY/REPO`): each job is looked
    /// up there before it is built, and pushed there after when a signing key is given.
    #[arg(long, env = "RECIPE_REMOTE_CACHE", value_name = "REGISTRY/REPO")]
    pub remote_cache: Option<String>,
    /// A public key whose signed entries are used (`NAME:BASE64`, as `recipe key generate`
    /// prints it). Repeatable; the variable takes several, separated by spaces or commas.
    #[arg(long = "trust", value_name = "NAME:KEY")]
    pub trust: Vec<String>,
    /// The file holding the key that signs what this machine pushes (without one, and
    /// without `RECIPE_CACHE_SIGNING_KEY`, the remote cache is read-only).
    #[arg(long, env = "RECIPE_CACHE_SIGNING_KEY_FILE", value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// Plain http to the remote cache's registry (one on 127.0.0.1 without TLS).
    #[arg(long, env = "RECIPE_REMOTE_CACHE_INSECURE")]
    pub remote_cache_insecure: bool,
}

/// The most bytes read of a key file: a key is one line of about 140 characters.
const MAX_KEY_FILE: u64 = 4 << 10;

/// The signing key in the file at `path` (`--signing-key`, `recipe key public` and `rotate`):
/// a regular file of at most [`MAX_KEY_FILE`] bytes, so `/dev/zero` or a FIFO is refused.
pub fn read_signing_key(path: &std::path::Path) -> Result<crate::remote::SecretKey, Error> {
    use crate::remote::RemoteError;
    let unreadable = |source| RemoteError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    let bytes = crate::walk::read_capped(path, MAX_KEY_FILE).map_err(unreadable)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        unreadable(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not text",
        ))
    })?;
    Ok(crate::remote::SecretKey::parse(&text).map_err(RemoteError::from)?)
}

/// The variable with more keys to trust.
pub const TRUST_ENV: &str = "RECIPE_CACHE_TRUST";
/// The variable with the signing key itself (a CI secret); empty means none (a fork's pull
/// request gets no secrets).
pub const SIGNING_KEY_ENV: &str = "RECIPE_CACHE_SIGNING_KEY";

impl RemoteArgs {
    /// The keys to trust: `--trust` and `RECIPE_CACHE_TRUST`, each checked.
    pub fn trusted(&self) -> Result<Vec<crate::remote::PublicKey>, Error> {
        let from_env = std::env::var(TRUST_ENV).unwrap_or_default();
        let mut keys: Vec<crate::remote::PublicKey> = Vec::new();
        for t in self
            .trust
            .iter()
            .flat_map(|t| t.split([',', ' ', '\n', '\t']))
            .chain(from_env.split([',', ' ', '\n', '\t']))
            .filter(|t| !t.trim().is_empty())
        {
            let k = crate::remote::PublicKey::parse(t).map_err(crate::remote::RemoteError::from)?;
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        Ok(keys)
    }

    /// The remote cache asked for, if any.
    pub fn remote(&self) -> Result<Option<std::sync::Arc<crate::remote::Remote>>, Error> {
        use crate::remote::{Remote, RemoteError, SecretKey};
        let Some(at) = &self.remote_cache else {
            return Ok(None);
        };
        let trusted = self.trusted()?;
        let signer = match &self.signing_key {
            Some(path) => Some(read_signing_key(path)?),
            None => match crate::secrets::var(SIGNING_KEY_ENV) {
                Some(text) if !text.trim().is_empty() => {
                    Some(SecretKey::parse(&text).map_err(RemoteError::from)?)
                }
                _ => None,
            },
        };
        let remote = Remote::new(
            at,
            self.remote_cache_insecure,
            crate::registry::basic_auth_from_env()?,
            trusted,
            signer,
        )?;
        Ok(Some(std::sync::Arc::new(remote)))
    }
}
