//! `recipe ci github|gitlab|matrix`: the job graph as a CI engine's jobs (`crate::ci`).

use std::io::ErrorKind;
use std::path::PathBuf;

use super::{Context, Outcome, RemoteArgs, Targets};
use crate::ci::{self, Spec};
use crate::error::{Error, Exit, UsageError};
use crate::pipeline;

#[derive(clap::Subcommand, Debug)]
pub enum Args {
    /// Write a GitHub Actions workflow: a plan job, one matrix job per level of the graph,
    /// an images job; builds share the signed remote cache.
    Github(Generate),
    /// Write a GitLab child pipeline: one job per job of the graph that neither cache has,
    /// `needs` naming exactly its dependencies, then an images job.
    Gitlab(Generate),
    /// Print each level's jobs that neither cache has as `levelN=JSON` lines (the GitHub
    /// workflow's plan job writes them to `$GITHUB_OUTPUT`).
    Matrix(Matrix),
}

#[derive(clap::Args, Debug)]
pub struct Generate {
    #[command(flatten)]
    targets: Targets,
    #[command(flatten)]
    remote: RemoteArgs,
    /// Where images are pushed: `REGISTRY/NAMESPACE` (each app as `NAMESPACE/NAME`, tagged
    /// with its version); without it images are built, not pushed.
    #[arg(long, value_name = "REGISTRY/NAMESPACE")]
    image_repo: Option<String>,
    /// A shell line each job runs first, to put `recipe` and what builds need (qemu-user,
    /// binutils of each arch) on a fresh runner. Repeatable.
    #[arg(long, value_name = "LINE")]
    setup: Vec<String>,
    /// GitHub: when scheduled runs apply the recipes' pending security updates and rebuild
    /// (a cron line; `none`: no scheduled runs).
    #[arg(long, value_name = "CRON", default_value = ci::WEEKLY)]
    schedule: String,
    /// GitLab: every job first applies the recipes' pending security updates (give it when
    /// the parent job runs in a scheduled pipeline).
    #[arg(long)]
    security_updates: bool,
    /// Write the file here instead of printing it.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write nothing: exit 1 when `--output`'s file is not what would be written.
    #[arg(long, requires = "output")]
    check: bool,
}

#[derive(clap::Args, Debug)]
pub struct Matrix {
    #[command(flatten)]
    targets: Targets,
    #[command(flatten)]
    remote: RemoteArgs,
    /// How many levels the workflow has (a graph with more: the workflow is out of date), at
    /// most 256 (GitHub runs at most 256 jobs of a matrix, and as many jobs in a workflow).
    #[arg(long, value_parser = clap::value_parser!(u16).range(0..=MAX_LEVELS))]
    levels: u16,
}

/// The most levels `recipe ci matrix` prints.
const MAX_LEVELS: i64 = 256;

pub fn run(ctx: &Context, args: Args) -> Outcome {
    match args {
        Args::Github(g) => generate(ctx, g, "github"),
        Args::Gitlab(g) => generate(ctx, g, "gitlab"),
        Args::Matrix(m) => matrix(ctx, m),
    }
}

/// The graph's jobs, with what the caches (local, and remote when given) already have.
fn jobs(
    ctx: &Context,
    targets: &Targets,
    remote: &RemoteArgs,
) -> Result<(Vec<ci::Job>, Vec<String>), crate::error::Error> {
    let settings = ctx.settings(None);
    let remote = remote.remote()?;
    let (arches, recipes) = targets.load(&settings)?;
    let mut planned = pipeline::plan(&settings, &recipes, &arches)?;
    if let Some(remote) = remote {
        let progress = super::progress::Display::new(true);
        pipeline::find_remote(&mut planned.graph, &settings, &remote, &progress);
    }
    let apps = recipes
        .iter()
        .filter(|r| !r.is_library())
        .map(|r| r.name.clone())
        .collect();
    Ok((ci::jobs(&planned.graph), apps))
}

fn matrix(ctx: &Context, m: Matrix) -> Outcome {
    let (jobs, _) = jobs(ctx, &m.targets, &m.remote)?;
    let levels = usize::from(m.levels);
    match ci::matrix(&jobs, levels) {
        Ok(lines) => {
            out!("{lines}");
            Ok(Exit::Ok)
        }
        Err(depth) => Err(UsageError::StaleWorkflow { levels, depth }.into()),
    }
}

/// Checks every value `recipe ci` writes into the file as given: the repositories by their
/// parsers, each value by [`ci::check_value`] (no line break or other control character, no
/// `${{`). A setup line given with newlines is several lines, each trimmed.
fn check_values(ctx: &Context, g: &mut Generate) -> Result<(), crate::error::Error> {
    g.setup = g
        .setup
        .iter()
        .flat_map(|l| l.split('\n'))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let bad = |option: &'static str, value: &str, why: String| UsageError::CiValue {
        option,
        value: value.to_string(),
        why,
    };
    let check = |option: &'static str, value: &str| {
        ci::check_value(value).map_err(|why| bad(option, value, why.to_string()))
    };
    for line in &g.setup {
        check("--setup", line)?;
    }
    if let Some(at) = &g.remote.remote_cache {
        crate::remote::repository(at)?;
    }
    if let Some(repo) = &g.image_repo {
        check("--image-repo", repo)?;
        let why = match repo.parse::<crate::registry::Reference>() {
            Err(e) => Some(e.to_string()),
            Ok(r) if r.tag.is_some() || r.digest.is_some() => Some(
                "name a namespace, without a tag or digest: each image is tagged with its version"
                    .into(),
            ),
            Ok(_) => None,
        };
        if let Some(why) = why {
            return Err(bad("--image-repo", repo, why).into());
        }
    }
    for dir in &ctx.catalogue.dirs {
        check("--recipes", &dir.to_string_lossy())?;
    }
    if let Some(o) = &g.output {
        check("--output", &o.to_string_lossy())?;
    }
    Ok(())
}

