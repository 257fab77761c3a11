//! Go's embedded build info (what `go version -m` prints), read from the bytes of a Go ELF binary.
//!
//! The Go linker writes a 32-byte header, 16-byte aligned, normally as the `.go.buildinfo`
//! section: the 14-byte magic `\xff Go buildinf:`, the pointer size, and a flags byte (bit 0: big
//! endian, bit 1: the strings follow inline). Since Go 1.18 the header is followed by two
//! uvarint-length-prefixed strings, the Go version and the module info; older linkers wrote two
//! pointers to Go string headers `{data, len}` in virtual memory instead. The module info is
//! framed by 16-byte sentinels and holds `path`, `mod`, `dep`, `=>` and `build` lines, the text
//! `runtime/debug.ParseBuildInfo` reads (see [`parse_modinfo`]).
//!
//! Every read is bounds-checked and nothing is allocated by a length the file claims beyond what
//! the file holds, so hostile input gives an error, never a panic or a runaway allocation.

use goblin::elf::Elf;
use goblin::elf::program_header::{PF_W, PF_X, PT_LOAD};
use goblin::elf::section_header::SHT_NOBITS;

use super::facts::{GoBuildInfo, GoModule};

/// The first 14 bytes of the build info blob.
pub const BUILDINFO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// The blob's header: magic, pointer size, flags, then two pointer slots (or padding).
const HEADER_SIZE: usize = 32;
const ALIGN: u64 = 16;
const FLAG_BIG_ENDIAN: u8 = 1;
const FLAG_INLINE: u8 = 2;
/// Length of each sentinel around the module info (`cmd/go/internal/modload.infoStart/infoEnd`).
const SENTINEL: usize = 16;

/// One `PT_LOAD` segment's file image: how virtual addresses map to file offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub vaddr: u64,
    pub offset: u64,
    pub filesz: u64,
}

/// Reads `len` bytes at virtual address `addr` through the `PT_LOAD` segments: the bytes must lie
/// in one segment's file image and in the file.
pub fn read_vaddr<'a>(bytes: &'a [u8], loads: &[Load], addr: u64, len: u64) -> Option<&'a [u8]> {
    let l = loads
        .iter()
        .find(|l| addr >= l.vaddr && addr - l.vaddr < l.filesz)?;
    let rel = addr - l.vaddr;
    if len > l.filesz - rel {
        return None;
    }
    let start = usize::try_from(l.offset.checked_add(rel)?).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

/// The build info of an ELF file already parsed by goblin.
///
/// None when this is not a Go binary: no `.go.buildinfo` section and no magic in a writable data
/// segment (or, for a file without `PT_LOAD` segments, anywhere in the file at a 16-byte-aligned
/// offset). `Some(Err)` when the blob is there but malformed.
pub fn go_buildinfo(bytes: &[u8], elf: &Elf<'_>) -> Option<Result<GoBuildInfo, String>> {
    let loads: Vec<Load> = elf
        .program_headers
        .iter()
        .filter(|ph| ph.p_type == PT_LOAD)
        .map(|ph| Load {
            vaddr: ph.p_vaddr,
            offset: ph.p_offset,
            filesz: ph.p_filesz,
        })
        .collect();
    let blob = match locate(bytes, elf, &loads)? {
        Ok(b) => b,
        Err(e) => return Some(Err(e)),
    };
    let read = |addr: u64, len: u64| read_vaddr(bytes, &loads, addr, len);
    Some(decode_blob(blob, &read).and_then(|raw| raw.parse()))
}

/// Parses `bytes` as ELF (under `catch_unwind`: goblin can panic on hostile input) and reads its
/// Go build info; None when the file is not an ELF goblin can read, or not a Go binary.
pub fn read_go_buildinfo(bytes: &[u8]) -> Option<Result<GoBuildInfo, String>> {
    let elf = match std::panic::catch_unwind(|| Elf::parse(bytes)) {
        Ok(Ok(elf)) => elf,
        _ => return None,
    };
    go_buildinfo(bytes, &elf)
}

