//! `[source] patches`: patch files beside the recipe, applied in order to the source (each a
//! step in the build log), their bytes in the build key; a patch that does not apply fails the
//! build naming it; a missing one is a recipe error at its place. A patch written
//! `{ file = ..., arches = [...] }` applies to those arches only, and only their keys hold it.

use crate::errors::cli;
use crate::util::{Scratch, build_lock, fixture_copy, nothing_built_kept, require_tool, run};

/// The recipe's `patches` line as the fixture writes it.
const BOTH: &str = "[\"hello-patched/0001-version.patch\", \"hello-patched/0002-twice.patch\"]";

/// The fixture's patches with the second one for `arches` only (a TOML array's inside).
fn second_only_for(arches: &str) -> impl Fn(String) -> String {
    let entry = format!(
        "[\"hello-patched/0001-version.patch\", \
         {{ file = \"hello-patched/0002-twice.patch\", arches = [{arches}] }}]"
    );
    move |t: String| t.replace(BOTH, &entry)
}

/// The plan of `recipe plan --json` for `arches` of the scratch's hello-patched.
fn plan_json(s: &Scratch, arches: &str) -> serde_json::Value {
    let o = run(s
        .cmd()
        .args(["plan", "hello-patched", "--arch", arches, "--json"]))
    .success();
    serde_json::from_str(&o.stdout).unwrap()
}

