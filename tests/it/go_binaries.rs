//! Go's embedded build info read back from real Go binaries: a module with a local `replace`,
//! GOARM=7 and GOARM=6,softfloat on arm, cgo on amd64, and Go binaries from Debian packages
//! (cross-checked against `go version -m`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use recipe::verify::goinfo::read_go_buildinfo;
use recipe::verify::{GoBuildInfo, GoModule};

use crate::util;

/// `go` from PATH, else the usual install location; None (a skip, or a failure under CI) when
/// neither has it.
fn go() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("go").is_file()))
        .unwrap_or(false);
    if on_path {
        return Some(PathBuf::from("go"));
    }
    let local = PathBuf::from("/usr/local/go/bin/go");
    if local.is_file() {
        return Some(local);
    }
    util::require_tool("go");
    None
}

/// The two-module project, written once per test run under the shared test cache:
/// `example.com/hello` requires `example.com/greet`, replaced by the sibling folder `../greet`.
fn project() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = util::shared_cache().join("goinfo-project");
        let w = |rel: &str, text: &str| {
            let p = d.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        w("greet/go.mod", "module example.com/greet\n\ngo 1.22\n");
        w(
            "greet/greet.go",
            "package greet\n\nfunc Hello() string { return \"hello from greet\" }\n",
        );
        w(
            "hello/go.mod",
            "module example.com/hello\n\ngo 1.22\n\nrequire example.com/greet v0.0.0\n\n\
             replace example.com/greet => ../greet\n",
        );
        w(
            "hello/main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/greet\"\n)\n\n\
             func main() { fmt.Println(greet.Hello()) }\n",
        );
        d
    })
}

/// Builds the project with `env` and returns the binary's bytes.
fn build(go: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let cache = util::shared_cache();
    let out = project().join(name);
    let o = Command::new(go)
        .arg("build")
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg(".")
        .current_dir(project().join("hello"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("GOCACHE", cache.join("go-build"))
        .env("GOPATH", cache.join("gopath"))
        .env("GOOS", "linux")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "go build {name} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read(out).unwrap()
}

fn info(bytes: &[u8]) -> GoBuildInfo {
    match read_go_buildinfo(bytes) {
        Some(Ok(i)) => i,
        other => panic!("expected Go build info, got {other:?}"),
    }
}

fn module(path: &str, version: &str) -> GoModule {
    GoModule {
        path: path.into(),
        version: version.into(),
        sum: None,
        replace: None,
    }
}

#[test]
fn go_static_amd64_with_replaced_dep() {
    let Some(go) = go() else { return };
    let bin = build(
        &go,
        "hello-amd64",
        &["-tags", "netgo,osusergo", "-ldflags=-s -w"],
        &[("CGO_ENABLED", "0"), ("GOARCH", "amd64")],
    );
    let i = info(&bin);
    assert!(i.go_version.starts_with("go1."), "{}", i.go_version);
    assert_eq!(i.path, "example.com/hello");
    let main = i.main.clone().unwrap();
    assert_eq!(main.path, "example.com/hello");
    assert_eq!(main.replace, None);
    let mut greet = module("example.com/greet", "v0.0.0");
    // A directory replacement has no version; the go command records it as `(devel)`.
    greet.replace = Some(Box::new(module("../greet", "(devel)")));
    assert_eq!(i.deps, [greet]);
    assert_eq!(i.setting("CGO_ENABLED"), Some("0"));
    assert_eq!(i.setting("GOARCH"), Some("amd64"));
    assert_eq!(i.setting("GOOS"), Some("linux"));
    assert_eq!(i.setting("-tags"), Some("netgo,osusergo"));
    // Stored quoted (`-ldflags="-s -w"`), read back unquoted.
    assert_eq!(i.setting("-ldflags"), Some("-s -w"));
    assert_eq!(i.setting("GOARM"), None);
    cross_check(&go, &bin, &i);
    corruptions(&bin);
}

/// Every byte of the real blob's header and strings overwritten, and the file cut inside the
/// blob: an error or a result, never a panic.
fn corruptions(bin: &[u8]) {
    let magic = b"\xff Go buildinf:";
    let at = bin.windows(magic.len()).position(|w| w == magic).unwrap();
    let end = (at + 1024).min(bin.len());
    let mut b = bin.to_vec();
    for i in at..end {
        for v in [0x00, 0x0a, 0x22, 0x80, 0xff] {
            let old = std::mem::replace(&mut b[i], v);
            if let Some(Ok(info)) = read_go_buildinfo(&b) {
                assert!(!info.go_version.is_empty());
            }
            b[i] = old;
        }
    }
    for n in (at..end).step_by(7) {
        assert!(
            !matches!(read_go_buildinfo(&bin[..n]), Some(Ok(_))),
            "cut at {n}"
        );
    }
}

#[test]
fn go_arm_goarm_settings() {
    let Some(go) = go() else { return };
    for (goarm, recorded) in [("7", "7"), ("6", "6"), ("6,softfloat", "6,softfloat")] {
        let bin = build(
            &go,
            &format!("hello-arm{}", goarm.replace(',', "-")),
            &[],
            &[("CGO_ENABLED", "0"), ("GOARCH", "arm"), ("GOARM", goarm)],
        );
        let i = info(&bin);
        assert_eq!(i.setting("GOARCH"), Some("arm"));
        assert_eq!(i.setting("GOARM"), Some(recorded), "GOARM={goarm}");
        assert_eq!(i.setting("CGO_ENABLED"), Some("0"));
    }
}

#[test]
fn go_cgo_amd64() {
    let Some(go) = go() else { return };
    if !util::require_tool("gcc") {
        return;
    }
    let bin = build(
        &go,
        "hello-cgo",
        &[],
        &[("CGO_ENABLED", "1"), ("GOARCH", "amd64"), ("CC", "gcc")],
    );
    let i = info(&bin);
    assert_eq!(i.setting("CGO_ENABLED"), Some("1"));
    assert_eq!(i.setting("GOARCH"), Some("amd64"));
    // cgo builds record the C flags, empty here.
    assert!(i.settings.iter().any(|(k, _)| k == "CGO_CFLAGS"), "{i:#?}");
}

/// Go binaries from Debian packages, when installed (skipped silently otherwise): built by
/// another Go release, dynamically linked, with many dependencies.
#[test]
fn go_binaries_from_debian() {
    let go = go();
    for p in ["/usr/sbin/runc", "/usr/bin/podman", "/usr/bin/buildah"] {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        let i = info(&bytes);
        assert!(i.go_version.starts_with("go1."), "{p}: {}", i.go_version);
        assert!(!i.path.is_empty(), "{p}");
        if let Some(go) = &go {
            cross_check(go, &bytes, &i);
        }
    }
}

#[test]
fn c_binary_is_not_go() {
    for p in ["/bin/ls", "/bin/sh"] {
        let bytes = std::fs::read(p).unwrap();
        assert!(read_go_buildinfo(&bytes).is_none(), "{p}");
    }
    let recipe = std::fs::read(util::recipe_bin()).unwrap();
    assert!(read_go_buildinfo(&recipe).is_none(), "our own binary");
}

/// Compares with what `go version -m` prints for the same file.
fn cross_check(go: &Path, bytes: &[u8], i: &GoBuildInfo) {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), bytes).unwrap();
    let o = Command::new(go)
        .args(["version", "-m"])
        .arg(f.path())
        .env("GOTOOLCHAIN", "local")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    assert!(
        first.ends_with(&format!(": {}", i.go_version)),
        "{first} vs {}",
        i.go_version
    );
    let (mut deps, mut reps, mut settings) = (Vec::new(), 0, Vec::new());
    for l in lines {
        let cols: Vec<&str> = l.trim_start_matches('\t').split('\t').collect();
        match cols[0] {
            "path" => assert_eq!(cols[1], i.path),
            "mod" => {
                let m = i.main.as_ref().unwrap();
                assert_eq!((cols[1], cols[2]), (m.path.as_str(), m.version.as_str()));
            }
            "dep" => deps.push((cols[1].to_string(), cols[2].to_string())),
            "=>" => reps += 1,
            "build" => settings.push(cols[1].to_string()),
            _ => {}
        }
    }
    let ours: Vec<(String, String)> = i
        .deps
        .iter()
        .map(|d| (d.path.clone(), d.version.clone()))
        .collect();
    assert_eq!(ours, deps);
    let our_reps = i.deps.iter().chain(&i.main).filter(|d| d.replace.is_some());
    assert_eq!(our_reps.count(), reps);
    assert_eq!(i.settings.len(), settings.len());
    // Unquoted keys print as stored.
    for ((k, _), shown) in i.settings.iter().zip(&settings) {
        if !shown.starts_with('"') && !shown.starts_with('`') {
            assert!(shown.starts_with(&format!("{k}=")), "{k} vs {shown}");
        }
    }
}

