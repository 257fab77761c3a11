//! Provisioning Rust from Debian's packages (`toolchains/rust.toml`): from a fake mirror on
//! 127.0.0.1 serving small .debs built here, and (behind `RECIPE_REAL_RUST`, see
//! [`the_real_pinned_toolchain_runs`]) the real pinned set from the Debian mirror.

use std::path::Path;

use recipe::arch::Arch;
use recipe::debian::mirror::Mirror;
use recipe::testing::ar;
use recipe::toolchain::rust_std::{Panic, Sysroot, provision_std};
use recipe::toolchain::spec::RustSpec;
use recipe::toolchain::{Rust, ToolchainError, provision_rust};

use crate::util::{serve, sha, skip};

/// A .deb whose data is `files` (path, text, mode) under `./`, as a gzipped tar.
fn deb(files: &[(&str, &str, u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, text, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(*mode);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, format!("./{path}"), text.as_bytes())
            .unwrap();
    }
    let data = b.into_inner().unwrap().finish().unwrap();
    ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.gz", b"not read"),
        ("data.tar.gz", &data),
    ])
}

const RUSTC_PATH: &str = "/debian-security/pool/updates/main/r/rustc-web/rustc-web_1_amd64.deb";
const CARGO_PATH: &str = "/debian/pool/main/c/cargo-web/cargo-web_1_amd64.deb";

/// The two fake packages: rustc (a script that reports release 1.2.3 when its library folder
/// is on LD_LIBRARY_PATH) with its library, and cargo.
fn fake_debs() -> (Vec<u8>, Vec<u8>) {
    let lib = format!("usr/lib/{}/librustc_driver.so", multiarch());
    let rustc = "#!/bin/sh\ncase \"$LD_LIBRARY_PATH\" in */usr/lib/*) ;; *) exit 3;; esac\n\
                 echo 'rustc 1.2.3 (fake)'\necho 'release: 1.2.3'\n";
    (
        deb(&[("usr/bin/rustc", rustc, 0o755), (&lib, "driver", 0o644)]),
        deb(&[("usr/bin/cargo", "#!/bin/sh\necho cargo\n", 0o755)]),
    )
}

fn multiarch() -> &'static str {
    Arch::build_machine().info().multiarch
}

/// A `rust.toml` for the fake packages; `cargo_sha256` is what it pins for cargo's .deb.
fn spec(rustc: &[u8], cargo: &[u8], cargo_sha256: &str) -> RustSpec {
    let text = format!(
        "name = \"rust\"\nversion = \"1.2.3\"\ndebian-version = \"1.2.3-1\"\n\
         build-machine = \"{}\"\n\
         [[deb]]\npackage = \"rustc-web\"\narchive = \"debian-security\"\npath = \"{}\"\n\
         size = {}\nsha256 = \"{}\"\n\
         [[deb]]\npackage = \"cargo-web\"\narchive = \"debian\"\npath = \"{}\"\n\
         size = {}\nsha256 = \"{cargo_sha256}\"\n",
        Arch::build_machine(),
        RUSTC_PATH.trim_start_matches("/debian-security/"),
        rustc.len(),
        sha(rustc),
        CARGO_PATH.trim_start_matches("/debian/"),
        cargo.len(),
    );
    RustSpec::parse("rust.toml", &text).unwrap()
}

fn provision(spec: &RustSpec, cache: &Path, base: &str) -> Result<Rust, ToolchainError> {
    let mirror = Mirror::parse(base).unwrap();
    provision_rust(spec, cache, &mirror, &mut |_| {})
}

