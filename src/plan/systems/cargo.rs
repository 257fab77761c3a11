//! `cargo`: `cargo build --release --offline --frozen --target <the arch's musl target>` with
//! the pinned Rust (`toolchains/rust.toml`), zig's wrappers as the linker and as the C compiler
//! of `cc`-crate builds, then the binaries copied to `${DESTDIR}/usr/local/bin/`.
//!
//! What the plan leaves to the executor (both depend on the unpacked source): the crates of
//! `Cargo.lock`, vendored into [`VENDOR`] beside the source, and cargo's configuration in
//! [`CARGO_HOME`]`/config.toml`: crates.io replaced by that folder, and `rustflags` with the
//! `--sysroot` of std prebuilt for the package's release `panic` strategy
//! ([`crate::toolchain::rust_std`]). The recipe's `env` may not set `RUSTFLAGS`, which would
//! replace them (the loader refuses it).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::Shared;
use crate::arch::Arch;
use crate::plan::{PREFIX, PlanError, Step};

/// The vendor folder, in the job's folder.
pub const VENDOR: &str = "vendor";
/// `CARGO_HOME`, in the job's folder.
pub const CARGO_HOME: &str = "cargo-home";
/// What the `metadata` step writes (`cargo metadata`'s JSON), in the job's folder.
pub const METADATA: &str = "cargo-metadata.json";
/// cargo's target folder, in the job's folder.
const TARGET_DIR: &str = "target";

/// The unpacked Rust toolchain under the cache `cache` (as the steps see it).
pub fn rust_root(cache: &std::path::Path, version: &str) -> PathBuf {
    crate::cache::Layout::new(cache).toolchain("rust", version)
}

pub(super) fn steps(b: &Shared) -> Result<Vec<Step>, PlanError> {
    let s = |x: &str| x.to_string();
    let env = environment(b);
    let target = b.arch.info().rust_target;
    let mut build = vec![
        s("cargo"),
        s("build"),
        s("--release"),
        s("--offline"),
        s("--frozen"),
        s("--target"),
        s(target),
    ];
    if !b.ctx.jobserver {
        build.push(format!("--jobs={}", b.jobs));
    }
    for bin in &b.o.bins {
        build.extend([s("--bin"), bin.clone()]);
    }
    let mut selection = Vec::new();
    if !b.o.features.is_empty() {
        selection.extend([s("--features"), b.o.features.join(",")]);
    }
    if b.o.no_default_features {
        selection.push(s("--no-default-features"));
    }
    build.extend(selection.iter().cloned());
    // The package as cargo resolves it for this target and these features: the SBOM's crates.
    let metadata = [
        "cargo",
        "metadata",
        "--format-version",
        "1",
        "--offline",
        "--frozen",
        "--filter-platform",
        target,
    ]
    .into_iter()
    .map(s)
    .chain(selection)
    .map(|a| super::super::shell_quote(&a))
    .collect::<Vec<_>>()
    .join(" ");
    let metadata = format!(
        "{metadata} > {}",
        super::super::shell_quote(&b.l.work.join(METADATA).display().to_string())
    );
    let out = b.l.work.join(TARGET_DIR).join(target).join("release");
    let bin_dir = format!("{}{PREFIX}/bin", b.dest);
    // Every binary cargo built is an executable file right in `release/` (build scripts and
    // dependencies' files are in folders or not executable).
    let copy = if b.o.bins.is_empty() {
        format!(
            "mkdir -p {dir} && find {out} -maxdepth 1 -type f -perm -u+x -exec cp {{}} {dir}/ \\;",
            dir = super::super::shell_quote(&bin_dir),
            out = super::super::shell_quote(&out.display().to_string()),
        )
    } else {
        let files: Vec<String> =
            b.o.bins
                .iter()
                .map(|n| super::super::shell_quote(&out.join(n).display().to_string()))
                .collect();
        format!(
            "mkdir -p {dir} && cp {} {dir}/",
            files.join(" "),
            dir = super::super::shell_quote(&bin_dir)
        )
    };
    Ok(vec![
        b.run("metadata", vec![s("sh"), s("-euc"), metadata], &env, &b.cwd),
        b.run("build", build, &env, &b.cwd),
        b.run("install", vec![s("sh"), s("-euc"), copy], &env, &b.cwd),
    ])
}

