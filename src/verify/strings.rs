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
        for range in ranges {
            let hay = &bytes[range];
            for m in ac.find_iter(hay) {
                let needle = needles[m.pattern().as_usize()];
                out.found.insert(needle);
                let next = hay.get(m.end()).copied().unwrap_or(0);
                if !(next.is_ascii_alphanumeric() || matches!(next, b'_' | b'-' | b'.')) {
                    out.whole.insert(needle);
                }
                if needle == "GLIBC_2." {
                    let rest = &hay[m.start() + 6..];
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
