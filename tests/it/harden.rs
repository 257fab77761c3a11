//! The failures issue 21 found by trying `recipe` as an attacker would (its item 6), each shown
//! fixed: rewritten cache entries, the cost of `recipe check` on repeated platforms, unbounded
//! reads, YAML injection through `recipe ci`, `recipe new` and `recipe list` names, image files
//! that are programs, an image file at the health probe's path, and the key commands. Error
//! output is pinned through `errors.rs` (snapshots in `snapshots/errors/`).

use std::path::{Path, PathBuf};
use std::process::Command;

use recipe::arch::Arch;

use crate::errors::{cli, drawn};
use crate::util::{Scratch, fake_zig, recipe_bin, root, run, skip};

/// A public key (signs nothing).
const TRUST: &str = "ci-test:eU1eMXxaOULm2EUjUQYoyAOEJxBjZ71aejaYlv4aFa0=";

/// A static x86-64 ELF executable that prints `text` and a newline and exits 0: a program the
/// build's verify and smoke test accept, made without a compiler (one PT_LOAD, `.text` and
/// `.shstrtab` so `strip` takes it).
pub(crate) fn tiny_elf(text: &str) -> Vec<u8> {
    let msg = format!("{text}\n");
    let mut code = vec![0xb8, 1, 0, 0, 0, 0xbf, 1, 0, 0, 0, 0x48, 0x8d, 0x35]; // write(1, msg, len)
    code.extend(16i32.to_le_bytes()); // lea rsi, [rip + 16]: msg after the 16 bytes below
    code.push(0xba);
    code.extend((msg.len() as u32).to_le_bytes());
    code.extend([0x0f, 0x05, 0xb8, 60, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05]); // exit(0)
    code.extend(msg.as_bytes());
    let (base, text_off) = (0x40_0000u64, 64u64 + 56);
    let shstr = b"\0.text\0.shstrtab\0";
    let shstr_off = text_off + code.len() as u64;
    let shoff = (shstr_off + shstr.len() as u64).next_multiple_of(8);
    let mut e = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    e.extend(2u16.to_le_bytes()); // ET_EXEC
    e.extend(62u16.to_le_bytes()); // EM_X86_64
    e.extend(1u32.to_le_bytes());
    e.extend((base + text_off).to_le_bytes());
    e.extend(64u64.to_le_bytes()); // phoff
    e.extend(shoff.to_le_bytes());
    e.extend(0u32.to_le_bytes());
    for h in [64u16, 56, 1, 64, 3, 2] {
        e.extend(h.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
    }
    let end = text_off + code.len() as u64;
    e.extend(1u32.to_le_bytes()); // PT_LOAD
    e.extend(5u32.to_le_bytes()); // R+X
    for v in [0, base, base, end, end, 0x1000] {
        e.extend(v.to_le_bytes());
    }
    e.extend(&code);
    e.extend(shstr);
    e.resize(shoff as usize, 0);
    let section = |name: u32, ty: u32, flags: u64, addr: u64, off: u64, size: u64| {
        let mut s = Vec::new();
        s.extend(name.to_le_bytes());
        s.extend(ty.to_le_bytes());
        for v in [flags, addr, off, size] {
            s.extend(v.to_le_bytes());
        }
        s.extend([0u8; 8]); // link, info
        s.extend(1u64.to_le_bytes());
        s.extend(0u64.to_le_bytes());
        s
    };
    e.extend([0u8; 64]);
    e.extend(section(
        1,
        1,
        6,
        base + text_off,
        text_off,
        code.len() as u64,
    ));
    e.extend(section(7, 3, 0, 0, shstr_off, shstr.len() as u64));
    e
}

/// A catalogue with `demo`: a script build that installs [`tiny_elf`] (`demo 1.0`) as its app
/// file, with a `--version`-style smoke test; `extra` is appended to the recipe. None when this
/// machine cannot run an x86-64 program (the test is skipped).
pub(crate) fn prebuilt(extra: &str) -> Option<Scratch> {
    if Arch::host() != Some(Arch::Amd64) {
        skip("the prebuilt test program is an x86-64 ELF");
        return None;
    }
    let s = Scratch::new();
    std::fs::create_dir_all(s.path().join("src")).unwrap();
    std::fs::write(s.path().join("src/demo.bin"), tiny_elf("demo 1.0")).unwrap();
    s.recipe(
        "demo",
        &format!(
            r#"name = "demo"
version = "1.0"
license = "MIT"
homepage = "https://example.invalid"

[source]
path = "../src"

[build]
system = "script"
script = ["install -D -m 755 demo.bin ${{DESTDIR}}/usr/local/bin/demo"]

[app]
files = ["/usr/local/bin/demo"]

[smoke]
command = ["demo"]
expect = "demo 1.0"
{extra}"#
        ),
    );
    Some(s)
}

/// `recipe` in `s` with a private cache and the stand-in zig first on PATH (nothing compiles).
pub(crate) fn with_zig(s: &Scratch, zig: &tempfile::TempDir) -> Command {
    let mut c = s.cmd_private_cache();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![zig.path().to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(dirs).unwrap());
    for v in [
        "RECIPE_REMOTE_CACHE",
        "RECIPE_CACHE_TRUST",
        "RECIPE_CACHE_SIGNING_KEY",
        "RECIPE_CACHE_SIGNING_KEY_FILE",
    ] {
        c.env_remove(v);
    }
    c
}

/// The one entry of the private cache.
pub(crate) fn only_entry(s: &Scratch) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(s.cache().join("builds"))
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

/// Rewrites `entry`'s app file as `bytes` and its `meta.json` to match, as an attacker with
/// write access to the cache would: the manifest check alone finds nothing.
fn rewrite_entry(entry: &Path, bytes: &[u8]) {
    std::fs::write(entry.join("dest/usr/local/bin/demo"), bytes).unwrap();
    let meta_path = entry.join("meta.json");
    let mut meta = crate::util::read_json(&meta_path);
    for item in meta["files"].as_array_mut().unwrap() {
        if item["path"] == "usr/local/bin/demo" {
            item["sha256"] = crate::util::sha(bytes).into();
            item["size"] = bytes.len().into();
            item.as_object_mut().unwrap().remove("seen");
        }
    }
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
}

/// A binary replaced by a shell script with `meta.json` edited to match was reused, packed,
/// signed and pushed with exit 0: now a reused entry's app files are judged again, before
/// packing and before `recipe cache push` signs them.
#[test]
fn a_rewritten_cache_entry_is_judged_again_before_packing_and_signing() {
    let Some(s) = prebuilt("") else { return };
    let zig = fake_zig();
    run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"])).success();
    let entry = only_entry(&s);
    rewrite_entry(&entry, b"#!/bin/sh\necho demo 1.0\n");
    std::fs::remove_dir_all(s.out()).unwrap();
    // The manifest agrees: only the judgement of the files finds the script.
    cli(
        "cache_entry_rewritten",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]),
    );
    assert!(!s.out().join("demo").join("oci").exists(), "packed");
    // Signing it is refused before the registry is asked (nothing listens there).
    let keys = tempfile::tempdir().unwrap();
    run(Command::new(recipe_bin())
        .args(["key", "generate", "k", "--out"])
        .arg(keys.path()))
    .success();
    let o = cli(
        "cache_push_rewritten",
        1,
        with_zig(&s, &zig)
            .args(["cache", "push", "demo", "--arch", "amd64"])
            .args([
                "--remote-cache",
                "127.0.0.1:9/cache",
                "--remote-cache-insecure",
            ])
            .arg("--signing-key")
            .arg(keys.path().join("k.secret")),
    );
    assert!(o.stdout.contains("pushed 0 entries"), "{}", o.stdout);
    // A dynamic ELF in its place is refused the same way.
    rewrite_entry(&entry, &std::fs::read("/bin/true").unwrap());
    run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]))
        .failure(1)
        .stderr_has("fails verification");
}

