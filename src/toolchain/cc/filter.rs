//! The argument filter of the compiler wrappers (pure): what `zig cc` is given for the
//! arguments a build system gave `<triple>-cc`, so that zig answers like a native gcc would.
//!
//! - the leak guard: a host include or library folder is refused, naming the argument;
//! - coverage instrumentation (`--coverage`, `-fprofile-arcs`, `-lgcov`, ...) is refused: the
//!   target has no coverage runtime, so a probe for it must fail at once (as gcc's fails
//!   without libgcov), not only when the final link misses `__gcov_*`/`llvm_gcda_*`;
//! - linker options that mean nothing for a static executable and that zig rejects
//!   ("unsupported linker arg") are dropped, in `-Wl,a,b` lists and `-Xlinker` pairs alike,
//!   with the value that follows them;
//! - `-E` with `-o FILE`: zig prints preprocessed text to stdout whatever `-o` says, so the
//!   wrapper takes `-o` out and sends zig's stdout to FILE itself (`-o -` is stdout already);
//! - `-print-prog-name=` for the tools we wrap answers with our wrapper (zig names the host's
//!   `/usr/bin/ld`, a linker for the build machine).
//!
//! Everything else passes through untouched, in order. Response files (`@FILE`) are passed
//! to zig as they are (clang reads them); options inside them are not filtered.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Linker options dropped on their own: they only concern a dynamic symbol table, which a
/// static executable does not have (or are link diagnostics zig does not know).
const DROP_LINKER: &[&str] = &[
    "-E",
    "--export-dynamic",
    "-export-dynamic",
    "--no-export-dynamic",
    "--dynamic-list-data",
    "--dynamic-list-cpp-new",
    "--dynamic-list-cpp-typeinfo",
    "-Bsymbolic-functions",
    "--warn-common",
    "--copy-dt-needed-entries",
    "--no-copy-dt-needed-entries",
];

/// Linker options dropped with their value, given as `OPT=VALUE` or as `OPT` then `VALUE`.
const DROP_LINKER_WITH_VALUE: &[&str] = &[
    "--dynamic-list",
    "--export-dynamic-symbol",
    "--export-dynamic-symbol-list",
];

/// Driver options dropped: `-rdynamic` is `-Wl,--export-dynamic`.
const DROP_DRIVER: &[&str] = &["-rdynamic"];

/// Options that ask for coverage or profile instrumentation, which needs a runtime library
/// (libgcov, or compiler-rt's profile runtime) that the target toolchain does not have.
fn coverage(arg: &str) -> bool {
    matches!(
        arg,
        "--coverage" | "-coverage" | "-fprofile-arcs" | "-ftest-coverage" | "-lgcov"
    ) || arg == "-fprofile-generate"
        || arg.starts_with("-fprofile-generate=")
        || arg == "-fprofile-instr-generate"
        || arg.starts_with("-fprofile-instr-generate=")
}

/// The tools the wrappers stand for, as `-print-prog-name=` knows them.
const OUR_TOOLS: &[&str] = &["ld", "ar", "ranlib", "strip"];

/// The wrapper being run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context<'a> {
    /// The target triple (`x86_64-linux-musl`), the prefix of every wrapper's name.
    pub triple: &'a str,
    /// The folder of the wrappers.
    pub dir: &'a Path,
    /// Host folders that must not reach a target build (the multiarch names of every arch).
    pub multiarch: &'a [&'a str],
}

/// What to do instead of the call as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run zig with these arguments (after zig's own `cc -target ...`); with `stdout` set,
    /// zig's standard output goes to that file.
    Run {
        args: Vec<OsString>,
        stdout: Option<PathBuf>,
    },
    /// Print this line and succeed, without zig.
    Answer(String),
    /// Refuse: print `recipe: <message>` and exit 1.
    Refuse(String),
}

/// The host folder `arg` points at, if it does (`-I/usr/include`, `-L/usr/lib/x86_64-linux-gnu`,
/// or any argument naming a Debian multiarch folder).
fn host_path(arg: &str, multiarch: &[&str]) -> bool {
    let under = |s: &str, dir: &str| s == dir || s.starts_with(&format!("{dir}/"));
    if let Some(p) = arg.strip_prefix("-I")
        && (under(p, "/usr/include") || under(p, "/usr/local/include"))
    {
        return true;
    }
    if arg.starts_with("-isystem/usr/include") {
        return true;
    }
    if let Some(p) = arg.strip_prefix("-L")
        && (under(p, "/usr/lib") || under(p, "/lib") || under(p, "/usr/local/lib"))
    {
        return true;
    }
    multiarch.iter().any(|m| {
        arg.contains(&format!("/usr/lib/{m}")) || arg.contains(&format!("/usr/include/{m}"))
    })
}