/// Finds the blob: from its magic to the end of the section or segment holding it.
fn locate<'a>(bytes: &'a [u8], elf: &Elf<'_>, loads: &[Load]) -> Option<Result<&'a [u8], String>> {
    let sh = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(".go.buildinfo"));
    if let Some(sh) = sh {
        if sh.sh_type == SHT_NOBITS {
            return Some(Err("the .go.buildinfo section has no file data".to_string()));
        }
        let Some(data) = file_range(bytes, sh.sh_offset, sh.sh_size) else {
            return Some(Err(
                "the .go.buildinfo section lies outside the file".to_string()
            ));
        };
        return Some(
            find_magic(data, sh.sh_addr)
                .ok_or_else(|| "no build info magic in the .go.buildinfo section".to_string()),
        );
    }
    // No section headers (stripped with sstrip, or a linker that does not name it): Go's own
    // reader looks in the first writable, non-executable data segment; look in all of them.
    for ph in &elf.program_headers {
        if ph.p_type != PT_LOAD || ph.p_flags & (PF_W | PF_X) != PF_W {
            continue;
        }
        if let Some(b) =
            file_range(bytes, ph.p_offset, ph.p_filesz).and_then(|d| find_magic(d, ph.p_vaddr))
        {
            return Some(Ok(b));
        }
    }
    if loads.is_empty() {
        return find_magic(bytes, 0).map(Ok);
    }
    None
}

fn file_range(bytes: &[u8], off: u64, size: u64) -> Option<&[u8]> {
    let s = usize::try_from(off).ok()?;
    let n = usize::try_from(size).ok()?;
    bytes.get(s..s.checked_add(n)?)
}

/// The first occurrence of the magic in `data` at a 16-byte-aligned address (`data` starts at
/// virtual address `addr`) with room for the whole header; the slice runs to the end of `data`.
fn find_magic(data: &[u8], addr: u64) -> Option<&[u8]> {
    memchr::memmem::find_iter(data, BUILDINFO_MAGIC)
        .find(|&i| {
            addr.wrapping_add(i as u64).is_multiple_of(ALIGN) && data.len() - i >= HEADER_SIZE
        })
        .map(|i| &data[i..])
}

/// The two strings of a build info blob, before the module info is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBuildInfo {
    /// `runtime.buildVersion`, e.g. `go1.26.8`.
    pub go_version: String,
    /// `runtime.modinfo` with its sentinels stripped; empty when not built in module mode.
    pub modinfo: String,
}

impl RawBuildInfo {
    /// Parses the module info and sets the Go version.
    pub fn parse(&self) -> Result<GoBuildInfo, String> {
        let mut info = parse_modinfo(&self.modinfo)?;
        info.go_version = self.go_version.clone();
        Ok(info)
    }
}

