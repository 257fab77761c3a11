//! `recipe check` on binaries this project did not build (Debian's, gcc's), scripts, a root
//! filesystem, an unpacked .deb, and the images `recipe build` writes (OCI layout, OCI archive,
//! and skopeo's docker archive of it).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use recipe::arch::Arch;
use serde_json::Value;

use crate::util::*;

fn check(args: &[&str], targets: &[&Path]) -> Output {
    run(recipe().arg("check").args(args).args(targets))
}

fn check_json(targets: &[&Path]) -> (i32, Value) {
    let o = check(&["--json"], targets);
    let v = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", o.stdout, o.stderr));
    (o.code, v)
}

/// The first app of the first platform of the first target.
fn first_app(v: &Value) -> &Value {
    &v["targets"][0]["platforms"][0]["apps"][0]
}

fn codes(app: &Value) -> Vec<String> {
    app["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn write_exe(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn debian_ls_needs_a_static_rebuild() {
    let ls = Path::new("/bin/ls");
    check(&[], &[ls])
        .failure(1)
        .stdout_has("ready after a static rebuild")
        .stdout_has("needs libc.so.6 → musl")
        .stdout_has("1 executable: 1 ready after a static rebuild");
    let (code, v) = check_json(&[ls]);
    assert_eq!(code, 1);
    assert_eq!(first_app(&v)["verdict"], "ready-after-static-rebuild");
    assert_eq!(v["distroless_ready"], false);
    assert!(
        first_app(&v)["facts"]["needed"]
            .as_array()
            .unwrap()
            .contains(&Value::from("libc.so.6"))
    );
}

/// Debian's busybox-static is glibc linked statically: it is static, but glibc's NSS and
/// `/bin/sh` strings are inside. The verdict follows the findings: `shell` → needs a runtime (it
/// execs /bin/sh, absent from a distroless image), else `nss` → rebuild against musl, else ready.
#[test]
fn debian_busybox_static_follows_its_findings() {
    let bb = Path::new("/bin/busybox");
    if !bb.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "/bin/busybox (busybox-static) is required under CI"
        );
        eprintln!("skipped: /bin/busybox missing (apt-get install busybox-static)");
        return;
    }
    let (code, v) = check_json(&[bb]);
    let app = first_app(&v);
    let c = codes(app);
    assert!(!c.contains(&"dynamic".to_string()), "{app}");
    assert!(
        app["description"].as_str().unwrap().contains("static"),
        "{app}"
    );
    let want = if c.iter().any(|c| c == "shell") {
        "needs-runtime"
    } else if c.iter().any(|c| c == "nss") {
        "ready-after-static-rebuild"
    } else {
        "distroless-ready"
    };
    assert_eq!(app["verdict"], want, "{app}");
    assert_eq!(code, if want == "distroless-ready" { 0 } else { 1 });
}

fn gcc_static(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, body).unwrap();
    let out = dir.join(name);
    run(Command::new("gcc")
        .arg("-static")
        .arg("-O1")
        .arg("-o")
        .arg(&out)
        .arg(&src))
    .success();
    out
}

/// Waits on the `nss` finding (the parallel ELF-facts branch).
#[test]
fn glibc_static_with_getpwnam_needs_musl() {
    if !require_tool("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = gcc_static(
        t.path(),
        "whoami",
        "#include <pwd.h>\n#include <stdio.h>\nint main(void){struct passwd*p=getpwnam(\"root\");printf(\"%s\\n\",p?p->pw_dir:\"?\");return 0;}\n",
    );
    let (code, v) = check_json(&[&bin]);
    let app = first_app(&v);
    assert!(codes(app).contains(&"nss".to_string()), "{app}");
    assert_eq!(app["verdict"], "ready-after-static-rebuild", "{app}");
    assert!(app["summary"].as_str().unwrap().contains("musl"), "{app}");
    assert_eq!(code, 1);
}

