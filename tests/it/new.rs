//! `recipe new` on apps of the catalogue: two C apps from Debian source packages (dnsmasq:
//! plain make; chrony: a hand-written configure) and one Go module (go-httpbin). Each written
//! recipe pins the same bytes as the catalogue's own, loads, and builds for amd64 (verify and
//! smoke test) with none of the edits `recipe new` listed applied: none of them is needed for
//! the build (they are licence, image and description checks). An app that names /bin/sh gets
//! its image only once the recipe accepts that, as the build's error says. A binary package
//! apt cannot fetch is named in the checks, with the smoke test that could not be guessed; the
//! licence comes from Debian's copyright file; a source of libraries only is drafted as a
//! library.

use crate::util::{Scratch, build_lock, root, run, tools_for_builds};

/// The catalogue recipe's `[source] sha256`.
fn catalogue_sha256(name: &str) -> String {
    let text =
        std::fs::read_to_string(root().join("recipes").join(format!("{name}.toml"))).unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["source"]["sha256"].as_str().unwrap().to_string()
}

fn written(s: &Scratch, name: &str) -> toml::Value {
    let text = std::fs::read_to_string(s.recipes().join(format!("{name}.toml"))).unwrap();
    toml::from_str(&text).unwrap()
}

/// The numbered edits of `recipe new`'s report.
fn checks(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("check:"))
        .skip(1)
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn recipe_new_writes_recipes_that_build_for_amd64() {
    if !tools_for_builds()
        || !crate::util::require_tool("go")
        || !crate::util::require_tool("apt-get")
        || !crate::util::require_tool("dpkg-deb")
    {
        return;
    }
    let _lock = build_lock();
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes()).unwrap();
    let cases: [(&str, &[&str]); 3] = [
        ("dnsmasq", &["dnsmasq", "--debian", "2.90-4~deb12u2"]),
        ("chrony", &["chrony", "--debian", "4.3-2+deb12u3"]),
        (
            "go-httpbin",
            &["--go", "github.com/mccutchen/go-httpbin/v2@v2.26.0"],
        ),
    ];
    for (name, args) in cases {
        let o = run(s.cmd().arg("new").arg("-q").args(args)).success();
        println!("$ recipe new {}\n{}", args.join(" "), o.stdout);
        assert!(o.stdout.starts_with("wrote "), "{}", o.stdout);
        // Every edit it names is a check that the build does not need.
        for c in checks(&o.stdout) {
            assert!(
                [
                    "license:",
                    "no catalogue recipe for",
                    "[image]:",
                    "build: configure is hand-written",
                    "description:",
                    "[smoke]:"
                ]
                .iter()
                .any(|k| c.contains(k)),
                "{name}: an edit the build might need: {c}"
            );
        }
        // bookworm's dnsmasq and chrony (the catalogue is on trixie now, whose binary packages
        // this machine's apt cannot fetch): the sha256 its signed index lists.
        let expected = match name {
            "dnsmasq" => "8e50309bd837bfec9649a812e066c09b6988b73d749b7d293c06c57d46a109e4",
            "chrony" => "9d0da889a865f089a5a21610ffb6713e3c9438ce303a63b49c2fb6eaff5b8804",
            _ => &catalogue_sha256(name),
        };
        let w = written(&s, name);
        assert_eq!(
            w["source"]["sha256"].as_str().unwrap(),
            expected.to_string(),
            "{name}: the pin differs from the index's"
        );
        run(s.cmd().args(["show", name])).success();
        // A second time: refused, the file unchanged.
        let before = std::fs::read(s.recipes().join(format!("{name}.toml"))).unwrap();
        run(s.cmd().arg("new").arg("-q").args(args)).failure(2);
        assert_eq!(
            before,
            std::fs::read(s.recipes().join(format!("{name}.toml"))).unwrap()
        );
    }
    // What the tree and the Debian packages told it.
    let d = written(&s, "dnsmasq");
    assert_eq!(d["build"]["system"].as_str(), Some("make"));
    assert_eq!(
        d["app"]["files"][0].as_str(),
        Some("/usr/local/sbin/dnsmasq")
    );
    let c = written(&s, "chrony");
    assert_eq!(c["build"]["system"].as_str(), Some("script"));
    let configure = c["build"]["script"][0].as_str().unwrap();
    for switch in [
        "--without-seccomp",
        "--without-libcap",
        "--without-editline",
        "--disable-nts",
    ] {
        assert!(configure.contains(switch), "{configure}");
    }
    let g = written(&s, "go-httpbin");
    assert_eq!(g["build"]["packages"][0].as_str(), Some("./cmd/go-httpbin"));
    assert_eq!(g["license"].as_str(), Some("MIT"));

    // Unchanged, they build (fetch, build, verify static, smoke test), but dnsmasq and chrony
    // name /bin/sh (their script hooks), so their images are refused until the recipe accepts
    // that, and the error says how.
    let build = |s: &Scratch| {
        run(s.cmd().args([
            "build",
            "dnsmasq",
            "chrony",
            "go-httpbin",
            "--arch",
            "amd64",
        ]))
    };
    let mut accepted = Vec::new();
    while accepted.len() < 2 {
        let o = build(&s).failure(1);
        let refused: Vec<&str> = ["dnsmasq", "chrony"]
            .into_iter()
            .filter(|n| {
                o.stderr
                    .contains(&format!("x {n}: the image is not distroless"))
            })
            .filter(|n| !accepted.contains(n))
            .collect();
        assert!(!refused.is_empty(), "{}", o.stderr);
        for name in refused {
            let help = o
                .stderr
                .lines()
                .find(|l| l.contains("help:") && l.contains(&format!("recipes/{name}.toml")))
                .unwrap_or_else(|| panic!("no help for {name}: {}", o.stderr));
            // The line the help names, as a user would paste it (with a reason).
            let line = help.rsplit_once(": `").unwrap().1.trim_end_matches('`');
            assert!(line.starts_with("accept = { shell = "), "{help}");
            let line = line.replace("WHY it does without", "its service needs no script");
            let path = s.recipes().join(format!("{name}.toml"));
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replacen("[app]\n", &format!("[app]\n{line}\n"), 1);
            std::fs::write(&path, text).unwrap();
            accepted.push(name);
        }
    }
    let o = build(&s).success();
    println!("{}", o.stdout);
    assert!(s.out().join("dnsmasq").is_dir(), "{}", o.stdout);
    assert!(s.out().join("chrony").is_dir(), "{}", o.stdout);
    assert!(s.out().join("go-httpbin").is_dir(), "{}", o.stdout);
}

