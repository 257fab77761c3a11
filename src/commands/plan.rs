//! `recipe plan`: the job graph (recipe, arch, role, cache hit or miss and why), nothing built.

use super::{Context, Outcome};
use crate::error::Exit;
use crate::{pipeline, report};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true)]
    names: Vec<String>,
    #[arg(long, default_value = "amd64")]
    arch: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let arches = super::arches(&args.arch)?;
    let settings = ctx.settings(None);
    let recipes = pipeline::load_all(&settings, &args.names)?;
    let planned = pipeline::plan(&settings, &recipes, &arches)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report::plan_json(&planned.graph)).expect("json")
        );
    } else {
        print!("{}", report::plan_table(&planned.graph));
    }
    Ok(Exit::Ok)
}
