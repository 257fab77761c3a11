//! Service smoke tests (`[smoke] listen`): the recipe mistakes, each at file:line:column, and
//! the hello-svc fixture built and smoke-tested end to end (passing, and failing at a request).

use crate::util::{
    Output, Scratch, build_lock, minimal_recipe, nothing_built_kept, require_tool, root, run,
    shared_cache,
};

/// `recipe show demo` of the minimal recipe with `smoke` appended: must fail with exit 2.
fn bad(smoke: &str) -> Output {
    let s = Scratch::new();
    s.recipe("demo", &format!("{}\n{smoke}", minimal_recipe("demo")));
    run(s.cmd().args(["show", "demo"])).failure(2)
}

const SERVICE: &str = "[smoke]\ncommand = [\"demo\", \"-p\", \"{port}\"]\nlisten = \"tcp\"\n";

#[test]
fn a_smoke_program_that_is_no_app_file_is_located() {
    bad("[smoke]\ncommand = [\"redis-cli\", \"ping\"]\nexpect = \"PONG\"\n")
        .stderr_has("demo.toml:16:11: `redis-cli` is not one of the app files");
    bad(&format!(
        "{SERVICE}[[smoke.request]]\nrun = [\"demo-cli\"]\nexpect = \"x\"\n"
    ))
    .stderr_has("demo.toml:19:7: `demo-cli` is not one of the app files");
}

#[test]
fn an_unknown_request_kind_is_located() {
    bad(&format!("{SERVICE}[[smoke.request]]\nsmtp = \"HELO\"\n"))
        .stderr_has("demo.toml:19:1: unknown field `smtp`");
}

#[test]
fn a_form_on_a_get_or_with_a_line_break_is_located() {
    bad(&format!(
        "{SERVICE}[[smoke.request]]\nhttp = {{ method = \"GET\", path = \"/\", form = \"a=b\" }}\n"
    ))
    .stderr_has(
        "demo.toml:19:45: an HTTP `form` is a request body, which a GET request has none of",
    );
    bad(&format!(
        "{SERVICE}[[smoke.request]]\nhttp = {{ path = \"/\", form = \"a=b\\r\\nX: y\" }}\n"
    ))
    .stderr_has("demo.toml:19:29: an HTTP `form` holds a control character");
}

#[test]
fn a_status_or_dns_address_out_of_range_is_located() {
    bad(&format!(
        "{SERVICE}[[smoke.request]]\nhttp = {{ path = \"/\", status = 700 }}\n"
    ))
    .stderr_has("demo.toml:19:31: HTTP status 700 is not within 100..=599");
    bad(&format!(
        "{SERVICE}[[smoke.request]]\ndns = {{ name = \"a.test\", address = \"::1\" }}\n"
    ))
    .stderr_has("`::1` does not fit a A record");
    bad(&format!("{SERVICE}listen-x = 1\n")).stderr_has("unknown field `listen-x`");
}

#[test]
fn a_service_without_requests_or_with_a_bad_protocol_is_refused() {
    bad(SERVICE).stderr_has("a service smoke test has no [[smoke.request]]");
    bad(&SERVICE.replace("\"tcp\"", "\"sctp\""))
        .stderr_has("demo.toml:17:10: unknown `listen` protocol `sctp`");
    bad("[smoke]\ncommand = [\"demo\"]\n[[smoke.request]]\ntcp = \"PING\"\nexpect = \"PONG\"\n")
        .stderr_has("belongs to a service smoke test, which needs `listen`");
}

#[test]
fn a_smoke_file_that_does_not_exist_is_located() {
    bad(&format!(
        "{SERVICE}files = [\"demo.conf\"]\n[[smoke.request]]\ntcp = \"PING\"\nexpect = \"PONG\"\n"
    ))
    .stderr_has("demo.toml:18:10: smoke file `demo.conf` does not exist beside the recipe");
    bad(&format!(
        "{SERVICE}files = [\"../x.conf\"]\n[[smoke.request]]\ntcp = \"PING\"\nexpect = \"PONG\"\n"
    ))
    .stderr_has("is not a relative path inside the recipe's folder");
}

