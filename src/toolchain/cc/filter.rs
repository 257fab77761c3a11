//! The argument filter of the compiler wrappers (pure): what `zig cc` is given for the
//! arguments a build system gave `<triple>-cc`, so that zig answers like a native gcc would.
//!
//! - the leak guard: a host include or library folder is refused, naming the argument;
//! - coverage and profile instrumentation (`--coverage`, `-fprofile-arcs`, `-ftest-coverage`,
//!   `-fprofile-generate[=DIR]`, `-fcs-profile-generate[=DIR]`,
//!   `-fprofile-instr-generate[=FILE]`, `-fcoverage-mapping`) and the coverage runtime
//!   (`-lgcov`, `-l gcov`, `-l:libgcov.a`, also in `-Wl,` lists and `-Xlinker` values, and
//!   split over two of them as `-Xlinker -l -Xlinker gcov` or `-Wl,--library -Wl,gcov`: the
//!   item after `-l`/`--library` is the library's name to ld, whatever argument it comes in)
//!   are dropped: the target has no coverage runtime, and a configure
//!   script may turn coverage on however it found the build machine's gcov. Dropped together,
//!   compiling and linking alike, no object asks for `__gcov_*`/`__llvm_profile_*`, so the
//!   link never misses them (what refusing them used to protect) and the build is simply not
//!   instrumented; a probe for the flags passes, and one linking a libgcov symbol fails (there
//!   is none). `-fprofile-use` (reading profile data) is not instrumentation and passes;
//! - linker options that mean nothing for a static executable and that zig rejects
//!   ("unsupported linker arg") are dropped, in `-Wl,a,b` lists and `-Xlinker` pairs alike,
//!   with the value that follows them, in every spelling ld accepts (one or two dashes,
//!   `=VALUE` or the value as the next item); a spelling ld would read otherwise (an
//!   abbreviation, a value given to a flag, a value missing at the end) is refused, naming
//!   the spellings that are dropped;
//! - `-E` with `-o FILE`: zig prints preprocessed text to stdout whatever `-o` says, so the
//!   wrapper takes `-o` out and sends zig's stdout to FILE itself (`-o -` is stdout already);
//! - `-print-prog-name=` for the tools we wrap answers with our wrapper (zig names the host's
//!   `/usr/bin/ld`, a linker for the build machine);
//! - a clang target option (`--target=X`, `--target X`, `-target X`) naming the wrapper's own
//!   target, in its GNU (`aarch64-linux-musl`) or Rust (`aarch64-unknown-linux-musl`)
//!   spelling, or clang's with any vendor (cc-rs passes `arm-unknown-linux-musleabihf` for
//!   Rust's armv7 target), is dropped: zig's own `-target` comes first, and zig cannot parse the Rust
//!   spelling that cc-rs passes to a clang-like compiler. A target option naming anything
//!   else is refused: another arch in one build is a bug, and another OS or C library is not
//!   what the wrapper builds for.
//!
//! - `-Oz`, when it is the last optimisation level of the line: zig reads it as `-Os` (both are
//!   its ReleaseSmall) and gives clang `-Os`, so the wrapper adds `-Xclang -Oz` at the end, which
//!   clang's compiler reads after zig's `-Os` (the link keeps ReleaseSmall's libc++).
//!
//! Everything else passes through untouched, in order. Response files (`@FILE`) are passed
//! to zig as they are (clang reads them); options inside them are not filtered.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// What a linker option the wrapper drops takes after its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takes {
    /// Nothing: `=VALUE` is an error to ld.
    Nothing,
    /// One value (named here for messages), as `OPT=VALUE` or as `OPT` then `VALUE`.
    Value(&'static str),
}

/// A linker option the wrapper drops, by its name without dashes (`E` is ld's short `-E`).
#[derive(Debug)]
struct LdOption {
    name: &'static str,
    takes: Takes,
}

const fn flag(name: &'static str) -> LdOption {
    LdOption {
        name,
        takes: Takes::Nothing,
    }
}

const fn valued(name: &'static str, value: &'static str) -> LdOption {
    LdOption {
        name,
        takes: Takes::Value(value),
    }
}

