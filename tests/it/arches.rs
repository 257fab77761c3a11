//! Issue 23, item 4: `arches = [...]` for a recipe that supports only some arches. `--arch all`
//! and `--all` skip the others and say so, one line each; an unsupported arch asked for by
//! name is an error pointing at the recipe's `arches` (exit 2).

use crate::errors::cli;
use crate::util::{Scratch, minimal_recipe, run};

/// The `recipe/arch` of every job `recipe plan --json` printed.
fn jobs(stdout: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
    let jobs = v.as_array().or_else(|| v["jobs"].as_array()).unwrap();
    jobs.iter()
        .map(|j| {
            format!(
                "{}/{}",
                j["recipe"].as_str().unwrap(),
                j["arch"].as_str().unwrap()
            )
        })
        .collect()
}

/// A catalogue with `some` (amd64 and arm64 only) and `every` (no `arches`).
fn catalogue() -> Scratch {
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes().join("src")).unwrap();
    s.recipe(
        "some",
        &minimal_recipe("some").replace(
            "license = \"MIT\"",
            "license = \"MIT\"\narches = [\"amd64\", \"arm64\"]",
        ),
    );
    s.recipe("every", &minimal_recipe("every"));
    s
}

#[test]
fn arch_all_and_all_skip_what_a_recipe_does_not_support_and_say_so() {
    let s = catalogue();
    let out = run(s.cmd().args(["plan", "--json", "some", "--arch", "all"])).success();
    assert_eq!(
        out.stderr
            .matches("skipped some for armv7: its `arches` lists amd64, arm64")
            .count(),
        1,
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("for amd64") && !out.stderr.contains("for arm64"));
    assert_eq!(jobs(&out.stdout), ["some/amd64", "some/arm64"]);
    // `--all` with an arch named: skipped too, and the other recipes are planned for it.
    let out = run(s.cmd().args(["plan", "--json", "--all", "--arch", "armv7"])).success();
    assert!(
        out.stderr.contains("skipped some for armv7"),
        "{}",
        out.stderr
    );
    assert_eq!(jobs(&out.stdout), ["every/armv7"]);
}

#[test]
fn an_unsupported_arch_asked_for_by_name_is_an_error_at_arches() {
    let s = catalogue();
    cli(
        "recipe_arch_unsupported",
        2,
        s.cmd().args(["plan", "some", "--arch", "amd64,armv7"]),
    );
    s.recipe(
        "bad",
        &minimal_recipe("bad").replace(
            "license = \"MIT\"",
            "license = \"MIT\"\narches = [\"amd64\", \"x86\"]",
        ),
    );
    cli("recipe_arches_unknown", 2, s.cmd().args(["plan", "bad"]));
}

/// A recipe that builds against, runs or includes a recipe whose `arches` leaves the arch out
/// fails at plan time, at the entry that names it, naming both recipes and the arch (exit 2),
/// rather than building the dependency for an arch it says it does not support.
#[test]
fn a_dependency_whose_arches_leave_the_arch_out_is_an_error_at_the_entry() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes().join("src")).unwrap();
    let library = minimal_recipe("base")
        .replace(
            "license = \"MIT\"",
            "license = \"MIT\"\narches = [\"amd64\", \"arm64\"]",
        )
        .replace("[app]\nfiles = [\"/usr/local/bin/demo\"]\n", "");
    s.recipe("base", &library);
    s.recipe(
        "user",
        &minimal_recipe("user").replace(
            "license = \"MIT\"",
            "license = \"MIT\"\ndepends = [\"base\"]",
        ),
    );
    s.recipe(
        "shows",
        &format!(
            "{}\n[image]\ninclude = [\"base\"]\n",
            minimal_recipe("shows")
        ),
    );
    let out = run(s
        .cmd()
        .args(["plan", "--json", "user", "shows", "--arch", "arm64"]))
    .success();
    let planned = jobs(&out.stdout);
    for job in ["base/arm64", "user/arm64", "shows/arm64"] {
        assert!(planned.iter().any(|j| j == job), "{planned:?}");
    }
    cli(
        "recipe_depends_arch_unsupported",
        2,
        s.cmd().args(["plan", "user", "--arch", "armv7"]),
    );
    cli(
        "recipe_include_arch_unsupported",
        2,
        s.cmd().args(["plan", "shows", "--arch", "all"]),
    );
}
