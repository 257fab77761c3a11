//! `recipe build` end to end on the fixtures (every arch) and, behind `RECIPE_REAL_APPS` (always
//! under CI for one foreign arch), on real apps.

use std::path::Path;

use crate::util::*;

fn fixture_scratch() -> Scratch {
    let s = Scratch::new();
    std::fs::create_dir_all(s.path()).unwrap();
    s
}

fn fixture_cmd(s: &Scratch) -> std::process::Command {
    let mut c = s.cmd();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    c
}

/// Checks the built image with skopeo and umoci, one platform at a time.
fn check_image(layout: &Path, tag: &str, arches: &[&str]) {
    if !require_tool("skopeo") || !require_tool("umoci") {
        return;
    }
    let raw = run(std::process::Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci:{}:{tag}", layout.display())))
    .success();
    let index: serde_json::Value = serde_json::from_str(&raw.stdout).unwrap();
    let manifests = index["manifests"]
        .as_array()
        .expect("an index of manifests");
    assert_eq!(manifests.len(), arches.len(), "{}", raw.stdout);
    for arch in arches {
        let (oarch, variant) = match *arch {
            "amd64" => ("amd64", None),
            "arm64" => ("arm64", None),
            "armv7" => ("arm", Some("v7")),
            _ => unreachable!(),
        };
        let mut args = vec!["--override-arch".to_string(), oarch.to_string()];
        if let Some(v) = variant {
            args.extend(["--override-variant".to_string(), v.to_string()]);
        }
        let cfg = run(std::process::Command::new("skopeo")
            .args(&args)
            .args(["inspect", "--config"])
            .arg(format!("oci:{}:{tag}", layout.display())))
        .success();
        let cfg: serde_json::Value = serde_json::from_str(&cfg.stdout).unwrap();
        assert_eq!(cfg["config"]["User"], "1000:1000");
        assert_eq!(cfg["architecture"], oarch);
        // One platform into its own layout, then umoci (which checks diff_ids and sizes).
        let tmp = tempfile::tempdir().unwrap();
        let single = tmp.path().join("single");
        run(std::process::Command::new("skopeo")
            .args(&args)
            .arg("copy")
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("oci:{}:{tag}", single.display())))
        .success();
        let bundle = tmp.path().join("bundle");
        run(std::process::Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:{tag}", single.display()))
            .arg(&bundle))
        .success();
        let rootfs = bundle.join("rootfs");
        assert!(!rootfs.join("bin/sh").exists(), "a shell in the image");
        assert!(!rootfs.join("bin").exists(), "a /bin in the image");
        let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
        assert!(passwd.contains(":1000:1000:"), "{passwd}");
    }
}

/// Loads the archive into podman and runs the host's image read-only, as the image user, with no
/// new privileges: the app answers, and there is no shell to exec.
fn load_and_run(archive: &Path, tag: &str, args: &[&str], expect: &str) {
    if !require_tool("podman") || !require_tool("runc") {
        return;
    }
    let p = Podman::new();
    run(p.cmd().args(["load", "-q", "-i"]).arg(archive))
        .success()
        .stdout_has(tag);
    let name = format!("localhost/{tag}");
    let o = run(p
        .cmd()
        .args([
            "run",
            "--rm",
            "--read-only",
            "--security-opt",
            "no-new-privileges",
            &name,
        ])
        .args(args))
    .success();
    assert!(
        o.stdout.contains(expect) || o.stderr.contains(expect),
        "{}{}",
        o.stdout,
        o.stderr
    );
    let who = run(p
        .cmd()
        .args(["image", "inspect", "--format", "{{.Config.User}}", &name]))
    .success();
    assert_eq!(who.stdout.trim(), "1000:1000");
    let sh = run(p.cmd().args([
        "run",
        "--rm",
        "--entrypoint",
        "/bin/sh",
        &name,
        "-c",
        "true",
    ]));
    assert_ne!(sh.code, 0, "a shell ran in the image");
}

