//! What plain output (no terminal) says of a build: terse, no cache path; with `-v`, each
//! command the build runs.

use crate::util::{Scratch, root, run};

#[test]
fn plain_output_names_no_cache_path_and_verbose_shows_each_command() {
    if !crate::util::require_tool("python3") {
        return;
    }
    let _l = crate::util::build_lock();
    let s = Scratch::new();
    let text = std::fs::read_to_string(root().join("tests/fixtures/recipes/hello-c.toml"))
        .unwrap()
        .replace(
            "path = \"../hello-c\"",
            &format!(
                "path = \"{}\"",
                root().join("tests/fixtures/hello-c").display()
            ),
        );
    s.recipe("hello-c", &text);
    crate::graph::link_zig(&s);
    let cache = s.cache().display().to_string();
    let o = run(s
        .cmd_private_cache()
        .args(["build", "hello-c", "--arch", "amd64"]))
    .success();
    assert!(!o.stderr.contains(&cache), "a cache path:\n{}", o.stderr);
    assert!(
        !o.stderr.contains(": $ "),
        "a command without -v:\n{}",
        o.stderr
    );

    let o =
        run(s
            .cmd_private_cache()
            .args(["build", "-v", "--rebuild", "hello-c", "--arch", "amd64"]))
        .success();
    let commands: Vec<&str> = o
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("hello-c/amd64: $ "))
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("make ") && c.ends_with(" hello"))
            && commands.iter().any(|c| c.contains("-strip --strip-all ")),
        "no make or strip command:\n{}",
        o.stderr
    );
    // `--quiet` wins.
    let o = run(s.cmd_private_cache().args([
        "build",
        "-q",
        "-v",
        "--rebuild",
        "hello-c",
        "--arch",
        "amd64",
    ]))
    .success();
    assert!(!o.stderr.contains(": $ "), "{}", o.stderr);
}
