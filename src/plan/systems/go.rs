//! `go`: one `go build` for the arch's Go environment, cgo through the zig wrappers.

use super::Shared;
use crate::plan::{PREFIX, PlanError, Step};

pub(super) fn steps(b: &Shared) -> Result<Vec<Step>, PlanError> {
    let s = |x: &str| x.to_string();
    let mut env = b.env.clone();
    env.remove("CC");
    env.remove("CXX");
    for (k, v) in &b.ctx.go_env {
        env.insert(k.clone(), v.clone());
    }
    for (k, v) in b.arch.go_env() {
        env.insert(k.into(), v.into());
    }
    let mut ldflags = vec![s("-s"), s("-w")];
    if b.o.cgo {
        env.insert("CGO_ENABLED".into(), "1".into());
        env.insert("CC".into(), b.w.cc.display().to_string());
        env.insert("CXX".into(), b.w.cxx.display().to_string());
        env.insert("CGO_CFLAGS".into(), b.cflags.join(" "));
        ldflags.extend([
            s("-linkmode"),
            s("external"),
            s("-extldflags"),
            s("-static"),
        ]);
    } else {
        env.insert("CGO_ENABLED".into(), "0".into());
    }
    ldflags.extend(b.subst(&b.o.go_ldflags)?);
    let mut tags = vec![s("netgo"), s("osusergo")];
    tags.extend(b.o.tags.iter().cloned());
    let mut build = vec![
        s("go"),
        s("build"),
        s("-trimpath"),
        format!("-p={}", b.jobs),
        format!("-tags={}", tags.join(",")),
        format!("-ldflags={}", ldflags.join(" ")),
        s("-o"),
        format!("{}{PREFIX}/bin/", b.dest),
    ];
    if b.o.packages.is_empty() {
        build.push(s("."));
    } else {
        build.extend(b.subst(&b.o.packages)?);
    }
    Ok(vec![b.run("build", build, &env, &b.cwd)])
}
