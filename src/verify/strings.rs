//! The string scan of the deep check: which markers (libc banners, `/bin/sh`, musl's dlopen
//! stub) and runtime-file paths occur in a binary's data, in one Aho-Corasick pass. A leaf
//! module.

use std::collections::BTreeSet;

use goblin::elf::Elf;

use super::facts::RuntimeKind;

/// Every string the deep check looks for, found in one pass over the file's data.
const MARKERS: &[&str] = &[
    "/bin/sh",
    "/bin/bash",
    "Dynamic loading not supported",
    "GLIBC_TUNABLES",
    "GNU C Library",
    "No error information",
    "nsswitch.conf",
    "GLIBC_2.",
    UNWIND_MARKER,
];

/// The message core links in for `panic = "unwind"` (`panic_cannot_unwind`: an unwind out of a
/// function that must not unwind aborts with it), which a std built for `panic = "abort"` lacks.
pub(super) const UNWIND_MARKER: &str = "panic in a function that cannot unwind";

/// Which markers and runtime-file paths occur in the file's data (allocated, non-executable
/// sections: .rodata, .data, .dynstr, ...; the whole file when it has no section headers), in
/// one Aho-Corasick pass, so a large binary's code and debug info are not scanned at all. A path
/// that only occurs inside a longer one is not reported on its own.
pub(super) struct Strings {
    /// Needle -> found anywhere.
    found: BTreeSet<&'static str>,
    /// Needle -> found as a whole path (not followed by more path characters).
    whole: BTreeSet<&'static str>,
    /// Every `GLIBC_x.y[.z]` seen.
    pub(super) glibc: Vec<String>,
}

impl Strings {
    pub(super) fn scan(bytes: &[u8], elf: &Elf<'_>) -> Strings {
        Strings::in_ranges(bytes, data_ranges(bytes, elf))
    }

    pub(super) fn in_ranges(bytes: &[u8], ranges: Vec<std::ops::Range<usize>>) -> Strings {
        use aho_corasick::AhoCorasick;
        use std::sync::OnceLock;
        static AC: OnceLock<(AhoCorasick, Vec<&'static str>)> = OnceLock::new();
        let (ac, needles) = AC.get_or_init(|| {
            let needles: Vec<&'static str> = MARKERS
                .iter()
                .copied()
                .chain(RuntimeKind::PATHS.iter().map(|(p, _)| *p))
                .collect();
            // Leftmost-longest, not overlapping: several times faster, and a path found inside a
            // longer one (`/etc/ssl/certs` in the bundle's path) adds nothing.
            let ac = AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&needles)
                .expect("fixed needles build");
            (ac, needles)
        });
        let mut out = Strings {
            found: BTreeSet::new(),
            whole: BTreeSet::new(),
            glibc: Vec::new(),
        };
        let longest = needles.iter().map(|n| n.len()).max().unwrap_or(0);
        for range in ranges {
            let hay = &bytes[range];
            for (start, end, pattern) in matches(ac, hay, longest, PIECE) {
                let needle = needles[pattern];
                out.found.insert(needle);
                let next = hay.get(end).copied().unwrap_or(0);
                if !(next.is_ascii_alphanumeric() || matches!(next, b'_' | b'-' | b'.')) {
                    out.whole.insert(needle);
                }
                if needle == "GLIBC_2." {
                    let rest = &hay[start + 6..];
                    let n = rest
                        .iter()
                        .take(16)
                        .take_while(|c| c.is_ascii_digit() || **c == b'.')
                        .count();
                    out.glibc
                        .push(String::from_utf8_lossy(&rest[..n]).into_owned());
                }
            }
        }
        // A needle inside a found one was there too (`nsswitch.conf` in `/etc/nsswitch.conf`).
        let inner: Vec<&'static str> = needles
            .iter()
            .copied()
            .filter(|n| out.found.iter().any(|f| f != n && f.contains(n)))
            .collect();
        out.found.extend(inner);
        out
    }

    pub(super) fn has(&self, needle: &str) -> bool {
        self.found.contains(needle)
    }

    pub(super) fn has_path(&self, needle: &str) -> bool {
        self.whole.contains(needle)
    }
}

/// A stretch of data longer than this is scanned in pieces of this size on every core.
const PIECE: usize = 4 << 20;

/// A match: its start and end in the haystack, and the needle's index.
type Match = (usize, usize, usize);