/// `[[image.file]]` could add programs no check saw (a dynamic ELF at `/bin/sh`, a script):
/// now an image file that is an ELF or a script is judged as an app file of every arch, before
/// anything is built. A static program of the arch passes.
#[test]
fn image_files_that_are_programs_are_judged_like_app_files() {
    let file = "\n[[image.file]]\nfrom = \"demo/sh\"\nto = \"/bin/sh\"\nmode = \"755\"\n";
    let Some(s) = prebuilt(file) else { return };
    let zig = fake_zig();
    std::fs::create_dir_all(s.recipes().join("demo")).unwrap();
    let sh = s.recipes().join("demo/sh");
    std::fs::write(&sh, std::fs::read("/bin/true").unwrap()).unwrap();
    cli(
        "image_file_dynamic_elf",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]),
    );
    assert!(!s.cache().join("builds").exists() || only_entry_absent(&s));
    std::fs::write(&sh, "#!/bin/sh\nexec /usr/local/bin/demo \"$@\"\n").unwrap();
    cli(
        "image_file_script",
        1,
        with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]),
    );
    // A static x86-64 program is an amd64 app file, not an arm64 one. (At /bin/sh it passes
    // verification, but it is a shell: the image is not distroless, which fails the build.)
    std::fs::write(&sh, tiny_elf("sh")).unwrap();
    run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"]))
        .failure(1)
        .stderr_has("/bin/sh (linux/amd64): this is a shell itself");
    run(with_zig(&s, &zig).args(["plan", "demo", "--arch", "arm64"])).success();
    run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "arm64"]))
        .failure(1)
        .stderr_has("demo for arm64: `/bin/sh` fails verification");
    // Data stays data.
    std::fs::write(&sh, "echo\n").unwrap();
    run(with_zig(&s, &zig).args(["build", "-q", "demo", "--arch", "amd64"])).success();
}

