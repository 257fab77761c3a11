//! Issue 23, item 5: an image `recipe check` does not call distroless-ready fails its build
//! (exit 1, no image kept), naming the file, the finding and the `[app] accept` line that
//! would allow it; the recipe's `accept` lets it through. Made from the `demo` fixture (a
//! prebuilt tiny ELF, a stand-in zig: nothing compiles).

use crate::errors::cli;
use crate::harden::{prebuilt, tiny_elf, with_zig};
use crate::util::{fake_zig, run};

/// `demo` whose program names `/bin/sh` (the check's `shell` finding), with `extra` appended
/// to its recipe.
fn shell_demo(extra: &str) -> Option<crate::util::Scratch> {
    let s = prebuilt(extra)?;
    std::fs::write(
        s.path().join("src/demo.bin"),
        tiny_elf("demo 1.0 via /bin/sh"),
    )
    .unwrap();
    Some(s)
}

/// An included recipe that installs a shell script, `/usr/share/helper/run.sh`.
const SCRIPT_HELPER: &str = r#"name = "helper"
version = "1.0"
license = "MIT"
homepage = "https://example.invalid"

[source]
path = "../src"

[build]
system = "script"
script = ["mkdir -p ${DESTDIR}/usr/share/helper", "printf '#!/bin/sh\\necho hi\\n' > ${DESTDIR}/usr/share/helper/run.sh", "chmod 755 ${DESTDIR}/usr/share/helper/run.sh"]
"#;

#[test]
fn an_image_whose_app_runs_a_shell_fails_unless_accepted() {
    let Some(s) = shell_demo("") else { return };
    let zig = fake_zig();
    cli(
        "not_distroless_shell",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]),
    );
    assert!(
        !s.out().join("demo/oci").exists(),
        "a refused image is kept"
    );
    // Accepted, the same build passes, and says so in the image's labels.
    let Some(s) = shell_demo("\n[app.accept]\nshell = \"no feature of demo runs it\"\n") else {
        return;
    };
    let out = run(with_zig(&s, &zig).args(["build", "demo", "--arch", "amd64"])).success();
    assert!(out.stdout.contains("DISTROLESS"), "{}", out.stdout);
    assert!(s.out().join("demo/oci/index.json").is_file());
}

/// A shell script the image holds through an included recipe (a library's tree goes in
/// whole) fails the build; `accept = { shell = ... }` allows it.
#[test]
fn an_image_holding_a_shell_script_fails_unless_accepted() {
    let helper = SCRIPT_HELPER;
    let zig = fake_zig();
    let Some(s) = prebuilt("\n[image]\ninclude = [\"helper\"]\n") else {
        return;
    };
    s.recipe("helper", helper);
    cli(
        "not_distroless_script",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]),
    );
    assert!(
        !s.out().join("demo/oci").exists(),
        "a refused image is kept"
    );
    let Some(s) = prebuilt(
        "\n[app.accept]\nshell = \"the helper script is for debugging only\"\n\n\
         [image]\ninclude = [\"helper\"]\n",
    ) else {
        return;
    };
    s.recipe("helper", helper);
    run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"])).success();
    assert!(s.out().join("demo/oci/index.json").is_file());
}

/// `helper`, a recipe whose tree holds `demo.bin` (the same source as `demo`) as `path`.
fn helper_installing_demo_bin_as(path: &str) -> String {
    format!(
        r#"name = "helper"
version = "1.0"
license = "MIT"
homepage = "https://example.invalid"

[source]
path = "../src"

[build]
system = "script"
script = ["install -D -m 755 demo.bin ${{DESTDIR}}{path}"]
"#
    )
}

/// An executable with a `shell` need and a reason no `accept` allows (it is Python's
/// interpreter by name): every reason is listed, and the `accept` line is said to be not
/// enough; accepting the shell leaves the other reason, which still fails the build.
#[test]
fn every_reason_is_listed_and_accept_is_not_enough_beside_a_runtime() {
    let zig = fake_zig();
    let helper = helper_installing_demo_bin_as("/usr/lib/helper/python3");
    let Some(s) = shell_demo("\n[image]\ninclude = [\"helper\"]\n") else {
        return;
    };
    s.recipe("helper", &helper);
    let out = cli(
        "not_distroless_shell_and_runtime",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]),
    );
    assert!(
        out.stderr
            .contains("/usr/lib/helper/python3 (linux/amd64): `shell`")
            && out.stderr.contains("this is Python itself")
            && out.stderr.contains("which is not enough"),
        "{}",
        out.stderr
    );
    let Some(s) = shell_demo(
        "\n[app.accept]\nshell = \"no feature of demo runs it\"\n\n\
         [image]\ninclude = [\"helper\"]\n",
    ) else {
        return;
    };
    s.recipe("helper", &helper);
    let out = run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("this is Python itself") && !out.stderr.contains("accept = {"),
        "{}",
        out.stderr
    );
}

/// A shell script as the image's entrypoint fails the build even with `accept = { shell =
/// ... }`: the image cannot start without /bin/sh.
#[test]
fn a_shell_script_entrypoint_fails_even_when_shell_is_accepted() {
    let helper = SCRIPT_HELPER;
    let zig = fake_zig();
    let Some(s) = prebuilt(
        "\n[app.accept]\nshell = \"the helper script is for debugging only\"\n\n\
         [image]\ninclude = [\"helper\"]\nentrypoint = [\"/usr/share/helper/run.sh\"]\n",
    ) else {
        return;
    };
    s.recipe("helper", helper);
    let out = cli(
        "not_distroless_entrypoint_script",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]),
    );
    assert!(
        out.stderr.contains("the image's entrypoint")
            && out.stderr.contains("cannot start without /bin/sh"),
        "{}",
        out.stderr
    );
    assert!(
        !s.out().join("demo/oci").exists(),
        "a refused image is kept"
    );
}

/// The files under `dir` (recursively), but the folder's `.lock`.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if e.file_name() != ".lock" {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// A refused image leaves nothing in its folder for `recipe test`, `recipe push` or a pipeline
/// to take: not its SBOM, VEX or binaries, nor the files an accepted build of it wrote before.
#[test]
fn a_refused_image_leaves_nothing_behind() {
    let accepted = "\n[app.accept]\nshell = \"no feature of demo runs it\"\n";
    let Some(s) = shell_demo(accepted) else {
        return;
    };
    let zig = fake_zig();
    run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"])).success();
    let dir = s.out().join("demo");
    let before = files_under(&dir);
    for part in [".oci.tar", ".spdx.json", "bin/amd64/demo"] {
        assert!(before.iter().any(|f| f.ends_with(part)), "{before:?}");
    }
    // The accept taken away: the image is refused, and the earlier one's files go too.
    let recipe = s.recipes().join("demo.toml");
    let text = std::fs::read_to_string(&recipe).unwrap();
    assert!(text.contains(accepted));
    std::fs::write(&recipe, text.replace(accepted, "")).unwrap();
    run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"])).failure(1);
    assert_eq!(files_under(&dir), Vec::<String>::new());
}
