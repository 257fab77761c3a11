//! Debian version comparison as `dpkg --compare-versions` does it: `[EPOCH:]UPSTREAM[-REVISION]`,
//! each part compared as alternating non-digit and digit runs, letters before other
//! characters, `~` before everything (even the end of the string).

use std::cmp::Ordering;

/// A version split into its epoch, upstream version and Debian revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version<'a> {
    pub epoch: u64,
    pub upstream: &'a str,
    /// Empty when there is none (a native package).
    pub revision: &'a str,
}

impl<'a> Version<'a> {
    /// Splits `v`; `None` when the epoch is not a number or the upstream part is empty.
    pub fn parse(v: &'a str) -> Option<Version<'a>> {
        let v = v.trim();
        let (epoch, rest) = match v.split_once(':') {
            Some((e, rest)) => (e.parse::<u64>().ok()?, rest),
            None => (0, v),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => (u, r),
            None => (rest, ""),
        };
        if upstream.is_empty() || !upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        Some(Version {
            epoch,
            upstream,
            revision,
        })
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(self.upstream, other.upstream))
            .then_with(|| compare_part(self.revision, other.revision))
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two version strings as dpkg does; a string that does not parse sorts before every
/// one that does (and such strings compare bytewise among themselves).
pub fn compare(a: &str, b: &str) -> Ordering {
    match (Version::parse(a), Version::parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// The weight of one non-digit character: `~` lowest (below the end of the part), then the end,
/// then letters, then everything else by its byte value.
fn order(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => c as i32,
        Some(c) => c as i32 + 256,
    }
}

/// dpkg's `verrevcmp`: non-digit runs by [`order`], digit runs numerically.
fn compare_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // The non-digit prefixes, character by character.
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied().filter(|c| !c.is_ascii_digit()));
            let bc = order(b.get(j).copied().filter(|c| !c.is_ascii_digit()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        // The digit runs, as numbers (leading zeros skipped, then by length, then by digits).
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (si, sj) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (da, db) = (&a[si..i], &b[sj..j]);
        let by_len = da.len().cmp(&db.len());
        if by_len != Ordering::Equal {
            return by_len;
        }
        let by_digits = da.cmp(db);
        if by_digits != Ordering::Equal {
            return by_digits;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    /// Cases checked with `dpkg --compare-versions A lt|eq|gt B` on Debian 12 (dpkg 1.21.22).
    const CASES: &[(&str, &str, Ordering)] = &[
        ("1.0", "1.0", Equal),
        ("1.0", "1.1", Less),
        ("1.0-1", "1.0-2", Less),
        ("1.0-10", "1.0-9", Greater),
        ("1:1.0", "2.0", Greater),
        ("0:1.0", "1.0", Equal),
        ("1.0~rc1", "1.0", Less),
        ("1.0~rc1", "1.0~rc2", Less),
        ("1.0~~", "1.0~", Less),
        ("1.0~", "1.0", Less),
        ("1.0", "1.0+b1", Less),
        ("1.0a", "1.0+", Less),
        ("1.0.1", "1.0a", Greater),
        ("7.88.1-10+deb12u14", "7.88.1-10+deb12u15", Less),
        ("7.88.1-10+deb12u9", "7.88.1-10+deb12u15", Less),
        ("5:7.0.15-1~deb12u10", "5:7.0.15-1", Less),
        ("5:7.0.15-1~deb12u10", "5:7.0.15-1~deb12u9", Greater),
        ("2.90-4~deb12u2", "2.90-4", Less),
        ("2.90-4~deb12u2", "2.90-4~deb12u1", Greater),
        ("1.2.13.dfsg-1", "1:1.2.13.dfsg-1", Less),
        ("1.22.1-9+deb12u12", "1.22.1-9+deb12u9", Greater),
        ("8.0", "10.0", Less),
        ("1.001", "1.1", Equal),
        ("1.0-1", "1.0", Greater),
        ("6.4.2+dfsg-10", "6.4.2+dfsg-21.1", Less),
        ("1.0-0", "1.0", Equal),
    ];

    #[test]
    fn compares_as_dpkg_does() {
        for (a, b, want) in CASES {
            assert_eq!(compare(a, b), *want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn parts() {
        let v = Version::parse("5:7.0.15-1~deb12u10").unwrap();
        assert_eq!(
            (v.epoch, v.upstream, v.revision),
            (5, "7.0.15", "1~deb12u10")
        );
        let v = Version::parse("1.0-2-3").unwrap();
        assert_eq!((v.upstream, v.revision), ("1.0-2", "3"));
        assert!(Version::parse("x:1").is_none());
        assert!(Version::parse("").is_none());
    }

    /// Every case against the real `dpkg`, when it is there (skipped without it, and a failure
    /// under CI: the table above is what it said).
    #[test]
    fn the_table_is_what_dpkg_says() {
        if std::fs::metadata("/usr/bin/dpkg").is_err() {
            crate::testing::skip("`/usr/bin/dpkg` is not there");
            return;
        }
        for (a, b, want) in CASES {
            let op = match want {
                Less => "lt",
                Equal => "eq",
                Greater => "gt",
            };
            let mut cmd = crate::process::command("/usr/bin/dpkg");
            cmd.args(["--compare-versions", a, op, b]);
            let out = crate::process::capture(&mut cmd, Default::default()).unwrap();
            assert!(out.success(), "dpkg says {a} {op} {b} is false");
        }
    }
}
