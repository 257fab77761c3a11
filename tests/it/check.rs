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
        crate::util::skip("/bin/busybox missing (apt-get install busybox-static)");
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
        crate::util::skip(&format!("apt-get download hello failed: {}", dl.stderr));
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
    if !tools_for_builds() {
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

// ---------------------------------------------------------------------------------------------
// Hostile input (issue 9): FIFOs, gzip bombs, endless layer lists, megabyte names, huge files.
// Each run is guarded: killed after 60 s (a hang is a failure, not a stuck test), and its peak
// memory measured with `/usr/bin/time -v`.

/// Peak memory allowed for `recipe check` on a hostile input.
const MAX_RSS_KB: u64 = 300 * 1024;

/// A guarded run of `recipe ARGS`: the output, the peak RSS in KiB (None without
/// `/usr/bin/time`) and the wall time. The run is killed (with its process group) after 60 s.
pub(crate) fn guarded(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> (Output, Option<u64>) {
    use std::os::unix::process::CommandExt;
    let t = tempfile::tempdir().unwrap();
    let (out, err, stats) = (
        t.path().join("out"),
        t.path().join("err"),
        t.path().join("time"),
    );
    let timed = Path::new("/usr/bin/time").exists();
    let mut c = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg("-o").arg(&stats).arg(recipe_bin());
        c
    } else {
        Command::new(recipe_bin())
    };
    c.args(args)
        .env("RECIPE_CACHE", shared_cache())
        .env("NO_COLOR", "1")
        .env_remove("RECIPE_CHECK_MAX_UNPACKED")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0);
    let started = std::time::Instant::now();
    let mut child = c.spawn().unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!(
                "`recipe {args:?}` did not finish within 60 s (killed)\nstderr:\n{}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let wall = started.elapsed();
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
    let rss = timed.then(|| {
        read(&stats)
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse().ok())
            .expect("a peak RSS from /usr/bin/time")
    });
    eprintln!(
        "figures: recipe {:?}: {:.2} s, peak RSS {} KiB",
        args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
        wall.as_secs_f64(),
        rss.map_or("?".into(), |r: u64| r.to_string())
    );
    // Under `time`, the exit code is recipe's (a signal shows as 128 + n).
    (
        Output {
            code: status.code().unwrap_or(-1),
            stdout: read(&out),
            stderr: read(&err),
        },
        rss,
    )
}

#[track_caller]
fn assert_rss(rss: Option<u64>) {
    if let Some(kb) = rss {
        assert!(kb < MAX_RSS_KB, "peak RSS {kb} KiB, more than {MAX_RSS_KB}");
    }
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

pub(crate) fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// A gzip member of `n` zeros, compressed once (members are concatenated into bombs).
fn gz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zeros_member() -> &'static [u8] {
    static M: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..64 {
            e.write_all(&chunk).unwrap();
        }
        e.finish().unwrap()
    })
}

/// A gzip layer (multi-member, as `MultiGzDecoder` reads it) holding one file `name` of
/// `mib64 * 64 MiB` zeros: about 64 KiB on disk per 64 MiB.
fn bomb_layer(name: &str, mib64: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(mib64 * (64 << 20));
    h.set_mode(0o644);
    h.set_cksum();
    let mut v = gz(h.as_bytes());
    // The data, then the two zero blocks that end the tar (inside the last member's zeros).
    for _ in 0..=mib64 {
        v.extend_from_slice(zeros_member());
    }
    v
}

/// A docker archive: `manifest.json` listing `refs` as the layers, the config, the layers.
fn docker_archive(path: &Path, refs: &[&str], layers: &[(&str, &[u8])]) {
    let manifest = serde_json::json!([{
        "Config": "c.json",
        "RepoTags": ["bomb:1"],
        "Layers": refs,
    }]);
    let config = br#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/app"]}}"#;
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    add("manifest.json", manifest.to_string().as_bytes());
    add("c.json", config);
    for (name, data) in layers {
        add(name, data);
    }
    b.finish().unwrap();
}

/// 100,000 references to one gzip bomb (4 GiB of zeros) took hours of CPU: now the layer count
/// is capped and the image is refused at once.
#[test]
fn check_refuses_a_manifest_of_100000_layer_references() {
    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("refs.tar");
    let bomb = bomb_layer("data", 64);
    let refs = vec!["l/layer.tar"; 100_000];
    docker_archive(&archive, &refs, &[("l/layer.tar", &bomb)]);
    eprintln!(
        "100,000 references: {} bytes on disk",
        std::fs::metadata(&archive).unwrap().len()
    );
    let (o, rss) = guarded(&[os("check"), archive.as_os_str()], &[]);
    let o = o
        .failure(2)
        .stderr_has("refs.tar")
        .stderr_has("the manifest lists 100000 layers, more than 256, the limit for one image");
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert_rss(rss);
}

/// A gzip bomb stops at the decompressed-bytes cap of a layer (here set small through
/// `RECIPE_CHECK_MAX_UNPACKED`; the default is 16 GiB a layer).
#[test]
fn check_stops_a_gzip_bomb_at_the_layer_cap() {
    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("bomb.tar");
    let bomb = bomb_layer("data", 64); // 4 GiB of zeros, about 4 MB
    docker_archive(&archive, &["l/layer.tar"], &[("l/layer.tar", &bomb)]);
    let (o, rss) = guarded(
        &[os("check"), archive.as_os_str()],
        &[("RECIPE_CHECK_MAX_UNPACKED", "256M")],
    );
    o.failure(2).stderr_has(
        "layer l/layer.tar: decompresses to more than 256 MiB, the limit for one layer \
         (`RECIPE_CHECK_MAX_UNPACKED` sets it)",
    );
    assert_rss(rss);
    // A bad value is an error, not ignored.
    let (o, _) = guarded(
        &[os("check"), archive.as_os_str()],
        &[("RECIPE_CHECK_MAX_UNPACKED", "lots")],
    );
    o.failure(2)
        .stderr_has("`RECIPE_CHECK_MAX_UNPACKED` is `lots`: not a size");
}

