//! `recipe new`: a first recipe for an app, from a Debian source package (`debian.rs`), a Go
//! module (`gomod.rs`) or a crates.io crate (`crates.rs`). This file holds the pure parts: the build system read from an unpacked
//! source tree, the licence guessed from its licence file, the libraries a distro build links
//! mapped onto catalogue recipes and build switches (through [`crate::check::advice`]), and the
//! recipe text written from a [`Draft`], with what was guessed and what the user must check.

mod crates;
mod debian;
mod detect;
mod draft;
mod gomod;
mod system;

use std::path::{Path, PathBuf};

pub use crates::{CrateRequest, ENV_CRATES_INDEX, from_crate};
pub use debian::{DebianRequest, from_debian, upstream_version as upstream_version_of};
pub use detect::{Detected, MakefileFacts, detect, guess_license, license_of, makefile_facts};
pub use draft::{Draft, recipe_name, render, report, write};
pub use gomod::{GoRequest, from_go};

use crate::source::SourceError;

/// What can go wrong while writing a first recipe.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum NewError {
    #[error("`{}` already exists; `recipe new` does not overwrite a recipe", crate::text::path(.0))]
    Exists(PathBuf),

    #[error("invalid {what} `{}`: {why}", crate::text::escape(.value))]
    BadInput {
        what: &'static str,
        value: String,
        why: &'static str,
    },

    #[error(
        "no configured suite's signed index lists the source package `{}` at version `{}`{}",
        crate::text::escape(.package),
        crate::text::escape(.version),
        if .known.is_empty() { String::new() } else { format!(" (they list: {})", crate::text::escape(&.known.join(", "))) }
    )]
    #[diagnostic(help(
        "give the source package's name (tracker.debian.org/pkg/NAME) and one of its versions; \
         the suites read are `RECIPE_DEBIAN_SUITES` or `--suites`"
    ))]
    UnknownDebian {
        package: String,
        version: String,
        known: Vec<String>,
    },

    #[error("`{}` lists no upstream tarball (`*.orig.tar.*` or `*.tar.*`) for `{}`", crate::text::escape(.package), crate::text::escape(.version))]
    NoTarball { package: String, version: String },

    #[error("the Go module proxy has no `{}@{}`", crate::text::escape(.module), crate::text::escape(.version))]
    #[diagnostic(help(
        "check the module path (with its major version suffix, e.g. `/v2`) and the version tag"
    ))]
    UnknownModule {
        module: String,
        version: String,
        #[source]
        source: SourceError,
    },

    #[error(
        "crates.io's index has no crate `{}`{}{}",
        crate::text::escape(.krate),
        .version.as_ref().map(|v| format!(" at version `{}`", crate::text::escape(v))).unwrap_or_default(),
        if .known.is_empty() { String::new() } else { format!(" (its newest: {})", crate::text::escape(&.known.join(", "))) }
    )]
    #[diagnostic(help(
        "give the crate's name as crates.io spells it, and one of its versions (or none: the \
         newest that is neither a pre-release nor yanked); the index read is \
         `RECIPE_CRATES_INDEX` (default https://index.crates.io)"
    ))]
    UnknownCrate {
        krate: String,
        version: Option<String>,
        known: Vec<String>,
    },

    #[error("{url}:{line}: not a line of a crates.io sparse index: {reason}")]
    BadIndex {
        url: String,
        line: usize,
        reason: String,
    },

    #[error("{krate}.crate does not have the sha256 crates.io's index lists for it (`cksum`)")]
    #[diagnostic(help(
        "the index and the download host (`RECIPE_CRATES_URL`) disagree: nothing was kept; \
         check that both point at the same registry"
    ))]
    CrateChecksum {
        krate: String,
        #[source]
        source: SourceError,
    },

    #[error("{}: {}", crate::text::escape(.krate), crate::text::escape(.reason))]
    BadCrate { krate: String, reason: String },

    #[error("{}.crate holds no `Cargo.lock`: `system = \"cargo\"` builds `--locked`, from the crates its lock file pins", crate::text::escape(.0))]
    #[diagnostic(help(
        "binary crates on crates.io usually ship their Cargo.lock; for one that does not, pin \
         the project's release tarball that holds it (`[source] urls`), or add a Cargo.lock \
         with a patch"
    ))]
    NoCargoLock(String),

    #[error("{}.crate has no binary that cargo builds by default (no `[[bin]]`, `src/main.rs` or `src/bin/`): a library crate", crate::text::escape(.0))]
    #[diagnostic(help(
        "`recipe new --crate` drafts apps: name the crate of the program (often `NAME-cli` or \
         `NAME-server`)"
    ))]
    NoBinary(String),

    #[error("`{command}` failed: {detail}")]
    Tool { command: String, detail: String },

    #[error("no build system found in the source of `{}`: none of configure, configure.ac, CMakeLists.txt, meson.build, Makefile, go.mod", crate::text::escape(.0))]
    NoBuildSystem(String),

    #[error(transparent)]
    Source(#[from] SourceError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Archive(#[from] crate::archive::ArchiveError),

    #[error(transparent)]
    Toolchain(#[from] crate::toolchain::ToolchainError),

    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> NewError {
    let context = context.into();
    move |source| NewError::Io { context, source }
}

/// `<cache>/tmp`, created: where `recipe new` unpacks what it reads.
pub(crate) fn scratch(cache: &Path) -> Result<PathBuf, NewError> {
    let dir = crate::cache::Layout::new(cache).tmp();
    std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
    Ok(dir)
}

/// Unpacks `archive` (the first `strip` path components dropped) into a scratch folder of the
/// cache: the folder (removed when dropped) and the tree in it.
pub(crate) fn unpack(
    cache: &Path,
    archive: &Path,
    strip: usize,
) -> Result<(tempfile::TempDir, PathBuf), NewError> {
    let work = tempfile::Builder::new()
        .prefix("recipe-new-")
        .tempdir_in(scratch(cache)?)
        .map_err(io_err("creating a scratch folder"))?;
    let tree = work.path().join("src");
    crate::source::extract(archive, &tree, strip)?;
    Ok((work, tree))
}

/// Sets the draft's licence from the tree's licence file (a guess), or `NOASSERTION` with a
/// check; returns the identifier and the file it came from, when one was recognised.
pub(crate) fn license(d: &mut Draft, tree: &Path) -> Option<(String, String)> {
    match guess_license(tree) {
        Some((id, from)) => {
            d.license = id.clone();
            d.guesses.push(format!("license {id}, from {from}"));
            Some((id, from))
        }
        None => {
            d.license = "NOASSERTION".into();
            d.checks.push(
                "license: no licence file recognised; set the SPDX expression (`NOASSERTION` now)"
                    .into(),
            );
            None
        }
    }
}

/// What one library a distro build links means for the static recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// A catalogue recipe to depend on.
    Depend(String),
    /// Linked statically, but the catalogue has no recipe for it: the user must check.
    NoRecipe { library: String },
    /// An optional integration to build without: `switches` are build arguments to add (empty
    /// when the table gives none for this build system, or gives advice that is not
    /// arguments, e.g. dnsmasq's "leave -DHAVE_DBUS out of COPTS", its default).
    Without {
        what: String,
        switches: Vec<String>,
        advice: String,
    },
    /// Cannot be linked statically, or embeds a language runtime: the user must decide.
    Blocker { advice: String },
    /// libc (musl) or the compiler's runtime: nothing to do.
    Nothing,
    /// The table does not know it.
    Unknown(String),
}

/// Build arguments in a switch of the table: every word an option (`--without-x`, `-Dx=off`)
/// or a make variable (`USE_SYSTEMD=no`); free text is not arguments.
fn switch_args(switch: &str) -> Option<Vec<String>> {
    let words: Vec<String> = switch.split_whitespace().map(str::to_string).collect();
    let ok = !words.is_empty()
        && words.iter().all(|w| {
            w.starts_with('-')
                || w.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty() && k.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                })
        });
    ok.then_some(words)
}

