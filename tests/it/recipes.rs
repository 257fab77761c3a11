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

/// `show` prints every build option the recipe sets, and each arch's own under its override.
#[test]
fn show_prints_the_build_options_and_the_overrides() {
    let s = Scratch::new();
    let text = good().replace(
        "system = \"make\"\n",
        "system = \"make\"\nmake-targets = [\"demo\"]\nmake-args = [\"V=1\", \"OPT=-O2 -g\"]\n\
         install-targets = [\"install-bin\"]\n\n[build.arch.arm64]\ncflags = [\"-mno-outline-atomics\"]\n",
    );
    s.recipe("demo", &text);
    let out = run(s.cmd().args(["show", "demo"])).success();
    let build: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("build:"))
        .take(6)
        .collect();
    assert_eq!(
        build,
        [
            "build:      make",
            "  make-args           V=1 'OPT=-O2 -g'",
            "  make-targets        demo",
            "  install-targets     install-bin",
            "  override  arm64",
            "    cflags              -mno-outline-atomics",
        ],
        "{}",
        out.stdout
    );
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
            // Folders beside the recipes hold their files (configs, smoke files).
            if p.extension().is_some_and(|x| x == "toml") {
                run(recipe().arg("show").arg(&p).current_dir(root())).success();
            }
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
        .stderr_has("make, autotools, cmake, meson, go, cargo, script");
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

