//! `recipe update NAME [--to VERSION]`: a recipe's pins rewritten in place with `toml_edit`,
//! so every comment, blank line and key order stays as written and only the values change
//! ([`rewrite`], pure). Debian: the version (asked for, or the newest in a suite of the
//! recipe's release), its files and their sha256 from the signed index, fetched from the pool
//! and checked; Go modules: the version (asked for, or the proxy's latest) and the module zip's
//! sha256 as `recipe new --go` computes it.

use std::path::{Path, PathBuf};

use crate::archive::{ArchiveError, Indexes};
use crate::debian::index::SourceEntry;
use crate::debian::suites::Suite;
use crate::debian::version;
use crate::recipe::{DebianPackage, Recipe};
use crate::source::{DebianSource, Fetch, Origin, SourceError, Store};

/// What can go wrong while updating a recipe's pins.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum UpdateError {
    #[error("`{name}` pins no Debian source package or Go module: nothing to update")]
    #[diagnostic(help("`recipe update` rewrites `[source.debian]` and `[source.go-module]` pins"))]
    NotPinned { name: String },

    #[error(
        "no suite of {release} lists `{}` at version `{}`{}",
        crate::text::escape(.package),
        crate::text::escape(.version),
        if .known.is_empty() { String::new() } else { format!(" (they list: {})", crate::text::escape(&.known.join(", "))) }
    )]
    #[diagnostic(help(
        "`--to` takes a version of the recipe's own release (`[source.debian] release`); to \
         move to another release, edit `release` first"
    ))]
    UnknownVersion {
        package: String,
        version: String,
        release: String,
        known: Vec<String>,
    },

    #[error("`--to` names one version: give one recipe")]
    ToNeedsOne,

    #[error("{} could not be updated (each error is above)", crate::text::escape(&.names.join(", ")))]
    SomeFailed { names: Vec<String> },

    #[error("{}: cannot rewrite `{key}`: {reason}", crate::text::path(path))]
    Edit {
        path: PathBuf,
        key: String,
        reason: String,
    },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Archive(#[from] ArchiveError),

    #[error(transparent)]
    Source(#[from] SourceError),

    #[error(transparent)]
    Toolchain(#[from] crate::toolchain::ToolchainError),

    #[error("writing {}", crate::text::path(path))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One value to change: the key's dotted path (`source.debian.version`) and its new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub key: String,
    pub new: String,
}

/// One value changed: the key, the old and the new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub key: String,
    pub old: String,
    pub new: String,
}

/// Sets each edit's key to its string value in `text`, keeping everything else byte for byte
/// (the value's own surrounding whitespace and trailing comment too). A key that is not there
/// as a string is an error. Returns the new text and what changed (edits to the same value are
/// left out).
pub fn rewrite(text: &str, edits: &[Edit]) -> Result<(String, Vec<Changed>), (String, String)> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| (String::new(), e.to_string()))?;
    let mut changed = Vec::new();
    for e in edits {
        let mut parts: Vec<&str> = e.key.split('.').collect();
        // `source.go-module` and `source.debian` are tables; keys hold no dots.
        let last = parts.pop().unwrap_or_default();
        let mut item: &mut toml_edit::Item = doc.as_item_mut();
        for p in &parts {
            item = item.get_mut(p).ok_or_else(|| {
                (
                    e.key.clone(),
                    format!("there is no `[{}]`", parts.join(".")),
                )
            })?;
        }
        let value = item
            .get_mut(last)
            .and_then(|i| i.as_value_mut())
            .ok_or_else(|| (e.key.clone(), "the key is not there".to_string()))?;
        let Some(old) = value.as_str().map(str::to_string) else {
            return Err((e.key.clone(), "the value is not a string".into()));
        };
        if old == e.new {
            continue;
        }
        let decor = value.decor().clone();
        *value = toml_edit::Value::from(e.new.as_str());
        *value.decor_mut() = decor;
        changed.push(Changed {
            key: e.key.clone(),
            old,
            new: e.new.clone(),
        });
    }
    Ok((doc.to_string(), changed))
}

