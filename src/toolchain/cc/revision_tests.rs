//! The guard on [`super::REVISION`]: what the filter gives zig for a corpus of lines, digested
//! per revision, so a change to the filter that forgets the bump fails here.

use std::ffi::OsString;
use std::path::Path;

use super::filter::{Action, Context, filter};

/// Lines that exercise every rule of the filter: what zig gets for them is digested below.
const CORPUS: &[&[&str]] = &[
    &["-O2", "-Wall", "-c", "a.c", "-o", "a.o"],
    &["-Oz", "-c", "a.c"],
    &["-Oz", "-c", "a.c", "-O2"],
    &["-Os", "-flto", "a.o", "-o", "a"],
    &["-rdynamic", "-o", "a", "a.c"],
    &["-Wl,-E,--gc-sections", "a.o"],
    &["-Wl,--dynamic-list=d.list", "a.o"],
    &["-Wl,--dynamic-list", "-Wl,d.list", "a.o"],
    &["-Xlinker", "--export-dynamic", "a.o"],
    &["-Wl,-soname,libx.so.1", "-shared", "x.o"],
    &["-Wl,--as-needed,-z,relro,-z,now", "a.o"],
    &["-Wl,--unknown-thing", "a.o"],
    &["-E", "a.c", "-o", "a.i"],
    &["-E", "-o", "a.i", "a.c"],
    &["-M", "-MF", "a.d", "a.c"],
    &["-I/usr/include", "-c", "a.c"],
    &["-L/usr/lib/x86_64-linux-gnu", "a.o"],
    &["-isystem", "/usr/include/x86_64-linux-gnu", "a.c"],
    &["--coverage", "-fprofile-arcs", "-ftest-coverage", "a.c"],
    &["-lgcov", "a.o"],
    &["-Wl,-lgcov", "a.o"],
    &["-print-prog-name=ld"],
    &["-print-prog-name=as"],
    &["-print-file-name=libc.a"],
    &["-dumpmachine"],
    &["--target=aarch64-linux-musl", "-c", "a.c"],
    &["-target", "aarch64-unknown-linux-musl", "-c", "a.c"],
    &["--target=x86_64-linux-musl", "-c", "a.c"],
    &["--target=aarch64-linux-gnu", "-c", "a.c"],
    &["-Wl,--target=foo", "a.o"],
    &["@args.rsp", "-c", "a.c"],
    &["-march=armv8-a", "-mtune=generic", "-c", "a.c"],
    &["-static", "-fPIE", "a.o", "-o", "a"],
    &["-static", "-o", "dnsmasq", "cache.o", "util.o"],
    &["-c", "a.c", "-o", "a.o"],
];

/// What the filter gave for [`CORPUS`] (in a job whose level is `-Os`) under each
/// [`super::REVISION`], as a digest of every line's action. A change to the filter that changes it must bump `REVISION` (every zig job's
/// key names it) and add a row here; a change that leaves it alone needs neither.
/// (A new line in the corpus changes the digest too: a change that only adds lines records the
/// new digest under the revision it was taken at.)
const DIGESTS: &[(u32, &str)] = &[
    (
        2,
        "95ec571ebe978f45fb000c685356af927d6a220c1f913a552ba2656c86e66fe6",
    ),
    (
        3,
        "26defee36e0a351fe93a8384daf96dad27840f9eda2d7455e56a0092f0574fba",
    ),
];

#[test]
fn the_wrappers_revision_names_what_they_do_to_a_corpus_of_lines() {
    let cx = Context {
        triple: "aarch64-linux-musl",
        rust_target: "aarch64-unknown-linux-musl",
        dir: Path::new("/c/w"),
        multiarch: &[
            "x86_64-linux-gnu",
            "aarch64-linux-gnu",
            "arm-linux-gnueabihf",
        ],
        level: Some("-Os"),
    };
    let mut text = String::new();
    for line in CORPUS {
        let args: Vec<OsString> = line.iter().map(OsString::from).collect();
        let rendered = match filter(&cx, &args) {
            Action::Run { args, stdout } => format!(
                "run {} > {}",
                args.iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
                stdout.map_or("-".into(), |p| p.display().to_string())
            ),
            Action::Answer(a) => format!("answer {a}"),
            // The wording of a refusal builds nothing: only that the line is refused counts.
            Action::Refuse(_) => "refuse".into(),
        };
        text += &format!("{}\n  {rendered}\n", line.join(" "));
    }
    let digest = crate::digest::sha256_hex(text.as_bytes());
    let rev = super::REVISION;
    match DIGESTS.iter().find(|(r, _)| *r == rev) {
        None => panic!("record revision {rev}: add ({rev}, \"{digest}\") to DIGESTS.\n{text}"),
        Some((_, d)) => assert_eq!(
            *d,
            digest,
            "the wrappers now give zig other arguments for some line of the corpus than \
             revision {rev} recorded: bump toolchain::cc::REVISION to {} and add ({}, \"{digest}\") \
             to DIGESTS.\n{text}",
            rev + 1,
            rev + 1
        ),
    }
    let mut seen: Vec<&str> = DIGESTS.iter().map(|(_, d)| *d).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), DIGESTS.len(), "two revisions with one digest");
}