/// Decodes a blob (starting at the magic) into its two strings. `read_vaddr(addr, len)` returns
/// `len` bytes at a virtual address, for the pre-Go-1.18 layout where the header holds pointers.
pub fn decode_blob<'a>(
    blob: &'a [u8],
    read_vaddr: &dyn Fn(u64, u64) -> Option<&'a [u8]>,
) -> Result<RawBuildInfo, String> {
    let header = blob
        .get(..HEADER_SIZE)
        .ok_or("build info header truncated")?;
    if !header.starts_with(BUILDINFO_MAGIC) {
        return Err("build info magic missing".to_string());
    }
    let ptr_size = header[14];
    let flags = header[15];
    let (vers, modinfo) = if flags & FLAG_INLINE != 0 {
        let mut pos = HEADER_SIZE;
        let vers = varint_string(blob, &mut pos).map_err(|e| format!("go version: {e}"))?;
        let modinfo = varint_string(blob, &mut pos).map_err(|e| format!("module info: {e}"))?;
        (vers, modinfo)
    } else {
        if ptr_size != 4 && ptr_size != 8 {
            return Err(format!("pointer size {ptr_size} is neither 4 nor 8"));
        }
        let big = flags & FLAG_BIG_ENDIAN != 0;
        let ps = usize::from(ptr_size);
        let read_ptr = |b: &[u8]| -> Option<u64> { read_uint(b.get(..ps)?, big) };
        let string_at = |slot: usize, what: &str| -> Result<&'a [u8], String> {
            let addr = read_ptr(&header[16 + slot * ps..]).ok_or("pointer truncated")?;
            let hdr = read_vaddr(addr, 2 * ps as u64)
                .ok_or_else(|| format!("{what} string header at {addr:#x} is not in the file"))?;
            let data = read_ptr(hdr).ok_or("string header truncated")?;
            let len = read_ptr(&hdr[ps..]).ok_or("string header truncated")?;
            if len == 0 {
                return Ok(&[]);
            }
            read_vaddr(data, len).ok_or_else(|| {
                format!("{what} string ({len} bytes at {data:#x}) is not in the file")
            })
        };
        (string_at(0, "go version")?, string_at(1, "module info")?)
    };
    if vers.is_empty() {
        return Err("empty go version".to_string());
    }
    Ok(RawBuildInfo {
        go_version: String::from_utf8_lossy(vers).into_owned(),
        modinfo: String::from_utf8_lossy(strip_sentinels(modinfo)).into_owned(),
    })
}

/// A pointer-sized unsigned integer (4 or 8 bytes).
fn read_uint(b: &[u8], big: bool) -> Option<u64> {
    Some(match b.len() {
        4 => {
            let a: [u8; 4] = b.try_into().ok()?;
            u64::from(if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            })
        }
        8 => {
            let a: [u8; 8] = b.try_into().ok()?;
            if big {
                u64::from_be_bytes(a)
            } else {
                u64::from_le_bytes(a)
            }
        }
        _ => return None,
    })
}

/// `encoding/binary.Uvarint`: at most 10 bytes, and no overflow past 64 bits.
pub fn uvarint(b: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let byte = *b
            .get(pos.checked_add(i).ok_or("varint truncated")?)
            .ok_or("varint truncated")?;
        if i == 9 && byte > 1 {
            return Err("varint overflows 64 bits".to_string());
        }
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *pos += i + 1;
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".to_string())
}

/// A uvarint length then that many bytes.
fn varint_string<'a>(b: &'a [u8], pos: &mut usize) -> Result<&'a [u8], String> {
    let n = uvarint(b, pos)?;
    let avail = b.len().saturating_sub(*pos);
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n <= avail)
        .ok_or_else(|| format!("string length {n} exceeds the {avail} bytes left"))?;
    let s = &b[*pos..*pos + n];
    *pos += n;
    Ok(s)
}

/// Strips the 16-byte sentinels around the module info, as `debug/buildinfo` does: only when
/// there is room for both and the end sentinel follows a newline; otherwise there is no module
/// info (a binary not built in module mode) and the result is empty.
pub fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let n = modinfo.len();
    if n > 2 * SENTINEL && modinfo[n - SENTINEL - 1] == b'\n' {
        &modinfo[SENTINEL..n - SENTINEL]
    } else {
        &[]
    }
}