// End to end: the hello-svc fixture (a Go service serving HTTP and a PING line on TCP and DNS
// on UDP, all on `{port}`, with its own client) built and smoke-tested for real.

/// A scratch catalogue holding the hello-svc fixture recipe (its source path made absolute)
/// with `edit` applied to its text, and a private cache whose Go build cache is the shared
/// one (so the standard library is not compiled again). None when the tools are missing.
pub fn svc_scratch(edit: impl Fn(String) -> String) -> Option<Scratch> {
    if !require_tool("go") || !require_tool("qemu-aarch64-static") {
        return None;
    }
    let text = hello_svc_recipe();
    let s = Scratch::new();
    s.recipe("hello-svc", &edit(text));
    let shared = shared_cache().join("go");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::create_dir_all(s.cache()).unwrap();
    std::os::unix::fs::symlink(&shared, s.cache().join("go")).unwrap();
    Some(s)
}

/// The hello-svc fixture recipe with its source path made absolute (for a scratch catalogue).
pub fn hello_svc_recipe() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/recipes/hello-svc.toml"))
        .unwrap()
        .replace(
            "path = \"../hello-svc\"",
            &format!(
                "path = \"{}\"",
                root().join("tests/fixtures/hello-svc").display()
            ),
        )
}

/// The command lines of the processes that mention `marker` (the scratch folder: the app's
/// path, natively or under qemu, is inside it).
fn processes_of(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if line.contains(marker) && line.contains("hello-svc") {
            found.push(line);
        }
    }
    found
}

/// The recipes with an entry in the scratch's private cache.
fn cached(s: &Scratch) -> Vec<String> {
    let ls = run(s.cmd_private_cache().args(["cache", "ls"])).success();
    ls.stdout
        .lines()
        .filter(|l| l.starts_with("hello-svc"))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_service_is_started_probed_over_http_tcp_dns_and_its_client_and_stopped_on_every_arch() {
    let _l = build_lock();
    let Some(s) = svc_scratch(|t| t) else {
        return;
    };
    let o = run(s
        .cmd_private_cache()
        .args(["build", "hello-svc", "--arch", "amd64,arm64"]))
    .success();
    for arch in ["amd64", "arm64"] {
        let line = o
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("hello-svc/{arch}: smoke test passed")))
            .unwrap_or_else(|| panic!("no passed smoke test for {arch}:\n{}", o.stderr));
        assert!(
            line.contains("answered 9 request(s) on tcp port")
                && line.contains("stopped (exit status: 0)"),
            "{line}"
        );
    }
    assert!(
        o.stderr.contains("qemu-aarch64-static"),
        "arm64 did not run under qemu:\n{}",
        o.stderr
    );
    let entries = cached(&s);
    assert!(
        entries.iter().any(|l| l.contains("amd64")) && entries.iter().any(|l| l.contains("arm64")),
        "{entries:?}"
    );
    let left = processes_of(&s.path().display().to_string());
    assert!(left.is_empty(), "the app still runs: {left:?}");
}

/// An app that moves to a process group of its own (syncthing does) is still stopped by the
/// stop step's SIGTERM, as `docker stop` stops a container's main process: the sandbox's PID 1
/// passes it on.
#[test]
fn a_service_in_a_process_group_of_its_own_is_stopped_by_sigterm() {
    let _l = build_lock();
    let Some(s) = svc_scratch(|t| {
        let edited = t.replace(
            "\"127.0.0.1:{port}\"]",
            "\"127.0.0.1:{port}\", \"-own-group\"]",
        );
        assert_ne!(edited, t);
        edited
    }) else {
        return;
    };
    let line = smoke_passed(&s, &[]);
    assert!(line.contains("stopped (exit status: 0)"), "{line}");
}

