//! `make`: build and install with the wrappers on make's command line; the goals of each step
//! are the recipe's `make-targets` (default: the Makefile's default goal) and
//! `install-targets` (default `install`).

use super::Shared;
use crate::plan::{PREFIX, PlanError, Step};

pub(super) fn steps(b: &Shared) -> Result<Vec<Step>, PlanError> {
    let mut build = vec!["make".to_string()];
    build.extend(b.make_j.iter().cloned());
    build.extend(b.tool_args());
    build.extend(b.subst(&b.o.make_args)?);
    build.extend(b.make_targets());
    let mut install = vec!["make".to_string()];
    install.extend(b.install_targets());
    install.extend(b.tool_args());
    match &b.o.install_args {
        Some(a) => install.extend(b.subst(a)?),
        None => install.extend([format!("DESTDIR={}", b.dest), format!("PREFIX={PREFIX}")]),
    }
    Ok(vec![
        b.run("build", build, &b.env, &b.cwd),
        b.run("install", install, &b.env, &b.cwd),
    ])
}
