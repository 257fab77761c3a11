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
mod tests {
    use super::*;
    use crate::verify::{Finding, GoBuildInfo};

    fn elf(facts: ElfFacts, findings: Vec<(&'static str, Severity)>) -> FileKind {
        FileKind::Elf(Box::new(ElfReport {
            arch: Some(Arch::Amd64),
            description: "ELF 64-bit x86-64".to_string(),
            findings: findings
                .into_iter()
                .map(|(code, severity)| Finding {
                    severity,
                    code: code.parse().expect("a code name"),
                    message: format!("{code} message"),
                })
                .collect(),
            facts: Some(facts),
        }))
    }

    fn dynamic(needed: &[&str]) -> ElfFacts {
        ElfFacts {
            interpreter: Some("/lib64/ld-linux-x86-64.so.2".to_string()),
            needed: needed.iter().map(|s| s.to_string()).collect(),
            ..ElfFacts::default()
        }
    }

    #[test]
    fn static_is_ready_with_warnings_listed() {
        let j = judge(
            &elf(
                ElfFacts::default(),
                vec![("glibc-static", Severity::Warning)],
            ),
            "app",
            None,
        );
        assert_eq!(j.verdict, Verdict::DistrolessReady);
        assert!(
            j.reasons.iter().any(|r| r.contains("glibc-static")),
            "{j:?}"
        );
    }

    #[test]
    fn dynamic_lists_replacements() {
        let j = judge(
            &elf(
                dynamic(&[
                    "libssl.so.3",
                    "libc.so.6",
                    "libz.so.1",
                    "libselinux.so.1",
                    "libstdc++.so.6",
                ]),
                vec![("dynamic", Severity::Error)],
            ),
            "app",
            None,
        );
        assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild);
        let all = j.reasons.join("\n");
        for want in [
            "libc.so.6 → musl",
            "libssl.so.3 → link OpenSSL statically (catalogue recipe `openssl`)",
            "libz.so.1 → link zlib statically (catalogue recipe `zlib`)",
            "libselinux.so.1 → build without SELinux",
            "libstdc++.so.6 → the C++ runtime: linked statically by the toolchain (zig)",
            "ld-linux-x86-64.so.2 → musl",
        ] {
            assert!(all.contains(want), "{want}: {all}");
        }
        // `dynamic`'s own message is not repeated.
        assert!(!all.contains("dynamic message"), "{all}");
    }