/// The version `recipe update` moves a Debian pin to, among the entries the suites of its
/// release list: `to` exactly, or the newest (which may be the pin itself).
pub fn choose_debian<'a>(
    d: &DebianPackage,
    listed: &'a [(String, SourceEntry)],
    to: Option<&str>,
) -> Result<&'a (String, SourceEntry), UpdateError> {
    let chosen = match to {
        Some(v) => listed.iter().find(|(_, e)| e.version == v),
        None => listed
            .iter()
            .max_by(|a, b| version::compare(&a.1.version, &b.1.version)),
    };
    chosen.ok_or_else(|| UpdateError::UnknownVersion {
        package: d.package.clone(),
        version: to.unwrap_or("any").to_string(),
        release: d.release.clone(),
        known: listed
            .iter()
            .map(|(s, e)| format!("{} ({s})", e.version))
            .collect(),
    })
}

/// The edits that move a Debian recipe to `entry`: `[source.debian]` version, file,
/// debian-file and debian-sha256, `[source] sha256`, the note's file name, and the recipe's
/// `version` when it was the upstream version of the old file.
pub fn debian_edits(
    r: &Recipe,
    d: &DebianPackage,
    entry: &SourceEntry,
) -> Result<Vec<Edit>, String> {
    let tarball = entry.tarball().ok_or_else(|| {
        format!(
            "{} {} lists no upstream tarball",
            entry.package, entry.version
        )
    })?;
    let e = |k: &str, v: &str| Edit {
        key: k.into(),
        new: v.into(),
    };
    let mut edits = vec![
        e("source.sha256", &tarball.sha256),
        e("source.debian.version", &entry.version),
        e("source.debian.file", &tarball.name),
    ];
    match (entry.changes(), &d.changes) {
        (Some(c), Some(_)) => {
            edits.push(e("source.debian.debian-file", &c.name));
            edits.push(e("source.debian.debian-sha256", &c.sha256));
        }
        (None, None) => {}
        _ => {
            return Err(format!(
                "{} {} is {} a native package, the recipe's pin is {}",
                entry.package,
                entry.version,
                if entry.changes().is_some() { "not" } else { "" },
                if d.changes.is_some() { "not" } else { "one" }
            ));
        }
    }
    let old_file = old_debian_file(r);
    if let (Some(old), Some(new)) = (
        old_file
            .as_deref()
            .and_then(|f| crate::new::upstream_version_of(f, &d.package)),
        crate::new::upstream_version_of(&tarball.name, &d.package),
    ) && old == r.version
        && new != old
    {
        edits.push(e("version", &new));
    }
    if let (Some(note), Some(old)) = (note_of(&r.text), old_file)
        && note.contains(&old)
    {
        let note = note.replace(&old, &tarball.name);
        edits.push(e("source.note", &note_release(&note, &d.release)));
    }
    Ok(edits)
}

/// A note ending in another release's name in parentheses (`... (bookworm)`, as `recipe new`
/// writes it) made to name `release`, the one the recipe now pins.
fn note_release(note: &str, release: &str) -> String {
    const RELEASES: [&str; 6] = ["buster", "bullseye", "bookworm", "trixie", "forky", "duke"];
    match note.strip_suffix(')').and_then(|n| n.rsplit_once(" (")) {
        Some((head, old)) if RELEASES.contains(&old) => format!("{head} ({release})"),
        _ => note.to_string(),
    }
}

fn old_debian_file(r: &Recipe) -> Option<String> {
    let doc: toml_edit::DocumentMut = r.text.parse().ok()?;
    doc.get("source")?
        .get("debian")?
        .get("file")?
        .as_str()
        .map(str::to_string)
}

fn note_of(text: &str) -> Option<String> {
    let doc: toml_edit::DocumentMut = text.parse().ok()?;
    doc.get("source")?.get("note")?.as_str().map(str::to_string)
}

