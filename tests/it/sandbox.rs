//! The build steps' sandbox (`src/sandbox/`): a script step sees no network interface but
//! `lo`, no secret of `recipe`'s environment in any `/proc/*/environ`, and its `setsid`
//! children die with it, also when `recipe` is killed with `kill -9`; `--no-sandbox` builds
//! anyway and says so in the log and `meta.json`; a machine that cannot make the namespaces
//! gets an error naming the one that is missing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::*;

const SECRET_AUTH: &str = "user:auth-9f3e1c";
const SECRET_KEY: &str = "signing-key-7d2b4a";
/// An ordinary variable of `recipe`'s environment: only the PID namespace hides it.
const CANARY: &str = "canary-5e8a11";

/// A script recipe `probe` on the hello-c fixture: `lines` first (their output goes to the
/// build log), then the hello program built and installed, smoke-tested as usual.
fn probe_recipe(s: &Scratch, lines: &[String]) {
    let mut script: Vec<String> = lines.to_vec();
    script.extend([
        "make hello".to_string(),
        "mkdir -p $DESTDIR/usr/local/bin".to_string(),
        "cp hello $DESTDIR/usr/local/bin/hello".to_string(),
    ]);
    let script: Vec<String> = script
        .iter()
        .map(|l| format!("{l:?}").replace("\\'", "'"))
        .collect();
    s.recipe(
        "probe",
        &format!(
            "name = \"probe\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
             [source]\npath = \"{}\"\n[build]\nsystem = \"script\"\nscript = [{}]\n\
             [app]\nfiles = [\"/usr/local/bin/hello\"]\n\
             [smoke]\ncommand = [\"hello\", \"--version\"]\nexpect = \"hello-c 1.0\"\n",
            root().join("tests/fixtures/hello-c").display(),
            script.join(", ")
        ),
    );
}

/// `recipe build probe --arch amd64` with the secrets and the canary in its environment.
fn build_cmd(s: &Scratch, extra: &[&str]) -> std::process::Command {
    let mut c = s.cmd_private_cache();
    c.args(["build", "probe", "--arch", "amd64", "--no-image"])
        .args(extra)
        .env("REGISTRY_AUTH", SECRET_AUTH)
        .env("RECIPE_CACHE_SIGNING_KEY", SECRET_KEY)
        .env("RECIPE_SANDBOX_TEST_CANARY", CANARY);
    c
}

/// The one cache entry of the private cache: its folder.
fn entry(s: &Scratch) -> PathBuf {
    let builds = s.cache().join("builds");
    std::fs::read_dir(&builds)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .expect("a cache entry")
}

/// Lines that report what the step sees, in the build log.
fn facts() -> Vec<String> {
    let mut l = vec![
        "echo \"interfaces: $(ls /sys/class/net | tr '\\n' ' ')\"".to_string(),
        "echo \"net-dev: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')\""
            .to_string(),
        "echo \"hostname: $(cat /proc/sys/kernel/hostname)\"".to_string(),
        "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' > environs.txt || true".to_string(),
        "if grep -q '^DESTDIR=' environs.txt; then echo 'environs read: yes'; fi".to_string(),
    ];
    for (name, v) in [
        ("auth", SECRET_AUTH),
        ("key", SECRET_KEY),
        ("canary", CANARY),
    ] {
        l.push(format!(
            "if grep -qF -- '{v}' environs.txt; then echo 'found {name}'; else echo 'absent {name}'; fi"
        ));
    }
    l.push("rm -f environs.txt".to_string());
    l
}

fn cmdline_has(token: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmd).contains(token) {
            found.push(pid);
        }
    }
    found
}