/// Builds the edited fixture for `arch`, which must fail (exit 1) and cache nothing, and leave
/// no process of the app behind.
fn failing(arch: &str, edit: impl Fn(String) -> String) -> Option<Output> {
    let _l = build_lock();
    let s = svc_scratch(|t| {
        let edited = edit(t.clone());
        assert_ne!(edited, t, "the edit changed nothing");
        edited
    })?;
    let o = run(s
        .cmd_private_cache()
        .args(["build", "hello-svc", "--arch", arch]))
    .failure(1);
    assert!(cached(&s).is_empty(), "a failed build was cached");
    nothing_built_kept(&s);
    let left = processes_of(&s.path().display().to_string());
    assert!(left.is_empty(), "the app still runs: {left:?}");
    Some(o)
}

#[test]
fn a_wrong_http_body_fails_the_build_naming_the_request_what_was_sent_and_what_came_back() {
    let Some(o) = failing("amd64", |t| {
        t.replace("body = \"hello-svc 1.0\"", "body = \"hello-svc 2.0\"")
    }) else {
        return;
    };
    o.stderr_has("service smoke test failed at step request 1 (http)")
        .stderr_has("the body does not contain \"hello-svc 2.0\"")
        .stderr_has("sent: \"GET /hello HTTP/1.1\\r\\nHost: 127.0.0.1:")
        .stderr_has("received: \"HTTP/1.1 200 OK\\r\\n")
        .stderr_has("hello-svc 1.0\\n\"")
        .stderr_has("last output lines of the app:")
        .stderr_has("hello-svc 1.0 listening on 127.0.0.1:")
        .stderr_has("http GET /hello");
}

/// The fixture logs in with a form (request 8) holding the password captured from its output
/// (request 7), whose answer sets the session cookie that request 9 needs; `recipe show` lists
/// the capture and the form.
#[test]
fn a_login_form_and_an_output_capture_are_shown() {
    let s = Scratch::new();
    s.recipe("hello-svc", &hello_svc_recipe());
    run(s.cmd().args(["show", "hello-svc"]))
        .success()
        .stdout_has(
            "request   output /a temporary password is provided for this session: \
             (?<password>\\w+)/ captures {password} (again until it passes)\n",
        )
        .stdout_has("http POST /login form \"user=admin&pass={password}\" -> 200 \"Ok.\"");
}

#[test]
fn a_refused_login_fails_at_its_request_showing_the_form_sent() {
    let Some(o) = failing("amd64", |t| t.replace("pass={password}", "pass=wrong")) else {
        return;
    };
    o.stderr_has("service smoke test failed at step request 8 (http)")
        .stderr_has("status 401, expected 200")
        .stderr_has("Content-Length: 21\\r\\n\\r\\nuser=admin&pass=wrong\"")
        .stderr_has("Fails.");
}

/// An `output` pattern the app's output never matches fails its step once the smoke test's
/// timeout has passed (it has `wait`), showing the pattern and the app's last lines.
#[test]
fn an_output_pattern_the_app_never_prints_fails_its_step_with_the_output() {
    let Some(o) = failing("amd64", |t| {
        t.replace("timeout = 60", "timeout = 3").replace(
            "a temporary password is provided",
            "a permanent password is provided",
        )
    }) else {
        return;
    };
    o.stderr_has("service smoke test failed at step request 7 (output)")
        .stderr_has("no part of the app's output matches the pattern")
        .stderr_has("(the app's output, for /a permanent password is provided")
        .stderr_has("a temporary password is provided for this session: ");
}

