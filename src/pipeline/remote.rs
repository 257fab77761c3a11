//! The remote cache in a build: which missing jobs a trusted remote entry covers
//! ([`find_remote`]), fetching the ones needed here (the images' and builds' inputs, not
//! what only stands behind them), and pushing each new entry when the run pushes. A refused
//! entry (unsigned, another key's, nonsense from the registry) is a warning and a build.

use std::collections::{BTreeMap, BTreeSet};

use super::{PipelineError, Settings};
use crate::build;
use crate::cache::Cache;
use crate::plan;
use crate::progress::Progress;

/// Looks every node the local cache misses up in the remote cache, in parallel: those with a
/// trusted entry there are marked [`plan::Action::Remote`] (still misses here) and returned with what was
/// found. An entry that is there but refused (unsigned, untrusted, another key's, the registry
/// answering nonsense) is a warning with its reason.
pub fn find_remote(
    graph: &mut plan::Graph,
    settings: &Settings,
    remote: &crate::remote::Remote,
    progress: &dyn Progress,
) -> Vec<(usize, crate::remote::Found)> {
    let todo: Vec<usize> = (0..graph.nodes.len())
        .filter(|&i| graph.nodes[i].builds())
        .collect();
    let lookups =
        build::schedule::run_graph(&vec![Vec::new(); todo.len()], settings.jobs.max(1), |t| {
            let node = &graph.nodes[todo[t]];
            match remote.lookup(&node.key) {
                Ok(found) => Ok::<_, std::convert::Infallible>(found),
                Err(why) => {
                    refused(node, &why, progress);
                    Ok(None)
                }
            }
        });
    let Ok(lookups) = lookups;
    let mut found = Vec::new();
    for (t, f) in lookups.into_iter().enumerate() {
        if let Some(f) = f {
            let node = &mut graph.nodes[todo[t]];
            if let plan::Action::Build(why) = &node.action {
                node.action = plan::Action::Remote(why.clone());
            }
            found.push((todo[t], f));
        }
    }
    found
}

fn refused(node: &plan::Node, why: &str, progress: &dyn Progress) {
    progress.warn(
        &node.id(),
        &format!(
            "remote cache entry {} refused: {why}; building it",
            &node.key[..12]
        ),
    );
}

/// The nodes whose entries must be in the local cache: what the jobs that build stand on
/// (their dependencies and theirs, their host tools) and, when images are packed, the apps
/// and what their images include. The others may stay in the remote cache.
fn needed_here(graph: &plan::Graph, images: bool) -> std::collections::BTreeSet<usize> {
    let mut need = std::collections::BTreeSet::new();
    let mut stack: Vec<usize> = Vec::new();
    for n in graph.nodes.iter().filter(|n| n.builds()) {
        stack.extend(&n.deps);
        need.extend(&n.host_deps);
        // Its smoke test runs with the files of the recipes its image includes.
        need.extend(&n.image_parts);
    }
    while let Some(i) = stack.pop() {
        if need.insert(i) {
            stack.extend(&graph.nodes[i].deps);
        }
    }
    if images {
        for &r in &graph.roots {
            need.insert(r);
            need.extend(&graph.nodes[r].image_parts);
        }
        // The image's VEX reads the Debian record in the entry of every Debian-sourced
        // library an app links.
        let mut stack: Vec<usize> = graph.roots.clone();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                if graph.nodes[i]
                    .recipe
                    .debian
                    .as_ref()
                    .is_some_and(|d| d.is_debians())
                {
                    need.insert(i);
                }
                stack.extend(&graph.nodes[i].deps);
            }
        }
    }
    need
}

/// Fetches the trusted entries [`find_remote`] finds that are needed here ([`needed_here`])
/// into the local cache, in parallel: those nodes are hits now. One whose content is refused
/// (a layer changed or cut short, a tree that does not match its signed manifest) is a warning
/// with its reason and is built, and what it stands on is then fetched too.
pub(super) fn fetch_remote(
    graph: &mut plan::Graph,
    settings: &Settings,
    remote: &crate::remote::Remote,
    progress: &dyn Progress,
) -> Result<BTreeSet<usize>, PipelineError> {
    let mut fetched_here = BTreeSet::new();
    let mut found: BTreeMap<usize, crate::remote::Found> =
        find_remote(graph, settings, remote, progress)
            .into_iter()
            .collect();
    let cache = Cache::new(&settings.cache);
    loop {
        let need = needed_here(graph, !settings.no_image);
        let todo: Vec<(usize, crate::remote::Found)> = need
            .iter()
            .filter_map(|i| found.remove(i).map(|f| (*i, f)))
            .collect();
        if todo.is_empty() {
            return Ok(fetched_here);
        }
        let fetched =
            build::schedule::run_graph(&vec![Vec::new(); todo.len()], settings.jobs.max(1), |t| {
                let (i, f) = &todo[t];
                fetch_one(&graph.nodes[*i], f, remote, &cache, progress)
            })?;
        for ((i, _), hit) in todo.iter().zip(fetched) {
            let node = &mut graph.nodes[*i];
            if hit {
                fetched_here.insert(*i);
            }
            node.action = match (hit, &node.action) {
                (true, _) => plan::Action::Reuse,
                (false, plan::Action::Remote(why)) => plan::Action::Build(why.clone()),
                (false, other) => other.clone(),
            };
        }
    }
}

/// Fetches one node's entry under its lock; false when it was refused (said as a warning).
fn fetch_one(
    node: &plan::Node,
    f: &crate::remote::Found,
    remote: &crate::remote::Remote,
    cache: &Cache,
    progress: &dyn Progress,
) -> Result<bool, PipelineError> {
    let id = node.id();
    let _lock = cache.lock(&node.key)?;
    if cache.has(&node.key) {
        return Ok(true); // another `recipe` on this machine fetched or built it meanwhile
    }
    progress.step(&id, "remote cache");
    match remote.fetch(f, &node.key, &node.recipe.name, node.arch.name(), cache) {
        Ok(()) => {
            progress.note(
                &id,
                &format!(
                    "fetched from the remote cache ({}, {} bytes, signed by `{}`)",
                    &node.key[..12],
                    f.size(),
                    f.signer()
                ),
            );
            Ok(true)
        }
        Err(why) => {
            refused(node, &why, progress);
            Ok(false)
        }
    }
}

/// Pushes a new entry to the remote cache when the run pushes, saying what happened.
pub(super) fn push_entry(
    node: &plan::Node,
    cache: &Cache,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    let Some(remote) = settings.remote.as_deref().filter(|r| r.pushes()) else {
        return Ok(());
    };
    let id = node.id();
    let note = match remote.push(cache, &node.key, &id)? {
        crate::remote::Pushed::Yes => format!(
            "pushed to the remote cache {} ({})",
            remote.at(),
            &node.key[..12]
        ),
        crate::remote::Pushed::Unsandboxed => {
            "built with --no-sandbox: not pushed to the remote cache".to_string()
        }
    };
    progress.note(&id, &note);
    Ok(())
}
