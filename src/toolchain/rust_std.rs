//! std for a musl target, prebuilt once per (toolchain, target, panic strategy) into the cache
//! and given to rustc as `--sysroot`: Debian ships std for the build machine only.
//!
//! The build: cargo `-Zbuild-std=std,panic_abort` of an empty `#![no_std]` library, offline,
//! with crates.io replaced by the crates std's source vendors (`library/vendor` of
//! `rust-web-src`), in the build sandbox (no network; only the toolchain tree, read-only, and
//! the build's own folder are seen besides the system folders). Its rlibs go to
//! `lib/rustlib/<target>/lib/` of the sysroot. Flags ([`STD_RUSTFLAGS`]): `+crt-static` (static
//! musl executables), `-C embed-bitcode=yes` (so apps built with LTO can use the rlibs; cargo
//! passes `embed-bitcode=no` otherwise), `-C link-self-contained=no`.
//!
//! The panic strategy is part of the key: cargo compiles every std crate, `panic_abort`
//! included, with the profile's strategy, and an app built with the other one is refused by
//! rustc.
//!
//! **Invariant:** as for the toolchain, the sysroot is built beside its place and placed by one
//! rename: present means complete. [`SYSROOT_REVISION`] is in its name: a change of how std is
//! built changes it, so an old sysroot is never taken for a new one.

use std::path::{Path, PathBuf};

use super::ToolchainError;
use super::rust::Rust;
use crate::arch::Arch;
use crate::sandbox::Sandbox;

/// Bumped whenever the way std is built changes (flags, features, assembly).
pub const SYSROOT_REVISION: u32 = 2;

/// The RUSTFLAGS std is built with (see the module doc).
pub const STD_RUSTFLAGS: &str =
    "-C link-self-contained=no -C target-feature=+crt-static -C embed-bitcode=yes";

/// How an app built against the sysroot handles a panic (cargo's `profile.*.panic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Panic {
    Unwind,
    Abort,
}

impl Panic {
    pub fn name(self) -> &'static str {
        match self {
            Panic::Unwind => "unwind",
            Panic::Abort => "abort",
        }
    }
}

/// A prebuilt std, ready for `--sysroot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysroot {
    /// The folder to give rustc as `--sysroot`.
    pub dir: PathBuf,
    /// Whether this call built it (false: the cache had it).
    pub built: bool,
}

/// Where the sysroot of (`rust`, `arch`, `panic`) lives in `cache` (pure).
pub fn sysroot_dir(rust: &Rust, cache: &Path, arch: Arch, panic: Panic) -> PathBuf {
    let install = rust
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("rust-{}", rust.version));
    crate::cache::Layout::new(cache).toolchains().join(format!(
        "{install}-std{SYSROOT_REVISION}-{}-{}",
        arch.info().rust_target,
        panic.name()
    ))
}

/// The sysroot's std for (`arch`, `panic`) from the cache, or built there now (see the module
/// doc); `sandbox` runs the build.
pub fn provision_std(
    rust: &Rust,
    cache: &Path,
    arch: Arch,
    panic: Panic,
    sandbox: &Sandbox,
    progress: &mut dyn FnMut(&str),
) -> Result<Sysroot, ToolchainError> {
    let dir = sysroot_dir(rust, cache, arch, panic);
    if dir.is_dir() {
        return Ok(Sysroot { dir, built: false });
    }
    progress(&format!(
        "building rust {}'s std for {} (panic = {}), once",
        rust.version,
        arch.info().rust_target,
        panic.name()
    ));
    build(rust, &dir, arch, panic, sandbox).map_err(|reason| ToolchainError::Rust {
        version: rust.version.clone(),
        reason: format!(
            "cannot build std for {} (panic = {}): {reason}",
            arch.info().rust_target,
            panic.name()
        ),
    })?;
    Ok(Sysroot { dir, built: true })
}

