//! `recipe source NAME DIR`: the tree a build of NAME starts from, fetched and unpacked into DIR
//! with Debian's part and the recipe's own patches applied (each a step in `DIR.log`), nothing
//! built: to read what the build compiles, or to write a patch against it.

use std::path::{Path, PathBuf};

use super::{Context, Outcome};
use crate::error::{Exit, UsageError};
use crate::pipeline::PipelineError;
use crate::{build, recipe};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recipe.
    name: String,
    /// A folder that does not exist yet (or is empty); its log is written beside it (`DIR.log`).
    dir: PathBuf,
    /// Apply the patches without the sandbox (see `recipe build --no-sandbox`).
    #[arg(long)]
    no_sandbox: bool,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let r = recipe::load(&ctx.catalogue, &args.name)?;
    let dir = std::path::absolute(&args.dir).unwrap_or(args.dir.clone());
    if std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) || dir.is_file() {
        return Err(UsageError::NotEmpty { path: dir }.into());
    }
    let work = tempfile::Builder::new()
        .prefix(".recipe-source-")
        .tempdir_in(dir.parent().unwrap_or(&dir))
        .map_err(|e| UsageError::Unreadable {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
    let mut log_name = dir.file_name().unwrap_or_default().to_os_string();
    log_name.push(".log");
    let log_path = dir.with_file_name(log_name);
    let mut job = patch_job(&r, work.path(), &dir, &log_path);
    let io = |what, path: &PathBuf| {
        let path = path.clone();
        move |e: std::io::Error| UsageError::Unreadable {
            path,
            reason: format!("{what}: {e}"),
        }
    };
    std::fs::create_dir_all(&dir).map_err(io("cannot create it", &dir))?;
    let mut log = std::fs::File::create(&log_path).map_err(io("cannot create", &log_path))?;
    let tools = build::Tools {
        zig: None,
        go: None,
        meson: None,
        upx: None,
        jobserver: None,
        sandbox: if args.no_sandbox {
            crate::sandbox::Sandbox::Off
        } else {
            crate::sandbox::Sandbox::check().map_err(PipelineError::from)?
        },
    };
    if tools.sandbox.is_on() {
        // The patch steps see the scratch folder at /build and the tree at /build/src, as a
        // build's steps do.
        let mount = |real: &std::path::Path, seen: &str| crate::plan::view::Mount {
            real: real.to_path_buf(),
            seen: seen.into(),
            writable: true,
        };
        job.view = crate::plan::View {
            fixed: true,
            mounts: vec![
                mount(&job.work, crate::plan::view::BUILD),
                mount(&dir, "/build/src"),
            ],
        };
    }
    let store = crate::source::Store::new(crate::cache::Layout::new(&ctx.cache).sources());
    let progress = super::progress::Display::new(ctx.quiet);
    let id = r.name.clone();
    let applied = build::unpack_source(&r, &job, &store, &mut log, &tools, &progress, &id)
        .map_err(PipelineError::from);
    progress.finish();
    let applied = applied?;
    outln!(
        "{}: the source of {} {}",
        crate::text::path(&dir),
        r.name,
        r.version
    );
    if let Some(a) = applied {
        outln!(
            "debian {} {}: {} patches applied, {} left out",
            a.package,
            a.version,
            a.patches.len(),
            a.left_out.len()
        );
    }
    if !r.patches.is_empty() {
        outln!("the recipe's own patches: {} applied", r.patches.len());
    }
    outln!("log: {}", crate::text::path(&log_path));
    Ok(Exit::Ok)
}

/// The job that applies `r`'s patches to its source in `src`: in the throwaway folder `work`
/// (laid out as a cache work folder), on the build machine, logging to `log`.
fn patch_job(r: &recipe::Recipe, work: &Path, src: &Path, log: &Path) -> crate::plan::Job {
    let folders = crate::cache::Work::at(work);
    crate::plan::Job {
        recipe: r.name.clone(),
        arch: crate::arch::Arch::build_machine(),
        system: r.build.system,
        key: String::new(),
        sysroot_from: Vec::new(),
        sysroot: folders.sysroot(),
        host_sysroot_from: Vec::new(),
        host_sysroot: folders.host_sysroot(),
        work: work.to_path_buf(),
        src: src.to_path_buf(),
        dest: folders.dest(),
        log: log.to_path_buf(),
        view: crate::plan::View::as_is(),
        needs_zig: false,
        needs_go: false,
        steps: Vec::new(),
    }
}
