//! Unit tests of the compiler-wrapper mode: the argument filter and the launcher rule.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::filter::{Action, Context, filter};

const MULTIARCH: &[&str] = &[
    "x86_64-linux-gnu",
    "aarch64-linux-gnu",
    "arm-linux-gnueabihf",
];

fn cx() -> Context<'static> {
    Context {
        triple: "aarch64-linux-musl",
        rust_target: "aarch64-unknown-linux-musl",
        dir: Path::new("/c/w"),
        multiarch: MULTIARCH,
        level: None,
    }
}

fn f(args: &[&str]) -> Action {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    filter(&cx(), &args)
}

/// The arguments zig gets, when it runs with stdout untouched.
fn passed(args: &[&str]) -> Vec<String> {
    match f(args) {
        Action::Run { args, stdout: None } => {
            args.into_iter().map(|a| a.into_string().unwrap()).collect()
        }
        other => panic!("{args:?}: {other:?}"),
    }
}

#[test]
fn ordinary_arguments_pass_through_untouched_and_in_order() {
    let args = [
        "-O2",
        "-Wall",
        "-DX=1,2",
        "-I/w/sysroot/usr/local/include",
        "-L/w/sysroot/usr/local/lib",
        "-c",
        "a.c",
        "-o",
        "a.o",
        "-Wl,--version-script=v.map",
        "-Wl,-z,relro,-z,now",
        "-Xlinker",
        "--gc-sections",
        "-static",
        "@args.rsp",
        "-print-prog-name=cc1",
        "-dumpmachine",
        "-",
    ];
    assert_eq!(passed(&args), args);
}

/// zig gives clang `-Os` for `-Oz`; the wrapper says `-Oz` to clang itself, unless a later
/// level wins.
#[test]
fn oz_reaches_clang_when_it_is_the_last_level() {
    assert_eq!(
        passed(&["-Oz", "-c", "a.c"]),
        ["-Oz", "-c", "a.c", "-Xclang", "-Oz"]
    );
    assert_eq!(
        passed(&["-O2", "-flto", "-Oz", "a.o", "-o", "a"]),
        ["-O2", "-flto", "-Oz", "a.o", "-o", "a", "-Xclang", "-Oz"]
    );
    for later in ["-O2", "-Os", "-O", "-O0", "-Ofast"] {
        assert_eq!(
            passed(&["-Oz", "-c", "a.c", later]),
            ["-Oz", "-c", "a.c", later]
        );
    }
    // not a level: a define
    assert_eq!(passed(&["-Oz", "-c", "a.c", "-DO=-Os"]).len(), 6);
    assert_eq!(passed(&["-Os", "-c", "a.c"]), ["-Os", "-c", "a.c"]);
}