/// Waits on the `glibc-static` warning (the parallel ELF-facts branch).
#[test]
fn glibc_static_without_nss_is_ready_with_a_warning() {
    if !require_tool("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = gcc_static(
        t.path(),
        "hello",
        "#include <stdio.h>\nint main(void){puts(\"hello\");return 0;}\n",
    );
    let (code, v) = check_json(&[&bin]);
    let app = first_app(&v);
    assert_eq!(app["verdict"], "distroless-ready", "{app}");
    assert_eq!(code, 0);
    assert!(codes(app).contains(&"glibc-static".to_string()), "{app}");
}

#[test]
fn scripts_need_a_runtime_with_the_shebang_as_evidence() {
    let t = tempfile::tempdir().unwrap();
    let py = t.path().join("tool.py");
    write_exe(&py, "#!/usr/bin/env python3\nprint('hi')\n");
    let sh = t.path().join("run.sh");
    write_exe(&sh, "#!/bin/sh\necho hi\n");
    check(&[], &[&py])
        .failure(1)
        .stdout_has("needs a runtime")
        .stdout_has("#!/usr/bin/env python3")
        .stdout_has("Python (python3)");
    check(&[], &[&sh])
        .failure(1)
        .stdout_has("needs a runtime")
        .stdout_has("#!/bin/sh");
    let (_, v) = check_json(&[&py, &sh]);
    assert_eq!(v["summary"]["needs_runtime"], 2, "{v}");
}

#[test]
fn root_filesystem_lists_every_executable() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/ls", root.join("bin/ls")).unwrap();
    let with_busybox = Path::new("/bin/busybox").exists();
    if with_busybox {
        std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
        std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    }
    write_exe(&root.join("usr/local/bin/app.py"), "#!/usr/bin/python3\n");
    let lib = root.join("usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0");
    std::fs::create_dir_all(lib.parent().unwrap()).unwrap();
    std::fs::write(&lib, b"").unwrap();
    std::fs::write(root.join("etc-notes.txt"), b"data").unwrap();
    let o = check(&[], &[&root])
        .failure(1)
        .stdout_has("/bin/ls")
        .stdout_has("/usr/local/bin/app.py")
        .stdout_has("runtime evidence: Python")
        .stdout_has("libpython3.11.so.1.0");
    let n = if with_busybox { 3 } else { 2 };
    assert!(
        o.stdout.contains(&format!("{n} executables:")),
        "{}",
        o.stdout
    );
    // Symlinks are not followed (bin/sh is not a second busybox) and data is not an app.
    assert!(!o.stdout.contains("/bin/sh "), "{}", o.stdout);
    assert!(!o.stdout.contains("etc-notes"), "{}", o.stdout);
}

#[test]
fn unpacked_deb_of_hello_needs_a_static_rebuild() {
    if !require_tool("apt-get") || !require_tool("dpkg-deb") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let dl = run(Command::new("apt-get")
        .args(["download", "hello"])
        .current_dir(t.path()));
    if dl.code != 0 {
        assert!(
            std::env::var_os("CI").is_none(),
            "apt-get download hello failed under CI: {}",
            dl.stderr
        );
        eprintln!("skipped: apt-get download hello failed: {}", dl.stderr);
        return;
    }
    let deb = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a .deb");
    let root = t.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root)).success();
    check(&[], &[&root])
        .failure(1)
        .stdout_has("/usr/bin/hello")
        .stdout_has("ready after a static rebuild")
        .stdout_has("libc.so.6 → musl");
}

fn heading(arch: Arch) -> String {
    let i = arch.info();
    match i.oci_variant {
        Some(v) => format!("platform linux/{}/{v} ({arch})", i.oci_arch),
        None => format!("platform linux/{} ({arch})", i.oci_arch),
    }
}

