//! A job's files after its build: verified (and verified again when packed), and the records
//! of what packed files were before, for the image. Its smoke test is [`crate::smoke`]'s.

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
