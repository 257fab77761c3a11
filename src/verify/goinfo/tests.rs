//! Unit tests of the Go build info reader: finding, decoding and parsing the module text.

use super::*;
use crate::verify::facts::GoModule;

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