/// Every match of `ac` in `hay` that one scan from its start finds (leftmost-longest, not
/// overlapping), in order. A haystack longer than `piece` is cut into pieces scanned at once,
/// each from its own start and `longest` bytes past its end (so a match that starts in it is
/// whole); where the previous piece's last match runs past a piece's start (rare: a needle
/// across the cut), that piece is scanned again from the match's end, as one scan would have,
/// so the result is the same as one scan's.
fn matches(ac: &aho_corasick::AhoCorasick, hay: &[u8], longest: usize, piece: usize) -> Vec<Match> {
    use rayon::prelude::*;
    let scan = |from: usize, to: usize| -> Vec<Match> {
        let window = &hay[from..to.saturating_add(longest).min(hay.len())];
        let mut out = Vec::new();
        for run in nonzero_runs(window) {
            let base = from + run.start;
            out.extend(
                ac.find_iter(&window[run])
                    .map(|m| (base + m.start(), base + m.end(), m.pattern().as_usize())),
            );
        }
        out.retain(|m| m.0 < to);
        out
    };
    if hay.len() <= piece {
        return scan(0, hay.len());
    }
    let cuts: Vec<(usize, usize)> = (0..hay.len())
        .step_by(piece)
        .map(|s| (s, (s + piece).min(hay.len())))
        .collect();
    let parts: Vec<Vec<Match>> = cuts.par_iter().map(|&(s, e)| scan(s, e)).collect();
    let mut out = Vec::new();
    let mut cursor = 0;
    for ((s, e), part) in cuts.into_iter().zip(parts) {
        let part = if s < cursor {
            scan(cursor.min(e), e)
        } else {
            part
        };
        if let Some(last) = part.last() {
            cursor = cursor.max(last.1);
        }
        out.extend(part);
    }
    out
}

/// Blocks of the data checked for NUL bytes only (see [`nonzero_runs`]).
const ZERO_BLOCK: usize = 4096;

/// The stretches of `window` between blocks of [`ZERO_BLOCK`] NUL bytes (counted from its
/// start). No needle holds a NUL, so no match crosses such a block and scanning the stretches
/// finds what one scan of the whole window finds, without scanning the zeros: large zeroed
/// arrays and padding are common in `.data` and `.rodata`. A block is NUL when an OR of its
/// bytes is, which reads it at memory speed.
fn nonzero_runs(window: &[u8]) -> Vec<std::ops::Range<usize>> {
    // 16 bytes at a time, without an early exit in the loop (so it vectorises); most blocks of
    // real data fail on their first 64 bytes, checked first.
    let or = |b: &[u8]| {
        b.chunks_exact(16).fold(0u128, |a, c| {
            a | u128::from_ne_bytes(c.try_into().expect("16 bytes"))
        })
    };
    let zero = |b: &[u8]| or(&b[..64]) == 0 && or(b) == 0;
    let mut runs = Vec::new();
    let mut start = 0;
    for (i, block) in window.chunks(ZERO_BLOCK).enumerate() {
        if block.len() == ZERO_BLOCK && zero(block) {
            let at = i * ZERO_BLOCK;
            if start < at {
                runs.push(start..at);
            }
            start = at + ZERO_BLOCK;
        }
    }
    if start < window.len() {
        runs.push(start..window.len());
    }
    runs
}

/// The parts of the file that hold data: allocated sections that are not code and not NOBITS,
/// or the whole file when there are no section headers (or they are unreadable).
fn data_ranges(bytes: &[u8], elf: &Elf<'_>) -> Vec<std::ops::Range<usize>> {
    use goblin::elf::section_header::{SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS};
    let mut ranges: Vec<std::ops::Range<usize>> = elf
        .section_headers
        .iter()
        .filter(|sh| {
            sh.sh_flags & u64::from(SHF_ALLOC) != 0
                && sh.sh_flags & u64::from(SHF_EXECINSTR) == 0
                && sh.sh_type != SHT_NOBITS
                && !holds_no_text(sh.sh_type, elf.shdr_strtab.get_at(sh.sh_name))
        })
        .filter_map(|sh| {
            let start = usize::try_from(sh.sh_offset).ok()?;
            let end = start.checked_add(usize::try_from(sh.sh_size).ok()?)?;
            (end <= bytes.len() && start < end).then_some(start..end)
        })
        .collect();
    if ranges.is_empty() {
        return std::iter::once(0..bytes.len()).collect();
    }
    ranges.sort_by_key(|r| r.start);
    ranges
}

