//! `recipe test`: a built image run under podman (read-only, no capabilities, no new
//! privileges, as its user) and sent the recipe's smoke requests from outside; a wrong answer
//! fails with the step and the container's logs; a client app runs in the container against
//! the smoke test's server.

use crate::util::*;

/// The hello-svc fixture recipe as an image that serves on 8080 (TCP and UDP), with `edit`
/// applied; its source path made absolute.
fn hello_svc(s: &Scratch, edit: impl Fn(String) -> String) {
    let text = crate::service::hello_svc_recipe();
    let text = format!(
        "{text}\n[image]\ncmd = [\"-addr\", \"0.0.0.0:8080\"]\nports = [8080, \"8080/udp\"]\n\
         writable = [\"/var/lib/hello\"]\n"
    );
    s.recipe("hello-svc", &edit(text));
}

/// A catalogue with hello-svc, built for amd64 (its image in `s.out()`).
fn built_hello_svc() -> Scratch {
    let s = Scratch::new();
    hello_svc(&s, |t| t);
    run(s.cmd().args(["build", "hello-svc", "--arch", "amd64"])).success();
    s
}

fn tools() -> bool {
    require_tool("podman") && require_tool("go") && require_tool("runc")
}

#[test]
fn a_service_image_answers_its_smoke_requests_from_a_hardened_container() {
    if !tools() {
        return;
    }
    let _l = build_lock();
    let s = built_hello_svc();
    let p = Podman::new();
    let o = test_hello_svc(&s, &p).success();
    // http, tcp, dns (over the published UDP port) and the client run on the host.
    o.stdout_has("hello-svc: the container answered 9 request(s) on tcp port")
        .stdout_has("and stopped (exit status 0)");
    // Nothing is left running.
    let ps = run(p.cmd().args(["ps", "-a", "--format", "{{.Names}}"])).success();
    assert!(!ps.stdout.contains("recipe-test-"), "{}", ps.stdout);

    // The same image with a request it does not answer as asked: exit 1, the step, what was
    // sent and came back, and the container's own log lines.
    hello_svc(&s, |t| {
        t.replace("body = \"hello-svc 1.0\"", "body = \"hello-svc 2.0\"")
    });
    let o = test_hello_svc(&s, &p).failure(1);
    o.stderr_has("the container test of `hello-svc` failed at step request 1 (http)")
        .stderr_has("the body does not contain \"hello-svc 2.0\"")
        .stderr_has("hello-svc 1.0 listening on 0.0.0.0:8080");
    let ps = run(p.cmd().args(["ps", "-a", "--format", "{{.Names}}"])).success();
    assert!(!ps.stdout.contains("recipe-test-"), "{}", ps.stdout);
}

#[test]
fn a_client_image_fetches_from_the_smoke_tests_server() {
    if !tools() {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let client = |t: String| {
        let head = t.split("[smoke]").next().unwrap().to_string();
        format!(
            "{head}[smoke]\ncommand = [\"hello-svc\", \"-get\", \"http://127.0.0.1:{{port}}/greeting.txt\"]\n\
             serve = \"http\"\nfiles = [\"greeting.txt\"]\nexpect = \"greetings\"\n"
        )
    };
    hello_svc(&s, client);
    std::fs::write(s.recipes().join("greeting.txt"), "greetings\n").unwrap();
    run(s.cmd().args(["build", "hello-svc", "--arch", "amd64"])).success();
    let p = Podman::new();
    test_hello_svc(&s, &p)
        .success()
        .stdout_has("to its end (exit status 0) with `greetings` in its output");
}

#[test]
fn test_needs_a_built_image_and_a_port_of_the_smoke_protocol() {
    let s = Scratch::new();
    hello_svc(&s, |t| t);
    run(s.cmd().args(["test", "hello-svc"]))
        .failure(2)
        .stderr_has("no image of `hello-svc`");
}

/// Lowers this process's `nofile` limit to 1024 soft, 20000 hard (in the child, before exec).
fn low_nofile(c: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: only setrlimit, async-signal-safe, runs between fork and exec.
    unsafe {
        c.pre_exec(|| {
            let l = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: 20000,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &l) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Whether this process may raise a hard limit (CAP_SYS_RESOURCE, bit 24 of `CapEff`).
fn may_raise_limits() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 24) != 0)
}

/// Under a hard `nofile` limit of 20000 and podman's own defaults (no `default_ulimits`), a
/// plain `podman run` of the image fails to start where limits cannot be raised; `recipe test`
/// passes its limits within the hard ones and the container answers.
#[test]
fn test_runs_under_a_hard_nofile_limit_below_podmans_default() {
    if !tools() {
        return;
    }
    let _l = build_lock();
    let s = built_hello_svc();
    let p = Podman::with_conf("[engine]\nruntime = \"runc\"\n");
    run(low_nofile(
        s.cmd()
            .args(["test", "hello-svc", "--engine"])
            .arg(p.engine()),
    ))
    .success()
    .stdout_has("hello-svc: the container answered 9 request(s) on tcp port");

    // The failure it avoids: the image `recipe test` loaded, run with podman's defaults.
    let images = run(p.cmd().args(["images", "-q"])).success();
    let image = images.stdout.lines().next().unwrap().trim().to_string();
    let bare = run(low_nofile(p.cmd().args([
        "run",
        "--rm",
        "--entrypoint",
        "/nonexistent",
        &image,
    ])));
    if may_raise_limits() {
        println!("this machine may raise hard limits: podman's defaults start here too");
    } else {
        bare.failure(126)
            .stderr_has("error setting rlimit type 7: operation not permitted");
    }
}

/// The authoring keys in `recipe test`: the binary `tcp` exchange, the proxy's absolute form
/// and `run` clients checked by exit status reach the container, the clients (on this machine)
/// with `[smoke] env`; a client app's container runs the smoke command with `[smoke] env`.
#[test]
fn the_new_request_keys_and_the_smoke_env_reach_the_container() {
    if !tools() {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    // The service's container runs the image as it is, without `[smoke] env`: the request that
    // reads the variable from the service is left out.
    hello_svc(&s, |t| {
        let t = crate::service::with_authoring_requests(t);
        let env_request = "[[smoke.request]]\nhttp = { path = \"/env/HELLO_GREETING\", \
                           body = \"HELLO_GREETING=hi there\" }\n\n";
        assert!(t.contains(env_request), "{t}");
        t.replace(env_request, "")
    });
    run(s.cmd().args(["build", "hello-svc", "--arch", "amd64"])).success();
    let p = Podman::new();
    test_hello_svc(&s, &p)
        .success()
        .stdout_has("hello-svc: the container answered 13 request(s) on tcp port");

    hello_svc(&s, |t| {
        let head = t.split("[smoke]").next().unwrap().to_string();
        format!(
            "{head}[smoke]\ncommand = [\"hello-svc\", \"-env\", \"HELLO_GREETING\"]\n\
             expect = \"HELLO_GREETING=hi there\"\nenv = {{ HELLO_GREETING = \"hi there\" }}\n"
        )
    });
    // Built (smoke-tested in the sandbox with `[smoke] env`) or cached from a build that was.
    run(s.cmd().args(["build", "hello-svc", "--arch", "amd64"])).success();
    test_hello_svc(&s, &p)
        .success()
        .stdout_has("with `HELLO_GREETING=hi there` in its output");
}

/// `recipe test hello-svc` with podman.
fn test_hello_svc(s: &Scratch, p: &Podman) -> Output {
    run(s
        .cmd()
        .args(["test", "hello-svc", "--engine"])
        .arg(p.engine()))
}
