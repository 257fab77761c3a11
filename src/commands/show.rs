//! `recipe show`: what a recipe says, validated.

use super::{Context, Outcome};
use crate::error::Exit;
use crate::recipe::{self, Origin, Recipe, Source};
use crate::text;

#[derive(clap::Args, Debug)]
pub struct Args {
    name: String,
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let r = recipe::load(&ctx.catalogue, &args.name)?;
    out!("{}", show(&r));
    if let Some(deb) = &r.debian {
        out!("{}", debian(ctx, deb));
    }
    Ok(Exit::Ok)
}

/// The series a build applies, each patch with the CVE ids it names, the left-out ones with
/// their reasons, and the CVE ids the image may state fixed.
fn applied(a: &crate::debian::Applied) -> String {
    let format = serde_json::to_value(a.format).expect("json");
    let mut s = format!(
        "  series    {}: {} applied, {} left out\n",
        format.as_str().unwrap_or(""),
        a.patches.len(),
        a.left_out.len()
    );
    let cves = |c: &[String]| match c.len() {
        0 => String::new(),
        _ => format!(" ({})", c.join(", ")),
    };
    for p in &a.patches {
        s.push_str(&format!(
            "  patch     {}{}\n",
            text::escape(&p.name),
            cves(&p.cves)
        ));
    }
    for l in &a.left_out {
        s.push_str(&format!(
            "  left out  {}: {}{}\n",
            text::escape(&l.name),
            text::escape(&l.reason),
            cves(&l.cves)
        ));
    }
    let fixed = a.fixed();
    s.push_str(&format!(
        "  fixes     {} CVEs (stated fixed in the image's VEX)\n",
        fixed.len()
    ));
    s
}

/// `[source.debian]`'s package and Debian's part, with its patch series as the fetched file
/// lists it (each left-out patch with its reason); a series that cannot be fetched is said so,
/// and the rest of `show` stands.
fn debian(ctx: &Context, deb: &recipe::DebianPackage) -> String {
    let mut s = format!(
        "debian:     {} {} ({})\n",
        deb.package, deb.version, deb.release
    );
    let Some(changes) = &deb.changes else {
        s.push_str(&match &deb.unpatched {
            Some(why) => format!("  unpatched {}\n", text::escape(why)),
            None => "  native    (no patch series)\n".into(),
        });
        return s;
    };
    s.push_str(&format!(
        "  part      {} (sha256 {})\n",
        changes.file,
        &changes.sha256[..16]
    ));
    let store = crate::source::Store::new(crate::cache::Layout::new(&ctx.cache).sources());
    let scratch = match tempfile::Builder::new().prefix("show-").tempdir() {
        Ok(t) => t,
        Err(e) => return s + &format!("  series    (cannot make a scratch folder: {e})\n"),
    };
    match crate::build::debian::describe(deb, &store, scratch.path()) {
        Ok(Some(a)) => s.push_str(&applied(&a)),
        Ok(None) => {}
        Err(e) => s.push_str(&format!(
            "  series    (cannot be read: {})\n",
            text::escape(&e.to_string())
        )),
    }
    s
}

fn show(r: &Recipe) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "name:       {}\nversion:    {}\nlicense:    {}\nhomepage:   {}\n",
        r.name,
        r.version,
        text::escape(&r.license),
        text::escape(&r.homepage)
    ));
    s.push_str(&format!("file:       {}\n", text::path(&r.file)));
    if let Some(c) = &r.cpe {
        let name = crate::sbom::cpe23(&c.vendor, &c.product, &r.version)
            .unwrap_or_else(|| format!("{}:{} (the version has no CPE form)", c.vendor, c.product));
        s.push_str(&format!("cpe:        {}\n", text::escape(&name)));
    }
    if let Some(a) = &r.arches {
        let names: Vec<&str> = a.list.iter().map(|a| a.name()).collect();
        s.push_str(&format!("arches:     {}\n", names.join(", ")));
    }
    s.push_str(&source(&r.source));
    for p in &r.patches {
        let sha = p.contents.as_ref().map_or("", |c| c.sha256.as_str());
        let only = p.arches.as_ref().map_or(String::new(), |a| {
            let names: Vec<&str> = a.list.iter().map(|a| a.name()).collect();
            format!(" for {} only", names.join(", "))
        });
        s.push_str(&format!(
            "  patch     {} (sha256 {}){only}\n",
            text::escape(&p.path),
            &sha[..sha.len().min(16)]
        ));
    }
    s.push_str(&format!("build:      {}\n", r.build.system.name()));
    s.push_str(&build_options(&r.build.common, "  "));
    for (a, o) in &r.build.per_arch {
        s.push_str(&format!("  override  {a}\n"));
        s.push_str(&build_options(o, "    "));
    }
    if r.is_library() {
        s.push_str("app files:  none: a library (headers and archives for the recipes that depend on it; no image)\n");
        return s;
    }
    s.push_str(&format!("app files:  {}\n", r.app_files.join(", ")));
    if let Some(c) = r.compress {
        s.push_str(&format!(
            "compress:   {} (verified, then packed; the packed files are smoke-tested)\n",
            c.as_str()
        ));
    }
    if let Some(sm) = &r.smoke {
        s.push_str(&smoke(sm));
    }
    s.push_str(&format!("entrypoint: {}\n", r.image.entrypoint.join(" ")));
    s.push_str(&format!(
        "user:       {}:{} ({})\n",
        r.image.user.uid, r.image.user.gid, r.image.user.name
    ));
    if !r.image.ports.is_empty() {
        s.push_str(&format!("ports:      {}\n", r.image.ports.join(", ")));
    }
    if !r.image.volumes.is_empty() {
        s.push_str(&format!("volumes:    {}\n", r.image.volumes.join(", ")));
    }
    s
}

