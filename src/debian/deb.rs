//! A Debian binary package (`.deb`) read without dpkg: an `ar` archive whose first member is
//! `debian-binary` (`2.x`), then `control.tar.*` and `data.tar.*`. Only the data member is
//! taken out (to a file, for the project's bounded tar extractor); a member larger than the
//! bytes the file has, a malformed header, or no data member is refused.
//!
//! The `ar` format: the magic `!<arch>\n`, then per member a 60-byte header (name 16, mtime 12,
//! uid 6, gid 6, mode 8, size 10 decimal, then `` `\n ``) and the member's bytes, padded to an
//! even offset with one `\n`.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

const MAGIC: &[u8; 8] = b"!<arch>\n";
const HEADER: usize = 60;

/// One member's header, parsed.
#[derive(Debug, PartialEq, Eq)]
struct Member {
    /// The name without its padding (and without GNU ar's trailing `/`).
    name: String,
    size: u64,
}

fn header(h: &[u8; HEADER]) -> Result<Member, String> {
    if &h[58..60] != b"`\n" {
        return Err("an ar member header lacks its end marker".into());
    }
    let text = |r: std::ops::Range<usize>| String::from_utf8_lossy(&h[r]).trim_end().to_string();
    let name = text(0..16).trim_end_matches('/').to_string();
    let size = text(48..58)
        .parse::<u64>()
        .map_err(|_| format!("the ar member `{name}` has no decimal size"))?;
    Ok(Member { name, size })
}

/// Copies the `data.tar.*` member of the .deb `deb` into the new file `out`; returns the
/// member's name (`data.tar.xz`), which says its compression.
pub fn data_member(deb: &Path, out: &Path) -> Result<String, String> {
    let fail = |e: io::Error| format!("cannot read `{}`: {e}", deb.display());
    let file = File::open(deb).map_err(fail)?;
    let len = file.metadata().map_err(fail)?.len();
    let mut r = BufReader::new(file);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)
        .map_err(|_| "not a .deb (too short for an ar archive)".to_string())?;
    if &magic != MAGIC {
        return Err("not a .deb (no ar archive magic)".into());
    }
    let mut offset = MAGIC.len() as u64;
    let mut first = true;
    while offset < len {
        let mut h = [0u8; HEADER];
        r.read_exact(&mut h)
            .map_err(|_| "a truncated ar member header".to_string())?;
        let m = header(&h)?;
        offset += HEADER as u64;
        if m.size > len - offset {
            return Err(format!(
                "the ar member `{}` claims {} bytes, more than the file has",
                m.name, m.size
            ));
        }
        if first && m.name != "debian-binary" {
            return Err(format!(
                "not a .deb (its first member is `{}`, not `debian-binary`)",
                m.name
            ));
        }
        first = false;
        if m.name.starts_with("data.tar") {
            let mut w = File::create_new(out)
                .map_err(|e| format!("cannot create `{}`: {e}", out.display()))?;
            let copied = io::copy(&mut (&mut r).take(m.size), &mut w).map_err(fail)?;
            if copied != m.size {
                return Err(format!("the ar member `{}` is truncated", m.name));
            }
            return Ok(m.name);
        }
        offset += m.size + m.size % 2;
        r.seek(SeekFrom::Start(offset)).map_err(fail)?;
    }
    Err("the .deb has no `data.tar.*` member".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::ar;

    fn take(bytes: &[u8]) -> Result<(String, Vec<u8>), String> {
        let t = tempfile::tempdir().unwrap();
        let deb = t.path().join("x.deb");
        std::fs::write(&deb, bytes).unwrap();
        let out = t.path().join("data");
        let name = data_member(&deb, &out)?;
        Ok((name, std::fs::read(out).unwrap()))
    }

    #[test]
    fn the_data_member_is_copied_out_past_odd_sized_members() {
        let deb = ar(&[
            ("debian-binary", b"2.0\n"),
            ("control.tar.xz/", b"odd"),
            ("data.tar.gz", b"DATA BYTES"),
        ]);
        assert_eq!(
            take(&deb),
            Ok(("data.tar.gz".to_string(), b"DATA BYTES".to_vec()))
        );
    }

    #[test]
    fn malformed_debs_are_refused() {
        let good = ar(&[("debian-binary", b"2.0\n"), ("data.tar.xz", b"12345678")]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                b"PK\x03\x04 not ar".to_vec(),
                "not a .deb (no ar archive magic)",
            ),
            (
                ar(&[("control.tar.xz", b"c"), ("data.tar.xz", b"d")]),
                "not a .deb (its first member is `control.tar.xz`, not `debian-binary`)",
            ),
            (
                ar(&[("debian-binary", b"2.0\n"), ("control.tar.xz", b"c")]),
                "the .deb has no `data.tar.*` member",
            ),
            (
                good[..good.len() - 3].to_vec(),
                "the ar member `data.tar.xz` claims 8 bytes, more than the file has",
            ),
            (
                good[..good.len() - 20].to_vec(),
                "a truncated ar member header",
            ),
        ];
        for (bytes, says) in cases {
            assert_eq!(take(&bytes), Err(says.to_string()));
        }
    }
}
