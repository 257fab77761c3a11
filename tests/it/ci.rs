//! `recipe ci`: the generated GitHub workflow passes actionlint and is checked for staleness;
//! the GitLab child pipeline is pinned (one job per node, exact `needs`).

use crate::util::{Scratch, require_tool, root, run};

/// A public key (the test signs nothing with it).
const TRUST: &str = "ci-test:eU1eMXxaOULm2EUjUQYoyAOEJxBjZ71aejaYlv4aFa0=";

fn ci(s: &Scratch) -> std::process::Command {
    let mut c = s.cmd_private_cache();
    // Relative, as in a repository: the generated files name it.
    c.current_dir(root());
    c.env("RECIPE_RECIPES", "tests/fixtures/recipes");
    for v in [
        "RECIPE_REMOTE_CACHE",
        "RECIPE_CACHE_TRUST",
        "RECIPE_CACHE_SIGNING_KEY",
        "RECIPE_REMOTE_CACHE_INSECURE",
    ] {
        c.env_remove(v);
    }
    c
}

const GRAPH: [&str; 4] = ["hello-dep", "hello-gen", "--arch", "all"];

#[test]
fn the_github_workflow_passes_actionlint_and_knows_when_it_is_stale() {
    let s = Scratch::new();
    let file = s.path().join("recipe.yml");
    let args = |extra: &[&str]| {
        let mut v: Vec<String> = ["ci", "github"].iter().map(|a| a.to_string()).collect();
        v.extend(GRAPH.iter().map(|a| a.to_string()));
        v.extend(
            [
                "--remote-cache",
                "ghcr.io/acme/recipe-cache",
                "--trust",
                TRUST,
                "--image-repo",
                "ghcr.io/acme",
                "--setup",
                "sudo apt-get install -y qemu-user-static",
                "--setup",
                "cargo install --locked --git https://example.invalid/recipe recipe",
                "--output",
            ]
            .iter()
            .map(|a| a.to_string()),
        );
        v.push(file.display().to_string());
        v.extend(extra.iter().map(|a| a.to_string()));
        v
    };
    let out = run(ci(&s).args(args(&[]))).success();
    assert!(out.stdout.contains("wrote"), "{}", out.stdout);
    let text = std::fs::read_to_string(&file).unwrap();
    // Two levels (libraries and host tools, then the apps), then the images.
    assert!(
        text.contains("  level1:\n    needs: [plan, level0]\n"),
        "{text}"
    );
    assert!(!text.contains("level2"), "{text}");
    assert!(
        text.contains("  images:\n    needs: [plan, level0, level1]\n"),
        "{text}"
    );
    assert!(
        text.contains("recipe ci matrix hello-dep hello-gen --arch amd64,arm64,armv7 --levels 2"),
        "{text}"
    );
    assert!(
        text.contains("RECIPE_RECIPES: \"tests/fixtures/recipes\""),
        "{text}"
    );
    assert!(
        text.contains("recipe push hello-gen \"$RECIPE_IMAGE_REPO/hello-gen\""),
        "{text}"
    );
    // Weekly scheduled runs by default; each job applies the pending security updates on them.
    assert!(
        text.contains("  schedule:\n    - cron: '17 4 * * 1'\n"),
        "{text}"
    );
    let updates = "      - name: Security updates (scheduled runs)\n        if: ${{ github.event_name == 'schedule' }}\n        run: |\n          recipe outdated --all || true\n          recipe update --security --all || echo 'recipe update: some security updates could not be applied; see above'\n";
    assert_eq!(
        text.matches(updates).count(),
        4,
        "plan, two levels, images: {text}"
    );

    // Deterministic: made again, the same bytes; `--check` agrees, and sees an edit.
    run(ci(&s).args(args(&[]))).success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    run(ci(&s).args(args(&["--check"])))
        .success()
        .stdout_has("is up to date");
    std::fs::write(&file, text.replace("fail-fast: false", "fail-fast: true")).unwrap();
    run(ci(&s).args(args(&["--check"])))
        .failure(1)
        .stderr_has("run it again and commit the file");

    // Another schedule is named in the command line; `none` drops scheduled runs; a schedule
    // that is not a cron line is refused.
    let other = run(ci(&s).args(args(&["--schedule", "0 2 * * *"]))).success();
    assert!(other.stdout.contains("wrote"), "{}", other.stdout);
    let text2 = std::fs::read_to_string(&file).unwrap();
    assert!(text2.contains("    - cron: '0 2 * * *'\n"), "{text2}");
    assert!(text2.contains("--schedule '0 2 * * *'"), "{text2}");
    run(ci(&s).args(args(&["--schedule", "none"]))).success();
    let none = std::fs::read_to_string(&file).unwrap();
    assert!(
        !none.contains("  schedule:") && !none.contains("Security updates"),
        "{none}"
    );
    run(ci(&s).args(args(&["--schedule", "weekly\n  evil: 1"])))
        .failure(2)
        .stderr_has("is not a cron line");

    // Where `scripts/setup.sh --tests` installs it, or PATH.
    let fixed = std::path::PathBuf::from("/opt/recipe-tools/bin/actionlint");
    let actionlint = if fixed.is_file() {
        fixed
    } else if require_tool("actionlint") {
        "actionlint".into()
    } else {
        return;
    };
    run(ci(&s).args(args(&[]))).success();
    let lint = std::process::Command::new(actionlint)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn the_gitlab_child_pipeline_has_a_job_per_node_and_exact_needs() {
    let s = Scratch::new();
    let mut args = vec!["ci", "gitlab"];
    args.extend(GRAPH);
    args.extend([
        "--remote-cache",
        "registry.example/cache",
        "--trust",
        TRUST,
        "--image-repo",
        "registry.example/apps",
        "--setup",
        "apt-get install -y qemu-user-static",
    ]);
    let out = run(ci(&s).args(&args)).success();
    insta::assert_snapshot!("gitlab_child_pipeline", out.stdout);
    // On a scheduled pipeline the parent passes `--security-updates`: every job updates first.
    args.push("--security-updates");
    let out = run(ci(&s).args(&args)).success();
    assert!(
        out.stdout.contains(
            "  before_script:\n    - \"apt-get install -y qemu-user-static\"\n    - \"recipe outdated --all || true\"\n    - \"recipe update --security --all || echo 'recipe update: some security updates could not be applied; see above'\"\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn the_matrix_lists_each_level_and_refuses_a_stale_workflow() {
    let s = Scratch::new();
    let mut args = vec!["ci", "matrix"];
    args.extend(GRAPH);
    args.extend(["--levels", "3"]);
    let out = run(ci(&s).args(&args)).success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(
        lines[0].starts_with("level0=[{\"recipe\":\"libgreet\",\"arch\":\"amd64\"}"),
        "{}",
        out.stdout
    );
    assert!(
        lines[1].contains("{\"recipe\":\"hello-gen\",\"arch\":\"armv7\"}"),
        "{}",
        out.stdout
    );
    assert_eq!(lines[2], "level2=[]");
    let v: serde_json::Value = serde_json::from_str(lines[0].split_once('=').unwrap().1).unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        4,
        "3 libgreet and the host tool"
    );
}

/// A generated file read back as YAML, as JSON values.
fn yaml(text: &str) -> serde_json::Value {
    crate::harden::yaml_json(text)
}

/// The generated workflow (`GRAPH`), with `extra` options.
fn github(extra: &[&str]) -> serde_json::Value {
    let s = Scratch::new();
    let mut args = vec!["ci", "github"];
    args.extend(GRAPH);
    args.extend([
        "--remote-cache",
        "ghcr.io/acme/recipe-cache",
        "--trust",
        TRUST,
    ]);
    args.extend(extra);
    yaml(&run(ci(&s).args(&args)).success().stdout)
}

/// What a GitHub `${{ A && B }}` of the generated file says, for a pull request or not, a
/// signing secret or not, and the images job's `RECIPE_SIGNS`. Only the conditions the file
/// uses are known: another one fails the test, to be added here with its meaning.
fn github_holds(expr: &str, pull_request: bool, secret: bool, signs: bool) -> bool {
    let inner = expr
        .strip_prefix("${{ ")
        .and_then(|e| e.strip_suffix(" }}"))
        .unwrap_or_else(|| panic!("not an expression: {expr}"));
    inner.split(" && ").all(|atom| match atom {
        "github.event_name != 'pull_request'" => !pull_request,
        "secrets.RECIPE_CACHE_SIGNING_KEY != ''" => secret,
        "env.RECIPE_SIGNS == 'true'" => signs,
        "env.RECIPE_SIGNS != 'true'" => !signs,
        "github.event_name == 'schedule'" => false,
        other => panic!("unknown condition `{other}` in {expr}"),
    })
}

/// The variable that carries the signing key to a step that signs.
const KEY: &str = "RECIPE_CACHE_SIGNING_KEY";

#[test]
fn the_github_images_job_signs_only_with_the_secret_and_never_on_pull_requests() {
    let w = github(&["--image-repo", "ghcr.io/acme"]);
    let images = &w["jobs"]["images"];
    let signs_expr = images["env"]["RECIPE_SIGNS"].as_str().unwrap();
    let steps = images["steps"].as_array().unwrap();
    for pull_request in [false, true] {
        for secret in [false, true] {
            let signs = github_holds(signs_expr, pull_request, secret, false);
            let ran: Vec<&serde_json::Value> = steps
                .iter()
                .filter(|s| {
                    s["if"]
                        .as_str()
                        .is_none_or(|e| github_holds(e, pull_request, secret, signs))
                })
                .collect();
            let pushing: Vec<_> = ran
                .iter()
                .filter(|s| s["run"].as_str().unwrap_or("").contains("recipe push"))
                .collect();
            let keyed: Vec<_> = ran.iter().filter(|s| !s["env"][KEY].is_null()).collect();
            let case = format!("pull request: {pull_request}, secret: {secret}");
            if pull_request {
                assert!(pushing.is_empty() && keyed.is_empty(), "{case}");
                continue;
            }
            assert_eq!(pushing.len(), 1, "{case}");
            let push = pushing[0]["run"].as_str().unwrap();
            for app in ["hello-dep", "hello-gen"] {
                assert!(
                    push.contains(&format!("recipe push {app} \"$RECIPE_IMAGE_REPO/{app}\"")),
                    "{case}: {push}"
                );
            }
            // The key reaches the push that signs, and no other step of the job.
            assert_eq!(keyed.len(), usize::from(secret), "{case}");
            if secret {
                assert_eq!(keyed[0], pushing[0], "{case}");
            }
        }
    }
    // Wherever a step gets the key (the signing push, the level jobs' builds that sign cache
    // entries), a pull request gets an empty one.
    let mut keyed = 0;
    for (name, job) in w["jobs"].as_object().unwrap() {
        for step in job["steps"].as_array().unwrap() {
            if let Some(v) = step["env"][KEY].as_str() {
                keyed += 1;
                assert_eq!(
                    v,
                    "${{ github.event_name != 'pull_request' && secrets.RECIPE_CACHE_SIGNING_KEY || '' }}",
                    "{name}"
                );
            }
        }
    }
    assert_eq!(keyed, 3, "two levels and the signing push");

    // Without an image repository, nothing is pushed or signed.
    let w = github(&[]);
    let images = &w["jobs"]["images"];
    assert!(images.get("env").is_none(), "{images}");
    assert!(!images.to_string().contains("recipe push"), "{images}");
}

/// Whether a GitLab job with these `rules` runs, in a merge-request pipeline or not, with the
/// signing key set or not. Only the conditions the file uses are known.
fn gitlab_runs(job: &serde_json::Value, merge_request: bool, key: bool) -> bool {
    let Some(rules) = job["rules"].as_array() else {
        return true;
    };
    for rule in rules {
        let holds = match rule["if"].as_str() {
            None => true,
            Some("$CI_PIPELINE_SOURCE == \"merge_request_event\" || $CI_MERGE_REQUEST_IID") => {
                merge_request
            }
            Some("$RECIPE_CACHE_SIGNING_KEY") => key,
            Some(other) => panic!("unknown rule `{other}`"),
        };
        if holds {
            return rule["when"].as_str() != Some("never");
        }
    }
    false
}

#[test]
fn the_gitlab_images_are_pushed_and_signed_only_with_the_key_and_never_for_a_merge_request() {
    let s = Scratch::new();
    let mut args = vec!["ci", "gitlab"];
    args.extend(GRAPH);
    args.extend(["--remote-cache", "registry.example/cache", "--trust", TRUST]);
    let plain = yaml(&run(ci(&s).args(&args)).success().stdout);
    args.extend(["--image-repo", "registry.example/apps"]);
    let p = yaml(&run(ci(&s).args(&args)).success().stdout);
    let script = |job: &serde_json::Value| -> String {
        job["script"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_string() + "\n")
            .collect()
    };
    for merge_request in [false, true] {
        for key in [false, true] {
            let ran: Vec<&str> = ["images", "images-signed"]
                .into_iter()
                .filter(|j| gitlab_runs(&p[*j], merge_request, key))
                .collect();
            let case = format!("merge request: {merge_request}, key: {key}");
            assert_eq!(ran.len(), 1, "{case}: one images job, not {ran:?}");
            assert_eq!(ran[0] == "images-signed", key && !merge_request, "{case}");
            assert!(script(&p[ran[0]]).contains("recipe build hello-dep hello-gen"));
        }
    }
    assert!(!script(&p["images"]).contains("recipe push"));
    let signed = script(&p["images-signed"]);
    for app in ["hello-dep", "hello-gen"] {
        assert!(
            signed.contains(&format!("recipe push {app} \"$RECIPE_IMAGE_REPO/{app}\"\n")),
            "{signed}"
        );
    }
    // Without an image repository: one images job, always, pushing nothing.
    assert!(plain.get("images-signed").is_none());
    assert!(plain["images"].get("rules").is_none());
    assert!(!script(&plain["images"]).contains("recipe push"));
}
