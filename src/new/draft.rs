//! The recipe text `recipe new` writes ([`Draft`], [`render`]), what it says it guessed and
//! what to check ([`report`]), and writing it once ([`write`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{NewError, io_err};

/// A first recipe, ready to be written.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub name: String,
    pub version: String,
    pub license: String,
    /// Comment lines above `license` (default: it is guessed from the licence file).
    pub license_comment: Vec<String>,
    pub homepage: String,
    pub description: String,
    /// Comment lines above `[source]`.
    pub source_comment: Vec<String>,
    pub sha256: String,
    pub note: String,
    /// `[source.debian]`, `[source.go-module]` or `[source.crate]` with its keys, as TOML lines.
    pub origin_table: String,
    pub origin_lines: Vec<(String, String)>,
    pub depends: Vec<String>,
    /// `system = ...` and the system's options, in order, each `(key, values)`.
    pub system: String,
    pub options: Vec<(String, Vec<String>)>,
    /// Comment lines in `[build]`.
    pub build_comment: Vec<String>,
    /// A library: no `[app]`, `[smoke]` or `[image]`; dependents name it in `depends`.
    pub library: bool,
    pub files: Vec<String>,
    pub files_comment: Vec<String>,
    /// `(command, expect)` of an active `--version` smoke test.
    pub smoke: Option<(Vec<String>, String)>,
    /// Comment lines standing in for `[smoke]` when none is guessed.
    pub smoke_comment: Vec<String>,
    pub image_comment: Vec<String>,
    /// What `recipe new` guessed, one line each.
    pub guesses: Vec<String>,
    /// What the user must check or edit, one named edit each.
    pub checks: Vec<String>,
}

impl Draft {
    /// The `[image]` checks every draft of a program from a package registry (Go, crates.io)
    /// leaves: its ports and cmd are not guessed, and TLS needs the CA bundle. `kind` names
    /// the program in the comment (`a Go app`, `an app`).
    pub fn image_checks(&mut self, kind: &str) {
        self.image_comment.push(format!(
            "CHECK: ports and cmd are not guessed; {kind} that makes TLS connections needs \
             include = [\"ca-certificates\"] (`recipe build` warns when it reads the CA bundle)."
        ));
        self.checks.push(
            "[image]: add ports, cmd, and include = [\"ca-certificates\"] if it makes TLS \
             connections"
                .into(),
        );
    }
}

/// A TOML basic string.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

fn comment(out: &mut String, lines: &[String]) {
    for l in lines {
        // One comment line per line of text, whatever it holds.
        for part in l.lines() {
            let _ = writeln!(out, "# {part}");
        }
    }
}

/// The recipe text of a draft.
pub fn render(d: &Draft) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {}: written by `recipe new`; check the lines marked CHECK before relying on it.",
        d.name
    );
    let _ = writeln!(s, "name = {}", q(&d.name));
    let _ = writeln!(s, "version = {}", q(&d.version));
    if d.license_comment.is_empty() {
        let _ = writeln!(
            s,
            "# CHECK: the licence is guessed from the source's licence file."
        );
    } else {
        comment(&mut s, &d.license_comment);
    }
    let _ = writeln!(s, "license = {}", q(&d.license));
    let _ = writeln!(s, "homepage = {}", q(&d.homepage));
    let _ = writeln!(s, "description = {}", q(&d.description));
    if !d.depends.is_empty() {
        let _ = writeln!(s, "depends = {}", list(&d.depends));
    }
    s.push('\n');
    s.push_str("[source]\n");
    comment(&mut s, &d.source_comment);
    let _ = writeln!(s, "sha256 = {}", q(&d.sha256));
    let _ = writeln!(s, "note = {}", q(&d.note));
    s.push('\n');
    let _ = writeln!(s, "[{}]", d.origin_table);
    for (k, v) in &d.origin_lines {
        let _ = writeln!(s, "{k} = {}", q(v));
    }
    s.push('\n');
    s.push_str("[build]\n");
    comment(&mut s, &d.build_comment);
    let _ = writeln!(s, "system = {}", q(&d.system));
    for (k, v) in &d.options {
        if k == "script" {
            let _ = writeln!(s, "script = [");
            for line in v {
                let _ = writeln!(s, "  {},", q(line));
            }
            let _ = writeln!(s, "]");
        } else {
            let _ = writeln!(s, "{k} = {}", list(v));
        }
    }
    s.push('\n');
    if d.library {
        let _ = writeln!(
            s,
            "# A library: no [app], [smoke] or [image]. A recipe that links it names it in \
             `depends`, and finds its headers and archives in its sysroot."
        );
        return s;
    }
    s.push_str("[app]\n");
    comment(&mut s, &d.files_comment);
    let _ = writeln!(s, "files = {}", list(&d.files));
    s.push('\n');
    match &d.smoke {
        Some((command, expect)) => {
            s.push_str("[smoke]\n");
            let _ = writeln!(
                s,
                "# CHECK: a guess; confirm that the program prints this (or make it a service test)."
            );
            let _ = writeln!(s, "command = {}", list(command));
            let _ = writeln!(s, "expect = {}", q(expect));
        }
        None => comment(&mut s, &d.smoke_comment),
    }
    s.push('\n');
    s.push_str("[image]\n");
    comment(&mut s, &d.image_comment);
    if let Some(first) = d.files.first() {
        let _ = writeln!(s, "entrypoint = {}", list(std::slice::from_ref(first)));
    }
    s
}

/// What `recipe new` prints: the file it wrote, the command that builds it (`build`, e.g.
/// `recipe build dnsmasq`), the guesses and the numbered edits to check.
pub fn report(d: &Draft, path: &Path, build: &str) -> String {
    let mut s = format!("wrote {}\n", crate::text::path(path));
    let _ = writeln!(
        s,
        "build it (after the checks below): {}",
        crate::text::escape(build)
    );
    s.push_str("guessed:\n");
    for g in &d.guesses {
        let _ = writeln!(s, "  - {}", crate::text::escape(g));
    }
    if d.checks.is_empty() {
        s.push_str("check: nothing\n");
    } else {
        s.push_str("check:\n");
        for (i, c) in d.checks.iter().enumerate() {
            let _ = writeln!(s, "  {}. {}", i + 1, crate::text::escape(c));
        }
    }
    s
}

/// Writes the draft as `DIR/NAME.toml`, refusing to replace a file that is there.
pub fn write(d: &Draft, dir: &Path) -> Result<PathBuf, NewError> {
    // The one writer checks the name too, whoever made the draft: `NAME.toml` stays in `dir`.
    if crate::recipe::rules::recipe_name(&d.name).is_err() {
        return Err(NewError::BadInput {
            what: "recipe name",
            value: d.name.clone(),
            why: "not a recipe name, so not a file name in the catalogue",
        });
    }
    let path = dir.join(format!("{}.toml", d.name));
    if path.symlink_metadata().is_ok() {
        return Err(NewError::Exists(path));
    }
    std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                NewError::Exists(path.clone())
            } else {
                NewError::Io {
                    context: format!("writing {}", path.display()),
                    source: e,
                }
            }
        })?;
    use std::io::Write;
    f.write_all(render(d).as_bytes())
        .map_err(io_err(format!("writing {}", path.display())))?;
    Ok(path)
}

/// A recipe name from a package or module name: lowercase, other characters as `-`.
pub fn recipe_name(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches(['-', '.', '_']).to_string()
}
