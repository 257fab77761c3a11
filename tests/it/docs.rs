//! The documents hold: every TOML example in docs/recipe-format.md validates (complete recipes
//! as they are, fragments merged into a minimal recipe), every test ARCHITECTURE.md's
//! invariants cite exists, and the README names what `scripts/setup.sh` installs.

use std::path::Path;

use crate::util::{files_under, minimal_recipe, root};

fn toml_blocks(md: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(b), "```") => {
                blocks.push(std::mem::take(b));
                current = None;
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// Deep merge: tables merge, other values replace.
fn merge(base: &mut toml::Table, add: toml::Table) {
    for (k, v) in add {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(a)) => {
                // A fragment's [source] or [build] replaces the base's: they are alternatives.
                if k == "source" || (k == "build" && a.contains_key("system")) {
                    *b = a;
                } else {
                    merge(b, a);
                }
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[test]
fn every_example_in_the_recipe_format_validates() {
    let md = std::fs::read_to_string(root().join("docs/recipe-format.md")).unwrap();
    let blocks = toml_blocks(&md);
    assert!(blocks.len() >= 6, "found only {} examples", blocks.len());
    for block in blocks {
        let fragment: toml::Table =
            toml::from_str(&block).unwrap_or_else(|e| panic!("example is not TOML: {e}\n{block}"));
        let (name, text) = if fragment.contains_key("name") {
            (
                fragment["name"].as_str().unwrap().to_string(),
                block.clone(),
            )
        } else {
            let mut base: toml::Table = toml::from_str(&minimal_recipe("example")).unwrap();
            merge(&mut base, fragment);
            ("example".to_string(), toml::to_string(&base).unwrap())
        };
        let file = format!("{name}.toml");
        if let Err(e) = recipe::recipe::parse(Path::new(&file), &text) {
            panic!("example does not validate: {e}\n{text}");
        }
    }
}

/// ARCHITECTURE.md's invariant: every child process starts in `src/process.rs` (own process
/// group, registered, explicit environment); nothing else spells `Command::new`.
#[test]
fn every_child_process_goes_through_the_process_layer() {
    let mut offenders = Vec::new();
    for f in files_under(&root().join("src")) {
        if !f.ends_with(".rs") || f.ends_with("process.rs") {
            continue;
        }
        let text = std::fs::read_to_string(root().join("src").join(&f)).unwrap();
        if text.contains("Command::new(") {
            offenders.push(f);
        }
    }
    assert!(
        offenders.is_empty(),
        "Command::new outside src/process.rs: {offenders:?}"
    );
}

/// The README shows the short modes exactly as `.ci/run` runs them, in its order.
#[test]
fn the_readme_lists_what_ci_runs() {
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines: Vec<&str> = ci.lines().filter(|l| l.starts_with("short ")).collect();
    assert!(lines.len() >= 5, "{lines:?}");
    let mut at = 0;
    for l in lines {
        let found = readme[at..].find(l);
        assert!(
            found.is_some(),
            "README.md lacks `{l}` (in `.ci/run`'s order)"
        );
        at += found.unwrap() + l.len();
    }
}

/// The Debian packages `scripts/setup.sh` installs, as (user's, test-only): the names after each
/// `|| need`, before and after its `if [ "$tests" = 1 ]` part.
fn setup_packages(script: &str) -> (Vec<String>, Vec<String>) {
    let (mut user, mut tests) = (Vec::new(), Vec::new());
    let mut in_tests = false;
    for line in script.lines() {
        in_tests |= line.starts_with("if [ \"$tests\" = 1 ]");
        let Some((_, rest)) = line.split_once("|| need ") else {
            continue;
        };
        let names = rest
            .split('#')
            .next()
            .unwrap_or_default()
            .split_whitespace();
        let into = if in_tests { &mut tests } else { &mut user };
        into.extend(names.map(str::to_string));
    }
    (user, tests)
}

/// True when `text` has `word` with no package-name character on either side.
fn names_package(text: &str, word: &str) -> bool {
    let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+');
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(|c| part(c) && c != '.')
    })
}

/// The README's paragraph that starts with `start`.
fn paragraph<'a>(md: &'a str, start: &str) -> &'a str {
    let at = md
        .find(start)
        .unwrap_or_else(|| panic!("README.md lacks `{start}`"));
    let rest = &md[at..];
    &rest[..rest.find("\n\n").unwrap_or(rest.len())]
}