/// The files of the empty crate whose build builds std, and cargo's settings (crates.io is
/// std's vendored crates).
fn builder_files(rust: &Rust) -> [(&'static str, String); 3] {
    let vendor = rust.root.join("usr/lib/rustlib/src/rust/library/vendor");
    [
        (
            "builder/Cargo.toml",
            "[package]\nname = \"std-builder\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             [lib]\npath = \"lib.rs\"\n"
                .into(),
        ),
        ("builder/lib.rs", "#![no_std]\n".into()),
        (
            "cargo-home/config.toml",
            format!(
                "[source.crates-io]\nreplace-with = \"std-vendor\"\n\
                 [source.std-vendor]\ndirectory = \"{}\"\n",
                vendor.display()
            ),
        ),
    ]
}

/// Builds std in a folder beside `dir` and places its sysroot at `dir`.
fn build(
    rust: &Rust,
    dir: &Path,
    arch: Arch,
    panic: Panic,
    sandbox: &Sandbox,
) -> Result<(), String> {
    let tmp = crate::publish::temp_dir_beside(dir)
        .map_err(|e| format!("cannot create a folder beside `{}`: {e}", dir.display()))?;
    let work = tmp.path();
    for (file, text) in builder_files(rust) {
        let p = work.join(file);
        std::fs::create_dir_all(p.parent().unwrap_or(work))
            .and_then(|()| std::fs::write(&p, text))
            .map_err(|e| format!("cannot write `{}`: {e}", p.display()))?;
    }
    run_cargo(rust, work, arch, panic, sandbox)?;
    let target = arch.info().rust_target;
    let deps = work.join("target").join(target).join("release/deps");
    let lib = work.join("out/lib/rustlib").join(target).join("lib");
    std::fs::create_dir_all(&lib).map_err(|e| format!("cannot create `{}`: {e}", lib.display()))?;
    let mut rlibs = 0;
    for entry in
        std::fs::read_dir(&deps).map_err(|e| format!("cannot read `{}`: {e}", deps.display()))?
    {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".rlib") && !name.starts_with("libstd_builder-") {
            crate::publish::move_path(&path, &lib.join(&name))
                .map_err(|e| format!("cannot move `{}`: {e}", path.display()))?;
            rlibs += 1;
        }
    }
    if rlibs == 0 {
        return Err(format!("the build left no rlib in `{}`", deps.display()));
    }
    crate::publish::place_dir(&work.join("out"), dir)
        .map_err(|e| format!("cannot move the sysroot to `{}`: {e}", dir.display()))?;
    Ok(())
}

/// [`STD_RUSTFLAGS`] and the remapping of the toolchain's folder (`real_root`, and where it
/// was asked for) to where build steps see it, under the fixed cache path: std's panic
/// messages name its source files, and an app's bytes must not depend on where the cache is.
/// In cargo's encoding (separated by 0x1f), so that no path is split at a space.
fn encoded_rustflags(rust: &Rust, real_root: &Path) -> String {
    let name = rust
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let seen = crate::cache::Layout::new(Path::new(crate::plan::view::CACHE))
        .toolchains()
        .join(name);
    let mut flags: Vec<String> = STD_RUSTFLAGS.split(' ').map(String::from).collect();
    for from in [real_root, rust.root.as_path()] {
        flags.push(format!(
            "--remap-path-prefix={}={}",
            from.display(),
            seen.display()
        ));
    }
    flags.dedup();
    flags.join("\x1f")
}