/// Linker options dropped (with their value, for those that take one): they only concern a
/// dynamic symbol table, which a static executable does not have (or are link diagnostics
/// zig does not know). ld accepts one or two dashes before every name longer than a letter,
/// so both spellings are dropped ([`ld_option`]).
const DROP_LINKER: &[LdOption] = &[
    flag("E"),
    flag("export-dynamic"),
    flag("no-export-dynamic"),
    flag("dynamic-list-data"),
    flag("dynamic-list-cpp-new"),
    flag("dynamic-list-cpp-typeinfo"),
    flag("Bsymbolic-functions"),
    flag("warn-common"),
    flag("copy-dt-needed-entries"),
    flag("no-copy-dt-needed-entries"),
    valued("dynamic-list", "FILE"),
    valued("export-dynamic-symbol", "SYMBOL"),
    valued("export-dynamic-symbol-list", "FILE"),
];

/// ld options that are a prefix of a dropped name, so not abbreviations of it.
const LD_PREFIX_OPTIONS: &[&str] = &["Bsymbolic"];

impl LdOption {
    /// Every way of writing this option that the wrapper drops, for messages.
    fn spellings(&self) -> String {
        let n = self.name;
        let forms = match self.takes {
            Takes::Nothing if n.len() == 1 => vec![format!("-Wl,-{n}"), format!("-Xlinker -{n}")],
            Takes::Nothing => vec![
                format!("-Wl,--{n}"),
                format!("-Wl,-{n}"),
                format!("-Xlinker --{n}"),
                format!("-Xlinker -{n}"),
            ],
            Takes::Value(v) => vec![
                format!("-Wl,--{n}={v}"),
                format!("-Wl,-{n}={v}"),
                format!("-Wl,--{n},{v}"),
                format!("-Wl,-{n},{v}"),
                format!("-Xlinker --{n}={v}"),
                format!("-Xlinker --{n} -Xlinker {v}"),
                format!("-Xlinker -{n} -Xlinker {v}"),
            ],
        };
        one_of(forms.iter().map(|f| format!("`{f}`")).collect())
    }

    /// The name as ld's documentation writes it.
    fn display(&self) -> String {
        match self.name.len() {
            1 => format!("-{}", self.name),
            _ => format!("--{}", self.name),
        }
    }
}

