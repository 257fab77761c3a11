//! The analysis of a tree (an image platform's files, or a directory): the app the entrypoint
//! names, every other executable, and the runtimes the files show, each app judged in its
//! image ([`verdict`](super::verdict)).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::advice;
use super::classify::{self, FileKind};
use super::tree::{Node, Tree};
use super::verdict::{self, Verdict, judge};
use super::{App, Evidence, PlatformReport, empty_platform};
use crate::arch::Arch;
use crate::verify;

/// What an app is judged against: the tree it lives in (for runtime files) and the needs its
/// image accepts (`org.recipe.accept.CODE` labels).
#[derive(Default, Clone, Copy)]
pub(super) struct Context<'a> {
    tree: Option<&'a Tree>,
    accepted: Option<&'a BTreeMap<String, String>>,
}

pub(super) fn app(
    path: &str,
    resolved: Option<String>,
    invoked: &str,
    kind: &FileKind,
    expected: Option<Arch>,
    ctx: Context<'_>,
) -> App {
    let in_context;
    let kind = match kind {
        FileKind::Elf(r) => {
            in_context = FileKind::Elf(Box::new(in_image(r, ctx)));
            &in_context
        }
        _ => kind,
    };
    let j = judge(kind, invoked, expected);
    let (description, findings, facts) = match kind {
        FileKind::Elf(r) => (
            Some(r.description.clone()),
            r.findings.clone(),
            r.facts.clone(),
        ),
        _ => (None, Vec::new(), None),
    };
    App {
        path: path.to_string(),
        resolved,
        verdict: j.verdict,
        summary: j.summary,
        reasons: j.reasons,
        description,
        findings,
        facts,
    }
}

/// The report in its image: runtime-file findings redone against the files the tree holds (a
/// binary that reads a CA bundle the image lacks gets a warning), and needs the image accepts
/// turned into notes that say so.
fn in_image(r: &verify::ElfReport, ctx: Context<'_>) -> verify::ElfReport {
    let mut r = r.clone();
    if let (Some(facts), Some(tree)) = (&r.facts, ctx.tree) {
        let runtime_files = facts.runtime_files.clone();
        r.findings
            .retain(|f| !matches!(f.code, verify::Code::RuntimeFile(_)));
        let expect = verify::Expect {
            image_files: Some(tree.nodes.keys().cloned().collect()),
            ..verify::Expect::default()
        };
        verify::runtime::runtime_file_findings(&runtime_files, &expect, &mut r.findings);
    }
    if let Some(accepted) = ctx.accepted {
        for f in &mut r.findings {
            if let Some(why) = accepted.get(f.code.as_str()) {
                f.message = format!(
                    "accepted by the image ({}{}: {why}): {}",
                    crate::recipe::ACCEPT_LABEL,
                    f.code,
                    f.message
                );
                f.severity = verify::Severity::Info;
                f.code = verify::Code::Accepted;
            }
        }
    }
    r
}

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// An executable a container does not need: service-manager glue or a plugin of another
/// program ([`classify::GLUE`]).
#[derive(Debug, Clone, Serialize)]
pub struct Glue {
    pub path: String,
    /// `a SysV init script`, `a munin plugin`.
    pub what: &'static str,
}

/// The one answer for the app a tree holds: whether it can go distroless and what it takes.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The app's name: its daemon's (a program in `sbin`), else its first program's.
    pub app: String,
    /// The path of that program.
    pub daemon: String,
    /// The verdict of its programs (the worst of them); helper scripts do not set it when
    /// there are compiled programs.
    pub verdict: Verdict,
    /// The programs the verdict is about.
    pub programs: Vec<String>,
    /// Helper scripts beside compiled programs, each needing its interpreter.
    pub scripts: Vec<String>,
    /// What it takes, from the advice table; empty when nothing is needed.
    pub advice: String,
    /// The line `recipe check` prints: `dnsmasq: ready after a static rebuild: build without ...`.
    pub line: String,
}

/// Runtime evidence, the executables of a tree (glue left out), and the glue.
pub(super) struct Survey {
    pub runtimes: Vec<Evidence>,
    pub exes: Vec<App>,
    pub glue: Vec<Glue>,
}

