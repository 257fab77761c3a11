//! `recipe cache ls`, `recipe cache gc` and `recipe cache push`.

use std::collections::BTreeSet;

use super::{Context, Outcome};
use crate::arch::Arch;
use crate::cache::{self, Cache};
use crate::error::Exit;
use crate::{pipeline, recipe, report};

#[derive(clap::Subcommand, Debug)]
pub enum Args {
    /// List the build cache's entries.
    Ls {
        /// Also list each entry's commands (patches, build steps, strip) with their wall and
        /// CPU time: where inside a job the time went.
        #[arg(long)]
        steps: bool,
    },
    /// Remove leftovers of interrupted runs and every entry no recipe of the catalogue would
    /// use now (for any arch); with --all, everything.
    Gc {
        #[arg(long)]
        all: bool,
    },
    /// Sign and push the local entries of a graph that the remote cache lacks (a machine that
    /// built Qt seeds the shared cache; a runner whose push failed pushes later).
    Push {
        #[command(flatten)]
        targets: super::Targets,
        #[command(flatten)]
        remote: super::RemoteArgs,
    },
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let store = Cache::new(&ctx.cache);
    match args {
        Args::Push { targets, remote } => return push(ctx, &targets, &remote),
        Args::Ls { steps } => {
            let entries = store.list();
            out!("{}", report::cache_table(&entries));
            if steps {
                out!("\n{}", report::cache_steps_table(&entries));
            }
        }
        Args::Gc { all } => {
            let keep = if all {
                BTreeSet::new()
            } else {
                planned_keys(ctx)?
            };
            let (n, bytes) = store.gc(&keep)?;
            outln!("removed {n} entries ({})", report::human_size(bytes));
            let (n, bytes) = cache::gc_work(&ctx.cache, &keep);
            outln!("removed {n} work folders ({})", report::human_size(bytes));
            // Partial downloads of killed runs: nothing reads them, an hour idle means dead.
            let sources =
                crate::source::Store::new(crate::cache::Layout::new(&ctx.cache).sources());
            let (n, bytes) = sources.gc_tmp(std::time::Duration::from_secs(3600));
            outln!(
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

/// `recipe cache push`: every local entry of the graph, checked against its manifest, that the
/// remote cache has no trusted entry for, signed and pushed.
fn push(ctx: &Context, targets: &super::Targets, remote: &super::RemoteArgs) -> Outcome {
    use crate::error::UsageError;
    let Some(remote) = remote.remote()? else {
        return Err(UsageError::PushNeedsRemote.into());
    };
    if !remote.pushes() {
        return Err(UsageError::PushNeedsKey.into());
    }
    let settings = ctx.settings(None);
    let (arches, recipes) = targets.load(&settings)?;
    let planned = pipeline::plan(&settings, &recipes, &arches)?;
    let store = Cache::new(&ctx.cache);
    let go_version = format!("go{}", planned.specs.go.version);
    let (mut pushed, mut there, mut absent, mut unsandboxed) = (0, 0, 0, 0);
    let mut refused = Vec::new();
    for node in &planned.graph.nodes {
        let id = node.id();
        let _lock = store.lock(&node.key)?;
        if node.action != crate::plan::Action::Reuse || store.verify(&node.key).is_err() {
            absent += 1; // not built here, or changed since: nothing to vouch for
            continue;
        }
        // What is signed is vouched for: its app files are judged again first.
        if let Err(e) = pipeline::recheck_entry(node, &store, Some(go_version.clone())) {
            eprintln!("{id}: not pushed: its entry fails verification");
            refused.push(e.into());
            continue;
        }
        match remote.lookup(&node.key) {
            Ok(Some(_)) => there += 1,
            found => {
                if let Err(why) = found {
                    eprintln!("{id}: the remote entry is refused ({why}): replacing it");
                }
                match remote.push(&store, &node.key, &id)? {
                    crate::remote::Pushed::Yes => {
                        eprintln!("{id}: pushed ({})", &node.key[..12]);
                        pushed += 1;
                    }
                    crate::remote::Pushed::Unsandboxed => {
                        eprintln!(
                            "{id}: built without the sandbox (--no-sandbox, or before it existed): never pushed"
                        );
                        unsandboxed += 1;
                    }
                }
            }
        }
    }
    let unsandboxed = if unsandboxed > 0 {
        format!(", {unsandboxed} built without the sandbox (not pushed)")
    } else {
        String::new()
    };
    outln!(
        "pushed {pushed} entries to {}, {there} already there, {absent} not in this cache{unsandboxed}{}",
        remote.at(),
        if refused.is_empty() {
            String::new()
        } else {
            format!(", {} refused", refused.len())
        }
    );
    crate::cli::first_error(refused)?;
    Ok(Exit::Ok)
}