/// The README names every package `scripts/setup.sh` installs, in the paragraph of the command
/// that installs it (`bash scripts/setup.sh` for a user, `--tests` for the tests), and `.ci/run`
/// asks for the test tools.
#[test]
fn the_readme_lists_what_setup_installs() {
    let script = std::fs::read_to_string(root().join("scripts/setup.sh")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (user, tests) = setup_packages(&script);
    assert!(user.len() >= 10 && tests.len() >= 10, "{user:?} {tests:?}");
    let user_par = paragraph(&readme, "`bash scripts/setup.sh` installs");
    let tests_par = paragraph(&readme, "`bash scripts/setup.sh --tests` (");
    for (packages, par) in [(&user, user_par), (&tests, tests_par)] {
        let missing: Vec<_> = packages.iter().filter(|p| !names_package(par, p)).collect();
        assert!(
            missing.is_empty(),
            "README.md's `{}` lacks {missing:?}",
            &par[..40]
        );
    }
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(ci.lines().any(|l| l == "bash scripts/setup.sh --tests"));
}

#[test]
fn names_package_needs_a_whole_name() {
    assert!(names_package("patch (recipes'), make, perl.", "perl"));
    assert!(names_package(
        "binutils-aarch64-linux-gnu and binutils,",
        "binutils"
    ));
    assert!(!names_package("binutils-aarch64-linux-gnu", "binutils"));
    assert!(!names_package("python3-pip", "python3"));
}

/// Problems with the tests ARCHITECTURE.md's invariants cite: each paragraph that starts with
/// "**Architecture invariant:**" names its tests in backticks, as a file (`tests/it/NAME.rs`) or a
/// function in one (`src/PATH.rs::fn_name`), or says "not tested". A cited file must exist and
/// a cited function must be defined in it. Returns the problems and the number of citations.
fn invariant_citation_problems(md: &str, root: &Path) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut cited = 0;
    for para in md
        .split("\n\n")
        .filter(|p| p.trim_start().starts_with("**Architecture invariant:**"))
    {
        let ticked = para.split('`').skip(1).step_by(2);
        let citations: Vec<&str> = ticked
            .filter(|t| {
                (t.starts_with("tests/") || t.starts_with("src/"))
                    && t.split("::").next().is_some_and(|f| f.ends_with(".rs"))
            })
            .collect();
        if citations.is_empty() && !para.to_lowercase().contains("not tested") {
            let first = para.lines().next().unwrap_or_default();
            problems.push(format!(
                "cites no test and does not say `not tested`: {first}"
            ));
        }
        for c in citations {
            cited += 1;
            let (file, func) = match c.split_once("::") {
                Some((f, n)) => (f, Some(n)),
                None => (c, None),
            };
            let Ok(text) = std::fs::read_to_string(root.join(file)) else {
                problems.push(format!("`{c}`: no file {file}"));
                continue;
            };
            if let Some(name) = func.filter(|n| !text.contains(&format!("fn {n}("))) {
                problems.push(format!("`{c}`: no `fn {name}` in {file}"));
            }
        }
    }
    (problems, cited)
}

/// The invariants in ARCHITECTURE.md cite tests that exist: a renamed or deleted test makes the
/// document wrong, and this says where.
#[test]
fn architecture_invariants_cite_tests_that_exist() {
    let md = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let (problems, cited) = invariant_citation_problems(&md, root());
    assert!(
        cited >= 40,
        "found only {cited} citations: is the format still `path::fn`?"
    );
    assert!(
        problems.is_empty(),
        "ARCHITECTURE.md:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_citation_check_catches_a_bogus_name() {
    let md = "**Architecture invariant:** a rule (`tests/it/docs.rs::no_such_test_fn`,\n\
              `tests/it/no_such_file.rs`, `tests/it/docs.rs::architecture_invariants_cite_tests_that_exist`).\n\n\
              **Architecture invariant:** a rule that names nothing.\n\n\
              **Architecture invariant:** a rule no test checks. Not tested.\n";
    let (problems, cited) = invariant_citation_problems(md, root());
    assert_eq!(cited, 3);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("no `fn no_such_test_fn`")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("no file tests/it/no_such_file.rs")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("cites no test")),
        "{problems:#?}"
    );
}
