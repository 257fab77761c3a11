//! `recipe push`: a built image's layout to a registry, every digest unchanged.

use std::path::PathBuf;

use super::{Context, Outcome, progress::Display};
use crate::error::{Exit, UsageError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recipe whose image to push.
    name: String,
    /// Where to: `registry/repository[:tag]` (without a tag, the recipe's version).
    reference: String,
    /// Where `recipe build` wrote the image.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Plain http instead of https (a local registry without TLS).
    #[arg(long)]
    insecure: bool,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let layout = args.out.join(&args.name).join("oci");
    if !layout.join("index.json").is_file() {
        return Err(UsageError::NoImage {
            name: args.name,
            out: args.out,
        }
        .into());
    }
    let opts = crate::push::PushOptions {
        insecure: args.insecure,
        basic_auth: crate::registry::basic_auth_from_env()?,
    };
    let progress = Display::new(ctx.quiet);
    let pushed = crate::push::push(&layout, &args.reference, &opts, &progress);
    progress.finish();
    let pushed = pushed?;
    outln!(
        "pushed {}@{} ({} blobs uploaded, {} already there, {} manifests)",
        pushed.reference,
        pushed.digest,
        pushed.uploaded,
        pushed.present,
        pushed.manifests
    );
    Ok(Exit::Ok)
}
