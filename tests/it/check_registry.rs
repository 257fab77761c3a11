//! `recipe check` of images where they live: served by a registry on 127.0.0.1 (Debian's
//! docker-registry, behind a proxy that counts requests) and saved from podman. The verdicts
//! equal those of the same images as archives, and only the chosen platforms' blobs are
//! fetched.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use recipe::arch::Arch;
use recipe::image::{Entry, ImageConfig, PlatformImage, User, Written, base_entries, write_layout};
use serde_json::Value;

use crate::push::Registry;
use crate::util::{Output, Podman, recipe, require_tool, run};

/// A proxy in front of a registry that records `METHOD PATH` of every request (one request a
/// connection: it asks the registry to close after answering).
struct Counting {
    host: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Counting {
    fn start(upstream: String) -> Counting {
        Counting::with(upstream, false)
    }

    /// With `redirect`, blob GETs answer `307` to `/storage/...` of the proxy, which serves the
    /// registry's blob: a registry that sends downloads to its storage.
    fn with(upstream: String, redirect: bool) -> Counting {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let (up, kept) = (upstream.clone(), kept.clone());
                std::thread::spawn(move || forward(client, &up, &kept, redirect));
            }
        });
        Counting { host, seen }
    }

    /// The requests so far, and forget them.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

fn forward(mut client: TcpStream, upstream: &str, seen: &Mutex<Vec<String>>, redirect: bool) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().to_string();
    let mut parts = first.split(' ');
    let (method, path) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    seen.lock().unwrap().push(format!("{method} {path}"));
    if redirect && method == "GET" && path.starts_with("/v2/") && path.contains("/blobs/") {
        let _ = write!(
            client,
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{}/storage{path}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            client.local_addr().unwrap()
        );
        return;
    }
    if let Some(p) = path.strip_prefix("/storage") {
        first = format!("{method} {p} HTTP/1.1");
    }
    let mut out = format!("{first}\r\n");
    for l in lines.filter(|l| !l.is_empty()) {
        if !l.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    if up.write_all(out.as_bytes()).is_err() {
        return;
    }
    let _ = std::io::copy(&mut up, &mut client);
}

/// Writes the layout `OUT/NAME/oci` of `images` tagged `NAME:1`, and its archive beside it.
fn layout(out: &Path, name: &str, images: &[PlatformImage]) -> (Written, PathBuf) {
    let dir = out.join(name).join("oci");
    let written = write_layout(&dir, &format!("{name}:1"), images).unwrap();
    let archive = out.join(format!("{name}.tar"));
    recipe::image::write_archive(&dir, &archive).unwrap();
    (written, archive)
}

fn platform(arch: Arch, files: Vec<Entry>, entrypoint: &str) -> PlatformImage {
    let mut entries = base_entries(&User::default(), &[] as &[String]);
    entries.extend(files);
    PlatformImage {
        arch,
        entries,
        config: ImageConfig {
            entrypoint: vec![entrypoint.into()],
            ..ImageConfig::default()
        },
        history: "test".into(),
    }
}

/// A Python app for every arch: a `#!/usr/bin/python3` script as entrypoint; amd64 has the
/// host's python3 too, arm64 and armv7 share one layer (the script alone).
fn python_app(out: &Path) -> (Written, PathBuf) {
    let script = out.join("main.py");
    fs::create_dir_all(out).unwrap();
    fs::write(&script, "#!/usr/bin/python3\nprint('hello')\n").unwrap();
    let python = fs::canonicalize("/usr/bin/python3").unwrap();
    let images: Vec<PlatformImage> = Arch::ALL
        .iter()
        .map(|&arch| {
            let mut files = vec![Entry::file("/app/main.py", 0o755, &script)];
            if arch == Arch::Amd64 {
                files.push(Entry::file("/usr/bin/python3", 0o755, &python));
            }
            platform(arch, files, "/app/main.py")
        })
        .collect();
    layout(out, "pyapp", &images)
}

/// A dynamically linked C app (Debian's `/bin/ls`), amd64 only.
fn c_app(out: &Path) -> (Written, PathBuf) {
    let ls = fs::canonicalize("/bin/ls").unwrap();
    let img = platform(
        Arch::Amd64,
        vec![Entry::file("/usr/local/bin/ls", 0o755, &ls)],
        "/usr/local/bin/ls",
    );
    layout(out, "lsapp", &[img])
}

fn push(out: &Path, name: &str, host: &str) {
    run(recipe()
        .args([
            "push",
            name,
            &format!("{host}/{name}:1"),
            "--insecure",
            "--out",
        ])
        .arg(out))
    .success();
}

fn check(args: &[&str]) -> (Output, Value) {
    let o = run(recipe().arg("check").arg("--json").args(args));
    let v = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", o.stdout, o.stderr));
    (o, v)
}

fn platforms(v: &Value) -> &Value {
    &v["targets"][0]["platforms"]
}

