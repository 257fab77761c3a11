//! `recipe outdated [NAMES|--all] [--json]`: each recipe's pin against what its origin offers
//! now (Debian suites' signed indexes, the Go module proxy) and the pinned Go and zig
//! toolchains; exit 1 when a security update is pending for a recipe (or a check failed).

use super::{Context, Outcome};
use crate::error::ExitCode;
use crate::pins::{self, Row, Verdict};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pins: super::Pins,
    /// Print JSON (every recipe, its pin, what each suite or registry has, the status).
    #[arg(long)]
    json: bool,
    /// Do not ask the Go module proxy and PyPI about the Go and zig toolchains.
    #[arg(long)]
    no_toolchains: bool,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let settings = ctx.settings(None);
    let recipes = args.pins.recipes(&settings)?;
    let quiet = ctx.quiet;
    let mut progress = |line: &str| {
        if !quiet {
            eprintln!("{}", crate::text::escape(line));
        }
    };
    let mut rows: Vec<Row> = Vec::new();
    let debian = recipes.iter().any(|r| r.debian.is_some());
    let mut indexes = None;
    if debian {
        let s = crate::archive::Settings::from_env(&ctx.cache, args.pins.suites.as_deref())?;
        let mut ix = crate::archive::Indexes::new(s);
        ix.all(&mut progress)?;
        indexes = Some(ix);
    }
    let go_needed = !args.no_toolchains || recipes.iter().any(|r| pins::go_module(r).is_some());
    let go = go_needed.then(|| go_exe(ctx)).flatten();
    let scratch = scratch(ctx)?;
    for r in &recipes {
        let row = if let (Some(d), Some(ix)) = (&r.debian, &mut indexes) {
            let all = ix.all(&mut progress)?;
            pins::debian_row(&r.name, d, &all)
        } else if let Some((module, pinned)) = pins::go_module(r) {
            progress(&format!("asking the Go module proxy about {module}"));
            let latest = match &go {
                Some(Ok(go)) => pins::latest::go_module(go, scratch.path(), module),
                Some(Err(e)) => Err(e.clone()),
                None => Err("no Go".into()),
            };
            pins::go_row(&r.name, module, pinned, latest)
        } else {
            pins::other_row(&r.name)
        };
        rows.push(row);
    }
    if !args.no_toolchains {
        rows.extend(toolchain_rows(go.as_ref(), scratch.path(), &mut progress)?);
    }
    let verdict = Verdict::of(&rows);
    if args.json {
        let json = serde_json::json!({
            "recipes": rows.iter().filter(|r| r.kind != "toolchain").collect::<Vec<_>>(),
            "toolchains": rows.iter().filter(|r| r.kind == "toolchain").collect::<Vec<_>>(),
            "security_pending": verdict.security_pending,
        });
        println!("{}", serde_json::to_string_pretty(&json).expect("json"));
    } else {
        print!("{}", pins::table(&rows));
    }
    Ok(verdict.exit())
}

/// The pinned Go's binary (provisioned), or why there is none.
fn go_exe(ctx: &Context) -> Option<Result<std::path::PathBuf, String>> {
    let toolchains = std::env::var_os("RECIPE_TOOLCHAINS").map(std::path::PathBuf::from);
    let specs = match crate::toolchain::spec::Specs::load(toolchains.as_deref()) {
        Ok(s) => s,
        Err(e) => return Some(Err(e.to_string())),
    };
    Some(
        crate::toolchain::provision_go(&specs.go, &ctx.cache)
            .map(|g| g.pinned)
            .map_err(|e| e.to_string()),
    )
}

fn scratch(ctx: &Context) -> Result<tempfile::TempDir, crate::error::Error> {
    let tmp = crate::cache::Layout::new(&ctx.cache).tmp();
    std::fs::create_dir_all(&tmp)
        .and_then(|_| {
            tempfile::Builder::new()
                .prefix("recipe-outdated-")
                .tempdir_in(&tmp)
        })
        .map_err(|source| crate::error::UsageError::Output { path: tmp, source }.into())
}

/// The Go and zig toolchain rows.
fn toolchain_rows(
    go: Option<&Result<std::path::PathBuf, String>>,
    scratch: &std::path::Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Row>, crate::error::Error> {
    let toolchains = std::env::var_os("RECIPE_TOOLCHAINS").map(std::path::PathBuf::from);
    let specs = crate::toolchain::spec::Specs::load(toolchains.as_deref())?;
    progress("asking the Go module proxy and PyPI about the toolchains");
    let go_latest = match go {
        Some(Ok(go)) => pins::latest::go_toolchains(go, scratch),
        Some(Err(e)) => Err(e.clone()),
        None => Err("no Go".into()),
    };
    Ok(vec![
        pins::go_toolchain_row(&specs.go.version, go_latest),
        pins::toolchain_row(
            "zig",
            "pypi",
            &specs.zig.version,
            pins::latest::zig(&specs.zig.pip.package),
        ),
    ])
}
