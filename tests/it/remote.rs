//! The remote build cache in a real registry (Debian's docker-registry on 127.0.0.1): a graph
//! built by separate runners with empty caches builds each job once and packs the same image as
//! one machine; every kind of poisoned entry is refused with its reason and rebuilt.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use recipe::registry::{Client, Options};

use crate::graph::link_zig;
use crate::push::Registry;
use crate::util::{Scratch, build_lock, read_json, require_tool, root, run, sha};

const REPO: &str = "cache";

/// A runner: an empty build cache of its own (zig and its libc linked in, as a CI runner would
/// restore its toolchain), the fixture recipes.
fn runner() -> Scratch {
    let s = Scratch::new();
    link_zig(&s);
    s
}

fn cmd(s: &Scratch, reg: &Registry, args: &[&str]) -> Command {
    let mut c = s.cmd_private_cache();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    c.env("RECIPE_REMOTE_CACHE", format!("{}/{REPO}", reg.host()));
    c.env("RECIPE_REMOTE_CACHE_INSECURE", "true");
    c.env_remove("RECIPE_CACHE_SIGNING_KEY");
    c.args(args);
    c
}

/// `recipe key generate NAME` in `dir`: (secret file, public key text).
fn key(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let out = run(Command::new(crate::util::recipe_bin())
        .args(["key", "generate", name, "--out"])
        .arg(dir))
    .success();
    assert!(out.stdout.contains("--trust"), "{}", out.stdout);
    let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap();
    (
        dir.join(format!("{name}.secret")),
        public.trim().to_string(),
    )
}

/// The jobs a run built, from its progress lines.
fn built(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(": stored in the build cache"))
        .map(|l| l.split(": ").next().unwrap().to_string())
        .collect()
}

fn index_digest(s: &Scratch, app: &str) -> String {
    let bytes = std::fs::read(s.out().join(app).join("oci/index.json")).unwrap();
    sha(&bytes)
}

fn tools() -> bool {
    require_tool("docker-registry") && crate::util::tools_for_builds()
}

