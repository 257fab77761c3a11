//! The Debian origin: `apt-get source --download-only`, which checks the files against the
//! signed archive index before we check the sha256 the recipe pins.
//!
//! A version's files can be missing from the mirror (a security update's `.orig` tarball 404s)
//! while another version of the same source package lists the very same file with the same
//! sha256 and is served. When the pinned version does not deliver the file, the versions that
//! `apt-cache showsrc` lists with that file name and that sha256 are tried in turn; the note
//! says which one served it, and the store checks the sha256 as always.

use std::path::Path;

use super::download::{
    Fetched, adopt_file, check_file_name, check_name, run_tool, status_text, temp_dir_in,
};
use super::{DebianSource, SourceError};

/// The host tools this origin runs: `apt-get` and `apt-cache` from PATH, or other programs in
/// unit tests.
pub(crate) struct Apt<'a> {
    pub get: &'a str,
    pub cache: &'a str,
}

pub(crate) const APT: Apt<'static> = Apt {
    get: "apt-get",
    cache: "apt-cache",
};

/// The most lines of a failed apt command's output an error shows, and the widest one.
const SHOWN_LINES: usize = 8;
const SHOWN_WIDTH: usize = 240;

/// Fetches `d.file` of `d.package=d.version`, or of another version listing the same file with
/// sha256 `sha256`. The note, when there is one, says which other version served it.
pub(crate) fn download(
    d: &DebianSource,
    sha256: &str,
    tmp_dir: &Path,
    apt: &Apt,
) -> Result<(Fetched, Option<String>), SourceError> {
    check_name("debian package", &d.package)?;
    check_name("debian version", &d.version)?;
    check_file_name("debian source file", &d.file)?;
    let first = match source(apt, &d.package, &d.version, &d.file, tmp_dir)? {
        Tried::Arrived(f) => return Ok((f, None)),
        Tried::Failed(e) => e,
    };
    if let SourceError::NoDebSrc { .. } = first {
        return Err(first);
    }
    // Other versions that list the same bytes under the same name. A failure to list them
    // leaves the first error as it is.
    let others = match showsrc(apt, &d.package) {
        Ok(text) => same_file_elsewhere(&text, d, sha256),
        Err(_) => return Err(first),
    };
    let mut tried = Vec::new();
    for (package, version) in others {
        check_name("debian package", &package)?;
        check_name("debian version", &version)?;
        if let Tried::Arrived(f) = source(apt, &package, &version, &d.file, tmp_dir)? {
            let note = format!(
                "{}={} did not deliver {}; {package}={version} lists the same file with the \
                 same sha256 and served it",
                d.package, d.version, d.file
            );
            return Ok((f, Some(note)));
        }
        tried.push(format!("{package}={version}"));
    }
    Err(match first {
        SourceError::Command {
            command,
            mut detail,
        } => {
            detail.push_str(&if tried.is_empty() {
                format!(
                    "\n    no other version `apt-cache showsrc {}` lists has {} with this sha256",
                    d.package, d.file
                )
            } else {
                format!(
                    "\n    the other versions listing {} with this sha256 failed too: {}",
                    d.file,
                    tried.join(", ")
                )
            });
            SourceError::Command { command, detail }
        }
        other => other,
    })
}

enum Tried {
    Arrived(Fetched),
    Failed(SourceError),
}

