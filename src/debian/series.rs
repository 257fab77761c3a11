//! A quilt patch series (`debian/patches/series`) as `dpkg-source` reads it: one patch per
//! line, `#` comments, an optional `-pN` strip level (dpkg-source applies `-p1`; quilt also
//! knows others), nothing else.

/// One entry of a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to `debian/patches/`.
    pub name: String,
    /// `patch -pN`.
    pub strip: u32,
}

/// What is wrong with a series line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("debian/patches/series line {line}: {reason}")]
pub struct SeriesError {
    pub line: usize,
    pub reason: String,
}

/// Whether `name` can be a patch of a series: a relative path inside `debian/patches/`, no
/// `..`, no control characters or spaces.
pub fn is_patch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('/')
        && !name.chars().any(|c| c.is_control() || c.is_whitespace())
        && name
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// The entries of `text`, in order.
pub fn parse(text: &str) -> Result<Vec<Entry>, SeriesError> {
    let mut out: Vec<Entry> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        // quilt: a `#` starts a comment at the line's start or after whitespace
        let content = match raw.find(" #").or(raw.find("\t#")) {
            Some(i) => &raw[..i],
            None if raw.trim_start().starts_with('#') => "",
            None => raw,
        };
        let mut words = content.split_whitespace();
        let Some(name) = words.next() else { continue };
        let err = |reason: String| SeriesError { line, reason };
        if !is_patch_name(name) {
            return Err(err(format!(
                "`{}` is not a patch inside debian/patches",
                crate::text::escape(name)
            )));
        }
        let mut strip = 1;
        for w in words {
            match w.strip_prefix("-p").and_then(|n| n.parse::<u32>().ok()) {
                Some(p) if p <= 16 => strip = p,
                _ => {
                    return Err(err(format!(
                        "option `{}` is not supported (only -pN)",
                        crate::text::escape(w)
                    )));
                }
            }
        }
        if out.iter().any(|e| e.name == name) {
            return Err(err(format!(
                "`{}` is listed twice",
                crate::text::escape(name)
            )));
        }
        out.push(Entry {
            name: name.to_string(),
            strip,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_series() {
        let s = "# comment\n01.patch\n\nsub/02.diff -p0\n03.patch # why\n";
        let e = parse(s).unwrap();
        let names: Vec<_> = e.iter().map(|e| (e.name.as_str(), e.strip)).collect();
        assert_eq!(
            names,
            [("01.patch", 1), ("sub/02.diff", 0), ("03.patch", 1)]
        );
        assert_eq!(parse("../x.patch\n").unwrap_err().line, 1);
        assert!(parse("a.patch -R\n").unwrap_err().reason.contains("-R"));
        assert!(parse("a.patch\na.patch\n").is_err());
    }
}