/// A line per build option `o` sets, in the order of the recipe format's `[build]` table,
/// each list as words (quoted only when one holds a space or a quote); an `env` variable, a
/// Go package and a `script` line each a line of its own. Options left at their default are
/// not shown; a goal list set empty is `(none)`.
fn build_options(o: &recipe::Options, indent: &str) -> String {
    let words = |v: &[String]| -> String {
        let quoted: Vec<String> = v.iter().map(|w| word(w)).collect();
        quoted.join(" ")
    };
    let list = |v: &[String]| (!v.is_empty()).then(|| words(v));
    let set = |v: &Option<Vec<String>>| {
        v.as_ref().map(|v| match v.is_empty() {
            true => "(none)".to_string(),
            false => words(v),
        })
    };
    let mut lines: Vec<(&str, String)> = Vec::new();
    lines.extend(
        o.env
            .iter()
            .map(|(k, v)| ("env", format!("{k}={}", word(v)))),
    );
    let singles = [
        ("cflags", list(&o.cflags)),
        ("ldflags", list(&o.ldflags)),
        ("subdir", o.subdir.as_deref().map(word)),
        ("make-args", list(&o.make_args)),
        ("install-args", set(&o.install_args)),
        ("make-targets", set(&o.make_targets)),
        ("install-targets", set(&o.install_targets)),
        ("configure-args", list(&o.configure_args)),
        ("cmake-args", list(&o.cmake_args)),
        ("meson-args", list(&o.meson_args)),
    ];
    lines.extend(singles.into_iter().filter_map(|(k, v)| Some((k, v?))));
    lines.extend(o.packages.iter().map(|p| {
        let name = p.name.as_ref().map(|n| format!(" (binary {n})"));
        (
            "packages",
            format!("{}{}", p.path, name.unwrap_or_default()),
        )
    }));
    let go = [
        ("tags", list(&o.tags)),
        ("go-ldflags", list(&o.go_ldflags)),
        ("cgo", o.cgo.then(|| "true".to_string())),
        ("bins", list(&o.bins)),
        ("features", list(&o.features)),
        (
            "no-default-features",
            o.no_default_features.then(|| "true".to_string()),
        ),
    ];
    lines.extend(go.into_iter().filter_map(|(k, v)| Some((k, v?))));
    lines.extend(o.script.iter().map(|l| ("script", l.clone())));
    if o.autoreconf {
        lines.push(("autoreconf", "true".into()));
    }
    if o.run_target_programs {
        lines.push(("run-target-programs", "true".into()));
    }
    if let Some(opt) = o.optimize {
        lines.push(("optimize", opt.name().into()));
    }
    if let Some(lto) = o.lto {
        lines.push(("lto", lto.to_string()));
    }
    lines
        .into_iter()
        .map(|(k, v)| format!("{indent}{k:<19} {}\n", text::escape(&v)))
        .collect()
}

/// One word of a list option as the recipe gives it: quoted (as a shell word) only when it
/// would not read as one word, so `${DESTDIR}` stays as written.
fn word(w: &str) -> String {
    let plain = !w.is_empty()
        && !w
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\'));
    match plain {
        true => w.to_string(),
        false => text::shell_word(w),
    }
}