/// The suites a Debian pin may move within: the configured suites of its release, or, when
/// none is configured, the release with its `-updates` and `-security` suites.
pub fn release_suites(configured: &[Suite], release: &str) -> Vec<Suite> {
    let mine: Vec<Suite> = configured
        .iter()
        .filter(|s| s.release() == release)
        .cloned()
        .collect();
    if !mine.is_empty() {
        return mine;
    }
    [
        release.to_string(),
        format!("{release}-updates"),
        format!("{release}-security"),
    ]
    .iter()
    .filter_map(|n| Suite::parse(n))
    .collect()
}

/// Updates a Debian-sourced recipe: the chosen version's files fetched from the pool and
/// checked against the signed index, the recipe rewritten. `None` when nothing changed.
pub fn update_debian(
    r: &Recipe,
    d: &DebianPackage,
    to: Option<&str>,
    indexes: &mut Indexes,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Changed>, UpdateError> {
    let mut listed: Vec<(String, SourceEntry)> = Vec::new();
    for s in release_suites(&indexes.settings.suites, &d.release) {
        let index = indexes.get(&s, progress)?;
        for e in index.versions(&d.package) {
            listed.push((s.name.clone(), e.clone()));
        }
    }
    let (_, entry) = choose_debian(d, &listed, to)?;
    if entry.version == d.version {
        return Ok(Vec::new());
    }
    let edit_err = |reason: String| UpdateError::Edit {
        path: r.file.clone(),
        key: "source.debian".into(),
        reason,
    };
    let edits = debian_edits(r, d, entry).map_err(edit_err)?;
    // The files must be had: fetched from the pool into the store, checked by sha256.
    let store = Store::new(crate::cache::Layout::new(cache).sources());
    let files = entry.tarball().into_iter().chain(entry.changes());
    for f in files {
        store.fetch(
            &Fetch {
                sha256: f.sha256.clone(),
                origins: vec![Origin::Debian(DebianSource {
                    package: d.package.clone(),
                    version: entry.version.clone(),
                    file: f.name.clone(),
                })],
            },
            progress,
        )?;
    }
    write(r, &edits)
}

/// The newest version a security suite of `d`'s release lists that is newer than the pin: what
/// `recipe update --security` moves the recipe to (`None`: no security update is pending).
pub fn security_target(
    d: &DebianPackage,
    indexes: &mut Indexes,
    progress: &mut dyn FnMut(&str),
) -> Result<Option<String>, UpdateError> {
    let mut best: Option<String> = None;
    for s in release_suites(&indexes.settings.suites, &d.release) {
        if !s.is_security() {
            continue;
        }
        let index = indexes.get(&s, progress)?;
        for e in index.versions(&d.package) {
            let newer = version::compare(&e.version, &d.version).is_gt();
            let better = best
                .as_deref()
                .is_none_or(|b| version::compare(&e.version, b).is_gt());
            if newer && better {
                best = Some(e.version.clone());
            }
        }
    }
    Ok(best)
}

/// Updates a Go module recipe to `to` or the proxy's latest: the module zip's sha256 through
/// the pinned Go (checked by go against the checksum database, hashed by us).
pub fn update_go(
    r: &Recipe,
    module: &str,
    to: Option<&str>,
    cache: &Path,
    toolchains: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Changed>, UpdateError> {
    let specs = crate::toolchain::spec::Specs::load(toolchains)?;
    let go = crate::toolchain::provision_go(&specs.go, cache)?;
    let version = match to {
        Some(v) => v.to_string(),
        None => {
            let tmp = crate::cache::Layout::new(cache).tmp();
            let dir = std::fs::create_dir_all(&tmp)
                .and_then(|_| {
                    tempfile::Builder::new()
                        .prefix("recipe-update-")
                        .tempdir_in(&tmp)
                })
                .map_err(|source| UpdateError::Write { path: tmp, source })?;
            super::latest::go_module(&go.pinned, dir.path(), module).map_err(|detail| {
                SourceError::Command {
                    command: format!("go list -m -json {module}@latest"),
                    detail,
                }
            })?
        }
    };
    if super::go_module(r).is_some_and(|(_, pinned)| pinned == version) {
        return Ok(Vec::new());
    }
    let store = Store::new(crate::cache::Layout::new(cache).sources()).with_go(go.pinned.clone());
    let origin = Origin::GoModule {
        module: module.to_string(),
        version: version.clone(),
    };
    let (_, sha256) = store.fetch_unpinned(&origin, progress)?;
    let mut edits = vec![
        Edit {
            key: "source.sha256".into(),
            new: sha256,
        },
        Edit {
            key: "source.go-module.version".into(),
            new: version.clone(),
        },
    ];
    if let Some(note) = note_of(&r.text)
        && let Some((_, old)) = super::go_module(r)
        && note.contains(old)
    {
        edits.push(Edit {
            key: "source.note".into(),
            new: note.replace(old, &version),
        });
    }
    write(r, &edits)
}

/// Rewrites the recipe file (one atomic replace); nothing is written when nothing changed.
fn write(r: &Recipe, edits: &[Edit]) -> Result<Vec<Changed>, UpdateError> {
    let (text, changed) = rewrite(&r.text, edits).map_err(|(key, reason)| UpdateError::Edit {
        path: r.file.clone(),
        key,
        reason,
    })?;
    if !changed.is_empty() {
        crate::publish::write_file(&r.file, text.as_bytes()).map_err(|source| {
            UpdateError::Write {
                path: r.file.clone(),
                source,
            }
        })?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# demo: a comment at the top\nname = \"demo\"  # the name\nversion = \"1.0\"\n\n\
        [source]\n# sha256 of demo_1.0.orig.tar.gz, from the signed index\nsha256 = \"aaaa\"   # pinned\n\
        note = \"the bytes of Debian's demo_1.0.orig.tar.gz\"\n\n[source.debian]\npackage = \"demo\"\n\
        version = 'x' # literal\nrelease = \"bookworm\"\n\n# the build\n[build]\nsystem = \"make\"\n";

    #[test]
    fn only_the_values_change() {
        let (out, changed) = rewrite(
            TEXT,
            &[
                Edit {
                    key: "source.sha256".into(),
                    new: "bbbb".into(),
                },
                Edit {
                    key: "source.debian.version".into(),
                    new: "1.0-2".into(),
                },
                Edit {
                    key: "source.debian.release".into(),
                    new: "bookworm".into(),
                },
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            TEXT.replace("\"aaaa\"", "\"bbbb\"")
                .replace("'x'", "\"1.0-2\"")
        );
        assert_eq!(changed.len(), 2);
        assert_eq!(
            (changed[0].old.as_str(), changed[0].new.as_str()),
            ("aaaa", "bbbb")
        );
        let e = rewrite(
            TEXT,
            &[Edit {
                key: "source.debian.debian-file".into(),
                new: "x".into(),
            }],
        )
        .unwrap_err();
        assert_eq!(e.0, "source.debian.debian-file");
    }

    #[test]
    fn a_notes_release_follows_the_pin() {
        assert_eq!(
            note_release(
                "the bytes of Debian's z_1.3.orig.tar.gz (bookworm)",
                "trixie"
            ),
            "the bytes of Debian's z_1.3.orig.tar.gz (trixie)"
        );
        // Not a release in parentheses: left as it is.
        for note in ["upstream's tarball (from GitHub)", "no parentheses"] {
            assert_eq!(note_release(note, "trixie"), note);
        }
    }

    #[test]
    fn the_suites_of_a_release() {
        let conf = crate::debian::suites::defaults();
        let s: Vec<String> = release_suites(&conf, "trixie")
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(s, ["trixie", "trixie-updates", "trixie-security"]);
        let s = release_suites(&conf[..1], "forky");
        assert_eq!(s.len(), 3);
    }
}
