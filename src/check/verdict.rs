//! The verdict on one app, with the reasons a person reads: a pure function of what the file is.

use std::fmt;

use serde::Serialize;

use super::advice;
use super::classify::FileKind;
use crate::arch::Arch;
use crate::verify::{Code, ElfFacts, ElfReport, Libc, Severity};

/// Can this app go distroless?
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    DistrolessReady,
    ReadyAfterStaticRebuild,
    NeedsRuntime,
    Unreadable,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::DistrolessReady,
        Verdict::ReadyAfterStaticRebuild,
        Verdict::NeedsRuntime,
        Verdict::Unreadable,
    ];

    /// The kebab-case name used in JSON.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::DistrolessReady => "distroless-ready",
            Verdict::ReadyAfterStaticRebuild => "ready-after-static-rebuild",
            Verdict::NeedsRuntime => "needs-runtime",
            Verdict::Unreadable => "unreadable",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::DistrolessReady => "distroless-ready",
            Verdict::ReadyAfterStaticRebuild => "ready after a static rebuild",
            Verdict::NeedsRuntime => "needs a runtime",
            Verdict::Unreadable => "unreadable",
        })
    }
}

/// A verdict and why: `summary` is the short reason for the table, `reasons` the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub summary: String,
    pub reasons: Vec<String>,
}

fn judged(verdict: Verdict, summary: impl Into<String>, reasons: Vec<String>) -> Judgement {
    Judgement {
        verdict,
        summary: summary.into(),
        reasons,
    }
}

/// The language runtime a program name is, if any (`python3.11` is Python, `sh` a shell).
pub fn interpreter_runtime(name: &str) -> Option<&'static str> {
    let strip = |p: &str| {
        name.strip_prefix(p)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    Some(match name {
        _ if strip("python") || strip("pypy") => "Python",
        "node" | "nodejs" | "bun" | "deno" => "Node.js",
        "java" | "javaw" => "Java",
        "dotnet" | "mono" => ".NET",
        _ if strip("ruby") => "Ruby",
        _ if strip("perl") => "Perl",
        _ if strip("php") || name == "php-fpm" => "PHP",
        _ if strip("lua") || strip("luajit") => "Lua",
        "Rscript" => "R",
        "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "mksh" => "a shell",
        _ => return None,
    })
}

/// The runtime a DT_NEEDED library is, if any: the app runs on it (Node.js, a JVM, .NET...).
/// Runtimes embedded as plugins (libpython, libperl, liblua) are in the advice table instead
/// ([`advice::Action::Embedded`]): a static build leaves them out.
fn library_runtime(lib: &str) -> Option<&'static str> {
    let table: [(&str, &str); 7] = [
        ("libnode.so", "Node.js"),
        ("libjvm.so", "Java"),
        ("libcoreclr.so", ".NET"),
        ("libhostfxr.so", ".NET"),
        ("libmono", ".NET"),
        ("libruby", "Ruby"),
        ("libphp", "PHP"),
    ];
    table
        .iter()
        .find(|(p, _)| lib.starts_with(p))
        .map(|(_, r)| *r)
}

/// The advice for one library `program` needs, from the table ([`advice::advise`]); a library
/// the table does not know is linked statically, if it builds static.
pub fn library_advice(program: &str, lib: &str) -> String {
    unknown_library(lib, advice::advise(program, lib))
}

/// [`library_advice`] for a library of a dynamic Rust program ([`advice::advise_rust`]).
fn rust_library_advice(program: &str, lib: &str) -> String {
    unknown_library(lib, advice::advise_rust(program, lib))
}

fn unknown_library(lib: &str, advice: Option<String>) -> String {
    advice.unwrap_or_else(|| {
        let stem = lib.split(".so").next().unwrap_or(lib);
        format!("link {stem} statically (not in the advice table: check that it builds static)")
    })
}

/// The findings that mean the binary is for another arch (or ABI) than the one wanted.
const WRONG_ARCH: [Code; 6] = [
    Code::WrongMachine,
    Code::Class,
    Code::Endianness,
    Code::SoftFloat,
    Code::ArmEabi,
    Code::ArmArch,
];