/// Sections of tables the linker or a runtime reads, never a string a program uses: relocations,
/// symbol and hash tables, notes, version tables, `.dynamic`, pointer arrays, unwind tables, the
/// GOT, Go's line tables and type links. A Go binary's `.gopclntab` alone is a fifth of it; not
/// scanning them makes the scan faster and keeps a source file name there from passing for a
/// path the program opens. (`.dynstr`, a string table, is scanned: it names glibc's versions.)
fn holds_no_text(sh_type: u32, name: Option<&str>) -> bool {
    use goblin::elf::section_header::*;
    /// `SHT_RELR` (packed relative relocations), which goblin does not name.
    const SHT_RELR: u32 = 19;
    matches!(
        sh_type,
        SHT_RELA
            | SHT_REL
            | SHT_RELR
            | SHT_HASH
            | SHT_GNU_HASH
            | SHT_DYNAMIC
            | SHT_NOTE
            | SHT_DYNSYM
            | SHT_INIT_ARRAY
            | SHT_FINI_ARRAY
            | SHT_PREINIT_ARRAY
            | SHT_GNU_VERDEF
            | SHT_GNU_VERNEED
            | SHT_GNU_VERSYM
    ) || matches!(
        name,
        Some(
            ".eh_frame"
                | ".eh_frame_hdr"
                | ".gcc_except_table"
                | ".got"
                | ".got.plt"
                | ".gopclntab"
                | ".typelink"
                | ".itablink"
        )
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The strings of `b`, all of it scanned.
    pub(in crate::verify) fn all(b: &[u8]) -> Strings {
        Strings::in_ranges(b, std::iter::once(0..b.len()).collect())
    }

    #[test]
    fn a_scan_in_pieces_finds_what_one_scan_finds() {
        let needles = [
            "/bin/sh",
            "/etc/ssl/certs/ca-certificates.crt",
            "GLIBC_2.",
            "sh",
        ];
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(needles)
            .unwrap();
        let longest = 34;
        // Needles at every offset around the cuts of 64-byte pieces, some across them.
        let mut hay = Vec::new();
        let mut x: u32 = 7;
        while hay.len() < 5000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            match x >> 29 {
                0 => hay.extend_from_slice(b"/etc/ssl/certs/ca-certificates.crt"),
                1 => hay.extend_from_slice(b"/bin/sh"),
                2 => hay.extend_from_slice(b"GLIBC_2.34"),
                _ => hay.push(b"abcdefgh/s"[(x >> 8) as usize % 10]),
            }
        }
        let one: Vec<Match> = ac
            .find_iter(&hay)
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        assert!(one.len() > 100);
        for piece in [1, 7, 33, 64, 100, 4096, 10_000] {
            assert_eq!(matches(&ac, &hay, longest, piece), one, "pieces of {piece}");
        }
        // Zeroed blocks between the text, and a needle right against one: the same matches.
        let mut zeroed = vec![0u8; 3 * ZERO_BLOCK + 5];
        zeroed.extend_from_slice(&hay);
        zeroed.extend(std::iter::repeat_n(0u8, 2 * ZERO_BLOCK));
        zeroed.extend_from_slice(b"/bin/sh");
        zeroed.extend(std::iter::repeat_n(0u8, ZERO_BLOCK + 1));
        let one: Vec<Match> = ac
            .find_iter(&zeroed)
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        for piece in [64, 4096, 10_000, 1 << 20] {
            assert_eq!(
                matches(&ac, &zeroed, longest, piece),
                one,
                "pieces of {piece}"
            );
        }
        assert!(nonzero_runs(&vec![0u8; 2 * ZERO_BLOCK]).is_empty());
    }

    #[test]
    fn paths_match_whole() {
        assert!(all(b"a\0/bin/sh\0b").has_path("/bin/sh"));
        assert!(!all(b"/bin/shutdown").has_path("/bin/sh"));
        assert!(all(b"/bin/shutdown").has("/bin/sh"));
        assert!(all(b"x/bin/sh").has_path("/bin/sh"));
        // Found inside a longer needle: still found.
        assert!(all(b"\0/etc/nsswitch.conf\0").has("nsswitch.conf"));
        assert!(all(b"\0/etc/ssl/certs/ca-certificates.crt\0").has("/etc/ssl/certs"));
    }
}