/// What is under `<cache>/toolchains`, dot-named leftovers included.
fn toolchains(cache: &Path) -> Vec<String> {
    match std::fs::read_dir(cache.join("toolchains")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn rust_is_provisioned_from_the_mirror_once_and_reused() {
    let (rustc, cargo) = fake_debs();
    let server = serve(&[(RUSTC_PATH, &rustc), (CARGO_PATH, &cargo)]);
    let base = server.url("");
    let t = tempfile::tempdir().unwrap();
    let cache = t.path();

    let bad = spec(&rustc, &cargo, &"0".repeat(64));
    let e = provision(&bad, cache, &base).unwrap_err().to_string();
    assert!(e.starts_with("cannot provision rust 1.2.3: `"), "{e}");
    assert!(
        e.contains(&format!(
            "served {} bytes with sha256 {}; the toolchain file pins {} bytes with sha256 0000",
            cargo.len(),
            sha(&cargo),
            cargo.len()
        )),
        "{e}"
    );
    assert!(toolchains(cache).is_empty(), "{:?}", toolchains(cache));

    let good = spec(&rustc, &cargo, &sha(&cargo));
    let rust = provision(&good, cache, &base).unwrap();
    let home = cache.join("toolchains/rust-1.2.3-1");
    assert_eq!(rust.version, "1.2.3");
    assert_eq!(rust.rustc, home.join("usr/bin/rustc"));
    assert_eq!(rust.cargo, home.join("usr/bin/cargo"));
    let lib = home.join("usr/lib").join(multiarch());
    assert_eq!(
        rust.env,
        [("LD_LIBRARY_PATH".to_string(), lib.display().to_string())]
    );
    assert_eq!(
        std::fs::read_to_string(lib.join("librustc_driver.so")).unwrap(),
        "driver"
    );
    assert_eq!(toolchains(cache), ["rust-1.2.3-1"]);

    let hits = server.hits();
    let again = provision(&good, cache, &base).unwrap();
    assert_eq!(again.rustc, rust.rustc);
    assert_eq!(server.hits(), hits, "the second call fetched again");
}

/// Two first runs at once both succeed, with the one install placed first.
#[test]
fn two_concurrent_first_installs_both_succeed() {
    let (rustc, cargo) = fake_debs();
    let server = serve(&[(RUSTC_PATH, &rustc), (CARGO_PATH, &cargo)]);
    let base = server.url("");
    let t = tempfile::tempdir().unwrap();
    let good = spec(&rustc, &cargo, &sha(&cargo));
    let results: Vec<_> = std::thread::scope(|s| {
        let racers: Vec<_> = (0..2)
            .map(|_| s.spawn(|| provision(&good, t.path(), &base).map(|r| r.rustc)))
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let home = t.path().join("toolchains/rust-1.2.3-1");
    for r in &results {
        assert_eq!(
            r.as_ref().ok(),
            Some(&home.join("usr/bin/rustc")),
            "{results:?}"
        );
    }
    assert_eq!(toolchains(t.path()), ["rust-1.2.3-1"]);
}

/// The real pinned set (about 145 MB from the Debian mirror, 870 MB unpacked) into the shared
/// test cache, then `rustc -vV` and `cargo -V`. Runs with `RECIPE_REAL_RUST=1` (and under CI);
/// a cache that has it already makes it quick.
#[test]
fn the_real_pinned_toolchain_runs() {
    if std::env::var_os("RECIPE_REAL_RUST").is_none() && std::env::var_os("CI").is_none() {
        skip("set RECIPE_REAL_RUST=1 to provision the real Rust toolchain (145 MB download)");
        return;
    }
    let spec = RustSpec::load(None).unwrap();
    let mirror = recipe::source::debian_mirror().unwrap();
    let started = std::time::Instant::now();
    let rust = provision_rust(&spec, &crate::util::shared_cache(), &mirror, &mut |m| {
        eprintln!("{m}")
    })
    .unwrap();
    eprintln!("provisioned in {:.1?}", started.elapsed());
    for (exe, arg, says) in [
        (&rust.rustc, "-vV", "release: 1.96.0\n"),
        (&rust.cargo, "-V", "cargo 1.96.0 "),
    ] {
        let out = std::process::Command::new(exe)
            .arg(arg)
            .envs(rust.env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains(says), "{text}");
    }
}

/// std for arm64 with `panic = "abort"`, built with -Zbuild-std in the build sandbox (no
/// network: std's vendored crates only) into a cache of its own, usable as `--sysroot`, and not
/// built again on the second request. A few minutes of CPU: runs with `RECIPE_REAL_RUST=all`
/// only (not under CI).
#[test]
fn std_is_built_once_per_target_and_panic_strategy() {
    if std::env::var("RECIPE_REAL_RUST").ok().as_deref() != Some("all") {
        if std::env::var_os("CI").is_none() {
            skip("set RECIPE_REAL_RUST=all to build std for a target (a few minutes)");
        }
        return;
    }
    let spec = RustSpec::load(None).unwrap();
    let mirror = recipe::source::debian_mirror().unwrap();
    let rust = provision_rust(&spec, &crate::util::shared_cache(), &mirror, &mut |_| {}).unwrap();
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let sandbox = recipe::sandbox::Sandbox::On {
        exe: crate::util::recipe_bin(),
    };
    let started = std::time::Instant::now();
    let first = provision_std(
        &rust,
        t.path(),
        Arch::Arm64,
        Panic::Abort,
        &sandbox,
        &mut |m| eprintln!("{m}"),
    )
    .unwrap();
    eprintln!("std built in {:.1?}", started.elapsed());
    assert!(first.built);

    // A library using std compiles for the target against it.
    let src = t.path().join("uses_std.rs");
    std::fs::write(
        &src,
        "pub fn count(s: &str) -> usize { s.chars().collect::<std::collections::HashSet<_>>().len() }\n",
    )
    .unwrap();
    let out = std::process::Command::new(&rust.rustc)
        .envs(rust.env.iter().map(|(k, v)| (k, v)))
        .args([
            "--edition=2021",
            "--crate-type=rlib",
            "-Cpanic=abort",
            "--target",
        ])
        .arg(Arch::Arm64.info().rust_target)
        .arg("--sysroot")
        .arg(&first.dir)
        .arg("--out-dir")
        .arg(t.path())
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let second = provision_std(
        &rust,
        t.path(),
        Arch::Arm64,
        Panic::Abort,
        &sandbox,
        &mut |_| panic!("built again"),
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