/// Judges one app. `invoked` is the name it is started by (a symlink's name, e.g. `sh` for
/// busybox), `expected` the arch it should be for (the image platform or `--arch`).
pub fn judge(kind: &FileKind, invoked: &str, expected: Option<Arch>) -> Judgement {
    match kind {
        FileKind::Elf(r) => judge_elf(r, invoked, expected),
        FileKind::Script { line, name, .. } => {
            let what = interpreter_runtime(name)
                .map(|r| format!("{r} ({name})"))
                .unwrap_or_else(|| {
                    if name.is_empty() {
                        "an interpreter".to_string()
                    } else {
                        format!("`{name}`")
                    }
                });
            judged(
                Verdict::NeedsRuntime,
                format!("script: needs {what}"),
                vec![format!(
                    "`{line}`: a script runs only with its interpreter in the image"
                )],
            )
        }
        FileKind::DotNet { evidence } => judged(
            Verdict::NeedsRuntime,
            ".NET assembly: needs the .NET runtime",
            vec![format!("a .NET assembly ({evidence})")],
        ),
        FileKind::Jar => judged(
            Verdict::NeedsRuntime,
            "Java archive: needs a JVM",
            vec!["a jar runs only on a Java runtime".to_string()],
        ),
        FileKind::JavaClass => judged(
            Verdict::NeedsRuntime,
            "Java class: needs a JVM",
            vec!["a .class file runs only on a Java runtime".to_string()],
        ),
        FileKind::Pe => judged(
            Verdict::Unreadable,
            "a Windows PE file, not a Linux program",
            vec!["starts with `MZ` but has no .NET CLI header".to_string()],
        ),
        FileKind::TooLarge { size, limit } => judged(
            Verdict::Unreadable,
            "too large to check",
            vec![format!(
                "{size} bytes, more than the {limit} bytes one file may have to be checked"
            )],
        ),
        FileKind::Other => judged(
            Verdict::Unreadable,
            "not a program: not ELF, no `#!` line",
            vec![
                "not ELF and no `#!` line (a shell script without one runs with /bin/sh)"
                    .to_string(),
            ],
        ),
    }
}

fn has(r: &ElfReport, code: Code) -> Option<String> {
    r.findings
        .iter()
        .find(|f| f.code == code)
        .map(|f| f.message.clone())
}

fn judge_elf(r: &ElfReport, invoked: &str, expected: Option<Arch>) -> Judgement {
    let Some(facts) = &r.facts else {
        let why: Vec<String> = r.findings.iter().map(|f| f.message.clone()).collect();
        return judged(
            Verdict::Unreadable,
            why.first()
                .cloned()
                .unwrap_or_else(|| "the ELF could not be parsed".to_string()),
            why,
        );
    };
    if let Some(j) = broken_or_runtime(r, facts, invoked) {
        return j;
    }
    if let Some(j) = static_rebuild(r, facts, invoked, expected) {
        return j;
    }
    let mut reasons = vec![r.description.clone()];
    reasons.extend(
        r.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| format!("warning: {}", f.message)),
    );
    judged(
        Verdict::DistrolessReady,
        if facts.static_pie {
            "static-pie executable"
        } else {
            "static executable"
        },
        reasons,
    )
}

/// A cut-off or malformed file (unreadable), or one that needs a runtime: an interpreter
/// itself, one linked in, or a shell it runs.
fn broken_or_runtime(r: &ElfReport, facts: &ElfFacts, invoked: &str) -> Option<Judgement> {
    // A cut-off or malformed file: whatever it was, it cannot run as it is.
    let broken: Vec<String> = r
        .findings
        .iter()
        .filter(|f| matches!(f.code, Code::Truncated | Code::Malformed))
        .map(|f| f.message.clone())
        .collect();
    if let Some(first) = broken.first() {
        return Some(judged(Verdict::Unreadable, first.clone(), broken));
    }
    if let Some(rt) = interpreter_runtime(invoked) {
        return Some(judged(
            Verdict::NeedsRuntime,
            format!("this is {rt} itself (`{invoked}`)"),
            vec![format!(
                "`{invoked}` is an interpreter: the app is the program it runs, which needs {rt}"
            )],
        ));
    }
    if let Some((lib, rt)) = facts
        .needed
        .iter()
        .find_map(|l| library_runtime(l).map(|rt| (l, rt)))
    {
        return Some(judged(
            Verdict::NeedsRuntime,
            format!("embeds {rt} ({lib})"),
            vec![format!(
                "links {lib}: it runs {rt} code, which needs {rt}'s runtime and libraries"
            )],
        ));
    }
    let blocked: Vec<&String> = facts
        .needed
        .iter()
        .filter(|l| advice::library(l).is_some_and(advice::Library::blocks))
        .collect();
    if let Some(first) = blocked.first() {
        return Some(judged(
            Verdict::NeedsRuntime,
            format!("needs {first}, which cannot be static"),
            blocked
                .iter()
                .map(|l| format!("needs {l} → {}", library_advice(invoked, l)))
                .collect(),
        ));
    }
    let m = has(r, Code::Shell)?;
    Some(judged(
        Verdict::NeedsRuntime,
        "runs a shell (/bin/sh)",
        vec![format!(
            "{m}: a distroless image has no shell; it needs one, or the code must not exec it"
        )],
    ))
}