fn generate(ctx: &Context, mut g: Generate, engine: &str) -> Outcome {
    check_values(ctx, &mut g)?;
    let spec = spec(ctx, &g, engine)?;
    let text = match engine {
        "github" => ci::github::workflow(&spec),
        _ => ci::gitlab::pipeline(&spec),
    };
    match g.output {
        None => {
            out!("{text}");
            Ok(Exit::Ok)
        }
        Some(path) if g.check => check_output(path, &text, &spec.command),
        Some(path) => write_output(&path, &text),
    }
}

/// What the file says: the job graph and how it was made, from the checked options.
fn spec(ctx: &Context, g: &Generate, engine: &str) -> Result<Spec, Error> {
    let Some(remote_cache) = g.remote.remote_cache.clone() else {
        return Err(UsageError::CiNeedsRemote.into());
    };
    // The keys are checked now; the file names them for every job.
    let trust: Vec<String> = g.remote.trusted()?.iter().map(|k| k.to_text()).collect();
    if trust.is_empty() {
        return Err(crate::remote::RemoteError::NoTrust.into());
    }
    // GitHub's file is made once and committed: it must not depend on what a cache holds.
    let remote = if engine == "gitlab" {
        &g.remote
    } else {
        &RemoteArgs::default()
    };
    let (jobs, apps) = jobs(ctx, &g.targets, remote)?;
    let arch = crate::arch::Arch::parse_list(&g.targets.arch)?
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(",");
    let names = if g.targets.all {
        Vec::new()
    } else {
        g.targets.names.clone()
    };
    let schedule = match g.schedule.as_str() {
        "none" => None,
        cron if ci::is_cron(cron) => Some(cron.to_string()),
        cron => {
            return Err(UsageError::BadSchedule {
                cron: cron.to_string(),
            }
            .into());
        }
    };
    let command = command_line(ctx, g, engine, &names, &arch, &remote_cache, &trust);
    let recipes_dir = (ctx.catalogue.dirs != [PathBuf::from("recipes")]).then(|| {
        std::env::join_paths(&ctx.catalogue.dirs)
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    Ok(Spec {
        recipes: recipes_dir,
        command,
        names,
        apps,
        arch,
        jobs,
        remote_cache,
        trust,
        image_repo: g.image_repo.clone(),
        setup: g.setup.clone(),
        insecure: g.remote.remote_cache_insecure,
        schedule: (engine == "github").then_some(schedule).flatten(),
        security_updates: g.security_updates,
    })
}

/// `--check`: whether the file at `path` is `text` already (failing when not, naming the
/// `command` that makes it).
fn check_output(path: PathBuf, text: &str, command: &str) -> Outcome {
    // A regular file, read no further than what would be written (and one byte more): a
    // device, a FIFO or a huge file is never read without end.
    let now = match crate::walk::read_capped(&path, text.len() as u64) {
        Ok(bytes) => bytes,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidData) => Vec::new(),
        Err(e) => {
            return Err(UsageError::Unreadable {
                path,
                reason: e.to_string(),
            }
            .into());
        }
    };
    if now == text.as_bytes() {
        outln!("{} is up to date", path.display());
        return Ok(Exit::Ok);
    }
    eprintln!(
        "{} is not what `{}` writes now: run it again and commit the file",
        path.display(),
        command
    );
    Ok(Exit::Failed)
}

/// Writes `text` to `path` (its folder made first).
fn write_output(path: &std::path::Path, text: &str) -> Outcome {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| UsageError::Output {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    crate::publish::write_file(path, text.as_bytes()).map_err(|source| UsageError::Output {
        path: path.to_path_buf(),
        source,
    })?;
    outln!("wrote {}", path.display());
    Ok(Exit::Ok)
}

/// How the file is made, as its header and `--check` name it: `recipe ... ci ENGINE ...` with
/// every option given, each value shell-quoted.
fn command_line(
    ctx: &Context,
    g: &Generate,
    engine: &str,
    names: &[String],
    arch: &str,
    remote_cache: &str,
    trust: &[String],
) -> String {
    let mut command = vec!["recipe".to_string()];
    if ctx.catalogue.dirs != [PathBuf::from("recipes")] {
        let dirs = std::env::join_paths(&ctx.catalogue.dirs).unwrap_or_default();
        command.extend(["--recipes".into(), ci::shell_word(&dirs.to_string_lossy())]);
    }
    command.extend(["ci".into(), engine.into()]);
    command.push(if names.is_empty() {
        "--all".into()
    } else {
        names
            .iter()
            .map(|n| ci::shell_word(n))
            .collect::<Vec<_>>()
            .join(" ")
    });
    command.extend(["--arch".into(), arch.to_string()]);
    command.extend(["--remote-cache".into(), ci::shell_word(remote_cache)]);
    for t in trust {
        command.extend(["--trust".into(), ci::shell_word(t)]);
    }
    if g.remote.remote_cache_insecure {
        command.push("--remote-cache-insecure".into());
    }
    if let Some(r) = &g.image_repo {
        command.extend(["--image-repo".into(), ci::shell_word(r)]);
    }
    for s in &g.setup {
        command.extend(["--setup".into(), ci::shell_word(s)]);
    }
    if g.schedule != ci::WEEKLY {
        command.extend(["--schedule".into(), ci::shell_word(&g.schedule)]);
    }
    if g.security_updates {
        command.push("--security-updates".into());
    }
    if let Some(o) = &g.output {
        command.extend(["--output".into(), ci::shell_word(&o.to_string_lossy())]);
    }
    command.join(" ")
}
