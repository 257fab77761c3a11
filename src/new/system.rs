//! The `[build]` part of a draft from the build system a source tree uses ([`Detected`]):
//! `system` and its options (make's overridden flags, libtool's `-all-static`, a script for a
//! tree that needs autoreconf or has a hand-written configure), and where the configure
//! switches of the libraries' table go.

use std::path::Path;

use super::{Detected, Draft};

/// Sets `system` and its options from the detected build system; returns the system's name
/// (for the table's switches) and the option key the switches go into.
pub(super) fn draft_build(
    d: &mut Draft,
    detected: Detected,
    tree: &Path,
) -> (&'static str, Option<&'static str>) {
    match detected {
        Detected::Make => draft_make(d, tree),
        Detected::Autotools => {
            d.system = "autotools".into();
            if tree.join("ltmain.sh").is_file() || tree.join("build-aux/ltmain.sh").is_file() {
                d.build_comment.push(
                    "libtool swallows -static: -all-static makes the programs static.".into(),
                );
                d.options
                    .push(("make-args".into(), vec!["LDFLAGS=-all-static".into()]));
                d.guesses
                    .push("make arguments LDFLAGS=-all-static (libtool)".into());
            }
            ("autotools", Some("configure-args"))
        }
        Detected::AutotoolsUngenerated => draft_autoreconf_script(d),
        Detected::HandWrittenConfigure => draft_configure_script(d),
        Detected::Meson => {
            d.system = "meson".into();
            ("meson", Some("meson-args"))
        }
        Detected::Cmake => {
            d.system = "cmake".into();
            ("cmake", Some("cmake-args"))
        }
        Detected::Go => {
            d.system = "go".into();
            d.checks.push(
                "build: the Debian source has a go.mod; `recipe new --go MODULE@VERSION` pins the module instead".into(),
            );
            ("go", None)
        }
    }
}

/// `make`: the flags the Makefile would override go on make's command line, and an install
/// into PREFIX when the Makefiles know no DESTDIR.
fn draft_make(d: &mut Draft, tree: &Path) -> (&'static str, Option<&'static str>) {
    d.system = "make".into();
    let facts = super::makefile_facts(tree);
    let mut flags = Vec::new();
    if facts.sets_cflags {
        flags.push("CFLAGS=-O2".to_string());
    }
    if facts.sets_ldflags {
        flags.push("LDFLAGS=-static".to_string());
    }
    if !flags.is_empty() {
        d.build_comment.push(
            "The Makefile sets CFLAGS/LDFLAGS itself, so they are given on make's command line."
                .into(),
        );
        d.guesses
            .push(format!("make arguments {}", flags.join(" ")));
        d.options.push(("make-args".into(), flags.clone()));
    }
    if !facts.knows_destdir {
        let mut install = flags;
        install.push("PREFIX=${DESTDIR}/usr/local".into());
        d.build_comment
            .push("The Makefiles know no DESTDIR: the install goes into PREFIX.".into());
        d.guesses
            .push("install with PREFIX=${DESTDIR}/usr/local (no DESTDIR in the Makefiles)".into());
        d.options.push(("install-args".into(), install));
    } else if !flags.is_empty() {
        let mut install = flags;
        install.extend(["PREFIX=/usr/local".into(), "DESTDIR=${DESTDIR}".into()]);
        d.options.push(("install-args".into(), install));
    }
    ("make", Some("make-args"))
}

/// An autotools tree without a generated `configure`: a script that runs autoreconf first.
fn draft_autoreconf_script(d: &mut Draft) -> (&'static str, Option<&'static str>) {
    d.system = "script".into();
    d.options.push((
        "script".into(),
        vec![
            "autoreconf -fi".into(),
            "./configure --host=${TRIPLE} --prefix=${PREFIX} --enable-static --disable-shared"
                .into(),
            "make -j${JOBS}".into(),
            "make install DESTDIR=${DESTDIR}".into(),
        ],
    ));
    d.checks.push(
        "build: the tarball has no generated configure; the script runs autoreconf, which the build machine must have".into(),
    );
    ("autotools", Some(SCRIPT_CONFIGURE))
}

/// A hand-written `configure` (no `--host`): a script, with the target left to the author.
fn draft_configure_script(d: &mut Draft) -> (&'static str, Option<&'static str>) {
    d.system = "script".into();
    d.build_comment.push(
        "configure is hand-written (not autoconf): it has no --host; for arm64/armv7 give it the target the way it takes it (per arch in [build.arch.NAME]).".into(),
    );
    d.options.push((
        "script".into(),
        vec![
            "./configure --prefix=${PREFIX}".into(),
            "make -j${JOBS}".into(),
            "make install DESTDIR=${DESTDIR}".into(),
        ],
    ));
    d.checks.push(
        "build: configure is hand-written (no --host): read `./configure --help` for how it takes the target before building arm64/armv7".into(),
    );
    ("script", Some(SCRIPT_CONFIGURE))
}

/// The pseudo option key whose switches are appended to a script's configure line.
const SCRIPT_CONFIGURE: &str = "script-configure";

pub(super) fn finish_script_switches(d: &mut Draft) {
    let Some(pos) = d.options.iter().position(|(k, _)| k == SCRIPT_CONFIGURE) else {
        return;
    };
    let (_, switches) = d.options.remove(pos);
    if let Some((_, lines)) = d.options.iter_mut().find(|(k, _)| k == "script")
        && let Some(line) = lines.iter_mut().find(|l| l.starts_with("./configure"))
    {
        for s in switches {
            line.push(' ');
            line.push_str(&s);
        }
    }
}
