//! Target programs that run on the build machine (pure): when a build step runs what it has
//! just linked (a configure script's test programs: nginx's `objs/autotest`, autoconf's
//! `AC_RUN_IFELSE`, hand-written configures), the wrapper links the executable to
//! `OUT.target` and writes at `OUT` a launcher that runs it under the arch's qemu-user
//! (`EMULATOR`). Only when the build asked for it ([`ENV`], set by `run-target-programs` for
//! the configure step) and only for a cross build (natively `EMULATOR` is empty and the
//! program runs as it is).
//!
//! A launcher that reaches an install is caught, never shipped: the build's verify step refuses
//! an app file that is one ([`is_launcher`]), and `recipe verify` says "not an ELF file: a
//! script".

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variable that switches launchers on (any non-empty value).
pub const ENV: &str = "RECIPE_RUN_TARGET_PROGRAMS";

/// What the suffix of the real executable beside its launcher is.
pub const SUFFIX: &str = ".target";

/// A link whose output becomes a launcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The arguments for zig: the output is [`Launch::target`].
    pub args: Vec<OsString>,
    /// Where the build expects the executable (`-o OUT`, or `a.out`): the launcher.
    pub out: PathBuf,
    /// Where the executable is linked: `OUT.target`.
    pub target: PathBuf,
}

/// Options whose value is the next argument (so that value is not an input file).
const TAKES_VALUE: &[&str] = &[
    "-o",
    "-I",
    "-L",
    "-D",
    "-U",
    "-l",
    "-u",
    "-T",
    "-e",
    "-z",
    "-x",
    "-MF",
    "-MT",
    "-MQ",
    "-include",
    "-imacros",
    "-isystem",
    "-iquote",
    "-idirafter",
    "-iprefix",
    "-iwithprefix",
    "-iwithprefixbefore",
    "-isysroot",
    "-Xlinker",
    "-Xassembler",
    "-Xpreprocessor",
    "-Xclang",
    "-target",
    "--sysroot",
    "-aux-info",
];

/// Options after which the driver stops before it links.
const NO_LINK: &[&str] = &["-c", "-S", "-E", "-M", "-MM", "-fsyntax-only", "-###"];

/// Options with which the driver links something else than an executable.
const NO_EXECUTABLE: &[&str] = &["-shared", "--shared", "-r"];

/// Linker options (in `-Wl,` lists or after `-Xlinker`) that make a non-executable output.
const NO_EXECUTABLE_LINKER: &[&str] =
    &["-r", "--relocatable", "-shared", "--shared", "-Bshareable"];

/// True when `out` names something else than an executable file: an object, an archive, a
/// shared library, a precompiled header, standard output or a device (`-o /dev/null`).
fn not_an_executable_name(out: &Path) -> bool {
    let s = out.to_string_lossy();
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    s == "-"
        || s.starts_with("/dev/")
        || name.is_empty()
        || [
            ".o", ".obj", ".lo", ".a", ".so", ".gch", ".pch", ".dylib", ".dll",
        ]
        .iter()
        .any(|ext| name.ends_with(ext))
        || name.contains(".so.")
}

/// What a compiler line does, as the wrapper's rules need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The driver links: no option that stops it before (`-c`, `-S`, `-E`, `-M`, `-MM`,
    /// `-fsyntax-only`, `-###`), and some input (a source, object, archive, `-` or `@FILE`).
    pub links: bool,
    /// ... and makes an executable: not `-shared` or `-r`, on the driver's line or the
    /// linker's.
    pub executable: bool,
    /// The last `-o`: the index of its value, and whether it is joined (`-oFILE`).
    output: Option<(usize, bool)>,
}

/// Reads a (filtered) compiler line ([`Line`]).
pub fn scan(args: &[OsString]) -> Line {
    let mut output: Option<(usize, bool)> = None;
    let (mut inputs, mut stops, mut not_executable) = (0, false, false);
    let mut i = 0;
    while i < args.len() {
        let Some(a) = args[i].to_str() else {
            inputs += 1;
            i += 1;
            continue;
        };
        stops |= NO_LINK.contains(&a);
        not_executable |= NO_EXECUTABLE.contains(&a);
        if let Some(list) = a.strip_prefix("-Wl,")
            && list.split(',').any(|o| NO_EXECUTABLE_LINKER.contains(&o))
        {
            not_executable = true;
        }
        if a == "-Xlinker"
            && args
                .get(i + 1)
                .and_then(|v| v.to_str())
                .is_some_and(|v| NO_EXECUTABLE_LINKER.contains(&v))
        {
            not_executable = true;
        }
        if a == "-o" {
            output = Some((i + 1, false));
            i += 1;
        } else if a.starts_with("-o") {
            output = Some((i, true));
        } else if TAKES_VALUE.contains(&a) {
            i += 1;
        } else if a == "-" || !a.starts_with('-') {
            // A source, object or archive; `@FILE` (a response file) counts as input too.
            inputs += 1;
        }
        i += 1;
    }
    let links = !stops && inputs > 0;
    Line {
        links,
        executable: links && !not_executable,
        output,
    }
}

/// The launch plan for a compiler call with (filtered) `args`, or None to run it as it is.
/// `enabled` is [`ENV`] being set; `emulator` the build's `EMULATOR` (empty natively).
pub fn plan(args: &[OsString], enabled: bool, emulator: &str) -> Option<Launch> {
    if !enabled || emulator.is_empty() {
        return None;
    }
    let line = scan(args);
    if !line.executable {
        return None;
    }
    let mut args = args.to_vec();
    let out = match line.output {
        Some((at, joined)) => {
            let given = args.get(at)?;
            let out = if joined {
                PathBuf::from(given.to_str()?.strip_prefix("-o")?)
            } else {
                PathBuf::from(given)
            };
            if not_an_executable_name(&out) {
                return None;
            }
            let target = with_suffix(&out);
            args[at] = if joined {
                let mut j = OsString::from("-o");
                j.push(&target);
                j
            } else {
                target.into_os_string()
            };
            out
        }
        None => {
            let out = PathBuf::from("a.out");
            args.push("-o".into());
            args.push(with_suffix(&out).into_os_string());
            out
        }
    };
    let target = with_suffix(&out);
    Some(Launch { args, out, target })
}

fn with_suffix(out: &Path) -> PathBuf {
    let mut t = out.as_os_str().to_owned();
    t.push(SUFFIX);
    PathBuf::from(t)
}

/// A shell word ([`crate::text::shell_word`]), so that any text survives.
fn quote(s: &str) -> String {
    crate::text::shell_word(s)
}

/// The first two lines of every launcher ([`is_launcher`] knows one by them).
const HEAD: &str = "#!/bin/sh\n# generated by recipe (RECIPE_RUN_TARGET_PROGRAMS): runs a target program under qemu-user\n";

/// The launcher's text: runs `target` (an absolute path) under `emulator` with the launcher's
/// own arguments.
pub fn script(emulator: &str, target: &Path) -> String {
    format!(
        "{HEAD}exec {} {} \"$@\"\n",
        quote(emulator),
        quote(&target.display().to_string())
    )
}

/// True when `bytes` are a launcher's: an app file that is one was linked while
/// `RECIPE_RUN_TARGET_PROGRAMS` was set (it runs a program of the build folder, through the
/// build machine's qemu), which the build's verify step refuses.
pub fn is_launcher(bytes: &[u8]) -> bool {
    bytes.starts_with(HEAD.as_bytes())
}
