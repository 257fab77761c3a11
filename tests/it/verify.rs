//! `recipe::verify` on real binaries: tiny C (and Go) programs built here with zig for each arch,
//! cached in target/test-cache/elf-fixtures; the host's /bin/ls; smoke runs under qemu-user.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use recipe::arch::Arch;
use recipe::smoke::run_smoke;
use recipe::verify::check_elf;

use crate::util;

fn fixtures_src() -> PathBuf {
    util::root().join("tests/fixtures/elf")
}

/// The zig that `recipe` provisions into the shared test cache (`recipe toolchain --print zig`),
/// or None (skipped; CI fails).
pub(crate) fn zig() -> Option<PathBuf> {
    static ZIG: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    if !util::require_tool("python3") {
        return None;
    }
    // Provisioned once; every test that finds it missing is skipped (and counted) on its own.
    let zig = ZIG.get_or_init(|| {
        let out = util::recipe()
            .args(["toolchain", "--print", "zig"])
            .output()
            .map_err(|e| e.to_string())?;
        let zig = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && zig.is_file() {
            Ok(zig)
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    match zig {
        Ok(zig) => Some(zig.clone()),
        // panics under CI: zig is required there
        Err(e) => {
            util::skip(&format!("zig could not be provisioned: {e}"));
            None
        }
    }
}

/// Builds (once, cached by a hash of source and flags) a fixture; returns its path.
fn build_cached(
    name: &str,
    src: &str,
    tool: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let source = std::fs::read(fixtures_src().join(src)).unwrap();
    let mut h = DefaultHasher::new();
    (source, args, env, tool).hash(&mut h);
    let dir = util::shared_cache().join("elf-fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}-{:016x}", h.finish()));
    if out.is_file() {
        return out;
    }
    let tmp = dir.join(format!("{name}.tmp{}", std::process::id()));
    let t = Instant::now();
    let res = Command::new(tool)
        .args(args)
        .arg("-o")
        .arg(&tmp)
        .arg(fixtures_src().join(src))
        .envs(env.iter().copied())
        // The same per-target zig cache `recipe` uses, so musl is built once per target.
        .env(
            "ZIG_GLOBAL_CACHE_DIR",
            util::shared_cache().join("zig").join(
                args.iter()
                    .position(|a| *a == "-target")
                    .map(|i| args[i + 1])
                    .unwrap_or("other"),
            ),
        )
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "building fixture {name} failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    eprintln!("built fixture {name} in {:.1?}", t.elapsed());
    std::fs::rename(&tmp, &out).unwrap();
    out
}

/// A C fixture built with `zig cc -target TRIPLE [-mcpu=CPU] EXTRA...`.
fn c_fixture(name: &str, triple: &str, cpu: Option<&str>, extra: &[&str]) -> Option<PathBuf> {
    let zig = zig()?;
    let mut args = vec![
        "cc".to_string(),
        "-target".into(),
        triple.into(),
        "-Os".into(),
    ];
    if let Some(c) = cpu {
        args.push(format!("-mcpu={c}"));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Some(build_cached(name, "hello.c", &zig, &args, &[]))
}

/// The C fixture for one of our arches, with the table's triple and cpu, static and stripped.
fn ours(arch: Arch) -> Option<PathBuf> {
    let i = arch.info();
    c_fixture(arch.name(), i.triple, i.zig_cpu, &["-static", "-s"])
}

/// ARMv6 soft-float (Raspberry Pi 1 style): must not pass as armv7.
fn armv6() -> Option<PathBuf> {
    c_fixture(
        "armv6-soft",
        "arm-linux-musleabi",
        Some("arm1176jzf_s"),
        &["-static", "-s"],
    )
}

fn check(path: &Path, expected: Option<Arch>) -> recipe::verify::ElfReport {
    let r = check_elf(&std::fs::read(path).unwrap(), expected);
    eprintln!(
        "{} as {expected:?}: {} -> {:#?}",
        path.display(),
        r.description,
        r.findings
    );
    r
}

fn error_codes(r: &recipe::verify::ElfReport) -> Vec<&'static str> {
    r.errors().map(|f| f.code.as_str()).collect()
}

#[test]
fn verify_amd64_static_passes() {
    let Some(bin) = ours(Arch::Amd64) else { return };
    let r = check(&bin, Some(Arch::Amd64));
    assert!(r.passed(), "{r:#?}");
    assert_eq!(r.arch, Some(Arch::Amd64));
    assert_eq!(r.description, "ELF 64-bit x86-64, static, musl");
    let r = check(&bin, None);
    assert!(r.passed());
    assert_eq!(r.arch, Some(Arch::Amd64));
}

#[test]
fn verify_amd64_as_arm64_fails_on_machine() {
    let Some(bin) = ours(Arch::Amd64) else { return };
    let r = check(&bin, Some(Arch::Arm64));
    assert!(!r.passed());
    assert_eq!(error_codes(&r), ["wrong-machine"]);
    assert!(
        r.findings[0]
            .message
            .starts_with("machine is x86-64, expected AArch64"),
        "{r:#?}"
    );
}

#[test]
fn verify_amd64_static_pie_passes() {
    let Some(bin) = c_fixture(
        "amd64-pie",
        "x86_64-linux-musl",
        None,
        &["-static-pie", "-fPIE", "-s"],
    ) else {
        return;
    };
    let r = check(&bin, Some(Arch::Amd64));
    assert!(r.passed(), "{r:#?}");
    assert_eq!(r.description, "ELF 64-bit x86-64, static-pie, musl");
}

#[test]
fn verify_arm64_static_passes() {
    let Some(bin) = ours(Arch::Arm64) else { return };
    let r = check(&bin, None);
    assert!(r.passed(), "{r:#?}");
    assert_eq!(r.arch, Some(Arch::Arm64));
    assert_eq!(r.description, "ELF 64-bit AArch64, static, musl");
    assert!(check(&bin, Some(Arch::Arm64)).passed());
    assert_eq!(
        error_codes(&check(&bin, Some(Arch::Armv7))),
        ["wrong-machine"]
    );
}

#[test]
fn verify_armv7_hard_float_passes() {
    let Some(bin) = ours(Arch::Armv7) else { return };
    let r = check(&bin, Some(Arch::Armv7));
    assert!(r.passed(), "{r:#?}");
    assert_eq!(r.arch, Some(Arch::Armv7));
    assert_eq!(
        r.description,
        "ELF 32-bit ARM, EABI5 hard-float, ARMv7, static, musl"
    );
    assert!(
        r.findings
            .iter()
            .all(|f| f.severity == recipe::verify::Severity::Info),
        "{r:#?}"
    );
}

#[test]
fn verify_armv6_soft_float_fails_as_armv7() {
    let Some(bin) = armv6() else { return };
    for expected in [Some(Arch::Armv7), None] {
        let r = check(&bin, expected);
        assert!(!r.passed());
        let codes = error_codes(&r);
        assert!(
            codes.contains(&"soft-float") && codes.contains(&"arm-arch"),
            "{r:#?}"
        );
        let msg = |code| {
            &r.findings
                .iter()
                .find(|f| f.code.as_str() == code)
                .unwrap()
                .message
        };
        assert!(
            msg("arm-arch").starts_with("built for ARMv6"),
            "{}",
            msg("arm-arch")
        );
        assert!(msg("arm-arch").contains("expected ARMv7"));
        assert!(msg("soft-float").starts_with("soft-float ABI: "));
        assert!(msg("soft-float").contains("hard-float bit"));
        assert!(msg("soft-float").contains("Tag_ABI_VFP_args"));
        assert!(
            r.description
                .starts_with("ELF 32-bit ARM, EABI5 soft-float, ARMv6"),
            "{}",
            r.description
        );
    }
}

#[test]
fn verify_object_and_shared_library_are_not_executables() {
    let Some(obj) = c_fixture("amd64-obj", "x86_64-linux-musl", None, &["-c"]) else {
        return;
    };
    let r = check(&obj, Some(Arch::Amd64));
    assert_eq!(error_codes(&r), ["not-executable"]);
    assert!(r.description.ends_with("relocatable"));
    let Some(so) = c_fixture("amd64-so", "x86_64-linux-musl", None, &["-shared", "-fPIC"]) else {
        return;
    };
    let r = check(&so, Some(Arch::Amd64));
    assert!(!r.passed());
    assert!(error_codes(&r).contains(&"not-executable"), "{r:#?}");
}

#[test]
fn verify_host_ls_is_dynamic() {
    let ls = Path::new("/bin/ls");
    if !ls.is_file() || Arch::host() != Some(Arch::Amd64) {
        util::skip("needs an amd64 host with /bin/ls");
        return;
    }
    let r = check(ls, Some(Arch::Amd64));
    assert!(!r.passed());
    assert_eq!(error_codes(&r), ["dynamic"]);
    let m = &r
        .findings
        .iter()
        .find(|f| f.code == recipe::verify::Code::Dynamic)
        .unwrap()
        .message;
    assert!(
        m.starts_with("dynamic: PT_INTERP /lib64/ld-linux-x86-64.so.2, needs "),
        "{m}"
    );
    assert!(m.ends_with("libc.so.6"), "{m}");
    assert!(
        r.description.contains(", dynamic-pie, glibc 2.")
            || r.description.contains(", dynamic, glibc 2."),
        "{}",
        r.description
    );
}

#[test]
fn verify_text_file_is_not_elf() {
    let r = check(&fixtures_src().join("hello.c"), Some(Arch::Amd64));
    assert_eq!(error_codes(&r), ["not-elf"]);
    assert_eq!(r.arch, None);
}

/// Go's internal linker records no float ABI; the GOARM in the build info stands in.
#[test]
fn verify_go_armv7_and_armv6() {
    if !util::require_tool("go") {
        return;
    }
    let go = PathBuf::from("go");
    let build = |goarm: &str| {
        let env = [
            ("GOOS", "linux"),
            ("GOARCH", "arm"),
            ("GOARM", goarm),
            ("CGO_ENABLED", "0"),
            ("GOTOOLCHAIN", "local"),
            ("GOFLAGS", "-trimpath"),
        ];
        build_cached(
            &format!("go-armv{goarm}"),
            "hello.go",
            &go,
            &["build", "-ldflags=-s -w"],
            &env,
        )
    };
    let v7 = build(Arch::Armv7.info().goarm.unwrap());
    let r = check(&v7, Some(Arch::Armv7));
    assert!(r.passed(), "{r:#?}");
    assert!(
        r.description
            .starts_with("ELF 32-bit ARM, EABI5 hard-float, ARMv7, static, Go 1."),
        "{}",
        r.description
    );
    let v6 = build("6");
    let r = check(&v6, Some(Arch::Armv7));
    assert_eq!(error_codes(&r), ["arm-arch"], "{r:#?}");
}

fn smoke_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn smoke_ok(arch: Arch) {
    let Some(bin) = ours(arch) else { return };
    if arch.info().qemu.is_some()
        && Arch::host() != Some(arch)
        && !util::require_tool(arch.info().qemu.unwrap())
    {
        return;
    }
    let dir = smoke_dir();
    let args = vec!["one two".to_string(), "3".to_string()];
    let o = run_smoke(
        arch,
        &bin,
        &args,
        "hello from recipe fixture one two 3",
        recipe::smoke::Place::Host {
            cwd: dir.path(),
            env: &[],
        },
        Duration::from_secs(60),
    )
    .unwrap();
    eprintln!("{o:#?}");
    assert!(o.passed(), "{o:#?}");
    assert_eq!(o.status(), Some(0));
    assert!(o.command.contains("'one two' 3"), "{}", o.command);
    if let Some(q) = arch.info().qemu.filter(|_| Arch::host() != Some(arch)) {
        assert!(o.command.contains(q), "{}", o.command);
    }
}

#[test]
fn verify_smoke_arm64_under_qemu() {
    smoke_ok(Arch::Arm64);
}

#[test]
fn verify_smoke_armv7_under_qemu() {
    smoke_ok(Arch::Armv7);
}

#[test]
fn verify_smoke_amd64_native() {
    smoke_ok(Arch::Amd64);
}

#[test]
fn verify_smoke_wrong_expect_fails() {
    let Some(bin) = ours(Arch::Arm64) else { return };
    if !util::require_tool("qemu-aarch64-static") {
        return;
    }
    let dir = smoke_dir();
    let o = run_smoke(
        Arch::Arm64,
        &bin,
        &[],
        "goodbye",
        recipe::smoke::Place::Host {
            cwd: dir.path(),
            env: &[],
        },
        Duration::from_secs(60),
    )
    .unwrap();
    assert!(!o.passed());
    assert_eq!(o.status(), Some(0));
    assert!(o.output.contains("hello from recipe fixture"));
    assert!(
        o.reason().contains("does not contain \"goodbye\""),
        "{}",
        o.reason()
    );
}

#[test]
fn verify_smoke_timeout_kills() {
    let Some(bin) = ours(Arch::Armv7) else { return };
    if !util::require_tool("qemu-arm-static") {
        return;
    }
    let dir = smoke_dir();
    let t = Instant::now();
    let o = run_smoke(
        Arch::Armv7,
        &bin,
        &["sleep".into()],
        "never",
        recipe::smoke::Place::Host {
            cwd: dir.path(),
            env: &[],
        },
        Duration::from_millis(1500),
    )
    .unwrap();
    eprintln!("{o:#?} after {:.1?}", t.elapsed());
    assert!(!o.passed());
    assert!(o.timed_out());
    assert_eq!(o.status(), None);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert!(o.reason().contains("timed out"));
}

#[test]
fn verify_smoke_missing_binary_is_an_error() {
    let dir = smoke_dir();
    let e = run_smoke(
        Arch::Amd64,
        &dir.path().join("nope"),
        &[],
        "x",
        recipe::smoke::Place::Host {
            cwd: dir.path(),
            env: &[],
        },
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not found"), "{e}");
}

/// Every byte of real static binaries (ARM attributes, dynamic section of a static-pie) mutated:
/// a report every time, never a panic or a hang.
#[test]
fn verify_mutated_real_binaries_never_panic() {
    let bins: Vec<(PathBuf, Arch)> = [
        ours(Arch::Armv7).map(|p| (p, Arch::Armv7)),
        c_fixture(
            "amd64-pie",
            "x86_64-linux-musl",
            None,
            &["-static-pie", "-fPIE", "-s"],
        )
        .map(|p| (p, Arch::Amd64)),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (bin, arch) in bins {
        let mut bytes = std::fs::read(&bin).unwrap();
        let t = Instant::now();
        for off in 0..bytes.len() {
            let old = bytes[off];
            for v in [old ^ 0xff, (off as u8).wrapping_mul(31)] {
                bytes[off] = v;
                let r = check_elf(&bytes, Some(arch));
                assert!(!r.description.is_empty());
            }
            bytes[off] = old;
        }
        eprintln!(
            "{}: {} mutations in {:.1?}",
            bin.display(),
            2 * bytes.len(),
            t.elapsed()
        );
        assert!(check_elf(&bytes, Some(arch)).passed());
    }
}

// ---------------------------------------------------------------------------------------------
// The same verdicts through `recipe verify`, as a user reads them.

#[test]
fn cli_verify_explains_each_verdict() {
    let ls = util::run(util::recipe().args(["verify", "/bin/ls"])).failure(1);
    ls.stdout_has("/bin/ls: FAIL")
        .stdout_has("dynamic: PT_INTERP /lib64/ld-linux-x86-64.so.2, needs ");

    let Some(amd64) = ours(Arch::Amd64) else {
        return;
    };
    util::run(util::recipe().arg("verify").arg(&amd64))
        .success()
        .stdout_has("ok: ELF 64-bit x86-64, static");
    util::run(
        util::recipe()
            .args(["verify", "--arch", "arm64"])
            .arg(&amd64),
    )
    .failure(1)
    .stdout_has("machine is x86-64, expected AArch64");

    let (Some(v7), Some(v6)) = (ours(Arch::Armv7), armv6()) else {
        return;
    };
    util::run(util::recipe().args(["verify", "--arch", "armv7"]).arg(&v7))
        .success()
        .stdout_has("EABI5 hard-float, ARMv7, static");
    util::run(util::recipe().args(["verify", "--arch", "armv7"]).arg(&v6))
        .failure(1)
        .stdout_has("built for ARMv6")
        .stdout_has("soft-float ABI");
    // Several files: each gets its own verdict, and the exit status says whether all passed.
    util::run(util::recipe().arg("verify").arg(&amd64).arg("/bin/ls"))
        .failure(1)
        .stdout_has(": ok: ")
        .stdout_has("/bin/ls: FAIL");
}

fn codes_of(r: &recipe::verify::ElfReport, sev: recipe::verify::Severity) -> Vec<&'static str> {
    r.findings
        .iter()
        .filter(|f| f.severity == sev)
        .map(|f| f.code.as_str())
        .collect()
}

fn facts(r: &recipe::verify::ElfReport) -> &recipe::verify::ElfFacts {
    r.facts.as_ref().expect("parsed ELF has facts")
}

/// A glibc static binary with `gcc -static`: without NSS lookups it passes (with a warning about
/// static glibc); with `getpwnam` it fails, naming the call.
#[test]
fn verify_glibc_static_with_and_without_getpwnam() {
    use recipe::verify::{Libc, Severity};
    if !util::require_tool("gcc") {
        return;
    }
    if Arch::host() != Some(Arch::Amd64) {
        util::skip("needs an amd64 host (gcc -static makes programs of the build machine)");
        return;
    }
    let gcc = PathBuf::from("gcc");
    let plain = build_cached(
        "glibc-static-hello",
        "hello.c",
        &gcc,
        &["-static", "-O2"],
        &[],
    );
    let r = check(&plain, Some(Arch::Amd64));
    assert!(r.passed(), "{r:#?}");
    assert!(matches!(facts(&r).libc, Libc::Glibc { .. }), "{r:#?}");
    assert_eq!(codes_of(&r, Severity::Warning), ["glibc-static"]);
    assert_eq!(r.description, "ELF 64-bit x86-64, static, glibc");
    assert_eq!(
        facts(&r).dlopen,
        None,
        "glibc's own dlopen is not the app's"
    );

    let pw = build_cached(
        "glibc-static-getpw",
        "getpw.c",
        &gcc,
        &["-static", "-O2"],
        &[],
    );
    let r = check(&pw, Some(Arch::Amd64));
    assert_eq!(error_codes(&r), ["nss"], "{r:#?}");
    let nss = r
        .findings
        .iter()
        .find(|f| f.code == recipe::verify::Code::Nss)
        .unwrap();
    assert!(nss.message.contains("it calls getpwnam"), "{}", nss.message);
    assert!(
        nss.message.contains("rebuild against musl"),
        "{}",
        nss.message
    );
    assert!(
        facts(&r)
            .runtime_files
            .iter()
            .any(|f| f.path == "/etc/passwd"),
        "{r:#?}"
    );
}

/// Debian's busybox-static: a static glibc binary that runs /bin/sh and does NSS lookups.
#[test]
fn verify_busybox_static() {
    use recipe::verify::Libc;
    let bb = Path::new("/bin/busybox");
    if !bb.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "busybox-static is required under CI (`scripts/setup.sh --tests` installs it)"
        );
        util::skip("/bin/busybox is missing (apt-get install busybox-static)");
        return;
    }
    let r = check(bb, None);
    assert_eq!(r.arch, Arch::host());
    let f = facts(&r);
    assert!(f.interpreter.is_none() && f.needed.is_empty(), "{r:#?}");
    assert!(matches!(f.libc, Libc::Glibc { .. }), "{r:#?}");
    assert!(
        f.shell.as_deref().unwrap_or("").contains("/bin/sh"),
        "{r:#?}"
    );
    assert!(error_codes(&r).contains(&"nss"), "{r:#?}");
}

/// A static musl C program calling system() and dlopen(): it passes (static is static) but the
/// shell and dlopen needs are warnings; a plain one has neither, and says musl.
#[test]
fn verify_musl_shell_and_dlopen_needs() {
    use recipe::verify::{Libc, Severity};
    let i = Arch::Amd64.info();
    let Some(zig) = zig() else { return };
    let args = ["cc", "-target", i.triple, "-Os", "-static", "-s"];
    let needs = build_cached("musl-needs", "needs.c", &zig, &args, &[]);
    let r = check(&needs, Some(Arch::Amd64));
    assert!(r.passed(), "{r:#?}");
    assert_eq!(facts(&r).libc, Libc::Musl);
    let warnings = codes_of(&r, Severity::Warning);
    assert!(
        warnings.contains(&"shell") && warnings.contains(&"dlopen"),
        "{r:#?}"
    );
    assert!(
        facts(&r)
            .dlopen
            .as_deref()
            .unwrap()
            .contains("musl's static dlopen stub"),
        "{r:#?}"
    );
    let plain = ours(Arch::Amd64).unwrap();
    let r = check(&plain, Some(Arch::Amd64));
    assert_eq!(
        codes_of(&r, Severity::Warning),
        Vec::<&str>::new(),
        "{r:#?}"
    );
    let f = facts(&r);
    assert_eq!(
        (f.libc.clone(), f.shell.clone(), f.dlopen.clone()),
        (Libc::Musl, None, None)
    );
    assert!(f.hardening.nx_stack && f.hardening.stripped, "{r:#?}");
    assert!(r.description.ends_with("static, musl"), "{}", r.description);
}

/// `recipe verify --json`: one object per file with findings and facts; exit 1 when one fails.
#[test]
fn verify_json_reports_facts() {
    let ls = Path::new("/bin/ls");
    if !ls.is_file() || Arch::host() != Some(Arch::Amd64) {
        util::skip("needs an amd64 host with /bin/ls");
        return;
    }
    let Some(plain) = ours(Arch::Amd64) else {
        return;
    };
    let out = util::run(
        util::recipe()
            .arg("verify")
            .arg("--json")
            .arg(ls)
            .arg(&plain),
    )
    .failure(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let files = v.as_array().unwrap();
    assert_eq!(files.len(), 2);
    let ls = &files[0];
    assert_eq!(ls["passed"], false);
    assert_eq!(ls["arch"], "amd64");
    assert_eq!(ls["facts"]["libc"]["name"], "glibc");
    assert_eq!(ls["facts"]["interpreter"], "/lib64/ld-linux-x86-64.so.2");
    assert!(
        ls["facts"]["needed"]
            .as_array()
            .unwrap()
            .contains(&"libc.so.6".into())
    );
    assert_eq!(ls["facts"]["hardening"]["pie"], true);
    assert_eq!(ls["findings"][0]["code"], "dynamic");
    assert_eq!(ls["findings"][0]["severity"], "error");
    let ours = &files[1];
    assert_eq!(ours["passed"], true);
    assert_eq!(ours["facts"]["libc"]["name"], "musl");
    assert_eq!(ours["facts"]["kind"], "executable");
    // A missing file gets a row with a reason, not a crash, and is bad input: exit 2.
    let out = util::run(util::recipe().args(["verify", "--json", "/nonexistent/x"])).failure(2);
    assert!(out.stdout.contains("cannot read"), "{}", out.stdout);
}

/// `recipe verify` of a FIFO blocked forever in open(2): it is refused as no regular file.
#[test]
fn verify_refuses_a_fifo_without_blocking() {
    let t = tempfile::tempdir().unwrap();
    let fifo = t.path().join("f");
    crate::check::mkfifo(&fifo);
    let (o, _) = crate::check::guarded(&[std::ffi::OsStr::new("verify"), fifo.as_os_str()], &[]);
    o.failure(2)
        .stdout_has("FAIL: cannot read: a FIFO, not a regular file");
}

/// A file name with terminal control characters and a line break is printed escaped: it can
/// neither colour the terminal nor forge a line of `recipe verify`'s own output.
#[test]
fn verify_prints_a_hostile_file_name_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "x\u{1b}[32m\nrecipe: all good\r";
    let path = dir.path().join(name);
    std::fs::write(&path, b"not an elf").unwrap();
    let o = crate::util::run(crate::util::recipe().arg("verify").arg(&path));
    let all = format!("{}{}", o.stdout, o.stderr);
    assert!(!all.contains('\u{1b}') && !all.contains('\r'), "{all}");
    assert!(
        !all.lines().any(|l| l.starts_with("recipe: all good")),
        "a forged line:\n{all}"
    );
    assert!(all.contains("x\\x1b[32m\\nrecipe: all good\\r"), "{all}");
}