#[test]
fn runners_sharing_a_registry_build_each_job_once_and_make_the_same_image() {
    if !tools() || !require_tool("qemu-aarch64-static") || !require_tool("qemu-arm-static") {
        return;
    }
    let _l = build_lock();
    let reg = Registry::start().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let (secret, public) = key(keys.path(), "ci-2026");
    let apps = ["hello-dep", "hello-gen"];
    fn targets<'a>(apps: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
        let mut v = apps.to_vec();
        v.extend(["--arch", "all"]);
        v.extend(rest);
        v
    }

    // The plan job: each level's jobs as a matrix.
    let levels = |reg: &Registry| -> Vec<Vec<(String, String)>> {
        let s = runner();
        let mut args = vec!["ci", "matrix"];
        args.extend(targets(&apps, &["--levels", "3", "--trust", &public]));
        let out = run(&mut cmd(&s, reg, &args)).success();
        out.stdout
            .lines()
            .map(|l| {
                let (_, json) = l.split_once('=').unwrap();
                let v: serde_json::Value = serde_json::from_str(json).unwrap();
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|j| {
                        (
                            j["recipe"].as_str().unwrap().to_string(),
                            j["arch"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .collect()
    };
    let plan = levels(&reg);
    assert_eq!(plan.len(), 3, "{plan:?}");
    assert_eq!(plan.iter().map(Vec::len).sum::<usize>(), 10, "{plan:?}");
    assert!(
        plan[0].contains(&("libgreet".into(), "armv7".into())),
        "{plan:?}"
    );
    assert!(
        plan[1].contains(&("hello-gen".into(), "arm64".into())),
        "{plan:?}"
    );

    // Each level's jobs run at once, each in its own process with its own empty cache.
    let mut built_by: BTreeMap<String, usize> = BTreeMap::new();
    for level in &plan {
        let children: Vec<_> = level
            .iter()
            .map(|(r, a)| {
                let s = runner();
                let child = cmd(
                    &s,
                    &reg,
                    &["build", r, "--arch", a, "--no-image", "--trust", &public],
                )
                .arg("--signing-key")
                .arg(&secret)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
                (s, format!("{r}/{a}"), child)
            })
            .collect();
        for (_s, id, child) in children {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{id}: {stderr}");
            // A runner builds its own job; what it needs comes from the registry.
            assert_eq!(built(&stderr), std::slice::from_ref(&id), "{stderr}");
            assert!(
                stderr.contains(&format!("{id}: pushed to the remote cache")),
                "{stderr}"
            );
            for b in built(&stderr) {
                *built_by.entry(b).or_default() += 1;
            }
        }
    }
    assert_eq!(built_by.len(), 10, "{built_by:?}");
    assert!(built_by.values().all(|&n| n == 1), "{built_by:?}");

    // The images job: everything from the registry, nothing built, without a signing key.
    let images = runner();
    let mut args = vec!["build"];
    args.extend(targets(&apps, &["--trust", &public]));
    let out = run(&mut cmd(&images, &reg, &args)).success();
    assert_eq!(built(&out.stderr), Vec::<String>::new(), "{}", out.stderr);
    // Only what the images hold is fetched (the apps, 3 arches each), not their libraries.
    assert_eq!(
        out.stderr.matches("fetched from the remote cache").count(),
        6,
        "{}",
        out.stderr
    );
    // A fetched entry keeps how long its build took (the signed meta.json's `seconds`): the
    // estimate of this recipe's next build here.
    let metas: Vec<serde_json::Value> = std::fs::read_dir(images.cache().join("builds"))
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("meta.json")).ok())
        .map(|b| serde_json::from_slice(&b).unwrap())
        .collect();
    assert_eq!(metas.len(), 6);
    assert!(metas.iter().all(|m| m["seconds"].is_u64()), "{metas:?}");

    // One machine, no remote cache: the same index, byte for byte.
    let one = runner();
    let mut c = one.cmd_private_cache();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    c.args(["build", "hello-dep", "hello-gen", "--arch", "all"]);
    let out = run(&mut c).success();
    assert_eq!(built(&out.stderr).len(), 10, "{}", out.stderr);
    for app in apps {
        assert_eq!(index_digest(&images, app), index_digest(&one, app), "{app}");
    }

    // A second full run builds nothing: every level is empty, and a runner given a job anyway
    // neither builds nor fetches anything.
    let again = levels(&reg);
    assert!(again.iter().all(Vec::is_empty), "{again:?}");
    let late = runner();
    let out = run(&mut cmd(
        &late,
        &reg,
        &[
            "build",
            "hello-dep",
            "--arch",
            "arm64",
            "--no-image",
            "--trust",
            &public,
        ],
    ))
    .success();
    assert!(built(&out.stderr).is_empty(), "{}", out.stderr);
    assert!(!out.stderr.contains("fetched"), "{}", out.stderr);
    assert!(
        out.stderr.contains("hello-dep/arm64: in the remote cache"),
        "{}",
        out.stderr
    );

    // An app's entry refused: it is built, and only then is the library it stands on fetched.
    let k = plan_keys(&late, "hello-dep", "arm64");
    let client = client(&reg);
    let (_, lib) = client.get_manifest(&k["libgreet"], MANIFEST).unwrap();
    client
        .put_manifest(&k["hello-dep"], MANIFEST, &lib)
        .unwrap();
    let s = runner();
    let out = run(&mut cmd(
        &s,
        &reg,
        &["build", "hello-dep", "--arch", "arm64", "--trust", &public],
    ))
    .success();
    assert_eq!(built(&out.stderr), ["hello-dep/arm64"], "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the tag points at the entry of another key"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("libgreet/arm64: fetched from the remote cache"),
        "{}",
        out.stderr
    );
}

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// The cache key of each recipe of `app`'s graph for `arch`, from `recipe plan --json` (the
/// fixture catalogue, no remote cache).
fn plan_keys(s: &Scratch, app: &str, arch: &str) -> BTreeMap<String, String> {
    let mut c = s.cmd_private_cache();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    c.env_remove("RECIPE_REMOTE_CACHE");
    let out = run(c.args(["plan", app, "--arch", arch, "--json"])).success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["recipe"].as_str().unwrap().to_string(),
                j["key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A client of the test registry's cache repository.
fn client(reg: &Registry) -> Client {
    Client::new(
        &reg.host(),
        REPO,
        &Options {
            insecure: true,
            ..Options::default()
        },
    )
}

/// A registry holding the maintainer's signed entry of `hello-c` (amd64, and arm64: another
/// key's entry), and what a reader with an empty cache makes of it when nothing is wrong.
struct Poisoning {
    reg: Registry,
    keys: tempfile::TempDir,
    public: String,
    client: Client,
    /// hello-c/amd64's key, its signed manifest (bytes and JSON), its tree layer and bytes.
    key: String,
    good: Vec<u8>,
    manifest: serde_json::Value,
    tree: String,
    tree_bytes: Vec<u8>,
    /// The image a reader packs from the good entry.
    good_index: String,
    _lock: std::sync::MutexGuard<'static, ()>,
}

impl Poisoning {
    fn new() -> Option<Poisoning> {
        if !tools() || !require_tool("qemu-aarch64-static") {
            return None;
        }
        let lock = build_lock();
        let reg = Registry::start().unwrap();
        let keys = tempfile::tempdir().unwrap();
        let (secret, public) = key(keys.path(), "maintainer");
        let client = client(&reg);
        let maker = runner();
        let out = run(cmd(
            &maker,
            &reg,
            &[
                "build",
                "hello-c",
                "--arch",
                "amd64,arm64",
                "--trust",
                &public,
            ],
        )
        .arg("--signing-key")
        .arg(&secret))
        .success();
        assert_eq!(built(&out.stderr).len(), 2, "{}", out.stderr);
        let key = plan_keys(&maker, "hello-c", "amd64")["hello-c"].clone();
        let (_, good) = client.get_manifest(&key, MANIFEST).unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&good).unwrap();
        let tree = manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .to_string();
        let tree_bytes = std::fs::read(reg.blob_file(&tree)).unwrap();
        // A reader with an empty cache: the entry is used as it is.
        let reader = runner();
        let out = run(&mut cmd(
            &reader,
            &reg,
            &["build", "hello-c", "--trust", &public],
        ))
        .success();
        assert!(built(&out.stderr).is_empty(), "{}", out.stderr);
        assert!(
            out.stderr.contains("signed by `maintainer`"),
            "{}",
            out.stderr
        );
        let good_index = index_digest(&reader, "hello-c");
        Some(Poisoning {
            reg,
            keys,
            public,
            client,
            key,
            good,
            manifest,
            tree,
            tree_bytes,
            good_index,
            _lock: lock,
        })
    }

    /// A reader with an empty cache and no signing key (it never writes) refuses the entry for
    /// `reason`, builds the job and packs the same image.
    fn refused(&self, reason: &str) {
        let s = runner();
        let out = run(&mut cmd(
            &s,
            &self.reg,
            &["build", "hello-c", "--trust", &self.public],
        ))
        .success();
        let warning = format!(
            "hello-c/amd64: warning: remote cache entry {} refused: ",
            &self.key[..12]
        );
        assert!(
            out.stderr.contains(&warning) && out.stderr.contains(reason),
            "expected `{reason}` in:\n{}",
            out.stderr
        );
        assert_eq!(built(&out.stderr), ["hello-c/amd64"], "{}", out.stderr);
        assert_eq!(
            index_digest(&s, "hello-c"),
            self.good_index,
            "another image"
        );
    }

    fn put(&self, bytes: &[u8]) {
        self.client
            .put_manifest(&self.key, MANIFEST, bytes)
            .unwrap();
    }

    /// The signed manifest changed by `f`, under the key's tag.
    fn edit(&self, f: impl Fn(&mut serde_json::Value)) {
        let mut v = self.manifest.clone();
        f(&mut v);
        self.put(&serde_json::to_vec(&v).unwrap());
    }
}

#[test]
fn an_unsigned_entry_is_refused_and_rebuilt() {
    let Some(p) = Poisoning::new() else { return };
    p.edit(|v| {
        let a = v["annotations"].as_object_mut().unwrap();
        a.remove("org.recipe.cache.signature");
        a.remove("org.recipe.cache.signer");
    });
    p.refused("it is not signed");
}

#[test]
fn an_entry_signed_by_an_untrusted_key_is_refused_and_rebuilt() {
    let Some(p) = Poisoning::new() else { return };
    // A stranger's build of the same job (`--rebuild`: it would use the maintainer's entry),
    // pushed over the maintainer's tag.
    let (stranger, _) = key(p.keys.path(), "stranger");
    let s = runner();
    run(cmd(
        &s,
        &p.reg,
        &[
            "build",
            "hello-c",
            "--rebuild",
            "--no-image",
            "--trust",
            &p.public,
        ],
    )
    .env(
        "RECIPE_CACHE_SIGNING_KEY",
        std::fs::read_to_string(&stranger).unwrap(),
    ))
    .success();
    p.refused("it is signed by `stranger`, a key not trusted here");
}

#[test]
fn an_entry_with_a_changed_layer_is_refused_and_rebuilt() {
    let Some(p) = Poisoning::new() else { return };
    // Another blob put in the manifest, the signature kept.
    let other = p.keys.path().join("other.tar.gz");
    std::fs::write(&other, b"not the tree").unwrap();
    let digest = format!("sha256:{}", sha(b"not the tree"));
    p.client.upload_blob(&digest, &other, 12).unwrap();
    p.edit(|v| {
        v["layers"][0]["digest"] = digest.clone().into();
        v["layers"][0]["size"] = 12.into();
    });
    p.refused("does not verify");
    // Behind the registry's back: the manifest is the signed one, the blob's bytes are not.
    p.put(&p.good);
    let mut changed = p.tree_bytes.clone();
    let mid = changed.len() / 2;
    changed[mid] ^= 0xff;
    std::fs::write(p.reg.blob_file(&p.tree), &changed).unwrap();
    p.refused("its content was changed");
}

#[test]
fn a_truncated_blob_is_refused_and_rebuilt() {
    let Some(p) = Poisoning::new() else { return };
    std::fs::write(
        p.reg.blob_file(&p.tree),
        &p.tree_bytes[..p.tree_bytes.len() / 2],
    )
    .unwrap();
    p.refused("(truncated)");
}

#[test]
fn a_tag_moved_to_another_keys_entry_is_refused_and_rebuilt() {
    let Some(p) = Poisoning::new() else { return };
    let arm = plan_keys(&runner(), "hello-c", "arm64")["hello-c"].clone();
    let (_, arm_manifest) = p.client.get_manifest(&arm, MANIFEST).unwrap();
    p.put(&arm_manifest);
    p.refused("the tag points at the entry of another key");
    // Put back, the entry is used again: no reader wrote anything meanwhile.
    p.put(&p.good);
    let s = runner();
    let out = run(&mut cmd(
        &s,
        &p.reg,
        &["build", "hello-c", "--trust", &p.public],
    ))
    .success();
    assert!(built(&out.stderr).is_empty(), "{}", out.stderr);
    assert_eq!(index_digest(&s, "hello-c"), p.good_index);
}

#[test]
fn a_registry_that_answers_garbage_is_a_miss_with_a_warning() {
    if !crate::util::tools_for_builds() {
        return;
    }
    let _l = build_lock();
    let s = runner();
    let key = plan_keys(&s, "hello-c", "amd64")["hello-c"].clone();
    let server = crate::util::serve(&[(
        &format!("/v2/{REPO}/manifests/{key}"),
        b"<html>hello</html>".as_slice(),
    )]);
    let at = server.url("").trim_start_matches("http://").to_string();
    let (_, public) = key_pair();
    let mut c = s.cmd_private_cache();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    let out = run(c
        .args([
            "build",
            "hello-c",
            "--remote-cache-insecure",
            "--trust",
            &public,
            "--remote-cache",
        ])
        .arg(format!("{at}/{REPO}")))
    .success();
    assert!(
        out.stderr
            .contains("refused: its manifest is not a valid OCI manifest"),
        "{}",
        out.stderr
    );
    assert_eq!(built(&out.stderr), ["hello-c/amd64"], "{}", out.stderr);
    assert!(server.hits() >= 1);
    let _ = read_json(s.out().join("hello-c/oci/index.json"));
}

fn key_pair() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = key(dir.path(), "k");
    (dir, public)
}

/// A build that records where it was built (here the source folder, under the cache; OpenSSL
/// does the same with its compiler command line) is said to depend on the cache's path; one
/// that does not (hello-c) is not.
#[test]
fn a_file_that_records_the_cache_path_is_warned_about() {
    if !crate::util::tools_for_builds() {
        return;
    }
    let _l = build_lock();
    let s = runner();
    let src = s.recipes().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        src.join("demo.c"),
        "#include <stdio.h>\nint main(void) { puts(BUILT_IN); return 0; }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("Makefile"),
        "demo: demo.c\n\t$(CC) $(CFLAGS) $(LDFLAGS) -DBUILT_IN='\"$(CURDIR)\"' -o $@ demo.c\n\
         install: demo\n\tmkdir -p $(DESTDIR)/usr/local/bin\n\tcp demo $(DESTDIR)/usr/local/bin/demo\n",
    )
    .unwrap();
    s.recipe("demo", &crate::util::minimal_recipe("demo"));
    // In the sandbox the step sees its folder at /build: nothing of the cache's path is kept.
    let out = run(s.cmd_private_cache().args(["build", "demo", "--no-image"])).success();
    assert!(
        !out.stderr.contains("records the build cache's path"),
        "{}",
        out.stderr
    );
    // Without it, the build records where the cache is, and is told so: a warning, which
    // `--quiet` keeps while it hides the notes.
    let out =
        run(s
            .cmd_private_cache()
            .args(["build", "-q", "demo", "--no-image", "--no-sandbox"]))
        .success();
    assert!(
        !out.stderr.contains("stored in the build cache"),
        "{}",
        out.stderr
    );
    let cache = std::fs::canonicalize(s.cache()).unwrap_or(s.cache());
    assert!(
        out.stderr.contains(&format!(
            "demo/amd64: warning: /usr/local/bin/demo records the build cache's path `{}`",
            s.cache().display()
        )) || out.stderr.contains(&format!(
            "records the build cache's path `{}`",
            cache.display()
        )),
        "{}",
        out.stderr
    );
    let mut c = s.cmd_private_cache();
    c.env("RECIPE_RECIPES", root().join("tests/fixtures/recipes"));
    let out = run(c.args(["build", "hello-c", "--no-image"])).success();
    assert!(
        !out.stderr.contains("records the build cache's path"),
        "{}",
        out.stderr
    );
}

/// `recipe cache push` seeds the remote cache from what one machine built without it: what is
/// missing is pushed, what is there is not, and a reader then builds nothing.
#[test]
fn cache_push_seeds_the_remote_cache_from_local_entries() {
    if !tools() || !require_tool("qemu-aarch64-static") {
        return;
    }
    let _l = build_lock();
    let reg = Registry::start().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let (secret, public) = key(keys.path(), "maintainer");
    let local = runner();
    run(cmd(
        &local,
        &reg,
        &["build", "hello-dep", "--arch", "arm64", "--no-image"],
    )
    .env_remove("RECIPE_REMOTE_CACHE"))
    .success();
    let push = |s: &Scratch| {
        run(cmd(
            s,
            &reg,
            &[
                "cache",
                "push",
                "hello-dep",
                "--arch",
                "arm64",
                "--trust",
                &public,
            ],
        )
        .arg("--signing-key")
        .arg(&secret))
        .success()
    };
    let out = push(&local);
    assert!(
        out.stdout.contains("pushed 2 entries"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    let out = push(&local);
    assert!(
        out.stdout.contains("pushed 0 entries") && out.stdout.contains("2 already there"),
        "{}",
        out.stdout
    );
    // Without a signing key it refuses; a reader with an empty cache builds nothing.
    run(&mut cmd(
        &local,
        &reg,
        &["cache", "push", "hello-dep", "--trust", &public],
    ))
    .failure(2)
    .stderr_has("needs a signing key");
    let reader = runner();
    let out = run(&mut cmd(
        &reader,
        &reg,
        &["build", "hello-dep", "--arch", "arm64", "--trust", &public],
    ))
    .success();
    assert!(built(&out.stderr).is_empty(), "{}", out.stderr);
}