/// What one linker item is to the drop list.
#[derive(Debug)]
enum LdItem {
    /// Not a dropped option: it stays.
    Other,
    /// A dropped option, with its value if it takes one (`OPT=VALUE`).
    Drop,
    /// A dropped option whose value is the next linker item.
    DropWithNext(&'static LdOption),
    /// A spelling of a dropped option that ld reads differently or refuses: the message.
    Refuse(String),
}

/// Reads `item` (one element of a `-Wl,` list, or one `-Xlinker` value) the way ld does:
/// one or two dashes, then the name, then `=VALUE` if given; single-letter names are short
/// options (`-E` only). A strict prefix of a dropped name (three letters or more) is an
/// abbreviation to ld, which the wrapper does not guess at: it is refused with the spellings.
fn ld_option(item: &str) -> LdItem {
    let Some(rest) = item
        .strip_prefix("--")
        .or_else(|| item.strip_prefix('-'))
        .filter(|r| !r.is_empty() && !r.starts_with('-'))
    else {
        return LdItem::Other;
    };
    let (name, value) = match rest.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (rest, None),
    };
    if let Some(opt) = DROP_LINKER.iter().find(|o| o.name == name) {
        return match (opt.takes, value) {
            _ if name.len() == 1 && item != format!("-{name}") => LdItem::Other,
            (Takes::Nothing, Some(_)) => LdItem::Refuse(format!(
                "linker option `{item}` gives a value to ld's `{}`, which takes none; the \
                 wrapper drops it (a static executable has no dynamic symbols) when written \
                 {}",
                opt.display(),
                opt.spellings()
            )),
            (Takes::Nothing, None) | (Takes::Value(_), Some(_)) => LdItem::Drop,
            (Takes::Value(_), None) => LdItem::DropWithNext(opt),
        };
    }
    let mut abbreviates: Vec<&LdOption> = DROP_LINKER
        .iter()
        .filter(|o| o.name.len() > name.len() && o.name.starts_with(name))
        .collect();
    abbreviates.sort_by_key(|o| o.name.len());
    if name.len() < 3 || LD_PREFIX_OPTIONS.contains(&name) || abbreviates.is_empty() {
        return LdItem::Other;
    }
    let names = abbreviates
        .iter()
        .map(|o| format!("`{}`", o.display()))
        .collect();
    LdItem::Refuse(format!(
        "linker option `{item}` abbreviates {}, which the wrapper drops (a static executable \
         has no dynamic symbols) only when written in full: {}",
        one_of(names),
        abbreviates[0].spellings()
    ))
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(mut items: Vec<String>) -> String {
    match items.pop() {
        Some(last) if !items.is_empty() => format!("{} or {last}", items.join(", ")),
        last => last.unwrap_or_default(),
    }
}

/// Driver options dropped: `-rdynamic` is `-Wl,--export-dynamic`.
const DROP_DRIVER: &[&str] = &["-rdynamic"];

/// Driver options that ask for coverage or profile instrumentation, which needs a runtime
/// library (libgcov, or compiler-rt's profile runtime) that the target toolchain does not have,
/// or that link that library: dropped.
fn coverage(arg: &str) -> bool {
    let valued = |name: &str| {
        arg.strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
    };
    matches!(
        arg,
        "--coverage" | "-coverage" | "-fprofile-arcs" | "-ftest-coverage" | "-fcoverage-mapping"
    ) || valued("-fprofile-generate")
        || valued("-fcs-profile-generate")
        || valued("-fprofile-instr-generate")
        || arg.strip_prefix("-l").is_some_and(gcov_library)
}

/// `NAMESPEC` of `-lNAMESPEC` (or ld's `--library=NAMESPEC`) that names libgcov.
fn gcov_library(namespec: &str) -> bool {
    namespec == "gcov" || namespec.starts_with(":libgcov.")
}

/// A linker item (of a `-Wl,` list or an `-Xlinker` value) that links libgcov in one item:
/// `-lgcov`, `-l:libgcov.a`, `--library=gcov`.
fn gcov_linker_item(item: &str) -> bool {
    item.strip_prefix("-l").is_some_and(gcov_library)
        || item.strip_prefix("--library=").is_some_and(gcov_library)
}

/// A linker item that takes the library as the next item (`-l gcov`, `--library gcov`).
fn library_option(item: &str) -> bool {
    matches!(item, "-l" | "--library")
}

/// The tools the wrappers stand for, as `-print-prog-name=` knows them.
const OUR_TOOLS: &[&str] = &["ld", "ar", "ranlib", "strip"];

/// The wrapper being run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context<'a> {
    /// The target triple (`x86_64-linux-musl`), the prefix of every wrapper's name.
    pub triple: &'a str,
    /// The same target as Rust spells it (`x86_64-unknown-linux-musl`).
    pub rust_target: &'a str,
    /// The folder of the wrappers.
    pub dir: &'a Path,
    /// Host folders that must not reach a target build (the multiarch names of every arch).
    pub multiarch: &'a [&'a str],
    /// The job's optimisation level (`-O2`, `-Os`, `-Oz`; [`LEVEL_ENV`]), which a link line
    /// that names none gets: zig links such a line in its Debug mode, with libc and
    /// compiler-rt built for debugging and no unused sections dropped, where gcc and clang
    /// ignore the level at link time. A Makefile that links with `$(CC) $(LDFLAGS)` and no
    /// `$(CFLAGS)` would otherwise ship that.
    pub level: Option<&'a str>,
}

/// The variable that gives the wrappers the job's optimisation level ([`Context::level`]).
pub const LEVEL_ENV: &str = "RECIPE_OPT_LEVEL";