fn build_fixture(name: &str, bin: &str, expect_runs: &str) {
    if !tools_for_builds() {
        return;
    }
    let _l = build_lock();
    let s = fixture_scratch();
    let out = run(fixture_cmd(&s).args(["build", name, "--arch", "all"])).success();
    assert!(out.stdout.contains("DISTROLESS"), "{}", out.stdout);
    assert!(out.stdout.contains("amd64, arm64, armv7"), "{}", out.stdout);
    for arch in ["amd64", "arm64", "armv7"] {
        let b = s.out().join(name).join("bin").join(arch).join(bin);
        run(recipe().args(["verify", "--arch", arch]).arg(&b))
            .success()
            .stdout_has("static");
    }
    check_image(
        &s.out().join(name).join("oci"),
        &format!("{name}:1.0"),
        &["amd64", "arm64", "armv7"],
    );
    load_and_run(
        &s.out().join(name).join(format!("{name}-1.0.oci.tar")),
        &format!("{name}:1.0"),
        &["--version"],
        "1.0",
    );

    // A second clean build (everything built again) gives the same image digest.
    let s2 = fixture_scratch();
    let out2 = run(fixture_cmd(&s2).args(["build", name, "--arch", "all", "--rebuild"])).success();
    assert!(
        !out2.stderr.contains(": cached"),
        "--rebuild reused the cache:\n{}",
        out2.stderr
    );
    // The first build may reuse the shared cache (no smoke test then); this one built everything.
    assert!(out2.stderr.contains(expect_runs), "{}", out2.stderr);
    let digest = |o: &str| {
        o.lines()
            .find(|l| l.contains("(index sha256:"))
            .map(|l| l.split("(index ").nth(1).unwrap().to_string())
    };
    assert_eq!(digest(&out.stdout), digest(&out2.stdout));
    assert!(digest(&out.stdout).is_some());
    let a = std::fs::read(s.out().join(name).join(format!("{name}-1.0.oci.tar"))).unwrap();
    let b = std::fs::read(s2.out().join(name).join(format!("{name}-1.0.oci.tar"))).unwrap();
    assert!(a == b, "the archives of two clean builds differ");
    // The SBOM (inside those layers and beside them) is the same too.
    let sbom =
        |s: &Scratch| std::fs::read(s.out().join(name).join(format!("{name}-1.0.spdx.json")));
    assert_eq!(sbom(&s).unwrap(), sbom(&s2).unwrap());
}

#[test]
fn c_fixture_builds_verifies_runs_and_packs_for_every_arch() {
    build_fixture("hello-c", "hello", "smoke test passed");
}

#[test]
fn go_fixture_builds_verifies_runs_and_packs_for_every_arch() {
    build_fixture("hello-go", "hello-go", "smoke test passed");
}

/// A scratch catalogue with one make recipe `broken` whose Makefile is `makefile`, and the
/// outcome of `recipe build broken` (which must fail with exit 1). None when skipped.
fn build_broken(makefile: &str) -> Option<(Scratch, Output)> {
    if !require_tool("python3") {
        return None;
    }
    let _l = build_lock();
    let s = Scratch::new();
    std::fs::create_dir_all(s.path().join("src")).unwrap();
    std::fs::write(s.path().join("src/Makefile"), makefile).unwrap();
    s.recipe(
        "broken",
        r#"name = "broken"
version = "1"
license = "MIT"
homepage = "https://example.invalid"
[source]
path = "../src"
[build]
system = "make"
[app]
files = ["/usr/local/bin/broken"]
"#,
    );
    let o = run(s.cmd().args(["build", "broken"])).failure(1);
    Some((s, o))
}

#[test]
fn a_failing_step_names_the_step_command_and_log() {
    let Some((s, o)) =
        build_broken("all:\n\t@echo compiling; echo 'broken.c:1: error: oops' >&2; exit 3\n")
    else {
        return;
    };
    let o = o
        .stderr_has("step `build` of broken for amd64 failed")
        .stderr_has("exited with status 2")
        .stderr_has("broken.c:1: error: oops");
    assert!(o.stderr.contains("build.log"), "{}", o.stderr);
    assert!(!s.out().join("broken").exists(), "output of a failed build");
}

/// A build log that writes terminal control sequences (a title, a screen clear, a carriage
/// return forging a line) reaches the error output escaped.
#[test]
fn control_characters_of_a_failed_build_reach_the_terminal_escaped() {
    let Some((_s, o)) = build_broken(
        "all:\n\t@printf 'x\\033]0;pwned\\007\\033[2J\\rrecipe: build ok\\n' >&2; exit 3\n",
    ) else {
        return;
    };
    assert!(!o.stderr.contains('\x1b'), "a raw ESC:\n{}", o.stderr);
    assert!(!o.stderr.contains('\r'), "a raw CR:\n{}", o.stderr);
    assert!(
        o.stderr
            .contains("x\\x1b]0;pwned\\x07\\x1b[2J\\rrecipe: build ok"),
        "{}",
        o.stderr
    );
}