/// The image of the hello-c fixture for every arch: its layout, its archive and skopeo's docker
/// archive of it are all distroless-ready.
#[test]
fn built_image_is_distroless_ready_in_every_form() {
    if !require_tool("python3")
        || !require_tool("qemu-aarch64-static")
        || !require_tool("qemu-arm-static")
    {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    run(s
        .cmd()
        .env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"))
        .args(["build", "hello-c", "--arch", "all"]))
    .success();
    let layout = s.out().join("hello-c").join("oci");
    let archive = s.out().join("hello-c").join("hello-c-1.0.oci.tar");
    for target in [&layout, &archive] {
        let o = check(&[], &[target])
            .success()
            .stdout_has("/usr/local/bin/hello")
            .stdout_has("3 executables: 3 distroless-ready");
        for arch in Arch::ALL {
            assert!(o.stdout.contains(&heading(arch)), "{arch}: {}", o.stdout);
        }
        let (code, v) = check_json(&[target]);
        assert_eq!(code, 0);
        assert_eq!(v["distroless_ready"], true);
        let platforms = v["targets"][0]["platforms"].as_array().unwrap();
        let arches: Vec<&str> = platforms
            .iter()
            .map(|p| p["arch"].as_str().unwrap())
            .collect();
        assert_eq!(arches, ["amd64", "arm64", "armv7"]);
        for p in platforms {
            assert_eq!(p["apps"][0]["verdict"], "distroless-ready", "{p}");
            assert_eq!(p["apps"][0]["path"], "/usr/local/bin/hello", "{p}");
        }
    }
    // One platform with --arch.
    check(&["--arch", "armv7"], &[&archive])
        .success()
        .stdout_has(&heading(Arch::Armv7))
        .stdout_has("1 executable: 1 distroless-ready");

    if !require_tool("skopeo") {
        return;
    }
    let docker = s.path().join("hello-c.docker.tar");
    run(Command::new("skopeo")
        .arg("copy")
        .arg(format!("oci:{}:hello-c:1.0", layout.display()))
        .arg(format!("docker-archive:{}:hello-c:1.0", docker.display())))
    .success();
    let (code, v) = check_json(&[&docker]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["targets"][0]["kind"], "docker-archive");
    assert_eq!(first_app(&v)["verdict"], "distroless-ready", "{v}");
}

/// A small OCI archive written by the image writer, to break.
fn small_archive(dir: &Path) -> std::path::PathBuf {
    use recipe::image::{Entry, ImageConfig, PlatformImage, User, base_entries};
    let bin = dir.join("bin");
    std::fs::write(&bin, "#!/bin/sh\necho hi\n".repeat(4000)).unwrap();
    let mut entries = base_entries(&User::default(), &[] as &[String]);
    entries.push(Entry::file("/app", 0o755, &bin));
    let img = PlatformImage {
        arch: Arch::Amd64,
        entries,
        config: ImageConfig {
            entrypoint: vec!["/app".into()],
            ..ImageConfig::default()
        },
        history: "test".into(),
    };
    let layout = dir.join("layout");
    recipe::image::write_layout(&layout, "app:1", &[img]).unwrap();
    let archive = dir.join("app.tar");
    recipe::image::write_archive(&layout, &archive).unwrap();
    archive
}

#[test]
fn bad_input_is_exit_2_with_the_path() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("no-such-image.tar");
    check(&[], &[&missing])
        .failure(2)
        .stderr_has("no-such-image.tar");

    let archive = small_archive(t.path());
    // The intact archive reads (the script entrypoint needs a runtime).
    check(&[], &[&archive])
        .failure(1)
        .stdout_has("needs a runtime");
    let bytes = std::fs::read(&archive).unwrap();
    let cut = t.path().join("cut.tar");
    for len in [bytes.len() / 2, bytes.len() - 1024 - 100] {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let o = check(&[], &[&cut]).failure(2).stderr_has("cut.tar");
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    }
    // A tar that is no image.
    let other = t.path().join("other.tar");
    std::fs::write(&other, tar_bytes(&[E::File(b"x", b"y", 0o644)])).unwrap();
    check(&[], &[&other])
        .failure(2)
        .stderr_has("other.tar")
        .stderr_has("neither an OCI archive");
}
