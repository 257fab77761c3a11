//! The test harness itself: a skipped test says so in the test output and is counted, and under
//! CI it fails instead.

use std::process::Command;

use crate::util::*;

/// A test of this binary that skips when `python3` is missing.
const SKIPPING: &str = "build::a_failing_step_names_the_step_command_and_log";

/// This test binary running only [`SKIPPING`] without `python3` on PATH (PATH names no folder
/// that exists), recording skips in `skips`.
fn run_skipping(skips: &std::path::Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", SKIPPING, "--test-threads", "2"])
        .env("PATH", "/nonexistent-recipe-test-path")
        .env("RECIPE_TEST_SKIPS", skips)
        .env_remove("CI");
    c
}

#[test]
fn a_skipped_test_says_so_in_the_output_and_is_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let skips = tmp.path().join("skips.txt");
    // Output is captured (no --nocapture): the line must get past libtest's capture.
    let o = run(&mut run_skipping(&skips)).success();
    let line = format!("{SKIPPING}: `python3` is not on PATH");
    assert!(
        o.stderr.contains(&format!("SKIPPED {line}")),
        "no SKIPPED line in the test output:\nstdout:\n{}\nstderr:\n{}",
        o.stdout,
        o.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&skips).unwrap(),
        format!("{line}\n")
    );
}

#[test]
fn under_ci_a_test_that_would_skip_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let skips = tmp.path().join("skips.txt");
    let o = run(run_skipping(&skips).env("CI", "true"));
    assert_eq!(o.code, 101, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("would be skipped, which CI does not allow: `python3` is not on PATH"),
        "{}{}",
        o.stdout,
        o.stderr
    );
    assert!(!skips.exists(), "a skip recorded under CI");
}
