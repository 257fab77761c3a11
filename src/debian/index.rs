//! Debian's archive indexes as data: deb822 paragraphs, a suite's `Release` (what `InRelease`
//! signs: its dates and the sha256 of every index file), the `Sources` index (one paragraph
//! per source package version), a binary package's control file, and where a source package's
//! files live in the pool. Pure; [`paragraphs`] is the one deb822 reader.

/// One deb822 paragraph: its fields in order, a multi-line value's lines joined with `\n`
/// (the first line as written after the colon, possibly empty).
pub type Paragraph<'a> = Vec<(&'a str, String)>;

/// The paragraphs of a deb822 text (fields `Key: value`, continuation lines starting with a
/// space or tab, paragraphs separated by blank lines). Lines that are neither are skipped.
pub fn paragraphs(text: &str) -> impl Iterator<Item = Paragraph<'_>> {
    let mut lines = text.lines();
    std::iter::from_fn(move || {
        let mut p: Paragraph = Vec::new();
        for line in lines.by_ref() {
            if line.trim().is_empty() {
                if p.is_empty() {
                    continue;
                }
                return Some(p);
            }
            if let Some(rest) = line.strip_prefix([' ', '\t']) {
                if let Some((_, v)) = p.last_mut() {
                    v.push('\n');
                    v.push_str(rest.trim_end());
                }
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                p.push((k.trim(), v.trim().to_string()));
            }
        }
        (!p.is_empty()).then_some(p)
    })
}

fn field<'p>(p: &'p Paragraph, key: &str) -> Option<&'p str> {
    p.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// One file an index lists: `SHA256 SIZE NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
    pub name: String,
}

/// The `SHA256 SIZE NAME` lines of a multi-line field.
fn listed(value: &str) -> Vec<Listed> {
    value
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            match (f.next(), f.next(), f.next(), f.next()) {
                (Some(sum), Some(size), Some(name), None)
                    if sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    Some(Listed {
                        sha256: sum.to_ascii_lowercase(),
                        size: size.parse().ok()?,
                        name: name.to_string(),
                    })
                }
                _ => None,
            }
        })
        .collect()
}

/// What a suite's `Release` file says (the text `InRelease` signs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub suite: Option<String>,
    pub codename: Option<String>,
    /// Seconds since the epoch.
    pub date: Option<i64>,
    /// Seconds since the epoch; after it the index must not be used.
    pub valid_until: Option<i64>,
    /// The `SHA256` field: every index file of the suite.
    pub sha256: Vec<Listed>,
}

impl Release {
    /// Parses the first paragraph of a `Release` text. A `Date`/`Valid-Until` that does not
    /// parse is an error (a date we cannot read is not a date we checked).
    pub fn parse(text: &str) -> Result<Release, String> {
        let p = paragraphs(text).next().ok_or("the Release text is empty")?;
        let date = |key: &str| -> Result<Option<i64>, String> {
            field(&p, key)
                .map(|v| parse_date(v).ok_or(format!("unreadable {key} `{v}`")))
                .transpose()
        };
        Ok(Release {
            suite: field(&p, "Suite").map(str::to_string),
            codename: field(&p, "Codename").map(str::to_string),
            date: date("Date")?,
            valid_until: date("Valid-Until")?,
            sha256: field(&p, "SHA256").map(listed).unwrap_or_default(),
        })
    }

    /// The entry of index file `name` (`main/source/Sources.xz`).
    pub fn file(&self, name: &str) -> Option<&Listed> {
        self.sha256.iter().find(|l| l.name == name)
    }
}

/// One paragraph of a `Sources` index: a source package at one version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceEntry {
    pub package: String,
    pub version: String,
    /// `3.0 (quilt)`, `1.0`, `3.0 (native)`.
    pub format: String,
    /// The pool folder, e.g. `pool/updates/main/c/curl`.
    pub directory: String,
    pub binaries: Vec<String>,
    pub homepage: Option<String>,
    /// `Checksums-Sha256`.
    pub files: Vec<Listed>,
}

