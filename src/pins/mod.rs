//! A recipe's pins against what its origins offer now (`recipe outdated`, `recipe update`):
//! a Debian-sourced recipe's version against the newest each configured suite's signed index
//! lists ([`debian_row`], pure), a Go module's against the module proxy's latest, and the
//! pinned Go and zig toolchains against theirs ([`latest`]). An update is *pending* when a
//! newer version is in a suite of the recipe's own release (a newer upload to another release
//! is shown, never pending), and a *security* update when one of those comes from a
//! `*-security` suite. [`update`] rewrites the pins of one recipe in place.

pub mod latest;
pub mod update;

use serde::Serialize;

use crate::archive::SuiteIndex;
use crate::debian::version;
use crate::recipe::{DebianPackage, Origin, Recipe, Source};

/// What one recipe's (or toolchain's) pin is and what is available.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Row {
    /// The recipe's name, or `toolchain:go`, `toolchain:zig`.
    pub name: String,
    /// `debian`, `go-module`, `toolchain`, or `other` (a URL, PyPI or local source: not
    /// checked).
    pub kind: &'static str,
    /// The Debian source package or Go module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    /// The Debian release the pin belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The newest version in each suite that lists the package, or the proxy's / PyPI's latest.
    pub available: Vec<Available>,
    /// The newest newer version of the pin's own release (Debian) or the latest when newer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Available>,
    /// A newer version of the pin's own release comes from a security suite.
    pub security: bool,
    /// Why this row could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One version an origin offers.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Available {
    /// A suite (`bookworm-security`), `proxy` (the Go module proxy) or `pypi`.
    pub from: String,
    pub version: String,
    /// Newer than the pin.
    pub newer: bool,
    /// From a `*-security` suite.
    pub security: bool,
}

impl Row {
    fn new(name: &str, kind: &'static str) -> Row {
        Row {
            name: name.to_string(),
            kind,
            package: None,
            pinned: None,
            release: None,
            available: Vec::new(),
            pending: None,
            security: false,
            error: None,
        }
    }

    /// `current`, `update`, `security update`, `unchecked` or `error`, for people.
    pub fn status(&self) -> &'static str {
        if self.error.is_some() {
            "error"
        } else if self.kind == "other" {
            "unchecked"
        } else if self.security {
            "security update"
        } else if self.pending.is_some() {
            "update"
        } else {
            "current"
        }
    }
}

/// What `recipe outdated` found, as its exit code needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// A security update is pending for some recipe.
    pub security_pending: bool,
    /// Some row could not be checked.
    pub failed: bool,
}

impl Verdict {
    pub fn of(rows: &[Row]) -> Verdict {
        Verdict {
            security_pending: rows.iter().any(|r| r.security),
            failed: rows.iter().any(|r| r.error.is_some()),
        }
    }
}

/// The recipe's Go module origin, if it has one.
pub fn go_module(r: &Recipe) -> Option<(&str, &str)> {
    match &r.source {
        Source::Archive { origins, .. } => origins.iter().find_map(|o| match o {
            Origin::GoModule { module, version } => Some((module.as_str(), version.as_str())),
            _ => None,
        }),
        Source::Path(_) => None,
    }
}

/// A Debian-sourced recipe's row from the suites' indexes (pure).
pub fn debian_row(name: &str, d: &DebianPackage, indexes: &[&SuiteIndex]) -> Row {
    let mut row = Row::new(name, "debian");
    row.package = Some(d.package.clone());
    row.pinned = Some(d.version.clone());
    row.release = Some(d.release.clone());
    let mut pending: Option<Available> = None;
    for index in indexes {
        let Some(newest) = index.newest(&d.package) else {
            continue;
        };
        let a = Available {
            from: index.suite.name.clone(),
            version: newest.version.clone(),
            newer: version::compare(&newest.version, &d.version).is_gt(),
            security: index.suite.is_security(),
        };
        if a.newer && index.suite.release() == d.release {
            row.security |= a.security;
            if pending
                .as_ref()
                .is_none_or(|p| version::compare(&a.version, &p.version).is_gt())
            {
                pending = Some(a.clone());
            }
        }
        row.available.push(a);
    }
    row.pending = pending;
    row
}

/// A Go module recipe's row from the proxy's latest version (or the error asking for it).
pub fn go_row(name: &str, module: &str, pinned: &str, latest: Result<String, String>) -> Row {
    let mut row = Row::new(name, "go-module");
    row.package = Some(module.to_string());
    row.pinned = Some(pinned.to_string());
    fill_latest(&mut row, "proxy", pinned, latest);
    row
}

/// A toolchain's row (`toolchain:go`, `toolchain:zig`).
pub fn toolchain_row(name: &str, from: &str, pinned: &str, latest: Result<String, String>) -> Row {
    let mut row = Row::new(&format!("toolchain:{name}"), "toolchain");
    row.pinned = Some(pinned.to_string());
    fill_latest(&mut row, from, pinned, latest);
    row
}