/// A scratch catalogue holding one script recipe `bad` on the hello-c fixture (its `script` and
/// `[smoke]` given as TOML), built for amd64 with a private cache that shares zig. The build
/// must fail with exit 1 and leave nothing behind: no cache entry (`recipe cache ls` and the
/// cache's `builds/`), no image or binaries in `out/`. None when skipped.
fn build_failing(script: &str, smoke: &str) -> Option<(Scratch, Output)> {
    if !require_tool("python3") {
        return None;
    }
    let _l = build_lock();
    let s = Scratch::new();
    s.recipe(
        "bad",
        &format!(
            "name = \"bad\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
             [source]\npath = \"{}\"\n[build]\nsystem = \"script\"\nscript = {script}\n\
             [app]\nfiles = [\"/usr/local/bin/hello\"]\n{smoke}",
            root().join("tests/fixtures/hello-c").display()
        ),
    );
    crate::graph::link_zig(&s);
    let o = run(s
        .cmd_private_cache()
        .args(["build", "bad", "--arch", "amd64"]))
    .failure(1);
    let ls = run(s.cmd_private_cache().args(["cache", "ls"])).success();
    assert!(
        !ls.stdout.lines().any(|l| l.starts_with("bad")),
        "a cache entry of a failed build:\n{}",
        ls.stdout
    );
    nothing_built_kept(&s);
    Some((s, o))
}

/// A build whose binary fails verification (dynamically linked against glibc by the host's gcc)
/// exits 1, caches nothing, writes no image, and says the verify step failed, for which file,
/// and why.
#[test]
fn a_build_that_fails_verification_caches_nothing_and_names_the_step_and_file() {
    if !require_tool("gcc") {
        return;
    }
    let Some((_s, o)) = build_failing(
        r#"["mkdir -p $DESTDIR/usr/local/bin", "/usr/bin/gcc -O2 -o $DESTDIR/usr/local/bin/hello hello.c"]"#,
        "[smoke]\ncommand = [\"hello\", \"--version\"]\nexpect = \"hello-c 1.0\"\n",
    ) else {
        return;
    };
    o.stderr_has("bad for amd64: `/usr/local/bin/hello` fails verification")
        .stderr_has("dynamic: PT_INTERP");
}

/// A build whose smoke test prints something else than its `expect` exits 1, caches nothing,
/// writes no image, and says the smoke step failed, the command it ran and what it printed.
#[test]
fn a_build_whose_smoke_test_fails_caches_nothing_and_shows_the_output() {
    let Some((_s, o)) = build_failing(
        r#"["mkdir -p $DESTDIR/usr/local/bin", "$CC -static -O2 -o $DESTDIR/usr/local/bin/hello hello.c"]"#,
        "[smoke]\ncommand = [\"hello\", \"--version\"]\nexpect = \"goodbye-c 2.0\"\n",
    ) else {
        return;
    };
    o.stderr_has("bad for amd64: smoke test failed: `")
        .stderr_has("/usr/local/bin/hello --version` exited with status 0")
        .stderr_has("lacks `goodbye-c 2.0`")
        .stderr_has("hello-c 1.0 (x86_64)");
}

/// A smoke test whose command exits non-zero and prints something else than its `expect` fails
/// the build the same way, and the error gives the exit status and the output. (A non-zero
/// status alone is no failure: many tools print `--help` with status 1 or 2.)
#[test]
fn a_build_whose_smoke_command_exits_non_zero_caches_nothing_and_shows_the_status() {
    let Some((_s, o)) = build_failing(
        r#"["mkdir -p $DESTDIR/usr/local/bin", "printf '#include <stdio.h>\\nint main(void) { puts(\"crashed-here\"); return 7; }\\n' > fail.c", "$CC -static -O2 -o $DESTDIR/usr/local/bin/hello fail.c"]"#,
        "[smoke]\ncommand = [\"hello\"]\nexpect = \"all good\"\n",
    ) else {
        return;
    };
    o.stderr_has("bad for amd64: smoke test failed: `")
        .stderr_has("/usr/local/bin/hello` exited with status 7")
        .stderr_has("lacks `all good`")
        .stderr_has("crashed-here");
}