/// The config digest of a platform manifest of the layout.
fn config_of(layout: &Path, manifest: &str) -> String {
    let hex = manifest.strip_prefix("sha256:").unwrap();
    let m: Value =
        serde_json::from_slice(&fs::read(layout.join("blobs/sha256").join(hex)).unwrap()).unwrap();
    m["config"]["digest"].as_str().unwrap().to_string()
}

/// How many times each blob was fetched (GET of `/v2/REPO/blobs/DIGEST`).
fn blob_gets(seen: &[String]) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for s in seen {
        if let Some(p) = s.strip_prefix("GET ")
            && let Some((_, d)) = p.split_once("/blobs/")
        {
            *n.entry(d.to_string()).or_default() += 1;
        }
    }
    n
}

fn manifest_gets(seen: &[String]) -> usize {
    seen.iter()
        .filter(|s| s.starts_with("GET ") && s.contains("/manifests/"))
        .count()
}

#[test]
fn registry_images_get_the_verdicts_of_their_archives_fetching_only_what_is_needed() {
    let Some(reg) = Registry::start() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let (py, py_archive) = python_app(&out);
    let (_, ls_archive) = c_app(&out);
    push(&out, "pyapp", &reg.host());
    push(&out, "lsapp", &reg.host());
    let proxy = Counting::start(reg.host());
    let host = &proxy.host;
    let py_layout = out.join("pyapp/oci");

    // The Python app, every platform: the archive's verdicts, every blob fetched once (the
    // layer arm64 and armv7 share too).
    let (o, from_archive) = check(&[py_archive.to_str().unwrap()]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    proxy.take();
    let (o, pulled) = check(&["--insecure", &format!("{host}/pyapp:1")]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(platforms(&pulled), platforms(&from_archive));
    assert_eq!(pulled["targets"][0]["kind"], "registry");
    for p in platforms(&pulled).as_array().unwrap() {
        assert_eq!(p["apps"][0]["verdict"], "needs-runtime", "{p}");
        assert_eq!(p["apps"][0]["path"], "/app/main.py", "{p}");
    }
    assert_eq!(platforms(&pulled).as_array().unwrap().len(), 3);
    let seen = proxy.take();
    let mut wanted: BTreeMap<String, usize> = BTreeMap::new();
    for p in &py.platforms {
        wanted.insert(p.layer_digest.clone(), 1);
        wanted.insert(config_of(&py_layout, &p.manifest_digest), 1);
    }
    let (arm64, armv7) = (&py.platforms[1], &py.platforms[2]);
    assert_eq!(arm64.layer_digest, armv7.layer_digest, "a shared layer");
    assert_eq!(blob_gets(&seen), wanted, "{seen:#?}");
    assert_eq!(
        manifest_gets(&seen),
        4,
        "the tag's index and 3 manifests: {seen:#?}"
    );

    // One platform: its manifest, config and layer only.
    let (o, one) = check(&["--insecure", "--arch", "arm64", &format!("{host}/pyapp:1")]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let (_, one_archive) = check(&["--arch", "arm64", py_archive.to_str().unwrap()]);
    assert_eq!(platforms(&one), platforms(&one_archive));
    assert_eq!(platforms(&one)[0]["arch"], "arm64");
    let seen = proxy.take();
    let wanted = BTreeMap::from([
        (arm64.layer_digest.clone(), 1),
        (config_of(&py_layout, &arm64.manifest_digest), 1),
    ]);
    assert_eq!(blob_gets(&seen), wanted, "{seen:#?}");
    assert_eq!(manifest_gets(&seen), 2, "{seen:#?}");

    // The dynamic C app, pinned by digest: ready after a static rebuild, as its archive.
    let (o, from_archive) = check(&[ls_archive.to_str().unwrap()]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let index: Value =
        serde_json::from_slice(&fs::read(out.join("lsapp/oci/index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let (o, pulled) = check(&["--insecure", &format!("docker://{host}/lsapp@{digest}")]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(platforms(&pulled), platforms(&from_archive));
    let app = &platforms(&pulled)[0]["apps"][0];
    assert_eq!(app["verdict"], "ready-after-static-rebuild", "{app}");
    assert!(app["reasons"].to_string().contains("libc.so.6"), "{app}");
}

/// A registry that sends blob downloads elsewhere (as Docker Hub and ghcr.io do): followed,
/// without credentials, the bytes checked; the verdicts are the archive's.
#[test]
fn blobs_redirected_to_storage_are_followed_and_checked() {
    let Some(reg) = Registry::start() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let (ls, ls_archive) = c_app(&out);
    push(&out, "lsapp", &reg.host());
    let proxy = Counting::with(reg.host(), true);
    let (_, from_archive) = check(&[ls_archive.to_str().unwrap()]);
    let (o, pulled) = check(&["--insecure", &format!("{}/lsapp:1", proxy.host)]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(platforms(&pulled), platforms(&from_archive));
    let layer = &ls.platforms[0].layer_digest;
    let seen = proxy.take();
    assert!(
        seen.iter()
            .any(|s| s == &format!("GET /storage/v2/lsapp/blobs/{layer}")),
        "{seen:#?}"
    );
}

/// A single Docker v2 schema 2 manifest by tag (skopeo's conversion of the layout), not an
/// index: the platform comes from the config, the verdict is the archive's.
#[test]
fn a_docker_schema2_manifest_is_read_like_the_archive() {
    if !require_tool("skopeo") {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let (_, ls_archive) = c_app(&out);
    run(Command::new("skopeo").args([
        "copy",
        "--dest-tls-verify=false",
        "--format",
        "v2s2",
        &format!("oci:{}:lsapp:1", out.join("lsapp/oci").display()),
        &format!("docker://{}/lsv2:1", reg.host()),
    ]))
    .success();
    let (_, from_archive) = check(&[ls_archive.to_str().unwrap()]);
    let (o, pulled) = check(&["--insecure", &format!("{}/lsv2:1", reg.host())]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let p = &platforms(&pulled)[0];
    assert_eq!(p["platform"], "linux/amd64");
    assert_eq!(p["apps"], platforms(&from_archive)[0]["apps"]);
}

#[test]
fn registry_bad_input_is_exit_2_naming_the_reference_and_the_object() {
    let Some(reg) = Registry::start() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let (ls, _) = c_app(&out);
    push(&out, "lsapp", &reg.host());
    let proxy = Counting::start(reg.host());
    let host = &proxy.host;
    let tmp = t.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    let check = |args: &[&str], env: &[(&str, &str)]| {
        let o = run(recipe()
            .env("TMPDIR", &tmp)
            .envs(env.iter().copied())
            .arg("check")
            .args(args));
        assert_eq!(
            fs::read_dir(&tmp).unwrap().count(),
            0,
            "nothing left behind"
        );
        o
    };

    // A tag that does not resolve.
    check(&["--insecure", &format!("{host}/lsapp:nope")], &[])
        .failure(2)
        .stderr_has(&format!(
            "cannot read the manifest of tag `nope` of `{host}/lsapp:nope`"
        ))
        .stderr_has("404 Not Found");

    // A layer larger than the cap: refused before a byte of it is fetched.
    proxy.take();
    let layer = &ls.platforms[0].layer_digest;
    check(
        &["--insecure", &format!("{host}/lsapp:1")],
        &[("RECIPE_CHECK_MAX_UNPACKED", "1K")],
    )
    .failure(2)
    .stderr_has(&format!(
        "the layer {layer} of linux/amd64 of `{host}/lsapp:1` is"
    ))
    .stderr_has("more than 1 KiB, the limit for one layer");
    assert!(!blob_gets(&proxy.take()).contains_key(layer));

    // The registry serves other bytes for the layer than its digest.
    let file = reg.blob_file(layer);
    let mut bytes = fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    fs::write(&file, &bytes).unwrap();
    check(&["--insecure", &format!("{host}/lsapp:1")], &[])
        .failure(2)
        .stderr_has(&format!(
            "cannot read the layer {layer} of linux/amd64 of `{host}/lsapp:1`"
        ))
        .stderr_has("its content was changed");

    // No registry there: the registry failed, exit 1.
    let port = crate::util::free_port();
    check(&["--insecure", &format!("127.0.0.1:{port}/lsapp:1")], &[])
        .failure(1)
        .stderr_has(&format!("`127.0.0.1:{port}/lsapp:1`"));

    // Neither a file nor a reference with a registry.
    check(&["lsapp:1"], &[])
        .failure(2)
        .stderr_has("`lsapp:1`: no such file or directory, and no image reference with a registry");
}

/// An image in podman's store, read through `podman image save`: the archive's verdicts.
#[test]
fn a_podman_image_gets_the_verdicts_of_its_archive() {
    if !require_tool("podman") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let (_, ls_archive) = c_app(&out);
    let podman = Podman::new();
    run(podman.cmd().args(["load", "-q", "-i"]).arg(&ls_archive)).success();
    let (_, from_archive) = check(&[ls_archive.to_str().unwrap()]);
    let engine = podman.engine();
    let (o, saved) = check(&[
        "--engine",
        engine.to_str().unwrap(),
        "podman:localhost/lsapp:1",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(saved["targets"][0]["target"], "podman:localhost/lsapp:1");
    assert_eq!(
        platforms(&saved)[0]["apps"],
        platforms(&from_archive)[0]["apps"]
    );
    let o = run(recipe()
        .args(["check", "--engine"])
        .arg(&engine)
        .arg("podman:localhost/nope:1"));
    o.failure(2)
        .stderr_has("cannot save `podman:localhost/nope:1` from its engine");
}
