//! `recipe update NAMES|--all [--security] [--to VERSION]`: rewrites the recipes' pins in place
//! (comments and layout kept), prints the old and new values, then what `recipe plan` will
//! rebuild. `--security` moves only Debian recipes with a pending security upload of their
//! release (what scheduled CI runs apply); with several recipes one's failure stops only it.

use super::{Context, Outcome};
use crate::error::Exit;
use crate::pins::{self, update};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pins: super::Pins,
    /// Only security updates: a Debian recipe moves to the newest version of a security suite
    /// of its release, when it is newer than the pin; other recipes are left as they are.
    #[arg(long, conflicts_with = "to")]
    security: bool,
    /// The version to pin (one recipe): a Debian version listed in a suite of the recipe's
    /// release, or a Go module version (default: the newest).
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// The arches the plan is shown for: amd64, arm64, armv7, a comma-separated list, or all.
    #[arg(long, default_value = "amd64")]
    arch: String,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let settings = ctx.settings(None);
    let arches = super::arches(&args.arch)?;
    let recipes = args.pins.recipes(&settings)?;
    if args.to.is_some() && recipes.len() != 1 {
        return Err(update::UpdateError::ToNeedsOne.into());
    }
    let quiet = ctx.quiet;
    let mut progress = |line: &str| {
        if !quiet {
            eprintln!("{}", crate::text::escape(line));
        }
    };
    let mut indexes = None;
    if recipes.iter().any(|r| r.debian.is_some()) {
        let s = crate::archive::Settings::from_env(&ctx.cache, args.pins.suites.as_deref())?;
        indexes = Some(crate::archive::Indexes::new(s));
    }
    let mut updated = Vec::new();
    let mut failed = Vec::new();
    for recipe in &recipes {
        let one = one(ctx, &args, recipe, indexes.as_mut(), &mut progress);
        match one {
            Ok(changed) if changed.is_empty() => {
                if recipes.len() == 1 || !args.security {
                    println!(
                        "{}: {}; nothing changed",
                        crate::text::escape(&recipe.name),
                        if args.security {
                            "no security update is pending"
                        } else {
                            "the pins are current"
                        }
                    );
                }
            }
            Ok(changed) => {
                print_changed(recipe, &changed);
                updated.push(recipe.name.clone());
            }
            // One recipe's failure (a file the mirror does not serve) stops only that one.
            Err(e) if recipes.len() > 1 => {
                eprintln!("{}", crate::cli::render(&e, false));
                failed.push(recipe.name.clone());
            }
            Err(e) => return Err(e),
        }
    }
    if !updated.is_empty() {
        // What the changed recipes mean for the build: the plan command's own code path.
        let recipes = crate::pipeline::load_all(&settings, &updated)?;
        let planned = crate::pipeline::plan(&settings, &recipes, &arches)?;
        println!();
        print!("{}", crate::report::plan_table(&planned.graph));
    }
    if !failed.is_empty() {
        return Err(update::UpdateError::SomeFailed { names: failed }.into());
    }
    Ok(Exit::Ok)
}

/// Updates one recipe as `args` ask: the pins it changed.
fn one(
    ctx: &Context,
    args: &Args,
    recipe: &crate::recipe::Recipe,
    indexes: Option<&mut crate::archive::Indexes>,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<update::Changed>, crate::error::Error> {
    if let (Some(d), Some(indexes)) = (&recipe.debian, indexes) {
        let to = match args.security {
            true => match update::security_target(d, indexes, progress)? {
                Some(v) => Some(v),
                None => return Ok(Vec::new()),
            },
            false => args.to.clone(),
        };
        return Ok(update::update_debian(
            recipe,
            d,
            to.as_deref(),
            indexes,
            &ctx.cache,
            progress,
        )?);
    }
    if args.security {
        return Ok(Vec::new());
    }
    if let Some((module, _)) = pins::go_module(recipe) {
        let toolchains = std::env::var_os("RECIPE_TOOLCHAINS").map(std::path::PathBuf::from);
        return Ok(update::update_go(
            recipe,
            module,
            args.to.as_deref(),
            &ctx.cache,
            toolchains.as_deref(),
            progress,
        )?);
    }
    Err(update::UpdateError::NotPinned {
        name: recipe.name.clone(),
    }
    .into())
}

fn print_changed(recipe: &crate::recipe::Recipe, changed: &[update::Changed]) {
    println!(
        "{}: {}",
        crate::text::escape(&recipe.name),
        crate::text::path(&recipe.file)
    );
    for c in changed {
        println!(
            "  {}: {} -> {}",
            c.key,
            crate::text::escape(&c.old),
            crate::text::escape(&c.new)
        );
    }
}