/// Runs the std build in `work` through `sandbox` (no network, offline cargo).
fn run_cargo(
    rust: &Rust,
    work: &Path,
    arch: Arch,
    panic: Panic,
    sandbox: &Sandbox,
) -> Result<(), String> {
    let bin = rust.root.join("usr/bin");
    let argv: Vec<String> = [
        &rust.cargo.display().to_string(),
        "build",
        "--release",
        "--offline",
        "-Zbuild-std=std,panic_abort",
        "--target",
        arch.info().rust_target,
        "--target-dir",
        &work.join("target").display().to_string(),
    ]
    .map(String::from)
    .to_vec();
    // Seen where the caller sees it, taken from where it is (the cache may be a link).
    let real_root = rust
        .root
        .canonicalize()
        .unwrap_or_else(|_| rust.root.clone());
    let mounts = [
        crate::plan::view::Mount {
            real: real_root.clone(),
            seen: rust.root.clone(),
            writable: false,
        },
        crate::plan::view::Mount {
            real: work.to_path_buf(),
            seen: work.to_path_buf(),
            writable: true,
        },
    ];
    let mut cmd = sandbox.command(&argv, &mounts, &work.join("builder"));
    cmd.envs(rust.env.iter().map(|(k, v)| (k, v)))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", work)
        .env("CARGO_HOME", work.join("cargo-home"))
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", panic.name())
        .env(
            "CARGO_ENCODED_RUSTFLAGS",
            encoded_rustflags(rust, &real_root),
        )
        .env("CARGO_TERM_COLOR", "never");
    let out = crate::process::capture(
        &mut cmd,
        crate::process::Capture {
            timeout: Some(std::time::Duration::from_secs(3600)),
            merge: true,
            ..Default::default()
        },
    )
    .map_err(|e| format!("cannot run cargo: {e}"))?;
    if out.success() {
        return Ok(());
    }
    let text = out.stdout_text();
    let tail: Vec<&str> = text.lines().rev().take(20).collect();
    Err(format!(
        "`cargo build -Zbuild-std` {}:\n{}",
        match out.status {
            Some(status) => format!("failed ({status})"),
            None => "was killed after an hour".into(),
        },
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust(root: &str) -> Rust {
        Rust {
            rustc: PathBuf::from(root).join("usr/bin/rustc"),
            cargo: PathBuf::from(root).join("usr/bin/cargo"),
            version: "1.96.0".into(),
            env: Vec::new(),
            root: root.into(),
        }
    }

    /// std's source paths are remapped from wherever the cache is to the fixed cache path the
    /// build steps see, so the rlibs (and every app's panic messages) name no machine's folder.
    #[test]
    fn std_names_its_sources_under_the_fixed_cache_path() {
        let r = rust("/home/me/cache/toolchains/rust-1.96.0+dfsg1-1~deb12u2");
        let flags = encoded_rustflags(
            &r,
            Path::new("/mnt/disk/cache/toolchains/rust-1.96.0+dfsg1-1~deb12u2"),
        );
        let flags: Vec<&str> = flags.split('\x1f').collect();
        assert!(flags.contains(&"-Cembed-bitcode=yes") || flags.contains(&"embed-bitcode=yes"));
        for from in ["/home/me/cache", "/mnt/disk/cache"] {
            let want = format!(
                "--remap-path-prefix={from}/toolchains/rust-1.96.0+dfsg1-1~deb12u2=\
                 /recipe/cache/toolchains/rust-1.96.0+dfsg1-1~deb12u2"
            );
            assert!(flags.contains(&want.as_str()), "{flags:?}");
        }
    }

    /// One sysroot per toolchain install, target and panic strategy, beside the toolchain.
    #[test]
    fn the_sysroot_is_keyed_by_toolchain_target_and_panic_strategy() {
        let r = rust("/c/toolchains/rust-1.96.0+dfsg1-1~deb12u2");
        assert_eq!(
            sysroot_dir(&r, Path::new("/c"), Arch::Arm64, Panic::Abort),
            Path::new(
                "/c/toolchains/rust-1.96.0+dfsg1-1~deb12u2-std2-aarch64-unknown-linux-musl-abort"
            )
        );
        let dirs: std::collections::HashSet<PathBuf> = Arch::ALL
            .iter()
            .flat_map(|&a| {
                [Panic::Unwind, Panic::Abort].map(|p| sysroot_dir(&r, Path::new("/c"), a, p))
            })
            .collect();
        assert_eq!(dirs.len(), 6);
    }

    /// std's crates come from its own vendored sources: crates.io is replaced.
    #[test]
    fn cargo_reads_std_s_vendored_crates_only() {
        let files = builder_files(&rust("/t/rust"));
        let config = &files
            .iter()
            .find(|(f, _)| *f == "cargo-home/config.toml")
            .unwrap()
            .1;
        assert_eq!(
            config,
            "[source.crates-io]\nreplace-with = \"std-vendor\"\n[source.std-vendor]\n\
             directory = \"/t/rust/usr/lib/rustlib/src/rust/library/vendor\"\n"
        );
    }

    /// A toolchain in `dir` whose cargo is the shell script `body` (run as plain children).
    fn fake(dir: &Path, body: &str) -> Rust {
        use std::os::unix::fs::PermissionsExt;
        let r = rust(&dir.join("rust").display().to_string());
        std::fs::create_dir_all(r.cargo.parent().unwrap()).unwrap();
        std::fs::write(&r.cargo, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&r.cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        r
    }

    /// The build's rlibs (not the builder's own) become the sysroot, once: the second request
    /// takes it from the cache.
    #[test]
    fn std_is_built_once_and_then_reused() {
        let t = tempfile::tempdir().unwrap();
        let r = fake(
            t.path(),
            "while [ $# -gt 0 ]; do case $1 in --target) t=$2; shift;; --target-dir) d=$2; shift;; esac; shift; done\n\
             [ \"$RUSTC_BOOTSTRAP$CARGO_PROFILE_RELEASE_PANIC\" = 1unwind ] || exit 4\n\
             mkdir -p $d/$t/release/deps && cd $d/$t/release/deps && echo std > libstd-1.rlib && \\\n\
             echo own > libstd_builder-1.rlib && echo meta > libstd-1.rmeta\n",
        );
        let cache = t.path().join("cache");
        let mut said = Vec::new();
        let first = provision_std(
            &r,
            &cache,
            Arch::Amd64,
            Panic::Unwind,
            &Sandbox::Off,
            &mut |m| said.push(m.to_string()),
        )
        .unwrap();
        assert!(first.built);
        assert_eq!(
            said,
            ["building rust 1.96.0's std for x86_64-unknown-linux-musl (panic = unwind), once"]
        );
        let lib = first.dir.join("lib/rustlib/x86_64-unknown-linux-musl/lib");
        let names: Vec<_> = std::fs::read_dir(&lib)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["libstd-1.rlib"]);
        let second = provision_std(
            &r,
            &cache,
            Arch::Amd64,
            Panic::Unwind,
            &Sandbox::Off,
            &mut |m| panic!("{m}"),
        )
        .unwrap();
        assert_eq!(
            second,
            Sysroot {
                dir: first.dir,
                built: false
            }
        );
    }

    /// A failed build names cargo's status and output, and leaves nothing in the cache.
    #[test]
    fn a_failed_std_build_leaves_nothing() {
        let t = tempfile::tempdir().unwrap();
        let r = fake(t.path(), "echo 'error: no network'\nexit 101\n");
        let cache = t.path().join("cache");
        let e = provision_std(
            &r,
            &cache,
            Arch::Arm64,
            Panic::Abort,
            &Sandbox::Off,
            &mut |_| {},
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "cannot provision rust 1.96.0: cannot build std for aarch64-unknown-linux-musl \
             (panic = abort): `cargo build -Zbuild-std` failed (exit status: 101):\nerror: no network"
        );
        let left: Vec<_> = std::fs::read_dir(cache.join("toolchains"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