/// Waits up to `secs` for no process's command line to hold `token`; the ones left.
fn gone_within(token: &str, secs: u64) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = cmdline_has(token);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// In the sandbox a step finds only `lo`, none of `recipe`'s environment (secrets or not) in
/// any `/proc/*/environ` (it reads its own), the host name `recipe`; it works in `/build/src`,
/// cannot write `/usr`, and sees neither `/etc/shadow`'s hashes, nor the build cache, nor a
/// file beside it; its `setsid` children are gone when the build returns. The entry says
/// `sandbox: true`.
#[test]
fn a_sandboxed_step_sees_no_network_no_secret_and_leaves_no_process() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    crate::graph::link_zig(&s);
    let mut lines = facts();
    // The new root: the job's folder at fixed paths, the system folders read-only, the
    // machine's secrets, home folders and build cache out of sight.
    let real_cache = s.cache().canonicalize().unwrap();
    let planted = real_cache.parent().unwrap().join("planted-secret");
    std::fs::write(&planted, "secret").unwrap();
    lines.extend([
        "echo \"cwd: $(pwd)\"".to_string(),
        "if touch /usr/sandbox-probe 2>/dev/null; then echo 'usr: writable'; else echo 'usr: read-only'; fi".into(),
        "if [ -s /etc/shadow ]; then echo 'shadow: readable'; else echo 'shadow: hidden'; fi".into(),
        format!(
            "if [ -e {} ]; then echo 'planted file: seen'; else echo 'planted file: absent'; fi",
            planted.display()
        ),
        format!(
            "if [ -e {}/builds ]; then echo 'cache: seen'; else echo 'cache: absent'; fi",
            real_cache.display()
        ),
        "if touch /tmp/x /build/x; then echo 'tmp and build: writable'; fi".into(),
    ]);
    lines.push("setsid sh -c 'sleep 300 # sandbox-test-orphan' > /dev/null 2>&1 &".into());
    lines.push("setsid sh -c 'sleep 2; touch /build/marker' > /dev/null 2>&1 &".into());
    probe_recipe(&s, &lines);
    run(&mut build_cmd(&s, &[])).success();
    let left = gone_within("sandbox-test-orphan", 5);
    assert!(left.is_empty(), "the step's setsid child runs on: {left:?}");
    let entry = entry(&s);
    let log = std::fs::read_to_string(entry.join("build.log")).unwrap();
    for want in [
        "==> sandbox: each step in new mount, PID, network, IPC and UTS namespaces",
        "interfaces: lo \n",
        "net-dev: lo \n",
        "hostname: recipe\n",
        "environs read: yes\n",
        "absent auth\n",
        "absent key\n",
        "absent canary\n",
        "cwd: /build/src\n",
        "usr: read-only\n",
        "shadow: hidden\n",
        "planted file: absent\n",
        "cache: absent\n",
        "tmp and build: writable\n",
    ] {
        assert!(log.contains(want), "the log lacks {want:?}:\n{log}");
    }
    let meta = read_json(entry.join("meta.json"));
    assert_eq!(meta["sandbox"], true);
    // The marker's writer was killed with the step (the job's folder is gone besides).
    std::thread::sleep(Duration::from_secs(3));
    assert!(gone_within("sleep 2; touch /build/marker", 1).is_empty());
}

/// `--no-sandbox` builds with the machine's network and processes in view, says so in the
/// log and `meta.json`; even then no `/proc/*/environ` holds a secret (`recipe` took them out
/// of its own environment at start-up), though its ordinary variables show.
#[test]
fn no_sandbox_builds_and_is_recorded_and_the_secrets_stay_hidden() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    crate::graph::link_zig(&s);
    probe_recipe(&s, &facts());
    run(&mut build_cmd(&s, &["--no-sandbox"])).success();
    let entry = entry(&s);
    let log = std::fs::read_to_string(entry.join("build.log")).unwrap();
    for want in [
        "==> no sandbox (--no-sandbox)",
        "environs read: yes\n",
        "absent auth\n",
        "absent key\n",
        "found canary\n",
    ] {
        assert!(log.contains(want), "the log lacks {want:?}:\n{log}");
    }
    assert!(!log.contains("interfaces: lo \n"), "{log}");
    let meta = read_json(entry.join("meta.json"));
    assert_eq!(meta["sandbox"], false);
}

