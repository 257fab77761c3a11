//! ARCHITECTURE.md's checkable invariants, checked: nothing outside `src/arch.rs` spells a
//! target triple, a GOARCH/GOARM value or a qemu binary; and what the arch table says about
//! the build machine is what the wrappers use.

use std::path::Path;

use recipe::arch::Arch;

use crate::util::*;

/// CPU names that begin a triple (`x86_64-linux-musl`, `aarch64-unknown-linux-gnu`,
/// `arm-linux-gnueabihf`, `armv7l-...`) or a qemu-user binary (`qemu-aarch64-static`).
const CPUS: &[&str] = &[
    "x86_64", "aarch64", "armv7l", "armv7", "arm", "i386", "i686", "riscv64",
];
/// GOARCH and GOARM values.
const GO_VALUES: &[&str] = &["amd64", "arm64", "arm", "386", "riscv64", "5", "6", "7"];

/// What no file of `src/` but `arch.rs` may spell: the kind, and whether `line` spells one.
/// Lines are looked at after full-line comments and `#[cfg(test)]` modules (inline, or in their
/// own `tests.rs` or `*_tests.rs`) are set aside (a test may state the value it expects; prose may name an
/// arch).
type Check = (&'static str, fn(&str) -> bool);

const FORBIDDEN: &[Check] = &[
    ("a target triple", spells_triple),
    ("a GOARCH or GOARM value", spells_go_arch),
    ("a qemu-user binary", spells_qemu),
    ("a Rust arch name", spells_rust_arch),
];

/// The words of `line`: runs of letters, digits, `_`, `-` and `.`.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || "_-.".contains(c)))
        .filter(|w| !w.is_empty())
}

fn spells_triple(line: &str) -> bool {
    words(line).any(|w| {
        w.contains("-linux-gnu")
            || w.contains("-linux-musl")
            || CPUS.iter().any(|cpu| {
                w.split_once(&format!("{cpu}-"))
                    .is_some_and(|(before, after)| {
                        (before.is_empty() || before.ends_with(['/', '*', '=']))
                            && after.contains("linux")
                    })
            })
    })
}

fn spells_go_arch(line: &str) -> bool {
    ["GOARCH", "GOARM"].iter().any(|var| {
        line.match_indices(var).any(|(i, _)| {
            let rest = &line[i + var.len()..];
            let assigned = rest
                .strip_prefix('=')
                .and_then(|r| words(r).next())
                .is_some_and(|v| GO_VALUES.contains(&v));
            let quoted = GO_VALUES.iter().any(|v| rest.contains(&format!("\"{v}\"")));
            assigned || quoted
        })
    })
}

fn spells_qemu(line: &str) -> bool {
    words(line).any(|w| CPUS.iter().any(|cpu| w.contains(&format!("qemu-{cpu}"))))
}

fn spells_rust_arch(line: &str) -> bool {
    ["\"x86_64\"", "\"aarch64\""]
        .iter()
        .any(|q| line.contains(q))
}

/// The lines of `text` that count: no full-line comment, nothing of a `#[cfg(test)]` module
/// (from its `mod` line to the closing brace rustfmt puts in column 0).
pub(crate) fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut in_tests = false;
    let mut test_attr = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if in_tests {
            in_tests = line != "}";
            continue;
        }
        if t == "#[cfg(test)]" {
            test_attr = true;
            continue;
        }
        if test_attr && t.starts_with("mod ") && t.ends_with('{') && line.starts_with("mod ") {
            in_tests = true;
            test_attr = false;
            continue;
        }
        test_attr = false;
        if t.starts_with("//") {
            continue;
        }
        out.push((i + 1, line));
    }
    out
}

/// Every forbidden spelling in `text` (named `file`), as `file:line: what: the line`.
fn violations(file: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (n, line) in code_lines(text) {
        for (what, spells) in FORBIDDEN {
            if spells(line) {
                out.push(format!("{file}:{n}: {what}: {}", line.trim()));
            }
        }
    }
    out
}

#[test]
fn nothing_outside_arch_rs_spells_a_triple_goarch_or_qemu_name() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut found = Vec::new();
    // A file named `tests.rs` or `*_tests.rs` is a `#[cfg(test)]` module in its own file.
    let is_test_module = |f: &std::path::Path| {
        f.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n == "tests.rs" || n.ends_with("_tests.rs"))
    };
    for f in files
        .iter()
        .filter(|f| !f.ends_with("src/arch.rs") && !is_test_module(f))
    {
        let name = f.strip_prefix(root()).unwrap().display().to_string();
        found.extend(violations(&name, &std::fs::read_to_string(f).unwrap()));
    }
    // What is set aside as a test module must be one: declared right after `#[cfg(test)]`.
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    for f in files.iter().filter(|f| is_test_module(f)) {
        let stem = f.file_stem().unwrap().to_str().unwrap();
        let declared = texts.iter().any(|t| {
            let lines: Vec<&str> = t.lines().map(str::trim).collect();
            lines
                .windows(2)
                .any(|w| w[0] == "#[cfg(test)]" && w[1] == format!("mod {stem};").as_str())
        });
        if !declared {
            found.push(format!(
                "{}: named as a test module but not declared `#[cfg(test)] mod {stem};`",
                f.strip_prefix(root()).unwrap().display()
            ));
        }
    }
    assert!(
        found.is_empty(),
        "arch-specific names outside src/arch.rs (ask `Arch`/`ArchInfo` instead):\n{}",
        found.join("\n")
    );
}

