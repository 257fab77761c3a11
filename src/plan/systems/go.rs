//! `go`: `go build` for the arch's Go environment, cgo through the zig wrappers: one command
//! for the packages whose binaries go names itself (into `bin/`), and one per package the recipe
//! names the binary of (`-o bin/NAME`).

use super::Shared;
use crate::plan::{PREFIX, PlanError, Step};

pub(super) fn steps(b: &Shared) -> Result<Vec<Step>, PlanError> {
    let s = |x: &str| x.to_string();
    let mut env = b.env.clone();
    env.remove("CC");
    env.remove("CXX");
    for (k, v) in &b.ctx.go_env {
        env.insert(k.clone(), b.l.view.seen_text(v));
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
    let go_build = |out: String| {
        vec![
            s("go"),
            s("build"),
            s("-trimpath"),
            format!("-p={}", b.jobs),
            format!("-tags={}", tags.join(",")),
            format!("-ldflags={}", ldflags.join(" ")),
            s("-o"),
            out,
        ]
    };
    let bin = format!("{}{PREFIX}/bin/", b.dest);
    let mut unnamed = Vec::new();
    let mut named = Vec::new();
    for p in &b.o.packages {
        let path = super::substitute(&p.path, &b.vars)?;
        match &p.name {
            Some(name) => named.push((name, path)),
            None => unnamed.push(path),
        }
    }
    let mut steps = Vec::new();
    if b.o.packages.is_empty() {
        let mut build = go_build(bin.clone());
        build.push(s("."));
        steps.push(b.run("build", build, &env, &b.cwd));
    } else if !unnamed.is_empty() {
        let mut build = go_build(bin.clone());
        build.extend(unnamed);
        steps.push(b.run("build", build, &env, &b.cwd));
    }
    for (name, path) in named {
        let mut build = go_build(format!("{bin}{name}"));
        build.push(path);
        steps.push(b.run(&format!("build {name}"), build, &env, &b.cwd));
    }
    Ok(steps)
}