/// True for an optimisation level (`-O`, `-O0` to `-O3`, `-Os`, `-Oz`, `-Ofast`, `-Og`).
pub fn is_level(arg: &str) -> bool {
    arg.starts_with("-O") && arg[2..].chars().all(|c| c.is_ascii_alphanumeric())
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

/// The clang options that name the target: `--target=X` in one argument, or these two
/// followed by `X`.
const TARGET_OPTIONS: &[&str] = &["--target", "-target"];

/// A target triple without its vendor part (`arm-unknown-linux-musleabihf` is
/// `arm-linux-musleabihf`), so that the spellings of one target compare equal.
fn without_vendor(t: &str) -> String {
    let parts: Vec<&str> = t.split('-').collect();
    match parts.as_slice() {
        [arch, _vendor, os, env] => format!("{arch}-{os}-{env}"),
        _ => t.to_string(),
    }
}

/// The decision for the target `value` of a clang target option (`option` as written): the
/// wrapper's own target is dropped, in any spelling of it (GNU, Rust, or clang's with any
/// vendor: cc-rs passes `arm-unknown-linux-musleabihf` for Rust's
/// `armv7-unknown-linux-musleabihf`); anything else refused.
fn target_option(cx: &Context, option: &str, value: &str) -> Decision {
    let value_n = without_vendor(value);
    if value_n == cx.triple || value_n == without_vendor(cx.rust_target) {
        return Decision::Drop;
    }
    let arch_of = |t: &str| t.split('-').next().unwrap_or(t).to_owned();
    let other = crate::arch::Arch::ALL.iter().map(|a| a.info()).find(|i| {
        [i.triple, i.rust_target, i.gnu_build_triple]
            .iter()
            .any(|t| arch_of(t) == arch_of(value))
    });
    let own = format!("`{}` (Rust: `{}`)", cx.triple, cx.rust_target);
    let message = match other {
        Some(info) if info.triple != cx.triple => format!(
            "`{option}` names arch `{}`, but this wrapper builds for {own}: a build that mixes \
             arches is a bug (is a build script given the wrong target?)",
            info.name
        ),
        _ => format!(
            "`{option}` names a target this wrapper does not build for; it builds for {own} only"
        ),
    };
    Decision::Stop(Action::Refuse(message))
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

/// What a linker item says of the next one, across `-Wl,` lists and `-Xlinker` values alike
/// (ld reads them as one list).
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// The next item is the value of this option, dropped before: it leaves too.
    Value(&'static LdOption),
    /// The next item is the library name of `-l`/`--library`, which was kept (as the last
    /// item of its list, or as the last kept one): both leave when it names libgcov.
    Library,
}

/// The items of one linker list that pass ([`linker_items`]).
#[derive(Debug, Default)]
struct Kept<'s> {
    items: Vec<&'s str>,
    /// The first item named libgcov for a `-l`/`--library` that ended an earlier argument:
    /// that option leaves with it ([`Held`]).
    retract: bool,
}

/// Filters the items of one linker list (`-Wl,` split on commas, or one `-Xlinker` value):
/// the dropped options and libgcov ([`gcov_linker_item`], or `-l`/`--library` then a gcov
/// name) leave. `pending` carries what an item says of the next one ([`Pending`]) across
/// arguments; the item after `-l` is a library name, never read as an option. Err: the
/// refusal of an item ([`LdItem::Refuse`]).
fn linker_items<'s>(
    items: impl Iterator<Item = &'s str>,
    pending: &mut Option<Pending>,
) -> Result<Kept<'s>, String> {
    let mut kept = Kept::default();
    for item in items {
        match pending.take() {
            Some(Pending::Value(_)) => continue,
            Some(Pending::Library) if gcov_library(item) => {
                // The `-l` is this list's last kept item, or ended an earlier argument.
                if kept.items.pop().is_none() {
                    kept.retract = true;
                }
                continue;
            }
            Some(Pending::Library) => {
                kept.items.push(item);
                continue;
            }
            None => {}
        }
        if gcov_linker_item(item) {
            continue;
        }
        if library_option(item) {
            kept.items.push(item);
            *pending = Some(Pending::Library);
            continue;
        }
        match ld_option(item) {
            LdItem::Other => kept.items.push(item),
            LdItem::Drop => {}
            LdItem::DropWithNext(opt) => *pending = Some(Pending::Value(opt)),
            LdItem::Refuse(message) => return Err(message),
        }
    }
    Ok(kept)
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

