//! Issue 11 item 5, the gaps of the recipe format and the origins: make's build and install
//! targets (`make-targets`, `install-targets`), a Go binary named by the recipe (a module
//! `example.org/v2`), the installed files listed when an app file is missing, and a Debian
//! source file fetched from another version of the package that lists the same bytes.

use std::path::Path;

use crate::util::{Scratch, build_lock, require_tool, root, run};

/// `recipe` with the fixture recipes as its catalogue.
fn fixtures(s: &Scratch) -> std::process::Command {
    let mut c = s.cmd();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    c
}

/// A fixture recipe's text with its relative `path` made absolute, for a scratch catalogue.
fn fixture_text(name: &str) -> String {
    let text = std::fs::read_to_string(root().join(format!("tests/fixtures/recipes/{name}.toml")))
        .unwrap();
    let dir = root().join("tests/fixtures");
    text.replace("path = \"../", &format!("path = \"{}/", dir.display()))
}

/// The recipe error `text` gives, as `file:line:column: message` and its help.
fn refused(text: &str) -> (String, String) {
    let e = recipe::recipe::parse(Path::new("demo.toml"), text).expect_err(text);
    (
        format!("{}: {}", e.location, e.message),
        e.help.clone().unwrap_or_default(),
    )
}

// ---------------------------------------------------------------------------------------------
// make-targets, install-targets

#[test]
fn make_targets_build_and_install_only_the_app() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let out = run(fixtures(&s).args(["build", "fmt-make-targets", "--arch", "amd64"])).success();
    let bin = s.out().join("fmt-make-targets/bin/amd64");
    assert!(bin.join("app").is_file(), "{}", out.stderr);
    assert!(!bin.join("app-debug").exists());
    let v = run(std::process::Command::new(bin.join("app")).arg("--version")).success();
    assert_eq!(v.stdout.trim(), "fmt-make-targets 1.0");
}

/// Without the two keys (make's default goal, then `make install`) the same project fails at
/// the debug program's link: the fixture does need them.
#[test]
fn the_default_goal_of_the_make_fixture_does_not_link() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let text = fixture_text("fmt-make-targets")
        .replace("make-targets = [\"app\"]\n", "")
        .replace("install-targets = [\"install-app\"]\n", "");
    s.recipe("fmt-make-targets", &text);
    run(s
        .cmd()
        .args(["build", "fmt-make-targets", "--arch", "amd64"]))
    .failure(1)
    .stderr_has("recipe-fixture-not-there");
}

#[test]
fn make_targets_go_on_make_command_lines() {
    let s = Scratch::new();
    let p =
        run(fixtures(&s).args(["plan", "fmt-make-targets", "--arch", "amd64", "--json"])).success();
    let v: serde_json::Value = serde_json::from_str(&p.stdout).unwrap();
    let argvs: Vec<Vec<String>> = v
        .pointer("/jobs/0/steps")
        .and_then(|s| s.as_array())
        .expect(&p.stdout)
        .iter()
        .filter_map(|s| s.get("argv"))
        .map(|a| serde_json::from_value(a.clone()).unwrap())
        .collect();
    // The build's two make commands, then the planned strip step.
    assert_eq!(argvs.len(), 3, "{argvs:?}");
    assert!(argvs[2][0].ends_with("-strip"), "{argvs:?}");
    assert_eq!(argvs[0].last().unwrap(), "app", "{argvs:?}");
    assert_eq!(argvs[1][..2], ["make", "install-app"], "{argvs:?}");
    assert!(!argvs[1].iter().any(|a| a == "install"), "{argvs:?}");
}

const MAKE_RECIPE: &str = "name = \"demo\"\nversion = \"1.0\"\nlicense = \"MIT\"\n\
    homepage = \"https://example.invalid\"\n\n[source]\npath = \"src\"\n\n[build]\n\
    system = \"make\"\n";