/// The Go toolchain's row from the releases the proxy lists (oldest first): the update pending
/// is the newest point release of the pin's own line while Go supports that line
/// ([`latest::go_target`]); a newer line is shown beside it, never pending, until then.
pub fn go_toolchain_row(pinned: &str, releases: Result<Vec<String>, String>) -> Row {
    let mut row = Row::new("toolchain:go", "toolchain");
    row.pinned = Some(pinned.to_string());
    let releases = match releases {
        Ok(r) => r,
        Err(e) => {
            row.error = Some(e);
            return row;
        }
    };
    let (target, newest) = latest::go_target(pinned, &releases);
    let own = format!("proxy, go{}", latest::go_line(pinned));
    for (from, version) in [(own.as_str(), target), ("proxy", newest)] {
        let Some(version) = version else { continue };
        if row.available.iter().any(|a| a.version == version) {
            continue;
        }
        let a = offered(from, version, pinned);
        if a.newer && Some(version) == target {
            row.pending = Some(a.clone());
        }
        row.available.push(a);
    }
    row
}

/// A recipe whose origin is not checked.
pub fn other_row(name: &str) -> Row {
    Row::new(name, "other")
}

/// What a registry (not a Debian suite) offers: `version` from `from`, newer than `pinned` or not.
fn offered(from: &str, version: &str, pinned: &str) -> Available {
    Available {
        from: from.to_string(),
        newer: latest::semver_newer(version, pinned),
        version: version.to_string(),
        security: false,
    }
}

fn fill_latest(row: &mut Row, from: &str, pinned: &str, latest: Result<String, String>) {
    match latest {
        Ok(v) => {
            let a = offered(from, &v, pinned);
            if a.newer {
                row.pending = Some(a.clone());
            }
            row.available.push(a);
        }
        Err(e) => row.error = Some(e),
    }
}

/// The rows as a table for people: recipe, kind, pinned, newest of its release, status, and
/// newer versions elsewhere.
pub fn table(rows: &[Row]) -> String {
    let mut lines = vec![[
        "RECIPE".to_string(),
        "PINNED".into(),
        "NEWEST".into(),
        "STATUS".into(),
        "ELSEWHERE".into(),
    ]];
    for r in rows {
        let newest = match (&r.pending, &r.error) {
            (_, Some(e)) => e.clone(),
            (Some(p), _) => format!("{} ({})", p.version, p.from),
            (None, _) => r
                .pinned
                .clone()
                .map(|_| "-".to_string())
                .unwrap_or_default(),
        };
        let elsewhere: Vec<String> = r
            .available
            .iter()
            .filter(|a| a.newer && Some(&a.from) != r.pending.as_ref().map(|p| &p.from))
            .filter(|a| r.release.as_deref() != Some(a.from.split('-').next().unwrap_or("")))
            .map(|a| format!("{} {}", a.from, a.version))
            .collect();
        lines.push([
            r.name.clone(),
            r.pinned.clone().unwrap_or_else(|| "-".into()),
            newest,
            r.status().to_string(),
            elsewhere.join(", "),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in &lines {
        let mut line = String::new();
        for (i, cell) in l.iter().enumerate() {
            line.push_str(&crate::text::escape(cell));
            if i + 1 < l.len() {
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_say_what_is_pending_and_whether_it_is_security() {
        let mut r = go_row("x", "example.org/x", "v1.2.0", Ok("v1.10.0".into()));
        assert_eq!(r.status(), "update");
        assert!(!r.security);
        r = go_row("x", "example.org/x", "v1.10.0", Ok("v1.10.0".into()));
        assert_eq!(r.status(), "current");
        r = toolchain_row("zig", "pypi", "0.17.1", Err("pip failed".into()));
        assert_eq!(r.status(), "error");
        assert!(Verdict::of(&[r]).failed);
        let t = table(&[go_row("x", "m", "v1", Ok("v2".into())), other_row("y")]);
        assert!(t.starts_with("RECIPE  PINNED  NEWEST"), "{t}");
        assert!(t.contains("x       v1      v2 (proxy)  update"), "{t}");
    }

    /// The pinned Go's own line is what is pending; a newer line is shown beside it.
    #[test]
    fn go_moves_to_its_lines_newest_release_and_shows_the_newer_line() {
        let releases = || Ok(["1.26.8", "1.26.11", "1.27.4"].map(String::from).to_vec());
        let r = go_toolchain_row("1.26.8", releases());
        assert_eq!(r.status(), "update");
        assert_eq!(r.pending.as_ref().unwrap().version, "1.26.11");
        let t = table(&[r]);
        assert!(
            t.contains("toolchain:go  1.26.8  1.26.11 (proxy, go1.26)  update  proxy 1.27.4"),
            "{t}"
        );
        let r = go_toolchain_row("1.26.11", releases());
        assert_eq!(r.status(), "current");
        assert!(table(&[r]).contains("current  proxy 1.27.4"));
        let r = go_toolchain_row("1.26.11", Err("proxy refused".into()));
        assert_eq!(r.status(), "error");
    }
}
