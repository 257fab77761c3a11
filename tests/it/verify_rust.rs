//! `recipe verify` and `recipe check` on real Rust binaries, built here with the pinned rustc
//! (`toolchains/rust.toml`, from the shared test cache): for glibc, rustc's default target (one
//! of them linking OpenSSL), and static musl against std's cached sysroot.

use std::path::{Path, PathBuf};
use std::process::Command;

use recipe::arch::Arch;
use recipe::toolchain::Rust;
use recipe::toolchain::rust_std::{Panic, provision_std, sysroot_dir};
use recipe::toolchain::spec::RustSpec;
use serde_json::Value;

use crate::util::{recipe, run, shared_cache, skip};

/// The pinned Rust from the shared test cache. Installing it (145 MB from the Debian mirror)
/// happens with `RECIPE_REAL_RUST` set or under CI only (where failing to is a failure); else
/// the test is skipped.
fn pinned_rust() -> Option<Rust> {
    let spec = RustSpec::load(None).unwrap();
    let cache = shared_cache();
    let installed = recipe::cache::Layout::new(&cache)
        .toolchain("rust", &spec.debian_version)
        .is_dir();
    let install = ["RECIPE_REAL_RUST", "CI"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if !installed && !install {
        skip("the pinned Rust is not in the test cache (RECIPE_REAL_RUST=1 installs it, 145 MB)");
        return None;
    }
    let mirror = recipe::source::debian_mirror().unwrap();
    let rust = recipe::toolchain::provision_rust(&spec, &cache, &mirror, &mut |m| eprintln!("{m}"));
    Some(rust.unwrap())
}

/// `rustc ARGS -o DIR/NAME DIR/NAME.rs` for `source`, with the host's linker (`cc`) unless the
/// arguments name one; the binary's path.
fn rustc(rust: &Rust, dir: &Path, name: &str, source: &str, args: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.rs"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(name);
    let o = Command::new(&rust.rustc)
        .envs(rust.env.iter().map(|(k, v)| (k, v)))
        .args(["--edition=2021", "-O", "-C", "strip=symbols"])
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "rustc {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

const HELLO: &str = "fn main() {\n    println!(\"hello from Rust\");\n}\n";

/// Calls into libssl and libcrypto, as openssl-sys does.
const OPENSSL: &str = r#"extern "C" {
    fn OPENSSL_init_ssl(opts: u64, settings: *const u8) -> i32;
    fn OpenSSL_version_num() -> u64;
}

fn main() {
    let ok = unsafe { OPENSSL_init_ssl(0, std::ptr::null()) };
    println!("{ok} {:x}", unsafe { OpenSSL_version_num() });
}
"#;

/// A Rust program for glibc (rustc's default target) is dynamic: verify names its rustc and
/// panic strategy, and check tells it to build for the musl target and, for the one linking
/// OpenSSL, to use openssl-sys's `vendored` feature or rustls.
#[test]
fn a_glibc_rust_program_is_told_to_build_for_musl() {
    let Some(rust) = pinned_rust() else { return };
    let multiarch = Arch::build_machine().info().multiarch;
    let libssl = Path::new("/usr/lib").join(multiarch).join("libssl.so.3");
    if !libssl.is_file() {
        // panics under CI: libssl3 is required there
        skip(&format!(
            "{} is missing (apt-get install libssl3)",
            libssl.display()
        ));
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let hello = rustc(&rust, t.path(), "hello", HELLO, &[]);
    let openssl = rustc(
        &rust,
        t.path(),
        "openssl",
        OPENSSL,
        &[
            "-l",
            "dylib:+verbatim=libssl.so.3",
            "-l",
            "dylib:+verbatim=libcrypto.so.3",
        ],
    );

    let v = run(recipe().arg("verify").arg(&hello)).failure(1);
    assert!(v.stdout.contains(", dynamic-pie, glibc "), "{}", v.stdout);
    assert!(
        v.stdout
            .contains(&format!(", Rust {}, panic=unwind\n", rust.version)),
        "{}",
        v.stdout
    );
    let json = run(recipe().args(["verify", "--json"]).arg(&hello)).failure(1);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        json[0]["facts"]["rust"],
        serde_json::json!({"rustc_version": rust.version, "panic": "unwind"})
    );

    let c = run(recipe().arg("check").arg(&hello).arg(&openssl)).failure(1);
    let text = c.stdout.replace(&t.path().display().to_string(), "[ROOT]");
    insta::assert_snapshot!("glibc_rust_programs", text);
}

/// A Rust program built for the musl target against std's sysroot, linked by zig: static musl
/// as a C program is, with `panic = "abort"` told from its bytes. Runs when the sysroot is in
/// the test cache, or with `RECIPE_REAL_RUST=all`, which builds it (a few minutes).
#[test]
fn a_static_musl_rust_program_is_static_musl() {
    let Some(rust) = pinned_rust() else { return };
    let arch = Arch::Amd64;
    let cache = shared_cache();
    let sysroot = sysroot_dir(&rust, &cache, arch, Panic::Abort);
    if !sysroot.is_dir() && std::env::var("RECIPE_REAL_RUST").ok().as_deref() != Some("all") {
        // Not under CI either, as the std test (rust_toolchain.rs): building std takes minutes.
        if std::env::var_os("CI").is_none() {
            skip("std for x86_64 musl is not in the test cache (RECIPE_REAL_RUST=all builds it)");
        }
        return;
    }
    let sandbox = recipe::sandbox::Sandbox::On {
        exe: crate::util::recipe_bin(),
    };
    let sysroot = provision_std(&rust, &cache, arch, Panic::Abort, &sandbox, &mut |m| {
        eprintln!("{m}")
    })
    .unwrap()
    .dir;
    let Some(zig) = crate::verify::zig() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let triple = arch.info().triple;
    let linker = t.path().join("zig-cc");
    std::fs::write(
        &linker,
        format!(
            "#!/bin/sh\nexport ZIG_GLOBAL_CACHE_DIR={}\nexec {} cc -target {triple} \"$@\"\n",
            cache.join("zig").join(triple).display(),
            zig.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&linker, std::fs::Permissions::from_mode(0o755)).unwrap();
    let linker = format!("linker={}", linker.display());
    let sysroot = sysroot.display().to_string();
    let bin = rustc(
        &rust,
        t.path(),
        "hello",
        HELLO,
        &[
            "--target",
            arch.info().rust_target,
            "--sysroot",
            &sysroot,
            "-C",
            "panic=abort",
            "-C",
            "target-feature=+crt-static",
            "-C",
            "link-self-contained=no",
            "-C",
            &linker,
        ],
    );
    run(recipe().args(["verify", "--arch", "amd64"]).arg(&bin))
        .success()
        .stdout_has(&format!(
            ": ok: ELF 64-bit x86-64, static, musl, Rust {}, panic=abort\n",
            rust.version
        ));
    run(recipe().arg("check").arg(&bin))
        .success()
        .stdout_has("distroless-ready              static executable");
}
