//! `recipe update NAME [--to VERSION]`: rewrites the recipe's pins in place (comments and
//! layout kept), prints the old and new values, then what `recipe plan` will rebuild.

use super::{Context, Outcome};
use crate::error::Exit;
use crate::pins::{self, update};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recipe to update.
    name: String,
    /// The version to pin: a Debian version listed in a suite of the recipe's release, or a
    /// Go module version (default: the newest).
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// The Debian suites read (comma-separated; default `RECIPE_DEBIAN_SUITES` or bookworm,
    /// trixie with their -updates and -security).
    #[arg(long, value_name = "SUITES")]
    suites: Option<String>,
    /// The arches the plan is shown for: amd64, arm64, armv7, a comma-separated list, or all.
    #[arg(long, default_value = "amd64")]
    arch: String,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let settings = ctx.settings(None);
    let arches = super::arches(&args.arch)?;
    let recipe = crate::recipe::load(&settings.catalogue, &args.name)?;
    let quiet = ctx.quiet;
    let mut progress = |line: &str| {
        if !quiet {
            eprintln!("{}", crate::text::escape(line));
        }
    };
    let changed = if let Some(d) = &recipe.debian {
        let s = crate::archive::Settings::from_env(&ctx.cache, args.suites.as_deref())?;
        let mut indexes = crate::archive::Indexes::new(s);
        update::update_debian(
            &recipe,
            d,
            args.to.as_deref(),
            &mut indexes,
            &ctx.cache,
            &mut progress,
        )?
    } else if let Some((module, _)) = pins::go_module(&recipe) {
        let toolchains = std::env::var_os("RECIPE_TOOLCHAINS").map(std::path::PathBuf::from);
        update::update_go(
            &recipe,
            module,
            args.to.as_deref(),
            &ctx.cache,
            toolchains.as_deref(),
            &mut progress,
        )?
    } else {
        return Err(update::UpdateError::NotPinned {
            name: recipe.name.clone(),
        }
        .into());
    };
    if changed.is_empty() {
        println!(
            "{}: the pins are current; nothing changed",
            crate::text::escape(&recipe.name)
        );
        return Ok(Exit::Ok);
    }
    println!(
        "{}: {}",
        crate::text::escape(&recipe.name),
        crate::text::path(&recipe.file)
    );
    for c in &changed {
        println!(
            "  {}: {} -> {}",
            c.key,
            crate::text::escape(&c.old),
            crate::text::escape(&c.new)
        );
    }
    // What the changed recipe means for the build: the plan command's own code path.
    let recipes = crate::pipeline::load_all(&settings, std::slice::from_ref(&recipe.name))?;
    let planned = crate::pipeline::plan(&settings, &recipes, &arches)?;
    println!();
    print!("{}", crate::report::plan_table(&planned.graph));
    Ok(Exit::Ok)
}
