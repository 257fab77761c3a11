//! A first recipe from a Go module: the module zip through the Go module proxy with the pinned
//! Go (`go mod download -json`, checked against Go's checksum database), hashed by us; the
//! `main` packages found in it become the recipe's `packages` and `[app] files`.

use std::path::Path;

use super::{Draft, NewError};
use crate::source::{Origin, SourceError, Store};

/// `recipe new --go MODULE@VERSION [NAME]`.
#[derive(Debug, Clone)]
pub struct GoRequest {
    pub module: String,
    pub version: String,
    pub name: Option<String>,
}

impl GoRequest {
    /// From `MODULE@VERSION`.
    pub fn parse(spec: &str, name: Option<String>) -> Result<GoRequest, NewError> {
        let bad = |why| NewError::BadInput {
            what: "go module",
            value: spec.to_string(),
            why,
        };
        let (module, version) = spec.split_once('@').ok_or_else(|| {
            bad("expected MODULE@VERSION, e.g. `github.com/mccutchen/go-httpbin/v2@v2.26.0`")
        })?;
        let ok = |s: &str| {
            !s.is_empty()
                && !s.starts_with(['-', '/', '.'])
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~/+".contains(c))
        };
        if !ok(module) || !module.contains('/') && !module.contains('.') {
            return Err(bad("not a module path"));
        }
        if !ok(version) || !version.starts_with('v') || version.contains('/') {
            return Err(bad("the version must be a tag like `v1.2.3`"));
        }
        // The name becomes the file name `NAME.toml`: a recipe name, checked before anything
        // is fetched (`../../x` or a newline would put a file outside the catalogue).
        if let Some(n) = &name
            && crate::recipe::rules::recipe_name(n).is_err()
        {
            return Err(NewError::BadInput {
                what: "recipe name",
                value: n.clone(),
                why: "a recipe name is lowercase letters and digits, separated by single `.`, \
                      `_` or `__`, or by dashes, e.g. `go-httpbin`",
            });
        }
        Ok(GoRequest {
            module: module.to_string(),
            version: version.to_string(),
            name,
        })
    }
}

/// The last element of a module path, or the one before a major-version suffix (`/v2`).
pub(crate) fn module_base(module: &str) -> &str {
    let mut parts = module.rsplit('/');
    let last = parts.next().unwrap_or(module);
    let is_major =
        last.len() > 1 && last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit());
    if is_major {
        parts.next().unwrap_or(last)
    } else {
        last
    }
}

/// Folders (relative, `.` for the root) whose non-test Go files say `package main`, outside
/// examples, tests, tools and internal folders; sorted.
pub(crate) fn main_packages(root: &Path) -> Vec<String> {
    let skip = |rel: &str| {
        rel.split('/').any(|c| {
            c.starts_with(['.', '_'])
                || matches!(
                    c,
                    "testdata"
                        | "vendor"
                        | "internal"
                        | "example"
                        | "examples"
                        | "test"
                        | "tests"
                        | "tools"
                        | "hack"
                        | "scripts"
                        | "e2e"
                        | "benchmarks"
                        | "docs"
                )
        })
    };
    let mut out = Vec::new();
    let mut dirs = vec![std::path::PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(root.join(&rel)) else {
            continue;
        };
        let mut is_main = false;
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                let sub = rel.join(&name);
                if !skip(&sub.to_string_lossy()) {
                    dirs.push(sub);
                }
            } else if t.is_file()
                && name.ends_with(".go")
                && !name.ends_with("_test.go")
                && let Ok(text) = std::fs::read_to_string(e.path())
                && package_clause(&text) == Some("main")
            {
                is_main = true;
            }
        }
        if is_main {
            let r = rel.to_string_lossy();
            out.push(if r.is_empty() {
                ".".to_string()
            } else {
                format!("./{r}")
            });
        }
    }
    out.sort();
    out
}

