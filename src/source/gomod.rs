//! The Go module origin: `go mod download -json` into a throwaway module cache; the module zip
//! it leaves there is what the recipe pins, and the `Time` of the `.info` file beside it (the
//! module proxy's `@v/VERSION.info`: when that version was published, the same for everyone)
//! is the source's date. Also the check of a source's go.mod `replace`
//! directives that name a folder: each folder must be in the source, with its go.mod (a module
//! zip never holds a sibling module, and the build's sandbox sees nothing outside the source).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::SourceError;
use super::download::{Fetched, adopt_file, check_name, run_tool, status_text, tail, temp_dir_in};

/// How many leading path components to strip when extracting a Go module zip.
///
/// Every entry of a module zip is prefixed `MODULE@VERSION/`, and the module path's own slashes
/// count: `github.com/traefik/whoami@v1.10.3/main.go` has 3 components before `main.go`, so
/// `go_module_strip("github.com/traefik/whoami") == 3` and `go_module_strip("rsc.io/quote/v3")
/// == 3`.
pub fn go_module_strip(module: &str) -> usize {
    module.split('/').filter(|c| !c.is_empty()).count()
}

/// When a module version was published, in seconds since the epoch, or why that is unknown
/// (the proxy gave no `.info`, or its `Time` does not parse).
pub(crate) type Published = Result<u64, String>;

/// Runs `go mod download -json MODULE@VERSION` (with `go`, the pinned toolchain's binary, or
/// `go` from PATH) with `GOMODCACHE` in a new temporary directory
/// inside `tmp_dir` (and `GOFLAGS=-modcacherw`, so that directory can be removed) and takes
/// the module zip it reports, with the publication time its `.info` file gives.
pub(crate) fn download(
    go: Option<&Path>,
    module: &str,
    version: &str,
    tmp_dir: &Path,
) -> Result<(Fetched, Published), SourceError> {
    check_name("go module path", module)?;
    check_name("go module version", version)?;
    if module.contains('@') || version.contains('@') {
        return Err(SourceError::BadName {
            what: "go module",
            value: format!("{module}@{version}"),
        });
    }
    let dir = temp_dir_in(tmp_dir, "go-mod-")?;
    let modcache = dir.path().join("modcache");
    let spec = format!("{module}@{version}");
    let command = format!("go mod download -json {spec}");
    // Run outside any module (the temporary directory has no go.mod), with our own cache.
    let mut cmd = crate::process::command(go.unwrap_or(Path::new("go")));
    cmd.args(["mod", "download", "-json", &spec])
        .current_dir(dir.path())
        .envs(crate::process::host_env())
        .env("GOMODCACHE", &modcache)
        .env("GOFLAGS", "-modcacherw")
        .env("GO111MODULE", "on")
        .env("GOTOOLCHAIN", "local");
    let output = run_tool(&mut cmd, &command)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json: Option<serde_json::Value> = serde_json::from_str(&stdout).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(|v| v.as_str())
    };
    if let Some(err) = field("Error") {
        make_writable(dir.path());
        return Err(SourceError::Command {
            command,
            detail: err.to_string(),
        });
    }
    if !output.success() {
        make_writable(dir.path());
        let text = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
        return Err(SourceError::Command {
            command,
            detail: format!("{}: {}", status_text(&output), tail(&text, 15)),
        });
    }
    let Some(zip) = field("Zip").map(PathBuf::from) else {
        make_writable(dir.path());
        return Err(SourceError::Command {
            command,
            detail: format!("its output names no \"Zip\": {}", tail(&stdout, 15)),
        });
    };
    if !zip.starts_with(dir.path()) || !zip.is_file() {
        make_writable(dir.path());
        return Err(SourceError::Command {
            command,
            detail: format!("the zip it names is not in its cache: {}", zip.display()),
        });
    }
    let published = match field("Info") {
        Some(info) => fs::read(info)
            .map_err(|e| format!("cannot read its `.info` file: {e}"))
            .and_then(|bytes| info_time(&bytes)),
        None => Err("`go mod download` names no `.info` file".to_string()),
    };
    make_writable(dir.path());
    Ok((adopt_file(zip, dir)?, published))
}