/// Parses the module info text (sentinels already stripped), as `runtime/debug.ParseBuildInfo`
/// does: `go`, `path`, `mod`, `dep`, `=>` and `build` lines, each ended by a newline (an
/// unterminated last line is ignored, as Go does), unknown lines skipped. `go_version` is set
/// only from a `go` line. A `=>` line may omit its sum (Go requires the column, possibly empty).
pub fn parse_modinfo(modinfo: &str) -> Result<GoBuildInfo, String> {
    let mut info = GoBuildInfo::default();
    // Which module a `=>` line replaces: None, the main module, or deps[i].
    enum Last {
        None,
        Main,
        Dep(usize),
    }
    let mut last = Last::None;
    let mut rest = modinfo;
    let mut line_no = 0usize;
    while let Some((line, tail)) = rest.split_once('\n') {
        rest = tail;
        line_no += 1;
        let fail = |e: String| format!("module info line {line_no}: {e}");
        if let Some(v) = line.strip_prefix("go\t") {
            info.go_version = v.to_string();
        } else if let Some(v) = line.strip_prefix("path\t") {
            info.path = v.to_string();
        } else if let Some(v) = line.strip_prefix("mod\t") {
            info.main = Some(module_line(v).map_err(fail)?);
            last = Last::Main;
        } else if let Some(v) = line.strip_prefix("dep\t") {
            info.deps.push(module_line(v).map_err(fail)?);
            last = Last::Dep(info.deps.len() - 1);
        } else if let Some(v) = line.strip_prefix("=>\t") {
            let m = module_line(v).map_err(fail)?;
            let target = match last {
                Last::None => None,
                Last::Main => info.main.as_mut(),
                Last::Dep(i) => info.deps.get_mut(i),
            };
            let target = target
                .ok_or_else(|| fail("replacement with no module on the line before".into()))?;
            target.replace = Some(Box::new(m));
            last = Last::None;
        } else if let Some(kv) = line.strip_prefix("build\t") {
            info.settings.push(build_line(kv).map_err(fail)?);
        }
    }
    Ok(info)
}

/// `PATH\tVERSION[\tSUM]`.
fn module_line(v: &str) -> Result<GoModule, String> {
    let cols: Vec<&str> = v.split('\t').collect();
    if cols.len() != 2 && cols.len() != 3 {
        return Err(format!("expected 2 or 3 columns, got {}", cols.len()));
    }
    Ok(GoModule {
        path: cols[0].to_string(),
        version: cols[1].to_string(),
        sum: cols.get(2).filter(|s| !s.is_empty()).map(|s| s.to_string()),
        replace: None,
    })
}

/// `KEY=VALUE`, either side possibly Go-quoted.
fn build_line(kv: &str) -> Result<(String, String), String> {
    let (key, raw_value) = match kv.as_bytes().first() {
        None => return Err("build line missing '='".to_string()),
        Some(b'=') => return Err("build line with missing key".to_string()),
        Some(b'"' | b'`') => {
            let (key, used) =
                unquote_prefix(kv).map_err(|e| format!("invalid quoted key in build line: {e}"))?;
            match kv[used..].strip_prefix('=') {
                Some(v) => (key, v),
                None => return Err("build line missing '=' after quoted key".to_string()),
            }
        }
        Some(_) => {
            let (k, v) = kv
                .split_once('=')
                .ok_or("build line missing '=' after key")?;
            if k.contains([' ', '\t', '\r', '\n', '"', '`']) {
                return Err(format!("unquoted key {k:?} must be quoted"));
            }
            (k.to_string(), v)
        }
    };
    let value = match raw_value.as_bytes().first() {
        Some(b'"' | b'`') => {
            let (v, used) = unquote_prefix(raw_value)
                .map_err(|e| format!("invalid quoted value in build line: {e}"))?;
            if used != raw_value.len() {
                return Err("invalid quoted value in build line: text after the quote".to_string());
            }
            v
        }
        _ => {
            if raw_value.contains([' ', '\t', '\r', '\n', '"', '`']) {
                return Err(format!("unquoted value {raw_value:?} must be quoted"));
            }
            raw_value.to_string()
        }
    };
    Ok((key, value))
}