/// The `smoke:` line, and a line per served file or service request.
fn smoke(sm: &crate::recipe::Smoke) -> String {
    use crate::recipe::Request;
    let command = text::escape(&sm.command.join(" ")).into_owned();
    let mut s = match &sm.service {
        None => format!(
            "smoke:      {command} (expects `{}`)\n",
            text::escape(&sm.expect)
        ),
        Some(svc) => format!(
            "smoke:      {command} (a service on {} {{port}}, stopped within {} s)\n",
            match svc.listen {
                crate::recipe::Listen::Tcp => "tcp",
                crate::recipe::Listen::Udp => "udp",
            },
            svc.stop_grace_secs
        ),
    };
    if sm.serve.is_some() {
        s.push_str("  serves    http on {port}\n");
    }
    for f in &sm.files {
        s.push_str(&format!("  file      {}\n", text::escape(&f.path)));
    }
    for (k, v) in &sm.env {
        s.push_str(&format!(
            "  env       {}={}\n",
            text::escape(k),
            text::escape(v)
        ));
    }
    for step in sm.service.iter().flat_map(|svc| &svc.requests) {
        let line = match &step.request {
            Request::Tcp { send, expect } => {
                use crate::recipe::rules::escape_bytes;
                format!(
                    "tcp \"{}\" expects \"{}\"",
                    escape_bytes(send),
                    escape_bytes(expect)
                )
            }
            Request::Http {
                method,
                path,
                status,
                body,
                form,
            } => match form {
                Some(f) => format!("http {method} {path} form {f:?} -> {status} {body:?}"),
                None => format!("http {method} {path} -> {status} {body:?}"),
            },
            Request::Dns {
                name,
                kind,
                address,
            } => format!("dns {name} {kind:?} -> {address}"),
            Request::Run {
                argv,
                expect,
                status,
            } => {
                let mut line = format!("run {}", argv.join(" "));
                if let Some(code) = status {
                    line.push_str(&format!(" exits {code}"));
                }
                if status.is_none() || !expect.is_empty() {
                    line.push_str(&format!(" expects {expect:?}"));
                }
                line
            }
            Request::Output { pattern, names } => match names.is_empty() {
                true => format!("output /{pattern}/"),
                false => format!(
                    "output /{pattern}/ captures {}",
                    names
                        .iter()
                        .map(|n| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            },
        };
        let wait = if step.wait {
            " (again until it passes)"
        } else {
            ""
        };
        s.push_str(&format!("  request   {}{wait}\n", text::escape(&line)));
    }
    s
}

/// The `source:` line and a `from` line per origin.
fn source(source: &Source) -> String {
    let (sha256, origins, strip) = match source {
        Source::Path(p) => return format!("source:     path {}\n", text::path(p)),
        Source::Archive {
            sha256,
            origins,
            strip,
        } => (sha256, origins, strip),
    };
    let mut s = format!("source:     sha256 {sha256} (strip {strip})\n");
    for o in origins {
        let text = match o {
            Origin::Url(u) => text::escape(u).into_owned(),
            Origin::Debian {
                package,
                version,
                file,
            } => format!("debian {package}={version} file {file}"),
            Origin::GoModule { module, version } => format!("go module {module}@{version}"),
            Origin::Pypi {
                package,
                version,
                file,
            } => format!("pypi {package}=={version} file {file}"),
            Origin::Crate { name, version } => format!("crate {name}@{version}"),
        };
        s.push_str(&format!("  from      {text}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::build_options;
    use crate::recipe::{GoPackage, Optimize, Options};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_option_set_is_shown_in_the_reference_order() {
        let o = Options {
            env: [("CC_OPT".to_string(), "-O1 -g".to_string())].into(),
            cflags: strings(&["-O3"]),
            ldflags: strings(&["-Wl,--gc-sections"]),
            subdir: Some("src".into()),
            configure_args: strings(&["--disable-nls", "--with-x=no"]),
            make_args: strings(&["V=1"]),
            install_args: Some(Vec::new()),
            make_targets: Some(strings(&["app", "tool"])),
            install_targets: Some(strings(&["install-app"])),
            cmake_args: strings(&["-DX=ON"]),
            meson_args: strings(&["-Dy=false"]),
            packages: vec![
                GoPackage {
                    path: "./cmd/a".into(),
                    name: None,
                },
                GoPackage {
                    path: "./cmd/b".into(),
                    name: Some("bee".into()),
                },
            ],
            tags: strings(&["sqlite"]),
            go_ldflags: strings(&["-X main.v=1"]),
            cgo: true,
            bins: strings(&["app"]),
            features: strings(&["tls", "serde/derive"]),
            no_default_features: true,
            script: strings(&["make -C x", "cp x/app \"$DESTDIR\""]),
            autoreconf: true,
            run_target_programs: true,
            optimize: Some(Optimize::Size),
            lto: Some(true),
        };
        assert_eq!(
            build_options(&o, "  "),
            "  env                 CC_OPT='-O1 -g'\n\
             \x20 cflags              -O3\n\
             \x20 ldflags             -Wl,--gc-sections\n\
             \x20 subdir              src\n\
             \x20 make-args           V=1\n\
             \x20 install-args        (none)\n\
             \x20 make-targets        app tool\n\
             \x20 install-targets     install-app\n\
             \x20 configure-args      --disable-nls --with-x=no\n\
             \x20 cmake-args          -DX=ON\n\
             \x20 meson-args          -Dy=false\n\
             \x20 packages            ./cmd/a\n\
             \x20 packages            ./cmd/b (binary bee)\n\
             \x20 tags                sqlite\n\
             \x20 go-ldflags          '-X main.v=1'\n\
             \x20 cgo                 true\n\
             \x20 bins                app\n\
             \x20 features            tls serde/derive\n\
             \x20 no-default-features true\n\
             \x20 script              make -C x\n\
             \x20 script              cp x/app \"$DESTDIR\"\n\
             \x20 autoreconf          true\n\
             \x20 run-target-programs true\n\
             \x20 optimize            size\n\
             \x20 lto                 true\n"
        );
        assert_eq!(build_options(&Options::default(), "  "), "");
    }
}