/// The `Time` of a module proxy's `@v/VERSION.info` document (`{"Version": "v1.2.3", "Time":
/// "2023-05-06T07:08:09Z"}`), in seconds since the epoch.
pub(crate) fn info_time(info: &[u8]) -> Published {
    #[derive(serde::Deserialize)]
    struct Info {
        #[serde(rename = "Time")]
        time: Option<String>,
    }
    let info: Info =
        serde_json::from_slice(info).map_err(|e| format!("its `.info` is not JSON: {e}"))?;
    let time = info
        .time
        .ok_or_else(|| "its `.info` has no `Time`".to_string())?;
    let at: jiff::Timestamp = time
        .parse()
        .map_err(|e| format!("its `.info` `Time` `{time}` does not parse: {e}"))?;
    u64::try_from(at.as_second()).map_err(|_| format!("its `.info` `Time` `{time}` is before 1970"))
}

/// Asks the module proxy when `module@version` was published (`go list -m -json`, which reads
/// only its `.info`), for a module zip another origin gave (a `urls` one) or the store already
/// holds without that date.
pub(crate) fn published(
    go: Option<&Path>,
    module: &str,
    version: &str,
    tmp_dir: &Path,
) -> Published {
    let dir = temp_dir_in(tmp_dir, "go-info-").map_err(|e| e.to_string())?;
    let spec = format!("{module}@{version}");
    let mut cmd = crate::process::command(go.unwrap_or(Path::new("go")));
    cmd.args(["list", "-m", "-json", &spec])
        .current_dir(dir.path())
        .envs(crate::process::host_env())
        .env("GOMODCACHE", dir.path().join("modcache"))
        .env("GOFLAGS", "-modcacherw")
        .env("GO111MODULE", "on")
        .env("GOTOOLCHAIN", "local");
    let command = format!("go list -m -json {spec}");
    let output = run_tool(&mut cmd, &command).map_err(|e| e.to_string());
    make_writable(dir.path());
    let output = output?;
    if !output.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`{command}` {}: {}",
            status_text(&output),
            tail(&text, 5)
        ));
    }
    info_time(&output.stdout)
}

/// Makes every directory under `dir` owner-writable, so that it can be removed even if the Go
/// command left read-only directories (it does without `-modcacherw`).
fn make_writable(dir: &Path) {
    let folders = std::iter::once(dir.to_path_buf()).chain(
        crate::walk::walk(dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.file_type.is_dir())
            .map(|e| e.path),
    );
    for d in folders {
        if let Ok(meta) = fs::symlink_metadata(&d) {
            let mut perm = meta.permissions();
            perm.set_mode(perm.mode() | 0o700);
            let _ = fs::set_permissions(&d, perm);
        }
    }
}

/// A `replace` directive of a go.mod whose replacement is a folder (`=> ../sibling`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReplace {
    /// 1-based line of the directive in go.mod.
    pub line: usize,
    /// The directive as written, without `replace` and comments: `example.com/x => ../x`.
    pub directive: String,
    /// The folder, as written (relative to go.mod's folder unless absolute).
    pub folder: String,
}

/// The `replace` directives of go.mod `text` (single-line and in `replace ( ... )` blocks)
/// whose replacement is a folder: as Go decides, a right-hand side that is `.` or `..` or
/// begins with `./`, `../` or `/`.
pub fn local_replaces(text: &str) -> Vec<LocalReplace> {
    let mut found = Vec::new();
    let mut in_block = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        let body = if in_block {
            if line == ")" {
                in_block = false;
                continue;
            }
            line
        } else {
            match line.strip_prefix("replace") {
                Some(rest) if rest.trim_start() == "(" => {
                    in_block = true;
                    continue;
                }
                Some(rest) if rest.starts_with([' ', '\t']) => rest.trim(),
                _ => continue,
            }
        };
        let Some((_, right)) = body.split_once("=>") else {
            continue;
        };
        let folder = right
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_matches(['"', '`']);
        let local = matches!(folder, "." | "..")
            || ["./", "../", "/"].iter().any(|p| folder.starts_with(p));
        if local {
            found.push(LocalReplace {
                line: i + 1,
                directive: body.to_string(),
                folder: folder.to_string(),
            });
        }
    }
    found
}