/// The patterns are not idle: the arch table itself spells every kind, for every arch, and
/// each spelling the old code had outside it is caught; comments and test modules are not.
#[test]
fn the_patterns_catch_what_the_arch_table_spells() {
    let table = std::fs::read_to_string(root().join("src/arch.rs")).unwrap();
    let hits = violations("src/arch.rs", &table);
    for a in Arch::ALL {
        let i = a.info();
        for spelled in [i.triple, i.gnu_build_triple, i.multiarch, i.qemu.unwrap()] {
            assert!(
                hits.iter().any(|h| h.contains(spelled)),
                "`{spelled}` in src/arch.rs is not caught:\n{}",
                hits.join("\n")
            );
        }
    }
    for (line, what) in [
        (
            r#"    s("--build=x86_64-pc-linux-gnu"),"#,
            "a target triple",
        ),
        (
            r#"    */usr/lib/x86_64-linux-gnu*|*/usr/include/x86_64-linux-gnu*)"#,
            "a target triple",
        ),
        (
            r#"    env.insert("GOARCH".into(), "arm64".into());"#,
            "a GOARCH",
        ),
        (r#"    let cmd = "GOARCH=amd64 go build";"#, "a GOARCH"),
        (r#"    ("GOARM", "7"),"#, "GOARM"),
        (
            r#"    runner: "qemu-aarch64-static","#,
            "a qemu-user binary",
        ),
        (
            r#"        "aarch64" => Some(Arch::Arm64),"#,
            "a Rust arch name",
        ),
    ] {
        let v = violations("x.rs", line);
        assert!(
            v.iter().any(|h| h.contains(what)),
            "not caught: {line}\n{v:?}"
        );
    }
    let allowed = "//! runs under qemu-aarch64-static\nfn f() {}\n/// x86_64-linux-musl\n\
                   #[cfg(test)]\nmod tests {\n    const T: &str = \"aarch64-linux-musl\";\n}\n\
                   pub const QEMU_PACKAGE: &str = \"qemu-user-static\";\n\
                   let goarch = got.setting(\"GOARCH\");\n";
    assert_eq!(violations("x.rs", allowed), Vec::<String>::new());
    // Code after a test module counts again.
    let after = "#[cfg(test)]\nmod tests {\n}\nconst T: &str = \"arm-linux-musleabihf\";\n";
    assert_eq!(violations("x.rs", after).len(), 1);
}

/// The leak guard refuses every Debian multiarch folder of the table (an arm64 build machine's
/// `/usr/lib/aarch64-linux-gnu` as much as an x86_64 one's), and passes sysroot paths: the
/// generated `cc` wrapper run by `sh`, with `recipe` in wrapper mode and `true` for zig.
#[test]
fn the_leak_guard_refuses_the_host_folders_of_every_build_machine_arch() {
    if !require_tool("sh") || !require_tool("true") {
        return;
    }
    let s = Scratch::new();
    for target in Arch::ALL {
        let scripts =
            recipe::toolchain::wrappers::scripts(Path::new("/bin/true"), &recipe_bin(), target);
        let (_, cc) = scripts
            .iter()
            .find(|(n, _)| n.ends_with("-cc"))
            .expect("a cc wrapper");
        let path = s.path().join(format!("cc-{target}"));
        std::fs::write(&path, cc).unwrap();
        let run_cc = |arg: &str| {
            std::process::Command::new("sh")
                .arg(&path)
                .arg(arg)
                .env_clear()
                .output()
                .unwrap()
        };
        for host in Arch::ALL {
            let m = host.info().multiarch;
            for flag in [format!("-L/usr/lib/{m}"), format!("-I/usr/include/{m}")] {
                let o = run_cc(&flag);
                let err = String::from_utf8_lossy(&o.stderr);
                assert_eq!(o.status.code(), Some(1), "{target}: {flag} passed");
                assert!(err.contains("leak guard"), "{target}: {flag}: {err}");
            }
        }
        let ok = run_cc("-L/w/sysroot/usr/local/lib");
        assert!(ok.status.success(), "{target}: a sysroot path was refused");
    }
}