/// Runtime evidence and the executables of a tree, glue apart.
pub(super) fn survey(
    tree: &Tree,
    expected: Option<Arch>,
    skip: Option<&str>,
    accepted: Option<&BTreeMap<String, String>>,
) -> Survey {
    let ctx = Context {
        tree: Some(tree),
        accepted,
    };
    let mut evidence: BTreeMap<&'static str, Evidence> = BTreeMap::new();
    let mut exes = Vec::new();
    let mut glue = Vec::new();
    for (path, node) in &tree.nodes {
        let Node::File(info) = node else { continue };
        let rt = classify::runtime_evidence(path).or(match &info.kind {
            FileKind::DotNet { .. } => Some(".NET"),
            FileKind::Jar | FileKind::JavaClass => Some("Java"),
            FileKind::Elf(_) => {
                verdict::interpreter_runtime(base(path)).filter(|r| *r != "a shell")
            }
            _ => None,
        });
        if let Some(rt) = rt {
            evidence
                .entry(rt)
                .or_insert_with(|| Evidence {
                    runtime: rt,
                    files: 0,
                    example: path.clone(),
                })
                .files += 1;
        }
        if info.is_executable() && Some(path.as_str()) != skip {
            match classify::glue(path) {
                Some(what) => glue.push(Glue {
                    path: path.clone(),
                    what,
                }),
                None => exes.push(app(path, None, base(path), &info.kind, expected, ctx)),
            }
        }
    }
    Survey {
        runtimes: evidence.into_values().collect(),
        exes,
        glue,
    }
}

/// The report of a directory (a root filesystem, an unpacked package): its apps are the
/// programs in `bin`, `sbin` and `libexec` (every executable, when none is there), other
/// executables are listed, glue apart, and one answer for the whole.
pub(super) fn analyse_dir(tree: &Tree, arch: Option<Arch>) -> PlatformReport {
    let mut p = empty_platform(None, arch);
    let s = survey(tree, arch, None, None);
    let (apps, others): (Vec<App>, Vec<App>) = s
        .exes
        .into_iter()
        .partition(|a| classify::program_dir(&a.path));
    if apps.is_empty() {
        p.apps = others;
    } else {
        p.apps = apps;
        p.other_executables = others;
    }
    p.runtimes = s.runtimes;
    p.glue = s.glue;
    p.answer = answer(&p.apps, p.arch);
    p.notes = tree.notes.clone();
    p
}

/// The arch of ours whose ELF machine and class the facts name.
fn facts_arch(f: &verify::ElfFacts) -> Option<Arch> {
    Arch::ALL.into_iter().find(|a| {
        let e = a.info().elf;
        e.machine_name == f.machine && e.class_bits == f.class_bits
    })
}

fn is_script(a: &App) -> bool {
    a.description.is_none()
}

/// The one answer for a set of apps: compiled programs decide it (helper scripts beside them
/// are listed), and the advice is the table's plan for every library they need. `arch` is the
/// platform's (else a Rust program's musl target is its own machine's).
pub fn answer(apps: &[App], arch: Option<Arch>) -> Option<Answer> {
    let compiled: Vec<&App> = apps.iter().filter(|a| !is_script(a)).collect();
    let (primary, scripts): (Vec<&App>, Vec<&App>) = if compiled.is_empty() {
        (apps.iter().collect(), Vec::new())
    } else {
        (compiled, apps.iter().filter(|a| is_script(a)).collect())
    };
    let verdict = primary.iter().map(|a| a.verdict).max()?;
    let daemon = primary
        .iter()
        .find(|a| a.path.split('/').any(|c| c == "sbin"))
        .unwrap_or(&primary[0]);
    let name = base(&daemon.path).to_string();
    let mut plan = advice::Plan::default();
    for a in &primary {
        let Some(f) = &a.facts else { continue };
        let dynamic = f.interpreter.is_some() || !f.needed.is_empty();
        if f.rust.is_some() && dynamic {
            plan.add_rust(base(&a.path), arch.or_else(|| facts_arch(f)), &f.needed);
            continue;
        }
        for lib in &f.needed {
            plan.add(base(&a.path), lib);
        }
    }
    let worst: Vec<&&App> = primary.iter().filter(|a| a.verdict == verdict).collect();
    let advice = match verdict {
        Verdict::DistrolessReady => String::new(),
        Verdict::ReadyAfterStaticRebuild if !plan.is_empty() => {
            let mut s = plan.sentence();
            // Needs beyond the libraries (NSS in a static glibc, dlopen, the wrong arch).
            for a in &worst {
                if !a.summary.starts_with("dynamically linked") {
                    s.push_str(&format!("; {}: {}", base(&a.path), a.summary));
                }
            }
            s
        }
        _ => {
            let mut seen: Vec<String> = Vec::new();
            for a in &worst {
                let s = format!("{}: {}", base(&a.path), a.summary);
                if !seen.contains(&s) {
                    seen.push(s);
                }
            }
            seen.join("; ")
        }
    };
    let mut line = format!("{name} ({}): {verdict}", daemon.path);
    if !advice.is_empty() {
        line.push_str(&format!(": {advice}"));
    }
    if !scripts.is_empty() {
        let names: Vec<String> = scripts
            .iter()
            .map(|a| {
                format!(
                    "{} {}",
                    base(&a.path),
                    a.summary.trim_start_matches("script: ")
                )
            })
            .collect();
        line.push_str(&format!("; helper scripts: {}", names.join(", ")));
    }
    Some(Answer {
        app: name,
        daemon: daemon.path.clone(),
        verdict,
        programs: primary.iter().map(|a| a.path.clone()).collect(),
        scripts: scripts.iter().map(|a| a.path.clone()).collect(),
        advice,
        line,
    })
}