/// The shared environment without the C build's generic tools and flags (cc-rs would give
/// them to host builds too), with the Rust toolchain first on PATH, cargo's folders in the job's folder,
/// and zig's wrappers as the target's linker and C/C++ compilers.
fn environment(b: &Shared) -> BTreeMap<String, String> {
    let mut env = b.env.clone();
    // cc-rs falls back to the generic names for the build machine's own code (build scripts'
    // C): they would be the target's wrappers and flags. The target's are set by name below.
    for k in [
        "CC", "CXX", "AR", "RANLIB", "STRIP", "CFLAGS", "CXXFLAGS", "LDFLAGS", "CPPFLAGS",
    ] {
        env.remove(k);
    }
    let root = rust_root(&b.l.cache, &b.ctx.rust_version);
    let usr = root.join("usr");
    let lib = usr.join("lib").join(Arch::build_machine().info().multiarch);
    let path = env.get("PATH").cloned().unwrap_or_default();
    let target = b.arch.info().rust_target;
    let under = target.replace('-', "_");
    let upper = under.to_ascii_uppercase();
    let w = &b.w;
    let vars = [
        ("PATH", format!("{}:{path}", usr.join("bin").display())),
        ("LD_LIBRARY_PATH", lib.display().to_string()),
        (
            "CARGO_HOME",
            b.l.work.join(CARGO_HOME).display().to_string(),
        ),
        (
            "CARGO_TARGET_DIR",
            b.l.work.join(TARGET_DIR).display().to_string(),
        ),
        ("CARGO_TERM_COLOR", "never".into()),
        ("CARGO_TERM_PROGRESS_WHEN", "never".into()),
        ("CARGO_INCREMENTAL", "0".into()),
        (
            &format!("CARGO_TARGET_{upper}_LINKER"),
            w.cc.display().to_string(),
        ),
        (&format!("CC_{under}"), w.cc.display().to_string()),
        (&format!("CXX_{under}"), w.cxx.display().to_string()),
        (&format!("AR_{under}"), w.ar.display().to_string()),
        (&format!("CFLAGS_{under}"), b.cflags.join(" ")),
        (&format!("CXXFLAGS_{under}"), b.cflags.join(" ")),
    ];
    for (k, v) in vars {
        env.insert(k.to_string(), v);
    }
    // The recipe's own env has the last word (but for RUSTFLAGS, refused when loading).
    for (k, v) in &b.o.env {
        if let Ok(v) = super::substitute(v, &b.vars) {
            env.insert(k.clone(), v);
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use crate::arch::Arch;
    use crate::plan::Step;
    use crate::recipe::{Options, System};

    fn steps(o: &Options, arch: Arch) -> Vec<crate::plan::Command> {
        let (ctx, l) = (
            super::super::tests::context(),
            super::super::tests::layout(),
        );
        super::super::steps(System::Cargo, o, arch, &ctx, &l)
            .unwrap()
            .into_iter()
            .map(|s| match s {
                Step::Run(c) => c,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// metadata, an offline frozen release build for the arch's musl target with the recipe's
    /// selection, and the copy of the named binaries; zig's wrappers link and compile C for the
    /// target only, and the generic C flags are not given (cc-rs would use them for host code).
    #[test]
    fn a_cargo_build_is_offline_frozen_for_the_musl_target_with_the_selection() {
        let o = Options {
            bins: vec!["app".into()],
            features: vec!["tls".into(), "serde/derive".into()],
            no_default_features: true,
            ..Options::default()
        };
        let cmds = steps(&o, Arch::Armv7);
        let names: Vec<&str> = cmds.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["metadata", "build", "install"]);
        assert_eq!(
            cmds[1].argv,
            [
                "cargo",
                "build",
                "--release",
                "--offline",
                "--frozen",
                "--target",
                "armv7-unknown-linux-musleabihf",
                "--bin",
                "app",
                "--features",
                "tls,serde/derive",
                "--no-default-features"
            ]
        );
        assert!(cmds[0].argv[2].contains("--filter-platform armv7-unknown-linux-musleabihf --features tls,serde/derive --no-default-features > /w/cargo-metadata.json"), "{:?}", cmds[0].argv);
        assert_eq!(
            cmds[2].argv[2],
            "mkdir -p /w/dest/usr/local/bin && cp /w/target/armv7-unknown-linux-musleabihf/release/app /w/dest/usr/local/bin/"
        );
        let env = &cmds[1].env;
        assert_eq!(env["CARGO_HOME"], "/w/cargo-home");
        assert!(env["CARGO_TARGET_ARMV7_UNKNOWN_LINUX_MUSLEABIHF_LINKER"].ends_with("-cc"));
        assert!(env.contains_key("CC_armv7_unknown_linux_musleabihf"));
        for generic in ["CC", "CXX", "AR", "CFLAGS", "LDFLAGS"] {
            assert!(
                !env.contains_key(generic),
                "{generic} would reach host builds"
            );
        }
        assert!(env["PATH"].starts_with("/cache/toolchains/rust-1.96.0+dfsg1-1~deb12u2/usr/bin:"));
    }

    /// Without `bins`, every executable cargo left in `release/` is installed.
    #[test]
    fn without_bins_every_binary_is_installed() {
        let cmds = steps(&Options::default(), Arch::Amd64);
        assert!(
            cmds[2].argv[2].contains("-maxdepth 1 -type f -perm -u+x"),
            "{:?}",
            cmds[2].argv
        );
        assert!(!cmds[1].argv.contains(&"--bin".to_string()));
    }
}
