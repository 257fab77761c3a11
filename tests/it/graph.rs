//! Dependencies, the build cache and the scheduler: what rebuilds when something changes, the
//! leak guard, and what survives `kill -9`, a second process and Ctrl-C.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use recipe::arch::Arch;

use crate::util::*;

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A catalogue of the library fixture, an app on it and an independent app; `salt` (each
/// recipe's description: a comment would not change a key) makes the
/// keys unique to this test so the shared cache never answers for it.
fn catalogue(s: &Scratch, salt: &str, lib_extra: &str) {
    s.recipe(
        "libgreet",
        &format!(
            "description = \"{salt}\"\nname = \"libgreet\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
             [source]\npath = \"{}\"\n[build]\nsystem = \"make\"\nmake-args = [\"libgreet.a\"]\n{lib_extra}",
            fixture("libgreet")
        ),
    );
    s.recipe(
        "hello-dep",
        &format!(
            "description = \"{salt}\"\nname = \"hello-dep\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
             depends = [\"libgreet\"]\n[source]\npath = \"{}\"\n[build]\nsystem = \"make\"\nmake-args = [\"hello-dep\"]\n\
             [app]\nfiles = [\"/usr/local/bin/hello-dep\"]\n[smoke]\ncommand = [\"hello-dep\"]\nexpect = \"hello-dep says\"\n",
            fixture("hello-dep")
        ),
    );
    s.recipe(
        "hello-c",
        &format!(
            "description = \"{salt}\"\nname = \"hello-c\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
             [source]\npath = \"{}\"\n[build]\nsystem = \"make\"\nmake-args = [\"hello\"]\n[app]\nfiles = [\"/usr/local/bin/hello\"]\n",
            fixture("hello-c")
        ),
    );
}

fn salt() -> String {
    format!(
        "{:?}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
    )
}

/// (recipe/arch, hit?, why) for each job of `recipe plan --json`.
fn plan(s: &Scratch, names: &[&str], arch: &str) -> Vec<(String, bool, String)> {
    let mut c = s.cmd();
    c.arg("plan");
    if names.is_empty() {
        c.arg("--all");
    }
    let o = run(c.args(names).args(["--arch", arch, "--json"])).success();
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                format!(
                    "{}/{}",
                    j["recipe"].as_str().unwrap(),
                    j["arch"].as_str().unwrap()
                ),
                j["cache"] == "hit",
                j["why"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_change_rebuilds_the_library_and_its_dependents_only() {
    if !require_tool("python3") || !require_tool("pkg-config") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let salt = salt();
    catalogue(&s, &salt, "");
    let first = run(s
        .cmd()
        .args(["build", "hello-dep", "hello-c", "--arch", "amd64"]))
    .success();
    // Plain output (no terminal) names no path of the build cache: steps, keys, what was built.
    let cache = crate::util::shared_cache();
    assert!(first.stderr.contains(": build\n"), "{}", first.stderr);
    assert!(
        !first.stderr.contains(&*cache.to_string_lossy()),
        "{}",
        first.stderr
    );

    // Nothing changed: every job is a hit, and the second run does no build work.
    assert!(
        plan(&s, &["hello-dep", "hello-c"], "amd64")
            .iter()
            .all(|(_, hit, _)| *hit)
    );
    let again = run(s
        .cmd()
        .args(["build", "hello-dep", "hello-c", "--arch", "amd64"]))
    .success();
    assert!(
        !again.stderr.contains(": build\n"),
        "a no-op run built something:\n{}",
        again.stderr
    );
    assert_eq!(
        again.stderr.matches(": cached").count(),
        3,
        "{}",
        again.stderr
    );

    // A comment is not the recipe's meaning: the key stays, nothing misses.
    catalogue(&s, &salt, "# only a comment, and a blank line\n\n");
    assert!(
        plan(&s, &["hello-dep", "hello-c"], "amd64")
            .iter()
            .all(|(_, hit, _)| *hit)
    );

    // Only the library's recipe changes: it and its dependent rebuild, the other app does not.
    catalogue(&s, &salt, "cflags = [\"-DGREET_CHANGED\"]\n");
    let p = plan(&s, &["hello-dep", "hello-c"], "amd64");
    let get = |id: &str| p.iter().find(|(n, _, _)| n == id).unwrap().clone();
    assert!(!get("libgreet/amd64").1);
    assert_eq!(get("libgreet/amd64").2, "recipe changed");
    assert!(!get("hello-dep/amd64").1);
    assert_eq!(get("hello-dep/amd64").2, "dependency libgreet changed");
    assert!(get("hello-c/amd64").1);
    let o = run(s
        .cmd()
        .args(["build", "hello-dep", "hello-c", "--arch", "amd64"]))
    .success();
    assert!(o.stderr.contains("libgreet/amd64: build"), "{}", o.stderr);
    assert!(o.stderr.contains("hello-dep/amd64: build"), "{}", o.stderr);
    assert!(o.stderr.contains("hello-c/amd64: cached"), "{}", o.stderr);
    assert!(!o.stderr.contains("hello-c/amd64: build"), "{}", o.stderr);

    // `--all` is every recipe of the catalogue: the library is built (here: found in the cache)
    // and each app gets its image; the library gets none.
    let all = plan(&s, &[], "amd64");
    let mut ids: Vec<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["hello-c/amd64", "hello-dep/amd64", "libgreet/amd64"]);
    let o = run(s.cmd().args(["build", "--all", "--arch", "amd64"])).success();
    assert_eq!(o.stderr.matches(": cached").count(), 3, "{}", o.stderr);
    assert!(s.out().join("hello-dep/oci/index.json").is_file());
    assert!(s.out().join("hello-c/oci/index.json").is_file());
    assert!(!s.out().join("libgreet").exists());
}

#[test]
fn unknown_dependency_is_located() {
    let s = Scratch::new();
    s.recipe(
        "app",
        &minimal_recipe("app").replace(
            "license = \"MIT\"",
            "license = \"MIT\"\ndepends = [\"zlb\"]",
        ),
    );
    run(s.cmd().args(["plan", "app"]))
        .failure(2)
        .stderr_has("app.toml:4:12: unknown recipe `zlb`");
}

#[test]
fn the_leak_guard_fails_a_build_that_reaches_into_the_host() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let text = format!(
        "name = \"leaky\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
         [source]\npath = \"{}\"\n[build]\nsystem = \"make\"\nmake-args = [\"hello\"]\ncflags = [\"-I/usr/include\"]\n\
         [app]\nfiles = [\"/usr/local/bin/hello\"]\n",
        fixture("hello-c")
    );
    s.recipe("leaky", &text);
    run(s.cmd().args(["build", "leaky"]))
        .failure(1)
        .stderr_has("step `build` of leaky for amd64 failed")
        .stderr_has("leak guard: host path `-I/usr/include` in a target build");
    assert!(!s.out().join("leaky").exists());
}

/// Waits until `pred` holds (or panics after `secs`).
fn wait_for(secs: u64, what: &str, mut pred: impl FnMut() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A recipe whose build runs long enough to be interrupted: a script step that sleeps.
fn slow_recipe(s: &Scratch, name: &str, marker: &str) {
    let text = format!(
        "# {marker}\nname = \"{name}\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
         [source]\npath = \"{}\"\n[build]\nsystem = \"script\"\n\
         script = [\"sleep 3 # {marker}\", \"mkdir -p $DESTDIR/usr/local/bin\", \"$CC -static -O2 -o $DESTDIR/usr/local/bin/hello hello.c\"]\n\
         [app]\nfiles = [\"/usr/local/bin/hello\"]\n[smoke]\ncommand = [\"hello\", \"--version\"]\nexpect = \"hello-c 1.0\"\n",
        fixture("hello-c")
    );
    s.recipe(name, &text);
}

/// The common start of the slow-build tests: the build lock, a scratch catalogue holding a slow
/// recipe whose key is unique to this test (`marker`, also in its command line for pgrep), and
/// a private cache sharing zig. None when the tools are missing (skipped).
fn slow_setup(
    what: &str,
    sleep_secs: u32,
) -> Option<(std::sync::MutexGuard<'static, ()>, Scratch, String)> {
    if !require_tool("python3") {
        return None;
    }
    let lock = build_lock();
    let s = Scratch::new();
    let marker = format!("{what}-{}", salt());
    slow_recipe(&s, "slow", &marker);
    let text = std::fs::read_to_string(s.recipes().join("slow.toml")).unwrap();
    s.recipe(
        "slow",
        &text.replace("sleep 3", &format!("sleep {sleep_secs}")),
    );
    link_zig(&s);
    Some((lock, s, marker))
}

/// Starts `recipe build slow` (stderr piped) and returns once `started` holds.
fn spawn_build(s: &Scratch, what: &str, started: impl FnMut() -> bool) -> std::process::Child {
    let child = s
        .cmd_private_cache()
        .args(["build", "slow"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(120, what, started);
    child
}

/// Starts `recipe build slow` and returns once its build step runs.
fn start_slow_build(s: &Scratch, marker: &str) -> std::process::Child {
    spawn_build(s, "the build step", || pgrep(marker))
}

fn entries(s: &Scratch) -> usize {
    let o = run(s.cmd_private_cache().args(["cache", "ls"])).success();
    o.stdout.lines().filter(|l| l.starts_with("slow")).count()
}

#[test]
fn kill_9_in_the_middle_leaves_nothing_trusted_and_the_next_run_succeeds() {
    let Some((_l, s, marker)) = slow_setup("kill9", 3) else {
        return;
    };
    let mut child = start_slow_build(&s, &marker);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(entries(&s), 0, "an entry of the killed run");
    let p = run(s.cmd_private_cache().args(["plan", "slow", "--json"])).success();
    assert!(p.stdout.contains("\"cache\": \"miss\""), "{}", p.stdout);
    // Its orphaned `sleep` may still run; the next run starts clean anyway.
    run(s.cmd_private_cache().args(["build", "slow"]))
        .success()
        .stderr_has("smoke test passed");
    assert_eq!(entries(&s), 1);

    // gc keeps what the catalogue uses and drops leftovers of killed runs; --all drops all.
    std::fs::create_dir_all(s.cache().join("builds/.tmp-deadbeef-1/dest")).unwrap();
    run(s.cmd_private_cache().args(["cache", "gc"]))
        .success()
        .stdout_has("removed 1 entries");
    assert_eq!(entries(&s), 1);
    assert!(!s.cache().join("builds/.tmp-deadbeef-1").exists());
    run(s.cmd_private_cache().args(["cache", "gc", "--all"]))
        .success()
        .stdout_has("removed 1 entries");
    assert_eq!(entries(&s), 0);
}

#[test]
fn two_concurrent_builds_of_one_job_build_once() {
    let Some((_l, s, _marker)) = slow_setup("twice", 3) else {
        return;
    };
    let a = s
        .cmd_private_cache()
        .args(["build", "slow", "--out", "out-a"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = s
        .cmd_private_cache()
        .args(["build", "slow", "--out", "out-b"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let a = a.wait_with_output().unwrap();
    let b = b.wait_with_output().unwrap();
    assert!(a.status.success() && b.status.success());
    let (ea, eb) = (
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr),
    );
    let stored = ea.matches("stored in the build cache").count()
        + eb.matches("stored in the build cache").count();
    let cached =
        ea.matches("slow/amd64: cached").count() + eb.matches("slow/amd64: cached").count();
    assert_eq!((stored, cached), (1, 1), "A:\n{ea}\nB:\n{eb}");
    assert_eq!(entries(&s), 1);
}

#[test]
fn ctrl_c_stops_every_child() {
    let Some((_l, s, marker)) = slow_setup("ctrlc", 60) else {
        return;
    };
    let mut child = start_slow_build(&s, &marker);
    // SAFETY: sending SIGINT to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    wait_for(10, "the children to be gone", || !pgrep(&marker));
    assert_eq!(entries(&s), 0);
}

/// A recipe whose build step, while `flag` exists, starts a grandchild that keeps writing
/// `stray` into the job's install folder, then sleeps; without `flag` it builds at once.
fn stray_writer_recipe(s: &Scratch, marker: &str, flag: &Path) {
    let text = format!(
        "# {marker}\nname = \"slow\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
         [source]\npath = \"{}\"\n[build]\nsystem = \"script\"\n\
         script = [\"mkdir -p $DESTDIR/usr/local/bin\", \
         \"if [ -e {flag} ]; then sh -c 'while :; do echo x >> \\\"$1/stray\\\"; sleep 0.1; done' {marker}-writer \\\"$DESTDIR\\\" & sleep 120; fi\", \
         \"$CC -static -O2 -o $DESTDIR/usr/local/bin/hello hello.c\"]\n\
         [app]\nfiles = [\"/usr/local/bin/hello\"]\n[smoke]\ncommand = [\"hello\", \"--version\"]\nexpect = \"hello-c 1.0\"\n",
        fixture("hello-c"),
        flag = flag.display(),
    );
    s.recipe("slow", &text);
}

/// `kill -9` and `kill -TERM` of `recipe build` in the middle of a step: nothing of the build
/// runs on, no entry appears, and the next run's entry holds only its own files.
#[test]
fn a_killed_build_leaves_no_process_and_no_files_in_the_next_entry() {
    if !require_tool("python3") || !require_tool("pgrep") {
        return;
    }
    let _l = build_lock();
    for (signal, code) in [(libc::SIGKILL, None), (libc::SIGTERM, Some(143))] {
        let s = Scratch::new();
        let marker = format!("stray{signal}-{}", salt());
        // In zig's cache (shared by the tests): a build step sees that at /recipe/cache/zig,
        // and nothing of the scratch folder.
        link_zig(&s);
        let flag = s.cache().join("zig").join(format!("{marker}-slow"));
        std::fs::write(&flag, "").unwrap();
        let seen = Path::new("/recipe/cache/zig").join(flag.file_name().unwrap());
        stray_writer_recipe(&s, &marker, &seen);
        let work = s.cache().join("work");
        let mut child = spawn_build(&s, "the stray writer", || find_file(&work, "stray"));
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), code, "exit of recipe after signal {signal}");
        if signal == libc::SIGTERM {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(
                err.contains("terminated; stopped every child process"),
                "{err}"
            );
        }
        wait_for(10, "every process of the killed build to be gone", || {
            !pgrep(&marker)
        });
        assert_eq!(entries(&s), 0, "an entry of the killed run");
        std::fs::remove_file(&flag).unwrap();
        run(s.cmd_private_cache().args(["build", "slow"]))
            .success()
            .stderr_has("smoke test passed");
        assert!(
            !only_entry(&s).join("dest/stray").exists(),
            "the killed run's writer reached the new entry"
        );
    }
}

/// The one complete entry of a private cache.
fn only_entry(s: &Scratch) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(s.cache().join("builds"))
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

/// A cache entry changed after it was made (one byte of the binary, or the binary swapped for
/// a shell script) is rebuilt with a warning, and the image is the one a clean build makes.
#[test]
fn a_tampered_cache_entry_is_rebuilt_never_packed() {
    let Some((_l, s, _marker)) = slow_setup("tamper", 0) else {
        return;
    };
    let index = |o: &Output| {
        o.stdout
            .lines()
            .find_map(|l| l.split("(index ").nth(1).map(str::to_string))
            .unwrap_or_else(|| panic!("no index digest in:\n{}", o.stdout))
    };
    let clean = run(s
        .cmd_private_cache()
        .args(["build", "slow", "--out", "out-clean"]))
    .success();
    let digest = index(&clean);
    let binary = only_entry(&s).join("dest/usr/local/bin/hello");
    let mut bytes = std::fs::read(&binary).unwrap();
    let at = bytes
        .windows(11)
        .position(|w| w == b"hello-c 1.0")
        .expect("the version string in the binary");
    bytes[at + 6] = b'X';
    let tampers: [(&str, Vec<u8>); 2] = [
        ("one byte", bytes),
        ("a script", b"#!/bin/sh\necho hello-c 1.0\n".to_vec()),
    ];
    for (i, (what, content)) in tampers.into_iter().enumerate() {
        std::fs::write(&binary, content).unwrap();
        let out = format!("out-{i}");
        let o = run(s.cmd_private_cache().args(["build", "slow", "--out", &out]))
            .success()
            .stderr_has("changed after it was made: `usr/local/bin/hello` changed (its content)")
            .stderr_has("smoke test passed");
        assert_eq!(index(&o), digest, "the image after tampering with {what}");
        let packed = std::fs::read(s.path().join(&out).join("slow/bin/amd64/hello")).unwrap();
        assert!(
            !packed.windows(9).any(|w| w == b"hello-X 1"),
            "{what} was packed"
        );
        assert!(packed.starts_with(b"\x7fELF"), "{what} was packed");
    }
}

/// Entries of the first layer of the single-platform image in `layout`: (path, type, target).
fn layer_entries(layout: &Path) -> Vec<(String, tar::EntryType, String)> {
    let blob = |d: &str| crate::util::layout_blob(layout, d);
    let json = crate::util::read_json;
    let index = json(layout.join("index.json"));
    let mut top = json(blob(index["manifests"][0]["digest"].as_str().unwrap()));
    if top["manifests"].is_array() {
        top = json(blob(top["manifests"][0]["digest"].as_str().unwrap()));
    }
    let layer = std::fs::File::open(blob(top["layers"][0]["digest"].as_str().unwrap())).unwrap();
    let mut a = tar::Archive::new(flate2::read::MultiGzDecoder::new(layer));
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let target = e
                .link_name()
                .unwrap()
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                e.path().unwrap().to_string_lossy().into_owned(),
                e.header().entry_type(),
                target,
            )
        })
        .collect()
}

/// Symlinks an install makes: one inside the image stays a relative symlink (an absolute one
/// is rewritten relative); one to a host file is an error naming the link, and nothing of the
/// host is read or packed.
#[test]
fn symlinks_in_an_install_stay_inside_the_image() {
    let Some((_l, s, _marker)) = slow_setup("links", 0) else {
        return;
    };
    let text = std::fs::read_to_string(s.recipes().join("slow.toml")).unwrap();
    let with = |extra: &str, files: &str| {
        text.replace("\"$CC -static", &format!("\"{extra}\", \"$CC -static"))
            .replace(
                "files = [\"/usr/local/bin/hello\"]",
                &format!("files = [{files}]"),
            )
    };
    s.recipe(
        "slow",
        &with(
            "ln -s hello $DESTDIR/usr/local/bin/alias; ln -s /usr/local/bin/hello $DESTDIR/usr/local/bin/abs",
            r#""/usr/local/bin/hello", "/usr/local/bin/alias", "/usr/local/bin/abs""#,
        ),
    );
    run(s.cmd_private_cache().args(["build", "slow"])).success();
    let entries = layer_entries(&s.out().join("slow/oci"));
    for link in ["usr/local/bin/alias", "usr/local/bin/abs"] {
        assert!(
            entries.iter().any(|(p, t, target)| p == link
                && *t == tar::EntryType::Symlink
                && target == "hello"),
            "{link} is not a symlink to hello: {entries:?}"
        );
    }

    s.recipe(
        "slow",
        &with(
            "ln -s /etc/hostname $DESTDIR/usr/local/bin/hostfile",
            r#""/usr/local/bin/hello", "/usr/local/bin/hostfile""#,
        ),
    );
    let out = s.path().join("out-leak");
    run(s
        .cmd_private_cache()
        .args(["build", "slow", "--out"])
        .arg(&out))
    .failure(1)
    .stderr_has(
        "app file `/usr/local/bin/hostfile` leads to `/etc`, which the install does not have",
    );
    assert!(!out.join("slow").exists(), "an image with a host file");
}

/// Several `recipe build` at once into one `--out`: all succeed, the image is whole and the
/// same, nothing temporary is left; the binaries beside it have normal modes even when the
/// install made them setuid and world-writable.
#[test]
fn concurrent_builds_share_one_out_folder_safely() {
    use std::os::unix::fs::PermissionsExt;
    let Some((_l, s, _marker)) = slow_setup("sharedout", 0) else {
        return;
    };
    let text = std::fs::read_to_string(s.recipes().join("slow.toml")).unwrap();
    s.recipe(
        "slow",
        &text.replace(
            "hello.c\"]",
            "hello.c\", \"chmod 6777 $DESTDIR/usr/local/bin/hello\"]",
        ),
    );
    run(s.cmd_private_cache().args(["build", "slow"])).success();
    let bin = s.out().join("slow/bin/amd64/hello");
    let mode = std::fs::metadata(&bin).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755, "mode of {}", bin.display());
    for round in 0..3 {
        // A changed label makes a new image each round, so every process writes.
        let t = text.replace(
            "[app]",
            &format!("[image]\nlabels = {{ round = \"{round}\" }}\n[app]"),
        );
        s.recipe("slow", &t);
        let children: Vec<_> = (0..4)
            .map(|_| {
                s.cmd_private_cache()
                    .args(["build", "slow"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut digests = std::collections::BTreeSet::new();
        for c in children {
            let o = c.wait_with_output().unwrap();
            let (out, err) = (
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr),
            );
            assert!(o.status.success(), "round {round}:\n{out}\n{err}");
            digests.extend(
                out.lines()
                    .filter_map(|l| l.split("(index ").nth(1).map(str::to_string)),
            );
        }
        assert_eq!(digests.len(), 1, "round {round}: {digests:?}");
        let leftovers: Vec<String> = std::fs::read_dir(s.out().join("slow"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') && n != ".lock" && n != ".recipe-image.json")
            .collect();
        assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
        run(recipe().args(["check"]).arg(s.out().join("slow/oci"))).success();
    }
}

/// True when a file named `name` is somewhere under `dir`.
fn find_file(dir: &Path, name: &str) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name() == name
                || (e.file_type().is_ok_and(|t| t.is_dir()) && find_file(&e.path(), name))
        })
}

/// True when a process whose command line contains `marker` runs.
fn pgrep(marker: &str) -> bool {
    std::process::Command::new("pgrep")
        .args(["-f", marker])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Points a scratch cache's zig install and per-target zig caches at the shared ones, so a
/// private cache does not build musl's libc again. (Only the install: the wrappers name the
/// cache they live in, and must not be written into the shared cache from a scratch one.)
pub(crate) fn link_zig(s: &Scratch) {
    let shared = shared_cache();
    let zig = run(recipe().args(["toolchain", "--print", "zig"]))
        .success()
        .stdout;
    let install = std::path::Path::new(zig.trim())
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    std::fs::create_dir_all(s.cache().join("toolchains")).unwrap();
    std::os::unix::fs::symlink(
        &install,
        s.cache()
            .join("toolchains")
            .join(install.file_name().unwrap()),
    )
    .unwrap();
    std::fs::create_dir_all(shared.join("zig")).unwrap();
    std::os::unix::fs::symlink(shared.join("zig"), s.cache().join("zig")).unwrap();
}

fn fixtures_cmd(s: &Scratch) -> std::process::Command {
    let mut c = s.cmd();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    c
}

#[test]
fn a_host_tool_is_built_for_the_build_machine_and_run_by_the_target_build() {
    if !require_tool("python3") || !require_tool("qemu-aarch64-static") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let p =
        run(fixtures_cmd(&s).args(["plan", "hello-gen", "--arch", "arm64", "--json"])).success();
    let v: serde_json::Value = serde_json::from_str(&p.stdout).unwrap();
    let tool = v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["recipe"] == "gen-word")
        .unwrap();
    assert_eq!(tool["for"], "host");
    assert_eq!(tool["arch"], Arch::host().unwrap().name());
    run(fixtures_cmd(&s).args(["build", "hello-gen", "--arch", "arm64"])).success();
    run(recipe()
        .args(["verify", "--arch", "arm64"])
        .arg(s.out().join("hello-gen/bin/arm64/hello-gen")))
    .success();
    let o = run(std::process::Command::new("qemu-aarch64-static")
        .arg(s.out().join("hello-gen/bin/arm64/hello-gen")))
    .success();
    assert_eq!(
        o.stdout.trim(),
        "hello-gen says generated (from the host tree)"
    );
}

#[test]
fn meson_builds_against_a_library_through_its_cross_file() {
    if !require_tool("python3") || !require_tool("qemu-arm-static") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    run(fixtures_cmd(&s).args(["build", "hello-meson", "--arch", "armv7"])).success();
    let bin = s.out().join("hello-meson/bin/armv7/hello-meson");
    run(recipe().args(["verify", "--arch", "armv7"]).arg(&bin)).success();
    let o = run(std::process::Command::new("qemu-arm-static").arg(&bin)).success();
    assert_eq!(o.stdout.trim(), "hello-meson says hello");
}

#[test]
fn cmake_finds_a_library_only_in_the_sysroot() {
    if !require_tool("python3") || !require_tool("qemu-aarch64-static") || !require_tool("cmake") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    run(fixtures_cmd(&s).args(["build", "hello-cmake", "--arch", "arm64"])).success();
    let bin = s.out().join("hello-cmake/bin/arm64/hello-cmake");
    run(recipe().args(["verify", "--arch", "arm64"]).arg(&bin)).success();
    let o = run(std::process::Command::new("qemu-aarch64-static").arg(&bin)).success();
    assert_eq!(o.stdout.trim(), "hello-cmake says hello");
}

/// `optimize = "size"` and `lto = true` in a library's and an app's recipes: the library's
/// archive holds LLVM bitcode (the app's link optimises both as one), the app passes verify and
/// its smoke test, and it is smaller than the same build for speed.
#[test]
fn optimize_for_size_with_lto_gives_a_smaller_program_that_works() {
    if !require_tool("cmake") {
        return;
    }
    let _l = build_lock();
    // `--rebuild`: the library's line then names its entry, even when a run before stored it.
    let build = |keys: &str| -> (u64, Output, Scratch) {
        let s = Scratch::new();
        for name in ["libgreet", "hello-cmake"] {
            let file = root().join(format!("tests/fixtures/recipes/{name}.toml"));
            let text = std::fs::read_to_string(file)
                .unwrap()
                .replace(
                    "path = \"../",
                    &format!("path = \"{}/tests/fixtures/", root().display()),
                )
                .replacen("\n[build]\n", &format!("\n[build]\n{keys}"), 1);
            s.recipe(name, &text);
        }
        let o = run(s
            .cmd()
            .args(["build", "hello-cmake", "--arch", "amd64", "--rebuild"]));
        let o = o
            .success()
            .stderr_has("hello-cmake/amd64: smoke test passed");
        let bin = s.out().join("hello-cmake/bin/amd64/hello-cmake");
        (std::fs::metadata(bin).unwrap().len(), o, s)
    };
    let (fast, _, _) = build("");
    let (small, o, s) = build("optimize = \"size\"\nlto = true\n");
    assert!(small < fast, "size {small} bytes, speed {fast}");
    // The library's cache entry, by the key its line names.
    let stored = o
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("libgreet/amd64: stored in the build cache ("))
        .unwrap_or_else(|| panic!("no libgreet entry named: {}", o.stderr));
    let key = stored.trim_end_matches(')');
    let cache = s
        .cmd()
        .get_envs()
        .find_map(|(k, v)| (k == "RECIPE_CACHE").then(|| v.unwrap().to_owned()))
        .unwrap();
    let builds = Path::new(&cache).join("builds");
    let entry = std::fs::read_dir(&builds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(key))
        .unwrap_or_else(|| panic!("no entry {key} in {}", builds.display()));
    // The entry records the CPU time of its build commands (cmake and the compiler under it).
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(entry.join("meta.json")).unwrap()).unwrap();
    let cpu = meta["cpu_millis"].as_u64().unwrap_or(0);
    assert!(cpu > 0, "cpu_millis {:?}", meta["cpu_millis"]);
    let ls = run(s.cmd().args(["cache", "ls"])).success();
    assert!(ls.stdout.contains("s of CPU) in all"), "{}", ls.stdout);
    // ... and each command's share: the steps' CPU adds up to the job's (each rounded down
    // to a millisecond), the log says what each took, `cache ls --steps` lists them.
    let steps = meta["steps"].as_array().expect("steps recorded");
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"build") && names.contains(&"install"),
        "{names:?}"
    );
    let sum: u64 = steps
        .iter()
        .map(|s| s["cpu_millis"].as_u64().unwrap())
        .sum();
    assert!(
        sum <= cpu && cpu - sum <= steps.len() as u64,
        "{sum} of {cpu}"
    );
    let log = std::fs::read_to_string(entry.join("build.log")).unwrap();
    assert_eq!(log.matches("\n    took ").count(), steps.len(), "{log}");
    let ls = run(s.cmd().args(["cache", "ls", "--steps"])).success();
    assert!(
        ls.stdout
            .lines()
            .any(|l| l.starts_with("libgreet") && l.contains(" install ")),
        "{}",
        ls.stdout
    );
    let archive = std::fs::read(entry.join("dest/usr/local/lib/libgreet.a")).unwrap();
    // LLVM bitcode's magic, as an archive member's first bytes.
    assert!(
        archive.windows(4).any(|w| w == b"BC\xc0\xde"),
        "libgreet.a holds no bitcode"
    );
}