/// The report of one image platform: the entrypoint (or Cmd[0]) resolved through the image's
/// symlinks and `PATH` is the app; other executables are listed.
pub fn analyse_image(
    tree: Tree,
    platform: &str,
    arch: Option<Arch>,
    config: &Value,
) -> PlatformReport {
    let accepted = accepted_labels(config);
    let ctx = Context {
        tree: Some(&tree),
        accepted: Some(&accepted),
    };
    let entry = strings(&config["Entrypoint"]);
    let cmd = strings(&config["Cmd"]);
    let argv = if entry.is_empty() { cmd } else { entry };
    let mut p = empty_platform(Some(platform.to_string()), arch);
    p.user = config["User"]
        .as_str()
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    p.notes = tree.notes.clone();
    let mut found: Option<String> = None;
    match argv.first() {
        None => p
            .notes
            .push("the image has no Entrypoint and no Cmd: nothing to run".to_string()),
        Some(argv0) => {
            let (app, real) = entrypoint_app(&tree, argv0, config, arch, ctx);
            p.apps.push(app);
            found = real;
            p.entrypoint = Some(argv);
        }
    }
    let s = survey(&tree, arch, found.as_deref(), Some(&accepted));
    p.runtimes = s.runtimes;
    p.other_executables = s.exes;
    p.glue = s.glue;
    p.answer = answer(&p.apps, p.arch);
    p
}