/// The argument that takes the next one as its value, when the pair is decided together.
#[derive(Debug, Clone, Copy)]
enum Pair {
    /// `-Xlinker VALUE`: both pass, or both leave when the value is a dropped linker option.
    Xlinker,
    /// `-o FILE` under `-E`: both leave, and zig's stdout goes to FILE.
    Output,
    /// `-l NAMESPEC`: both leave when it names libgcov, else both pass.
    Library,
    /// `--target X` or `-target X` (the option as written): both leave when X is the
    /// wrapper's target ([`target_option`]).
    Target(&'static str),
}

/// What becomes of one argument.
#[derive(Debug)]
enum Decision {
    /// It passes to zig as it is.
    Keep,
    /// It (with the first of its pair, if any) is left out.
    Drop,
    /// This passes in its place (a `-Wl,` list with items dropped).
    Replace(OsString),
    /// It is the first of a [`Pair`]: the next argument decides for both.
    TakesNext(Pair),
    /// It is the second of a pair whose two arguments both pass.
    KeepPair,
    /// It (with the first of its pair, if any) is left out, and zig's stdout goes to this file
    /// (`None`: to stdout, `-o -`).
    Stdout(Option<PathBuf>),
    /// The call stops here: it is answered or refused.
    Stop(Action),
}

/// What the filter knows while it walks the arguments.
struct Walk<'a> {
    cx: &'a Context<'a>,
    /// `-E` is one of the driver's options.
    preprocess: bool,
    /// What the last linker item says of the next (across `-Wl,` and `-Xlinker` arguments).
    pending: Option<Pending>,
    /// Set by an argument that ends with `-l`/`--library` ([`Pending::Library`]): what passes
    /// in its place if the library turns out to be libgcov ([`Held`]).
    hold: Option<Option<OsString>>,
    /// Set by an argument whose first linker item names libgcov for the held `-l`.
    retract: bool,
}

impl Walk<'_> {
    /// The decision for `arg`, the first or only argument of its kind; `next` is the argument
    /// after it (for `-I DIR`, whose folder the leak guard looks at too).
    fn single(&mut self, arg: &OsStr, next: Option<&OsString>) -> Decision {
        let Some(a) = arg.to_str() else {
            return Decision::Keep;
        };
        if let Some(refusal) = self.refusal(a, next) {
            return Decision::Stop(refusal);
        }
        if let Some(tool) = a.strip_prefix("-print-prog-name=")
            && OUR_TOOLS.contains(&tool)
        {
            let wrapper = self.cx.dir.join(format!("{}-{tool}", self.cx.triple));
            return Decision::Stop(Action::Answer(wrapper.display().to_string()));
        }
        if DROP_DRIVER.contains(&a) || coverage(a) {
            return Decision::Drop;
        }
        if let Some(&option) = TARGET_OPTIONS.iter().find(|&&o| o == a) {
            return Decision::TakesNext(Pair::Target(option));
        }
        if let Some(value) = a.strip_prefix("--target=") {
            return target_option(self.cx, a, value);
        }
        if a == "-l" {
            return Decision::TakesNext(Pair::Library);
        }
        if let Some(list) = a.strip_prefix("-Wl,") {
            let items = list.split(',').count();
            let kept = match linker_items(list.split(','), &mut self.pending) {
                Ok(kept) => kept,
                Err(message) => return Decision::Stop(Action::Refuse(message)),
            };
            self.retract |= kept.retract;
            let kept = kept.items;
            if let (Some(Pending::Library), [rest @ .., _]) = (self.pending, &kept[..]) {
                self.hold =
                    Some((!rest.is_empty()).then(|| format!("-Wl,{}", rest.join(",")).into()));
            }
            return if kept.is_empty() {
                Decision::Drop
            } else if kept.len() == items {
                Decision::Keep
            } else {
                Decision::Replace(format!("-Wl,{}", kept.join(",")).into())
            };
        }
        if a == "-Xlinker" {
            return Decision::TakesNext(Pair::Xlinker);
        }
        if self.preprocess {
            if a == "-o" {
                return Decision::TakesNext(Pair::Output);
            }
            if let Some(file) = a.strip_prefix("-o").filter(|f| !f.is_empty()) {
                return output(Path::new(file));
            }
        }
        Decision::Keep
    }

    /// The decision for `value`, the second argument of `pair`.
    fn second(&mut self, pair: Pair, value: &OsStr) -> Decision {
        match (pair, value.to_str()) {
            (Pair::Xlinker, Some(v)) => {
                let kept = match linker_items(std::iter::once(v), &mut self.pending) {
                    Ok(kept) => kept,
                    Err(message) => return Decision::Stop(Action::Refuse(message)),
                };
                self.retract |= kept.retract;
                if kept.items.is_empty() {
                    Decision::Drop
                } else {
                    if matches!(self.pending, Some(Pending::Library)) {
                        self.hold = Some(None);
                    }
                    Decision::KeepPair
                }
            }
            (Pair::Xlinker, None) => Decision::KeepPair,
            (Pair::Library, Some(v)) if gcov_library(v) => Decision::Drop,
            (Pair::Library, _) => Decision::KeepPair,
            (Pair::Output, _) => output(Path::new(value)),
            (Pair::Target(option), value) => {
                let value = value.unwrap_or_default();
                target_option(self.cx, &format!("{option} {value}"), value)
            }
        }
    }

    /// Why `a` (with `next`, for the separate forms `-I DIR`) cannot go to zig at all: a host
    /// folder.
    fn refusal(&self, a: &str, next: Option<&OsString>) -> Option<Action> {
        if matches!(a, "-I" | "-L" | "-isystem")
            && let Some(next) = next.and_then(|n| n.to_str())
        {
            let joined = format!("{a}{next}");
            if host_path(&joined, self.cx.multiarch) {
                return Some(leak(&joined));
            }
        }
        if host_path(a, self.cx.multiarch) {
            return Some(leak(a));
        }
        None
    }
}