/// A link line that names no level gets the job's: zig would link it in Debug mode (libc and
/// compiler-rt for debugging, no unused sections dropped). A compile line, a line with its own
/// level, and a line with no job level are left alone.
#[test]
fn a_link_line_without_a_level_gets_the_jobs() {
    let with = |level: &'static str, args: &[&str]| -> Vec<String> {
        let cx = Context {
            level: Some(level),
            ..cx()
        };
        match filter(&cx, &args.iter().map(OsString::from).collect::<Vec<_>>()) {
            Action::Run { args, .. } => {
                args.into_iter().map(|a| a.into_string().unwrap()).collect()
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        with("-O2", &["-static", "-o", "dnsmasq", "cache.o", "util.o"]),
        ["-static", "-o", "dnsmasq", "cache.o", "util.o", "-O2"]
    );
    assert_eq!(
        with("-Oz", &["a.o", "-o", "a"]),
        ["a.o", "-o", "a", "-Oz", "-Xclang", "-Oz"]
    );
    assert_eq!(
        with("-Os", &["-shared", "-o", "libx.so", "x.o"]),
        ["-shared", "-o", "libx.so", "x.o", "-Os"]
    );
    for own in [
        &["-c", "a.c"][..],
        &["-E", "a.c"],
        &["-M", "a.c"],
        &["-dumpmachine"],
        &["--version"],
        &["-O0", "a.o", "-o", "a"],
        &["a.o", "-o", "a", "-O3"],
    ] {
        assert_eq!(with("-O2", own), own, "{own:?}");
    }
    assert_eq!(passed(&["a.o", "-o", "a"]), ["a.o", "-o", "a"]);
}

#[test]
fn rdynamic_and_export_dynamic_are_dropped() {
    assert_eq!(passed(&["-rdynamic", "-o", "a", "a.c"]), ["-o", "a", "a.c"]);
    for opt in ["-Wl,-E", "-Wl,--export-dynamic", "-Wl,-export-dynamic"] {
        assert_eq!(passed(&[opt, "a.c"]), ["a.c"], "{opt}");
    }
}

#[test]
fn a_dynamic_list_is_dropped_with_its_file_in_every_spelling() {
    assert_eq!(passed(&["-Wl,--dynamic-list=x.list", "a.c"]), ["a.c"]);
    assert_eq!(passed(&["-Wl,--dynamic-list,x.list", "a.c"]), ["a.c"]);
    assert_eq!(
        passed(&["-Wl,--dynamic-list", "-Wl,x.list", "a.c"]),
        ["a.c"]
    );
    assert_eq!(
        passed(&["-Xlinker", "--dynamic-list", "-Xlinker", "x.list", "a.c"]),
        ["a.c"]
    );
    assert_eq!(
        passed(&[
            "-Wl,--export-dynamic-symbol=main,--dynamic-list-data",
            "a.c"
        ]),
        ["a.c"]
    );
    for opt in [
        "-Wl,--dynamic-list-cpp-new",
        "-Wl,--dynamic-list-cpp-typeinfo",
        "-Wl,-Bsymbolic-functions",
        "-Wl,--warn-common",
        "-Wl,--no-copy-dt-needed-entries",
    ] {
        assert_eq!(passed(&[opt]), Vec::<String>::new(), "{opt}");
    }
}

/// Every spelling ld accepts of every dropped option: one or two dashes, `=VALUE` or the value
/// as the next item of a `-Wl,` list, of the next `-Wl,` argument or of the next `-Xlinker`.
#[test]
fn every_ld_spelling_of_every_dropped_option_is_dropped() {
    let flags = [
        "export-dynamic",
        "no-export-dynamic",
        "dynamic-list-data",
        "dynamic-list-cpp-new",
        "dynamic-list-cpp-typeinfo",
        "Bsymbolic-functions",
        "warn-common",
        "copy-dt-needed-entries",
        "no-copy-dt-needed-entries",
    ];
    let valued = [
        "dynamic-list",
        "export-dynamic-symbol",
        "export-dynamic-symbol-list",
    ];
    for dashes in ["-", "--"] {
        for name in flags {
            let o = format!("{dashes}{name}");
            for args in [
                vec![format!("-Wl,{o}"), "a.c".into()],
                vec![format!("-Wl,-z,now,{o},--gc-sections"), "a.c".into()],
                vec!["-Xlinker".into(), o.clone(), "a.c".into()],
            ] {
                let kept = passed(&args.iter().map(String::as_str).collect::<Vec<_>>());
                assert!(
                    kept == ["a.c"] || kept == ["-Wl,-z,now,--gc-sections", "a.c"],
                    "{args:?}: {kept:?}"
                );
            }
        }
        for name in valued {
            let o = format!("{dashes}{name}");
            for args in [
                vec![format!("-Wl,{o}=x.list")],
                vec![format!("-Wl,{o},x.list")],
                vec![format!("-Wl,{o}"), "-Wl,x.list".into()],
                vec!["-Xlinker".into(), format!("{o}=x.list")],
                vec![
                    "-Xlinker".into(),
                    o.clone(),
                    "-Xlinker".into(),
                    "x.list".into(),
                ],
                vec![format!("-Wl,{o}"), "-Xlinker".into(), "x.list".into()],
            ] {
                let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
                all.push("a.c");
                assert_eq!(passed(&all), ["a.c"], "{args:?}");
            }
        }
    }
    // ld's `-E` is a short option: `-Wl,-E` and `-Xlinker -E` only.
    assert_eq!(passed(&["-Xlinker", "-E", "a.c"]), ["a.c"]);
    assert_eq!(passed(&["-Wl,--E", "a.c"]), ["-Wl,--E", "a.c"]);
    // Names that only share a beginning with a dropped one are other options.
    for kept in [
        "-Wl,-Bsymbolic",
        "-Wl,--dynamic-linker=/lib/ld.so",
        "-Wl,-dy",
        "-Wl,---dynamic-list=x",
        "-Wl,--export-dynamic-symbol-lists=x",
    ] {
        assert_eq!(passed(&[kept]), [kept]);
    }
}

#[test]
fn a_spelling_ld_reads_otherwise_is_refused_naming_the_accepted_ones() {
    let refused = |args: &[&str]| match f(args) {
        Action::Refuse(m) => m,
        other => panic!("{args:?}: {other:?}"),
    };
    // A value given to a flag.
    let m = refused(&["-Wl,--export-dynamic=main", "a.c"]);
    assert!(m.contains("`--export-dynamic=main`"), "{m}");
    assert!(m.contains("takes none"), "{m}");
    assert!(
        m.contains("`-Wl,--export-dynamic`, `-Wl,-export-dynamic`, `-Xlinker --export-dynamic` or `-Xlinker -export-dynamic`"),
        "{m}"
    );
    // An abbreviation, in a list and after -Xlinker.
    for args in [
        &["-Wl,-z,now,--dynamic-li=x.list", "a.c"][..],
        &["-Xlinker", "-dynamic-li", "-Xlinker", "x.list"],
    ] {
        let m = refused(args);
        assert!(
            m.contains("abbreviates `--dynamic-list`, `--dynamic-list-data`"),
            "{m}"
        );
        assert!(m.contains("`-Wl,--dynamic-list=FILE`"), "{m}");
        assert!(m.contains("`-Wl,-dynamic-list,FILE`"), "{m}");
        assert!(m.contains("`-Xlinker --dynamic-list -Xlinker FILE`"), "{m}");
    }
    let m = refused(&["-Wl,--export-dyn"]);
    assert!(
        m.contains(
            "`--export-dynamic`, `--export-dynamic-symbol` or `--export-dynamic-symbol-list`"
        ),
        "{m}"
    );
    // A value missing at the end.
    for args in [
        &["a.c", "-Wl,--dynamic-list"][..],
        &["a.c", "-Xlinker", "-dynamic-list"],
        &["a.c", "-Wl,-export-dynamic-symbol"],
    ] {
        let m = refused(args);
        assert!(m.contains("lacks its"), "{m}");
        assert!(m.contains("-Xlinker"), "{m}");
    }
}

#[test]
fn a_comma_list_keeps_the_options_that_mean_something() {
    assert_eq!(
        passed(&["-Wl,-z,relro,--dynamic-list=x.list,--as-needed,-E,--gc-sections"]),
        ["-Wl,-z,relro,--as-needed,--gc-sections"]
    );
    // The value after a dropped option is dropped, not the option after it.
    assert_eq!(
        passed(&["-Wl,--dynamic-list,x.list,--gc-sections"]),
        ["-Wl,--gc-sections"]
    );
    // `-E` as a linker option is not the driver's `-E`.
    assert_eq!(
        passed(&["-Xlinker", "-E", "-o", "out", "a.c"]),
        ["-o", "out", "a.c"]
    );
}

#[test]
fn preprocessing_with_o_file_sends_stdout_to_the_file() {
    let run = |args: &[&str]| match f(args) {
        Action::Run { args, stdout } => (
            args.into_iter()
                .map(|a| a.into_string().unwrap())
                .collect::<Vec<_>>(),
            stdout,
        ),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        run(&["-Werror", "-fwrapv", "-E", "-xc", "-", "-o", "/dev/null"]),
        (
            ["-Werror", "-fwrapv", "-E", "-xc", "-"]
                .map(String::from)
                .to_vec(),
            Some(PathBuf::from("/dev/null"))
        )
    );
    assert_eq!(
        run(&["-E", "-oout.i", "a.c"]),
        (
            ["-E", "a.c"].map(String::from).to_vec(),
            Some(PathBuf::from("out.i"))
        )
    );
    // `-o -` is standard output already.
    assert_eq!(
        run(&["-E", "a.c", "-o", "-"]),
        (["-E", "a.c"].map(String::from).to_vec(), None)
    );
    // Without -E, -o stays with zig.
    assert_eq!(
        run(&["-c", "a.c", "-o", "a.o"]),
        (["-c", "a.c", "-o", "a.o"].map(String::from).to_vec(), None)
    );
}

#[test]
fn the_leak_guard_refuses_host_folders_in_every_form() {
    for arg in [
        "-I/usr/include",
        "-I/usr/include/openssl",
        "-I/usr/local/include",
        "-isystem/usr/include",
        "-L/usr/lib",
        "-L/lib/x",
        "-L/usr/local/lib",
        "-L/usr/lib/x86_64-linux-gnu",
        "-I/usr/include/aarch64-linux-gnu",
        "-Wl,-rpath-link,/usr/lib/arm-linux-gnueabihf",
    ] {
        match f(&["-c", arg, "a.c"]) {
            Action::Refuse(m) => assert!(
                m.starts_with("leak guard: host path `") && m.contains(arg),
                "{m}"
            ),
            other => panic!("{arg}: {other:?}"),
        }
    }
    match f(&["-I", "/usr/include", "a.c"]) {
        Action::Refuse(m) => assert!(m.contains("`-I/usr/include`"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Names that only start like a host folder pass.
    assert_eq!(
        passed(&["-I/usr/includes", "-L/library"]),
        ["-I/usr/includes", "-L/library"]
    );
}

/// Coverage and profile instrumentation, and the coverage runtime, are dropped in every
/// spelling, at compile and link alike: the build proceeds uninstrumented, so no object asks
/// for a `__gcov_*` symbol the target cannot link.
#[test]
fn coverage_instrumentation_is_dropped_in_every_spelling() {
    for arg in [
        "--coverage",
        "-coverage",
        "-fprofile-arcs",
        "-ftest-coverage",
        "-fprofile-generate",
        "-fprofile-generate=/tmp/prof",
        "-fprofile-instr-generate",
        "-fprofile-instr-generate=x.profraw",
        "-fcs-profile-generate",
        "-fcs-profile-generate=/tmp/prof",
        "-fcoverage-mapping",
        "-lgcov",
        "-l:libgcov.a",
        "-Wl,-lgcov",
        "-Wl,--library=gcov",
        "-Wl,-l,gcov",
        "-Wl,-l:libgcov.a",
    ] {
        assert_eq!(
            passed(&["-O2", arg, "-c", "a.c"]),
            ["-O2", "-c", "a.c"],
            "{arg}"
        );
    }
    // The pairs leave together; the other items of a linker list stay.
    assert_eq!(passed(&["a.o", "-l", "gcov", "-lz"]), ["a.o", "-lz"]);
    assert_eq!(passed(&["a.o", "-Xlinker", "-lgcov"]), ["a.o"]);
    assert_eq!(
        passed(&["a.o", "-Xlinker", "--library=:libgcov.a", "-Xlinker", "-z"]),
        ["a.o", "-Xlinker", "-z"]
    );
    assert_eq!(
        passed(&["-Wl,-O1,-lgcov,--as-needed", "a.o"]),
        ["-Wl,-O1,--as-needed", "a.o"]
    );
    assert_eq!(passed(&["-Wl,-l,z,-l,gcov", "a.o"]), ["-Wl,-l,z", "a.o"]);
    // What only looks alike passes: another library, another option, profile data used.
    for arg in [
        "-fcs-profile-generate-x",
        "-fprofile-use=x.prof",
        "-fprofile-use",
        "-fno-coverage-mapping",
        "-fprofile-generate-sampling",
        "-lgcovx",
        "-Wl,-lgcc",
    ] {
        assert_eq!(passed(&[arg]), [arg]);
    }
    assert_eq!(passed(&["-l", "z", "a.o"]), ["-l", "z", "a.o"]);
    assert_eq!(passed(&["a.o", "-l"]), ["a.o", "-l"]);
}

/// libgcov named in two linker items of two arguments (`-Xlinker -l -Xlinker gcov`,
/// `-Wl,-l -Wl,gcov`, and with `--library`) leaves like `-lgcov`, both arguments together
/// (or the `-l` alone, from a list with other items); another library written so passes
/// untouched, and the item after `-l` is the library's name whatever it looks like.
#[test]
fn gcov_split_across_linker_arguments_is_dropped() {
    for split in [
        &["-Xlinker", "-l", "-Xlinker", "gcov"][..],
        &["-Xlinker", "--library", "-Xlinker", "gcov"],
        &["-Xlinker", "-l", "-Xlinker", ":libgcov.a"],
        &["-Wl,-l", "-Wl,gcov"],
        &["-Wl,--library", "-Wl,gcov"],
        &["-Wl,-l", "-Xlinker", "gcov"],
        &["-Xlinker", "--library", "-Wl,gcov"],
    ] {
        let mut args = vec!["a.o"];
        args.extend_from_slice(split);
        args.push("-lz");
        assert_eq!(passed(&args), ["a.o", "-lz"], "{split:?}");
    }
    // The other items of the lists stay; arguments between the two halves keep their place.
    assert_eq!(
        passed(&["-Wl,-O1,-l", "a.o", "-Wl,gcov,--as-needed"]),
        ["-Wl,-O1", "a.o", "-Wl,--as-needed"]
    );
    assert_eq!(
        passed(&["-Xlinker", "-l", "a.o", "-Xlinker", "gcov", "-lz"]),
        ["a.o", "-lz"]
    );
    // Another library split the same way passes untouched.
    for split in [
        &["-Xlinker", "-l", "-Xlinker", "m"][..],
        &["-Xlinker", "--library", "-Xlinker", "m"],
        &["-Wl,-l", "-Wl,m"],
        &["-Wl,--library", "-Wl,m"],
        &["-Wl,-O1,-l", "a.o", "-Wl,m,--as-needed"],
        &["-Wl,-l", "-Wl,gcovx"],
        &["-Xlinker", "-l", "-Xlinker", "--export-dynamic"],
        &["-Wl,-l,--export-dynamic"],
        &["a.o", "-Wl,-l"],
    ] {
        assert_eq!(passed(split), split, "{split:?}");
    }
}

#[test]
fn print_prog_name_names_our_wrappers_for_our_tools_only() {
    for tool in ["ld", "ar", "ranlib", "strip"] {
        assert_eq!(
            f(&[&format!("-print-prog-name={tool}")]),
            Action::Answer(format!("/c/w/aarch64-linux-musl-{tool}"))
        );
    }
    assert_eq!(passed(&["-print-prog-name=as"]), ["-print-prog-name=as"]);
}

mod launcher {
    use std::ffi::OsString;
    use std::path::PathBuf;

    use super::super::launcher::{Launch, is_launcher, plan, script};

    const QEMU: &str = "qemu-arm-static";

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn launch(args: &[&str]) -> Option<Launch> {
        plan(&os(args), true, QEMU)
    }

    fn strs(l: &Launch) -> Vec<String> {
        l.args
            .iter()
            .map(|a| a.clone().into_string().unwrap())
            .collect()
    }

    #[test]
    fn the_link_of_an_executable_goes_to_out_target() {
        let l = launch(&["-O2", "-o", "objs/autotest", "objs/autotest.c", "-static"]).unwrap();
        assert_eq!(l.out, PathBuf::from("objs/autotest"));
        assert_eq!(l.target, PathBuf::from("objs/autotest.target"));
        assert_eq!(
            strs(&l),
            [
                "-O2",
                "-o",
                "objs/autotest.target",
                "objs/autotest.c",
                "-static"
            ]
        );
        // The joined form keeps its shape.
        let l = launch(&["-oconftest", "conftest.c"]).unwrap();
        assert_eq!(l.out, PathBuf::from("conftest"));
        assert_eq!(strs(&l), ["-oconftest.target", "conftest.c"]);
        // Objects and archives are inputs too; the last `-o` is the one the driver uses.
        let l = launch(&["main.o", "-lm", "libx.a", "-o", "a", "-o", "b"]).unwrap();
        assert_eq!(l.out, PathBuf::from("b"));
        assert_eq!(
            strs(&l),
            ["main.o", "-lm", "libx.a", "-o", "a", "-o", "b.target"]
        );
    }

    #[test]
    fn without_o_the_driver_s_a_out_is_the_launcher() {
        let l = launch(&["conftest.c"]).unwrap();
        assert_eq!(l.out, PathBuf::from("a.out"));
        assert_eq!(l.target, PathBuf::from("a.out.target"));
        assert_eq!(strs(&l), ["conftest.c", "-o", "a.out.target"]);
    }

    #[test]
    fn compiles_libraries_and_other_outputs_are_left_alone() {
        for args in [
            &["-c", "a.c", "-o", "a"][..],
            &["-S", "a.c", "-o", "a"],
            &["-E", "a.c"],
            &["-M", "a.c"],
            &["-MM", "a.c"],
            &["-fsyntax-only", "a.c"],
            &["-shared", "a.c", "-o", "liba"],
            &["-r", "a.o", "b.o", "-o", "ab"],
            &["-Wl,-r", "a.o", "-o", "ab"],
            &["-Wl,--shared", "a.o", "-o", "x"],
            &["-Xlinker", "--relocatable", "a.o", "-o", "x"],
            &["a.c", "-o", "a.o"],
            &["a.c", "-o", "liba.a"],
            &["a.c", "-o", "liba.so"],
            &["a.c", "-o", "liba.so.1.2"],
            &["a.c", "-o", "x.lo"],
            &["a.h", "-o", "a.h.gch"],
            &["a.c", "-o", "/dev/null"],
            &["a.c", "-o", "-"],
            &["a.c", "-o"],
            // No input: a question to the driver, not a link.
            &["--version"],
            &["-v"],
            &["-dumpmachine"],
            &["-print-prog-name=cc1"],
            &[
                "-o", "x", "-I", "inc", "-L", "lib", "-x", "c", "-include", "h.h",
            ],
        ] {
            assert_eq!(launch(args), None, "{args:?}");
        }
    }

    /// The dependency-file options that do not stop the link do not stop the launcher.
    #[test]
    fn dependency_files_do_not_stop_a_link() {
        let l = launch(&["-MD", "-MF", "x.d", "-MT", "x", "x.c", "-o", "x"]).unwrap();
        assert_eq!(l.out, PathBuf::from("x"));
    }

    #[test]
    fn only_when_asked_and_only_with_an_emulator() {
        let args = os(&["conftest.c", "-o", "conftest"]);
        assert_eq!(plan(&args, false, QEMU), None);
        assert_eq!(plan(&args, true, ""), None, "natively nothing changes");
        assert!(plan(&args, true, QEMU).is_some());
    }

    #[test]
    fn the_launcher_execs_the_emulator_on_the_absolute_target() {
        let s = script(QEMU, std::path::Path::new("/w/src/objs/autotest.target"));
        assert!(s.starts_with("#!/bin/sh\n"), "{s}");
        assert!(
            s.ends_with("\nexec qemu-arm-static /w/src/objs/autotest.target \"$@\"\n"),
            "{s}"
        );
        assert!(is_launcher(s.as_bytes()));
        assert!(!is_launcher(b"#!/bin/sh\necho hi\n"));
        assert!(!is_launcher(b"\x7fELF"));
        // Any path survives the shell.
        let s = script(QEMU, std::path::Path::new("/w/it's $HOME/a b"));
        assert!(
            s.contains(r#"exec qemu-arm-static "/w/it's "'$HOME/a b' "$@""#),
            "{s}"
        );
        let exec = s.lines().last().unwrap();
        assert_eq!(
            shlex::split(exec).unwrap(),
            ["exec", QEMU, "/w/it's $HOME/a b", "$@"]
        );
    }
}

/// cc-rs gives a clang-like compiler `--target=<Rust triple>`, which zig cannot parse: the
/// wrapper's own target, in either spelling and any of clang's forms, is dropped (zig's own
/// `-target` comes first).
#[test]
fn the_wrappers_own_target_option_is_dropped_in_either_spelling() {
    for args in [
        &["--target=aarch64-unknown-linux-musl", "-O3", "-c", "a.c"][..],
        &["--target=aarch64-linux-musl", "-O3", "-c", "a.c"],
        &["--target", "aarch64-unknown-linux-musl", "-O3", "-c", "a.c"],
        &["-O3", "-target", "aarch64-linux-musl", "-c", "a.c"],
    ] {
        assert_eq!(passed(args), ["-O3", "-c", "a.c"], "{args:?}");
    }
}

/// cc-rs names Rust's `armv7-unknown-linux-musleabihf` to clang as
/// `arm-unknown-linux-musleabihf` (the arch's version goes in `-march`): any vendor of the
/// wrapper's own target is the same target, and is dropped; an arch or ABI that differs is not.
#[test]
fn clangs_spelling_with_a_vendor_is_the_wrappers_own_target() {
    let armv7 = Context {
        triple: "arm-linux-musleabihf",
        rust_target: "armv7-unknown-linux-musleabihf",
        ..cx()
    };
    let run = |a: &[&str]| filter(&armv7, &a.iter().map(OsString::from).collect::<Vec<_>>());
    for own in [
        "--target=arm-unknown-linux-musleabihf",
        "--target=armv7-unknown-linux-musleabihf",
        "--target=arm-linux-musleabihf",
    ] {
        assert!(
            matches!(run(&[own, "-c", "a.c"]), Action::Run { ref args, .. } if args.len() == 2),
            "{own}"
        );
    }
    for other in [
        "--target=arm-unknown-linux-gnueabihf",
        "--target=thumbv7-unknown-linux-musleabihf",
    ] {
        assert!(
            matches!(run(&[other, "-c", "a.c"]), Action::Refuse(_)),
            "{other}"
        );
    }
}

#[test]
fn a_target_option_naming_another_arch_is_refused() {
    for (args, shown) in [
        (
            &["--target=x86_64-unknown-linux-musl", "-c", "a.c"][..],
            "`--target=x86_64-unknown-linux-musl` names arch `amd64`",
        ),
        (
            &["-target", "arm-linux-musleabihf", "-c", "a.c"],
            "`-target arm-linux-musleabihf` names arch `armv7`",
        ),
        (
            &["--target", "armv7-unknown-linux-musleabihf"],
            "`--target armv7-unknown-linux-musleabihf` names arch `armv7`",
        ),
    ] {
        let Action::Refuse(message) = f(args) else {
            panic!("{args:?} passed");
        };
        assert_eq!(
            message,
            format!(
                "{shown}, but this wrapper builds for `aarch64-linux-musl` (Rust: \
                 `aarch64-unknown-linux-musl`): a build that mixes arches is a bug (is a \
                 build script given the wrong target?)"
            )
        );
    }
}

/// The wrapper's arch with another OS or C library (a glibc target) is not what it builds for.
#[test]
fn a_target_option_naming_another_abi_of_the_same_arch_is_refused() {
    assert_eq!(
        f(&["--target=aarch64-unknown-linux-gnu", "-c", "a.c"]),
        Action::Refuse(
            "`--target=aarch64-unknown-linux-gnu` names a target this wrapper does not build \
             for; it builds for `aarch64-linux-musl` (Rust: `aarch64-unknown-linux-musl`) only"
                .into()
        )
    );
}

/// `-target` as the value of `-Xlinker` is a linker item, not a target option.
#[test]
fn a_target_word_given_to_the_linker_passes() {
    let args = ["-c", "a.c", "-Xlinker", "-target"];
    assert_eq!(passed(&args), args);
}