#[test]
fn output_pattern_mistakes_are_located() {
    bad(&format!(
        "{SERVICE}[[smoke.request]]\noutput = 'password: (?<pass\\S+)'\n"
    ))
    .stderr_has("demo.toml:19:10: the `output` pattern is not a regular expression");
    bad(&format!(
        "{SERVICE}[[smoke.request]]\noutput = 'password: (?<Pass>\\S+)'\n"
    ))
    .stderr_has("demo.toml:19:10: `Pass` cannot name a captured value");
    bad(&format!(
        "{SERVICE}[[smoke.request]]\noutput = '(?<port>\\d+)'\n"
    ))
    .stderr_has("demo.toml:19:10: `port` cannot name a captured value");
    bad(&format!(
        "{SERVICE}[[smoke.request]]\noutput = 'x'\nexpect = 'y'\n"
    ))
    .stderr_has("demo.toml:20:10: `expect` belongs to `tcp` and `run` requests");
}

#[test]
fn a_dns_address_mismatch_under_qemu_fails_the_build_with_the_addresses_that_came_back() {
    let Some(o) = failing("arm64", |t| {
        t.replace("address = \"10.0.0.1\"", "address = \"10.0.0.2\"")
    }) else {
        return;
    };
    o.stderr_has("service smoke test failed at step request 3 (dns)")
        .stderr_has("the answer does not hold 10.0.0.2")
        .stderr_has("app: `/usr/bin/qemu-aarch64-static ")
        .stderr_has("sent: \"hello.test A over udp\"")
        .stderr_has("received: \"addresses [10.0.0.1]\"")
        .stderr_has("dns hello.test. type 1");
}

#[test]
fn a_service_that_ignores_sigterm_fails_the_stop_step_and_is_killed() {
    let Some(o) = failing("amd64", |t| {
        t.replace(
            "\"127.0.0.1:{port}\"]",
            "\"127.0.0.1:{port}\", \"-ignore-term\"]",
        )
        .replace("stop-grace = 10", "stop-grace = 1")
    }) else {
        return;
    };
    o.stderr_has("service smoke test failed at step stop")
        .stderr_has("the app did not exit within 1s of SIGTERM and was killed")
        .stderr_has("sent: \"SIGTERM\"")
        .stderr_has("hello-svc: ignoring SIGTERM");
}

/// The client form (`serve = "http"`): the smoke test serves the recipe's files on `{port}` while
/// the app (here hello-svc's `-get` client) runs to its end; a wrong path fails the build naming
/// what the server was asked.
#[test]
fn a_client_app_fetches_a_served_file_and_a_wrong_path_names_what_the_server_got() {
    let _l = build_lock();
    let client = |path: &str| {
        let path = path.to_string();
        move |t: String| {
            let head = t.split("[smoke]").next().unwrap().to_string();
            format!(
                "{head}[smoke]\ncommand = [\"hello-svc\", \"-get\", \"http://127.0.0.1:{{port}}/{path}\"]\n\
                 serve = \"http\"\nfiles = [\"greeting.txt\"]\nexpect = \"greetings on port \"\n"
            )
        }
    };
    // The client recipe fetching `path`, built for `arch`.
    let build = |path: &str, arch: &str| {
        let s = svc_scratch(client(path))?;
        std::fs::write(
            s.recipes().join("greeting.txt"),
            "greetings on port {port}\n",
        )
        .unwrap();
        let o = run(s
            .cmd_private_cache()
            .args(["build", "hello-svc", "--arch", arch]));
        Some((s, o))
    };
    let Some((_, o)) = build("greeting.txt", "arm64") else {
        return;
    };
    o.success().stderr_has("hello-svc/arm64: smoke test passed");
    let Some((s, o)) = build("missing.txt", "amd64") else {
        return;
    };
    o.failure(1)
        .stderr_has("the smoke test's HTTP server got: GET /missing.txt -> 404")
        .stderr_has("hello-svc: HTTP status 404");
    assert!(cached(&s).is_empty(), "a failed build was cached");
}

