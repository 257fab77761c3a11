//! Byte sizes in settings and messages: the one parser of every size a setting gives
//! (`RECIPE_MAX_DOWNLOAD`, `RECIPE_MAX_EXTRACT`, `RECIPE_CHECK_MAX_UNPACKED`) and the one way a
//! size is shown.
//!
//! Invariant: every unit is a power of 1024, whatever its spelling (`64M`, `64MB` and `64MiB`
//! are the same size), and zero is no size (a cap of nothing would refuse everything).

use std::fmt;

/// Parses `123`, `64M`, `64MiB`, `64MB`, `4 GB`, `1t` (all powers of 1024); `None` for zero,
/// fractions, negative numbers, unknown units and sizes beyond `u64`.
pub fn parse(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return None,
    };
    let v = n.checked_mul(1u64 << shift)?;
    (v > 0).then_some(v)
}

/// The size a setting `var` gives, if set: `Err` holds a value that is not a size.
pub fn from_env(var: &str) -> Result<Option<u64>, String> {
    match std::env::var_os(var) {
        None => Ok(None),
        Some(v) => {
            let text = v.to_string_lossy().into_owned();
            parse(&text).map(Some).ok_or(text)
        }
    }
}

/// A byte count for messages: `64 MiB`, or exact bytes when not a round number of KiB.
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
            if n >= 1 << shift && n.is_multiple_of(1 << shift) {
                return write!(f, "{} {unit}", n >> shift);
            }
        }
        write!(f, "{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse("123"), Some(123));
        assert_eq!(parse("64M"), Some(64 << 20));
        assert_eq!(parse("64MiB"), Some(64 << 20));
        assert_eq!(parse("64mb"), Some(64 << 20));
        assert_eq!(parse(" 4 GB "), Some(4 << 30));
        assert_eq!(parse("16g"), Some(16 << 30));
        assert_eq!(parse("1t"), Some(1 << 40));
        for bad in [
            "",
            "M",
            "0",
            "0K",
            "-1",
            "1.5G",
            "12X",
            "12 parsecs",
            "99999999999T",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn bytes_render() {
        assert_eq!(Bytes(64 << 20).to_string(), "64 MiB");
        assert_eq!(Bytes(16 << 30).to_string(), "16 GiB");
        assert_eq!(Bytes(256 << 10).to_string(), "256 KiB");
        assert_eq!(Bytes(1000).to_string(), "1000 bytes");
    }
}
