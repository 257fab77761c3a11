//! `recipe outdated`'s toolchain rows: the pinned Go and zig against what a Go module proxy and
//! a PyPI index offer, both served on 127.0.0.1 and reached through the clients' own settings
//! (`GOPROXY`, `PIP_INDEX_URL`).

use crate::util::*;

/// The version `toolchains/FILE` pins.
fn pinned(file: &str) -> String {
    let text = std::fs::read_to_string(root().join("toolchains").join(file)).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["version"].as_str().unwrap().to_string()
}

fn numbers(version: &str) -> Vec<u64> {
    version.split('.').map(|p| p.parse().unwrap()).collect()
}

/// A proxy listing `go` releases as toolchain modules and an index listing `zig` wheels.
fn registries(go: &[String], zig: &[String]) -> Server {
    let list: String = go
        .iter()
        .map(|v| format!("v0.0.1-go{v}.linux-amd64\n"))
        .collect();
    let wheels: String = zig
        .iter()
        .map(|v| {
            let f = format!(
                "ziglang-{v}-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl"
            );
            format!("<a href=\"../../files/{f}\">{f}</a>\n")
        })
        .collect();
    let page = format!("<!DOCTYPE html><html><body>\n{wheels}</body></html>\n");
    serve(&[
        ("/golang.org/toolchain/@v/list", list.as_bytes()),
        ("/simple/ziglang/", page.as_bytes()),
    ])
}

/// `recipe outdated --json` of a recipe whose origin is not checked, so that only the toolchain
/// rows ask anything, with the registries at `server`.
fn outdated(s: &Scratch, server: &Server, code: i32) -> serde_json::Value {
    let out = run(s
        .cmd()
        .env("GOPROXY", server.url(""))
        .env("PIP_INDEX_URL", server.url("/simple/"))
        .args(["outdated", "--json", "demo"]))
    .failure(code);
    serde_json::from_str(&out.stdout).unwrap()
}

fn row<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["toolchains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} row in {json}"))
}

#[test]
fn toolchain_rows_offer_the_pins_own_go_line_and_the_newest_zig() {
    if !require_tool("go") || !require_tool("python3") {
        return;
    }
    let (go, zig) = (pinned("go.toml"), pinned("zig.toml"));
    let (g, z) = (numbers(&go), numbers(&zig));
    let s = Scratch::new();
    s.recipe("demo", &minimal_recipe("demo"));
    // The pinned Go is provisioned through the host's own proxy settings first.
    run(s.cmd().args(["toolchain", "--print", "go"])).success();

    let point = format!("{}.{}.{}", g[0], g[1], g[2] + 1);
    let next_line = format!("{}.{}.0", g[0], g[1] + 1);
    let older = format!("{}.{}.9", g[0], g[1] - 1);
    let rc = format!("{}.{}rc1", g[0], g[1] + 2);
    let newer_zig = format!("{}.{}.{}", z[0], z[1], z[2] + 1);
    let server = registries(
        &[older, go.clone(), point.clone(), next_line.clone(), rc],
        &[zig.clone(), newer_zig.clone()],
    );
    // Toolchain updates are no security updates: exit 0.
    let json = outdated(&s, &server, 0);
    let go_row = row(&json, "toolchain:go");
    assert_eq!(go_row["pinned"], go.as_str(), "{go_row}");
    // Pending: the newest point release of the pin's own line; the next line only shown.
    assert_eq!(go_row["pending"]["version"], point.as_str(), "{go_row}");
    let shown: Vec<&str> = go_row["available"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_str().unwrap())
        .collect();
    assert_eq!(shown, [point.as_str(), next_line.as_str()], "{go_row}");
    let zig_row = row(&json, "toolchain:zig");
    assert_eq!(
        zig_row["pending"]["version"],
        newer_zig.as_str(),
        "{zig_row}"
    );
    assert_eq!(zig_row["pending"]["from"], "pypi", "{zig_row}");
    assert_eq!(json["security_pending"], false);

    // Registries offering only the pins: both current, nothing pending.
    let server = registries(std::slice::from_ref(&go), std::slice::from_ref(&zig));
    let json = outdated(&s, &server, 0);
    for name in ["toolchain:go", "toolchain:zig"] {
        let r = row(&json, name);
        assert!(r.get("pending").is_none(), "{r}");
        assert!(r.get("error").is_none(), "{r}");
    }
    assert!(server.hits() >= 2, "both registries were asked");

    // A proxy that lists no stable release is an error of the row and of the run (exit 1).
    let server = registries(&[format!("{}.{}rc1", g[0], g[1] + 2)], &[zig]);
    let json = outdated(&s, &server, 1);
    let r = row(&json, "toolchain:go");
    assert!(
        r["error"]
            .as_str()
            .unwrap()
            .contains("no stable Go toolchain"),
        "{r}"
    );
}