#[test]
fn serve_mistakes_are_located() {
    bad("[smoke]\ncommand = [\"demo\"]\nexpect = \"x\"\nserve = \"ftp\"\n")
        .stderr_has("demo.toml:18:9: unknown `serve` protocol `ftp`");
    bad("[smoke]\ncommand = [\"demo\"]\nexpect = \"x\"\nserve = \"http\"\n")
        .stderr_has("serves the smoke `files`, and there are none");
    bad(&format!(
        "{SERVICE}serve = \"http\"\n[[smoke.request]]\ntcp = \"PING\"\nexpect = \"PONG\"\n"
    ))
    .stderr_has("`serve` belongs to a smoke test that runs to its end");
}

/// A server that listens before it is ready (HTTP 503 for its first 2 s): a plain request fails
/// at once with what came back; `wait = true` sends it again until it passes.
#[test]
fn a_wait_request_is_sent_again_until_the_server_is_ready() {
    let warm = |wait: bool| {
        move |t: String| {
            let t = t.replace(
                "command = [\"hello-svc\", \"-addr\", \"127.0.0.1:{port}\"]",
                "command = [\"hello-svc\", \"-addr\", \"127.0.0.1:{port}\", \"-warmup\", \"2s\"]",
            );
            if wait {
                t.replacen(
                    "http = { method = \"GET\", path = \"/hello\"",
                    "wait = true\nhttp = { method = \"GET\", path = \"/hello\"",
                    1,
                )
            } else {
                t
            }
        }
    };
    let Some(o) = failing("amd64", warm(false)) else {
        return;
    };
    o.stderr_has("service smoke test failed at step request 1 (http)")
        .stderr_has("HTTP/1.1 503 Service Unavailable");
    let _l = build_lock();
    let Some(s) = svc_scratch(warm(true)) else {
        return;
    };
    run(s
        .cmd_private_cache()
        .args(["build", "hello-svc", "--arch", "amd64"]))
    .success()
    .stderr_has("hello-svc/amd64: smoke test passed");
}

/// A C++17 service (CMake, zig's libc++, static) logs in through a form and reads the version
/// with the session's cookie, under qemu: the mechanisms qbittorrent's smoke test uses, in CI.
#[test]
fn a_cxx_service_logs_in_and_reads_its_version_with_the_session_under_qemu() {
    if !require_tool("qemu-aarch64-static") || !require_tool("cmake") {
        return;
    }
    let _l = build_lock();
    let s = Scratch::new();
    let mut c = s.cmd();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    let o = run(c.args(["build", "hello-cxx", "--arch", "arm64", "--rebuild"])).success();
    o.stderr_has("hello-cxx/arm64: /usr/local/bin/hello-cxx: ELF 64-bit AArch64")
        .stderr_has("answered 4 request(s) on tcp port");
}