#[test]
fn make_targets_are_checked_where_they_are_written() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "make-targets = []",
            "demo.toml:11:16: `make-targets` is empty",
            "leave `make-targets` out for the default",
        ),
        (
            "install-targets = [\"install\", \"V=1\"]",
            "demo.toml:11:31: `V=1` is a variable assignment, not a make target",
            "go in `make-args` or `install-args`",
        ),
        (
            "make-targets = [\"-k\"]",
            "demo.toml:11:17: `-k` is an option, not a make target",
            "a make target is a plain name",
        ),
        (
            "make-targets = [\"a b\"]",
            "demo.toml:11:17: make target `a b` holds a space, `$` or a control character",
            "a make target is a plain name",
        ),
    ];
    for (line, says, help) in cases {
        let (e, h) = refused(&format!("{MAKE_RECIPE}{line}\n"));
        assert_eq!(&e, says, "{line}");
        assert!(h.contains(help), "{line}: {h}");
    }
    let go = MAKE_RECIPE.replace("\"make\"", "\"go\"");
    let (e, h) = refused(&format!("{go}install-targets = [\"install-app\"]\n"));
    assert_eq!(
        e,
        "demo.toml:11:19: `install-targets` does not apply to build system `go`"
    );
    assert!(h.contains("make, autotools"), "{h}");
    // Per-arch targets replace the common ones.
    let r = recipe::recipe::parse(
        Path::new("demo.toml"),
        &format!(
            "{MAKE_RECIPE}make-targets = [\"app\"]\n[build.arch.arm64]\nmake-targets = [\"app-arm\"]\n"
        ),
    )
    .unwrap();
    let arm = r.build.options(recipe::arch::Arch::Arm64);
    assert_eq!(arm.make_targets, Some(vec!["app-arm".to_string()]));
    let amd = r.build.options(recipe::arch::Arch::Amd64);
    assert_eq!(amd.make_targets, Some(vec!["app".to_string()]));
    assert_eq!(amd.install_targets, None);
}

// ---------------------------------------------------------------------------------------------
// Go: a binary named by the recipe; the installed files when an app file is missing

#[test]
fn a_go_module_with_a_major_version_suffix_installs_the_named_binary() {
    if !require_tool("go") || !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let out = run(fixtures(&s).args(["build", "fmt-go-v2", "--arch", "amd64"])).success();
    let bin = s.out().join("fmt-go-v2/bin/amd64/hello-v2");
    assert!(bin.is_file(), "{}", out.stderr);
    let v = run(std::process::Command::new(&bin).arg("--version")).success();
    assert_eq!(v.stdout.trim(), "fmt-go-v2 2.0");
}

/// Without a name, go calls the binary `example.org`; the error about the missing app file
/// says what the build did install.
#[test]
fn a_missing_app_file_lists_what_was_installed() {
    if !require_tool("go") || !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let text = fixture_text("fmt-go-v2")
        .replace("packages = [{ path = \".\", name = \"hello-v2\" }]\n", "")
        .replace("/usr/local/bin/hello-v2", "/usr/local/bin/v2")
        .replace("[\"hello-v2\", \"--version\"]", "[\"v2\", \"--version\"]");
    s.recipe("fmt-go-v2", &text);
    run(s.cmd().args(["build", "fmt-go-v2", "--arch", "amd64"]))
        .failure(1)
        .stderr_has("did not install app file `/usr/local/bin/v2`")
        .stderr_has("; it installed 1 file:\n")
        .stderr_has("    /usr/local/bin/example.org\n");
}

#[test]
fn go_packages_are_paths_or_named_tables() {
    let go = MAKE_RECIPE.replace("\"make\"", "\"go\"");
    let r = recipe::recipe::parse(
        Path::new("demo.toml"),
        &format!(
            "{go}packages = [\"./cmd/a\", {{ path = \"./cmd/b\", name = \"b-v2\" }}, {{ path = \"./cmd/c\" }}]\n"
        ),
    )
    .unwrap();
    let p = r.build.options(recipe::arch::Arch::Amd64).packages;
    let got: Vec<(&str, Option<&str>)> = p
        .iter()
        .map(|p| (p.path.as_str(), p.name.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("./cmd/a", None),
            ("./cmd/b", Some("b-v2")),
            ("./cmd/c", None)
        ]
    );
    let cases: &[(&str, &str)] = &[
        (
            "packages = [{ path = \".\", name = \"../x\" }]",
            "demo.toml:11:34: invalid binary name `../x`",
        ),
        (
            "packages = [{ path = \".\", name = \"a\" }, { path = \"./b\", name = \"a\" }]",
            "demo.toml:11:64: two packages are named `a`",
        ),
        (
            "packages = [{ path = \".\", nmae = \"a\" }]",
            "demo.toml:11:13: unknown field `nmae`, expected `path` or `name`",
        ),
        (
            "packages = [{ name = \"a\" }]",
            "demo.toml:11:13: missing field `path`",
        ),
        (
            "packages = [\"${NOPE}\"]",
            "demo.toml:11:13: unknown variable `${NOPE}` in `${NOPE}`",
        ),
    ];
    for (line, says) in cases {
        let (e, _) = refused(&format!("{go}{line}\n"));
        assert_eq!(&e, says, "{line}");
    }
}

// Debian sources (the mirror's pool, signed indexes) are tested in `debian_archive.rs`.
