//! `recipe plan`: the job graph (recipe, arch, role, cache hit, remote hit or miss and why),
//! nothing built.

use super::{Context, Outcome};
use crate::error::Exit;
use crate::{pipeline, report};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    targets: super::Targets,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Plan as `recipe build --no-sandbox` builds: the steps name the real folders under the
    /// cache, and the keys carry the cache's path.
    #[arg(long)]
    no_sandbox: bool,
    #[command(flatten)]
    remote: super::RemoteArgs,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let settings = crate::pipeline::Settings {
        no_sandbox: args.no_sandbox,
        ..ctx.settings(None)
    };
    let (arches, recipes) = args.targets.load(&settings)?;
    let remote = args.remote.remote()?;
    let mut planned = pipeline::plan(&settings, &recipes, &arches)?;
    if let Some(remote) = remote {
        let progress = super::progress::Display::new(ctx.quiet);
        pipeline::find_remote(&mut planned.graph, &settings, &remote, &progress);
        progress.finish();
    }
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&report::plan_json(&planned.graph)).expect("json")
        );
    } else {
        out!("{}", report::plan_table(&planned.graph));
    }
    Ok(Exit::Ok)
}
