//! `[source] patches`: patch files beside the recipe, applied in order to the source (each a
//! step in the build log), their bytes in the build key; a patch that does not apply fails the
//! build naming it; a missing one is a recipe error at its place.

use crate::util::{Scratch, build_lock, nothing_built_kept, require_tool, root, run};

/// A scratch catalogue holding the hello-patched fixture (its source path made absolute) with
/// its patch files beside it, `edit` applied to the recipe text.
fn patched(edit: impl Fn(String) -> String) -> Scratch {
    let s = Scratch::new();
    let fixtures = root().join("tests/fixtures");
    let text = std::fs::read_to_string(fixtures.join("recipes/hello-patched.toml"))
        .unwrap()
        .replace("path = \"../", &format!("path = \"{}/", fixtures.display()));
    s.recipe("hello-patched", &edit(text));
    let dir = s.recipes().join("hello-patched");
    std::fs::create_dir_all(&dir).unwrap();
    for p in ["0001-version.patch", "0002-twice.patch"] {
        std::fs::copy(fixtures.join("recipes/hello-patched").join(p), dir.join(p)).unwrap();
    }
    s
}

#[test]
fn patches_apply_in_order_and_a_changed_patch_rebuilds() {
    if !require_tool("patch") {
        return;
    }
    let _l = build_lock();
    let s = patched(|t| t);
    let o = run(s.cmd().args([
        "build",
        "hello-patched",
        "--arch",
        "amd64,arm64",
        "--rebuild",
    ]))
    .success();
    // The smoke test expects the text the second patch writes over the first one's.
    for arch in ["amd64", "arm64"] {
        assert!(
            o.stderr
                .contains(&format!("hello-patched/{arch}: smoke test passed: `")),
            "{}",
            o.stderr
        );
    }
    let bin = s.out().join("hello-patched/bin/amd64/hello");
    let v = run(std::process::Command::new(&bin).arg("--version")).success();
    assert!(
        v.stdout.starts_with("hello-c 1.0 patched twice"),
        "{}",
        v.stdout
    );
    // Unchanged: nothing to build. A patch's bytes changed: that recipe builds again.
    let plan = || run(s.cmd().args(["plan", "hello-patched", "--arch", "amd64"])).success();
    let first = plan().stdout;
    assert!(first.contains(" hit"), "{first}");
    let p2 = s.recipes().join("hello-patched/0002-twice.patch");
    let text = std::fs::read_to_string(&p2).unwrap();
    std::fs::write(
        &p2,
        text.replace("so the order matters", "so the order matters!"),
    )
    .unwrap();
    let again = plan().stdout;
    assert!(again.contains("recipe changed"), "{again}");
}

#[test]
fn a_patch_that_does_not_apply_fails_the_build_naming_it() {
    if !require_tool("patch") {
        return;
    }
    let _l = build_lock();
    // The second patch first: its context is the first one's output, so it cannot apply.
    let s = patched(|t| {
        t.replace(
            "[\"hello-patched/0001-version.patch\", \"hello-patched/0002-twice.patch\"]",
            "[\"hello-patched/0002-twice.patch\", \"hello-patched/0001-version.patch\"]",
        )
    });
    let o = run(s
        .cmd_private_cache()
        .args(["build", "hello-patched", "--arch", "amd64"]))
    .failure(1)
    .stderr_has("step `patch hello-patched/0002-twice.patch` of hello-patched for amd64 failed: `patch -t -F 0 -N")
    .stderr_has("exited with status 1");
    assert!(o.stderr.contains("FAILED"), "{}", o.stderr);
    nothing_built_kept(&s);
}

/// A hunk whose context drifted (one context line differs) would apply with GNU patch's default
/// fuzz, somewhere near; here it fails.
#[test]
fn a_patch_whose_context_drifted_does_not_apply() {
    if !require_tool("patch") {
        return;
    }
    let _l = build_lock();
    let s = patched(|t| t);
    let p1 = s.recipes().join("hello-patched/0001-version.patch");
    let text = std::fs::read_to_string(&p1).unwrap();
    std::fs::write(&p1, text.replace(" #endif\n", " #endif /* drifted */\n")).unwrap();
    run(s
        .cmd_private_cache()
        .args(["build", "hello-patched", "--arch", "amd64"]))
    .failure(1)
    .stderr_has("step `patch hello-patched/0001-version.patch` of hello-patched for amd64 failed")
    .stderr_has("patch -t -F 0 -N");
    nothing_built_kept(&s);
}

#[test]
fn a_missing_or_repeated_patch_is_located() {
    let s = patched(|t| {
        t.replace(
            "hello-patched/0002-twice.patch",
            "hello-patched/0003-nope.patch",
        )
    });
    run(s.cmd().args(["show", "hello-patched"]))
        .failure(2)
        .stderr_has("hello-patched.toml:11:")
        .stderr_has("patch `hello-patched/0003-nope.patch` does not exist beside the recipe");
    let s = patched(|t| {
        t.replace(
            "hello-patched/0002-twice.patch",
            "hello-patched/0001-version.patch",
        )
    });
    run(s.cmd().args(["show", "hello-patched"]))
        .failure(2)
        .stderr_has("patch `hello-patched/0001-version.patch` is listed twice");
    let s = patched(|t| t.replace("hello-patched/0002-twice.patch", "../0002-twice.patch"));
    run(s.cmd().args(["show", "hello-patched"])).failure(2);
}

/// The plan is the whole plan: `recipe plan --json` lists the patch steps (each naming its
/// recipe patch and the file the step reads, as the step sees it) before the build system's
/// steps, and the strip step after them, naming the app files.
#[test]
fn the_plan_lists_the_patch_and_strip_steps() {
    let s = patched(|t| t);
    let o = run(s
        .cmd()
        .args(["plan", "hello-patched", "--arch", "arm64", "--json"]))
    .success();
    let plan: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let steps = plan["jobs"][0]["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names[..2],
        [
            "patch hello-patched/0001-version.patch",
            "patch hello-patched/0002-twice.patch"
        ],
        "{names:?}"
    );
    for (i, p) in ["000-0001-version.patch", "001-0002-twice.patch"]
        .iter()
        .enumerate()
    {
        let argv: Vec<&str> = steps[i]["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(argv[0], "patch");
        assert_eq!(
            argv[argv.len() - 2..],
            ["-i", &format!("/build/patches/{p}")]
        );
        assert_eq!(steps[i]["cwd"], "/build/src");
    }
    let strip = steps.last().unwrap();
    assert_eq!(strip["name"], "strip", "{names:?}");
    let argv: Vec<&str> = strip["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(argv[0].ends_with("-strip"), "{argv:?}");
    assert_eq!(
        argv[1..],
        ["--strip-all", "/build/dest/usr/local/bin/hello"]
    );
    assert!(
        names.len() > 3,
        "the build system's steps are between: {names:?}"
    );
}
