//! `run-target-programs`: a configure script that runs the test programs it links gets the
//! target's answers in a cross build (the programs run under qemu-user through the wrapper's
//! launchers), the build after it links real programs, and a launcher that reaches an install
//! fails verify.

use std::path::Path;

use recipe::arch::Arch;
use recipe::toolchain::cc::launcher::ENV;

use crate::util::*;

const FIXTURE: &str = "runprog-long";

fn tools() -> bool {
    require_tool("python3")
        && require_tool("qemu-aarch64-static")
        && require_tool("qemu-arm-static")
}

/// A catalogue holding one recipe `NAME` built from the fixture's source with `build` as its
/// `[build]` table.
fn scratch_with(build: &str) -> Scratch {
    let s = Scratch::new();
    s.recipe(
        FIXTURE,
        &format!(
            "name = \"{FIXTURE}\"\nversion = \"1.0\"\nlicense = \"MIT\"\n\
             homepage = \"https://example.invalid\"\n\
             [source]\npath = \"{}\"\n[build]\n{build}\n\
             [app]\nfiles = [\"/usr/local/bin/{FIXTURE}\"]\n",
            root().join("tests/fixtures").join(FIXTURE).display()
        ),
    );
    s
}

/// What the built program says, run under the arch's qemu-user.
fn says(bin: &Path, arch: &str) -> String {
    let qemu = match arch {
        "arm64" => "qemu-aarch64-static",
        "armv7" => "qemu-arm-static",
        _ => unreachable!(),
    };
    let o = std::process::Command::new(qemu).arg(bin).output().unwrap();
    assert!(o.status.success(), "{o:?}");
    String::from_utf8(o.stdout).unwrap()
}

/// The fixture's configure learns sizeof(long) by running its test program: 8 for arm64 and
/// 4 for armv7 (what the target says, not the build machine's 8), with the target's
/// `uname -m`; the installed program is a real, static ELF of the arch that agrees.
#[test]
fn configure_runs_its_test_programs_on_the_target() {
    if !tools() {
        return;
    }
    let _l = build_lock();
    let (s, out) = build_fixture(FIXTURE, "arm64,armv7");
    for (arch, size, machine) in [("arm64", 8, "aarch64"), ("armv7", 4, "armv7l")] {
        let bin = s.out().join(FIXTURE).join("bin").join(arch).join(FIXTURE);
        run(recipe().args(["verify", "--arch", arch]).arg(&bin))
            .success()
            .stdout_has("static");
        assert_eq!(
            says(&bin, arch),
            format!(
                "runprog-long 1.0: configure found sizeof(long) = {size} on {machine}; \
                 this program has {size}\n"
            ),
            "{}",
            out.stderr
        );
    }
}

/// Without `run-target-programs` the same configure cannot run its arm64 test program: the
/// build fails in the script step, at configure's own message.
#[test]
fn without_the_key_configure_cannot_run_its_test_program() {
    if !tools() {
        return;
    }
    let _l = build_lock();
    let s = scratch_with(
        "system = \"script\"\nscript = [\"./configure\", \"make\", \"make install DESTDIR=${DESTDIR}\"]",
    );
    run(s
        .cmd()
        .args(["build", FIXTURE, "--arch", "arm64", "--rebuild"]))
    .failure(1)
    .stderr_has("configure: cannot run the test program ./conftest");
}

/// A configure that autoconf generated runs its `AC_RUN_IFELSE` test program on every arch and
/// concludes it is not cross compiling (it would conclude it is, without trying, were it given
/// `--build` beside `--host`); without the key the same configure stops at autoconf's own
/// message. The fixture's configure is what autoconf 2.71 made of its configure.ac.
#[test]
fn an_autoconf_configure_runs_its_test_programs_on_the_target() {
    if !tools() {
        return;
    }
    let _l = build_lock();
    let name = "runprog-autoconf";
    let (s, out) = build_fixture(name, "all");
    for (arch, size, machine) in [
        ("amd64", 8, "x86_64"),
        ("arm64", 8, "aarch64"),
        ("armv7", 4, "armv7l"),
    ] {
        let bin = s.out().join(name).join("bin").join(arch).join(name);
        let said = if arch == "amd64" {
            let o = std::process::Command::new(&bin).output().unwrap();
            String::from_utf8(o.stdout).unwrap()
        } else {
            says(&bin, arch)
        };
        assert_eq!(
            said,
            format!(
                "{name} 1.0: configure found sizeof(long) = {size} on {machine} \
                 (cross_compiling=no); this program has {size}\n"
            ),
            "{}",
            out.stderr
        );
    }
    let s = fixture_copy(name, |t| t.replace("run-target-programs = true\n", ""));
    run(s
        .cmd()
        .args(["build", name, "--arch", "arm64", "--rebuild"]))
    .failure(1)
    .stderr_has("cannot run test programs when cross compiling");
}