/// The libraries (sonames from DT_NEEDED, then Debian package names from `Depends` for what
/// the sonames did not cover) mapped through the library table
/// ([`crate::check::advice`]): a program's own switch first (chronyd's `--without-seccomp`),
/// else the library's entry; each library once.
pub fn map_libraries(
    programs: &[String],
    sonames: &[String],
    packages: &[String],
    system: &str,
) -> Vec<Mapped> {
    use crate::check::advice;
    let mut out: Vec<Mapped> = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    for so in sonames {
        if let Some(ps) = programs.iter().find_map(|p| advice::program_switch(p, so)) {
            if let Some(lib) = advice::library(so) {
                seen.push(lib.name);
            }
            let m = Mapped::Without {
                what: ps.what.to_string(),
                switches: switch_args(ps.switch).unwrap_or_default(),
                advice: ps.switch.to_string(),
            };
            if !out.contains(&m) {
                out.push(m);
            }
            continue;
        }
        match advice::library(so) {
            Some(lib) => {
                if seen.contains(&lib.name) {
                    continue;
                }
                seen.push(lib.name);
                out.push(mapped(lib, system));
            }
            None => out.push(Mapped::Unknown(so.clone())),
        }
    }
    for pkg in packages {
        if let Some(lib) = advice::debian_package(pkg) {
            if seen.contains(&lib.name) {
                continue;
            }
            seen.push(lib.name);
            out.push(mapped(lib, system));
        } else if sonames.is_empty() && pkg.starts_with("lib") {
            // Other packages (`adduser`, `lsb-base`) are install-time glue.
            out.push(Mapped::Unknown(pkg.clone()));
        }
    }
    out
}