/// A layer listed 200 times is decompressed once (200 × 320 MiB would cross a 1 GiB cap), and
/// two different layers together cross the image's cap.
#[test]
fn check_reads_a_repeated_layer_once_and_caps_the_image() {
    let t = tempfile::tempdir().unwrap();
    let layer = bomb_layer("data", 5); // 320 MiB of zeros
    let repeated = t.path().join("repeated.tar");
    docker_archive(&repeated, &["l/layer.tar"; 200], &[("l/layer.tar", &layer)]);
    let cap = [("RECIPE_CHECK_MAX_UNPACKED", "1G")];
    let (o, rss) = guarded(&[os("check"), repeated.as_os_str()], &cap);
    let o = o
        .failure(1)
        .stdout_has("the entrypoint is not in the image");
    assert!(o.stderr.is_empty(), "{}", o.stderr);
    assert_rss(rss);

    let other = bomb_layer("other", 5);
    let two = t.path().join("two.tar");
    docker_archive(
        &two,
        &["l1/layer.tar", "l2/layer.tar"],
        &[("l1/layer.tar", &layer), ("l2/layer.tar", &other)],
    );
    let (o, _) = guarded(
        &[os("check"), two.as_os_str()],
        &[("RECIPE_CHECK_MAX_UNPACKED", "512M")],
    );
    o.failure(2).stderr_has(
        "layer l2/layer.tar: the image's layers decompress to more than 512 MiB, the limit for \
         one image",
    );
}

/// A 1.6 MB layer of 1,500 entries with 1 MB names took 2.9 GB of memory: now the first such
/// name stops the check, never read whole.
#[test]
fn check_refuses_megabyte_names_with_bounded_memory() {
    const NAME: usize = 1 << 20;
    let prefix = gz(&vec![b'a'; NAME - 9]);
    let mut layer = Vec::new();
    for i in 0..1500 {
        let mut long = tar::Header::new_gnu();
        long.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        long.set_entry_type(tar::EntryType::GNULongName);
        long.set_size(NAME as u64);
        long.set_mode(0o644);
        long.set_cksum();
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..100].copy_from_slice(&[b'a'; 100]);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_mode(0o755);
        h.set_cksum();
        layer.extend(gz(long.as_bytes()));
        layer.extend_from_slice(&prefix);
        let mut tail = format!("{i:08}\0").into_bytes();
        tail.resize(tail.len() + (512 - NAME % 512) % 512, 0);
        tail.extend_from_slice(h.as_bytes());
        layer.extend(gz(&tail));
    }
    layer.extend(gz(&[0u8; 1024]));
    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("names.tar");
    docker_archive(&archive, &["l/layer.tar"], &[("l/layer.tar", &layer)]);
    eprintln!("long names: a layer of {} bytes", layer.len());
    let (o, rss) = guarded(&[os("check"), archive.as_os_str()], &[]);
    o.failure(2).stderr_has(
        "layer l/layer.tar: an entry's headers (its name, link target, PAX records) are larger \
         than 256 KiB, the limit for one entry (a name may have at most 4096 bytes)",
    );
    assert_rss(rss);
}

/// A FIFO given to `check`, or inside a checked directory, is refused or skipped, never opened
/// (opening one blocks until a writer comes); names reach the terminal escaped.
#[test]
fn check_skips_fifos_and_escapes_names() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    mkfifo(&root.join("pipe\x1b[31m"));
    write_exe(&root.join("run\x1b[2J\nrecipe: ok"), "#!/bin/sh\necho hi\n");
    let (o, rss) = guarded(&[os("check"), root.as_os_str()], &[]);
    let o = o
        .failure(1)
        .stdout_has("note: skipped /pipe\\x1b[31m: a FIFO, not a regular file")
        .stdout_has("/run\\x1b[2J\\nrecipe: ok");
    assert!(!o.stdout.contains('\x1b'), "{:?}", o.stdout);
    assert!(!o.stdout.contains("\nrecipe: ok"), "{:?}", o.stdout);
    assert_rss(rss);

    let fifo = t.path().join("f");
    mkfifo(&fifo);
    let (o, _) = guarded(&[os("check"), fifo.as_os_str()], &[]);
    o.failure(2)
        .stderr_has("a FIFO, not a regular file or a directory");
}

/// A sparse 4 GiB ELF in a checked directory was mapped whole: files above the one-file cap
/// (512 MiB) are skipped with a note; a large non-ELF file is judged by its head.
#[test]
fn check_skips_a_4_gib_file_without_mapping_it() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let big = root.join("big");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&big).unwrap();
        f.write_all(b"\x7fELF\x02\x01\x01").unwrap();
        f.set_len(4 << 30).unwrap();
    }
    std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = root.join("data.sh");
    std::fs::write(&data, "#!/bin/sh\n").unwrap();
    std::fs::File::options()
        .append(true)
        .open(&data)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let (o, rss) = guarded(&[os("check"), root.as_os_str()], &[]);
    o.failure(1)
        .stdout_has(
            "note: skipped /big: 4294967296 bytes, more than the 512 MiB one file may have to be \
             checked",
        )
        .stdout_has("too large to check")
        .stdout_has("/data.sh");
    assert_rss(rss);
}
