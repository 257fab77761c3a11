//! A job's files after its build: verified (and verified again when packed), and the records
//! of what packed files were before, for the image. Its smoke test is [`crate::smoke`]'s.

use std::collections::BTreeMap;
use std::path::Path;

use super::{PipelineError, Progress};
use crate::arch::Arch;
use crate::build::{self, AppFile};
use crate::cache::Cache;
use crate::plan;
use crate::recipe::{self, Recipe};
use crate::smoke::job::app_file;
use crate::verify;

/// What the cache entry of a packing node says its app files were before packing; a packed
/// file without a record (a `meta.json` rewritten without them) is an error, never an SBOM
/// that silently lacks its Go modules.
pub(super) fn packed_records(
    cache: &Cache,
    node: &plan::Node,
    files: &[AppFile],
) -> Result<Vec<build::compress::Packed>, PipelineError> {
    let unknown = |file: String, why: String| PipelineError::PackedUnknown {
        recipe: node.recipe.name.clone(),
        arch: node.arch,
        file,
        why,
    };
    let meta = cache.meta(&node.key).map_err(|why| {
        unknown(
            files
                .first()
                .map_or(String::new(), |f| f.image_path.clone()),
            why,
        )
    })?;
    for f in files {
        // Mapped, not read: only the packer's header at the start is looked at.
        let bytes = verify::read_file(&f.host_path).map_err(|source| PipelineError::Io {
            path: f.host_path.clone(),
            source,
        })?;
        if verify::is_upx_packed(&bytes) && !meta.packed.iter().any(|p| p.path == f.image_path) {
            return Err(unknown(
                f.image_path.clone(),
                "its cache entry's meta.json has no record of it (its Go modules and runtime \
                 files are unknown); build it again with `--rebuild`"
                    .into(),
            ));
        }
    }
    Ok(meta.packed)
}

/// Verifies every ELF file of a job against what its recipe asked for (arch, and for Go the
/// toolchain, cgo, tags and module), each parsed once; returns the report of each ELF app file
/// by image path: the job's record ([`verify::FileRecord`]) that packing and the image check
/// read instead of the bytes.
pub(super) fn check_files(
    r: &Recipe,
    job: &plan::Job,
    files: &[AppFile],
    go_version: Option<String>,
    cache: &std::path::Path,
    progress: &dyn Progress,
) -> Result<verify::Reports, PipelineError> {
    let id = format!("{}/{}", r.name, job.arch);
    let cache_path = cache.to_string_lossy();
    progress.step(&id, "verify");
    let go = go_expect(r, job.arch, go_version);
    let mut reports = verify::Reports::new();
    // Two app files may be one installed file (a link): it is parsed once.
    let mut by_host: BTreeMap<&Path, (String, verify::ElfReport)> = BTreeMap::new();
    for f in files {
        if let Some(known) = by_host.get(f.host_path.as_path()) {
            reports.insert(f.image_path.clone(), known.clone());
            continue;
        }
        let bytes = read(&f.host_path)?;
        let Some(report) = judge(&r.name, job.arch, &f.image_path, &bytes, go.as_ref())? else {
            continue; // data files are not executables
        };
        progress.note(&id, &format!("{}: {}", f.image_path, report.description));
        // The key says nothing of where the cache is: a file that records it differs between
        // machines whose caches are elsewhere (OpenSSL keeps its compiler command line).
        if memchr::memmem::find(&bytes, cache_path.as_bytes()).is_some() {
            progress.warn(
                &id,
                &format!(
                    "{} records the build cache's path `{}`: its bytes depend on where \
                     the cache is (machines sharing entries need the same cache path: docs/ci.md)",
                    f.image_path,
                    crate::text::path(cache)
                ),
            );
        }
        let go_warnings = go
            .as_ref()
            .map(|g| verify::go_findings(report.facts.as_ref(), g, Some(job.arch)))
            .unwrap_or_default();
        for w in report
            .findings
            .iter()
            .chain(&go_warnings)
            .filter(|f| f.severity == verify::Severity::Warning)
        {
            match r.accept.get(w.code.as_str()) {
                Some(why) => progress.note(
                    &id,
                    &format!("{}: accepted `{}`: {why}", f.image_path, w.code),
                ),
                None => progress.warn(&id, &format!("{}: {}", f.image_path, w.message)),
            }
        }
        let record = (crate::digest::sha256_hex(&bytes), report);
        by_host.insert(&f.host_path, record.clone());
        reports.insert(f.image_path.clone(), record);
    }
    Ok(reports)
}

