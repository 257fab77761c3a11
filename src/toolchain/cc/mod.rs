//! Wrapper mode: the `recipe` executable run as a target's C or C++ compiler. The generated
//! `<triple>-cc`/`<triple>-c++` files ([`super::wrappers`]) exec `recipe __recipe-cc DRIVER
//! ARCH ZIG WRAPPER ARGS...`; `main` calls [`main_if_wrapper`] before anything else, so a
//! compile (build systems run thousands) starts no watchdog, no signal thread and no CLI. The
//! arguments go through [`filter::filter`], then zig replaces this process (`exec`), but for
//! `-E -o FILE`, where zig runs as a child with its stdout sent to FILE, and for the link of
//! an executable that the build will run ([`launcher`]: `RECIPE_RUN_TARGET_PROGRAMS` in a cross
//! build), where zig links `OUT.target` as a child and the wrapper writes a launcher at `OUT`.

pub mod filter;
pub mod launcher;
#[cfg(test)]
mod revision_tests;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::path::Path;

use crate::arch::Arch;

/// The first argument that selects wrapper mode.
pub const MODE: &str = "__recipe-cc";

/// The revision of what the wrappers do to a compile or link line, in the key of every job
/// that compiles with zig: a change to [`filter::filter`] that changes what zig gets for some
/// line bumps it, so that no cache entry built under the old rules is reused (a machine with
/// the new rules would build other bytes under the same key). 2: `-Oz` reaches clang. 3: a
/// link line that names no level gets the job's ([`filter::Context::level`]). A unit
/// test digests what the filter gives for a corpus of lines under each revision, so a change
/// that forgets the bump fails it.
pub const REVISION: u32 = 3;

/// Runs wrapper mode and returns its exit code when the first argument is [`MODE`]; `None`
/// for every other command line.
pub fn main_if_wrapper() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != MODE {
        return None;
    }
    Some(run(args.collect()))
}

/// Wrapper mode on `DRIVER ARCH ZIG WRAPPER ARGS...` (`DRIVER` is `cc` or `c++`; `WRAPPER` the
/// generated file's own path, whose folder holds the sibling wrappers).
fn run(args: Vec<OsString>) -> i32 {
    let [driver, arch, zig, me, rest @ ..] = args.as_slice() else {
        eprintln!("recipe: {MODE} needs DRIVER ARCH ZIG WRAPPER before the compiler's arguments");
        return 2;
    };
    let Some(arch) = arch.to_str().and_then(|a| a.parse::<Arch>().ok()) else {
        eprintln!("recipe: {MODE}: unknown arch `{}`", arch.to_string_lossy());
        return 2;
    };
    let info = arch.info();
    let multiarch: Vec<&str> = Arch::ALL.iter().map(|a| a.info().multiarch).collect();
    let dir = Path::new(me).parent().unwrap_or(Path::new("."));
    let level = std::env::var(filter::LEVEL_ENV)
        .ok()
        .filter(|l| filter::is_level(l));
    let cx = filter::Context {
        triple: info.triple,
        rust_target: info.rust_target,
        dir,
        multiarch: &multiarch,
        level: level.as_deref(),
    };
    match filter::filter(&cx, rest) {
        filter::Action::Answer(line) => {
            println!("{line}");
            0
        }
        filter::Action::Refuse(message) => {
            eprintln!("recipe: {message}");
            1
        }
        filter::Action::Run { args, stdout } => {
            let mut cmd = crate::process::compiler(zig);
            cmd.arg(driver).arg("-target").arg(info.triple);
            if let Some(cpu) = info.zig_cpu {
                cmd.arg(format!("-mcpu={cpu}"));
            }
            if stdout.is_none() {
                let enabled = std::env::var_os(launcher::ENV).is_some_and(|v| !v.is_empty());
                let emulator = std::env::var("EMULATOR").unwrap_or_default();
                if let Some(plan) = launcher::plan(&args, enabled, &emulator) {
                    cmd.args(&plan.args);
                    return link_and_launch(&mut cmd, zig, &plan, &emulator);
                }
            }
            cmd.args(args);
            let Some(file) = stdout else {
                let e = crate::process::exec(&mut cmd);
                eprintln!(
                    "recipe: cannot run `{}`: {e}",
                    crate::text::path(Path::new(zig))
                );
                return 127;
            };
            let out = match std::fs::File::create(&file) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("recipe: cannot write `{}`: {e}", crate::text::path(&file));
                    return 1;
                }
            };
            cmd.stdout(out);
            run_child(&mut cmd, zig)
        }
    }
}

/// Runs zig as a child to its end: its exit code (128 + the signal when killed), or 127 when
/// it cannot start.
fn run_child(cmd: &mut std::process::Command, zig: &OsString) -> i32 {
    match crate::process::run_compiler(cmd) {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
        }
        Err(e) => {
            eprintln!(
                "recipe: cannot run `{}`: {e}",
                crate::text::path(Path::new(zig))
            );
            127
        }
    }
}

/// Links `plan.target` with `cmd` (zig), then writes the launcher at `plan.out`. A failed link
/// leaves neither file, as a failed link of `OUT` leaves no `OUT`.
fn link_and_launch(
    cmd: &mut std::process::Command,
    zig: &OsString,
    plan: &launcher::Launch,
    emulator: &str,
) -> i32 {
    let code = run_child(cmd, zig);
    if code != 0 {
        let _ = std::fs::remove_file(&plan.out);
        let _ = std::fs::remove_file(&plan.target);
        return code;
    }
    let target = match std::path::absolute(&plan.target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "recipe: cannot resolve `{}`: {e}",
                crate::text::path(&plan.target)
            );
            return 1;
        }
    };
    match write_launcher(&plan.out, &launcher::script(emulator, &target)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!(
                "recipe: cannot write the launcher `{}`: {e}",
                crate::text::path(&plan.out)
            );
            1
        }
    }
}

/// Writes `text` at `out` as an executable file, through a temporary file renamed into place.
fn write_launcher(out: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".recipe-launcher.")
        .tempfile_in(dir)?;
    std::fs::write(tmp.path(), text)?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))?;
    crate::publish::persist(tmp.into_temp_path(), out)?;
    Ok(())
}