/// What a static rebuild must fix, if anything: the wrong arch, dynamic linking, NSS, dlopen,
/// any other error.
fn static_rebuild(
    r: &ElfReport,
    facts: &ElfFacts,
    invoked: &str,
    expected: Option<Arch>,
) -> Option<Judgement> {
    let mut reasons = Vec::new();
    let mut summary = None;
    let wrong: Vec<String> = r
        .findings
        .iter()
        .filter(|f| WRONG_ARCH.contains(&f.code))
        .map(|f| f.message.clone())
        .collect();
    if !wrong.is_empty() {
        let arch = expected
            .or(r.arch)
            .map(|a| a.to_string())
            .unwrap_or_else(|| "the target arch".to_string());
        summary.get_or_insert(format!("rebuild for {arch}"));
        reasons.push(format!("rebuild for {arch}: {}", wrong.join("; ")));
    }
    dynamic_reasons(
        facts,
        invoked,
        expected.or(r.arch),
        &mut summary,
        &mut reasons,
    );
    if let Some(m) = has(r, Code::Nss) {
        summary.get_or_insert("static glibc with NSS: rebuild against musl".to_string());
        reasons.push(m);
    }
    if let Some(m) = has(r, Code::Dlopen) {
        summary.get_or_insert("loads plugins with dlopen".to_string());
        reasons.push(format!(
            "{m}; link them in, or build without plugin loading"
        ));
    }
    // Any other error (e.g. `not-executable`) also stands in the way.
    for f in r.findings.iter().filter(|f| {
        f.severity == Severity::Error
            && !WRONG_ARCH.contains(&f.code)
            && !matches!(f.code, Code::Dynamic | Code::Nss)
    }) {
        summary.get_or_insert(f.message.clone());
        reasons.push(f.message.clone());
    }
    summary.map(|summary| judged(Verdict::ReadyAfterStaticRebuild, summary, reasons))
}

/// For a dynamically linked binary: the summary (Rust, cgo, or how many libraries and the plan
/// for them) and a reason per loader and library, with the table's advice ([`advice`]).
fn dynamic_reasons(
    facts: &ElfFacts,
    invoked: &str,
    arch: Option<Arch>,
    summary: &mut Option<String>,
    reasons: &mut Vec<String>,
) {
    if facts.interpreter.is_none() && facts.needed.is_empty() {
        return;
    }
    if let Some(rust) = &facts.rust {
        summary.get_or_insert("dynamically linked Rust: build for the musl target".to_string());
        let linked = match facts.libc {
            Libc::Glibc { .. } => "built for glibc (a `-gnu` target, rustc's default)",
            _ => "dynamically linked",
        };
        reasons.push(format!(
            "Rust (rustc {}), {linked}: {}",
            rust.rustc_version,
            advice::rust::musl_target(arch)
        ));
        library_reasons(facts, |lib| rust_library_advice(invoked, lib), reasons);
        return;
    }
    go_or_c_summary(facts, summary, reasons);
    library_reasons(facts, |lib| library_advice(invoked, lib), reasons);
}

/// A reason per loader and library, with `advise`'s advice.
fn library_reasons(facts: &ElfFacts, advise: impl Fn(&str) -> String, reasons: &mut Vec<String>) {
    if let Some(i) = &facts.interpreter {
        reasons.push(format!("loader {i} → {}", advise(base(i))));
    }
    for lib in &facts.needed {
        reasons.push(format!("needs {lib} → {}", advise(lib)));
    }
}

/// The summary of a dynamic Go or C/C++ binary: cgo (with the modules that need it), or how
/// many libraries it needs.
fn go_or_c_summary(facts: &ElfFacts, summary: &mut Option<String>, reasons: &mut Vec<String>) {
    let go = facts.go.as_ref();
    let cgo = go.is_some_and(|g| g.setting("CGO_ENABLED") == Some("1"));
    let cgo_only: Vec<(&str, &advice::GoModule)> = go
        .map(|g| {
            g.deps
                .iter()
                .filter_map(|d| advice::cgo_module(&d.path).map(|m| (d.path.as_str(), m)))
                .collect()
        })
        .unwrap_or_default();
    if let Some((path, _)) = cgo_only.first().filter(|_| cgo) {
        summary.get_or_insert(format!(
            "Go with cgo, which {path} needs: link its C code statically (musl)"
        ));
        for (path, m) in &cgo_only {
            reasons.push(format!(
                "needs cgo: {path}, {}: keep CGO_ENABLED=1 and link statically against musl \
                 (zig cc), not CGO_ENABLED=0",
                m.why
            ));
        }
    } else if cgo {
        summary.get_or_insert("Go with cgo: rebuild with CGO_ENABLED=0".to_string());
        reasons.push(
            "a Go binary built with cgo (CGO_ENABLED=1), and no module of its build info needs \
             cgo: rebuild with CGO_ENABLED=0"
                .to_string(),
        );
    } else {
        let n = facts.needed.len();
        summary.get_or_insert(format!(
            "dynamically linked ({n} {})",
            if n == 1 { "library" } else { "libraries" }
        ));
    }
}

fn base(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

#[cfg(test)]
mod tests;
