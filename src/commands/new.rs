//! `recipe new`: a first recipe for an app from a Debian source package, a Go module or a
//! crates.io crate,
//! written into the catalogue folder, with what was guessed and what to check.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{Context, Outcome};
use crate::error::Exit;
use crate::new::{self, CrateRequest, DebianRequest, GoRequest};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("origin").required(true).args(["debian", "go", "krate"])))]
pub struct Args {
    /// The Debian source package (with `--debian`), or the recipe's name (default: the
    /// binary's name with `--go`, the crate's with `--crate`).
    name: Option<String>,
    /// From Debian's source package NAME: at this exact version (e.g. `2.90-4~deb12u2`), or
    /// without one the newest of the newest release among the suites read.
    #[arg(long, value_name = "VERSION", requires = "name", num_args = 0..=1, default_missing_value = "")]
    debian: Option<String>,
    /// With `--debian`: the suites whose signed Sources indexes are read (comma-separated;
    /// default `RECIPE_DEBIAN_SUITES` or bookworm, trixie with their -updates and -security).
    #[arg(long, value_name = "SUITES", requires = "debian")]
    suites: Option<String>,
    /// With `--debian`: the binary package whose programs make the app (default: guessed).
    #[arg(long, value_name = "PACKAGE", requires = "debian")]
    binary: Option<String>,
    /// A Go module at a version: `MODULE@VERSION`, e.g.
    /// `github.com/mccutchen/go-httpbin/v2@v2.26.0`.
    #[arg(long, value_name = "MODULE@VERSION", conflicts_with = "debian")]
    go: Option<String>,
    /// A crate from crates.io: `NAME@VERSION`, or `NAME` for its newest release that is
    /// neither a pre-release nor yanked (from the sparse index, `RECIPE_CRATES_INDEX`).
    #[arg(long = "crate", value_name = "NAME[@VERSION]", conflicts_with_all = ["debian", "go"])]
    krate: Option<String>,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    // Where the recipe goes: the first catalogue folder.
    let dir = ctx
        .catalogue
        .dirs
        .first()
        .cloned()
        .unwrap_or_else(|| "recipes".into());
    let quiet = ctx.quiet;
    let mut progress = |line: &str| {
        if !quiet {
            eprintln!("{}", crate::text::escape(line));
        }
    };
    let draft = match (&args.debian, &args.go, &args.krate) {
        (Some(version), _, _) => {
            let package = args.name.clone().unwrap_or_default();
            // Refuse before any download.
            refuse_existing(&dir, &crate::new::recipe_name(&package))?;
            let settings = crate::archive::Settings::from_env(&ctx.cache, args.suites.as_deref())?;
            let mut indexes = crate::archive::Indexes::new(settings);
            new::from_debian(
                &DebianRequest {
                    package,
                    version: Some(version.clone()).filter(|v| !v.is_empty()),
                    binary: args.binary.clone(),
                },
                &mut indexes,
                &ctx.cache,
                &mut progress,
            )?
        }
        (None, Some(spec), _) => {
            let req = GoRequest::parse(spec, args.name.clone())?;
            if let Some(n) = &req.name {
                refuse_existing(&dir, n)?;
            }
            let toolchains = std::env::var_os("RECIPE_TOOLCHAINS").map(std::path::PathBuf::from);
            new::from_go(&req, &ctx.cache, toolchains.as_deref(), &mut progress)?
        }
        (None, None, Some(spec)) => {
            let req = CrateRequest::parse(spec, args.name.clone())?;
            refuse_existing(&dir, &req.recipe_name())?;
            new::from_crate(&req, &ctx.cache, &mut progress)?
        }
        (None, None, None) => unreachable!("clap requires --debian, --go or --crate"),
    };
    let path = new::write(&draft, &dir)?;
    out!(
        "{}",
        new::report(
            &draft,
            &path,
            &build_command(
                &draft.name,
                &ctx.catalogue.dirs,
                std::env::var_os("RECIPE_RECIPES")
            )
        )
    );
    Ok(Exit::Ok)
}

/// `recipe build NAME`, with `--recipes` when the catalogue is neither the default `recipes`
/// nor what `RECIPE_RECIPES` (`env`) names, so it works where `recipe new` ran.
fn build_command(name: &str, dirs: &[PathBuf], env: Option<OsString>) -> String {
    let mut c = format!("recipe build {}", crate::text::shell_word(name));
    let list = std::env::join_paths(dirs).unwrap_or_default();
    if dirs != [Path::new("recipes")] && env.as_ref() != Some(&list) {
        c.push_str(" --recipes ");
        c.push_str(&crate::text::shell_word(&list.to_string_lossy()));
    }
    c
}

fn refuse_existing(dir: &std::path::Path, name: &str) -> Result<(), new::NewError> {
    let path = dir.join(format!("{name}.toml"));
    if path.symlink_metadata().is_ok() {
        return Err(new::NewError::Exists(path));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_command_names_the_catalogue_only_when_it_must() {
        let dirs = |d: &str| vec![PathBuf::from(d)];
        assert_eq!(
            build_command("dnsmasq", &dirs("recipes"), None),
            "recipe build dnsmasq"
        );
        assert_eq!(
            build_command("dnsmasq", &dirs("/r/my recipes"), None),
            "recipe build dnsmasq --recipes '/r/my recipes'"
        );
        assert_eq!(
            build_command("dnsmasq", &dirs("/r"), Some("/r".into())),
            "recipe build dnsmasq"
        );
    }
}