/// The refusal of a dropped linker option that ends the arguments without its value (ld
/// would refuse it too).
fn missing_value(opt: &LdOption) -> String {
    let value = match opt.takes {
        Takes::Value(v) => v,
        Takes::Nothing => "value",
    };
    format!(
        "linker option `{}` lacks its {value} (nothing follows it); the wrapper drops it (a \
         static executable has no dynamic symbols) when written {}",
        opt.display(),
        opt.spellings()
    )
}

/// `-o FILE` under `-E`: zig's stdout goes to FILE (`-o -` is stdout, where zig writes anyway).
fn output(file: &Path) -> Decision {
    Decision::Stdout((file != Path::new("-")).then(|| file.to_owned()))
}

/// The arguments that ended with `-l`/`--library` ([`Pending::Library`]), already in the
/// output at `range`: when the next linker item names libgcov, `instead` takes their place
/// (the `-Wl,` list without its last item, or nothing).
#[derive(Debug)]
struct Held {
    range: std::ops::Range<usize>,
    instead: Option<OsString>,
}

/// What the wrapper does with `args` (the arguments after the wrapper's name): each argument
/// is decided on its own ([`Walk::single`]), or with the one after it when it is the first of
/// a [`Pair`]; a pair's first half with nothing after it passes as it is.
pub fn filter(cx: &Context, args: &[OsString]) -> Action {
    let mut walk = Walk {
        cx,
        preprocess: preprocessing(args),
        pending: None,
        hold: None,
        retract: false,
    };
    let mut out: Vec<OsString> = Vec::with_capacity(args.len());
    let mut held: Option<Held> = None;
    let mut stdout = None;
    let mut first_of_pair: Option<(Pair, &OsString)> = None;
    let nexts = args.iter().skip(1).map(Some).chain([None]);
    for (arg, next) in args.iter().zip(nexts) {
        let first = first_of_pair.take();
        let decision = match first {
            Some((pair, _)) => walk.second(pair, arg),
            None => walk.single(arg, next),
        };
        if std::mem::take(&mut walk.retract)
            && let Some(h) = held.take()
        {
            out.splice(h.range, h.instead);
        }
        let start = out.len();
        match decision {
            Decision::Keep => out.push(arg.clone()),
            Decision::Drop => {}
            Decision::Replace(with) => out.push(with),
            Decision::TakesNext(pair) => first_of_pair = Some((pair, arg)),
            Decision::KeepPair => {
                out.extend(first.map(|(_, first)| first.clone()));
                out.push(arg.clone());
            }
            Decision::Stdout(file) => stdout = file,
            Decision::Stop(action) => return action,
        }
        if let Some(instead) = walk.hold.take() {
            held = Some(Held {
                range: start..out.len(),
                instead,
            });
        }
    }
    if let Some((_, first)) = first_of_pair {
        out.push(first.clone());
    }
    if let Some(Pending::Value(opt)) = walk.pending {
        return Action::Refuse(missing_value(opt));
    }
    let mut level = last_level(args);
    if level.is_none()
        && let Some(job) = cx.level
        && super::launcher::scan(&out).links
    {
        out.push(job.into());
        level = Some(job);
    }
    if level == Some("-Oz") {
        out.extend(["-Xclang".into(), "-Oz".into()]);
    }
    Action::Run { args: out, stdout }
}

/// The last optimisation level of a line (`-O`, `-O0` to `-O3`, `-Os`, `-Oz`, `-Ofast`, `-Og`):
/// the one clang and zig follow.
fn last_level(args: &[OsString]) -> Option<&str> {
    args.iter()
        .filter_map(|a| a.to_str())
        .rfind(|a| is_level(a))
}