/// Real apps: under CI, redis and go-httpbin for arm64; with RECIPE_REAL_APPS=all, every arch.
fn real_arches() -> Option<&'static str> {
    match std::env::var("RECIPE_REAL_APPS").ok().as_deref() {
        Some("all") => Some("all"),
        Some(_) => Some("arm64"),
        None if std::env::var_os("CI").is_some() => Some("arm64"),
        None => {
            skip("set RECIPE_REAL_APPS=1 (arm64) or =all to build the real apps");
            None
        }
    }
}

fn build_real(name: &str, tag: &str, bins: &[&str]) {
    let Some(arch) = real_arches() else { return };
    if !tools_for_builds() {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let mut c = s.cmd();
    c.env("RECIPE_RECIPES", root().join("recipes"));
    let out = run(c.args(["build", name, "--arch", arch])).success();
    let arches: Vec<&str> = if arch == "all" {
        vec!["amd64", "arm64", "armv7"]
    } else {
        vec![arch]
    };
    for a in &arches {
        for b in bins {
            let p = s.out().join(name).join("bin").join(a).join(b);
            run(recipe().args(["verify", "--arch", a]).arg(&p)).success();
        }
    }
    // Each arch's app was smoke-tested now, or earlier when its cache entry was stored.
    for a in &arches {
        let id = format!("{name}/{a}: ");
        assert!(
            out.stderr.lines().any(|l| l.starts_with(&id)
                && (l.contains("smoke test passed") || l.ends_with(": cached"))),
            "{}",
            out.stderr
        );
    }
    check_image(&s.out().join(name).join("oci"), tag, &arches);
    check_distroless_ready(&s.out().join(name).join("oci"), &arches);
}

/// `recipe check` on a built image: every arch's entrypoint is distroless-ready, and needs
/// neither dlopen nor a shell unless its recipe accepts it (redis: modules), which check says.
fn check_distroless_ready(oci: &Path, arches: &[&str]) {
    let out = run(recipe().args(["check", "--json"]).arg(oci)).success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["distroless_ready"], true, "{}", out.stdout);
    let platforms = v["targets"][0]["platforms"].as_array().unwrap();
    let mut seen: Vec<&str> = platforms
        .iter()
        .map(|p| p["arch"].as_str().unwrap())
        .collect();
    seen.sort();
    let mut want = arches.to_vec();
    want.sort();
    assert_eq!(seen, want, "{}", out.stdout);
    for p in platforms {
        let app = &p["apps"][0];
        assert_eq!(app["verdict"], "distroless-ready", "{app}");
        for need in ["dlopen", "shell"] {
            if !app["facts"][need].is_null() {
                let accepted = app["findings"].as_array().unwrap().iter().any(|f| {
                    f["code"] == "accepted"
                        && f["message"]
                            .as_str()
                            .unwrap()
                            .contains(&format!("org.recipe.accept.{need}"))
                });
                assert!(accepted, "{need} is neither absent nor accepted: {app}");
            }
        }
    }
}

/// Real servers in real containers: under CI (and with RECIPE_REAL_APPS) redis and go-httpbin
/// are built for amd64 and `recipe test` runs each image under podman, read-only, with no
/// capabilities, as its user, and sends it the recipe's smoke requests from outside (redis:
/// PING/SET/GET and `redis-cli` on the host; go-httpbin: `GET /get`).
#[test]
fn real_servers_answer_from_hardened_podman_containers() {
    if real_arches().is_none() || !tools_for_builds() || !require_tool("podman") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let p = Podman::new();
    for name in ["redis", "go-httpbin"] {
        let mut c = s.cmd();
        c.env("RECIPE_RECIPES", root().join("recipes"));
        run(c.args(["build", name, "--arch", "amd64"])).success();
        let mut c = s.cmd();
        c.env("RECIPE_RECIPES", root().join("recipes"));
        run(c.args(["test", name, "--engine"]).arg(p.engine()))
            .success()
            .stdout_has(&format!("{name}: the container answered"));
    }
}

#[test]
fn real_c_app_redis() {
    build_real("redis", "redis:7.0.15", &["redis-server", "redis-cli"]);
}

#[test]
fn real_go_app_go_httpbin() {
    build_real("go-httpbin", "go-httpbin:2.26.0", &["go-httpbin"]);
}