/// Go's `strconv.QuotedPrefix` + `Unquote` for a `"..."` or `` `...` `` string at the start of
/// `s`: the unquoted text and how many bytes of `s` the quoted string took.
pub fn unquote_prefix(s: &str) -> Result<(String, usize), String> {
    let b = s.as_bytes();
    match b.first() {
        Some(b'`') => {
            let end = s[1..].find('`').ok_or("unterminated raw string")? + 1;
            // Go drops carriage returns from raw strings.
            Ok((s[1..end].replace('\r', ""), end + 1))
        }
        Some(b'"') => {
            let mut out: Vec<u8> = Vec::new();
            let mut i = 1;
            loop {
                let c = *b.get(i).ok_or("unterminated string")?;
                match c {
                    b'"' => {
                        let text = String::from_utf8(out)
                            .map_err(|_| "escapes give invalid UTF-8".to_string())?;
                        return Ok((text, i + 1));
                    }
                    b'\n' => return Err("newline in string".to_string()),
                    b'\\' => {
                        let e = *b.get(i + 1).ok_or("unterminated escape")?;
                        i += 2;
                        let simple = match e {
                            b'a' => Some(0x07),
                            b'b' => Some(0x08),
                            b'f' => Some(0x0c),
                            b'n' => Some(b'\n'),
                            b'r' => Some(b'\r'),
                            b't' => Some(b'\t'),
                            b'v' => Some(0x0b),
                            b'\\' => Some(b'\\'),
                            b'"' => Some(b'"'),
                            _ => None,
                        };
                        if let Some(v) = simple {
                            out.push(v);
                            continue;
                        }
                        match e {
                            b'x' => {
                                let v = hex_digits(b, i, 2)?;
                                out.push(v as u8);
                                i += 2;
                            }
                            b'0'..=b'7' => {
                                let d = b.get(i - 1..i + 2).ok_or("octal escape truncated")?;
                                let mut v: u32 = 0;
                                for &c in d {
                                    if !(b'0'..=b'7').contains(&c) {
                                        return Err("invalid octal escape".to_string());
                                    }
                                    v = v * 8 + u32::from(c - b'0');
                                }
                                let v = u8::try_from(v).map_err(|_| "octal escape above 255")?;
                                out.push(v);
                                i += 2;
                            }
                            b'u' | b'U' => {
                                let n = if e == b'u' { 4 } else { 8 };
                                let v = hex_digits(b, i, n)?;
                                let ch = char::from_u32(v).ok_or("escape is not a valid rune")?;
                                let mut buf = [0u8; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                                i += n;
                            }
                            _ => return Err(format!("unknown escape \\{}", e as char)),
                        }
                    }
                    _ => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
        }
        _ => Err("not a quoted string".to_string()),
    }
}

fn hex_digits(b: &[u8], at: usize, n: usize) -> Result<u32, String> {
    let d = b
        .get(at..at.checked_add(n).ok_or("escape truncated")?)
        .ok_or("escape truncated")?;
    let mut v: u32 = 0;
    for &c in d {
        let x = (c as char).to_digit(16).ok_or("invalid hex escape")?;
        v = v.checked_mul(16).ok_or("escape overflows")? + x;
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODINFO: &str = "path\texample.com/hello\n\
        mod\texample.com/hello\t(devel)\t\n\
        dep\texample.com/greet\tv0.0.0\n\
        =>\t../greet\t(devel)\t\n\
        dep\tgolang.org/x/sys\tv0.30.0\th1:abc=\n\
        \n\
        build\t-buildmode=exe\n\
        build\t-ldflags=\"-s -w -X 'main.v=1 2'\"\n\
        build\t\"a key=x\"=`raw \\ value`\n\
        build\tempty=\n\
        build\tCGO_ENABLED=0\n\
        build\tGOARM=6,softfloat\n\
        unknown\tline\n";

    fn module(path: &str, version: &str, sum: Option<&str>) -> GoModule {
        GoModule {
            path: path.into(),
            version: version.into(),
            sum: sum.map(Into::into),
            replace: None,
        }
    }

    #[test]
    fn modinfo_lines() {
        let i = parse_modinfo(MODINFO).unwrap();
        assert_eq!(i.go_version, "");
        assert_eq!(i.path, "example.com/hello");
        assert_eq!(i.main, Some(module("example.com/hello", "(devel)", None)));
        let mut greet = module("example.com/greet", "v0.0.0", None);
        greet.replace = Some(Box::new(module("../greet", "(devel)", None)));
        assert_eq!(
            i.deps,
            [
                greet,
                module("golang.org/x/sys", "v0.30.0", Some("h1:abc="))
            ]
        );
        assert_eq!(i.setting("-ldflags"), Some("-s -w -X 'main.v=1 2'"));
        assert_eq!(i.setting("a key=x"), Some("raw \\ value"));
        assert_eq!(i.setting("empty"), Some(""));
        assert_eq!(i.setting("CGO_ENABLED"), Some("0"));
        assert_eq!(i.setting("GOARM"), Some("6,softfloat"));
        assert_eq!(i.settings.len(), 6);
        assert_eq!(i.settings[0], ("-buildmode".into(), "exe".into()));
    }

    #[test]
    fn modinfo_go_line_and_unterminated_tail() {
        let i = parse_modinfo("go\tgo1.21.0\npath\tx\nbuild\tA=1\nbuild\tB=2").unwrap();
        assert_eq!(i.go_version, "go1.21.0");
        assert_eq!(i.path, "x");
        assert_eq!(i.settings, [("A".to_string(), "1".to_string())]);
    }

    #[test]
    fn modinfo_replacement_of_main_and_errors() {
        let i = parse_modinfo("mod\ta\tv1\n=>\tb\tv2\th1:x\n").unwrap();
        let r = i.main.unwrap().replace.unwrap();
        assert_eq!(*r, module("b", "v2", Some("h1:x")));

        for (text, want) in [
            ("=>\tb\tv2\t\n", "line 1: replacement with no module"),
            (
                "dep\ta\tv1\n=>\tb\tv2\t\n=>\tc\tv3\t\n",
                "line 3: replacement",
            ),
            ("dep\ta\n", "expected 2 or 3 columns, got 1"),
            ("mod\ta\tv\ts\tx\n", "expected 2 or 3 columns, got 4"),
            ("build\t\n", "missing '='"),
            ("build\t=x\n", "missing key"),
            ("build\tkey\n", "missing '=' after key"),
            ("build\t\"k\"\n", "missing '=' after quoted key"),
            ("build\t\"k\"x=1\n", "missing '=' after quoted key"),
            ("build\t\"k=1\n", "invalid quoted key"),
            ("build\tk=\"v\n", "invalid quoted value"),
            ("build\tk=\"v\"x\n", "text after the quote"),
            ("build\tk=a b\n", "must be quoted"),
            ("build\tk y=1\n", "must be quoted"),
        ] {
            let e = parse_modinfo(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
            assert!(
                e.starts_with(|c: char| c.is_lowercase()) && !e.ends_with('.'),
                "{e}"
            );
        }
    }

    #[test]
    fn unquote_like_go() {
        let u = unquote_prefix;
        assert_eq!(u(r#""a\tb\"c"rest"#).unwrap(), ("a\tb\"c".to_string(), 9));
        assert_eq!(
            u(r#""\x41\101\u00e9\U0001F600\\""#).unwrap().0,
            "AA\u{e9}\u{1F600}\\"
        );
        assert_eq!(u("`a\\n\rb`").unwrap(), ("a\\nb".to_string(), 7));
        for bad in [
            r#""\x4"#,
            r#""\400""#,
            r#""\q""#,
            r#""\ud800""#,
            "\"a",
            "`a",
            "x",
            "",
            r#""\"#,
            r#""\xff""#,
        ] {
            assert!(u(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn varints() {
        let mut p = 0;
        assert_eq!(uvarint(&[0xac, 0x02], &mut p), Ok(300));
        assert_eq!(p, 2);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        p = 0;
        assert_eq!(uvarint(&max, &mut p), Ok(u64::MAX));
        p = 0;
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(uvarint(&over, &mut p).unwrap_err().contains("overflow"));
        p = 0;
        assert!(uvarint(&[0x80; 11], &mut p).is_err());
        p = 0;
        assert_eq!(uvarint(&[0x80], &mut p), Err("varint truncated".into()));
    }

    fn framed(modinfo: &str) -> Vec<u8> {
        let mut m = b"0123456789abcdef".to_vec();
        m.extend_from_slice(modinfo.as_bytes());
        m.extend_from_slice(b"fedcba9876543210");
        m
    }

    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn new_blob(vers: &str, modinfo: &[u8]) -> Vec<u8> {
        let mut b = BUILDINFO_MAGIC.to_vec();
        b.extend_from_slice(&[8, FLAG_INLINE]);
        b.resize(HEADER_SIZE, 0);
        put_varint(&mut b, vers.len() as u64);
        b.extend_from_slice(vers.as_bytes());
        put_varint(&mut b, modinfo.len() as u64);
        b.extend_from_slice(modinfo);
        b
    }

    fn no_memory<'a>(_: u64, _: u64) -> Option<&'a [u8]> {
        None
    }

    #[test]
    fn new_format_blob() {
        let blob = new_blob("go1.26.8", &framed(MODINFO));
        let raw = decode_blob(&blob, &no_memory).unwrap();
        assert_eq!(raw.go_version, "go1.26.8");
        assert_eq!(raw.modinfo, MODINFO);
        let info = raw.parse().unwrap();
        assert_eq!(info.go_version, "go1.26.8");
        assert_eq!(info.setting("GOARM"), Some("6,softfloat"));

        // Not built in module mode: no framing, no module info.
        let raw = decode_blob(&new_blob("go1.20", b""), &no_memory).unwrap();
        assert_eq!(raw.modinfo, "");
        assert_eq!(
            raw.parse().unwrap(),
            GoBuildInfo {
                go_version: "go1.20".into(),
                ..Default::default()
            }
        );
    }

    /// Every truncation and every single-byte corruption of a valid blob: an error or a result,
    /// never a panic.
    #[test]
    fn truncated_and_corrupt_blobs() {
        let blob = new_blob("go1.26.8", &framed(MODINFO));
        for n in 0..blob.len() {
            let r = decode_blob(&blob[..n], &no_memory);
            assert!(r.is_err(), "truncated to {n}: {r:?}");
            let e = r.unwrap_err();
            assert!(
                e.starts_with(|c: char| c.is_lowercase()) && !e.ends_with('.'),
                "{e}"
            );
        }
        for i in 0..blob.len() {
            for v in [0x00, 0x0a, 0x22, 0x7f, 0x80, 0xff] {
                let mut b = blob.clone();
                b[i] = v;
                let _ = decode_blob(&b, &no_memory).and_then(|r| r.parse());
            }
        }
        // A huge claimed length is refused without allocating it.
        let mut b = BUILDINFO_MAGIC.to_vec();
        b.extend_from_slice(&[8, FLAG_INLINE]);
        b.resize(HEADER_SIZE, 0);
        b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert!(decode_blob(&b, &no_memory).unwrap_err().contains("exceeds"));
        b.truncate(HEADER_SIZE);
        b.extend_from_slice(&[0x80; 12]);
        assert!(decode_blob(&b, &no_memory).unwrap_err().contains("varint"));
        // Garbage.
        assert!(decode_blob(&[0xffu8; 64], &no_memory).is_err());
    }

    /// The pre-Go-1.18 layout: pointers to string headers in virtual memory.
    fn old_image(ptr: usize, big: bool) -> (Vec<u8>, Vec<Load>) {
        let vaddr = 0x10_0000u64;
        let mut file = vec![0u8; 0x40];
        file[..14].copy_from_slice(BUILDINFO_MAGIC);
        file[14] = ptr as u8;
        file[15] = u8::from(big);
        let put = |file: &mut Vec<u8>, at: usize, v: u64| {
            let bytes = if big {
                v.to_be_bytes()[8 - ptr..].to_vec()
            } else {
                v.to_le_bytes()[..ptr].to_vec()
            };
            file[at..at + ptr].copy_from_slice(&bytes);
        };
        // Header slots point to string headers at 0x20 and 0x30 (file offset = vaddr - base).
        put(&mut file, 16, vaddr + 0x20);
        put(&mut file, 16 + ptr, vaddr + 0x30);
        let vers = b"go1.16.15";
        let modinfo = framed("path\tcmd/x\nmod\tcmd/x\t(devel)\t\nbuild\tGOARM=7\n");
        let vers_at = file.len() as u64;
        file.extend_from_slice(vers);
        let mod_at = file.len() as u64;
        file.extend_from_slice(&modinfo);
        put(&mut file, 0x20, vaddr + vers_at);
        put(&mut file, 0x20 + ptr, vers.len() as u64);
        put(&mut file, 0x30, vaddr + mod_at);
        put(&mut file, 0x30 + ptr, modinfo.len() as u64);
        let loads = vec![Load {
            vaddr,
            offset: 0,
            filesz: file.len() as u64,
        }];
        (file, loads)
    }

    #[test]
    fn old_format_blob() {
        for (ptr, big) in [(8, false), (4, false), (4, true), (8, true)] {
            let (file, loads) = old_image(ptr, big);
            let read = |a: u64, n: u64| read_vaddr(&file, &loads, a, n);
            let raw = decode_blob(&file, &read).unwrap();
            assert_eq!(raw.go_version, "go1.16.15", "{ptr} {big}");
            let info = raw.parse().unwrap();
            assert_eq!(info.path, "cmd/x");
            assert_eq!(info.setting("GOARM"), Some("7"));

            // A string that runs past its segment, and every truncation of the image.
            let mut bad = file.clone();
            let len_at = 0x30 + ptr;
            bad[len_at..len_at + ptr].fill(0x7f);
            let read = |a: u64, n: u64| read_vaddr(&bad, &loads, a, n);
            let e = decode_blob(&bad, &read).unwrap_err();
            assert!(e.contains("is not in the file"), "{e}");
            for n in 0..file.len() {
                let cut = &file[..n];
                let read = |a: u64, n: u64| read_vaddr(cut, &loads, a, n);
                assert!(decode_blob(cut, &read).is_err(), "{n}");
            }
        }
        let (mut file, loads) = old_image(8, false);
        file[14] = 3;
        let read = |a: u64, n: u64| read_vaddr(&file, &loads, a, n);
        assert!(
            decode_blob(&file, &read)
                .unwrap_err()
                .contains("pointer size 3")
        );
    }

    #[test]
    fn vaddr_mapping() {
        let bytes: Vec<u8> = (0..=255).collect();
        let loads = [
            Load {
                vaddr: 0x1000,
                offset: 0x10,
                filesz: 0x20,
            },
            Load {
                vaddr: u64::MAX - 4,
                offset: 0xf0,
                filesz: 0x100,
            },
        ];
        assert_eq!(
            read_vaddr(&bytes, &loads, 0x1000, 2),
            Some(&[0x10, 0x11][..])
        );
        assert_eq!(read_vaddr(&bytes, &loads, 0x101f, 1), Some(&[0x2f][..]));
        assert_eq!(read_vaddr(&bytes, &loads, 0x101f, 2), None);
        assert_eq!(read_vaddr(&bytes, &loads, 0x1020, 1), None);
        assert_eq!(read_vaddr(&bytes, &loads, 0xfff, 1), None);
        assert_eq!(read_vaddr(&bytes, &loads, u64::MAX, u64::MAX), None);
        assert_eq!(read_vaddr(&bytes, &loads, u64::MAX - 4, 0x20), None);
    }

    #[test]
    fn magic_alignment() {
        let mut data = vec![0u8; 96];
        data[8..22].copy_from_slice(BUILDINFO_MAGIC);
        assert!(find_magic(&data, 0).is_none());
        assert_eq!(find_magic(&data, 8).map(<[u8]>::len), Some(88));
        data[48..62].copy_from_slice(BUILDINFO_MAGIC);
        assert_eq!(find_magic(&data, 0).map(<[u8]>::len), Some(48));
        assert!(find_magic(&data[..79], 0).is_none());
    }

    #[test]
    fn not_elf_is_none() {
        assert!(read_go_buildinfo(b"").is_none());
        assert!(read_go_buildinfo(b"#!/bin/sh\necho hi\n").is_none());
        assert!(read_go_buildinfo(&new_blob("go1.26.8", &framed(MODINFO))).is_none());
    }
}