    #[test]
    fn cgo_says_rebuild_without_it() {
        let mut f = dynamic(&["libc.so.6"]);
        f.go = Some(GoBuildInfo {
            settings: vec![("CGO_ENABLED".into(), "1".into())],
            ..GoBuildInfo::default()
        });
        let j = judge(&elf(f.clone(), vec![]), "app", None);
        assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild);
        assert!(j.summary.contains("CGO_ENABLED=0"), "{j:?}");
        // A cgo-only module in the build info: that advice would break the build.
        let mut g = f.go.clone().unwrap();
        g.deps.push(crate::verify::GoModule {
            path: "github.com/mattn/go-sqlite3".into(),
            version: "v1.14.22".into(),
            ..Default::default()
        });
        f.go = Some(g);
        let j = judge(&elf(f, vec![]), "app", None);
        assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild);
        assert!(!j.summary.contains("CGO_ENABLED=0"), "{j:?}");
        let all = j.reasons.join("\n");
        assert!(
            all.contains("needs cgo: github.com/mattn/go-sqlite3, compiles SQLite's C source"),
            "{all}"
        );
        assert!(all.contains("not CGO_ENABLED=0"), "{all}");
    }

    fn rust(mut f: ElfFacts) -> ElfFacts {
        f.rust = Some(crate::verify::RustInfo {
            rustc_version: "1.96.0".into(),
            panic: crate::verify::PanicStrategy::Unwind,
        });
        f
    }

    #[test]
    fn dynamic_rust_is_told_the_musl_target_and_its_sys_crates() {
        let mut f = rust(dynamic(&[
            "libssl.so.3",
            "libcrypto.so.3",
            "libgcc_s.so.1",
            "libc.so.6",
        ]));
        f.libc = crate::verify::Libc::Glibc {
            version: Some("2.34".into()),
            evidence: "needs libc.so.6".into(),
        };
        let j = judge(&elf(f, vec![("dynamic", Severity::Error)]), "app", None);
        assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild);
        assert_eq!(
            j.summary,
            "dynamically linked Rust: build for the musl target"
        );
        assert_eq!(
            j.reasons[0],
            "Rust (rustc 1.96.0), built for glibc (a `-gnu` target, rustc's default): build for \
             the musl target (`x86_64-unknown-linux-musl`) with crt-static, as a recipe's \
             `system = \"cargo\"` does"
        );
        let all = j.reasons.join("\n");
        for want in [
            "needs libssl.so.3 → openssl-sys: enable its `vendored` feature",
            "or switch to rustls",
            "needs libcrypto.so.3 → openssl-sys: enable its `vendored` feature",
            "needs libc.so.6 → musl, linked statically",
            "loader /lib64/ld-linux-x86-64.so.2 → musl",
        ] {
            assert!(all.contains(want), "{want}: {all}");
        }
        // The arch asked for names its target.
        let j = judge(
            &elf(rust(dynamic(&["libc.so.6"])), vec![]),
            "app",
            Some(Arch::Armv7),
        );
        assert!(
            j.reasons
                .iter()
                .any(|r| r.contains("`armv7-unknown-linux-musleabihf`")),
            "{j:?}"
        );
        // A static Rust binary is ready, as a C one is.
        let j = judge(&elf(rust(ElfFacts::default()), vec![]), "app", None);
        assert_eq!(j.verdict, Verdict::DistrolessReady);
        assert_eq!(j.summary, "static executable");
    }

    #[test]
    fn embedded_plugins_and_libraries_that_cannot_be_static() {
        let j = judge(
            &elf(
                dynamic(&["libpython3.11.so.1.0", "libsystemd.so.0", "libc.so.6"]),
                vec![],
            ),
            "unbound",
            None,
        );
        assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild, "{j:?}");
        let all = j.reasons.join("\n");
        assert!(all.contains("--without-pythonmodule"), "{all}");
        let j = judge(
            &elf(dynamic(&["libperl.so.5.36", "libc.so.6"]), vec![]),
            "app",
            None,
        );
        assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild, "{j:?}");
        assert!(
            j.reasons.join("\n").contains("embeds Perl as a plugin"),
            "{j:?}"
        );
        for lib in [
            "libGL.so.1",
            "libpam.so.0",
            "libnss_systemd.so.2",
            "libvulkan.so.1",
        ] {
            let j = judge(&elf(dynamic(&[lib, "libc.so.6"]), vec![]), "app", None);
            assert_eq!(j.verdict, Verdict::NeedsRuntime, "{lib}");
            assert!(
                j.reasons[0].contains("cannot be linked statically"),
                "{j:?}"
            );
        }
    }

    #[test]
    fn nss_dlopen_and_wrong_arch_need_a_rebuild() {
        let j = judge(
            &elf(ElfFacts::default(), vec![("nss", Severity::Error)]),
            "a",
            None,
        );
        assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild);
        assert!(j.summary.contains("musl"), "{j:?}");
        let j = judge(
            &elf(ElfFacts::default(), vec![("dlopen", Severity::Warning)]),
            "a",
            None,
        );
        assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild);
        assert!(j.reasons[0].contains("link them in"), "{j:?}");
        for code in [
            "wrong-machine",
            "class",
            "soft-float",
            "arm-eabi",
            "arm-arch",
        ] {
            let j = judge(
                &elf(ElfFacts::default(), vec![(code, Severity::Error)]),
                "a",
                Some(Arch::Armv7),
            );
            assert_eq!(j.verdict, Verdict::ReadyAfterStaticRebuild, "{code}");
            assert_eq!(j.summary, "rebuild for armv7", "{code}");
        }
    }

    #[test]
    fn runtimes() {
        for lib in [
            "libnode.so.108",
            "libjvm.so",
            "libcoreclr.so",
            "libruby-3.1.so.3.1",
        ] {
            assert_eq!(
                judge(&elf(dynamic(&[lib]), vec![]), "app", None).verdict,
                Verdict::NeedsRuntime,
                "{lib}"
            );
        }
        for name in [
            "python3",
            "python3.11",
            "node",
            "java",
            "dotnet",
            "sh",
            "perl",
        ] {
            assert_eq!(
                judge(&elf(dynamic(&["libc.so.6"]), vec![]), name, None).verdict,
                Verdict::NeedsRuntime,
                "{name}"
            );
        }
        assert_eq!(interpreter_runtime("pythonista"), None);
        let j = judge(
            &elf(ElfFacts::default(), vec![("shell", Severity::Warning)]),
            "app",
            None,
        );
        assert_eq!(j.verdict, Verdict::NeedsRuntime);
        let j = judge(
            &super::super::classify::script(b"#!/usr/bin/env python3\n"),
            "x",
            None,
        );
        assert_eq!(j.verdict, Verdict::NeedsRuntime);
        assert!(j.reasons[0].contains("#!/usr/bin/env python3"), "{j:?}");
        assert!(j.summary.contains("Python (python3)"), "{j:?}");
        for k in [
            FileKind::Jar,
            FileKind::JavaClass,
            FileKind::DotNet {
                evidence: "x".into(),
            },
        ] {
            assert_eq!(judge(&k, "x", None).verdict, Verdict::NeedsRuntime);
        }
    }

    #[test]
    fn unreadable_says_why() {
        let k = FileKind::Elf(Box::new(crate::verify::check_elf(b"\x7fELF\x02", None)));
        let j = judge(&k, "x", None);
        assert_eq!(j.verdict, Verdict::Unreadable);
        assert!(j.summary.contains("truncated"), "{j:?}");
        assert_eq!(
            judge(
                &FileKind::TooLarge {
                    size: 1 << 40,
                    limit: 1 << 29
                },
                "x",
                None
            )
            .verdict,
            Verdict::Unreadable
        );
    }
}
