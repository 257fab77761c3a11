//! Every TOML example in docs/recipe-format.md validates: complete recipes as they are,
//! fragments merged into a minimal recipe.

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