/// The bytes of `path` (mapped).
fn read(path: &Path) -> Result<verify::FileBytes, PipelineError> {
    verify::read_file(path).map_err(|source| PipelineError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Judges one file of `recipe`'s image for `arch` as an app file: a launcher, a script (`#!`)
/// or an ELF that is not a static executable of the arch (and for Go, not what `go` asks of
/// its build info) fails verification; anything else is data (`Ok(None)`). App files, the
/// image's `[[image.file]]`s and the files of a reused entry that no record stands for all go
/// through it. The report is [`verify::check_elf`]'s for the arch alone (the record's form).
fn judge(
    recipe: &str,
    arch: Arch,
    file: &str,
    bytes: &[u8],
    go: Option<&verify::GoExpect>,
) -> Result<Option<verify::ElfReport>, PipelineError> {
    if crate::toolchain::cc::launcher::is_launcher(bytes) {
        return Err(failed(
            recipe,
            arch,
            file,
            format!(
                "  - not the program but a launcher that runs it under qemu-user: it was \
                 linked with `{}` set, which belongs on the configure command only",
                crate::toolchain::cc::launcher::ENV
            ),
        ));
    }
    if !bytes.starts_with(b"\x7fELF") && !bytes.starts_with(b"#!") {
        return Ok(None);
    }
    let report = verify::check_elf(bytes, Some(arch));
    judge_report(recipe, arch, file, &report, go)?;
    Ok(Some(report))
}

/// Fails verification when `report` (and, for Go, its build info against `go`) has an error.
fn judge_report(
    recipe: &str,
    arch: Arch,
    file: &str,
    report: &verify::ElfReport,
    go: Option<&verify::GoExpect>,
) -> Result<(), PipelineError> {
    let go_errors = go
        .map(|g| verify::go_findings(report.facts.as_ref(), g, Some(arch)))
        .unwrap_or_default();
    let errors: Vec<String> = report
        .errors()
        .chain(
            go_errors
                .iter()
                .filter(|f| f.severity == verify::Severity::Error),
        )
        .map(|f| format!("  - {}", f.message))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(failed(recipe, arch, file, errors.join("\n")))
    }
}

fn failed(recipe: &str, arch: Arch, file: &str, reasons: String) -> PipelineError {
    PipelineError::Verify {
        recipe: recipe.to_string(),
        arch,
        file: file.to_string(),
        reasons,
    }
}

/// The app files of a reused cache entry (made here before, or fetched from the remote cache),
/// judged again as when they were built, before anything packs them or signs them for a
/// remote cache, from the entry's records: that the tree matches `meta.json` says only that
/// neither changed alone, and both can be rewritten together, so a file whose bytes (by the
/// manifest just checked) are not those a record describes is judged from its bytes. A packed
/// file is judged as a static ELF of the arch (its Go build info is inside the packed data).
pub fn recheck_entry(
    node: &plan::Node,
    cache: &Cache,
    go_version: Option<String>,
) -> Result<(Vec<AppFile>, verify::Reports), PipelineError> {
    let r = &node.recipe;
    let dest = cache.entry(&node.key).dest();
    let files = build::app_files(r, node.arch, &dest)?;
    let meta = cache.meta(&node.key).ok();
    let records: BTreeMap<&str, &verify::ElfReport> = meta
        .iter()
        .flat_map(|m| &m.checked)
        .map(|c| (c.sha256.as_str(), &c.report))
        .collect();
    let manifest: BTreeMap<&str, &str> = meta
        .iter()
        .flat_map(|m| &m.files)
        .filter_map(|i| match &i.kind {
            crate::cache::manifest::Kind::File { sha256, .. } => {
                Some((i.path.as_str(), sha256.as_str()))
            }
            _ => None,
        })
        .collect();
    let go = go_expect(r, node.arch, go_version);
    let mut reports = verify::Reports::new();
    for f in &files {
        // Mapped, not parsed: only the packer's header at the start is looked at.
        let bytes = read(&f.host_path)?;
        let go = go.as_ref().filter(|_| !verify::is_upx_packed(&bytes));
        let sha = f
            .host_path
            .strip_prefix(&dest)
            .ok()
            .and_then(|rel| manifest.get(rel.to_string_lossy().as_ref()).copied());
        if let Some((sha, report)) = sha.and_then(|s| records.get(s).map(|r| (s, *r))) {
            judge_report(&r.name, node.arch, &f.image_path, report, go)?;
            reports.insert(f.image_path.clone(), (sha.to_string(), report.clone()));
            continue;
        }
        if let Some(report) = judge(&r.name, node.arch, &f.image_path, &bytes, go)? {
            reports.insert(
                f.image_path.clone(),
                (crate::digest::sha256_hex(&bytes), report),
            );
        }
    }
    Ok((files, reports))
}

/// The recipe's `[[image.file]]`s judged as app files of each arch the image has: a shell at
/// `/bin/sh`, a dynamic ELF or a script added beside the app is refused like an app file would
/// be, before anything is built.
pub(super) fn check_image_files(r: &Recipe, arches: &[Arch]) -> Result<(), PipelineError> {
    for &arch in arches {
        for f in &r.image.files {
            let bytes = f.contents.as_ref().map_or(&[][..], |c| &c.bytes[..]);
            judge(&r.name, arch, &f.to, bytes, None)?;
        }
    }
    Ok(())
}

/// Verifies the packed files again (a static ELF for the job's arch: the packer's own loader
/// is what runs now) and says how much each shrank; each packed file's report takes the place
/// of the unpacked one's in `reports` (for every app file that is that file). What is inside
/// was verified before packing.
pub(super) fn check_packed(
    r: &Recipe,
    job: &plan::Job,
    files: &[AppFile],
    packed: &[build::compress::Packed],
    reports: &mut verify::Reports,
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    let id = format!("{}/{}", r.name, job.arch);
    for p in packed {
        let f = app_file(files, &p.path).expect("a packed file is an app file");
        let bytes = read(&f.host_path)?;
        let report = verify::check_elf(&bytes, Some(job.arch));
        if !report.passed() {
            return Err(failed(
                &r.name,
                job.arch,
                &p.path,
                report
                    .errors()
                    .map(|f| format!("  - after packing with {}: {}", p.tool, f.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ));
        }
        let record = (crate::digest::sha256_hex(&bytes), report);
        for same in files.iter().filter(|g| g.host_path == f.host_path) {
            reports.insert(same.image_path.clone(), record.clone());
        }
        progress.note(
            &id,
            &format!(
                "{}: packed with {}: {} -> {} ({}%)",
                p.path,
                p.tool,
                crate::report::human_size(p.size),
                crate::report::human_size(p.packed_size),
                p.packed_size * 100 / p.size.max(1)
            ),
        );
    }
    Ok(())
}

/// What a Go recipe asked of the Go toolchain, for checking against the binary's build info.
fn go_expect(r: &Recipe, arch: Arch, go_version: Option<String>) -> Option<verify::GoExpect> {
    if r.build.system != recipe::System::Go {
        return None;
    }
    let o = r.build.options(arch);
    let mut tags = vec!["netgo".to_string(), "osusergo".to_string()];
    tags.extend(o.tags.iter().cloned());
    let module = match &r.source {
        recipe::Source::Archive { origins, .. } => origins.iter().find_map(|o| match o {
            recipe::Origin::GoModule { module, .. } => Some(module.clone()),
            _ => None,
        }),
        recipe::Source::Path(_) => None,
    };
    Some(verify::GoExpect {
        go_version,
        cgo: o.cgo,
        tags,
        module,
    })
}

/// `recipe check`'s verdict on the image just written at `layout`, every platform (the jobs'
/// records in `known` stand in for their ELF files): every executable in it must be
/// distroless-ready. One that is not (a shell or dlopen need the recipe does not accept, a
/// script, a runtime) fails the build, naming every reason, and the `[app] accept` line that
/// would allow the needs a recipe may accept (said to be not enough when another reason
/// remains). A shell script is a `shell` need, except as the entrypoint: the image could not
/// start, so no `accept` allows it.
pub(super) fn distroless(
    r: &Recipe,
    layout: &Path,
    known: crate::check::Known,
) -> Result<(), PipelineError> {
    let opts = crate::check::Options {
        known,
        ..Default::default()
    };
    let report =
        crate::check::check_path(layout, &opts).map_err(|e| PipelineError::NotDistroless {
            recipe: r.name.clone(),
            reasons: format!("  - `recipe check` cannot read it: {e}"),
            help: "the image was written by this build: please report this".into(),
        })?;
    // (file, need) -> the platforms it is found on; `codes`: the needs an `accept` allows.
    let mut needs: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut codes: Vec<&str> = Vec::new();
    // A reason no `accept` allows is found.
    let mut blocked = false;
    for p in &report.platforms {
        let platform = p.platform.clone().unwrap_or_default();
        if p.apps.is_empty() {
            blocked = true;
            needs
                .entry(("(entrypoint)".into(), "the image has nothing to run".into()))
                .or_default()
                .push(platform.clone());
        }
        // Another executable the check cannot read as a program (a data file with an
        // executable mode) is data to the build, as it is to [`judge`].
        let others = p
            .other_executables
            .iter()
            .filter(|a| a.verdict != crate::check::Verdict::Unreadable);
        let apps = p.apps.iter().map(|a| (a, true));
        for (app, entrypoint) in apps.chain(others.map(|a| (a, false))) {
            for (code, what) in app_needs(app, entrypoint, p.arch) {
                blocked |= code.is_none();
                if let Some(code) = code {
                    if r.accept.contains_key(code) {
                        continue; // a shell script, which the check does not know accepted
                    }
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
                needs
                    .entry((app.path.clone(), what))
                    .or_default()
                    .push(platform.clone());
            }
        }
    }
    if needs.is_empty() {
        return Ok(());
    }
    let reasons = needs
        .iter()
        .map(|((file, what), platforms)| {
            format!(
                "  - {} ({}): {what}",
                crate::text::Escaped(file),
                platforms.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Err(PipelineError::NotDistroless {
        recipe: r.name.clone(),
        reasons,
        help: accept_help(r, &codes, blocked),
    })
}

/// What keeps `app` (`entrypoint`: the image's, resolved) from being distroless-ready, each
/// with the `accept` code that allows it (`shell`, `dlopen`), if any: nothing when it is ready.
/// Besides the acceptable findings, what else stands in the way is there too: the verdict
/// `arch`'s check gives the app once they are accepted ([`verdict_without_acceptable`]).
fn app_needs(
    app: &crate::check::App,
    entrypoint: bool,
    arch: Option<Arch>,
) -> Vec<(Option<&'static str>, String)> {
    if app.verdict == crate::check::Verdict::DistrolessReady {
        return Vec::new();
    }
    // The verdict's summary of a script run by a shell (`script: needs a shell (sh)`).
    if app.summary.starts_with("script: needs a shell") {
        if entrypoint {
            return vec![(
                None,
                format!(
                    "{}, and it is the image's entrypoint: the image cannot start without \
                     /bin/sh, which a distroless image lacks (`accept = {{ shell = ... }}` \
                     does not allow that); the entrypoint must be a static executable",
                    app.summary
                ),
            )];
        }
        return vec![(Some("shell"), format!("`shell`: {}", app.summary))];
    }
    let mut needs: Vec<(Option<&'static str>, String)> = app
        .findings
        .iter()
        .filter_map(|f| {
            let code = acceptable(f.code.as_str())?;
            Some((Some(code), format!("`{code}`: {}", f.message)))
        })
        .collect();
    if needs.is_empty() {
        needs.push((None, app.summary.clone()));
    } else if let Some(rest) = verdict_without_acceptable(app, arch) {
        needs.push((None, rest));
    }
    needs
}

/// The `accept` code `code` is, if a recipe may accept it.
fn acceptable(code: &str) -> Option<&'static str> {
    recipe::ACCEPTABLE.iter().copied().find(|c| *c == code)
}

/// The summary of what keeps the ELF `app` from being distroless-ready once its acceptable
/// findings are accepted (a runtime, NSS, ...); None when nothing does, or it is no ELF.
fn verdict_without_acceptable(app: &crate::check::App, arch: Option<Arch>) -> Option<String> {
    let facts = app.facts.clone()?;
    let report = verify::ElfReport {
        arch,
        description: app.description.clone().unwrap_or_default(),
        findings: app
            .findings
            .iter()
            .filter(|f| acceptable(f.code.as_str()).is_none())
            .cloned()
            .collect(),
        facts: Some(facts),
    };
    let invoked = app.path.rsplit('/').next().unwrap_or(&app.path);
    let j = crate::check::judge(
        &crate::check::FileKind::Elf(Box::new(report)),
        invoked,
        arch,
    );
    (j.verdict != crate::check::Verdict::DistrolessReady).then_some(j.summary)
}

/// The `[app] accept` line that allows `codes` (the recipe's accepts kept), or what it takes
/// when nothing here can be accepted; `blocked`: another reason remains, which no `accept`
/// allows, so the line is said to be not enough.
fn accept_help(r: &Recipe, codes: &[&str], blocked: bool) -> String {
    const BUILD_WITHOUT: &str = "a distroless image has no shell, no dynamic loader and no \
                                 interpreter: build the app without what it needs \
                                 (docs/recipe-format.md)";
    if codes.is_empty() {
        return BUILD_WITHOUT.into();
    }
    let mut entries: Vec<String> = r
        .accept
        .iter()
        .map(|(code, why)| format!("{code} = {why:?}"))
        .collect();
    entries.extend(
        codes
            .iter()
            .map(|c| format!("{c} = \"WHY it does without\"")),
    );
    let line = format!("`accept = {{ {} }}`", entries.join(", "));
    if blocked {
        let codes: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        return format!(
            "{line} under `[app]` in {} would allow the {} need only, which is not enough: \
             the other reasons remain; {BUILD_WITHOUT}",
            crate::text::path(&r.file),
            codes.join(" and ")
        );
    }
    format!(
        "when the app does without it, say why in {}, under `[app]`: {line}",
        crate::text::path(&r.file),
    )
}