/// Runs `apt-get source --download-only PACKAGE=VERSION` in a new temporary directory inside
/// `tmp_dir` and takes the file named `file` from it. Errors of the host or of its temporary
/// directory are returned; apt's own failure is a [`Tried::Failed`].
fn source(
    apt: &Apt,
    package: &str,
    version: &str,
    file: &str,
    tmp_dir: &Path,
) -> Result<Tried, SourceError> {
    let dir = temp_dir_in(tmp_dir, "apt-source-")?;
    let spec = format!("{package}={version}");
    let command = format!("apt-get source --download-only {spec}");
    let mut cmd = crate::process::command(apt.get);
    cmd.args(["source", "--download-only", &spec])
        .current_dir(dir.path())
        .envs(crate::process::host_env())
        .env("DEBIAN_FRONTEND", "noninteractive");
    let output = match run_tool(&mut cmd, &command) {
        Ok(o) => o,
        Err(e) => return Ok(Tried::Failed(e)),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // apt verifies each file as it downloads it, and fails the whole command when any file of
    // the source package is missing from the mirror (seen: a .dsc 404 while the .orig was
    // served). The file we pin is all we need, and the store checks its sha256 next.
    let path = dir.path().join(file);
    if path.is_file() {
        return adopt_file(path, dir).map(Tried::Arrived);
    }
    if !output.success() {
        // apt < 2.7 says 'deb-src' URIs, later versions 'source' URIs.
        if text.contains("URIs in your sources.list") {
            return Ok(Tried::Failed(SourceError::NoDebSrc {
                package: package.into(),
                version: version.into(),
            }));
        }
        let mut detail = format!("{}, its last lines:{}", status_text(&output), shown(&text));
        if text.contains("Unable to find a source package") {
            detail.push_str(
                "\n    (is the version right, and was `apt-get update` run since deb-src \
                 entries were enabled?)",
            );
        }
        return Ok(Tried::Failed(SourceError::Command { command, detail }));
    }
    let mut produced: Vec<String> = std::fs::read_dir(dir.path())
        .map(|rd| {
            rd.flatten()
                .map(|e| crate::text::escape(&e.file_name().to_string_lossy()).into_owned())
                .collect()
        })
        .unwrap_or_default();
    produced.sort();
    Ok(Tried::Failed(SourceError::Command {
        command,
        detail: format!(
            "it did not produce {file} (it produced: {})",
            produced.join(", ")
        ),
    }))
}

/// The last [`SHOWN_LINES`] non-empty lines of `text`, each trimmed, escaped, cut to
/// [`SHOWN_WIDTH`] characters and on its own indented line.
fn shown(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = String::new();
    if lines.len() > SHOWN_LINES {
        out.push_str(&format!(
            "\n    ... ({} earlier lines)",
            lines.len() - SHOWN_LINES
        ));
    }
    for line in &lines[lines.len().saturating_sub(SHOWN_LINES)..] {
        let cut: String = line.chars().take(SHOWN_WIDTH).collect();
        let more = line.chars().count() > SHOWN_WIDTH;
        out.push_str("\n    ");
        out.push_str(&crate::text::escape(&cut));
        if more {
            out.push_str(" ...");
        }
    }
    if lines.is_empty() {
        out.push_str("\n    (no output)");
    }
    out
}

/// `apt-cache showsrc PACKAGE`: every source stanza apt knows for the package.
fn showsrc(apt: &Apt, package: &str) -> Result<String, SourceError> {
    let command = format!("apt-cache showsrc {package}");
    let mut cmd = crate::process::command(apt.cache);
    cmd.args(["showsrc", package])
        .envs(crate::process::host_env());
    let output = run_tool(&mut cmd, &command)?;
    if !output.success() {
        return Err(SourceError::Command {
            command,
            detail: status_text(&output),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The (source package, version) pairs of `showsrc`'s stanzas, other than `d.version`, whose
/// `Checksums-Sha256` lists `d.file` with `sha256`, each once, in apt's order.
fn same_file_elsewhere(showsrc: &str, d: &DebianSource, sha256: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for stanza in showsrc.split("\n\n") {
        let (mut package, mut version, mut listed) = (None, None, false);
        let mut in_sha256 = false;
        for line in stanza.lines() {
            if let Some(rest) = line.strip_prefix([' ', '\t']) {
                if in_sha256 {
                    let mut f = rest.split_whitespace();
                    if let (Some(sum), Some(_size), Some(name), None) =
                        (f.next(), f.next(), f.next(), f.next())
                        && name == d.file
                        && sum.eq_ignore_ascii_case(sha256)
                    {
                        listed = true;
                    }
                }
                continue;
            }
            in_sha256 = false;
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            match key {
                "Package" => package = Some(value.trim().to_string()),
                "Version" => version = Some(value.trim().to_string()),
                "Checksums-Sha256" => in_sha256 = true,
                _ => {}
            }
        }
        if let (Some(p), Some(v), true) = (package, version, listed)
            && v != d.version
            && !out.iter().any(|(op, ov)| *op == p && *ov == v)
        {
            out.push((p, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const SHA: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const OTHER: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    fn demo(version: &str) -> DebianSource {
        DebianSource {
            package: "demo".into(),
            version: version.into(),
            file: "demo_1.0.orig.tar.gz".into(),
        }
    }

    /// `apt-cache showsrc demo` as apt prints it: the security update, the point release
    /// (same orig tarball), an older upload whose tarball differs, and the update listed twice.
    fn showsrc_text(orig_sha: &str) -> String {
        let stanza = |v: &str, sha: &str| {
            format!(
                "Package: demo\nBinary: demo\nVersion: {v}\nFiles:\n 0123 10 demo_{v}.dsc\n\
                 Checksums-Sha256:\n {OTHER} 10 demo_{v}.dsc\n {sha} 20 demo_1.0.orig.tar.gz\n\
                 Directory: pool/main/d/demo\n\n"
            )
        };
        format!(
            "{}{}{}{}",
            stanza("1.0-1+deb12u1", orig_sha),
            stanza("1.0-1", orig_sha),
            stanza("0.9-3", OTHER),
            stanza("1.0-1+deb12u1", orig_sha)
        )
    }

    #[test]
    fn only_other_versions_listing_the_same_file_and_sha256_are_chosen() {
        let got = same_file_elsewhere(&showsrc_text(SHA), &demo("1.0-1+deb12u1"), SHA);
        assert_eq!(got, [("demo".to_string(), "1.0-1".to_string())]);
        let got = same_file_elsewhere(&showsrc_text(SHA), &demo("0.9-3"), SHA);
        assert_eq!(
            got,
            [
                ("demo".to_string(), "1.0-1+deb12u1".to_string()),
                ("demo".to_string(), "1.0-1".to_string())
            ]
        );
        // A file of the same name with other bytes is not the file the recipe pins.
        assert!(same_file_elsewhere(&showsrc_text(OTHER), &demo("1.0-1+deb12u1"), SHA).is_empty());
    }

    /// Fake `apt-get` and `apt-cache` in a temporary folder: `apt-get source` of version
    /// `1.0-1+deb12u1` fails as a 404 does (one 2,000-character line and more), of `1.0-1`
    /// writes `bytes` as the orig tarball (when `serve`), and every call is logged.
    struct Fake {
        dir: tempfile::TempDir,
    }

    impl Fake {
        fn new(orig_sha: &str, serve: bool) -> Fake {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path().display().to_string();
            std::fs::write(dir.path().join("showsrc.txt"), showsrc_text(orig_sha)).unwrap();
            let long = format!(
                "E: Failed to fetch http://deb.example/{} 404  Not Found",
                "x".repeat(2000)
            );
            let serve_line = if serve {
                "printf 'orig bytes' > demo_1.0.orig.tar.gz; exit 0"
            } else {
                "echo 'E: Failed to fetch http://deb.example/demo_1.0.orig.tar.gz  404  Not Found' >&2; exit 100"
            };
            let get = format!(
                "#!/bin/sh\necho \"get $*\" >> {d}/calls\ncase \"$3\" in\n\
                 demo=1.0-1+deb12u1) echo 'Reading package lists...'; echo '{long}' >&2; \
                 printf 'E: bell \\007 here\\n' >&2; echo 'E: Some files failed to download' >&2; exit 100;;\n\
                 demo=1.0-1) {serve_line};;\n\
                 *) echo \"E: Unable to find a source package for $3\" >&2; exit 100;;\nesac\n"
            );
            let cache = format!("#!/bin/sh\necho \"cache $*\" >> {d}/calls\ncat {d}/showsrc.txt\n");
            for (name, text) in [("apt-get", get), ("apt-cache", cache)] {
                let p = dir.path().join(name);
                std::fs::write(&p, text).unwrap();
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            Fake { dir }
        }

        fn tool(&self, name: &str) -> String {
            self.dir.path().join(name).display().to_string()
        }

        fn calls(&self) -> String {
            std::fs::read_to_string(self.dir.path().join("calls")).unwrap_or_default()
        }

        fn download(
            &self,
            version: &str,
            sha: &str,
        ) -> Result<(Fetched, Option<String>), SourceError> {
            let tmp = self.dir.path().join("tmp");
            std::fs::create_dir_all(&tmp).unwrap();
            let (get, cache) = (self.tool("apt-get"), self.tool("apt-cache"));
            download(
                &demo(version),
                sha,
                &tmp,
                &Apt {
                    get: &get,
                    cache: &cache,
                },
            )
        }
    }

    #[test]
    fn a_404_is_served_by_another_version_listing_the_same_bytes() {
        let orig = sha256_of(b"orig bytes");
        let fake = Fake::new(&orig, true);
        let (f, note) = fake.download("1.0-1+deb12u1", &orig).unwrap();
        assert_eq!(std::fs::read(&f.path).unwrap(), b"orig bytes");
        assert_eq!(f.sha256, orig);
        let note = note.unwrap();
        assert!(note.contains("demo=1.0-1 lists the same file"), "{note}");
        assert!(
            note.starts_with("demo=1.0-1+deb12u1 did not deliver demo_1.0.orig.tar.gz"),
            "{note}"
        );
        assert_eq!(
            fake.calls(),
            "get source --download-only demo=1.0-1+deb12u1\ncache showsrc demo\n\
             get source --download-only demo=1.0-1\n"
        );
    }

    #[test]
    fn no_other_version_with_the_same_bytes_is_not_tried() {
        let fake = Fake::new(OTHER, true);
        let e = fake
            .download("1.0-1+deb12u1", SHA)
            .err()
            .unwrap()
            .to_string();
        assert!(!fake.calls().contains("demo=1.0-1\n"), "{}", fake.calls());
        assert!(e.contains("no other version `apt-cache showsrc demo` lists has demo_1.0.orig.tar.gz with this sha256"), "{e}");
    }

    #[test]
    fn apt_errors_come_back_as_their_last_lines() {
        let orig = sha256_of(b"orig bytes");
        let fake = Fake::new(&orig, false);
        let e = fake
            .download("1.0-1+deb12u1", &orig)
            .err()
            .unwrap()
            .to_string();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(
            lines[0],
            "`apt-get source --download-only demo=1.0-1+deb12u1` failed: exit status: 100, its last lines:"
        );
        assert_eq!(lines[1], "    Reading package lists...");
        assert!(
            lines[2].starts_with("    E: Failed to fetch http://deb.example/xxx"),
            "{e}"
        );
        assert!(lines[2].ends_with("x ..."), "{e}");
        assert_eq!(lines[2].chars().count(), 4 + SHOWN_WIDTH + 4, "{e}");
        assert_eq!(lines[3], "    E: bell \\x07 here");
        assert_eq!(lines[4], "    E: Some files failed to download");
        assert_eq!(
            lines[5],
            "    the other versions listing demo_1.0.orig.tar.gz with this sha256 failed too: demo=1.0-1"
        );
        assert_eq!(lines.len(), 6, "{e}");
    }

    #[test]
    fn many_lines_are_capped() {
        let text: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let s = shown(&text);
        assert!(
            s.starts_with("\n    ... (12 earlier lines)\n    line 12\n"),
            "{s}"
        );
        assert!(s.ends_with("\n    line 19"), "{s}");
        assert_eq!(shown("  \n"), "\n    (no output)");
    }

    fn sha256_of(b: &[u8]) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    }
}
