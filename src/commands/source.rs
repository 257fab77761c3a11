//! `recipe source NAME DIR`: the tree a build of NAME starts from, fetched and unpacked into DIR
//! with Debian's part and the recipe's own patches applied (each a step in `DIR.log`), nothing
//! built: to read what the build compiles, or to write a patch against it.

use std::path::PathBuf;

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
        rust: None,
        jobserver: None,
        sandbox: if args.no_sandbox {
            crate::sandbox::Sandbox::Off
        } else {
            crate::sandbox::Sandbox::check().map_err(PipelineError::from)?
        },
    };
    let job = source_job(&r, work.path(), &dir, &log_path, tools.sandbox.is_on());
    // An unpacked tree to read needs no source date: a Go module the proxy cannot date still
    // unpacks (a build asks the proxy again).
    let store = crate::source::Store::new(crate::cache::Layout::new(&ctx.cache).sources())
        .with_explicit_date(true);
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
    if !job.patches.is_empty() {
        outln!("the recipe's own patches: {} applied", job.patches.len());
    }
    outln!("log: {}", crate::text::path(&log_path));
    Ok(Exit::Ok)
}

/// The job that unpacks and patches `r`'s source into `dir`, working in `work`: with the
/// sandbox, its patch steps see the scratch folder at /build and the tree at /build/src, as a
/// build's steps do.
fn source_job(
    r: &recipe::Recipe,
    work: &std::path::Path,
    dir: &std::path::Path,
    log: &std::path::Path,
    sandboxed: bool,
) -> crate::plan::Job {
    let folders = crate::cache::Work::at(work);
    let mount = |real: &std::path::Path, seen: &str| crate::plan::view::Mount {
        real: real.to_path_buf(),
        seen: seen.into(),
        writable: true,
    };
    let view = if sandboxed {
        crate::plan::View {
            fixed: true,
            mounts: vec![
                mount(work, crate::plan::view::BUILD),
                mount(dir, "/build/src"),
            ],
        }
    } else {
        crate::plan::View::as_is()
    };
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
        src: dir.to_path_buf(),
        dest: folders.dest(),
        log: log.to_path_buf(),
        patches: crate::plan::patch_steps(r, crate::arch::Arch::build_machine(), work, dir, &view),
        view,
        needs_zig: false,
        needs_go: false,
        steps: Vec::new(),
        strip: None,
    }
}
