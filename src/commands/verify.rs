//! `recipe verify`: is each file a fully static ELF executable (for an arch, if given)?
//! A file that fails is exit 1; a file that cannot be read is bad input, exit 2 (its row on
//! stdout says so too).

use std::path::PathBuf;

use super::{Context, Outcome};
use crate::error::{Error, UsageError};
use crate::{report, verify};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long)]
    arch: Option<String>,
    /// Print the findings and facts as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(_ctx: &Context, args: Args) -> Outcome {
    let expected = super::arch(args.arch.as_deref())?;
    let mut all_ok = true;
    let mut json = Vec::new();
    let mut unreadable = Vec::new();
    // Every file on every core (the slowest part of a large call is reading and scanning each
    // file); the rows come out in the order given.
    let checked: Vec<Result<verify::ElfReport, std::io::Error>> = {
        use rayon::prelude::*;
        args.paths
            .par_iter()
            .map(|p| verify::read_file(p).map(|bytes| verify::check_elf(&bytes, expected)))
            .collect()
    };
    for (p, checked) in args.paths.iter().zip(checked) {
        let checked = checked.map_err(|e| {
            unreadable.push(UsageError::Unreadable {
                path: p.clone(),
                reason: e.to_string(),
            });
            e.to_string()
        });
        all_ok &= checked.as_ref().is_ok_and(|r| r.passed());
        if args.json {
            json.push(report::verify_json(p, &checked));
        } else {
            out!("{}", report::verify_text(p, &checked));
        }
    }
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json).expect("JSON serialises")
        );
    }
    crate::cli::first_error(unreadable.into_iter().map(Error::from))?;
    Ok(super::verdict(all_ok))
}
