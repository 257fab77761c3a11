//! Tests of the verdicts.

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
