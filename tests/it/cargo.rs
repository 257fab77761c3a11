//! `system = "cargo"`: the fixture package `tests/fixtures/hello-rs` (two binaries, a feature,
//! one crate from "crates.io" served here on 127.0.0.1, a build script that tries the network)
//! built with the pinned Rust for amd64, and the recipe mistakes the loader refuses.

use std::path::Path;

use crate::util::{self, Scratch, run};

const TINYDEP: &str = "/tinydep/tinydep-0.1.0.crate";
const TINYDEP_SHA: &str = "aef6ccb049c19a8af534c89b6f5f418256e5035c90ce1c0e7e673197aff468fe";

fn tinydep() -> Vec<u8> {
    std::fs::read(
        util::root()
            .join("tests/fixtures/crates")
            .join(&TINYDEP[1..]),
    )
    .unwrap()
}

/// The hello-rs recipe with `build` as its `[build]` table's extra lines and `files` as its
/// app files.
fn hello_rs(build: &str, files: &[&str]) -> String {
    let dir = util::root().join("tests/fixtures/hello-rs");
    let files: Vec<String> = files
        .iter()
        .map(|f| format!("\"/usr/local/bin/{f}\""))
        .collect();
    format!(
        "name = \"hello-rs\"\nversion = \"1.0.0\"\nlicense = \"MIT\"\n\
         homepage = \"https://example.invalid/hello-rs\"\n\n\
         [source]\npath = \"{}\"\n\n[build]\nsystem = \"cargo\"\n{build}\n\n\
         [app]\nfiles = [{}]\n\n[smoke]\ncommand = [\"hello-rs\", \"--version\"]\n\
         expect = \"hello-rs 1.0.0\"\n",
        dir.display(),
        files.join(", ")
    )
}

/// Real Rust builds run under CI, or with `RECIPE_REAL_RUST` set (the first one fetches the
/// pinned toolchain, 145 MB, and builds std for amd64: a few minutes).
fn real_rust() -> bool {
    if std::env::var_os("RECIPE_REAL_RUST").is_none() && std::env::var_os("CI").is_none() {
        util::skip("set RECIPE_REAL_RUST=1 to build Rust fixtures (fetches the pinned Rust)");
        return false;
    }
    util::tools_for_builds()
}

fn sbom_purls(path: &Path) -> Vec<(String, String)> {
    let doc = util::read_json(path);
    let mut out = Vec::new();
    for p in doc["packages"].as_array().unwrap() {
        let purl = p["externalRefs"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["referenceType"] == "purl")
            .and_then(|r| r["referenceLocator"].as_str())
            .unwrap_or_default()
            .to_string();
        let sum = p["checksums"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["algorithm"] == "SHA256")
            .and_then(|c| c["checksumValue"].as_str())
            .unwrap_or_default()
            .to_string();
        out.push((purl, sum));
    }
    out
}

