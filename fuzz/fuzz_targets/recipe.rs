//! Fuzzes the recipe loader: `recipe::recipe::parse` (TOML, schema, validation; pure, no I/O)
//! on arbitrary text. A recipe it accepts must satisfy the load-time rules (valid name and
//! version, a non-root user with a valid name, writable folders that pass the folder rule); an
//! error it returns must render without a raw control character. Any panic is a crash.
#![no_main]

mod abort_on_panic;

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use recipe::recipe::{self as r, rules};

fuzz_target!(|data: &[u8]| {
    abort_on_panic::install();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The file is named after the recipe's `name`, so inputs get past the name check.
    let stem = text
        .lines()
        .find_map(|l| l.strip_prefix("name = \"")?.split('"').next())
        .filter(|s| !s.is_empty() && !s.contains('/'))
        .unwrap_or("fuzz");
    let file = PathBuf::from(format!("/fuzz/{stem}.toml"));
    match r::parse(&file, text) {
        Ok(recipe) => {
            assert!(rules::recipe_name(&recipe.name).is_ok(), "{}", recipe.name);
            assert!(
                rules::version(&recipe.version).is_ok(),
                "{}",
                recipe.version
            );
            let u = &recipe.image.user;
            assert!(rules::user_ids(u.uid, u.gid).is_ok(), "{u:?}");
            assert!(rules::user_name(&u.name, u.uid).is_ok(), "{u:?}");
            let mut programs = recipe.app_files.clone();
            programs.extend(recipe.image.entrypoint.first().cloned());
            for w in &recipe.image.writable {
                assert_eq!(rules::writable(w, &programs).as_ref(), Ok(w), "{w}");
            }
            for d in recipe.depends.iter().chain(&recipe.image.include) {
                assert!(rules::recipe_name(&d.name).is_ok() && d.name != recipe.name);
            }
            for f in &recipe.app_files {
                assert!(!f.chars().any(char::is_control), "{f:?}");
            }
        }
        Err(e) => {
            let shown = e.render();
            assert!(
                !shown.chars().any(|c| c.is_control() && c != '\n'),
                "raw control character in:\n{shown:?}"
            );
            assert!(e.location.starts_with("/fuzz/"), "{}", e.location);
        }
    }
});
