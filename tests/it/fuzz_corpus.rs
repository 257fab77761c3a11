//! Replays every fuzz input kept in git, the seed corpus `fuzz/corpus/TARGET/` and the crashes
//! `fuzz/regressions/TARGET/`, through the code its fuzz target exercises: none may panic, not
//! even a panic the code catches itself (`check_elf` runs under `catch_unwind`, which would turn
//! a bug into an "unparsable" finding), and every report must say what the file is.
//!
//! A new target is a directory under fuzz/corpus/ plus one line in [`replay_targets!`] naming a
//! function that takes the input bytes.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Once;

use recipe::arch::Arch;
use recipe::verify::check_elf;

use crate::util;

/// One `#[test]` per `target => function` line: it replays that target's corpus and regressions.
macro_rules! replay_targets {
    ($($target:ident => $replay:path),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), $replay);
            }
        )*
    };
}

replay_targets! {
    elf => replay_elf,
    archive => replay_archive,
    recipe => replay_recipe,
}

/// Target `recipe` (fuzz/fuzz_targets/recipe.rs): `recipe::recipe::parse` on the text, in a
/// file named after its `name`; an accepted recipe obeys the load-time rules, an error renders
/// without a raw control character.
fn replay_recipe(data: &[u8]) -> Result<(), String> {
    use recipe::recipe::{self as r, rules};
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let stem = text
        .lines()
        .find_map(|l| l.strip_prefix("name = \"")?.split('"').next())
        .filter(|s| !s.is_empty() && !s.contains('/'))
        .unwrap_or("fuzz");
    let file = PathBuf::from(format!("/fuzz/{stem}.toml"));
    match r::parse(&file, text) {
        Ok(recipe) => {
            let u = &recipe.image.user;
            let mut programs = recipe.app_files.clone();
            programs.extend(recipe.image.entrypoint.first().cloned());
            let ok = rules::recipe_name(&recipe.name).is_ok()
                && rules::version(&recipe.version).is_ok()
                && rules::user_ids(u.uid, u.gid).is_ok()
                && rules::user_name(&u.name, u.uid).is_ok()
                && recipe
                    .image
                    .writable
                    .iter()
                    .all(|w| rules::writable(w, &programs).as_ref() == Ok(w))
                && recipe
                    .depends
                    .iter()
                    .chain(&recipe.image.include)
                    .all(|d| rules::recipe_name(&d.name).is_ok() && d.name != recipe.name)
                && !recipe
                    .app_files
                    .iter()
                    .flat_map(|f| f.chars())
                    .any(char::is_control);
            if !ok {
                return Err(format!("accepted a recipe that breaks a rule: {recipe:?}"));
            }
        }
        Err(e) => {
            let shown = e.render();
            if shown.chars().any(|c| c.is_control() && c != '\n') {
                return Err(format!("raw control character in the error:\n{shown:?}"));
            }
            if !e.location.starts_with("/fuzz/") {
                return Err(format!("location {}", e.location));
            }
        }
    }
    Ok(())
}

/// Target `archive` (fuzz/fuzz_targets/archive.rs): `check_archive` with the fuzzer's caps, then
/// the summary, the table and the JSON.
fn replay_archive(data: &[u8]) -> Result<(), String> {
    use recipe::check::{Options, check_archive, render};
    let opts = Options {
        max_json: 1 << 20,
        max_file_size: 8 << 20,
        ..Options::default()
    };
    if let Ok(report) = check_archive(std::io::Cursor::new(data), &opts) {
        let _ = report.summary();
        if render::human(std::slice::from_ref(&report)).is_empty() {
            return Err("empty table".into());
        }
        let _ = render::json(std::slice::from_ref(&report)).to_string();
    }
    Ok(())
}

/// Target `elf` (fuzz/fuzz_targets/elf.rs): `check_elf` with no arch and with each of ours,
/// and the report's JSON.
fn replay_elf(data: &[u8]) -> Result<(), String> {
    for arch in std::iter::once(None).chain(Arch::ALL.into_iter().map(Some)) {
        let report = check_elf(data, arch);
        if report.description.is_empty() {
            return Err(format!("empty description for arch {arch:?}: {report:?}"));
        }
        serde_json::to_string(&report).map_err(|e| format!("JSON for arch {arch:?}: {e}"))?;
    }
    Ok(())
}

thread_local! {
    /// Panics on this thread since the hook was installed, caught or not.
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

/// Chains a panic hook that counts every panic per thread (tests run on parallel threads; a
/// panic elsewhere is not ours), then runs the previous hook.
fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            previous(info);
        }));
    });
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read a fuzz directory entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8]) -> Result<(), String>) {
    count_panics();
    let root = util::root().join("fuzz");
    let corpus = inputs(&root.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target}/ has no seeds: the replay would prove nothing"
    );
    let regressions = inputs(&root.join("regressions").join(target));
    let mut failures = Vec::new();
    for file in corpus.iter().chain(&regressions) {
        let data = match std::fs::read(file) {
            Ok(data) => data,
            // A running fuzzer replaces corpus files with smaller ones as it goes.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("read {}: {e}", file.display()),
        };
        let before = PANICS.with(Cell::get);
        let outcome = std::panic::catch_unwind(|| run(&data));
        let panics = PANICS.with(Cell::get) - before;
        let name = file.strip_prefix(util::root()).unwrap_or(file).display();
        match outcome {
            _ if panics > 0 => failures.push(format!("{name}: {panics} panic(s), see above")),
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
            Ok(Ok(())) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {target} fuzz inputs failed:\n{}",
        failures.len(),
        corpus.len() + regressions.len(),
        failures.join("\n")
    );
}

/// The replay's panic counting sees a panic even when the code under test catches it.
#[test]
fn caught_panics_are_counted() {
    count_panics();
    let before = PANICS.with(Cell::get);
    let caught = std::panic::catch_unwind(|| panic!("a panic the code under test would catch"));
    assert!(caught.is_err());
    assert_eq!(PANICS.with(Cell::get) - before, 1);
}