/// No entry was stored.
fn only_entry_absent(s: &Scratch) -> bool {
    std::fs::read_dir(s.cache().join("builds"))
        .unwrap()
        .flatten()
        .all(|e| e.file_name().to_string_lossy().starts_with('.'))
}

/// An `[[image.file]]` at the health probe's path with `[image.health]` loaded, built, and
/// failed when packing (exit 1): now a recipe mistake at its `file:line:column` (exit 2).
#[test]
fn an_image_file_at_the_health_probe_is_a_recipe_mistake() {
    let s = Scratch::new();
    s.recipe(
        "probe",
        &format!(
            "{}\n[image.health]\nhttp = \"/health\"\nport = 8080\n\n\
             [[image.file]]\nfrom = \"probe/tool\"\nto = \"/usr/local/bin/healthcheck\"\nmode = \"755\"\n",
            crate::util::minimal_recipe("probe")
        ),
    );
    std::fs::create_dir_all(s.recipes().join("probe")).unwrap();
    std::fs::write(s.recipes().join("probe/tool"), "x").unwrap();
    cli(
        "image_file_at_health_probe",
        2,
        s.cmd().args(["show", "probe"]),
    );
    assert_eq!(run(s.cmd().args(["build", "-q", "probe"])).code, 2);
}

/// `--signing-key /dev/zero`, `recipe key public /dev/zero` and `recipe ci ... --output
/// /dev/zero --check` each grew to gigabytes, a FIFO hung, `--levels 18446744073709551615`
/// allocated without end: every read is capped, special files refused, the number bounded.
#[test]
fn named_files_are_read_capped_and_numbers_bounded() {
    let s = Scratch::new();
    s.recipe("app", &crate::util::minimal_recipe("app"));
    std::fs::create_dir_all(s.recipes().join("src")).unwrap();
    let fifo = s.path().join("fifo");
    crate::check::mkfifo(&fifo);
    let remote = |c: &mut Command| {
        c.env_remove("RECIPE_CACHE_SIGNING_KEY");
        c.args(["--remote-cache", "127.0.0.1:5000/cache", "--trust", TRUST]);
    };
    let mut c = s.cmd_private_cache();
    c.args(["plan", "app", "--signing-key", "/dev/zero"]);
    remote(&mut c);
    cli("signing_key_device", 2, &mut c);
    let mut c = s.cmd_private_cache();
    c.args(["plan", "app", "--signing-key"]).arg(&fifo);
    remote(&mut c);
    run(&mut c)
        .failure(2)
        .stderr_has("a FIFO, not a regular file");
    cli(
        "key_public_device",
        2,
        Command::new(recipe_bin())
            .env("NO_COLOR", "1")
            .args(["key", "public", "/dev/zero"]),
    );
    let big = s.path().join("big.secret");
    std::fs::write(&big, vec![b'a'; 1 << 20]).unwrap();
    run(Command::new(recipe_bin()).args(["key", "public"]).arg(&big))
        .failure(2)
        .stderr_has("larger than 4096 bytes");
    let mut c = s.cmd_private_cache();
    c.args(["ci", "github", "app", "--output", "/dev/zero", "--check"]);
    remote(&mut c);
    cli("ci_check_device", 2, &mut c);
    let mut c = s.cmd_private_cache();
    c.args(["ci", "github", "app", "--check", "--output"])
        .arg(&fifo);
    remote(&mut c);
    run(&mut c)
        .failure(2)
        .stderr_has("a FIFO, not a regular file");
    // A file far larger than the workflow is not read whole: it is simply not up to date.
    let mut c = s.cmd_private_cache();
    c.args(["ci", "github", "app", "--check", "--output"])
        .arg(&big);
    remote(&mut c);
    run(&mut c).failure(1).stderr_has("run it again");
    cli(
        "ci_levels_too_many",
        2,
        s.cmd_private_cache()
            .args(["ci", "matrix", "app", "--levels", "18446744073709551615"]),
    );
    run(s
        .cmd_private_cache()
        .args(["ci", "matrix", "app", "--levels", "257"]))
    .failure(2);
}

