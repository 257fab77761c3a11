//! Recipe files: loading, and one test per kind of mistake, each pointing at file:line:column.

use crate::util::*;

fn good() -> String {
    minimal_recipe("demo")
}

#[test]
fn a_good_recipe_shows() {
    let s = Scratch::new();
    s.recipe("demo", &good());
    run(s.cmd().args(["show", "demo"]))
        .success()
        .stdout_has("build:      make")
        .stdout_has("user:       1000:1000")
        .stdout_has("entrypoint: /usr/local/bin/demo");
}

#[test]
fn list_names_every_recipe_of_the_catalogue() {
    let out = run(recipe().args(["list"]).current_dir(root())).success();
    for name in ["redis", "go-httpbin"] {
        assert!(
            out.stdout.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{}",
            out.stdout
        );
    }
}

#[test]
fn every_shipped_recipe_is_valid() {
    for dir in ["recipes", "tests/fixtures/recipes"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            run(recipe().arg("show").arg(&p).current_dir(root())).success();
        }
    }
}

fn bad(text: &str) -> Output {
    let s = Scratch::new();
    s.recipe("demo", text);
    run(s.cmd().args(["show", "demo"])).failure(2)
}

#[test]
fn unknown_key_is_located() {
    bad(&good().replace("license = \"MIT\"", "license = \"MIT\"\nlicence = \"MIT\""))
        .stderr_has("demo.toml:4:1: unknown field `licence`")
        .stderr_has("licence = \"MIT\"");
}

#[test]
fn wrong_type_is_located() {
    bad(&good().replace("version = \"1.0\"", "version = 1.0"))
        .stderr_has("demo.toml:2:11: invalid type: floating point `1.0`, expected a string");
}

#[test]
fn missing_field_is_named() {
    bad(&good().replace("license = \"MIT\"\n", "")).stderr_has("missing field `license`");
}

#[test]
fn unknown_arch_in_recipe_is_located() {
    bad(&format!(
        "{}\n[build.arch.armhf]\ncflags = [\"-O3\"]\n",
        good()
    ))
    .stderr_has(
        "demo.toml:15:13: unknown arch `armhf` (expected one of: amd64, arm64, armv7, all)",
    );
}

#[test]
fn unknown_arch_on_command_line() {
    let s = Scratch::new();
    s.recipe("demo", &good());
    run(s.cmd().args(["build", "demo", "--arch", "sparc"]))
        .failure(2)
        .stderr_has("unknown arch `sparc`");
    assert!(!s.out().exists());
}

#[test]
fn unknown_recipe_lists_known_ones() {
    let s = Scratch::new();
    s.recipe("demo", &good());
    run(s.cmd().args(["build", "nope"]))
        .failure(2)
        .stderr_has("unknown recipe `nope`")
        .stderr_has("known recipes: demo");
    assert!(!s.out().exists());
}

#[test]
fn bad_sha256_is_located() {
    bad(&good().replace(
        "path = \"src\"",
        "sha256 = \"abc\"\nurls = [\"https://example.invalid/a.tar.gz\"]",
    ))
    .stderr_has("demo.toml:7:10: `abc` is not a sha256")
    .stderr_has("64 lowercase hexadecimal digits");
}

#[test]
fn option_of_another_build_system_is_located() {
    bad(&good().replace(
        "system = \"make\"",
        "system = \"make\"\ncmake-args = [\"-DX=1\"]",
    ))
    .stderr_has("demo.toml:11:14: `cmake-args` does not apply to build system `make`");
}

#[test]
fn unknown_build_system_is_located() {
    bad(&good().replace("system = \"make\"", "system = \"bazel\""))
        .stderr_has("demo.toml:10:10: unknown build system `bazel`")
        .stderr_has("make, autotools, cmake, meson, go, script");
}

#[test]
fn image_settings_are_checked() {
    let with = |extra: &str| format!("{}\n[image]\n{extra}\n", good());
    bad(&with("ports = [\"http\"]")).stderr_has("demo.toml:16:10: `http` is not a port");
    bad(&with("ports = [70000]")).stderr_has("port 70000 is out of range");
    bad(&with("entrypoint = [\"demo\"]")).stderr_has("entrypoint `demo` is not an absolute path");
    bad(&with("user = \"app\"")).stderr_has("user `app` is not `uid:gid`");
    bad(&with("volumes = [\"../data\"]"))
        .stderr_has("volume `../data` is not an absolute path inside the image");
    bad(&with("user = \"root\"")).stderr_has("demo.toml:16:8: user `root` is root");
    bad(&with("user = \"0:0\"")).stderr_has("user `0:0` is root");
    // An unknown included recipe is found when the image's recipes are loaded.
    let s = Scratch::new();
    s.recipe("demo", &with("include = [\"nonesuch\"]"));
    run(s.cmd().args(["plan", "demo"]))
        .failure(2)
        .stderr_has("demo.toml:16:12: unknown recipe `nonesuch`");
}

#[test]
fn accepted_needs_are_checked() {
    let with = |extra: &str| good().replace("[app]\n", &format!("[app]\n{extra}\n"));
    bad(&with("accept = { static = \"no\" }"))
        .stderr_has("demo.toml:13:21: `static` cannot be accepted")
        .stderr_has("only these needs can: dlopen, shell");
    bad(&with("accept = { dlopen = \" \" }")).stderr_has("say why the app does without `dlopen`");
    let s = Scratch::new();
    s.recipe(
        "demo",
        &with("accept = { dlopen = \"plugins are optional\" }"),
    );
    run(s.cmd().args(["show", "demo"])).success();
}

#[test]
fn health_settings_are_checked() {
    let with = |extra: &str| format!("{}\n[image.health]\n{extra}\n", good());
    bad(&with("http = \"/health\"\nport = \"http\""))
        .stderr_has("demo.toml:17:8: the health port must be a number, found `\"http\"`");
    bad(&with("http = \"/health\"\nport = 0")).stderr_has("port 0 is out of range");
    bad(&with("http = \"health\"\nport = 80"))
        .stderr_has("demo.toml:16:8: health path `health` does not start with `/`");
    bad(&with("port = 80")).stderr_has("the health probe needs `http = \"/path\"` or `tcp = true`");
    bad(&with("tcp = true\nhttp = \"/\"\nport = 80")).stderr_has("not both");
    bad(&with("tcp = true\nport = 80\ninterval = 0")).stderr_has("must be at least 1 second");
    bad(&with("tcp = true\nport = 80\nshell = \"curl\"")).stderr_has("unknown field `shell`");
}

/// `--user` variants must be `uid:gid` or a known name, and never root.
#[test]
fn build_user_variants_are_checked() {
    let s = Scratch::new();
    s.recipe("demo", &good());
    run(s.cmd().args(["build", "demo", "--user", "app"]))
        .failure(2)
        .stderr_has("--user app: not `UID:GID` (numbers) or `nobody`");
    run(s.cmd().args(["build", "demo", "--user", "0:0"]))
        .failure(2)
        .stderr_has("--user 0:0: root");
}

#[test]
fn name_must_match_file() {
    bad(&good().replace("name = \"demo\"", "name = \"other\""))
        .stderr_has("demo.toml:1:8: recipe name `other` does not match its file name `demo.toml`");
}