/// A script that leaves RECIPE_RUN_TARGET_PROGRAMS on for `make` installs a launcher instead of
/// the program: the build's verify step refuses it, and nothing is packed.
#[test]
fn a_launcher_that_reaches_the_install_fails_verify() {
    if !tools() {
        return;
    }
    let _l = build_lock();
    let s = scratch_with(
        "system = \"script\"\nrun-target-programs = true\n\
         script = [\"export RECIPE_RUN_TARGET_PROGRAMS=1\", \"./configure\", \"make\", \
         \"make install DESTDIR=${DESTDIR}\"]",
    );
    run(s
        .cmd()
        .args(["build", FIXTURE, "--arch", "arm64", "--rebuild"]))
    .failure(1)
    .stderr_has(&format!("`/usr/local/bin/{FIXTURE}` fails verification"))
    .stderr_has("not the program but a launcher that runs it under qemu-user")
    .stderr_has("`RECIPE_RUN_TARGET_PROGRAMS` set");
    assert!(!s.out().join(FIXTURE).join("oci").exists());
    // `recipe verify` on such a launcher says what it is.
    let dir = tempfile::tempdir().unwrap();
    let launcher = dir.path().join(FIXTURE);
    std::fs::write(
        &launcher,
        recipe::toolchain::cc::launcher::script("qemu-aarch64-static", &dir.path().join("x")),
    )
    .unwrap();
    run(recipe().args(["verify", "--arch", "arm64"]).arg(&launcher))
        .failure(1)
        .stdout_has("not an ELF file: a script (`#!/bin/sh`)");
}

fn refused(build: &str) -> Output {
    run(scratch_with(build).cmd().args(["show", FIXTURE])).failure(2)
}

/// The key and the variable go together in a script, the variable is not an `env` setting,
/// and the key means nothing to make and go.
#[test]
fn the_key_is_checked_at_load_time() {
    refused(
        "system = \"script\"\nrun-target-programs = true\nscript = [\"./configure\", \"make\"]",
    )
    .stderr_has(
        "`run-target-programs` is on but the script never sets `RECIPE_RUN_TARGET_PROGRAMS`",
    )
    .stderr_has("RECIPE_RUN_TARGET_PROGRAMS=1 ./configure");
    refused(
        "system = \"script\"\nscript = [\"RECIPE_RUN_TARGET_PROGRAMS=1 ./configure\", \"make\"]",
    )
    .stderr_has("the script sets `RECIPE_RUN_TARGET_PROGRAMS` without `run-target-programs`");
    // Per arch: the key on for armv7 only, the variable in the common script.
    refused(
        "system = \"script\"\nscript = [\"RECIPE_RUN_TARGET_PROGRAMS=1 ./configure\"]\n\
         [build.arch.armv7]\nrun-target-programs = true",
    )
    .stderr_has("without `run-target-programs`");
    refused("system = \"autotools\"\nenv = { RECIPE_RUN_TARGET_PROGRAMS = \"1\" }")
        .stderr_has("`RECIPE_RUN_TARGET_PROGRAMS` cannot be set in `env`");
    refused("system = \"make\"\nrun-target-programs = true")
        .stderr_has("`run-target-programs` does not apply to build system `make`");
    let s = scratch_with("system = \"autotools\"\nrun-target-programs = true");
    run(s.cmd().args(["show", FIXTURE])).success();
}

/// Runs the target `uname` of `arch` with `args`, the variable set or not.
fn uname_says(arch: Arch, args: &[&str], set: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uname");
    std::fs::write(
        &path,
        recipe::toolchain::wrappers::uname(arch.info().uname_machine),
    )
    .unwrap();
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg(&path).args(args).env_remove(ENV);
    if set {
        cmd.env(ENV, "1");
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{o:?}");
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// While a configure step runs target programs, `uname -m` is the target's machine; any other
/// question, or outside that step, the build machine's `uname` answers.
#[test]
fn the_target_uname_answers_the_machine_only_while_configure_runs_target_programs() {
    let host = |args: &[&str]| {
        let o = std::process::Command::new("uname")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    for arch in Arch::ALL {
        let m = arch.info().uname_machine;
        assert_eq!(uname_says(arch, &["-m"], true), m);
        assert_eq!(uname_says(arch, &["--machine"], true), m);
        assert_eq!(uname_says(arch, &["-m"], false), host(&["-m"]));
        assert_eq!(uname_says(arch, &["-s"], true), host(&["-s"]));
        assert_eq!(uname_says(arch, &["-sr"], true), host(&["-sr"]));
    }
    assert_eq!(Arch::Armv7.info().uname_machine, "armv7l");
    assert_eq!(Arch::Arm64.info().uname_machine, "aarch64");
    assert_eq!(Arch::Amd64.info().uname_machine, "x86_64");
}