/// A newline in `--image-repo` or a CR in a `--setup` line wrote a job of the caller's into the
/// GitLab child pipeline, `${{ secrets.X }}` was written where GitHub evaluates it: now every
/// value is checked (references parsed, no control character, no `${{`) and quoted as YAML.
#[test]
fn recipe_ci_writes_values_not_yaml() {
    let s = Scratch::new();
    let ci = |engine: &str, extra: &[&str]| {
        let mut c = s.cmd_private_cache();
        c.current_dir(root());
        c.env("RECIPE_RECIPES", "tests/fixtures/recipes");
        c.env_remove("RECIPE_CACHE_SIGNING_KEY");
        c.args([
            "ci",
            engine,
            "hello-dep",
            "--arch",
            "amd64",
            "--trust",
            TRUST,
        ]);
        if !extra.contains(&"--remote-cache") {
            c.args(["--remote-cache", "127.0.0.1:9/cache"]);
        }
        c.args(extra);
        c
    };
    cli(
        "ci_image_repo_newline",
        2,
        &mut ci(
            "gitlab",
            &["--image-repo", "ghcr.io/acme\nevil:\n  script: [\"id\"]"],
        ),
    );
    run(&mut ci(
        "gitlab",
        &["--setup", "true\revil:\r  script: [id]"],
    ))
    .failure(2)
    .stderr_has("--setup `true\\revil:\\r  script: [id]` cannot go into a CI file");
    cli(
        "ci_image_repo_expression",
        2,
        &mut ci(
            "github",
            &["--image-repo", "${{ secrets.RECIPE_CACHE_SIGNING_KEY }}"],
        ),
    );
    run(&mut ci("github", &["--setup", "echo ${{ secrets.X }}"]))
        .failure(2)
        .stderr_has("starts a GitHub expression");
    run(&mut ci("github", &["--remote-cache", "ghcr.io/a/c:latest"]))
        .failure(2)
        .stderr_has("without a tag or digest");

    // Odd but harmless values stay values: the GitLab file parses to the jobs asked for, the
    // setup lines as given (indented, quoted, with `#` and `: `).
    let setup = ["  echo \"a: b\" # c", "printf '%s\\n' x\\y", "tab\there"];
    let mut args = vec!["--image-repo", "ghcr.io/acme"];
    for l in &setup {
        args.extend(["--setup", l]);
    }
    let text = run(&mut ci("gitlab", &args)).success().stdout;
    let parsed = yaml_json(&text);
    let before: Vec<&str> = parsed["default"]["before_script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        before,
        setup.iter().map(|l| l.trim()).collect::<Vec<_>>(),
        "{text}"
    );
    let jobs: Vec<&String> = parsed
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| parsed[k.as_str()].get("script").is_some())
        .collect();
    assert!(
        jobs.iter()
            .all(|j| ["images", "images-signed"].contains(&j.as_str()) || j.contains(":amd64")),
        "{jobs:?}"
    );
    // GitHub's file with them passes actionlint, when it is there.
    let file = s.path().join("recipe.yml");
    let mut args: Vec<&str> = args.clone();
    args.extend(["--output", file.to_str().unwrap()]);
    run(&mut ci("github", &args)).success();
    let actionlint = Path::new("/opt/recipe-tools/bin/actionlint");
    if actionlint.exists() {
        let o = Command::new(actionlint)
            .args(["-shellcheck=", "-pyflakes="])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            std::fs::read_to_string(&file).unwrap()
        );
    } else {
        skip("actionlint is not installed (`scripts/setup.sh --tests` installs it)");
    }
}

