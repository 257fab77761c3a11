//! `recipe cache ls` and `recipe cache gc`.

use std::collections::BTreeSet;

use super::{Context, Outcome};
use crate::arch::Arch;
use crate::cache::{self, Cache};
use crate::error::Exit;
use crate::{pipeline, recipe, report};

#[derive(clap::Subcommand, Debug)]
pub enum Args {
    /// List the build cache's entries.
    Ls,
    /// Remove leftovers of interrupted runs and every entry no recipe of the catalogue would
    /// use now (for any arch); with --all, everything.
    Gc {
        #[arg(long)]
        all: bool,
    },
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let store = Cache::new(&ctx.cache);
    match args {
        Args::Ls => print!("{}", report::cache_table(&store.list())),
        Args::Gc { all } => {
            let keep = if all {
                BTreeSet::new()
            } else {
                planned_keys(ctx)?
            };
            let (n, bytes) = store.gc(&keep)?;
            println!("removed {n} entries ({})", report::human_size(bytes));
            let (n, bytes) = cache::gc_work(&ctx.cache, &keep);
            println!("removed {n} work folders ({})", report::human_size(bytes));
            // Partial downloads of killed runs: nothing reads them, an hour idle means dead.
            let sources = crate::source::Store::new(ctx.cache.join("sources"));
            let (n, bytes) = sources.gc_tmp(std::time::Duration::from_secs(3600));
            println!(
                "removed {n} unfinished downloads ({})",
                report::human_size(bytes)
            );
        }
    }
    Ok(Exit::Ok)
}

/// The keys every valid recipe of the catalogue plans now, for every arch (an invalid recipe
/// keeps nothing).
fn planned_keys(ctx: &Context) -> Result<BTreeSet<String>, crate::error::Error> {
    let settings = ctx.settings(None);
    let recipes: Vec<_> = ctx
        .catalogue
        .names()
        .iter()
        .filter_map(|n| recipe::load(&ctx.catalogue, n).ok())
        .collect();
    let planned = pipeline::plan(&settings, &recipes, &Arch::ALL)?;
    Ok(planned.graph.nodes.iter().map(|n| n.key.clone()).collect())
}