/// The authoring keys a real app's smoke test needs, on the hello-svc fixture: `[smoke] env`
/// reaching the service and a `run` client in the image's sandbox, a binary `tcp` exchange
/// (MQTT CONNECT and CONNACK) in byte escapes, an HTTP request in a forward proxy's absolute
/// form, and `run` requests checked by their exit status alone.
pub fn with_authoring_requests(t: String) -> String {
    let t = t.replace(
        "stop-grace = 10\n",
        "stop-grace = 10\nenv = { HELLO_GREETING = \"hi there\" }\n",
    );
    format!(
        "{t}
[[smoke.request]]
tcp = '\\x10\\x0c\\x00\\x04MQTT\\x04\\x02\\x00\\x3c\\x00\\x00'
expect = '\\x20\\x02\\x00\\x00'

[[smoke.request]]
http = {{ path = \"http://example.test/x\", body = \"proxy GET http://example.test/x for example.test\" }}

[[smoke.request]]
http = {{ path = \"/env/HELLO_GREETING\", body = \"HELLO_GREETING=hi there\" }}

[[smoke.request]]
run = [\"hello-svc\", \"-env\", \"HELLO_GREETING\"]
status = 0

[[smoke.request]]
run = [\"hello-svc\", \"-env\", \"NOT_SET\"]
status = 3
"
    )
}

#[test]
fn a_service_answers_bytes_a_proxy_request_and_status_checks_with_its_smoke_env() {
    let _l = build_lock();
    let Some(s) = svc_scratch(with_authoring_requests) else {
        return;
    };
    run(s.cmd().args(["show", "hello-svc"]))
        .success()
        .stdout_has("env       HELLO_GREETING=hi there")
        .stdout_has(
            "request   tcp \"\\x10\\x0c\\x00\\x04MQTT\\x04\\x02\\x00<\\x00\\x00\" \
             expects \" \\x02\\x00\\x00\"",
        )
        .stdout_has("request   http GET http://example.test/x -> 200")
        .stdout_has("request   run hello-svc -env NOT_SET exits 3\n");
    let line = smoke_passed(&s, &[]);
    assert!(
        line.contains("answered 14 request(s) on tcp port")
            && line.ends_with("(in the image's sandbox, as its user)"),
        "{line}"
    );
    // On this machine (`--no-sandbox`), the app and its clients get `[smoke] env` as well.
    let Some(s) = svc_scratch(with_authoring_requests) else {
        return;
    };
    let line = smoke_passed(&s, &["--no-sandbox"]);
    assert!(
        line.contains("answered 14 request(s) on tcp port") && !line.contains("sandbox"),
        "{line}"
    );
}

/// A `run` client that ends with another exit status than `status` fails its step, naming the
/// status it ended with and its output.
#[test]
fn a_run_request_with_the_wrong_exit_status_fails_naming_the_status_and_output() {
    let Some(o) = failing("amd64", |t| {
        with_authoring_requests(t).replace(
            "run = [\"hello-svc\", \"-env\", \"NOT_SET\"]\nstatus = 3",
            "run = [\"hello-svc\", \"-env\", \"NOT_SET\"]\nstatus = 0",
        )
    }) else {
        return;
    };
    o.stderr_has("service smoke test failed at step request 14 (run): exit status 3, expected 0")
        .stderr_has("hello-svc -env NOT_SET\"")
        .stderr_has("received: \"hello-svc: NOT_SET is not set\\n\"");
}

#[test]
fn authoring_key_mistakes_are_located() {
    bad(&format!(
        "{SERVICE}[[smoke.request]]\ntcp = 'PING\\x0'\nexpect = 'x'\n"
    ))
    .stderr_has("demo.toml:19:12: `\\x0` is not a byte escape: `\\x` takes two hex digits")
    .stderr_has("TOML literal string");
    bad(&format!("{SERVICE}[[smoke.request]]\nrun = [\"demo\"]\n"))
        .stderr_has("demo.toml:18:1: a `run` request needs `expect` or `status`");
    bad(&format!(
        "{SERVICE}[[smoke.request]]\nhttp = {{ path = \"https://a.test/\" }}\n"
    ))
    .stderr_has("demo.toml:19:17: `https://a.test/` is an https URL");
}

/// A malformed byte escape is a recipe error drawn at the escape itself, with the escapes
/// allowed and how TOML lets them through.
#[test]
fn a_malformed_byte_escape_is_drawn_at_the_escape() {
    let s = Scratch::new();
    s.recipe(
        "demo",
        &format!(
            "{}\n{SERVICE}[[smoke.request]]\ntcp = 'PING\\x0'\nexpect = 'x'\n",
            minimal_recipe("demo")
        ),
    );
    crate::errors::cli("recipe_bad_byte_escape", 2, s.cmd().args(["show", "demo"]));
}

/// Builds hello-svc for amd64 (with its own cache, and `extra` options) and returns its
/// "smoke test passed" line.
fn smoke_passed(s: &Scratch, extra: &[&str]) -> String {
    let o = run(s
        .cmd_private_cache()
        .args(["build", "hello-svc", "--arch", "amd64"])
        .args(extra))
    .success();
    o.stderr
        .lines()
        .find(|l| l.starts_with("hello-svc/amd64: smoke test passed"))
        .unwrap_or_else(|| panic!("no passed smoke test:\n{}", o.stderr))
        .to_string()
}