fn mapped(lib: &crate::check::advice::Library, system: &str) -> Mapped {
    use crate::check::advice::Action;
    match lib.action {
        Action::LinkStatic { recipe: Some(r) } => Mapped::Depend(r.to_string()),
        Action::LinkStatic { recipe: None } => Mapped::NoRecipe {
            library: lib.name.to_string(),
        },
        Action::BuildWithout { what, switches } => Mapped::Without {
            what: what.to_string(),
            switches: switches
                .iter()
                .find(|(sys, _)| *sys == system)
                .and_then(|(_, sw)| switch_args(sw))
                .unwrap_or_default(),
            advice: lib.advice(),
        },
        Action::NotStatic { .. } | Action::Embedded { .. } => Mapped::Blocker {
            advice: lib.advice(),
        },
        Action::Musl | Action::Toolchain => Mapped::Nothing,
    }
}

/// Adds the mapped libraries to a draft: `depends`, switches into the system's options, and
/// checks for what has no recipe or is unknown.
pub fn apply_mapping(d: &mut Draft, mapped: &[Mapped], switches_key: Option<&str>) {
    for m in mapped {
        match m {
            Mapped::Depend(r) => {
                if *r != d.name && !d.depends.contains(r) {
                    d.depends.push(r.clone());
                    d.guesses.push(format!(
                        "depends on `{r}`: the distro's build links it (drop it if the build does not need it)"
                    ));
                }
            }
            Mapped::NoRecipe { library } => d.checks.push(format!(
                "no catalogue recipe for {library}: the distro's build links it; write one and add it to `depends`, or build without it"
            )),
            Mapped::Without {
                what,
                switches,
                advice,
            } => {
                let Some(key) = switches_key.filter(|_| !switches.is_empty()) else {
                    d.guesses.push(format!(
                        "built without {what} (the table: {advice})"
                    ));
                    continue;
                };
                match d.options.iter_mut().find(|(k, _)| k == key) {
                    Some((_, v)) => {
                        for sw in switches {
                            if !v.contains(sw) {
                                v.push(sw.clone());
                            }
                        }
                    }
                    None => d.options.push((key.to_string(), switches.clone())),
                }
                d.guesses.push(format!(
                    "built without {what}: {} (the distro's build links it)",
                    switches.join(" ")
                ));
            }
            Mapped::Blocker { advice } => d.checks.push(advice.clone()),
            Mapped::Nothing => {}
            Mapped::Unknown(lib) => d.checks.push(format!(
                "no catalogue recipe for {lib}: the distro's build links it; if the build needs it, write a recipe and add it to `depends`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, t) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        }
        d
    }

    type Case<'a> = (&'a [(&'a str, &'a str)], Option<Detected>);

    #[test]
    fn build_systems_are_detected_from_the_tree() {
        let cases: &[Case] = &[
            (
                &[
                    (
                        "configure",
                        "#! /bin/sh\n# Generated by GNU Autoconf 2.71\n",
                    ),
                    ("CMakeLists.txt", ""),
                ],
                Some(Detected::Autotools),
            ),
            (
                &[("configure", "#!/bin/sh\n"), ("configure.ac", "AC_INIT")],
                Some(Detected::Autotools),
            ),
            (
                &[
                    ("configure", "#!/bin/sh\n# chrony's own\n"),
                    ("Makefile.in", ""),
                ],
                Some(Detected::HandWrittenConfigure),
            ),
            (
                &[("configure.ac", "AC_INIT"), ("Makefile.am", "")],
                Some(Detected::AutotoolsUngenerated),
            ),
            (
                &[("meson.build", ""), ("CMakeLists.txt", "")],
                Some(Detected::Meson),
            ),
            (
                &[("CMakeLists.txt", ""), ("Makefile", "")],
                Some(Detected::Cmake),
            ),
            (&[("Makefile", "all:\n")], Some(Detected::Make)),
            (
                &[("go.mod", "module x\n"), ("Makefile", "")],
                Some(Detected::Go),
            ),
            (&[("README", "")], None),
        ];
        for (files, want) in cases {
            let t = tree(files);
            assert_eq!(detect(t.path()), *want, "{files:?}");
        }
    }

    #[test]
    fn makefile_facts_find_fixed_flags_and_destdir() {
        let t = tree(&[
            (
                "Makefile",
                "PREFIX = /usr/local\nCFLAGS = -Wall -O2\nLDFLAGS =\nall:\n",
            ),
            ("src/Makefile", "install:\n\tcp x $(DESTDIR)$(PREFIX)/bin\n"),
        ]);
        assert_eq!(
            makefile_facts(t.path()),
            MakefileFacts {
                sets_cflags: true,
                sets_ldflags: true,
                knows_destdir: true
            }
        );
        let t = tree(&[
            ("Makefile", "CFLAGS ?= -O2\nLDFLAGS += -lm\n"),
            ("src/Makefile", "PREFIX?=/usr/local\n"),
        ]);
        assert_eq!(makefile_facts(t.path()), MakefileFacts::default());
    }

    #[test]
    fn licences_are_guessed_only_when_clear() {
        assert_eq!(
            license_of("GNU GENERAL PUBLIC LICENSE\nVersion 2, June 1991"),
            Some("GPL-2.0-or-later")
        );
        assert_eq!(
            license_of("The MIT License\n\nPermission is hereby granted, free of charge, to any"),
            Some("MIT")
        );
        assert_eq!(
            license_of("Redistribution and use in source and binary forms ... Neither the name"),
            Some("BSD-3-Clause")
        );
        assert_eq!(license_of("All rights reserved."), None);
        // The GPL's text names the Lesser GPL near its end: still the GPL.
        let gpl = format!(
            "GNU GENERAL PUBLIC LICENSE\nVersion 2, June 1991\n{}use the GNU Lesser General Public License",
            "x".repeat(1000)
        );
        assert_eq!(license_of(&gpl), Some("GPL-2.0-or-later"));
    }

    #[test]
    fn libraries_map_through_the_table() {
        let so = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let got = map_libraries(
            &so(&["chronyd", "chronyc"]),
            &so(&[
                "libc.so.6",
                "libseccomp.so.2",
                "libssl.so.3",
                "libgmp.so.10",
                "libfoo.so.1",
            ]),
            &so(&["adduser", "libgmp10", "zlib1g"]),
            "script",
        );
        assert_eq!(got[0], Mapped::Nothing);
        assert!(
            matches!(&got[1], Mapped::Without { switches, .. } if switches == &["--without-seccomp"]),
            "{got:?}"
        );
        assert_eq!(got[2], Mapped::Depend("openssl".into()));
        assert_eq!(
            got[3],
            Mapped::NoRecipe {
                library: "GMP".into()
            }
        );
        assert_eq!(got[4], Mapped::Unknown("libfoo.so.1".into()));
        // From Depends only what the sonames did not cover: zlib (GMP was seen).
        assert_eq!(got[5], Mapped::Depend("zlib".into()));
        assert_eq!(got.len(), 6);
        // Free-text advice is not arguments.
        assert_eq!(switch_args("leave -DHAVE_DBUS out of COPTS"), None);
        assert_eq!(
            switch_args("--disable-nts --without-gnutls"),
            Some(so(&["--disable-nts", "--without-gnutls"]))
        );
        assert_eq!(switch_args("USE_SYSTEMD=no"), Some(so(&["USE_SYSTEMD=no"])));
    }

    #[test]
    fn names_are_made_recipe_names() {
        assert_eq!(recipe_name("go-httpbin"), "go-httpbin");
        assert_eq!(recipe_name("Foo_Bar+x"), "foo_bar-x");
    }

    fn draft() -> Draft {
        Draft {
            name: "demo".into(),
            version: "1.0".into(),
            license: "MIT".into(),
            homepage: "https://example.invalid/demo".into(),
            description: "demo \"quoted\"".into(),
            source_comment: vec!["the bytes of demo_1.0.orig.tar.gz".into()],
            sha256: "1".repeat(64),
            note: "n".into(),
            origin_table: "source.debian".into(),
            origin_lines: vec![
                ("package".into(), "demo".into()),
                ("version".into(), "1.0-1".into()),
                ("release".into(), "bookworm".into()),
                ("file".into(), "demo_1.0.orig.tar.gz".into()),
                ("debian-file".into(), "demo_1.0-1.debian.tar.xz".into()),
                ("debian-sha256".into(), "3".repeat(64)),
            ],
            system: "make".into(),
            options: vec![("make-args".into(), vec!["LDFLAGS=-static".into()])],
            files: vec!["/usr/local/bin/demo".into()],
            smoke: Some((vec!["demo".into(), "--version".into()], "1.0".into())),
            ..Draft::default()
        }
    }

    /// A library draft has no `[app]`, `[smoke]` or `[image]`, and loads as a library.
    #[test]
    fn a_library_draft_loads_as_a_library() {
        let d = Draft {
            library: true,
            ..draft()
        };
        let text = draft::render(&d);
        for table in ["[app]", "[smoke]", "[image]"] {
            assert!(!text.lines().any(|l| l == table), "{text}");
        }
        let dir = tempfile::tempdir().unwrap();
        write(&d, dir.path()).unwrap();
        let cat = crate::recipe::Catalogue {
            dirs: vec![dir.path().to_path_buf()],
        };
        assert!(crate::recipe::load(&cat, "demo").unwrap().is_library());
    }

    #[test]
    fn the_written_text_is_a_recipe_the_loader_accepts() {
        let mut d = draft();
        apply_mapping(
            &mut d,
            &[
                Mapped::Depend("zlib".into()),
                Mapped::Depend("demo".into()),
                Mapped::Without {
                    what: "systemd".into(),
                    switches: vec!["USE_SYSTEMD=no".into()],
                    advice: String::new(),
                },
                Mapped::Unknown("libfoo.so.1".into()),
                Mapped::Nothing,
            ],
            Some("make-args"),
        );
        assert_eq!(d.depends, ["zlib"]);
        assert_eq!(d.options[0].1, ["LDFLAGS=-static", "USE_SYSTEMD=no"]);
        assert_eq!(d.checks.len(), 1);
        assert!(d.checks[0].contains("no catalogue recipe for libfoo.so.1"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("zlib.toml"),
            format!(
                "name = \"zlib\"\nversion = \"1\"\nlicense = \"Zlib\"\nhomepage = \"https://zlib.net\"\n\
                 [source]\nsha256 = \"{}\"\nurls = [\"https://example.invalid/z.tar.gz\"]\n\
                 [build]\nsystem = \"make\"\n",
                "2".repeat(64)
            ),
        )
        .unwrap();
        let path = write(&d, dir.path()).unwrap();
        let cat = crate::recipe::Catalogue {
            dirs: vec![dir.path().to_path_buf()],
        };
        let r = crate::recipe::load(&cat, "demo").unwrap();
        assert_eq!(r.app_files, ["/usr/local/bin/demo"]);
        assert!(matches!(write(&d, dir.path()), Err(NewError::Exists(p)) if p == path));
    }
}
