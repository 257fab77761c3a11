//! One job of the graph ([`run_node`]): reuse its entry after judging its files again, or
//! build, verify, compress, smoke-test and store it with what it says about itself
//! ([`entry_meta`]), then push it when the run pushes.

use super::check::{check_files, check_packed, recheck_entry};
use super::remote::push_entry;
use super::smoke::smoke;
use super::{PipelineError, Settings, included_files};
use crate::build::{self, AppFile, Tools};
use crate::cache::{self, Cache};
use crate::plan;
use crate::progress::{Finished, Progress};
use crate::source;

/// What a job's entry gives the images that hold it: its app files and the reports its
/// verification made of them (read from the entry's records on reuse, not from the bytes).
#[derive(Debug, Clone, Default)]
pub struct JobFiles {
    pub files: Vec<AppFile>,
    pub reports: crate::verify::Reports,
}

/// One node: reuse its cache entry after judging its app files again ([`recheck_entry`]), or
/// build, verify, smoke-test and store it; returns the entry's app files and their reports.
/// The key's lock is held throughout, so a second `recipe` waits and then reuses this one's
/// entry. `go_version` is the pinned Go's, which the entry's Go binaries record.
pub(super) fn run_node(
    node: &plan::Node,
    parts: &[&plan::Node],
    (tools, go_version): (&Tools, &str),
    store: &source::Store,
    cache: &Cache,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<(JobFiles, Finished), PipelineError> {
    let r = &node.recipe;
    let id = node.id();
    if let plan::Action::Remote(_) = node.action {
        // Nothing here stands on it: it stays in the remote cache.
        progress.step(&id, "in the remote cache");
        return Ok((JobFiles::default(), Finished::Remote));
    }
    let _lock = cache.lock(&node.key)?;
    let reuse = match &node.action {
        plan::Action::Reuse if !cache.has(&node.key) => {
            return Err(PipelineError::EntryGone {
                id,
                key: node.key[..12].to_string(),
            });
        }
        plan::Action::Reuse => true,
        // The one thing learned at run time: another `recipe` made the entry while this one
        // waited for the key's lock. `--rebuild` builds regardless.
        plan::Action::Build(why) => *why != plan::Miss::RebuildRequested && cache.has(&node.key),
        plan::Action::Remote(_) => unreachable!("returned above"),
    };
    if reuse {
        progress.step(&id, "cached");
        let (files, reports) = recheck_entry(node, cache, Some(go_version.to_string()))?;
        return Ok((JobFiles { files, reports }, Finished::Cached));
    }
    let started = std::time::Instant::now();
    let build::Built {
        files,
        debian,
        date,
        crates,
        cpu,
        steps,
    } = build::run_job(r, &node.job, tools, store, &settings.cache, progress)?;
    let go_version = tools.go.as_ref().map(|g| format!("go{}", g.version));
    let mut reports = check_files(r, &node.job, &files, go_version, &settings.cache, progress)?;
    let packed = if r.compress.is_some() {
        progress.step(&id, "compress");
        let packed = build::compress::compress(r, &node.job, &files, tools, &reports, progress)?;
        check_packed(r, &node.job, &files, &packed, &mut reports, progress)?;
        packed
    } else {
        Vec::new()
    };
    let mut extra = Vec::new();
    for p in parts {
        extra.extend(included_files(p, &settings.cache)?);
    }
    smoke(r, &node.job, (&files, &extra), &tools.sandbox, progress)?;
    let mut meta = entry_meta(node, (packed, debian), &reports, tools.sandbox.is_on());
    meta.seconds = Some(started.elapsed().as_secs());
    meta.cpu_millis = Some(cpu.as_millis() as u64);
    meta.steps = steps;
    meta.source_date = date;
    meta.crates = crates;
    cache.commit(&node.job.dest, &node.job.log, &meta)?;
    let _ = std::fs::remove_dir_all(&node.job.work);
    progress.note(
        &id,
        &format!("stored in the build cache ({})", &node.key[..12]),
    );
    push_entry(node, cache, settings, progress)?;
    let files = build::app_files(r, node.arch, &cache.entry(&node.key).dest())?;
    Ok((JobFiles { files, reports }, Finished::Built))
}

/// What a new entry says about itself: its inputs, what packing and Debian's part made, the
/// records of its verification, and whether its steps ran in the sandbox.
fn entry_meta(
    node: &plan::Node,
    (packed, debian): (Vec<build::compress::Packed>, Option<crate::debian::Applied>),
    reports: &crate::verify::Reports,
    sandbox: bool,
) -> cache::Meta {
    cache::Meta {
        recipe: node.recipe.name.clone(),
        version: node.recipe.version.clone(),
        arch: node.arch.name().to_string(),
        key: node.key.clone(),
        inputs: node.inputs.clone(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        size: cache::dir_size(&node.job.dest),
        seconds: None,
        cpu_millis: None,
        steps: Vec::new(),
        files: Vec::new(),
        packed,
        checked: reports
            .iter()
            .map(|(path, (sha256, report))| crate::verify::FileRecord {
                path: path.clone(),
                sha256: sha256.clone(),
                report: report.clone(),
            })
            .collect(),
        debian,
        sandbox,
        source_date: None,
        crates: Vec::new(),
    }
}
