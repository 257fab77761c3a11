//! A job's files after its build: verified (and verified again when packed), smoke-tested
//! (the `--version`/client form and the service form), and the records of what packed files
//! were before, for the image.

use std::path::Path;
use std::time::Duration;

use super::{PipelineError, Progress};
use crate::arch::Arch;
use crate::build::{self, AppFile};
use crate::cache::Cache;
use crate::plan;
use crate::recipe::{self, Recipe};
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
/// toolchain, cgo, tags and module) and the files its image will hold; returns the runtime
/// files each one reads (what a packer keeps for the image's check).
pub(super) fn check_files(
    r: &Recipe,
    job: &plan::Job,
    files: &[AppFile],
    go_version: Option<String>,
    cache: &std::path::Path,
    progress: &dyn Progress,
) -> Result<build::compress::Verified, PipelineError> {
    let id = format!("{}/{}", r.name, job.arch);
    let cache_path = cache.to_string_lossy();
    progress.step(&id, "verify");
    let mut verified = build::compress::Verified::new();
    let expect = verify::Expect {
        arch: Some(job.arch),
        go: go_expect(r, job.arch, go_version),
        // The image's files are known when it is packed: `image_check` looks then.
        image_files: None,
    };
    for f in files {
        let bytes = read(&f.host_path)?;
        let Some(report) = judge(&r.name, job.arch, &f.image_path, &bytes, &expect)? else {
            continue; // data files are not executables
        };
        progress.note(&id, &format!("{}: {}", f.image_path, report.description));
        // The key says nothing of where the cache is: a file that records it differs between
        // machines whose caches are elsewhere (OpenSSL keeps its compiler command line).
        if memchr::memmem::find(&bytes, cache_path.as_bytes()).is_some() {
            progress.note(
                &id,
                &format!(
                    "warning: {} records the build cache's path `{}`: its bytes depend on where \
                     the cache is (machines sharing entries need the same cache path: docs/ci.md)",
                    f.image_path,
                    crate::text::path(cache)
                ),
            );
        }
        let runtime = report
            .facts
            .as_ref()
            .map(|facts| facts.runtime_files.iter().map(|r| r.path.clone()).collect());
        verified.insert(f.host_path.clone(), runtime.unwrap_or_default());
        for w in report
            .findings
            .iter()
            .filter(|f| f.severity == verify::Severity::Warning)
        {
            match r.accept.get(w.code.as_str()) {
                Some(why) => progress.note(
                    &id,
                    &format!("{}: accepted `{}`: {why}", f.image_path, w.code),
                ),
                None => progress.note(&id, &format!("warning: {}: {}", f.image_path, w.message)),
            }
        }
    }
    Ok(verified)
}

