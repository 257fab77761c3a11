//! The compiler wrappers behave like a native compiler to build systems: the probes of
//! autoconf and of Makefiles get the same answers through `<triple>-cc` as through the host's
//! gcc, for every arch; and the fixtures whose builds those answers broke build now.

use std::path::PathBuf;
use std::process::Command;

use recipe::arch::Arch;

use crate::util::*;

/// A compiler under test: its name in messages, `CC` and the environment it runs with.
struct Cc {
    name: String,
    cc: PathBuf,
    env: Vec<(String, String)>,
}

/// The answer of one probe.
#[derive(Debug)]
struct Answer {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Our wrappers for `arch`, written by `recipe toolchain` into the shared cache (zig's libc
/// built there once per target), or None when skipped.
fn ours(arch: Arch) -> Option<Cc> {
    if !require_tool("python3") {
        return None;
    }
    run(recipe().args(["toolchain", "--print", "zig"])).success();
    let version = recipe::toolchain::Specs::load(None).unwrap().zig.version;
    let cache = shared_cache();
    let w = recipe::toolchain::wrappers::paths(&cache, &version, arch, false);
    let triple = arch.info().triple;
    Some(Cc {
        name: format!("{triple}-cc"),
        cc: w.cc,
        env: vec![
            (
                "ZIG_GLOBAL_CACHE_DIR".into(),
                cache.join("zig").join(triple).display().to_string(),
            ),
            (
                "ZIG_LOCAL_CACHE_DIR".into(),
                cache.join("zig").join(triple).display().to_string(),
            ),
        ],
    })
}

fn gcc() -> Option<Cc> {
    require_tool("gcc").then(|| Cc {
        name: "gcc".into(),
        cc: "gcc".into(),
        env: vec![],
    })
}

/// Runs the shell `script` with `$CC` set, in a fresh folder holding `files`.
fn probe(cc: &Cc, files: &[(&str, &str)], script: &str) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
    let o = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir.path())
        .env("CC", &cc.cc)
        .envs(cc.env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    Answer {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

const MAIN: &str = "int main(void) { return 0; }\n";
const DYNAMIC_LIST: &str = "{ main; };\n";
const VERSION_SCRIPT: &str = "V1 { global: main; local: *; };\n";

/// One probe: a name, the files it starts from, the script, and whether gcc's answer is yes
/// (checked, so that a probe that says nothing about the compiler cannot hide here).
struct Probe {
    name: String,
    files: Vec<(&'static str, String)>,
    script: String,
    gcc_says: bool,
}

fn p(name: &str, files: &[(&'static str, &str)], script: &str, gcc_says: bool) -> Probe {
    Probe {
        name: name.into(),
        files: files.iter().map(|(n, t)| (*n, t.to_string())).collect(),
        script: script.into(),
        gcc_says,
    }
}

/// A `conftest.c` as autoconf writes it: confdefs first, then the test body.
fn conftest(body: &str) -> String {
    format!("/* confdefs.h */\n#define PACKAGE \"x\"\n{body}")
}

fn probes() -> Vec<Probe> {
    let c = |body: &str| conftest(body);
    let mut v = vec![
        // autoconf's AC_PROG_CC, AC_COMPILE_IFELSE, AC_LINK_IFELSE, AC_PROG_CPP, AC_CHECK_FUNC.
        p(
            "compile",
            &[("conftest.c", &c(MAIN))],
            "$CC -c conftest.c && test -s conftest.o",
            true,
        ),
        p(
            "link",
            &[("conftest.c", &c(MAIN))],
            "$CC -o conftest conftest.c && test -s conftest",
            true,
        ),
        p(
            "compile error",
            &[(
                "conftest.c",
                &c("int main(void) { return undeclared_thing; }\n"),
            )],
            "$CC -c conftest.c",
            false,
        ),
        p(
            "preprocess",
            &[(
                "conftest.c",
                &c(
                    "#ifdef __STDC__\n# include <limits.h>\n#else\n# include <assert.h>\n#endif\n\t\t     Syntax error\n",
                ),
            )],
            "$CC -E conftest.c > conftest.i && grep -q 'Syntax error' conftest.i",
            true,
        ),
        p(
            "preprocess a missing header",
            &[("conftest.c", &c("#include <ac_nonexistent.h>\n"))],
            "$CC -E conftest.c >/dev/null",
            false,
        ),
        p(
            "function exists",
            &[(
                "conftest.c",
                &c("char strlen (void);\nint main (void) { return strlen (); }\n"),
            )],
            "$CC -o conftest conftest.c",
            true,
        ),
        p(
            "function missing",
            &[(
                "conftest.c",
                &c(
                    "char recipe_no_such_function (void);\nint main (void) { return recipe_no_such_function (); }\n",
                ),
            )],
            "$CC -o conftest conftest.c",
            false,
        ),
        p(
            "preprocess to -o file",
            &[("conftest.c", &c("int preprocessed_marker;\n"))],
            "$CC -E conftest.c -o conftest.i && grep -q preprocessed_marker conftest.i",
            true,
        ),
        p(
            "version-script link",
            &[("conftest.c", MAIN), ("conftest.map", VERSION_SCRIPT)],
            "$CC -o conftest conftest.c -Wl,--version-script=conftest.map",
            true,
        ),
        p(
            "dynamic-list link",
            &[("conftest.c", MAIN), ("conftest.dyn", DYNAMIC_LIST)],
            "$CC -rdynamic -o conftest conftest.c -Wl,--dynamic-list=conftest.dyn",
            true,
        ),
        p(
            "dynamic-list in a comma list",
            &[("conftest.c", MAIN), ("conftest.dyn", DYNAMIC_LIST)],
            "$CC -o conftest conftest.c -Wl,-z,relro,--dynamic-list,conftest.dyn,--as-needed -Wl,-E -Wl,--export-dynamic",
            true,
        ),
        p(
            "dynamic-list in ld's other spellings",
            &[("conftest.c", MAIN), ("conftest.dyn", DYNAMIC_LIST)],
            "$CC -o conftest conftest.c -Wl,-dynamic-list=conftest.dyn -Wl,-dynamic-list,conftest.dyn -Xlinker --dynamic-list -Xlinker conftest.dyn -Wl,-no-export-dynamic",
            true,
        ),
    ];
    // The cc-opt pattern of Makefiles (Linux's `cc-option`, and many apps'): preprocess empty
    // input with the flag, output to /dev/null, stdout onto stdin's read-only /dev/null.
    for (flag, gcc_takes) in [
        ("-fwrapv", true),
        ("-fno-strict-aliasing", true),
        ("-fno-strict-overflow", true),
        ("-fstack-protector-strong", true),
        ("-Wno-unused-parameter", true),
        ("-frecipe-no-such-flag", false),
    ] {
        v.push(p(
            &format!("cc-opt {flag}"),
            &[],
            &format!("$CC -Werror {flag} -E -xc - -o /dev/null </dev/null >&0"),
            gcc_takes,
        ));
    }
    v
}

fn conformance(arch: Arch) {
    let (Some(gcc), Some(ours)) = (gcc(), ours(arch)) else {
        return;
    };
    let mut differ = Vec::new();
    for Probe {
        name,
        files,
        script,
        gcc_says,
    } in probes()
    {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let g = probe(&gcc, &files, &script);
        assert_eq!(g.ok, gcc_says, "gcc's answer to `{name}` changed: {g:?}");
        let o = probe(&ours, &files, &script);
        if o.ok != g.ok {
            differ.push(format!(
                "{name} (`{script}`): gcc {}, {} {}: {}",
                g.ok, ours.name, o.ok, o.stderr
            ));
        }
    }
    assert!(differ.is_empty(), "{arch}:\n{}", differ.join("\n"));

    // -dumpmachine: one line, a triple of the target (gcc's is the build machine's).
    let dm = probe(&ours, &[], "$CC -dumpmachine");
    let line = dm.stdout.trim();
    let target_cpu = arch.info().triple.split('-').next().unwrap();
    assert!(dm.ok && !line.contains('\n'), "{dm:?}");
    assert!(
        line.starts_with(&format!("{target_cpu}-")) && line.contains("linux-musl"),
        "{arch}: -dumpmachine says {line}"
    );
    let g = probe(&gcc, &[], "$CC -dumpmachine");
    assert!(g.ok && g.stdout.trim().contains("linux"), "{g:?}");

    // -print-prog-name=ld: a linker that runs and calls itself GNU (libtool's test), for the
    // target: ours names our LD wrapper, not the build machine's /usr/bin/ld.
    for cc in [&gcc, &ours] {
        let a = probe(cc, &[], "ld=$($CC -print-prog-name=ld) && \"$ld\" -v");
        assert!(a.ok && a.stdout.contains("GNU"), "{}: {a:?}", cc.name);
    }
    let ld = probe(&ours, &[], "$CC -print-prog-name=ld");
    assert!(
        ld.stdout
            .trim()
            .ends_with(&format!("{}-ld", arch.info().triple)),
        "{ld:?}"
    );
}

#[test]
fn probes_answer_like_gcc_for_amd64() {
    conformance(Arch::Amd64);
}

#[test]
fn probes_answer_like_gcc_for_arm64() {
    conformance(Arch::Arm64);
}

#[test]
fn probes_answer_like_gcc_for_armv7() {
    conformance(Arch::Armv7);
}

/// Builds the fixture recipe `name` for every arch from scratch (`--rebuild`: the build
/// cache must not answer for the wrappers) and checks each binary is static and passed its
/// smoke test (which is where a silently miscompiled app shows); the scratch folder it built
/// in, unless skipped.
fn builds_for_every_arch(name: &str) -> Option<Scratch> {
    if !tools_for_builds() {
        return None;
    }
    let _l = build_lock();
    let (s, out) = build_fixture(name, "all");
    for arch in Arch::ALL {
        assert!(
            out.stderr
                .contains(&format!("{name}/{arch}: smoke test passed")),
            "{arch}: {}",
            out.stderr
        );
        let bin = s.out().join(name).join("bin").join(arch.name()).join(name);
        run(recipe().args(["verify", "--arch", arch.name()]).arg(&bin))
            .success()
            .stdout_has("static");
    }
    Some(s)
}

/// `$(CC) -Werror -fwrapv -E -xc - -o /dev/null </dev/null >&0` must succeed, or the Makefile
/// drops -fwrapv and the program (which checks itself) is miscompiled.
#[test]
fn a_makefile_cc_opt_probe_keeps_its_flag() {
    builds_for_every_arch("wrap-ccopt");
}

/// `-rdynamic -Wl,--dynamic-list=FILE` links (zig rejected the dynamic list).
#[test]
fn a_dynamic_list_link_builds() {
    builds_for_every_arch("wrap-dynlist");
}

/// A configure that turns coverage on where it finds gcov does not find the build machine's.
#[test]
fn a_configure_that_finds_gcov_does_not_turn_coverage_on() {
    builds_for_every_arch("wrap-gcov");
}

/// A build with coverage turned on anyway (as a configure leaves it when it finds gcov under
/// another name: instrumentation flags at compile and link, libgcov linked) builds, and its
/// programs are not instrumented (an instrumented one names its `.gcda` files).
#[test]
fn a_build_with_coverage_turned_on_builds_uninstrumented() {
    let Some(s) = builds_for_every_arch("wrap-coverage") else {
        return;
    };
    for arch in Arch::ALL {
        let bin = s
            .out()
            .join("wrap-coverage/bin")
            .join(arch.name())
            .join("wrap-coverage");
        let bytes = std::fs::read(&bin).unwrap();
        assert!(
            !bytes.windows(4).any(|w| w == b"gcda"),
            "{arch}: instrumented"
        );
    }
}

/// Coverage asked for in a probe is dropped: the program compiles, links and runs without
/// instrumentation; a probe for a libgcov symbol fails, as there is no libgcov for the target.
#[test]
fn coverage_instrumentation_is_dropped_and_the_program_is_not_instrumented() {
    let Some(ours) = ours(Arch::Amd64) else {
        return;
    };
    let a = probe(
        &ours,
        &[("conftest.c", MAIN)],
        "$CC --coverage -fprofile-arcs -ftest-coverage -c conftest.c && \
         $CC --coverage -o conftest conftest.o -lgcov -Wl,-lgcov && ./conftest && \
         ! grep -q gcda conftest && ! ls *.gcno *.gcda 2>/dev/null",
    );
    assert!(a.ok, "{a:?}");
    // clang's context-sensitive profiling, and libgcov split over two linker arguments.
    let a = probe(
        &ours,
        &[("conftest.c", MAIN)],
        "$CC -fcs-profile-generate -c conftest.c && \
         $CC -fcs-profile-generate=prof -o conftest conftest.o -Xlinker -l -Xlinker gcov \
         -Wl,--library -Wl,gcov && ./conftest && ! grep -q profraw conftest",
    );
    assert!(a.ok, "{a:?}");
    let gcov = "extern void __gcov_dump(void);\nint main(void) { __gcov_dump(); return 0; }\n";
    let a = probe(
        &ours,
        &[("conftest.c", gcov)],
        "$CC --coverage -o conftest conftest.c -lgcov",
    );
    assert!(!a.ok && a.stderr.contains("__gcov_dump"), "{a:?}");
}

/// A Makefile that links with `$(CC) $(LDFLAGS)` and no `$(CFLAGS)` gives zig a link line
/// without a level, which zig links in its Debug mode (libc and compiler-rt built for
/// debugging, no unused sections dropped). The wrapper gives such a line the job's level
/// (`RECIPE_OPT_LEVEL`): the program is the same bytes as one linked with the level written
/// out, and smaller than the one linked without.
#[test]
fn a_link_line_without_a_level_is_linked_at_the_jobs_level() {
    let Some(cc) = ours(Arch::Amd64) else {
        return;
    };
    let prog = "#include <stdio.h>\nint main(int c, char **v) { printf(\"%llu\\n\", (unsigned long long)c * 7u / 3u); return v == 0; }\n";
    let a = probe(
        &cc,
        &[("a.c", prog)],
        "set -e; $CC -O2 -c a.c -o a.o; \
         $CC -static a.o -o plain; \
         RECIPE_OPT_LEVEL=-O2 $CC -static a.o -o job; \
         $CC -static -O2 a.o -o explicit; \
         cmp job explicit && echo same; \
         echo $(wc -c < plain) $(wc -c < explicit)",
    );
    assert!(a.ok, "{a:?}");
    let mut lines = a.stdout.lines();
    assert_eq!(lines.next(), Some("same"), "{a:?}");
    let sizes: Vec<u64> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(
        sizes[0] > sizes[1],
        "without a level {} bytes, with {}",
        sizes[0],
        sizes[1]
    );
}