impl SourceEntry {
    /// The upstream tarball: `*.orig.tar.*` (not a signature), or a native package's
    /// `PKG_VERSION.tar.*`.
    pub fn tarball(&self) -> Option<&Listed> {
        let is_sig = |f: &str| f.ends_with(".asc") || f.ends_with(".sig");
        self.files
            .iter()
            .find(|l| l.name.contains(".orig.tar") && !is_sig(&l.name))
            .or_else(|| {
                self.files.iter().find(|l| {
                    l.name.contains(".tar.") && !super::is_changes_file(&l.name) && !is_sig(&l.name)
                })
            })
    }

    /// Debian's part (`.debian.tar.*` or `.diff.gz`), absent for a native package.
    pub fn changes(&self) -> Option<&Listed> {
        self.files.iter().find(|l| super::is_changes_file(&l.name))
    }

    /// The entry of file `name`.
    pub fn file(&self, name: &str) -> Option<&Listed> {
        self.files.iter().find(|l| l.name == name)
    }
}

/// Every paragraph of a `Sources` text that names a package and a version.
pub fn parse_sources(text: &str) -> Vec<SourceEntry> {
    paragraphs(text)
        .filter_map(|p| {
            let e = SourceEntry {
                package: field(&p, "Package")?.to_string(),
                version: field(&p, "Version")?.to_string(),
                format: field(&p, "Format").unwrap_or_default().to_string(),
                directory: field(&p, "Directory").unwrap_or_default().to_string(),
                binaries: field(&p, "Binary")
                    .unwrap_or_default()
                    .split(',')
                    .map(|b| b.trim().to_string())
                    .filter(|b| !b.is_empty())
                    .collect(),
                homepage: field(&p, "Homepage").map(str::to_string),
                files: field(&p, "Checksums-Sha256")
                    .map(listed)
                    .unwrap_or_default(),
            };
            Some(e)
        })
        .collect()
}

/// What `recipe new` reads from a binary package's `DEBIAN/control`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinaryControl {
    /// The packages of `Depends` (alternatives and versions dropped, `:any` cut off).
    pub depends: Vec<String>,
    /// The synopsis: the first line of `Description`.
    pub description: Option<String>,
}

/// The `Depends` and the synopsis of a binary package's control file (one deb822 paragraph,
/// read with [`paragraphs`] like every index).
pub fn parse_binary_control(text: &str) -> BinaryControl {
    let p = paragraphs(text).next().unwrap_or_default();
    BinaryControl {
        depends: field(&p, "Depends")
            .map(|v| {
                v.split(',')
                    .filter_map(|d| d.split_whitespace().next())
                    .map(|d| d.split(':').next().unwrap_or(d).to_string())
                    .collect()
            })
            .unwrap_or_default(),
        description: field(&p, "Description")
            .map(|v| v.lines().next().unwrap_or_default().to_string()),
    }
}

/// The pool folder's prefix of a source package: `libc` for `libcurl...`, else the first
/// letter (`c` for `curl`).
pub fn pool_prefix(package: &str) -> &str {
    if package.starts_with("lib") && package.len() > 3 {
        &package[..4]
    } else {
        &package[..package.len().min(1)]
    }
}

/// `main/<prefix>/<package>/<file>` under an archive's pool folder.
pub fn pool_path(package: &str, file: &str) -> String {
    format!("main/{}/{package}/{file}", pool_prefix(package))
}

