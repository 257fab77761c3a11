//! `recipe test`: the built image of the build machine's arch run in a container engine,
//! hardened (read-only, no capabilities, no new privileges, its own user), and sent the recipe's
//! smoke requests from outside (see `container`).

use std::path::PathBuf;
use std::time::Duration;

use super::{Context, Outcome};
use crate::error::{Exit, UsageError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recipes whose images to run.
    #[arg(required = true)]
    names: Vec<String>,
    /// Where `recipe build` wrote the images.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// The container engine: `podman` (default) or `docker`, or a path to one.
    #[arg(long, default_value = "podman")]
    engine: PathBuf,
    /// Seconds to wait for the app to answer (and for a client app to finish).
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let engine = crate::smoke::container::Engine {
        program: args.engine.clone(),
    };
    let host = crate::arch::Arch::host().unwrap_or(crate::arch::Arch::Amd64);
    for name in &args.names {
        let r = crate::recipe::load(&ctx.catalogue, name)?;
        let dir = args.out.join(&r.name);
        let archive = dir.join(format!("{}-{}.oci.tar", r.name, r.version));
        if !archive.is_file() {
            return Err(UsageError::NoImage {
                name: r.name.clone(),
                out: args.out.clone(),
            }
            .into());
        }
        let summary = crate::smoke::container::run(&crate::smoke::container::Inputs {
            recipe: &r,
            engine: &engine,
            archive: &archive,
            bin: &dir.join("bin").join(host.name()),
            timeout: Duration::from_secs(args.timeout.clamp(1, 3600)),
        })?;
        outln!("{}: {}", r.name, crate::text::escape(&summary.to_string()));
    }
    Ok(Exit::Ok)
}
