//! ARCHITECTURE.md's invariants of the build cache's layout and of publishing, checked by
//! reading `src/` as text: only `src/cache/` joins the cache's folder names (`cache::Layout`
//! draws the tree and every other module asks it for paths), and only `src/publish.rs` renames
//! a file or persists a temporary file. Lines are looked at as in `invariants.rs`: full-line
//! comments and `#[cfg(test)]` modules are set aside (a test lays out folders of its own).

use crate::invariants::code_lines;
use crate::util::root;
use crate::util::rust_files;

/// The names of the cache's tree (`src/cache/layout.rs` draws it), as a `join` argument.
const CACHE_NAMES: [&str; 14] = [
    "builds",
    "work",
    "sources",
    "toolchains",
    "dest",
    "meta.json",
    "build.log",
    "tmp",
    "zig",
    "go",
    "debian-indexes",
    "sysroot",
    "host-sysroot",
    "zig-cache",
];

/// Joins of one of these names that are not the cache's, each with why: (file, name, reason).
const NOT_THE_CACHE: [(&str, &str, &str); 3] = [
    (
        "src/sandbox/mounts.rs",
        "tmp",
        "the sandbox root's own /tmp",
    ),
    (
        "src/toolchain/mod.rs",
        "zig",
        "the zig executable in the ziglang wheel",
    ),
    (
        "src/toolchain/mod.rs",
        "go",
        "the go executable in GOROOT/bin",
    ),
];

/// The cache name `line` joins (`.join("NAME")` or `.join("NAME/...")`), if any.
fn joined_cache_name(line: &str) -> Option<&'static str> {
    CACHE_NAMES.into_iter().find(|name| {
        line.contains(&format!(".join(\"{name}\")")) || line.contains(&format!(".join(\"{name}/"))
    })
}

/// Whether `line` renames a path or persists a temporary file (`fs::rename(`, tempfile's
/// `.persist(`/`.persist_noclobber(`, a `rename(` of any kind).
fn renames(line: &str) -> bool {
    let called = |name: &str| {
        line.match_indices(&format!("{name}(")).any(|(i, _)| {
            !line[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    };
    called("rename") || line.contains(".persist(") || called("persist_noclobber")
}

/// Every violation in `text` (named `file`, relative to the repository), as
/// `file:line: what: the line`, and the [`NOT_THE_CACHE`] entries that excused one.
fn violations(file: &str, text: &str) -> (Vec<String>, Vec<(&'static str, &'static str)>) {
    let (mut found, mut excused) = (Vec::new(), Vec::new());
    let in_cache = file.starts_with("src/cache/");
    let is_publish = file == "src/publish.rs";
    for (n, line) in code_lines(text) {
        if !in_cache && let Some(name) = joined_cache_name(line) {
            match NOT_THE_CACHE
                .iter()
                .find(|(f, m, _)| *f == file && *m == name)
            {
                Some((f, m, _)) => excused.push((*f, *m)),
                None => found.push(format!(
                    "{file}:{n}: joins the cache name `{name}` (ask `cache::Layout`): {}",
                    line.trim()
                )),
            }
        }
        if !is_publish && renames(line) {
            found.push(format!(
                "{file}:{n}: renames outside publish.rs (use `publish`): {}",
                line.trim()
            ));
        }
    }
    (found, excused)
}

#[test]
fn only_cache_joins_cache_names_and_only_publish_renames() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let (mut found, mut excused) = (Vec::new(), Vec::new());
    // A `tests.rs` is a `#[cfg(test)] mod tests;` in its own file.
    for f in files.iter().filter(|f| !f.ends_with("tests.rs")) {
        let name = f.strip_prefix(root()).unwrap().display().to_string();
        let (v, e) = violations(&name, &std::fs::read_to_string(f).unwrap());
        found.extend(v);
        excused.extend(e);
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    // An exception that excuses nothing any more goes.
    for (file, name, why) in NOT_THE_CACHE {
        assert!(
            excused.contains(&(file, name)),
            "NOT_THE_CACHE lists `{name}` in {file} ({why}), which no longer joins it"
        );
    }
}

/// The patterns are not idle: each kind of violation the code had before `cache::Layout` and
/// the publishing primitives is caught; the same lines in `src/cache/`, in `publish.rs`, in a
/// comment or in a test module are not.
#[test]
fn the_patterns_catch_the_old_joins_and_renames() {
    let old = "\
fn a(cache: &Path) -> PathBuf {\n    cache.join(\"builds\").join(key).join(\"dest\")\n}\n\
fn b() {\n    let store = Store::new(settings.cache.join(\"sources\"));\n}\n\
fn c() {\n    std::fs::rename(&target, &home)\n}\n\
fn d() {\n    tmp.persist(&path).map_err(|e| io(&path, e.error))?;\n}\n\
fn e() {\n    fs::rename(&tmp_path, dest)\n}\n";
    let (found, _) = violations("src/plan/graph.rs", old);
    assert_eq!(found.len(), 5, "{found:#?}");
    for (i, needle) in ["`builds`", "`sources`", "renames", "renames", "renames"]
        .iter()
        .enumerate()
    {
        assert!(found[i].contains(needle), "{}", found[i]);
    }
    let (in_cache, _) = violations("src/cache/layout.rs", "fn a() { root.join(\"builds\") }\n");
    assert!(in_cache.is_empty(), "{in_cache:?}");
    let (in_publish, _) = violations("src/publish.rs", "fn a() { std::fs::rename(a, b) }\n");
    assert!(in_publish.is_empty(), "{in_publish:?}");
    let quiet = "// cache.join(\"work\") and fs::rename(a, b)\nfn f() {}\n\
#[cfg(test)]\nmod tests {\n    fn t() { t.path().join(\"dest\"); std::fs::rename(a, b); }\n}\n\
#[serde(rename = \"x\")]\nfn g() { crate::publish::persist(tmp, p); publish::move_path(a, b) }\n";
    let (none, _) = violations("src/remote/mod.rs", quiet);
    assert!(none.is_empty(), "{none:?}");
    let (excused, ok) = violations(
        "src/sandbox/mounts.rs",
        "    let tmp = root.join(\"tmp\");\n",
    );
    assert!(excused.is_empty() && ok == [("src/sandbox/mounts.rs", "tmp")]);
}
