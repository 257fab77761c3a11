//! `recipe build`: load, plan, build, verify, smoke-test and pack; then the table of images.

use std::path::PathBuf;

use super::{Context, Outcome, progress::Display};
use crate::error::{Error, Exit, UsageError};
use crate::pipeline::{self, Settings};
use crate::report;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    targets: super::Targets,
    /// Where images and binaries are written (`OUT/NAME/`).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Compile jobs in all, shared by the builds through a make jobserver (default: the
    /// number of cores); also how many builds run at once.
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Build every job again, replacing its cache entry (checks reproducibility).
    #[arg(long)]
    rebuild: bool,
    /// Also pack an image that runs as this user (`UID:GID` or `nobody`), from the same
    /// binaries: `OUT/NAME-UID-GID/`, tagged `VERSION-UID-GID`. Repeatable.
    #[arg(long = "user", value_name = "UID:GID")]
    users: Vec<String>,
    /// Also write the image as a BuildKit build context in DIR (Dockerfile and one folder
    /// per platform: linux/amd64, ...); one recipe only.
    #[arg(long, value_name = "DIR")]
    emit_context: Option<PathBuf>,
    /// Build, verify, smoke-test and store the jobs; pack no image (a CI runner's share of
    /// a graph, pushed to the remote cache).
    #[arg(long, conflicts_with_all = ["users", "emit_context"])]
    no_image: bool,
    /// Run the build steps without the sandbox (their own mount, PID, network, IPC and UTS
    /// namespaces), where namespaces cannot be made: recorded in the build log and the
    /// entry's `meta.json`; such entries are never pushed to a remote cache.
    #[arg(long)]
    no_sandbox: bool,
    /// The builder each image's SLSA provenance names (`runDetails.builder.id`, a URI); by
    /// default the CI's workflow (GitHub Actions, GitLab CI), else `urn:recipe:builder:local`.
    #[arg(long, env = "RECIPE_BUILDER_ID", value_name = "URI")]
    builder_id: Option<String>,
    #[command(flatten)]
    remote: super::RemoteArgs,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let arches = super::arches(&args.targets.arch)?;
    let users = args
        .users
        .iter()
        .map(|u| crate::recipe::user_option(u))
        .collect::<Result<Vec<_>, _>>()?;
    if args.emit_context.is_some() && (args.targets.all || args.targets.names.len() > 1) {
        return Err(UsageError::EmitContextNeedsOne.into());
    }
    let settings = Settings {
        out: std::path::absolute(&args.out).unwrap_or(args.out),
        rebuild: args.rebuild,
        users,
        emit_context: args.emit_context,
        remote: args.remote.remote()?,
        no_image: args.no_image,
        no_sandbox: args.no_sandbox,
        builder: crate::sign::provenance::BuilderInfo::from_process_env(args.builder_id.as_deref()),
        ..ctx.settings(args.jobs)
    };
    let recipes = args.targets.recipes(&settings)?;
    let progress = Display::new(ctx.quiet).verbose(ctx.verbose);
    let built = pipeline::build(&settings, &recipes, &arches, &progress);
    progress.finish();
    let built = built.map_err(Error::from)?;
    if settings.no_image {
        return Ok(Exit::Ok);
    }
    let rows: Vec<report::Row> = built
        .iter()
        .map(|b| report::Row::of(b, b.distroless))
        .collect();
    out!("{}", report::table(&rows));
    out!("{}", report::written(&built));
    Ok(Exit::Ok)
}