fn leak(arg: &str) -> Action {
    Action::Refuse(format!(
        "leak guard: host path `{arg}` in a target build (use the sysroot's headers and \
         libraries, not the build machine's)"
    ))
}

/// Filters the items of one linker list (`-Wl,` split on commas, or one `-Xlinker` value).
/// `skip_next` carries "the next item is the value of an option dropped before" across
/// arguments.
fn linker_items<'s>(items: impl Iterator<Item = &'s str>, skip_next: &mut bool) -> Vec<&'s str> {
    let mut kept = Vec::new();
    for item in items {
        if std::mem::take(skip_next) {
            continue;
        }
        if DROP_LINKER.contains(&item) {
            continue;
        }
        if DROP_LINKER_WITH_VALUE.contains(&item) {
            *skip_next = true;
            continue;
        }
        if DROP_LINKER_WITH_VALUE
            .iter()
            .any(|o| item.strip_prefix(o).is_some_and(|r| r.starts_with('=')))
        {
            continue;
        }
        kept.push(item);
    }
    kept
}

/// True when `-E` is one of the driver's own options (not the value of `-Xlinker -E` or
/// `-o -E`).
fn preprocessing(args: &[OsString]) -> bool {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == OsStr::new("-E") {
            return true;
        }
        let takes_value = a
            .to_str()
            .is_some_and(|a| a == "-o" || (a.starts_with("-X") && a.len() > 2));
        if takes_value {
            it.next();
        }
    }
    false
}

/// What the wrapper does with `args` (the arguments after the wrapper's name).
pub fn filter(cx: &Context, args: &[OsString]) -> Action {
    let text = |a: &OsString| a.to_str().map(str::to_owned);
    let preprocess = preprocessing(args);
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut stdout = None;
    let mut skip_linker_value = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let Some(a) = text(arg) else {
            out.push(arg.clone());
            continue;
        };
        // The separate-argument forms of the leak guard: `-I /usr/include`.
        if matches!(a.as_str(), "-I" | "-L" | "-isystem")
            && let Some(next) = args.get(i).and_then(text)
        {
            let joined = if a == "-isystem" {
                format!("-isystem{next}")
            } else {
                format!("{a}{next}")
            };
            if host_path(&joined, cx.multiarch) {
                return leak(&joined);
            }
        }
        if host_path(&a, cx.multiarch) {
            return leak(&a);
        }
        if coverage(&a) {
            return Action::Refuse(format!(
                "`{a}` asks for coverage instrumentation, which cannot link for the target \
                 (there is no coverage runtime for {}): turn coverage off for this build",
                cx.triple
            ));
        }
        if let Some(tool) = a.strip_prefix("-print-prog-name=")
            && OUR_TOOLS.contains(&tool)
        {
            return Action::Answer(
                cx.dir
                    .join(format!("{}-{tool}", cx.triple))
                    .display()
                    .to_string(),
            );
        }
        if DROP_DRIVER.contains(&a.as_str()) {
            continue;
        }
        if let Some(list) = a.strip_prefix("-Wl,") {
            if list.split(',').any(coverage) {
                return Action::Refuse(format!(
                    "`{a}` asks for coverage instrumentation, which cannot link for the target \
                     (there is no coverage runtime for {}): turn coverage off for this build",
                    cx.triple
                ));
            }
            let kept = linker_items(list.split(','), &mut skip_linker_value);
            if !kept.is_empty() {
                out.push(format!("-Wl,{}", kept.join(",")).into());
            }
            continue;
        }
        if a == "-Xlinker"
            && let Some(value) = args.get(i)
        {
            i += 1;
            match value.to_str() {
                Some(v) => {
                    if !linker_items(std::iter::once(v), &mut skip_linker_value).is_empty() {
                        out.push(arg.clone());
                        out.push(value.clone());
                    }
                }
                None => {
                    out.push(arg.clone());
                    out.push(value.clone());
                }
            }
            continue;
        }
        if preprocess {
            let file = if a == "-o" {
                let Some(f) = args.get(i) else {
                    out.push(arg.clone());
                    continue;
                };
                i += 1;
                Some(PathBuf::from(f))
            } else {
                a.strip_prefix("-o")
                    .filter(|f| !f.is_empty())
                    .map(PathBuf::from)
            };
            if let Some(f) = file {
                // `-o -` is standard output, where zig writes anyway.
                stdout = (f != Path::new("-")).then_some(f);
                continue;
            }
        }
        out.push(arg.clone());
    }
    Action::Run { args: out, stdout }
}