/// The name in a Go file's `package` clause (comments and build lines before it skipped).
fn package_clause(text: &str) -> Option<&str> {
    let mut in_block = false;
    for line in text.lines() {
        let l = line.trim();
        if in_block {
            if l.contains("*/") {
                in_block = false;
            }
            continue;
        }
        if l.is_empty() || l.starts_with("//") {
            continue;
        }
        if l.starts_with("/*") {
            in_block = !l.contains("*/");
            continue;
        }
        return l
            .strip_prefix("package ")
            .map(|r| r.split_whitespace().next().unwrap_or(""));
    }
    None
}

/// True when a non-test Go file of the tree (outside vendor/testdata) imports "C".
fn uses_cgo(root: &Path) -> bool {
    crate::walk::walk(root)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.file_type.is_file())
        .filter(|e| {
            let p = e.path.to_string_lossy();
            p.ends_with(".go")
                && !p.ends_with("_test.go")
                && !p.contains("/vendor/")
                && !p.contains("/testdata/")
        })
        .any(|e| {
            std::fs::read_to_string(&e.path)
                .is_ok_and(|t| t.lines().any(|l| l.trim() == "import \"C\""))
        })
}

/// A first recipe for the Go module `req`: its zip's sha256 through the pinned Go, its main
/// packages as app files, a commented smoke test and image defaults.
pub fn from_go(
    req: &GoRequest,
    cache: &Path,
    toolchains: Option<&Path>,
    progress: &mut dyn FnMut(&str),
) -> Result<Draft, NewError> {
    let specs = crate::toolchain::spec::Specs::load(toolchains)?;
    progress(&format!("provisioning Go {}", specs.go.version));
    let go = crate::toolchain::provision_go(&specs.go, cache)?;
    let store = Store::new(crate::cache::Layout::new(cache).sources()).with_go(go.pinned.clone());
    let origin = Origin::GoModule {
        module: req.module.clone(),
        version: req.version.clone(),
    };
    let (zip, sha256) = match store.fetch_unpinned(&origin, progress) {
        Ok(x) => x,
        Err(e @ SourceError::Command { .. }) => {
            return Err(NewError::UnknownModule {
                module: req.module.clone(),
                version: req.version.clone(),
                source: e,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let (_work, tree) = super::unpack(cache, &zip, crate::source::go_module_strip(&req.module))?;
    if !tree.join("go.mod").is_file() {
        return Err(NewError::NoBuildSystem(req.module.clone()));
    }
    // A module whose go.mod replaces a module with a sibling folder cannot build from its zip.
    crate::source::check_local_replaces(&tree, &tree)?;
    let version = req.version.trim_start_matches('v').replace('+', "-");
    let mut d = module_draft(req, &sha256, &specs.go.version, &version);
    super::license(&mut d, &tree);
    d.checks
        .push("description: one line saying what the app is".into());
    app_files(&mut d, &tree, module_base(&req.module));
    smoke_and_image(&mut d, &version);
    Ok(d)
}

/// The draft's name, version, homepage and source pin.
fn module_draft(req: &GoRequest, sha256: &str, go_version: &str, version: &str) -> Draft {
    let name = req
        .name
        .clone()
        .unwrap_or_else(|| super::recipe_name(module_base(&req.module)));
    let mut d = Draft {
        name,
        version: version.to_string(),
        homepage: match req.module.strip_prefix("github.com/") {
            Some(rest) => {
                let repo: Vec<&str> = rest.splitn(3, '/').take(2).collect();
                format!("https://github.com/{}", repo.join("/"))
            }
            None => format!("https://pkg.go.dev/{}", req.module),
        },
        description: format!("{} (Go)", req.module),
        sha256: sha256.to_string(),
        note: format!(
            "the module zip of {}@{} from the Go module proxy",
            req.module, req.version
        ),
        source_comment: vec![format!(
            "sha256 of the module zip the Go module proxy served for this version, hashed by \
             `recipe new`; `go mod download` (Go {go_version}) checked it against Go's checksum database."
        )],
        origin_table: "source.go-module".into(),
        origin_lines: vec![
            ("module".into(), req.module.clone()),
            ("version".into(), req.version.clone()),
        ],
        system: "go".into(),
        ..Draft::default()
    };
    d.guesses.push(format!(
        "source: the module zip of {}@{}, sha256 {sha256} (Go module proxy, checksum database)",
        req.module, req.version
    ));
    d.guesses.push("build system: go (go.mod)".into());
    d
}

/// The main packages as `[build] packages` and app files (`go build` names each binary after
/// its folder; the module's root after the module, `base`).
fn app_files(d: &mut Draft, tree: &Path, base: &str) {
    let binary = |p: &str| -> String {
        if p == "." {
            base.to_string()
        } else {
            p.rsplit('/').next().unwrap_or(p).to_string()
        }
    };
    let packages = main_packages(tree);
    let chosen: Vec<String> = if packages.is_empty() {
        d.checks.push(
            "[build] packages: no `package main` found outside examples and tests; `.` is a placeholder"
                .into(),
        );
        vec![".".into()]
    } else {
        packages
    };
    if chosen != ["."] {
        d.options.push(("packages".into(), chosen.clone()));
    }
    d.files = chosen
        .iter()
        .map(|p| format!("/usr/local/bin/{}", binary(p)))
        .collect();
    d.guesses.push(format!(
        "main packages {} -> app files {}",
        chosen.join(", "),
        d.files.join(", ")
    ));
    if chosen.len() > 1 {
        d.checks.push(
            "[build] packages: more than one main package; keep the ones the image needs".into(),
        );
    }
    if uses_cgo(tree) {
        d.checks.push(
            "the module imports \"C\" (cgo): if the app's packages need it, set `cgo = true` in [build]"
                .into(),
        );
    }
}

/// A commented smoke test (Go programs print their version in different ways) and what the
/// image needs checked.
fn smoke_and_image(d: &mut Draft, version: &str) {
    let program = d
        .files
        .first()
        .map(|f| f.rsplit('/').next().unwrap_or(f).to_string())
        .unwrap_or_default();
    d.smoke_comment = vec![
        "TODO: a smoke test. Go programs differ in how they print their version; for example:"
            .into(),
        "[smoke]".into(),
        format!("command = [\"{program}\", \"-version\"]"),
        format!("expect = \"{version}\""),
        "or a service test (listen = \"tcp\" and [[smoke.request]]), see docs/recipe-format.md."
            .into(),
    ];
    d.checks.push(format!(
        "[smoke]: none written; add one (a commented example runs `{program} -version`)"
    ));
    d.image_checks("a Go app");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_specs_are_checked() {
        let r = GoRequest::parse("github.com/mccutchen/go-httpbin/v2@v2.26.0", None).unwrap();
        assert_eq!(r.module, "github.com/mccutchen/go-httpbin/v2");
        assert_eq!(r.version, "v2.26.0");
        for bad in [
            "github.com/x/y",
            "-x@v1.0.0",
            "github.com/x/y@1.0.0",
            "github.com/x y@v1.0.0",
            "github.com/x/y@v1/../x",
        ] {
            assert!(GoRequest::parse(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn binaries_are_named_as_go_names_them() {
        assert_eq!(
            module_base("github.com/mccutchen/go-httpbin/v2"),
            "go-httpbin"
        );
        assert_eq!(module_base("github.com/traefik/whoami"), "whoami");
    }

    #[test]
    fn main_packages_are_found_outside_examples() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &str| {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        };
        w("go.mod", "module example.org/app\n");
        w("lib.go", "// Package app.\npackage app\n");
        w(
            "cmd/app/main.go",
            "//go:build linux\n\n/* x\n*/\npackage main\n",
        );
        w("cmd/app/main_test.go", "package main_test\n");
        w("examples/demo/main.go", "package main\n");
        w("internal/tool/main.go", "package main\n");
        assert_eq!(main_packages(d.path()), ["./cmd/app"]);
        assert!(!uses_cgo(d.path()));
        w("cmd/app/c.go", "package main\n\nimport \"C\"\n");
        assert!(uses_cgo(d.path()));
    }
}
