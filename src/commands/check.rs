//! `recipe check`: can each app of the targets go distroless? A verdict that is not ready is
//! exit 1; a target that cannot be read is bad input, exit 2.

use std::path::PathBuf;

use super::{Context, Outcome};
use crate::check;
use crate::error::Error;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true)]
    targets: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Only this platform of an image; the arch files must be for.
    #[arg(long)]
    arch: Option<String>,
}

pub fn run(_ctx: &Context, args: Args) -> Outcome {
    let opts = check::Options {
        arch: super::arch(args.arch.as_deref())?,
        ..Default::default()
    };
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for t in &args.targets {
        match check::check_path(t, &opts) {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(Error::from(e)),
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&check::render::json(&reports)).expect("json")
        );
    } else if !reports.is_empty() {
        print!("{}", check::render::human(&reports));
    }
    crate::cli::first_error(errors)?;
    Ok(super::verdict(
        reports.iter().all(check::Report::distroless_ready),
    ))
}