/// One build with a feature and one of the two binaries; its build script cannot reach the
/// server on 127.0.0.1 that served its crate; its SBOM lists the crate. A second build of the
/// other selection reuses std (built at most once per target and panic strategy).
#[test]
fn cargo_builds_honour_features_and_bins_offline_and_list_their_crates() {
    if !real_rust() {
        return;
    }
    let _l = util::build_lock();
    let crate_bytes = tinydep();
    let server = util::serve(&[(TINYDEP, &crate_bytes)]);
    let probe = server.url("").trim_start_matches("http://").to_string();
    let s = Scratch::new();
    s.recipe(
        "hello-rs",
        &hello_rs(
            &format!(
                "bins = [\"hello-rs\"]\nfeatures = [\"loud\"]\nenv = {{ HELLO_RS_PROBE = \"{probe}\" }}"
            ),
            &["hello-rs"],
        ),
    );
    let first = run(s
        .cmd()
        .env("RECIPE_CRATES_URL", server.url(""))
        .args(["build", "hello-rs", "--arch", "amd64"]))
    .success();
    let bin = s.out().join("hello-rs/bin/amd64");
    assert!(bin.join("hello-rs").is_file(), "{}", first.stderr);
    assert!(
        !bin.join("hello-rs-extra").exists(),
        "bins = [\"hello-rs\"] built the other one"
    );
    let says = |args: &[&str]| {
        let o = std::process::Command::new(bin.join("hello-rs"))
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_eq!(
        says(&[]),
        "HELLO FROM TINYDEP!\n",
        "the `loud` feature is on"
    );
    assert_eq!(
        says(&["--net"]),
        "build network: none\n",
        "the build script reached the network"
    );
    let purls = sbom_purls(&s.out().join("hello-rs/hello-rs-1.0.0.spdx.json"));
    assert!(
        purls.contains(&("pkg:cargo/tinydep@0.1.0".into(), TINYDEP_SHA.into())),
        "{purls:?}"
    );

    s.recipe("hello-rs", &hello_rs("", &["hello-rs", "hello-rs-extra"]));
    let second = run(s
        .cmd()
        .env("RECIPE_CRATES_URL", server.url(""))
        .args(["build", "hello-rs", "--arch", "amd64"]))
    .success();
    assert!(
        !second.stderr.contains("std for x86_64-unknown-linux-musl"),
        "std was built again:\n{}",
        second.stderr
    );
    assert!(bin.join("hello-rs-extra").is_file(), "{}", second.stderr);
    assert_eq!(says(&[]), "hello from tinydep\n");
}

/// A crate whose bytes are not the ones `Cargo.lock` pins is refused, naming the crate, and
/// nothing is stored.
#[test]
fn a_crate_whose_checksum_differs_from_cargo_lock_is_refused() {
    if !real_rust() {
        return;
    }
    let mut tampered = tinydep();
    let n = tampered.len();
    tampered[n - 9] ^= 1; // inside the gzip trailer's CRC: other bytes, same size
    let server = util::serve(&[(TINYDEP, &tampered)]);
    let s = Scratch::new();
    s.recipe("hello-rs", &hello_rs("", &["hello-rs", "hello-rs-extra"]));
    // A cache of its own (its source store has no tinydep), with the shared toolchains.
    std::fs::create_dir_all(s.cache()).unwrap();
    std::os::unix::fs::symlink(
        util::shared_cache().join("toolchains"),
        s.cache().join("toolchains"),
    )
    .unwrap();
    let out = run(s
        .cmd_private_cache()
        .env("RECIPE_CRATES_URL", server.url(""))
        .args(["build", "hello-rs", "--arch", "amd64"]))
    .failure(1)
    .stderr_has("sha256 mismatch")
    .stderr_has("tinydep-0.1.0.crate")
    .stderr_has(TINYDEP_SHA);
    assert!(
        !out.stderr.contains("stored in the build cache"),
        "{}",
        out.stderr
    );
    util::nothing_built_kept(&s);
    assert_eq!(server.hits(), 1, "tried once, refused");
}

/// The cargo keys are checked at their place: a key of another system, a feature that is not a
/// feature name, a binary listed twice, RUSTFLAGS in `env`, and a `[source.crate]` name.
#[test]
fn cargo_recipe_mistakes_are_refused_at_their_place() {
    let cases: [(&str, &str, &str); 5] = [
        (
            "system = \"make\"\nbins = [\"a\"]",
            "`bins` does not apply to build system `make`",
            "hello-rs.toml:11:8:",
        ),
        (
            "features = [\"a,b\"]",
            "invalid cargo feature `a,b`",
            "hello-rs.toml:11:",
        ),
        (
            "bins = [\"a\", \"a\"]",
            "`a` is listed twice",
            "hello-rs.toml:11:",
        ),
        (
            "env = { RUSTFLAGS = \"-Copt-level=1\" }",
            "`RUSTFLAGS` cannot be set in a cargo build's `env`",
            "hello-rs.toml:11:",
        ),
        (
            "[source.crate]\nname = \"-x\"\nversion = \"1.0\"",
            "invalid crate name `-x`",
            "hello-rs.toml:",
        ),
    ];
    for (extra, message, place) in cases {
        let s = Scratch::new();
        let text = if extra.starts_with("system") {
            hello_rs("", &["hello-rs"]).replace("system = \"cargo\"\n", &format!("{extra}\n"))
        } else if extra.starts_with("[source.crate]") {
            hello_rs("", &["hello-rs"])
                .replacen(
                    "[source]\n",
                    &format!("[source]\nsha256 = \"{TINYDEP_SHA}\"\n"),
                    1,
                )
                .replace(
                    &format!(
                        "path = \"{}\"\n",
                        util::root().join("tests/fixtures/hello-rs").display()
                    ),
                    "",
                )
                + "\n"
                + extra
                + "\n"
        } else {
            hello_rs(extra, &["hello-rs"])
        };
        s.recipe("hello-rs", &text);
        run(s.cmd().args(["show", "hello-rs"]))
            .failure(2)
            .stderr_has(message)
            .stderr_has(place);
    }
}
