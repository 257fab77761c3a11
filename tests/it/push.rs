//! `recipe push` against a real registry (Debian's docker-registry on 127.0.0.1) and against
//! registries that refuse: every digest kept, and refusals named with their HTTP status.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use recipe::arch::Arch;
use recipe::image::{Entry, ImageConfig, PlatformImage, User, Written, base_entries, write_layout};
use serde_json::Value;

use crate::util::{recipe, recipe_bin, require_tool, run, sha};

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
        let port = crate::util::free_port();
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

    /// The blob `digest`'s bytes as the registry stores them (to change them behind its back).
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self._dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 3-arch image as `recipe build` leaves it: `OUT/app/oci`, tagged `app:7.0.15`.
pub(crate) fn built_image(out: &Path) -> Written {
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
pub(crate) fn fake_registry(answer: fn(&str, &str) -> (&'static str, &'static str)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut s) = stream else { continue };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let Some(req) = read_request(&mut s) else {
                continue;
            };
            let (status, text) = answer(&req.method, &req.path);
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
    let port = crate::util::free_port();
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

/// One request as a hostile server read it.
struct Req {
    method: String,
    path: String,
    head: String,
    body: Vec<u8>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one request (head, then a `Content-Length` body) from `s`.
fn read_request(s: &mut TcpStream) -> Option<Req> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => return None,
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
    s.read_exact(&mut body).ok()?;
    let mut words = head.split_whitespace();
    Some(Req {
        method: words.next()?.to_string(),
        path: words.next()?.to_string(),
        head: head.clone(),
        body,
    })
}

/// A hostile registry on 127.0.0.1: each connection's first request is handed to `answer`,
/// which writes whatever it likes (or nothing); one thread per connection. Returns the host
/// and the log of `METHOD PATH` lines.
fn hostile(
    answer: impl Fn(&Req, &mut TcpStream) + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (answer, seen) = (Arc::new(answer), log.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(mut s) = stream else { continue };
            let (answer, seen) = (answer.clone(), seen.clone());
            std::thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                if let Some(r) = read_request(&mut s) {
                    seen.lock()
                        .unwrap()
                        .push(format!("{} {}", r.method, r.path));
                    answer(&r, &mut s);
                }
            });
        }
    });
    (host, log)
}

/// Writes a complete answer with `Connection: close`.
fn reply(s: &mut TcpStream, status: &str, headers: &str, body: &[u8]) {
    let _ = write!(
        s,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
        body.len()
    );
    let _ = s.write_all(body);
}

