//! Tests of `recipe new --crate`.

use super::*;

#[test]
fn crate_specs_are_checked() {
    let r = CrateRequest::parse("static-web-server@2.44.1", None).unwrap();
    assert_eq!(
        (r.krate.as_str(), r.version.as_deref()),
        ("static-web-server", Some("2.44.1"))
    );
    assert_eq!(r.recipe_name(), "static-web-server");
    let r = CrateRequest::parse("Mini_Serve", Some("ms".into())).unwrap();
    assert_eq!(
        (r.version.clone(), r.recipe_name()),
        (None, "ms".to_string())
    );
    assert_eq!(
        CrateRequest::parse("Mini_Serve", None)
            .unwrap()
            .recipe_name(),
        "mini_serve"
    );
    for bad in [
        "",
        "1x",
        "a b",
        "x@",
        "x@latest",
        "x@1.0",
        "../x@1.0.0",
        "x@1.0.0/..",
    ] {
        assert!(CrateRequest::parse(bad, None).is_err(), "{bad}");
    }
    assert!(CrateRequest::parse("x", Some("../y".into())).is_err());
}

#[test]
fn index_paths_are_cargos() {
    assert_eq!(index_path("a"), "1/a");
    assert_eq!(index_path("ab"), "2/ab");
    assert_eq!(index_path("Syn"), "3/s/syn");
    assert_eq!(index_path("serde"), "se/rd/serde");
    assert_eq!(index_path("static-web-server"), "st/at/static-web-server");
}

fn rel(vers: &str, yanked: bool) -> Release {
    Release {
        name: "x".into(),
        vers: vers.into(),
        cksum: "a".repeat(64),
        yanked,
    }
}

#[test]
fn the_newest_release_is_neither_a_pre_release_nor_yanked() {
    let all = [
        rel("0.9.0", false),
        rel("0.10.0", false),
        rel("0.11.0-rc.1", false),
        rel("0.12.0", true),
    ];
    assert_eq!(choose(&all, "x", None).unwrap().vers, "0.10.0");
    // Asked for, a yanked or pre-release version is taken (the draft says it is yanked).
    assert!(choose(&all, "x", Some("0.12.0")).unwrap().yanked);
    assert_eq!(
        choose(&all, "x", Some("0.11.0-rc.1")).unwrap().vers,
        "0.11.0-rc.1"
    );
    let e = choose(&all, "x", Some("1.0.0")).unwrap_err().to_string();
    assert!(
        e.contains("(its newest: 0.11.0-rc.1, 0.10.0, 0.9.0)"),
        "{e}"
    );
    assert!(choose(&[rel("1.0.0", true)], "x", None).is_err());
}

#[test]
fn index_lines_are_parsed_and_checked() {
    let good = format!(
        "{{\"name\":\"x\",\"vers\":\"1.0.0\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false,\"v\":2}}\n\n",
        "AB".repeat(32)
    );
    let r = parse_index(&good, "u").unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].cksum, "ab".repeat(32));
    let e = parse_index(&good.replace("AB", "A"), "u").unwrap_err();
    assert!(e.to_string().starts_with("u:1: "), "{e}");
    assert!(parse_index("{\"vers\":\"1\"}", "u").is_err());
    assert!(parse_index(&good.replace("1.0.0", "one"), "u").is_err());
}

fn tree(files: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in files {
        let p = d.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "fn main() {}\n").unwrap();
    }
    d
}

#[test]
fn binaries_are_the_targets_cargo_builds() {
    let t = tree(&[
        "src/main.rs",
        "src/bin/b.rs",
        "src/bin/c/main.rs",
        "src/bin/d.rs",
    ]);
    let text = r#"
[package]
name = "app"
version = "1.0.0"
license = "MIT/Apache-2.0"
description = """two
   lines"""

[features]
default = ["a"]
a = ["b", "dep:x"]
b = []
extra = []

[[bin]]
name = "dee"
path = "src/bin/d.rs"
required-features = ["extra"]
"#;
    let m = read_manifest(text, t.path(), "Cargo.toml").unwrap();
    let names: Vec<&str> = m.bins.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["app", "b", "c", "dee"]);
    assert_eq!(m.bins[3].needs, ["extra"]);
    assert_eq!(m.description.as_deref(), Some("two lines"));
    assert_eq!(
        spdx_license(m.license.as_deref().unwrap()),
        "MIT OR Apache-2.0"
    );
    assert_eq!(spdx_license("Apache-2.0 OR MIT"), "Apache-2.0 OR MIT");
    assert_eq!(
        default_features(&m.features)
            .into_iter()
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    // autobins = false: the [[bin]] targets only.
    let off = text.replace("[package]\n", "[package]\nautobins = false\n");
    let m = read_manifest(&off, t.path(), "Cargo.toml").unwrap();
    assert_eq!(m.bins.len(), 1);
    let e = read_manifest("[package]\n", t.path(), "x/Cargo.toml").unwrap_err();
    assert!(e.to_string().starts_with("x/Cargo.toml: "), "{e}");
}

#[test]
fn openssl_in_the_lock_file_is_flagged_and_git_crates_refused() {
    let lock = |name: &str, source: &str| {
        format!(
            "version = 4\n[[package]]\nname = \"app\"\nversion = \"1.0.0\"\n\n\
             [[package]]\nname = \"{name}\"\nversion = \"0.9.1\"\nsource = \"{source}\"\n\
             checksum = \"{}\"\n",
            "c".repeat(64)
        )
    };
    let io = "registry+https://github.com/rust-lang/crates.io-index";
    let f = lock_facts(&lock("openssl-sys", io), Path::new("Cargo.lock")).unwrap();
    assert_eq!(
        f,
        LockFacts {
            crates: 1,
            tls: vec!["openssl-sys"],
            c_crates: vec!["openssl-sys".into()],
        }
    );
    assert!(
        lock_facts(&lock("itoa", io), Path::new("L"))
            .unwrap()
            .tls
            .is_empty()
    );
    let e = lock_facts(&lock("itoa", "git+https://x/y#1"), Path::new("L")).unwrap_err();
    assert!(
        e.to_string().contains("cannot be pinned by checksum"),
        "{e}"
    );

    let mut d = Draft::default();
    let m = Manifest {
        name: "app".into(),
        version: "1.0.0".into(),
        license: None,
        license_file: None,
        description: None,
        homepage: None,
        repository: None,
        bins: Vec::new(),
        features: [
            ("default".to_string(), vec!["native-tls".to_string()]),
            ("native-tls".to_string(), vec![]),
            ("rustls-tls".to_string(), vec![]),
        ]
        .into(),
    };
    features_and_tls(
        &mut d,
        &m,
        &LockFacts {
            crates: 3,
            tls: vec!["openssl-sys", "native-tls"],
            c_crates: vec!["openssl-sys".into()],
        },
    );
    assert!(
        d.build_comment[0].contains("on by default: native-tls"),
        "{:?}",
        d.build_comment
    );
    assert!(
        d.build_comment[1].contains("openssl-sys and native-tls"),
        "{:?}",
        d.build_comment
    );
    assert!(
        d.checks[0].contains("features that may: rustls-tls"),
        "{:?}",
        d.checks
    );
}
