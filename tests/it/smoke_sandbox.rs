//! Smoke tests in the sandbox, as the image runs (issue 21 item 4): the whoami-c fixture
//! (`tests/fixtures/whoami-c`) prints what it sees, and each test builds it with a smoke test
//! expecting what the image gives: the image's user, its /etc/passwd, its environment and
//! `[smoke] env`, its writable folders (and nothing else writable), and nothing of the machine
//! (a file the image lacks fails the smoke test).

use crate::util::{Output, Scratch, build_lock, nothing_built_kept, root, run};

/// A scratch catalogue with recipe `who` on the whoami-c fixture, `extra` (its `[smoke]` and
/// `[image]`) appended, and a private cache sharing zig.
fn who(extra: &str) -> Scratch {
    let s = Scratch::new();
    s.recipe(
        "who",
        &format!(
            "name = \"who\"\nversion = \"1.0\"\nlicense = \"MIT\"\n\
             homepage = \"https://example.invalid\"\n\
             [source]\npath = \"{}\"\n[build]\nsystem = \"script\"\n\
             script = [\"mkdir -p $DESTDIR/usr/local/bin\", \
             \"$CC -static -O2 -o $DESTDIR/usr/local/bin/whoami whoami.c\"]\n\
             [app]\nfiles = [\"/usr/local/bin/whoami\"]\n{extra}",
            root().join("tests/fixtures/whoami-c").display()
        ),
    );
    crate::graph::link_zig(&s);
    s
}

fn build(s: &Scratch, arch: &str) -> Output {
    run(s
        .cmd_private_cache()
        .args(["build", "who", "--arch", arch, "--no-image"]))
}

/// A build that must fail its smoke test (exit 1, nothing cached or kept).
fn failing(extra: &str) -> Output {
    let s = who(extra);
    let o = build(&s, "amd64").failure(1);
    nothing_built_kept(&s);
    o.stderr_has("who for amd64: smoke test failed: `")
}

const IMAGE: &str =
    "[image]\nwritable = [\"/data\"]\nenv = { MODE = \"prod\", GREETING = \"image\" }\n";

/// The app runs as the image's user (1000:1000 by default), reads the image's own /etc/passwd,
/// sees PATH, HOME (its scratch folder), the image's `env` and `[smoke] env` over it, and can
/// write its writable folder and its scratch folder but not the image's other folders, and open
/// its own output again by `/dev/stdout` and `/dev/stderr` (as nginx's `error_log /dev/stderr`
/// does: runc gives a container's stdio to its user too), natively and under qemu.
#[test]
fn the_app_runs_as_the_image_user_in_the_image_files_with_its_environment() {
    let _l = build_lock();
    let s = who(&format!(
        "[smoke]\ncommand = [\"whoami\", \"id\", \"env\", \"GREETING\", \"MODE\", \"HOME\", \"PATH\", \
         \"passwd\", \"app\", \"write\", \"/data\", \"/smoke\", \"/usr/local/bin\", \"/etc\", \"reopen\"]\n\
         expect = \"uid=1000 gid=1000 | GREETING=hi MODE=prod HOME=/smoke \
         PATH=/usr/local/bin:/usr/bin:/bin | app:x:1000:1000:app:/nonexistent:/sbin/nologin | \
         wrote /data; wrote /smoke; cannot write /usr/local/bin: Read-only file system; \
         cannot write /etc: Read-only file system | reopened /dev/stdout; reopened /dev/stderr\"\n\
         env = {{ GREETING = \"hi\" }}\n{IMAGE}"
    ));
    let o = build(&s, "amd64,arm64").success();
    for arch in ["amd64", "arm64"] {
        let line = o
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("who/{arch}: smoke test passed: `")))
            .unwrap_or_else(|| panic!("no passed smoke test for {arch}:\n{}", o.stderr));
        assert!(
            line.ends_with("(in the image's sandbox, as its user)"),
            "{line}"
        );
    }
}

/// The same program expecting root fails, and shows the uid it ran as.
#[test]
fn a_smoke_test_expecting_root_fails_showing_the_image_user() {
    let _l = build_lock();
    failing("[smoke]\ncommand = [\"whoami\", \"id\"]\nexpect = \"uid=0 gid=0\"\n")
        .stderr_has("lacks `uid=0 gid=0`")
        .stderr_has("uid=1000 gid=1000");
}

/// Another `[image] user` is the one the app runs as.
#[test]
fn the_image_user_is_the_one_the_recipe_names() {
    let _l = build_lock();
    let s = who(
        "[smoke]\ncommand = [\"whoami\", \"id\", \"passwd\", \"web\"]\n\
         expect = \"uid=2001 gid=2002 | web:x:2001:2002:web:/nonexistent:/sbin/nologin\"\n\
         [image]\nuser = \"2001:2002\"\nuser-name = \"web\"\n",
    );
    build(&s, "amd64").success();
}

/// A file the image lacks (the CA bundle without `include = [\"ca-certificates\"]`) is not
/// there in the smoke test, whatever the machine has.
#[test]
fn a_file_the_image_lacks_fails_the_smoke_test() {
    let _l = build_lock();
    let bundle = "/etc/ssl/certs/ca-certificates.crt";
    if !std::path::Path::new(bundle).exists() {
        // The point is the machine having it: say so when it does not.
        crate::util::skip("the machine has no CA bundle to hide");
        return;
    }
    failing(&format!(
        "[smoke]\ncommand = [\"whoami\", \"cat\", \"{bundle}\"]\nexpect = \"opened {bundle}\"\n"
    ))
    .stderr_has(&format!("cannot read {bundle}: No such file or directory"));
}