/// The key of each job of a plan, by arch.
fn keys(plan: &serde_json::Value) -> Vec<(String, String)> {
    plan["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["arch"].as_str().unwrap().into(),
                j["key"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// A scratch catalogue holding the hello-patched fixture with its patch files beside it,
/// `edit` applied to the recipe text.
fn patched(edit: impl Fn(String) -> String) -> Scratch {
    fixture_copy("hello-patched", edit)
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

/// A patch for some arches is a step of their jobs only, and the plan says which arches each
/// patch applies to; an arch's key holds exactly the patches applied to it: an armv7-only
/// patch leaves the amd64 key as it was without it, and listing an arch changes nothing for it.
#[test]
fn a_patch_for_some_arches_is_in_their_plans_and_keys_only() {
    let only_first = patched(|t| t.replace(BOTH, "[\"hello-patched/0001-version.patch\"]"));
    let armv7 = patched(second_only_for("\"armv7\""));
    let both = patched(|t| t);
    let amd64 = patched(second_only_for("\"amd64\", \"arm64\""));
    let plan = plan_json(&armv7, "amd64,armv7");
    let patch_steps = |job: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        job["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s.get("patch").is_some())
            .map(|s| {
                (
                    s["patch"].as_str().unwrap().to_string(),
                    s["arches"].clone(),
                )
            })
            .collect()
    };
    let jobs = plan["jobs"].as_array().unwrap();
    let by_arch = |arch: &str| patch_steps(jobs.iter().find(|j| j["arch"] == arch).unwrap());
    let (first, second) = (
        "hello-patched/0001-version.patch".to_string(),
        "hello-patched/0002-twice.patch".to_string(),
    );
    let every = serde_json::json!(["amd64", "arm64", "armv7"]);
    let only = serde_json::json!(["armv7"]);
    assert_eq!(by_arch("amd64"), [(first.clone(), every.clone())]);
    assert_eq!(by_arch("armv7"), [(first, every), (second, only)]);

    let key = |s: &Scratch, arch: &str| keys(&plan_json(s, arch))[0].1.clone();
    assert_eq!(key(&armv7, "amd64"), key(&only_first, "amd64"));
    assert_ne!(key(&armv7, "armv7"), key(&only_first, "armv7"));
    assert_eq!(key(&armv7, "armv7"), key(&both, "armv7"));
    assert_eq!(key(&amd64, "amd64"), key(&both, "amd64"));
    assert_eq!(key(&amd64, "armv7"), key(&only_first, "armv7"));

    let show = run(armv7.cmd().args(["show", "hello-patched"])).success();
    assert!(
        show.stdout
            .lines()
            .any(|l| l.contains("patch     hello-patched/0002-twice.patch")
                && l.ends_with(" for armv7 only")),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout
            .lines()
            .any(|l| l.contains("patch     hello-patched/0001-version.patch") && l.ends_with(')')),
        "{}",
        show.stdout
    );
}

/// A patch's `arches` names known arches the recipe supports, and its `file` is beside the
/// recipe: each mistake is a recipe error at its place (exit 2).
#[test]
fn a_patch_for_an_unknown_arch_or_missing_is_located() {
    let s = patched(second_only_for("\"armv7\", \"sparc\""));
    cli(
        "recipe_patch_arch_unknown",
        2,
        s.cmd().args(["show", "hello-patched"]),
    );
    let s = patched(|t| {
        second_only_for("\"armv7\"")(t)
            .replace("0002-twice.patch\", arches", "0003-nope.patch\", arches")
    });
    cli(
        "recipe_patch_for_arches_missing",
        2,
        s.cmd().args(["show", "hello-patched"]),
    );
    let s = patched(|t| {
        second_only_for("\"armv7\"")(t).replace(
            "license = \"MIT\"",
            "license = \"MIT\"\narches = [\"amd64\", \"arm64\"]",
        )
    });
    run(s.cmd().args(["show", "hello-patched"]))
        .failure(2)
        .stderr_has("hello-patched.toml:12:")
        .stderr_has("the recipe does not support armv7, so no patch applies to it");
    let s = patched(second_only_for(""));
    run(s.cmd().args(["show", "hello-patched"]))
        .failure(2)
        .stderr_has("the patch's `arches` is empty");
}

/// A build applies a patch only for the arches it names: the amd64 binary has the first patch
/// alone, the arm64 one both; changing the arm64-only patch rebuilds arm64, not amd64.
#[test]
fn a_build_applies_a_patch_for_its_arches_only() {
    if !require_tool("patch") {
        return;
    }
    let _l = build_lock();
    let s = patched(|t| {
        second_only_for("\"arm64\"")(t).replace(
            "expect = \"hello-c 1.0 patched twice\"",
            "expect = \"hello-c 1.0 patched\"",
        )
    });
    run(s.cmd().args([
        "build",
        "hello-patched",
        "--arch",
        "amd64,arm64",
        "--rebuild",
    ]))
    .success();
    let bin = |arch: &str| s.out().join(format!("hello-patched/bin/{arch}/hello"));
    let v = run(std::process::Command::new(bin("amd64")).arg("--version")).success();
    assert!(
        v.stdout.starts_with("hello-c 1.0 patched (x86_64)"),
        "{}",
        v.stdout
    );
    let arm64 = std::fs::read(bin("arm64")).unwrap();
    let twice = b"hello-c 1.0 patched twice";
    assert!(arm64.windows(twice.len()).any(|w| w == twice));
    let p2 = s.recipes().join("hello-patched/0002-twice.patch");
    let text = std::fs::read_to_string(&p2).unwrap();
    std::fs::write(
        &p2,
        text.replace("so the order matters", "so the order matters!"),
    )
    .unwrap();
    let plan = |arch: &str| {
        run(s.cmd().args(["plan", "hello-patched", "--arch", arch]))
            .success()
            .stdout
    };
    let amd64 = plan("amd64");
    assert!(amd64.contains(" hit"), "{amd64}");
    let arm64 = plan("arm64");
    assert!(arm64.contains("recipe changed"), "{arm64}");
}

/// A patch to `Makefile.am` takes effect with `autoreconf = true` (configure and Makefile.in
/// made again by the build machine's autotools, on every arch); without it, make calls the
/// automake the tarball was made with (the fixture says 1.99), which is missing, and the build
/// fails at make's own message. `show` and the plan say the step.
#[test]
fn a_patch_to_makefile_am_takes_effect_through_autoreconf() {
    if !crate::util::tools_for_builds() || !require_tool("autoreconf") || !require_tool("automake")
    {
        return;
    }
    let _l = build_lock();
    let s = fixture_copy("hello-automake", |t| t);
    run(s.cmd().args(["show", "hello-automake"]))
        .success()
        .stdout_has("autoreconf          true");
    let plan = run(s.cmd().args(["plan", "hello-automake", "--json"])).success();
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let steps: Vec<&str> = plan["jobs"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let at = |name: &str| steps.iter().position(|s| *s == name);
    assert!(
        at("autoreconf").is_some() && at("autoreconf") < at("configure"),
        "{steps:?}"
    );
    // The smoke test expects the patched greeting.
    run(s.cmd().args([
        "build",
        "hello-automake",
        "--arch",
        "amd64,armv7",
        "--rebuild",
    ]))
    .success();

    let s = fixture_copy("hello-automake", |t| t.replace("autoreconf = true\n", ""));
    run(s
        .cmd()
        .args(["build", "hello-automake", "--arch", "amd64", "--rebuild"]))
    .failure(1)
    .stderr_has("1.99' is missing on your system");
    nothing_built_kept(&s);
}