/// Runs `cmd`, killing it after `secs` (a hang guard, not a timing): `None` when it hung.
fn run_within(cmd: &mut Command, secs: u64) -> Option<crate::util::Output> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let o = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (o.join().unwrap(), e.join().unwrap());
    status.map(|st| crate::util::Output {
        code: st.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

#[test]
fn a_silent_registry_fails_within_its_timeout() {
    let (_t, out) = image_dir();
    // Accepts every connection, reads the request, never answers (the socket is kept open).
    let (host, _) = hostile(|_, s| {
        let _keep = s.try_clone().unwrap();
        std::thread::sleep(Duration::from_secs(120));
    });
    let o = run_within(
        push(&format!("{host}/app:1"), &out).env("RECIPE_REGISTRY_TIMEOUT", "2"),
        60,
    )
    .expect("`recipe push` to a silent registry hung");
    let o = o
        .failure(1)
        .stderr_has(&format!("registry {host}: cannot push blob sha256:"))
        .stderr_has("no answer within 2 s (`RECIPE_REGISTRY_TIMEOUT`)");
    assert!(!o.stdout.contains("pushed"), "{}", o.stdout);

    // An error answer that trickles in, a byte a second, is cut off as well.
    let (host, _) = hostile(|r, s| {
        if r.method == "HEAD" {
            return reply(s, "404 Not Found", "", b"");
        }
        let _ = write!(
            s,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\n\r\n"
        );
        for _ in 0..100_000 {
            if s.write_all(b"x").and_then(|_| s.flush()).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let o = run_within(
        push(&format!("{host}/app:1"), &out).env("RECIPE_REGISTRY_TIMEOUT", "2"),
        60,
    )
    .expect("`recipe push` hung on a trickling answer");
    o.failure(1)
        .stderr_has(&format!("registry {host}: cannot push blob sha256:"))
        .stderr_has("POST answered `500 Internal Server Error`: x");

    // A bad setting is named, and is bad input: exit 2.
    run(push(&format!("{host}/app:1"), &out).env("RECIPE_REGISTRY_TIMEOUT", "soon"))
        .failure(2)
        .stderr_has("`RECIPE_REGISTRY_TIMEOUT` must be a number of seconds");
}

#[test]
fn a_huge_error_answer_is_capped_and_escaped() {
    if !Path::new("/usr/bin/time").is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "/usr/bin/time is required under CI"
        );
        crate::util::skip("no /usr/bin/time");
        return;
    }
    let (t, out) = image_dir();
    const CLAIMED: u64 = 3_000_000_000;
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    // HEAD: no blob. POST: `500` with a 3 GB body, made as it is sent (bell characters and a
    // fake line included), until the client goes away.
    let (host, _) = hostile(move |r, s| {
        if r.method == "HEAD" {
            return reply(s, "404 Not Found", "", b"");
        }
        let _ = write!(
            s,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {CLAIMED}\r\nConnection: close\r\n\r\n"
        );
        let chunk = "disk full\u{7}\npushed evil:latest@sha256:0\n".repeat(2048);
        let mut n = 0u64;
        while n < CLAIMED {
            let part = &chunk.as_bytes()[..chunk.len().min((CLAIMED - n) as usize)];
            if s.write_all(part).is_err() {
                break;
            }
            n += part.len() as u64;
            counter.store(n, Ordering::SeqCst);
        }
    });
    let stats = t.path().join("time.txt");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-v").arg("-o").arg(&stats).arg(recipe_bin());
    for (k, v) in recipe().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.args([
        "push",
        "app",
        &format!("{host}/app:1"),
        "--insecure",
        "--out",
    ])
    .arg(&out);
    let o = run_within(&mut cmd, 300).expect("`recipe push` hung on a huge error answer");
    let o = o
        .failure(1)
        .stderr_has(&format!("registry {host}: cannot push blob sha256:"))
        .stderr_has("POST answered `500 Internal Server Error`: disk full\\x07\\npushed evil")
        .stderr_has("… (an answer over 65536 bytes, the rest not read)");
    assert!(o.stderr.len() < 4096, "stderr is {} bytes", o.stderr.len());
    assert!(!o.stderr.contains('\u{7}'), "{}", o.stderr);
    assert!(!o.stdout.contains("pushed"), "{}", o.stdout);
    let stats = fs::read_to_string(&stats).unwrap();
    let kb: u64 = stats
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {stats}"));
    assert!(kb < 200 * 1024, "peak memory {kb} KiB");
    // The client stopped reading long before the end.
    assert!(sent.load(Ordering::SeqCst) < CLAIMED / 10);
}

/// `sha256:...` of the blob or manifest a request path ends with.
fn path_digest(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or("");
    last.split(['?', '&'])
        .find_map(|p| p.strip_prefix("digest="))
        .unwrap_or(last)
        .replace("%3A", ":")
}

#[test]
fn a_wrong_manifest_digest_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let w = built_image(&out);
    let wrong = format!("sha256:{}", "f".repeat(64));
    let header = format!("Docker-Content-Digest: {wrong}\r\n");
    // Every blob is there; every manifest is "stored" under another digest.
    let (host, log) = hostile(move |r, s| match r.method.as_str() {
        "HEAD" => reply(s, "200 OK", "", b""),
        "PUT" => reply(s, "201 Created", &header, b""),
        _ => reply(s, "404 Not Found", "", b""),
    });
    let wrong = format!("sha256:{}", "f".repeat(64));
    let o = run(&mut push(&format!("{host}/app:1"), &out))
        .failure(1)
        .stderr_has(&format!(
            "registry {host}: cannot push the linux/amd64 manifest {}",
            w.platforms[0].manifest_digest
        ))
        .stderr_has(&format!(
            "the registry answered digest `{wrong}` for `{}`",
            w.platforms[0].manifest_digest
        ));
    assert!(!o.stdout.contains("pushed"), "{}", o.stdout);
    // The tag was never sent.
    let log = log.lock().unwrap();
    assert!(!log.iter().any(|l| l.ends_with("/manifests/1")), "{log:?}");
}

#[test]
fn a_redirected_blob_check_is_not_trusted() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let w = built_image(&out);
    // Another server that says it has every blob, with the right digest.
    let (other, other_log) = hostile(|r, s| {
        let d = path_digest(&r.path);
        reply(s, "200 OK", &format!("Docker-Content-Digest: {d}\r\n"), b"")
    });
    // The registry sends every HEAD there, and stores what is uploaded to it.
    let stored = Arc::new(Mutex::new(Vec::<String>::new()));
    let kept = stored.clone();
    let (host, _) = hostile(move |r, s| match r.method.as_str() {
        "HEAD" => reply(
            s,
            "307 Temporary Redirect",
            &format!("Location: http://{other}{}\r\n", r.path),
            b"",
        ),
        _ => store(r, s, &kept),
    });
    let o = run(&mut push(&format!("{host}/app:1"), &out))
        .success()
        .stdout_has(&format!("pushed {host}/app:1@{}", w.index_digest))
        .stdout_has("6 blobs uploaded, 0 already there");
    assert!(
        o.stderr.is_empty() || !o.stderr.contains("error"),
        "{}",
        o.stderr
    );
    let mut stored = stored.lock().unwrap().clone();
    stored.sort();
    stored.dedup();
    assert_eq!(stored.len(), 6, "{stored:?}");
    assert!(
        other_log.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}

/// A registry's answers for uploads and manifests: blobs uploaded to it are checked and their
/// digests kept in `kept`; manifests answer their own digest.
fn store(r: &Req, s: &mut TcpStream, kept: &Mutex<Vec<String>>) {
    let d = path_digest(&r.path);
    match r.method.as_str() {
        "HEAD" => reply(s, "404 Not Found", "", b""),
        "POST" => reply(
            s,
            "202 Accepted",
            "Location: /v2/app/blobs/uploads/u1\r\n",
            b"",
        ),
        "PUT" if r.path.starts_with("/v2/app/blobs/uploads/u1?digest=") => {
            if format!("sha256:{}", sha(&r.body)) == d {
                kept.lock().unwrap().push(d.clone());
                reply(
                    s,
                    "201 Created",
                    &format!("Docker-Content-Digest: {d}\r\n"),
                    b"",
                );
            } else {
                reply(s, "400 Bad Request", "", b"DIGEST_INVALID");
            }
        }
        "PUT" => {
            let d = format!("sha256:{}", sha(&r.body));
            reply(
                s,
                "201 Created",
                &format!("Docker-Content-Digest: {d}\r\n"),
                b"",
            )
        }
        _ => reply(s, "404 Not Found", "", b""),
    }
}

#[test]
fn a_token_registry_is_answered_with_its_token() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let w = built_image(&out);
    // The token realm: a token only for `user:pw` (basic) asking to push `app`.
    let (realm, realm_log) = hostile(|r, s| {
        let basic = r.header("authorization") == Some("Basic dXNlcjpwdw==");
        let scoped = r.path.contains("scope=repository%3Aapp%3Apull%2Cpush")
            && r.path.contains("service=fake");
        if basic && scoped {
            reply(s, "200 OK", "", br#"{"token":"tok-123"}"#)
        } else {
            reply(
                s,
                "401 Unauthorized",
                "",
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"who are you"}]}"#,
            )
        }
    });
    let stored = Arc::new(Mutex::new(Vec::<String>::new()));
    let kept = stored.clone();
    let challenge = format!(
        "WWW-Authenticate: Bearer realm=\"http://{realm}/token\",service=\"fake\",scope=\"repository:app:pull\"\r\n"
    );
    let (host, log) = hostile(move |r, s| {
        if r.header("authorization") == Some("Bearer tok-123") {
            store(r, s, &kept)
        } else {
            reply(s, "401 Unauthorized", &challenge, b"")
        }
    });
    run(push(&format!("{host}/app:1"), &out).env("REGISTRY_AUTH", "user:pw"))
        .success()
        .stdout_has(&format!("pushed {host}/app:1@{}", w.index_digest))
        .stdout_has("6 blobs uploaded, 0 already there, 4 manifests");
    assert_eq!(stored.lock().unwrap().len(), 6);
    // One token, asked for once; then every request carries it.
    assert_eq!(realm_log.lock().unwrap().len(), 1);
    assert_eq!(log.lock().unwrap().len(), 1 + 6 * 3 + 4);

    // Wrong credentials: the realm's refusal, named.
    let o = run(push(&format!("{host}/app:1"), &out).env("REGISTRY_AUTH", "user:nope"))
        .failure(1)
        .stderr_has(&format!("registry {host}: cannot push blob sha256:"))
        .stderr_has("its token realm answered `401 Unauthorized`: UNAUTHORIZED: who are you");
    assert!(!o.stdout.contains("pushed"), "{}", o.stdout);
}

#[test]
fn a_basic_auth_registry_gets_the_credentials() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let w = built_image(&out);
    let stored = Arc::new(Mutex::new(Vec::<String>::new()));
    let kept = stored.clone();
    let (host, _) = hostile(move |r, s| {
        if r.header("authorization") == Some("Basic dXNlcjpwdw==") {
            store(r, s, &kept)
        } else {
            reply(
                s,
                "401 Unauthorized",
                "WWW-Authenticate: Basic realm=\"registry\"\r\n",
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            )
        }
    });
    run(push(&format!("{host}/app:1"), &out).env("REGISTRY_AUTH", "user:pw"))
        .success()
        .stdout_has(&format!("pushed {host}/app:1@{}", w.index_digest));
    assert_eq!(stored.lock().unwrap().len(), 6);
    // Without credentials: the refusal, named.
    run(push(&format!("{host}/app:1"), &out).env_remove("REGISTRY_AUTH"))
        .failure(1)
        .stderr_has(&format!("registry {host}: cannot push blob sha256:"))
        .stderr_has("HEAD answered `401 Unauthorized`");
}