/// `--user` variants follow the rules of a recipe's `user`: numeric ids or `nobody`, never uid
/// or gid 0, ids below 2^31 (issue 9, failure 6).
#[test]
fn build_user_variants_are_checked() {
    let s = Scratch::new();
    s.recipe("demo", &good());
    let mut failures = Vec::new();
    for (user, says) in [
        (
            "app",
            "--user app: user `app` is not `uid:gid` or a known name",
        ),
        ("0:0", "--user 0:0: user `0:0` is root"),
        (
            "1000:0",
            "--user 1000:0: user `1000:0` is in group root (gid 0)",
        ),
        (
            "4294967295:1000",
            "--user 4294967295:1000: uid 4294967295 is over the limit of 2147483647",
        ),
    ] {
        let out = run(s
            .cmd_private_cache()
            .args(["build", "demo", "--user", user]));
        let wrote = s.out().exists() || s.cache().exists();
        if out.code != 2 || !out.stderr.contains(says) || !out.stderr.contains("help: ") || wrote {
            failures.push(format!(
                "--user {user}: exit {}, wrote: {wrote}, stderr:\n{}",
                out.code, out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One recipe mistake: the recipe's text, the rendered `file:line:column: message`, and a
/// piece of the help line.
struct Refused {
    text: String,
    says: &'static str,
    help: &'static str,
}

fn refused(text: String, says: &'static str, help: &'static str) -> Refused {
    Refused { text, says, help }
}

/// `good()` with an `[image]` table holding `extra` (line 16).
fn with_image(extra: &str) -> String {
    format!("{}\n[image]\n{extra}\n", good())
}

/// Checks every case: `show` fails with exit 2, the located error and its help, and no raw
/// control character; `plan` and `build` fail with exit 2 and the same error before any work
/// (no out folder, no cache). Reports every case that fails, not only the first.
fn refuse_all(name: &str, cases: &[Refused]) {
    let mut failures = Vec::new();
    for case in cases {
        let s = Scratch::new();
        s.recipe(name, &case.text);
        let mut problems = Vec::new();
        let shown = run(s.cmd().args(["show", name]));
        if shown.code != 2 {
            problems.push(format!("`show` exited {}", shown.code));
        }
        for needle in [case.says, case.help] {
            if !shown.stderr.contains(needle) {
                problems.push(format!("`show` does not say {needle:?}"));
            }
        }
        if shown.stderr.chars().any(|c| c.is_control() && c != '\n') {
            problems.push("`show` printed a raw control character".into());
        }
        for command in ["plan", "build"] {
            let out = run(s.cmd_private_cache().args([command, name]));
            if out.code != 2 || !out.stderr.contains(case.says) {
                problems.push(format!("`{command}` exited {} without the error", out.code));
            }
            if s.out().exists() || s.cache().exists() {
                problems.push(format!("`{command}` wrote an out folder or a cache"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}\n  {}\n  stderr of `show`:\n{}",
                case.says,
                problems.join("\n  "),
                shown.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Issue 9, failure 6: the image user and the writable folders.
#[test]
fn image_users_and_writable_folders_are_checked_at_load_time() {
    const FOLDER_HELP: &str = "help: a writable folder is a data folder of the app's own";
    const ID_HELP: &str = "help: give non-zero numeric ids below 2147483648";
    let opt = good().replace("/usr/local/bin/demo", "/opt/demo/bin/demo");
    let opt_image = |extra: &str| format!("{opt}\n[image]\n{extra}\n");
    refuse_all(
        "demo",
        &[
            refused(
                with_image("user-name = \"evil:x:0:0:root:/:/bin/sh\\nx\""),
                "demo.toml:16:13: invalid user name `evil:x:0:0:root:/:/bin/sh\\nx`",
                "help: a user name is a lowercase letter or `_`, then lowercase letters, digits, `_` or `-`, at most 32 characters",
            ),
            refused(
                with_image(&format!("user-name = \"{}\"", "a".repeat(33))),
                "demo.toml:16:13: user name `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is 33 characters long, over the limit of 32",
                "help: a user name is",
            ),
            refused(
                with_image("user-name = \"root\""),
                "demo.toml:16:13: user name `root` is taken by the image's own `root` entry",
                "help: choose another name",
            ),
            refused(
                with_image("writable = [\"/etc/passwd\"]"),
                "demo.toml:16:13: writable folder `/etc/passwd` is inside `/etc`, which is a system folder",
                FOLDER_HELP,
            ),
            refused(
                with_image("writable = [\"/etc\", \"/usr/local/bin\"]"),
                "demo.toml:16:13: writable folder `/etc` is a system folder",
                FOLDER_HELP,
            ),
            refused(
                with_image("writable = [\"/data\", \"/usr/local/bin\"]"),
                "demo.toml:16:22: writable folder `/usr/local/bin` is inside `/usr`, which is a system folder",
                FOLDER_HELP,
            ),
            refused(
                with_image("writable = [\"/var\"]"),
                "demo.toml:16:13: writable folder `/var` holds `/var/lib/db`, which is a system folder",
                FOLDER_HELP,
            ),
            refused(
                with_image("writable = [\"/\"]"),
                "demo.toml:16:13: writable folder cannot be the image root `/`",
                "help: name a folder below it",
            ),
            refused(
                with_image("writable = [\"/data/../etc\"]"),
                "demo.toml:16:13: writable folder `/data/../etc` is not an absolute path inside the image",
                "help: write it as an absolute path without `.`, `..` or `//`",
            ),
            refused(
                opt_image("writable = [\"/opt/demo\"]"),
                "demo.toml:16:13: writable folder `/opt/demo` holds the app file `/opt/demo/bin/demo`: the app could replace it",
                FOLDER_HELP,
            ),
            refused(
                opt_image("writable = [\"/opt/demo/bin/demo\"]"),
                "demo.toml:16:13: writable folder `/opt/demo/bin/demo` is an app file, not a folder",
                FOLDER_HELP,
            ),
            refused(
                with_image("user = \"1000:0\""),
                "demo.toml:16:8: user `1000:0` is in group root (gid 0)",
                ID_HELP,
            ),
            refused(
                with_image("user = \"4294967295:1000\""),
                "demo.toml:16:8: uid 4294967295 is over the limit of 2147483647",
                ID_HELP,
            ),
            refused(
                with_image("user = \"1000:4294967296\""),
                "demo.toml:16:8: user `1000:4294967296` has an id over the limit of 2147483647",
                ID_HELP,
            ),
        ],
    );
}

/// Issue 9, failure 12: names, versions, self-references and NUL, refused when the recipe is
/// loaded instead of late in the build.
#[test]
fn names_versions_and_paths_are_checked_at_load_time() {
    let depends = |list: &str| {
        good().replace(
            "homepage = \"https://example.invalid\"\n",
            &format!("homepage = \"https://example.invalid\"\ndepends = {list}\n"),
        )
    };
    const NAME_HELP: &str = "help: a recipe name is an image name: lowercase letters and digits";
    refuse_all(
        "demo",
        &[
            refused(
                good().replace("version = \"1.0\"", "version = \"../../1\""),
                "demo.toml:2:11: version `../../1` is not a valid image tag",
                "help: the version is the image tag",
            ),
            refused(
                with_image("include = [\"demo\"]"),
                "demo.toml:16:12: `demo` includes itself",
                "help: remove `demo` from this list",
            ),
            refused(
                depends("[\"demo\"]"),
                "demo.toml:5:12: `demo` depends on itself",
                "help: remove `demo` from this list",
            ),
            refused(
                depends("[\"../evil\"]"),
                "demo.toml:5:12: invalid recipe name `../evil`",
                NAME_HELP,
            ),
            refused(
                good().replace("/usr/local/bin/demo", "/usr/local/bin/de\\u0000mo"),
                "demo.toml:13:10: `/usr/local/bin/de\\x00mo` holds a NUL character",
                "help: recipe strings are printable text",
            ),
            refused(
                good().replace("/usr/local/bin/demo", "/usr/local/bin/de\\nmo"),
                "demo.toml:13:10: app file `/usr/local/bin/de\\nmo` holds a control character",
                "help: paths in the image are printable text",
            ),
            refused(
                good().replace("/usr/local/bin/demo", "/usr/local/bin/de\\u001b[2Jmo"),
                "demo.toml:13:10: `/usr/local/bin/de\\x1b[2Jmo` holds the control character U+001B",
                "help: recipe strings are printable text",
            ),
            refused(
                with_image("labels = { \"a\\u0007\" = \"x\" }"),
                "demo.toml:16:12: the key `a\\x07` holds a control character",
                "help: keys are printable text",
            ),
        ],
    );
    // A recipe named `..`: refused when loaded, by name or by path.
    let dots = good().replace("name = \"demo\"", "name = \"..\"");
    refuse_all(
        "..",
        &[refused(
            dots.clone(),
            "...toml:1:8: invalid recipe name `..`",
            NAME_HELP,
        )],
    );
    let s = Scratch::new();
    s.recipe("..", &dots);
    run(s.cmd_private_cache().args(["build", "recipes/...toml"]))
        .failure(2)
        .stderr_has("recipes/...toml:1:8: invalid recipe name `..`");
    assert!(!s.out().exists() && !s.cache().exists());
    refuse_all(
        "Demo",
        &[refused(
            good().replace("name = \"demo\"", "name = \"Demo\""),
            "Demo.toml:1:8: invalid recipe name `Demo`",
            NAME_HELP,
        )],
    );
}

/// Issue 9, failure 11 (recipe part): a recipe line with ESC, BEL and CR characters is shown
/// escaped under an error, and the caret still points at the column of the mistake.
#[test]
fn recipe_lines_are_escaped_in_errors() {
    let text = good().replace('\n', "\r\n").replace(
        "license = \"MIT\"\r\n",
        "license = \"MIT\" # \x1b[31mred\x07\r\n",
    );
    let out = bad(&text)
        .stderr_has("demo.toml:3:19: invalid comment character, expected printable characters")
        .stderr_has("license = \"MIT\" # \\x1b[31mred\\x07");
    assert!(
        !out.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "raw control character in:\n{}",
        out.stderr
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("license = "))
        .expect("the line is shown");
    let escape = lines[at].find("\\x1b").unwrap();
    let caret = lines[at + 1].find('^').expect("a caret under the line");
    assert_eq!(caret, escape, "{}", out.stderr);
    // A later mistake on a CRLF line: its column counts characters, the line shows no `\r`.
    let text = good()
        .replace('\n', "\r\n")
        .replace("version = \"1.0\"", "version = \"1/0\"");
    let out = bad(&text).stderr_has("demo.toml:2:11: version `1/0` is not a valid image tag");
    assert!(
        !out.stderr.contains('\r') && !out.stderr.contains("\\r"),
        "{}",
        out.stderr
    );
}

#[test]
fn name_must_match_file() {
    bad(&good().replace("name = \"demo\"", "name = \"other\""))
        .stderr_has("demo.toml:1:8: recipe name `other` does not match its file name `demo.toml`");
}

/// Issue 10: an unknown `${NAME}` in any option string planning substitutes is refused when
/// the recipe is loaded, at the string (it was "unknown variable ${NOPE}" at planning time,
/// with no file or line).
#[test]
fn unknown_variables_are_located_at_load_time() {
    const HELP: &str = "help: a build option may use `${DESTDIR}`, `${PREFIX}`";
    let build = |lines: &str| good().replace("system = \"make\"", lines);
    refuse_all(
        "demo",
        &[
            refused(
                build("system = \"make\"\nmake-args = [\"V=1\", \"PREFIX=${NOPE}\"]"),
                "demo.toml:11:21: unknown variable `${NOPE}` in `PREFIX=${NOPE}`",
                HELP,
            ),
            refused(
                build("system = \"make\"\ninstall-args = [\"DESTDIR=${DEST}\"]"),
                "demo.toml:11:17: unknown variable `${DEST}`",
                HELP,
            ),
            refused(
                build("system = \"autotools\"\nconfigure-args = [\"--with-x=${X}\"]"),
                "demo.toml:11:19: unknown variable `${X}` in `--with-x=${X}`",
                HELP,
            ),
            refused(
                build("system = \"make\"\nenv = { A = \"${HOME}/a\" }"),
                "demo.toml:11:13: unknown variable `${HOME}`",
                HELP,
            ),
            refused(
                build("system = \"make\"\n[build.arch.arm64]\ncflags = [\"-I${INC}\"]"),
                "demo.toml:12:11: unknown variable `${INC}`",
                HELP,
            ),
            refused(
                build("system = \"script\"\nscript = [\"cp x ${DESTDIR}/a\", \"echo ${USER}\"]"),
                "demo.toml:11:32: unknown variable `${USER}` in `echo ${USER}`",
                HELP,
            ),
            refused(
                build("system = \"go\"\ngo-ldflags = [\"-X main.v=${VERSION}\"]"),
                "demo.toml:11:15: unknown variable `${VERSION}`",
                HELP,
            ),
        ],
    );
    // Every known name still passes, and an unclosed `${` is plain text.
    let s = Scratch::new();
    s.recipe(
        "demo",
        &build(
            "system = \"make\"\nmake-args = [\"A=${DESTDIR}${PREFIX}${JOBS}${TRIPLE}${ARCH}${SRC}\", \
             \"B=${SYSROOT}${CC}${CXX}${AR}${RANLIB}${STRIP}\", \"C=${\"]",
        ),
    );
    run(s.cmd().args(["show", "demo"])).success();
}

/// Issue 10: a local `path` together with anything of an archive (`[source.pypi]` was
/// accepted silently) is refused, at the key that conflicts.
#[test]
fn a_local_path_with_archive_keys_is_located() {
    const HELP: &str = "help: a source is either a local directory (`path`) or an archive";
    let source =
        |extra: &str| good().replace("path = \"src\"", &format!("path = \"src\"\n{extra}"));
    refuse_all(
        "demo",
        &[
            refused(
                source("[source.pypi]\npackage = \"certifi\"\nversion = \"1\"\nfile = \"c.whl\""),
                "demo.toml:8:1: `[source.pypi]` cannot be combined with a local `path` source",
                HELP,
            ),
            refused(
                source("[source.debian]\npackage = \"zlib\"\nversion = \"1\"\nfile = \"z.tar.gz\""),
                "demo.toml:8:1: `[source.debian]` cannot be combined with a local `path` source",
                HELP,
            ),
            refused(
                source("urls = [\"https://example.invalid/a.tar.gz\"]"),
                "demo.toml:8:9: `urls` cannot be combined with a local `path` source",
                HELP,
            ),
            refused(
                source("strip = 2"),
                "demo.toml:8:9: `strip` cannot be combined with a local `path` source",
                HELP,
            ),
            refused(
                source(&format!("sha256 = \"{}\"", "a".repeat(64))),
                "demo.toml:8:10: `sha256` cannot be combined with a local `path` source",
                HELP,
            ),
        ],
    );
}

/// Issue 10: a dependency cycle points at the `depends` entry that closes it and names the
/// cycle (it was "dependency cycle: a -> b -> a", no file or line).
#[test]
fn a_dependency_cycle_is_located() {
    let s = Scratch::new();
    let lib = |name: &str, dep: &str| {
        good()
            .replace("name = \"demo\"", &format!("name = \"{name}\""))
            .replace(
                "license = \"MIT\"",
                &format!("license = \"MIT\"\ndepends = [\"{dep}\"]"),
            )
            .replace("[app]\nfiles = [\"/usr/local/bin/demo\"]\n", "")
    };
    std::fs::create_dir_all(s.recipes().join("src")).unwrap();
    s.recipe("liba", &lib("liba", "libb"));
    s.recipe("libb", &lib("libb", "liba"));
    s.recipe(
        "demo",
        &good().replace(
            "license = \"MIT\"",
            "license = \"MIT\"\ndepends = [\"liba\"]",
        ),
    );
    for command in ["plan", "build"] {
        let out = run(s.cmd_private_cache().args([command, "demo"]));
        assert_ne!(out.code, 0, "{command}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("libb.toml:4:12: dependency cycle: liba -> libb -> liba"),
            "{command}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("depends = [\"liba\"]"),
            "{}",
            out.stderr
        );
        assert!(!s.out().exists(), "{command} wrote an out folder");
    }
}

/// An app named in `depends` is refused where it is named.
#[test]
fn an_app_in_depends_is_located() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes().join("src")).unwrap();
    s.recipe(
        "other",
        &good().replace("name = \"demo\"", "name = \"other\""),
    );
    s.recipe(
        "demo",
        &good().replace(
            "license = \"MIT\"",
            "license = \"MIT\"\ndepends = [\"other\"]",
        ),
    );
    let out = run(s.cmd_private_cache().args(["plan", "demo"]));
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("demo.toml:4:12: `other` is an app, not a library: nothing to build against"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("help: list it under `host-depends`"),
        "{}",
        out.stderr
    );
}

/// A FIFO where a recipe file should be is refused at once, never opened for a blocking read.
#[test]
fn a_fifo_named_as_a_recipe_is_refused_without_blocking() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes()).unwrap();
    let fifo = s.recipes().join("demo.toml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let mut child = s
        .cmd()
        .args(["show", "demo"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("`recipe show` blocked on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("a FIFO, not a regular file"), "{err}");
}

/// Issue 11, item 2: `[[image.file]]` with `from`, `to`, `mode` and `owner` (lines 17-21;
/// `from` at 18:8, `to` at 19:6, `mode` at 20:8, `owner` at 21:9).
fn with_file(from: &str, to: &str, mode: &str, owner: &str) -> String {
    format!(
        "{}\n[image]\nwritable = [\"/data\"]\n[[image.file]]\nfrom = \"{from}\"\nto = \"{to}\"\nmode = \"{mode}\"\nowner = \"{owner}\"\n",
        good()
    )
}

/// Issue 11, item 2: a declared image file is refused at load time, located, when its `from`
/// leaves the recipe's folder, its mode is unsafe, its path collides with what the image holds
/// anyway, or its owner cannot be right.
#[test]
fn image_files_are_checked_at_load_time() {
    const FROM: &str = "help: name a file in the recipe's folder or below it";
    const MODE: &str = "help: write the permission bits in octal";
    const MOVE: &str = "help: put the file at a path of its own";
    let f = |from: &str, to: &str, mode: &str, owner: &str| with_file(from, to, mode, owner);
    refuse_all(
        "demo",
        &[
            refused(
                f("../secret.conf", "/etc/demo.conf", "0644", "root"),
                "demo.toml:18:8: file `../secret.conf` leads out of the recipe's folder",
                FROM,
            ),
            refused(
                f("conf/../../x", "/etc/demo.conf", "0644", "root"),
                "demo.toml:18:8: file `conf/../../x` leads out of the recipe's folder",
                FROM,
            ),
            refused(
                f("/etc/shadow", "/etc/demo.conf", "0644", "root"),
                "demo.toml:18:8: file `/etc/shadow` is an absolute path, not one beside the recipe",
                FROM,
            ),
            refused(
                f("demo.conf", "etc/demo.conf", "0644", "root"),
                "demo.toml:19:6: image file `etc/demo.conf` is not an absolute path inside the image",
                "help: write it as an absolute path",
            ),
            refused(
                f("demo.conf", "/etc/demo.conf", "rw-r--r--", "root"),
                "demo.toml:20:8: `rw-r--r--` is not an octal file mode",
                MODE,
            ),
            refused(
                f("demo.conf", "/etc/demo.conf", "0648", "root"),
                "demo.toml:20:8: `0648` is not an octal file mode",
                MODE,
            ),
            refused(
                f("demo.conf", "/etc/demo.conf", "4755", "root"),
                "demo.toml:20:8: mode `4755` sets the setuid, setgid or sticky bit",
                MODE,
            ),
            refused(
                f("demo.conf", "/etc/demo.conf", "0666", "root"),
                "demo.toml:20:8: mode `0666` makes the file writable by everyone",
                MODE,
            ),
            refused(
                f("demo.conf", "/usr/local/bin/demo", "0644", "root"),
                "demo.toml:19:6: image file `/usr/local/bin/demo` collides with the app file `/usr/local/bin/demo`",
                MOVE,
            ),
            refused(
                f("demo.conf", "/usr/local/bin/demo/x.conf", "0644", "root"),
                "demo.toml:19:6: image file `/usr/local/bin/demo/x.conf` collides with the app file `/usr/local/bin/demo`",
                MOVE,
            ),
            refused(
                f("passwd", "/etc/passwd", "0644", "root"),
                "demo.toml:19:6: image file `/etc/passwd` collides with `/etc/passwd`, which the image writes itself",
                "help: the image's /etc/passwd and /etc/group hold root, nobody and the app user",
            ),
            refused(
                f(
                    "demo.conf",
                    "/var/lib/db/sbom/demo.spdx.json",
                    "0644",
                    "root",
                ),
                "demo.toml:19:6: image file `/var/lib/db/sbom/demo.spdx.json` collides with the SBOM folder `/var/lib/db`",
                "help: the image's SBOM is written there",
            ),
            refused(
                f("demo.conf", "/data", "0644", "root"),
                "demo.toml:19:6: image file `/data` collides with the writable folder `/data`",
                MOVE,
            ),
            refused(
                f("demo.conf", "/etc/demo.conf", "0644", "user"),
                "demo.toml:21:9: `/etc/demo.conf` is owned by the user but lies in no writable folder",
                "help: a file the app rewrites goes inside a folder listed in [image] `writable`",
            ),
            refused(
                f("demo.conf", "/etc/demo.conf", "0644", "nginx"),
                "demo.toml:21:9: unknown owner `nginx`",
                "help: an image file is owned by \"root\" (the default) or by the image's \"user\"",
            ),
            refused(
                f("demo.conf", "/etc/demo.conf", "0600", "root"),
                "demo.toml:21:9: `/etc/demo.conf` is owned by root and the app user may not read it (mode 0600)",
                "help: the app runs as its own user",
            ),
            refused(
                format!(
                    "{}[[image.file]]\nfrom = \"other.conf\"\nto = \"/etc/demo.conf\"\n",
                    f("demo.conf", "/etc/demo.conf", "0644", "root")
                ),
                "demo.toml:24:6: image file `/etc/demo.conf` collides with the image file `/etc/demo.conf` declared before",
                "help: each image file has a path of its own",
            ),
        ],
    );
}

/// Issue 11, item 2: the file named by `from` is read at load time, from the recipe's folder
/// only: a missing file, a FIFO (never opened, so nothing blocks), a symlink (which could lead
/// out) and a folder are errors at `from`; a good one loads.
#[test]
fn image_file_from_must_be_a_regular_file_beside_the_recipe() {
    let text = with_file("conf/demo.conf", "/etc/demo/demo.conf", "0644", "root");
    let case = |setup: &dyn Fn(&std::path::Path), says: &str| {
        let s = Scratch::new();
        s.recipe("demo", &text);
        setup(&s.recipes());
        let out = run(s.cmd().args(["show", "demo"]));
        assert_eq!(out.code, 2, "{says}: {}", out.stderr);
        out.stderr_has(says)
            .stderr_has("help: `from` names a regular file of at most 1048576 bytes");
    };
    let conf = |d: &std::path::Path| d.join("conf");
    case(
        &|_| {},
        "demo.toml:18:8: cannot read image file `conf/demo.conf`: it does not exist",
    );
    case(
        &|d| {
            std::fs::create_dir(conf(d)).unwrap();
            let fifo = std::ffi::CString::new(
                conf(d)
                    .join("demo.conf")
                    .into_os_string()
                    .into_encoded_bytes(),
            )
            .unwrap();
            assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        },
        "demo.toml:18:8: cannot read image file `conf/demo.conf`: a FIFO, not a regular file",
    );
    case(
        &|d| {
            std::os::unix::fs::symlink("/etc", conf(d)).unwrap();
        },
        "demo.toml:18:8: cannot read image file `conf/demo.conf`: `conf` is a symlink",
    );
    case(
        &|d| {
            std::fs::create_dir(conf(d)).unwrap();
            std::os::unix::fs::symlink("/etc/hostname", conf(d).join("demo.conf")).unwrap();
        },
        "demo.toml:18:8: cannot read image file `conf/demo.conf`: `conf/demo.conf` is a symlink",
    );
    case(
        &|d| {
            std::fs::create_dir_all(conf(d).join("demo.conf")).unwrap();
        },
        "demo.toml:18:8: cannot read image file `conf/demo.conf`: a directory, not a regular file",
    );
    case(
        &|d| {
            std::fs::create_dir(conf(d)).unwrap();
            let big = std::fs::File::create(conf(d).join("demo.conf")).unwrap();
            big.set_len(1_048_577).unwrap();
        },
        "demo.toml:18:8: cannot read image file `conf/demo.conf`: it is 1048577 bytes, more than the 1048576",
    );
    // The good case loads.
    let s = Scratch::new();
    s.recipe("demo", &text);
    std::fs::create_dir(conf(&s.recipes())).unwrap();
    std::fs::write(conf(&s.recipes()).join("demo.conf"), "listen 8080;\n").unwrap();
    run(s.cmd().args(["show", "demo"])).success();
}

#[test]
fn optimize_and_lto_are_checked() {
    bad(&good().replace(
        "system = \"make\"",
        "system = \"make\"\noptimize = \"tiny\"",
    ))
    .stderr_has("demo.toml:11:12: unknown `optimize` value `tiny`")
    .stderr_has("expected one of: speed, size, smallest");
    bad(&good().replace("system = \"make\"", "system = \"make\"\nlto = \"yes\""))
        .stderr_has("demo.toml:11:7:");
}