/// The bytes of `path` (mapped).
fn read(path: &Path) -> Result<verify::FileBytes, PipelineError> {
    verify::read_file(path).map_err(|source| PipelineError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Judges one file of `recipe`'s image for `arch` as an app file: a launcher, a script (`#!`)
/// or an ELF that is not what `expect` asks (a static executable of the arch, and for Go the
/// build info) fails verification; anything else is data (`Ok(None)`). App files, the image's
/// `[[image.file]]`s and the files of a reused cache entry all go through it.
fn judge(
    recipe: &str,
    arch: Arch,
    file: &str,
    bytes: &[u8],
    expect: &verify::Expect,
) -> Result<Option<verify::ElfReport>, PipelineError> {
    let failed = |reasons: String| PipelineError::Verify {
        recipe: recipe.to_string(),
        arch,
        file: file.to_string(),
        reasons,
    };
    if crate::toolchain::cc::launcher::is_launcher(bytes) {
        return Err(failed(format!(
            "  - not the program but a launcher that runs it under qemu-user: it was \
             linked with `{}` set, which belongs on the configure command only",
            crate::toolchain::cc::launcher::ENV
        )));
    }
    if !bytes.starts_with(b"\x7fELF") && !bytes.starts_with(b"#!") {
        return Ok(None);
    }
    let report = verify::check_elf_with(bytes, expect);
    if !report.passed() {
        return Err(failed(
            report
                .errors()
                .map(|f| format!("  - {}", f.message))
                .collect::<Vec<_>>()
                .join("\n"),
        ));
    }
    Ok(Some(report))
}

/// The app files of a reused cache entry (made here before, or fetched from the remote cache),
/// judged again as when they were built, before anything packs them or signs them for a
/// remote cache: that the tree matches `meta.json` says only that neither changed alone, and
/// both can be rewritten together. A packed file is judged as a static ELF of the arch (its Go
/// build info is inside the packed data).
pub fn recheck_entry(
    node: &plan::Node,
    cache_root: &Path,
    go_version: Option<String>,
) -> Result<Vec<AppFile>, PipelineError> {
    let r = &node.recipe;
    let dest = plan::graph::entry_dest(cache_root, &node.key);
    let files = build::app_files(r, node.arch, &dest)?;
    let go = go_expect(r, node.arch, go_version);
    for f in &files {
        let bytes = read(&f.host_path)?;
        let expect = verify::Expect {
            arch: Some(node.arch),
            go: go.clone().filter(|_| !verify::is_upx_packed(&bytes)),
            image_files: None,
        };
        judge(&r.name, node.arch, &f.image_path, &bytes, &expect)?;
    }
    Ok(files)
}

/// The recipe's `[[image.file]]`s judged as app files of each arch the image has: a shell at
/// `/bin/sh`, a dynamic ELF or a script added beside the app is refused like an app file would
/// be, before anything is built.
pub(super) fn check_image_files(r: &Recipe, arches: &[Arch]) -> Result<(), PipelineError> {
    for &arch in arches {
        let expect = verify::Expect {
            arch: Some(arch),
            go: None,
            image_files: None,
        };
        for f in &r.image.files {
            let bytes = f.contents.as_ref().map_or(&[][..], |c| &c.bytes[..]);
            judge(&r.name, arch, &f.to, bytes, &expect)?;
        }
    }
    Ok(())
}

/// Verifies the packed files again (a static ELF for the job's arch: the packer's own loader
/// is what runs now) and says how much each shrank. What is inside was verified before packing.
pub(super) fn check_packed(
    r: &Recipe,
    job: &plan::Job,
    files: &[AppFile],
    packed: &[build::compress::Packed],
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    let id = format!("{}/{}", r.name, job.arch);
    let expect = verify::Expect {
        arch: Some(job.arch),
        go: None,
        image_files: None,
    };
    for p in packed {
        let f = app_file(files, &p.path).expect("a packed file is an app file");
        let bytes = verify::read_file(&f.host_path).map_err(|source| PipelineError::Io {
            path: f.host_path.clone(),
            source,
        })?;
        let report = verify::check_elf_with(&bytes, &expect);
        if !report.passed() {
            return Err(PipelineError::Verify {
                recipe: r.name.clone(),
                arch: job.arch,
                file: p.path.clone(),
                reasons: report
                    .errors()
                    .map(|f| format!("  - after packing with {}: {}", p.tool, f.message))
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
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

/// The smoke test of a job's app files, in the image's sandbox ([`super::jail`]) unless the
/// sandbox is off; `extra` are the files of the recipes the image includes.
pub(super) fn smoke(
    r: &Recipe,
    job: &plan::Job,
    (files, extra): (&[AppFile], &[AppFile]),
    sandbox: &crate::sandbox::Sandbox,
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    let Some(s) = &r.smoke else { return Ok(()) };
    let id = format!("{}/{}", r.name, job.arch);
    progress.step(&id, "smoke");
    let program = &s.command[0];
    let file = app_file(files, program).ok_or_else(|| PipelineError::SmokeProgram {
        recipe: r.name.clone(),
        program: program.clone(),
    })?;
    let cwd = job.work.join("smoke");
    std::fs::create_dir_all(&cwd).map_err(|source| PipelineError::Io {
        path: cwd.clone(),
        source,
    })?;
    let jail = super::jail::jail(sandbox, r, job, files, extra)?;
    // Without the sandbox: the machine's PATH (the image's folders mean nothing here) and the
    // scratch folder as HOME unless `[smoke] env` names another, then the image's own
    // variables and `[smoke] env`.
    let host_env: Vec<(String, String)> = super::jail::smoke_env(r, extra)
        .into_iter()
        .filter(|(k, v)| k != "PATH" && !(k == "HOME" && v == super::jail::CWD))
        .collect();
    let (place, binary) = match &jail {
        Some(j) => (
            crate::smoke::Place::Image {
                jail: j,
                join: None,
            },
            Path::new(&file.image_path),
        ),
        None => (
            crate::smoke::Place::Host {
                cwd: &cwd,
                env: &host_env,
            },
            file.host_path.as_path(),
        ),
    };
    if let Some(service) = &s.service {
        return smoke_service(r, job, files, service, (place, binary), progress);
    }
    let run_err = |source| PipelineError::SmokeRun {
        recipe: r.name.clone(),
        source,
    };
    // A client app's server (`serve`): its port fills `{port}` in the files and arguments.
    let port = match s.serve {
        Some(recipe::Serve::Http) => Some(
            crate::smoke::service::free_port(recipe::Listen::Tcp)
                .map_err(|source| crate::smoke::SmokeError::Spawn {
                    command: "a free port on 127.0.0.1".into(),
                    source,
                })
                .map_err(run_err)?,
        ),
        None => None,
    };
    crate::smoke::service::write_files(&cwd, &s.file_bytes(), port.unwrap_or(0))
        .map_err(run_err)?;
    if let Some(j) = &jail {
        j.hand_over(&cwd).map_err(|source| PipelineError::Io {
            path: cwd.clone(),
            source,
        })?;
    }
    let args: Vec<String> = s.command[1..]
        .iter()
        .map(|a| match port {
            Some(p) => a.replace(recipe::PORT_PLACEHOLDER, &p.to_string()),
            None => a.clone(),
        })
        .collect();
    let timeout = Duration::from_secs(s.timeout_secs);
    let (outcome, asked) = match port {
        Some(port) => {
            let (o, asked) = crate::smoke::run_smoke_served(
                job.arch,
                binary,
                &args,
                &s.expect,
                place,
                timeout,
                port,
                s.file_bytes(),
            )
            .map_err(run_err)?;
            (o, Some(asked))
        }
        None => (
            crate::smoke::run_smoke(job.arch, binary, &args, &s.expect, place, timeout)
                .map_err(run_err)?,
            None,
        ),
    };
    if !outcome.passed {
        let mut how = match outcome.status {
            Some(c) => format!("exited with status {c} and its output lacks `{}`", s.expect),
            None => format!(
                "did not finish or was killed; its output lacks `{}`",
                s.expect
            ),
        };
        match asked.as_deref() {
            Some([]) => how.push_str("; the smoke test's HTTP server got no request"),
            Some(lines) => {
                how.push_str("; the smoke test's HTTP server got: ");
                how.push_str(&lines.join(", "));
            }
            None => {}
        }
        return Err(PipelineError::Smoke {
            recipe: r.name.clone(),
            arch: job.arch,
            command: outcome.command,
            outcome: how,
            output: outcome.output,
        });
    }
    let how = if jail.is_some() {
        " (in the image's sandbox, as its user)"
    } else {
        ""
    };
    progress.note(
        &id,
        &format!("smoke test passed: `{}`{how}", outcome.command),
    );
    Ok(())
}

/// The app file a smoke command names, by its path in the image or its file name.
fn app_file<'a>(files: &'a [AppFile], name: &str) -> Option<&'a AppFile> {
    files.iter().find(|f| {
        f.image_path == name
            || Path::new(&f.image_path)
                .file_name()
                .and_then(|n| n.to_str())
                == Some(name)
    })
}

/// The service form of the smoke test: the app runs in `smoke/` of the job's folder with the
/// recipe's smoke files beside it.
fn smoke_service(
    r: &Recipe,
    job: &plan::Job,
    files: &[AppFile],
    service: &recipe::Service,
    (place, binary): (crate::smoke::Place, &Path),
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    let s = r.smoke.as_ref().expect("a smoke test");
    // The files were read when the recipe was loaded (and are part of its key); the service
    // fills `{port}` in them itself, once it has chosen the port.
    let contents = s.file_bytes();
    let in_image = matches!(place, crate::smoke::Place::Image { .. });
    let program = |name: &str| {
        app_file(files, name).map(|f| match in_image {
            true => f.image_path.clone().into(),
            false => f.host_path.clone(),
        })
    };
    let run = crate::smoke::service::ServiceRun {
        arch: job.arch,
        binary,
        args: &s.command[1..],
        service,
        files: &contents,
        cwd: &job.work.join("smoke"),
        place,
        log: &job.work.join("smoke.log"),
        program: &program,
        timeout: Duration::from_secs(s.timeout_secs),
    };
    let outcome =
        crate::smoke::service::run_service(&run).map_err(|source| PipelineError::SmokeRun {
            recipe: r.name.clone(),
            source,
        })?;
    match outcome {
        Ok(summary) => {
            let id = format!("{}/{}", r.name, job.arch);
            let how = match place {
                crate::smoke::Place::Image { .. } => " (in the image's sandbox, as its user)",
                crate::smoke::Place::Host { .. } => "",
            };
            progress.note(&id, &format!("smoke test passed: {summary}{how}"));
            Ok(())
        }
        Err(failure) => Err(PipelineError::ServiceSmoke {
            recipe: r.name.clone(),
            arch: job.arch,
            failure: Box::new(failure),
        }),
    }
}
