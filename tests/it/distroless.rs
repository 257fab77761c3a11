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
    let helper = r#"name = "helper"
version = "1.0"
license = "MIT"
homepage = "https://example.invalid"

[source]
path = "../src"

[build]
system = "script"
script = ["mkdir -p ${DESTDIR}/usr/share/helper", "printf '#!/bin/sh\\necho hi\\n' > ${DESTDIR}/usr/share/helper/run.sh", "chmod 755 ${DESTDIR}/usr/share/helper/run.sh"]
"#;
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
