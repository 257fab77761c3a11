//! `recipe push` against a real registry (Debian's docker-registry on 127.0.0.1) and against
//! registries that refuse: every digest kept, and refusals named with their HTTP status.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use recipe::arch::Arch;
use recipe::image::{Entry, ImageConfig, PlatformImage, User, Written, base_entries, write_layout};
use serde_json::Value;

use crate::util::{recipe, require_tool, run, sha};

/// A registry started for one test, storage in a temp folder; killed on drop.
pub struct Registry {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub fn start() -> Option<Registry> {
        if !require_tool("docker-registry") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // A free port: bound, read and released just before the registry binds it.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("storage").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let r = Registry {
            child,
            port,
            _dir: dir,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the registry did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(r)
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 3-arch image as `recipe build` leaves it: `OUT/app/oci`, tagged `app:7.0.15`.
fn built_image(out: &Path) -> Written {
    let src = out.join("src");
    fs::create_dir_all(&src).unwrap();
    let images: Vec<PlatformImage> = Arch::ALL
        .iter()
        .map(|&arch| {
            let bin = src.join(format!("app-{arch}"));
            fs::write(&bin, format!("app for {arch}\n").repeat(500)).unwrap();
            let mut entries = base_entries(&User::default(), &["/data".to_string()]);
            entries.push(Entry::file("/usr/local/bin/app", 0o755, &bin));
            PlatformImage {
                arch,
                entries,
                config: ImageConfig {
                    entrypoint: vec!["/usr/local/bin/app".into()],
                    ..ImageConfig::default()
                },
                history: "recipe build app 7.0.15".into(),
            }
        })
        .collect();
    write_layout(&out.join("app").join("oci"), "app:7.0.15", &images).unwrap()
}

fn skopeo(args: &[&str]) -> Vec<u8> {
    let o = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn override_args(arch: Arch) -> Vec<String> {
    let info = arch.info();
    let mut v = vec![
        "--override-arch".to_string(),
        info.oci_arch.to_string(),
        "--override-os".into(),
        "linux".into(),
    ];
    if let Some(var) = info.oci_variant {
        v.extend(["--override-variant".to_string(), var.to_string()]);
    }
    v
}

#[test]
fn push_keeps_every_digest() {
    if !require_tool("skopeo") {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let w = built_image(&out);
    let target = format!("{}/team/app", reg.host());

    // Without a tag: the image's own (7.0.15).
    let o = run(&mut push(&target, &out)).success();
    assert!(
        o.stdout
            .contains(&format!("pushed {target}:7.0.15@{}", w.index_digest)),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("6 blobs uploaded, 0 already there, 4 manifests"),
        "{}",
        o.stdout
    );

    let reference = format!("docker://{target}:7.0.15");
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &reference]);
    assert_eq!(format!("sha256:{}", sha(&raw)), w.index_digest);
    let index: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 3);
    for arch in Arch::ALL {
        let p = w.platforms.iter().find(|p| p.arch == arch).unwrap();
        let mut args = override_args(arch);
        args.extend([
            "inspect".into(),
            "--tls-verify=false".into(),
            reference.clone(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let info: Value = serde_json::from_slice(&skopeo(&args)).unwrap();
        assert_eq!(info["Architecture"], arch.info().oci_arch, "{info}");
        assert_eq!(info["Layers"][0], p.layer_digest.as_str(), "{info}");
        // The platform manifest by digest, byte for byte.
        let m = skopeo(&[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{target}@{}", p.manifest_digest),
        ]);
        assert_eq!(format!("sha256:{}", sha(&m)), p.manifest_digest);
    }

    // Again, with an explicit tag: nothing to upload, the same digest.
    let o = run(&mut push(&format!("{target}:stable"), &out)).success();
    assert!(
        o.stdout.contains("0 blobs uploaded, 6 already there"),
        "{}",
        o.stdout
    );
    let raw2 = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{target}:stable"),
    ]);
    assert_eq!(raw2, raw);
}

/// A fake registry: `answer(method, path)` gives the status line and body of each request.
fn fake_registry(answer: fn(&str, &str) -> (&'static str, &'static str)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut s) = stream else { continue };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(1) => head.push(b[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            let mut body = vec![0u8; len];
            let _ = s.read_exact(&mut body);
            let mut words = head.split_whitespace();
            let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let (status, text) = answer(method, path);
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    host
}

/// `recipe push app TARGET --insecure --out OUT`.
fn push(target: &str, out: &Path) -> std::process::Command {
    let mut c = recipe();
    c.args(["push", "app", target, "--insecure", "--out"])
        .arg(out);
    c
}

fn image_dir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    built_image(&out);
    (t, out)
}

#[test]
fn a_refusing_registry_fails_with_its_status() {
    let (_t, out) = image_dir();
    let host = fake_registry(|_, _| {
        (
            "403 Forbidden",
            r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
        )
    });
    let o = run(&mut push(&format!("{host}/app:1"), &out))
        .failure(1)
        .stderr_has(&format!("registry {host}: cannot push blob sha256:"))
        .stderr_has("403 Forbidden");
    assert!(!o.stdout.contains("pushed"), "{}", o.stdout);
}

#[test]
fn a_failing_index_push_is_not_reported_as_done() {
    let (_t, out) = image_dir();
    // Every blob is there and platform manifests go in; the tag's PUT fails.
    let host = fake_registry(|method, path| match (method, path) {
        ("PUT", p) if p.ends_with("/manifests/1") => ("500 Internal Server Error", "disk full"),
        ("PUT", _) => ("201 Created", ""),
        _ => ("200 OK", ""),
    });
    let o = run(&mut push(&format!("{host}/app:1"), &out))
        .failure(1)
        .stderr_has(&format!(
            "registry {host}: cannot push the image index sha256:"
        ))
        .stderr_has("as tag `1`")
        .stderr_has("500");
    assert!(!o.stdout.contains("pushed"), "{}", o.stdout);
}

#[test]
fn no_registry_and_no_image_are_named() {
    let (_t, out) = image_dir();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    run(&mut push(&format!("127.0.0.1:{port}/app"), &out))
        .failure(1)
        .stderr_has(&format!("registry 127.0.0.1:{port}: cannot push"))
        .stderr_has("onnection refused");
    run(recipe()
        .args(["push", "nope", "127.0.0.1:1/app", "--out"])
        .arg(&out))
    .failure(2)
    .stderr_has("no image of `nope`");
    run(recipe()
        .args(["push", "app", "127.0.0.1:1/App:x", "--out"])
        .arg(&out))
    .failure(2)
    .stderr_has("invalid image reference");
}
