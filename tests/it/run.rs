//! Images run where people run them: the fixture `hello-http` (a Go HTTP server with an
//! `[image.health]` probe) built for every arch; the amd64 image runs under podman read-only as
//! its user with no new privileges and reports healthy, and has no shell; a `--user 99:100`
//! variant of the same binaries runs too; the arm images' entrypoints and probes run under
//! qemu-user from the unpacked image.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// Unpacks one platform of the layout; returns the rootfs.
fn unpack(layout: &Path, tag: &str, oarch: &str, variant: Option<&str>, dir: &Path) -> PathBuf {
    let single = dir.join("single");
    let mut c = Command::new("skopeo");
    c.args(["--override-arch", oarch]);
    if let Some(v) = variant {
        c.args(["--override-variant", v]);
    }
    run(c
        .args(["copy", "-q"])
        .arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("oci:{}:{tag}", single.display())))
    .success();
    let bundle = dir.join("bundle");
    run(Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:{tag}", single.display()))
        .arg(&bundle))
    .success();
    bundle.join("rootfs")
}

/// Waits for `podman healthcheck run` to pass (the app needs a moment to listen).
fn wait_healthy(p: &Podman, name: &str) -> Output {
    let start = Instant::now();
    loop {
        let o = run(p.cmd().args(["healthcheck", "run", name]));
        if o.code == 0 || start.elapsed() > Duration::from_secs(60) {
            return o;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Loads our archive through its docker `manifest.json` (the amd64 image): podman keeps a
/// Healthcheck only for docker-format images, and drops it when it loads the OCI index.
fn run_under_podman(archive: &Path, image: &str, user: &str) {
    let p = Podman::new();
    let pulled = run(p
        .cmd()
        .args(["pull", "-q"])
        .arg(format!("docker-archive:{}", archive.display())))
    .success();
    let id = pulled
        .stdout
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let names = run(p
        .cmd()
        .args(["image", "inspect", "--format", "{{.RepoTags}}", &id]))
    .success();
    assert!(names.stdout.contains(image), "{}", names.stdout);
    let image = &id;
    let cfg = run(p
        .cmd()
        .args(["inspect", "--format", "{{json .HealthCheck}} {{.User}}"])
        .arg(image))
    .success();
    assert!(
        cfg.stdout
            .contains(r#""Test":["CMD","/usr/local/bin/healthcheck","http","8080","/health"]"#),
        "{}",
        cfg.stdout
    );
    assert!(cfg.stdout.trim_end().ends_with(user), "{}", cfg.stdout);
    run(p.cmd().args([
        "run",
        "-d",
        "--name",
        "app",
        "--read-only",
        "--security-opt",
        "no-new-privileges",
        "--cap-drop",
        "all",
        image,
    ]))
    .success();
    let hc = wait_healthy(&p, "app");
    let logs = run(p.cmd().args(["logs", "app"]));
    assert_eq!(
        hc.code, 0,
        "not healthy: {}{}\nlogs: {}",
        hc.stdout, hc.stderr, logs.stdout
    );
    let state = run(p.cmd().args([
        "inspect",
        "--format",
        "{{.State.Health.Status}} {{.Config.User}}",
        "app",
    ]))
    .success();
    assert_eq!(state.stdout.trim(), format!("healthy {user}"));
    assert!(
        logs.stdout.contains("listening on 0.0.0.0:8080"),
        "{}",
        logs.stdout
    );
    // The app answers (the probe in the image asks it), and there is no shell to exec.
    let probe = run(p.cmd().args([
        "exec",
        "app",
        "/usr/local/bin/healthcheck",
        "http",
        "8080",
        "/",
    ]))
    .success();
    assert!(
        probe.stdout.contains("healthy: HTTP 200"),
        "{}",
        probe.stdout
    );
    let sh = run(p.cmd().args(["exec", "app", "sh", "-c", "true"]));
    assert_ne!(sh.code, 0, "a shell ran in the image");
    let sh = run(p.cmd().args(["exec", "app", "/bin/sh", "-c", "true"]));
    assert_ne!(sh.code, 0, "a shell ran in the image");
    let _ = run(p.cmd().args(["rm", "-f", "app"]));
}

/// A Docker engine of our own (classic `dockerd`, vfs storage, no networking setup), on a socket
/// in a temporary folder; stopped when dropped.
struct Dockerd {
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Dockerd {
    fn start() -> Dockerd {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("dockerd")
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .args(["--storage-driver=vfs"])
            .arg("--data-root")
            .arg(dir.path().join("data"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .arg("--pidfile")
            .arg(dir.path().join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", dir.path().join("sock").display()))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
            .spawn()
            .unwrap();
        let d = Dockerd { dir, child };
        let start = Instant::now();
        while run(d.cmd().arg("version")).code != 0 {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "dockerd did not start: {}",
                std::fs::read_to_string(d.dir.path().join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        d
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("docker");
        c.env(
            "DOCKER_HOST",
            format!("unix://{}", self.dir.path().join("sock").display()),
        );
        c
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = self.cmd().args(["rm", "-f", "app"]).output();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The classic `docker load` reads the archive's `manifest.json` (the amd64 image): the image
/// runs read-only as its user, Docker reports it healthy, and there is no shell.
fn run_under_docker(archive: &Path, image: &str) {
    let d = Dockerd::start();
    run(d.cmd().arg("load").arg("-i").arg(archive))
        .success()
        .stdout_has(&format!("Loaded image: {image}"));
    run(d.cmd().args([
        "run",
        "-d",
        "--name",
        "app",
        "--read-only",
        "--network",
        "none",
        "--security-opt",
        "no-new-privileges",
        "--cap-drop",
        "ALL",
        image,
    ]))
    .success();
    let start = Instant::now();
    let status = loop {
        let s = run(d.cmd().args([
            "inspect",
            "--format",
            "{{.State.Health.Status}} {{.Config.User}}",
            "app",
        ]))
        .success();
        if s.stdout.starts_with("healthy") || start.elapsed() > Duration::from_secs(60) {
            break s.stdout;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(status.trim(), "healthy 1000:1000");
    let sh = run(d.cmd().args(["exec", "app", "/bin/sh", "-c", "true"]));
    assert_ne!(sh.code, 0, "a shell ran in the image");
}

#[test]
fn health_probe_image_runs_healthy_read_only_on_every_arch() {
    if !require_tool("python3")
        || !require_tool("podman")
        || !require_tool("skopeo")
        || !require_tool("umoci")
        || !require_tool("qemu-aarch64-static")
        || !require_tool("qemu-arm-static")
    {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let mut c = s.cmd();
    let catalogue = std::env::join_paths([
        root().join("tests/fixtures/recipes"),
        root().join("recipes"),
    ])
    .unwrap();
    c.env("RECIPE_RECIPES", catalogue);
    let out = run(c.args(["build", "hello-http", "--arch", "all", "--user", "99:100"])).success();
    assert!(
        out.stdout.contains("hello-http:1.0-99-100"),
        "{}",
        out.stdout
    );
    let layout = s.out().join("hello-http/oci");
    let tag = "hello-http:1.0";

    // amd64 under podman, as the recipe's user and as the variant's, from the archives written.
    run_under_podman(
        &s.out().join("hello-http/hello-http-1.0.oci.tar"),
        tag,
        "1000:1000",
    );
    run_under_podman(
        &s.out()
            .join("hello-http-99-100/hello-http-1.0-99-100.oci.tar"),
        "hello-http:1.0-99-100",
        "99:100",
    );

    if require_tool("dockerd") && require_tool("docker") {
        run_under_docker(&s.out().join("hello-http/hello-http-1.0.oci.tar"), tag);
    }

    // arm64 and armv7: the entrypoint and the probe from the unpacked image, under qemu-user.
    for (oarch, variant, qemu) in [
        ("arm64", None, "qemu-aarch64-static"),
        ("arm", Some("v7"), "qemu-arm-static"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let rootfs = unpack(&layout, tag, oarch, variant, dir.path());
        assert!(!rootfs.join("bin").exists(), "a /bin in the {oarch} image");
        let port = free_port().to_string();
        let mut server = Command::new(qemu)
            .arg(rootfs.join("usr/local/bin/hello-http"))
            .args(["-port", &port])
            .env_clear()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let probe = loop {
            let o = run(Command::new(qemu)
                .arg(rootfs.join("usr/local/bin/healthcheck"))
                .args(["http", &port, "/"])
                .env_clear());
            if o.code == 0 || start.elapsed() > Duration::from_secs(60) {
                break o;
            }
            std::thread::sleep(Duration::from_millis(300));
        };
        let _ = server.kill();
        let _ = server.wait();
        assert_eq!(probe.code, 0, "{oarch}: {}{}", probe.stdout, probe.stderr);
        assert!(
            probe.stdout.contains("healthy: HTTP 200"),
            "{}",
            probe.stdout
        );
        // Nothing answers on a closed port: the probe says unhealthy.
        let closed = run(Command::new(qemu)
            .arg(rootfs.join("usr/local/bin/healthcheck"))
            .args(["tcp", &free_port().to_string()])
            .env_clear());
        assert_eq!(closed.code, 1, "{}", closed.stderr);
    }
}