/// The strings of a JSON array (at most 4096), or none.
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .take(4096)
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Needs the image says it does without: `org.recipe.accept.CODE = "why"` labels, for the codes
/// a recipe may accept.
fn accepted_labels(config: &Value) -> BTreeMap<String, String> {
    config["Labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .take(1024)
                .filter_map(|(k, v)| {
                    let code = k.strip_prefix(crate::recipe::ACCEPT_LABEL)?;
                    crate::recipe::ACCEPTABLE
                        .contains(&code)
                        .then(|| (code.to_string(), v.as_str().unwrap_or("").to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The app `argv0` names, found as the image would run it (a path, relative to `WorkingDir`,
/// or looked up on the image's `PATH`), and the real path it resolved to; when it is not in
/// the image, an unreadable app saying why.
fn entrypoint_app(
    tree: &Tree,
    argv0: &str,
    config: &Value,
    arch: Option<Arch>,
    ctx: Context<'_>,
) -> (App, Option<String>) {
    let path_var = strings(&config["Env"])
        .into_iter()
        .find_map(|e| e.strip_prefix("PATH=").map(str::to_string))
        .unwrap_or_else(|| {
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()
        });
    let candidates: Vec<String> = if argv0.contains('/') {
        vec![if argv0.starts_with('/') {
            argv0.to_string()
        } else {
            let wd = config["WorkingDir"].as_str().unwrap_or("/");
            format!("{wd}/{argv0}")
        }]
    } else {
        path_var
            .split(':')
            .filter(|d| !d.is_empty())
            .take(64)
            .map(|d| format!("{}/{argv0}", d.trim_end_matches('/')))
            .collect()
    };
    let mut last_err = format!("`{argv0}` is not on the image's PATH ({path_var})");
    for c in &candidates {
        match tree.resolve(c) {
            Ok(real) => match tree.nodes.get(&real) {
                Some(Node::File(info)) => {
                    let resolved = (real != *c).then(|| real.clone());
                    let app = app(c, resolved, base(argv0), &info.kind, arch, ctx);
                    return (app, Some(real));
                }
                _ => last_err = format!("{c} is not a regular file"),
            },
            Err(e) => {
                if argv0.contains('/') {
                    last_err = e;
                }
            }
        }
    }
    let missing = App {
        path: argv0.to_string(),
        resolved: None,
        verdict: Verdict::Unreadable,
        summary: "the entrypoint is not in the image".to_string(),
        reasons: vec![last_err],
        description: None,
        findings: Vec::new(),
        facts: None,
    };
    (missing, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::ElfFacts;

    fn elf(path: &str, verdict: Verdict, needed: &[&str]) -> App {
        App {
            path: path.to_string(),
            resolved: None,
            verdict,
            summary: format!("dynamically linked ({} libraries)", needed.len()),
            reasons: Vec::new(),
            description: Some("ELF 64-bit x86-64".to_string()),
            findings: Vec::new(),
            facts: Some(ElfFacts {
                needed: needed.iter().map(|s| s.to_string()).collect(),
                ..ElfFacts::default()
            }),
        }
    }

    fn script(path: &str) -> App {
        App {
            path: path.to_string(),
            resolved: None,
            verdict: Verdict::NeedsRuntime,
            summary: "script: needs a shell (sh)".to_string(),
            reasons: Vec::new(),
            description: None,
            findings: Vec::new(),
            facts: None,
        }
    }

    #[test]
    fn the_daemon_decides_and_scripts_are_listed() {
        let apps = [
            elf(
                "/usr/bin/tool",
                Verdict::ReadyAfterStaticRebuild,
                &["libc.so.6"],
            ),
            script("/usr/sbin/x-setup"),
            elf(
                "/usr/sbin/food",
                Verdict::ReadyAfterStaticRebuild,
                &["libsystemd.so.0", "libz.so.1", "libc.so.6"],
            ),
        ];
        let a = answer(&apps, None).unwrap();
        assert_eq!(a.app, "food");
        assert_eq!(a.daemon, "/usr/sbin/food");
        assert_eq!(a.verdict, Verdict::ReadyAfterStaticRebuild);
        assert_eq!(a.scripts, ["/usr/sbin/x-setup"]);
        assert_eq!(
            a.line,
            "food (/usr/sbin/food): ready after a static rebuild: build without systemd \
             (sd_notify, the journal); link zlib (recipe `zlib`) statically; helper scripts: \
             x-setup needs a shell (sh)"
        );
    }

    #[test]
    fn scripts_alone_are_the_app() {
        let a = answer(&[script("/usr/bin/app")], None).unwrap();
        assert_eq!(a.verdict, Verdict::NeedsRuntime);
        assert!(a.scripts.is_empty());
        assert_eq!(
            a.line,
            "app (/usr/bin/app): needs a runtime: app: script: needs a shell (sh)"
        );
        assert!(answer(&[], None).is_none());
    }

    /// A dynamic Rust program is told its musl target (the platform's arch, else its machine's)
    /// and its `-sys` crates' static builds, once, not its summary again.
    #[test]
    fn a_dynamic_rust_app_gets_the_rust_plan() {
        let mut app = elf(
            "/usr/bin/srv",
            Verdict::ReadyAfterStaticRebuild,
            &["libssl.so.3", "libc.so.6"],
        );
        app.summary = "dynamically linked Rust: build for the musl target".to_string();
        let f = app.facts.as_mut().unwrap();
        f.interpreter = Some("/lib64/ld-linux-x86-64.so.2".into());
        f.machine = "x86-64".into();
        f.class_bits = 64;
        f.rust = Some(crate::verify::RustInfo {
            rustc_version: "1.96.0".into(),
            panic: crate::verify::PanicStrategy::Abort,
        });
        let a = answer(std::slice::from_ref(&app), None).unwrap();
        assert!(
            a.advice.starts_with(
                "build for the musl target (`x86_64-unknown-linux-musl`) with crt-static, as a \
                 recipe's `system = \"cargo\"` does; openssl-sys: enable its `vendored` feature"
            ),
            "{}",
            a.advice
        );
        assert!(!a.advice.contains("srv: "), "{}", a.advice);
        let a = answer(&[app], Some(Arch::Arm64)).unwrap();
        assert!(
            a.advice.contains("`aarch64-unknown-linux-musl`"),
            "{}",
            a.advice
        );
    }

    #[test]
    fn a_ready_app_needs_nothing() {
        let mut s = elf("/app", Verdict::DistrolessReady, &[]);
        s.summary = "static executable".to_string();
        let a = answer(&[s], None).unwrap();
        assert_eq!(a.line, "app (/app): distroless-ready");
        assert!(a.advice.is_empty());
    }
}
