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
        dir: Path::new("/c/w"),
        multiarch: MULTIARCH,
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

#[test]
fn coverage_instrumentation_is_refused() {
    for arg in [
        "--coverage",
        "-fprofile-arcs",
        "-ftest-coverage",
        "-lgcov",
        "-fprofile-generate",
        "-fprofile-instr-generate=x",
        "-Wl,-lgcov",
    ] {
        match f(&["-c", arg, "a.c"]) {
            Action::Refuse(m) => assert!(
                m.contains(&format!("`{arg}` asks for coverage"))
                    && m.contains("aarch64-linux-musl"),
                "{m}"
            ),
            other => panic!("{arg}: {other:?}"),
        }
    }
    // Using profile data is not instrumenting.
    assert_eq!(passed(&["-fprofile-use=x.prof"]), ["-fprofile-use=x.prof"]);
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