/// A binary package this machine's apt cannot fetch (here an `apt-get` that refuses every
/// version, as a bookworm apt refuses trixie's): the draft names the package, the version and
/// the likely cause, keeps a placeholder app file, and says that no smoke test was guessed,
/// in the file and in its checks.
#[test]
fn a_binary_package_apt_cannot_fetch_is_named_and_the_missing_smoke_test_too() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes()).unwrap();
    let bin = tempfile::tempdir().unwrap();
    let apt = bin.path().join("apt-get");
    std::fs::write(
        &apt,
        "#!/bin/sh\necho \"E: Version '${2#*=}' for '${2%%=*}' was not found\" >&2\nexit 100\n",
    )
    .unwrap();
    std::fs::set_permissions(&apt, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o =
        run(s
            .cmd()
            .env("PATH", path)
            .args(["new", "-q", "dnsmasq", "--debian", "2.91-1+deb13u2"]))
        .success();
    let c = checks(&o.stdout);
    assert!(
        c.iter()
            .any(|c| c.contains("apt could not fetch dnsmasq=2.91-1+deb13u2")
                && c.contains("was not found")
                && c.contains("may not list trixie")
                && c.contains("placeholder")),
        "{}",
        o.stdout
    );
    assert!(
        c.iter().any(|c| c.contains("[smoke]: none was guessed")),
        "{}",
        o.stdout
    );
    let text = std::fs::read_to_string(s.recipes().join("dnsmasq.toml")).unwrap();
    assert!(!text.contains("\n[smoke]"), "{text}");
    // The licence is what Debian's machine-readable copyright file says of `Files: *`.
    assert!(
        text.contains("\nlicense = \"GPL-2.0-only OR GPL-3.0-only\"\n"),
        "{text}"
    );
    assert!(
        o.stdout.contains("from Debian's debian/copyright"),
        "{}",
        o.stdout
    );
    assert!(
        text.contains("# CHECK: no smoke test was guessed"),
        "{text}"
    );
    run(s.cmd().args(["show", "dnsmasq"])).success();
}

/// A source package whose binary packages are all libraries (libevent: `libevent-dev`,
/// `libevent-2.1-7t64`, ...) is drafted as a library: no `[app]`, `[smoke]` or `[image]`,
/// nothing to check about them, and `show` says it is one.
#[test]
fn a_source_of_libraries_only_is_drafted_as_a_library() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes()).unwrap();
    let o = run(s.cmd().args([
        "new",
        "-q",
        "libevent",
        "--debian",
        "2.1.13-stable-1~deb13u1",
    ]))
    .success();
    assert!(
        o.stdout
            .contains("a library: Debian's binary packages of libevent"),
        "{}",
        o.stdout
    );
    let c = checks(&o.stdout);
    assert!(
        !c.iter()
            .any(|c| c.contains("[app]") || c.contains("[smoke]") || c.contains("[image]")),
        "{}",
        o.stdout
    );
    let w = written(&s, "libevent");
    for table in ["app", "smoke", "image"] {
        assert!(w.get(table).is_none(), "{table}: {w}");
    }
    assert_eq!(w["license"].as_str(), Some("BSD-3-Clause"));
    run(s.cmd().args(["show", "libevent"]))
        .success()
        .stdout_has("app files:  none: a library");
}