/// Checks the folder `replace` directives of `dir/go.mod` (if there is one) against the source
/// tree `root` (which holds `dir`): each folder must be inside `root` (lexically: `..` is not
/// followed through symlinks) and hold a go.mod, or the Go build fails with an error that does
/// not say what to do.
pub fn check_local_replaces(root: &Path, dir: &Path) -> Result<(), SourceError> {
    let go_mod = dir.join("go.mod");
    let text = match fs::read_to_string(&go_mod) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(SourceError::Io {
                context: format!("cannot read {}", crate::text::path(&go_mod)),
                source: e,
            });
        }
    };
    for r in local_replaces(&text) {
        let folder = lexical(&dir.join(&r.folder));
        let problem = if !folder.starts_with(lexical(root)) {
            "is outside the source"
        } else if !folder.join("go.mod").is_file() {
            "the source does not hold (no go.mod there)"
        } else {
            continue;
        };
        return Err(SourceError::GoLocalReplace {
            go_mod,
            line: r.line,
            directive: r.directive,
            folder: r.folder,
            problem,
        });
    }
    Ok(())
}

/// `p` with `.` and `..` components resolved by name.
fn lexical(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_time_reads_the_proxy_time_or_says_why_not() {
        let info = br#"{"Version":"v1.0.0","Time":"2023-05-06T07:08:09Z"}"#;
        assert_eq!(info_time(info), Ok(1_683_356_889));
        let nanos = br#"{"Version":"v1.0.0","Time":"2023-05-06T09:08:09.5+02:00"}"#;
        assert_eq!(info_time(nanos), Ok(1_683_356_889));
        let why = |b: &[u8]| info_time(b).unwrap_err();
        assert!(why(b"not json").starts_with("its `.info` is not JSON"));
        assert_eq!(why(br#"{"Version":"v1"}"#), "its `.info` has no `Time`");
        assert!(
            why(br#"{"Time":"yesterday"}"#)
                .starts_with("its `.info` `Time` `yesterday` does not parse")
        );
    }

    #[test]
    fn folder_replaces_are_found_in_lines_and_blocks() {
        let text = "module example.com/app\n\ngo 1.22\n\n\
                    replace example.com/greet => ../greet // the sibling\n\
                    replace example.com/net v1.0.0 => example.com/fork v1.0.1\n\
                    replace (\n\
                    \texample.com/a => ./a\n\
                    \t\"example.com/b\" v0.1.0 => \"/abs/b\"\n\
                    \texample.com/c => example.com/c2 v2.0.0\n\
                    \texample.com/d => ..\n\
                    )\n\
                    // replace example.com/e => ./e\n\
                    replacement example.com/f => ./f\n";
        let owned: Vec<(usize, String, String)> = local_replaces(text)
            .into_iter()
            .map(|r| (r.line, r.folder, r.directive))
            .collect();
        assert_eq!(
            owned,
            [
                (5, "../greet", "example.com/greet => ../greet"),
                (8, "./a", "example.com/a => ./a"),
                (9, "/abs/b", "\"example.com/b\" v0.1.0 => \"/abs/b\""),
                (11, "..", "example.com/d => .."),
            ]
            .map(|(l, f, d)| (l, f.to_string(), d.to_string()))
        );
    }

    #[test]
    fn a_folder_outside_the_source_or_without_go_mod_is_refused_with_the_fix() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("src");
        let app = root.join("app");
        fs::create_dir_all(root.join("lib")).unwrap();
        fs::create_dir_all(&app).unwrap();
        fs::write(root.join("lib/go.mod"), "module example.com/lib\n").unwrap();
        let write = |text: &str| fs::write(app.join("go.mod"), text).unwrap();
        // No go.mod at all, and folders that are there: fine.
        check_local_replaces(&root, &app).unwrap();
        write("module example.com/app\nreplace example.com/lib => ../lib\n");
        check_local_replaces(&root, &app).unwrap();
        for (text, folder, problem) in [
            (
                "replace example.com/x => ../../x\n",
                "../../x",
                "is outside the source",
            ),
            ("replace example.com/x => ./x\n", "./x", "no go.mod there"),
            (
                "replace example.com/x => /x\n",
                "/x",
                "is outside the source",
            ),
        ] {
            write(&format!("module example.com/app\n\n{text}"));
            let e = check_local_replaces(&root, &app).unwrap_err();
            let m = e.to_string();
            assert!(
                matches!(e, SourceError::GoLocalReplace { line: 3, .. }),
                "{m}"
            );
            assert!(m.contains("app/go.mod:3: `example.com/x => "), "{m}");
            assert!(m.contains(&format!("the folder `{folder}`, which")), "{m}");
            assert!(m.contains(problem), "{m}");
            assert!(
                m.contains("help: a Go module zip (or a source folder) holds one module only"),
                "{m}"
            );
            assert!(m.contains("`[source] urls`"), "{m}");
        }
    }
}