/// `kill -9` of `recipe` in the middle of a step: nothing of the step survives, not even a
/// child that left the step's process group with `setsid`.
#[test]
fn kill_9_of_recipe_leaves_no_process_of_the_step() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    crate::graph::link_zig(&s);
    // The step writes only its job's folder (/build inside, under the cache's work/ outside).
    let ready = || {
        std::fs::read_dir(s.cache().join("work"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().join("ready").exists())
    };
    probe_recipe(
        &s,
        &[
            "setsid sh -c 'sleep 300 # sandbox-test-kill9' > /dev/null 2>&1 &".into(),
            "sh -c 'sleep 300 # sandbox-test-kill9-step' &".into(),
            "touch /build/ready".into(),
            "wait".into(),
        ],
    );
    let mut child = build_cmd(&s, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        assert!(Instant::now() < deadline, "the step never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!cmdline_has("sandbox-test-kill9").is_empty());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let left = gone_within("sandbox-test-kill9", 10);
    assert!(left.is_empty(), "processes of the step survived: {left:?}");
}

/// Where a namespace cannot be made (here: a user namespace allowing no network namespace),
/// the build stops before any work with an error naming it (exit 1), and `--no-sandbox`
/// builds anyway.
#[test]
fn a_machine_without_namespaces_gets_an_error_naming_the_missing_one() {
    if !require_tool("unshare") || !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    crate::graph::link_zig(&s);
    probe_recipe(&s, &[]);
    let o = run(&mut unshared(&s, "")).failure(1);
    o.stderr_has("cannot run build steps in a sandbox: cannot create a network namespace")
        .stderr_has("--no-sandbox");
    assert!(!s.cache().join("builds").exists() || entry_absent(&s.cache()));
    run(&mut unshared(&s, "--no-sandbox")).success();
}

fn entry_absent(cache: &Path) -> bool {
    std::fs::read_dir(cache.join("builds"))
        .map(|rd| {
            rd.flatten()
                .all(|e| e.file_name().to_string_lossy().starts_with('.'))
        })
        .unwrap_or(true)
}

/// `recipe build probe --arch amd64 --no-image EXTRA` run inside `unshare -Ur` (a user
/// namespace where `recipe` is root) that allows no network namespace.
fn unshared(s: &Scratch, extra: &str) -> std::process::Command {
    let mut c = std::process::Command::new("unshare");
    c.args(["-Ur", "sh", "-c"])
        .arg(format!(
            "echo 0 > /proc/sys/user/max_net_namespaces && \
             exec \"$0\" build probe --arch amd64 --no-image {extra}"
        ))
        .arg(recipe_bin())
        .env("RECIPE_CACHE", s.cache())
        .env("RECIPE_RECIPES", s.recipes())
        .env("NO_COLOR", "1")
        .current_dir(s.path());
    c
}

/// Issue 21's "same paths everywhere": a C file compiled by its absolute path (so `__FILE__`
/// holds it) gives the same bytes with two caches at two paths, since every step sees the
/// job's folder at `/build`; the program prints the path it was built at.
#[test]
fn a_file_compiled_by_absolute_path_gives_the_same_bytes_under_two_cache_paths() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let build = |s: &Scratch| -> Vec<u8> {
        crate::graph::link_zig(s);
        let src = s.path().join("where-src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("where.c"),
            "#include <stdio.h>\nint main(void) { puts(__FILE__); return 0; }\n",
        )
        .unwrap();
        s.recipe(
            "where",
            &format!(
                "name = \"where\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
                 [source]\npath = \"{}\"\n[build]\nsystem = \"script\"\n\
                 script = [\"$CC -g -O2 -o where \\\"$(pwd)/where.c\\\"\", \"mkdir -p $DESTDIR/usr/local/bin\", \"cp where $DESTDIR/usr/local/bin/where\"]\n\
                 [app]\nfiles = [\"/usr/local/bin/where\"]\n\
                 [smoke]\ncommand = [\"where\"]\nexpect = \"/build/src/where.c\"\n",
                src.display()
            ),
        );
        let mut c = s.cmd_private_cache();
        c.args(["build", "where", "--arch", "amd64", "--no-image"]);
        run(&mut c).success();
        let entry = std::fs::read_dir(s.cache().join("builds"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .expect("a cache entry");
        std::fs::read(entry.join("dest/usr/local/bin/where")).unwrap()
    };
    let (a, b) = (Scratch::new(), Scratch::new());
    assert_ne!(a.cache(), b.cache());
    let (x, y) = (build(&a), build(&b));
    assert!(
        x.windows(18).any(|w| w == b"/build/src/where.c"),
        "the program holds the path it was built at"
    );
    assert!(x == y, "the two caches gave different bytes");
}