/// A Go program that uses the resolver and user lookups, built with and without cgo:
/// `recipe check` calls the cgo one (dynamically linked against glibc) ready after a static
/// rebuild with CGO_ENABLED=0, and the other distroless-ready.
#[test]
fn go_with_and_without_cgo_verdicts() {
    let Some(go) = go() else { return };
    if !util::require_tool("gcc") {
        return;
    }
    let dir = util::shared_cache().join("goinfo-net");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("go.mod"),
        "module example.com/hello-net\n\ngo 1.22\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net\"\n\t\"os/user\"\n)\n\n\
         func main() {\n\tu, _ := user.Current()\n\taddrs, _ := net.LookupHost(\"localhost\")\n\t\
         fmt.Println(u, addrs)\n}\n",
    )
    .unwrap();
    let cache = util::shared_cache();
    let verdict = |cgo: &str| {
        let out = dir.join(format!("hello-net-cgo{cgo}"));
        let o = Command::new(&go)
            .args(["build", "-o"])
            .arg(&out)
            .arg(".")
            .current_dir(&dir)
            .env("GOTOOLCHAIN", "local")
            .env("GOCACHE", cache.join("go-build"))
            .env("GOPATH", cache.join("gopath"))
            .env("GOOS", "linux")
            .env("GOARCH", "amd64")
            .env("CGO_ENABLED", cgo)
            .env("CC", "gcc")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = util::run(util::recipe().args(["check", "--json"]).arg(&out));
        let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        (o.code, v["targets"][0]["platforms"][0]["apps"][0].clone())
    };
    let (code, app) = verdict("1");
    assert_eq!(code, 1, "{app}");
    assert_eq!(app["verdict"], "ready-after-static-rebuild", "{app}");
    assert!(app["facts"]["go"]["settings"].is_array(), "{app}");
    let reasons = app["reasons"].to_string();
    assert!(reasons.contains("CGO_ENABLED=0"), "{reasons}");
    assert!(reasons.contains("libc.so.6"), "{reasons}");
    let (code, app) = verdict("0");
    assert_eq!(code, 0, "{app}");
    assert_eq!(app["verdict"], "distroless-ready", "{app}");
    assert_eq!(app["facts"]["libc"]["name"], "none", "{app}");
}
