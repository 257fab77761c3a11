//! Service smoke tests (`[smoke] listen`): the recipe mistakes, each at file:line:column.

use crate::util::{Output, Scratch, minimal_recipe, run};

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