/// Seconds since the epoch of an RFC 2822 date as Debian's Release files write it:
/// `Sat, 10 Jun 2023 08:55:30 UTC` (the weekday optional and checked; zone `UTC`, `GMT`, `Z`,
/// `+0000` or another offset). Debian always writes the seconds: a time without them is refused.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let time = s.split_whitespace().rev().nth(1)?;
    if time.matches(':').count() != 2 {
        return None;
    }
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s)
        .ok()
        .map(|t| t.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASE: &str = "Origin: Debian\nLabel: Debian-Security\nSuite: oldstable-security\n\
        Codename: bookworm-security\nDate: Fri, 04 Dec 2026 03:54:28 UTC\n\
        Valid-Until: Fri, 11 Dec 2026 03:54:28 UTC\nSHA256:\n \
        826d7f074d6e851c727a1cfad91d0b95818f7414a389ead9162210a938a5fc86  8705816 main/source/Sources\n \
        945C3C9DFC1520336E93EF0A445A81440BACF13B5D76F0EC9F1FD157DE078A2A   309460 main/source/Sources.xz\n";

    #[test]
    fn release_fields() {
        let r = Release::parse(RELEASE).unwrap();
        assert_eq!(r.codename.as_deref(), Some("bookworm-security"));
        assert_eq!(r.date, Some(1796356468));
        assert_eq!(r.valid_until, Some(1796356468 + 7 * 86400));
        let x = r.file("main/source/Sources.xz").unwrap();
        assert_eq!(x.size, 309460);
        assert!(x.sha256.starts_with("945c3c9d"));
        assert!(Release::parse("Date: someday\n").is_err());
    }

    #[test]
    fn binary_control() {
        let text = "Package: redis-server\nVersion: 5:7.0.15-1\nDepends: adduser,\n \
            libc6 (>= 2.34), libssl3:any (>= 3.0.0) | libssl1.1, redis-tools (= 5:7.0.15-1)\n\
            Description: Persistent key-value database with network interface\n \
            Redis is a key-value database in a similar vein to memcache\n";
        let c = parse_binary_control(text);
        assert_eq!(c.depends, ["adduser", "libc6", "libssl3", "redis-tools"]);
        assert_eq!(
            c.description.as_deref(),
            Some("Persistent key-value database with network interface")
        );
        assert_eq!(parse_binary_control(""), BinaryControl::default());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("Thu, 01 Jan 1970 00:00:00 UTC"), Some(0));
        assert_eq!(
            parse_date("Sat, 10 Jun 2023 08:55:30 UTC"),
            Some(1686387330)
        );
        assert_eq!(parse_date("10 Jun 2023 09:55:30 +0100"), Some(1686387330));
        assert_eq!(parse_date("Sat, 10 Jun 2023 08:55 UTC"), None);
        assert_eq!(parse_date("Sat, 10 Foo 2023 08:55:30 UTC"), None);
        // A weekday that is not the date's.
        assert_eq!(parse_date("Fri, 10 Jun 2023 08:55:30 UTC"), None);
    }

    #[test]
    fn sources_paragraphs() {
        let text = "Package: curl\nBinary: curl, libcurl4\nVersion: 7.88.1-10+deb12u5\n\
            Format: 3.0 (quilt)\nChecksums-Sha256:\n \
            cdb38b72e36bc5d33d5b8810f8018ece1baa29a8f215b4495e495ded82bbf3c7 2546486 curl_7.88.1.orig.tar.gz\n \
            1111111111111111111111111111111111111111111111111111111111111111 488 curl_7.88.1.orig.tar.gz.asc\n \
            688fbc081e03115d360e93267a7e5231b11a01b82c3c7254ea1e9509f2989c93 66024 curl_7.88.1-10+deb12u5.debian.tar.xz\n\
            Homepage: https://curl.se/\nDirectory: pool/updates/main/c/curl\n\n\n\
            Package: zlib\nVersion: 1:1.2.13.dfsg-1\nChecksums-Sha256:\n \
            2222222222222222222222222222222222222222222222222222222222222222 1 zlib_1.2.13.dfsg.orig.tar.gz\n";
        let s = parse_sources(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].binaries, ["curl", "libcurl4"]);
        assert_eq!(s[0].format, "3.0 (quilt)");
        assert_eq!(s[0].directory, "pool/updates/main/c/curl");
        assert_eq!(s[0].tarball().unwrap().name, "curl_7.88.1.orig.tar.gz");
        assert_eq!(
            s[0].changes().unwrap().name,
            "curl_7.88.1-10+deb12u5.debian.tar.xz"
        );
        assert_eq!(s[1].version, "1:1.2.13.dfsg-1");
        assert!(s[1].changes().is_none());
    }

    #[test]
    fn pool_paths() {
        assert_eq!(pool_path("curl", "x"), "main/c/curl/x");
        assert_eq!(
            pool_path("libtorrent-rasterbar", "y"),
            "main/libt/libtorrent-rasterbar/y"
        );
        assert_eq!(pool_prefix("lib"), "l");
    }
}