/// YAML text as JSON, read by Python's yaml module (in the tests' tools).
pub(crate) fn yaml_json(text: &str) -> serde_json::Value {
    let o = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(o.status.success(), "{text}");
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `recipe new --go MODULE@VERSION NAME` wrote `NAME.toml` wherever `../../x` pointed: NAME is
/// a recipe name, checked before anything is fetched.
#[test]
fn recipe_new_takes_only_recipe_names() {
    let s = Scratch::new();
    std::fs::create_dir_all(s.recipes()).unwrap();
    cli(
        "new_go_name_outside",
        2,
        s.cmd()
            .args(["new", "-q", "--go", "example.com/m@v1.0.0", "../../x"]),
    );
    run(s
        .cmd()
        .args(["new", "-q", "--go", "example.com/m@v1.0.0", "a\nb"]))
    .failure(2)
    .stderr_has("invalid recipe name `a\\nb`");
    assert!(!s.path().parent().unwrap().join("x.toml").exists());
    assert_eq!(std::fs::read_dir(s.recipes()).unwrap().count(), 0);
}

/// `recipe list` printed escape sequences of recipe file names raw (a colour, a window title).
#[test]
fn recipe_list_escapes_file_names() {
    let s = Scratch::new();
    s.recipe("ok", &crate::util::minimal_recipe("ok"));
    s.recipe("a\x1b]0;pwned\x07\x1b[31mred", "name = 1\n");
    let o = run(s.cmd().arg("list")).success();
    assert!(
        !o.stdout.contains('\x1b') && !o.stdout.contains('\x07'),
        "{:?}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("a\\x1b]0;pwned\\x07\\x1b[31mred (invalid: run `recipe show"),
        "{}",
        o.stdout
    );
}

/// The key commands: a secret key's base64 given to `--trust` printed its first 8 characters;
/// `recipe key generate | head` panicked on the closed pipe; an existing `NAME.pub` left an
/// orphan `NAME.secret`.
#[test]
fn key_commands_keep_secrets_and_files_whole() {
    let t = tempfile::tempdir().unwrap();
    let key = |args: &[&str]| {
        let mut c = Command::new(recipe_bin());
        c.current_dir(t.path()).env("NO_COLOR", "1").args(args);
        c
    };
    // The base64 of a signing key's 64 bytes, as `NAME.secret` holds it after the name (a
    // made-up one: the snapshot shows the command line).
    let b64 =
        "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg==";
    let s = Scratch::new();
    s.recipe("app", &crate::util::minimal_recipe("app"));
    let o = cli(
        "trust_secret_base64",
        2,
        s.cmd_private_cache()
            .env_remove("RECIPE_CACHE_TRUST")
            .args([
                "plan",
                "app",
                "--remote-cache",
                "127.0.0.1:5000/cache",
                "--trust",
            ])
            .arg(b64),
    );
    assert!(!o.stderr.contains(&b64[..4]), "{}", o.stderr);

    // A reader that closes the pipe: no panic, both files written, exit 0.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = key(&["key", "generate", "piped"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(t.path().join("piped.secret").is_file() && t.path().join("piped.pub").is_file());

    // An existing NAME.pub: refused, and no NAME.secret left behind.
    std::fs::write(t.path().join("taken.pub"), "someone else's\n").unwrap();
    cli("key_pub_exists", 2, &mut key(&["key", "generate", "taken"]));
    assert!(!t.path().join("taken.secret").exists());
    assert_eq!(
        std::fs::read_to_string(t.path().join("taken.pub")).unwrap(),
        "someone else's\n"
    );
}

/// A docker archive of `images` images (one platform each, the same config), image `i` listing
/// the one layer of `entries` empty files `listings(i)` times.
fn repeated_platforms(
    path: &Path,
    images: usize,
    entries: usize,
    listings: impl Fn(usize) -> usize,
) {
    let mut layer = tar::Builder::new(Vec::new());
    for i in 0..entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_cksum();
        layer
            .append_data(&mut h, format!("d{}/f{i}", i % 100), &[][..])
            .unwrap();
    }
    let layer = layer.into_inner().unwrap();
    let manifest: Vec<serde_json::Value> = (0..images)
        .map(|i| {
            serde_json::json!({
                "Config": "c.json",
                "RepoTags": [format!("img:{i}")],
                "Layers": vec!["l/layer.tar"; listings(i)],
            })
        })
        .collect();
    let config = br#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/app"]}}"#;
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    add(
        "manifest.json",
        serde_json::to_vec(&manifest).unwrap().as_slice(),
    );
    add("c.json", config);
    add("l/layer.tar", &layer);
    b.finish().unwrap();
}

/// A small archive whose one large layer is listed several times by each of many platforms
/// took minutes per platform: platforms with the same layers, arch and config are judged once,
/// and the work of all of a target's platforms together is capped (here lowered through
/// `Options`, whose default is 16,000,000 entries).
#[test]
fn check_judges_repeated_platforms_once_and_caps_the_work() {
    let t = tempfile::tempdir().unwrap();
    let opts = recipe::check::Options {
        max_target_entries: 100_000,
        ..Default::default()
    };
    // 32 platforms × (4 listings + the tree) of 10,000 entries: 1,600,000 entries if each
    // were judged, 50,000 judged once.
    let same = t.path().join("same.tar");
    repeated_platforms(&same, 32, 10_000, |_| 4);
    let report = recipe::check::check_path(&same, &opts).expect("judged once");
    assert_eq!(report.platforms.len(), 32);
    let names: std::collections::BTreeSet<_> = report
        .platforms
        .iter()
        .map(|p| p.platform.clone())
        .collect();
    assert_eq!(names.len(), 32, "each platform keeps its name");
    // Platforms that differ (another number of listings each) are each judged, within the cap.
    let differ = t.path().join("differ.tar");
    repeated_platforms(&differ, 32, 10_000, |i| 1 + i % 8);
    let e = recipe::check::check_path(&differ, &opts).unwrap_err();
    drawn(vec![("check_target_work", 2, e.into())]);
}