/// curl against static OpenSSL and zlib: under CI for amd64 (with the TLS check), with
/// RECIPE_REAL_APPS=all for every arch. `curl --version` lists OpenSSL and libz everywhere, and
/// the amd64 binary fetches an https URL from a TLS server on 127.0.0.1 whose certificate is in
/// the CA file it is given, and refuses it without that file.
#[test]
fn real_curl_with_openssl_and_zlib() {
    let arch = match real_arches() {
        Some("all") => "all",
        Some(_) => "amd64",
        None => return,
    };
    if !tools_for_builds() || !require_tool("openssl") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let mut c = s.cmd();
    c.env("RECIPE_RECIPES", root().join("recipes"));
    run(c.args(["build", "curl", "--arch", arch])).success();
    let arches: Vec<&str> = if arch == "all" {
        vec!["amd64", "arm64", "armv7"]
    } else {
        vec!["amd64"]
    };
    // OpenSSL is built with no-dso: curl carries no dlopen stub.
    check_distroless_ready(&s.out().join("curl/oci"), &arches);
    // The SBOM lists curl, OpenSSL and zlib at their versions and source hashes.
    let spdx = s.out().join("curl/curl-8.14.1.spdx.json");
    crate::sbom::validate_spdx(&spdx);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
    for (name, version) in [("curl", "8.14.1"), ("openssl", "3.0.22"), ("zlib", "1.3.1")] {
        let toml: toml::Table = toml::from_str(
            &std::fs::read_to_string(root().join(format!("recipes/{name}.toml"))).unwrap(),
        )
        .unwrap();
        let p = crate::sbom::spdx_package(&doc, name);
        assert_eq!(p["versionInfo"], version, "{p}");
        assert_eq!(p["checksums"][0]["algorithm"], "SHA256", "{p}");
        assert_eq!(
            p["checksums"][0]["checksumValue"].as_str(),
            toml["source"]["sha256"].as_str(),
            "{p}"
        );
    }
    // curl is Debian's source package with its patch series applied: Debian's purl beside the
    // CPE, and the VEX beside the image states the SOCKS5 heap overflow fixed (vexctl reads it).
    let curl = crate::sbom::spdx_package(&doc, "curl");
    let purl = curl["externalRefs"][1]["referenceLocator"]
        .as_str()
        .unwrap();
    assert!(
        purl.starts_with("pkg:deb/debian/curl@8.14.1-") && purl.ends_with("&distro=debian-13"),
        "{curl}"
    );
    let vex = s.out().join("curl/curl-8.14.1.openvex.json");
    let stated = crate::vex::read_with_vexctl(&vex);
    assert!(
        stated
            .iter()
            .any(|(cve, status)| cve == "CVE-2023-38545" && status == "fixed"),
        "{stated:?}"
    );
    for a in &arches {
        let bin = s.out().join("curl/bin").join(a).join("curl");
        run(recipe().args(["verify", "--arch", a]).arg(&bin)).success();
        let mut cmd = match *a {
            "amd64" => std::process::Command::new(&bin),
            "arm64" => std::process::Command::new("qemu-aarch64-static"),
            _ => std::process::Command::new("qemu-arm-static"),
        };
        if *a != "amd64" {
            cmd.arg(&bin);
        }
        let v = run(cmd.arg("--version").env_clear()).success();
        assert!(
            v.stdout.contains("OpenSSL/3.0.22") && v.stdout.contains("zlib/1.3.1"),
            "{}",
            v.stdout
        );
        assert!(
            v.stdout
                .lines()
                .any(|l| l.starts_with("Features:") && l.contains(" SSL") && l.contains(" libz")),
            "{}",
            v.stdout
        );
    }

    // A TLS server on 127.0.0.1 with a certificate made here.
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    run(std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert))
    .success();
    let port = crate::util::free_port();
    let mut server = std::process::Command::new("openssl")
        .args([
            "s_server",
            "-www",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
        ])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the TLS server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let curl = s.out().join("curl/bin/amd64/curl");
    let url = format!("https://127.0.0.1:{port}/");
    let ok = run(std::process::Command::new(&curl)
        .env_clear()
        .args(["-sS", "--cacert"])
        .arg(&cert)
        .arg(&url));
    let refused = run(std::process::Command::new(&curl)
        .env_clear()
        .args(["-sS", &url]));
    let _ = server.kill();
    let _ = server.wait();
    let ok = ok.success();
    assert!(ok.stdout.contains("s_server"), "{}", ok.stdout);
    assert_eq!(
        refused.code, 60,
        "curl accepted an unknown certificate: {}",
        refused.stderr
    );
}
