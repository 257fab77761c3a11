//! `recipe toolchain`: provision the pinned zig (and its per-target wrappers), Go, UPX and Rust
//! into the cache, and say where they are.

use std::path::{Path, PathBuf};

use super::{Context, Outcome, progress::Display};
use crate::arch::Arch;
use crate::build::Progress;
use crate::error::{Error, Exit};
use crate::toolchain::{self, Specs};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print only the path of this toolchain's executable (`zig`, `go`, `upx` or `cargo`).
    #[arg(long, value_parser = ["zig", "go", "upx", "cargo"])]
    print: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let specs = Specs::load(
        std::env::var_os("RECIPE_TOOLCHAINS")
            .map(PathBuf::from)
            .as_deref(),
    )?;
    let print = args.print.as_deref();
    let progress = Display::new(ctx.quiet || print.is_some());
    if print.is_none() || print == Some("zig") {
        zig(&specs, &ctx.cache, print.is_some(), &progress)?;
    }
    if print.is_none() || print == Some("upx") {
        let upx = toolchain::upx::provision(&specs.upx, &ctx.cache, &mut |m: &str| {
            progress.note("upx", m)
        });
        match (upx, print) {
            (Ok(upx), Some(_)) => outln!("{}", upx.exe.display()),
            (Ok(upx), None) => outln!("upx {}: {}", upx.version, upx.exe.display()),
            (Err(e), Some(_)) => return Err(e.into()),
            // Only recipes with `[app] compress` need it: the others build without.
            (Err(e), None) => {
                progress.warn("upx", &format!("{e} (only `[app] compress` needs it)"))
            }
        }
    }
    if print.is_none() || print == Some("go") {
        let go = toolchain::provision_go(&specs.go, &ctx.cache)?;
        match print {
            Some(_) => outln!("{}", go.exe.display()),
            None => outln!(
                "go {}: {} (GOTOOLCHAIN=go{})",
                go.version,
                go.exe.display(),
                go.version
            ),
        }
    }
    if print.is_none() || print == Some("cargo") {
        rust(&specs, &ctx.cache, print.is_some(), &progress)?;
    }
    Ok(Exit::Ok)
}

/// The pinned Rust (Debian's packages, about 145 MB the first time): cargo's path, or its
/// version, path and the `LD_LIBRARY_PATH` it runs with. Only cargo recipes need it: without
/// `--print` a failure is a warning.
fn rust(specs: &Specs, cache: &Path, path_only: bool, progress: &Display) -> Result<(), Error> {
    let rust = crate::source::debian_mirror()
        .map_err(|e| toolchain::ToolchainError::Rust {
            version: specs.rust.version.clone(),
            reason: e.to_string(),
        })
        .and_then(|mirror| {
            toolchain::rust::provision_rust(&specs.rust, cache, &mirror, &mut |m: &str| {
                progress.note("rust", m)
            })
        });
    match (rust, path_only) {
        (Ok(r), true) => outln!("{}", r.cargo.display()),
        (Ok(r), false) => {
            let env: Vec<String> = r.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
            outln!(
                "rust {} (Debian {}): {} ({})",
                r.version,
                specs.rust.debian_version,
                r.cargo.display(),
                env.join(" ")
            )
        }
        (Err(e), true) => return Err(e.into()),
        (Err(e), false) => progress.warn("rust", &format!("{e} (only cargo recipes need it)")),
    }
    Ok(())
}

fn zig(specs: &Specs, cache: &Path, path_only: bool, progress: &Display) -> Result<(), Error> {
    let zig = toolchain::provision_zig(&specs.zig, cache, &mut |m: &str| progress.note("zig", m))?;
    // The per-target wrappers too, for use outside recipe (and by the benchmark).
    for arch in Arch::ALL {
        toolchain::wrappers::write(&zig, arch, cache, false)?;
    }
    if path_only {
        outln!("{}", zig.exe.display());
        return Ok(());
    }
    outln!("zig {}: {}", zig.version, zig.exe.display());
    for arch in Arch::ALL {
        let w = toolchain::wrappers::paths(cache, &zig.version, arch, false);
        outln!(
            "  {arch}: CC={} (wrappers in {})",
            w.cc.display(),
            w.dir.display()
        );
    }
    Ok(())
}
