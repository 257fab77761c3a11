//! The image writer checked by the real tools: skopeo, umoci and podman read what it writes.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use recipe::arch::Arch;
use recipe::image::{
    Entry, EntryKind, ImageConfig, ImageError, PlatformImage, User, Written, base_entries,
    write_archive, write_layout,
};
use serde_json::Value;

use crate::util::require_tool;

/// podman names a loaded oci-archive after its ref name, so a ref of `name:tag` gives
/// `localhost/name:tag`; skopeo and umoci take it as the tag of the layout.
const TAG: &str = "app:7.0.15";

/// A small 3-arch image: the distroless base, one "binary" per arch read from disk (with a
/// deliberately odd mode and mtime on disk), a config file and a symlink.
fn images(src: &Path, shuffle: bool) -> Vec<PlatformImage> {
    let user = User::default();
    let mut out = Vec::new();
    for arch in Arch::ALL {
        let bin = src.join(format!("app-{arch}"));
        if !bin.exists() {
            fs::write(&bin, format!("not really an ELF for {arch}\n").repeat(100)).unwrap();
            fs::set_permissions(&bin, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut entries = base_entries(&user, &["/data".to_string(), "/var/lib/app".to_string()]);
        entries.push(Entry::file("/usr/local/bin/app", 0o755, &bin));
        entries.push(Entry::bytes(
            "/etc/app/app.conf",
            0o644,
            b"port 6379\n".to_vec(),
        ));
        entries.push(Entry::symlink("/usr/bin/app", "/usr/local/bin/app"));
        if shuffle {
            entries.reverse();
            entries.rotate_left(3);
        }
        let mut labels = BTreeMap::new();
        labels.insert(
            "org.opencontainers.image.version".to_string(),
            TAG.to_string(),
        );
        labels.insert(
            "org.opencontainers.image.title".to_string(),
            "app".to_string(),
        );
        out.push(PlatformImage {
            arch,
            entries,
            config: ImageConfig {
                entrypoint: vec!["/usr/local/bin/app".into()],
                cmd: vec!["--port".into(), "6379".into()],
                workdir: Some("/data".into()),
                exposed_ports: vec!["6379/tcp".into()],
                volumes: vec!["/data".into()],
                labels,
                ..ImageConfig::default()
            },
            history: format!("recipe build {TAG}"),
        });
    }
    if shuffle {
        out.reverse();
    }
    out
}

fn write(dir: &Path) -> Written {
    let src = dir.join("src");
    fs::create_dir_all(&src).unwrap();
    write_layout(&dir.join("layout"), TAG, &images(&src, false)).unwrap()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn summary(w: &Written, arch: Arch) -> &recipe::image::PlatformSummary {
    w.platforms.iter().find(|p| p.arch == arch).unwrap()
}

/// skopeo's arguments that pick `arch`, from the arch table.
fn override_args(arch: Arch) -> Vec<String> {
    let info = arch.info();
    let mut v = vec![
        "--override-os".to_string(),
        "linux".into(),
        "--override-arch".into(),
        info.oci_arch.into(),
    ];
    if let Some(var) = info.oci_variant {
        v.extend(["--override-variant".to_string(), var.to_string()]);
    }
    v
}

#[test]
fn same_input_gives_same_digests_and_archive() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    fs::create_dir_all(&src).unwrap();
    let a = write_layout(&t.path().join("a"), TAG, &images(&src, false)).unwrap();
    // Touch the sources: a new mtime and mode on disk must change nothing.
    for arch in Arch::ALL {
        let p = src.join(format!("app-{arch}"));
        let data = fs::read(&p).unwrap();
        fs::write(&p, data).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let b = write_layout(&t.path().join("b"), TAG, &images(&src, true)).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a.platforms.iter().map(|p| p.arch).collect::<Vec<_>>(),
        Arch::ALL.to_vec()
    );
    write_archive(&t.path().join("a"), &t.path().join("a.tar")).unwrap();
    write_archive(&t.path().join("b"), &t.path().join("b.tar")).unwrap();
    assert_eq!(
        fs::read(t.path().join("a.tar")).unwrap(),
        fs::read(t.path().join("b.tar")).unwrap()
    );
}

#[test]
fn setuid_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let mut imgs = images(t.path(), false);
    imgs[1].entries.push(Entry {
        path: "/usr/bin/su".into(),
        kind: EntryKind::Dir,
        mode: 0o4755,
        uid: 0,
        gid: 0,
    });
    let e = write_layout(&t.path().join("layout"), TAG, &imgs).unwrap_err();
    assert!(
        matches!(&e, ImageError::SetId { path, mode: 0o4755 } if path == "/usr/bin/su"),
        "{e}"
    );
    assert!(!t.path().join("layout").exists());
}

#[test]
fn skopeo_inspects_every_platform() {
    if !require_tool("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let w = write(t.path());
    let reference = format!("oci:{}:{TAG}", t.path().join("layout").display());

    let raw = json(&run(
        Command::new("skopeo").args(["inspect", "--raw", &reference])
    ));
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(raw["manifests"].as_array().unwrap().len(), 3);

    for arch in Arch::ALL {
        let info = arch.info();
        let out = json(&run(Command::new("skopeo")
            .args(override_args(arch))
            .args(["inspect", &reference])));
        assert_eq!(out["Architecture"], info.oci_arch, "{out}");
        // skopeo names the tag's digest (the multi-arch index) and the chosen platform's layer.
        assert_eq!(out["Digest"], w.index_digest.as_str(), "{arch}: {out}");
        assert_eq!(
            out["Layers"][0],
            summary(&w, arch).layer_digest.as_str(),
            "{arch}: {out}"
        );
        assert_eq!(out["Labels"]["org.opencontainers.image.version"], TAG);

        let cfg = json(&run(Command::new("skopeo")
            .args(override_args(arch))
            .args(["inspect", "--config", &reference])));
        assert_eq!(cfg["architecture"], info.oci_arch);
        assert_eq!(cfg["variant"].as_str(), info.oci_variant);
        assert_eq!(cfg["os"], "linux");
        assert_eq!(cfg["created"], "1970-01-01T00:00:00Z");
        assert_eq!(cfg["config"]["User"], "1000:1000");
        assert_eq!(cfg["config"]["Entrypoint"][0], "/usr/local/bin/app");
        assert_eq!(cfg["config"]["WorkingDir"], "/data");
        assert!(cfg["config"]["ExposedPorts"]["6379/tcp"].is_object());
        assert!(cfg["config"]["Volumes"]["/data"].is_object());
        assert_eq!(
            cfg["history"][0]["created_by"],
            format!("recipe build {TAG}")
        );
        assert_eq!(cfg["rootfs"]["diff_ids"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn umoci_unpacks_one_copied_platform() {
    if !require_tool("skopeo") || !require_tool("umoci") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let w = write(t.path());
    let reference = format!("oci:{}:{TAG}", t.path().join("layout").display());
    for arch in [Arch::Armv7, Arch::Arm64] {
        let one = t.path().join(format!("one-{arch}"));
        run(Command::new("skopeo").args(override_args(arch)).args([
            "copy",
            "--quiet",
            &reference,
            &format!("oci:{}:{TAG}", one.display()),
        ]));
        // The blobs come through unchanged.
        assert!(
            one.join("blobs/sha256")
                .join(&summary(&w, arch).layer_digest[7..])
                .is_file()
        );

        let bundle = t.path().join(format!("bundle-{arch}"));
        run(Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:{TAG}", one.display()))
            .arg(&bundle));
        let rootfs = bundle.join("rootfs");
        let passwd = fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
        assert!(passwd.contains("app:x:1000:1000:"), "{passwd}");
        assert!(passwd.starts_with("root:x:0:0:"), "{passwd}");
        let tmp = fs::symlink_metadata(rootfs.join("tmp")).unwrap();
        assert!(tmp.is_dir());
        assert_eq!(tmp.permissions().mode() & 0o7777, 0o1777);
        assert!(!rootfs.join("bin/sh").exists() && !rootfs.join("bin").exists());
        let app = rootfs.join("usr/local/bin/app");
        assert_eq!(
            fs::metadata(&app).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert!(
            fs::read_to_string(&app)
                .unwrap()
                .contains(&format!("for {arch}"))
        );
        assert_eq!(
            fs::read_link(rootfs.join("usr/bin/app")).unwrap(),
            Path::new("/usr/local/bin/app")
        );
        assert!(rootfs.join("var/lib/app").is_dir());
        let spec = json(&fs::read_to_string(bundle.join("config.json")).unwrap());
        assert_eq!(spec["process"]["args"][0], "/usr/local/bin/app");
    }
}

#[test]
fn skopeo_and_podman_read_the_archive() {
    if !require_tool("skopeo") || !require_tool("podman") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let w = write(t.path());
    let archive = t.path().join("image.tar");
    write_archive(&t.path().join("layout"), &archive).unwrap();

    let out = json(&run(Command::new("skopeo")
        .args(override_args(Arch::Armv7))
        .args([
            "inspect",
            &format!("oci-archive:{}:{TAG}", archive.display()),
        ])));
    assert_eq!(out["Digest"], w.index_digest.as_str());
    assert_eq!(
        out["Layers"][0],
        summary(&w, Arch::Armv7).layer_digest.as_str()
    );

    let conf = t.path().join("containers.conf");
    fs::write(
        &conf,
        "[engine]\nruntime = \"runc\"\n[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n",
    )
    .unwrap();
    let podman = |args: &[&str]| {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", &conf)
            .arg("--root")
            .arg(t.path().join("root"))
            .arg("--runroot")
            .arg(t.path().join("runroot"))
            .args(["--storage-driver", "vfs"])
            .args(args);
        run(&mut c)
    };
    let loaded = podman(&["load", "-q", "-i", archive.to_str().unwrap()]);
    assert!(loaded.contains(&format!("localhost/{TAG}")), "{loaded}");
    let imgs = json(&podman(&["images", "--format", "json"]));
    let host = Arch::host().unwrap_or(Arch::Amd64);
    assert_eq!(imgs[0]["Digest"], w.index_digest.as_str(), "{imgs}");
    assert_eq!(imgs[0]["Names"][0], format!("localhost/{TAG}"), "{imgs}");
    let host_digest = format!("localhost/app@{}", summary(&w, host).manifest_digest);
    assert!(
        imgs[0]["RepoDigests"]
            .as_array()
            .unwrap()
            .contains(&Value::String(host_digest)),
        "{imgs}"
    );
    let cfg = json(&podman(&[
        "image",
        "inspect",
        imgs[0]["Id"].as_str().unwrap(),
    ]));
    assert_eq!(cfg[0]["Config"]["User"], "1000:1000");
    assert_eq!(cfg[0]["Architecture"], host.info().oci_arch);
    // vfs storage under the temp root holds plain files; storage may leave read-only dirs behind.
    let _ = podman(&["rmi", "-a", "-f"]);
}

/// The `created` of each platform's config in the layout at `layout`, with the index digest.
pub(crate) fn created_dates(layout: &Path) -> (String, Vec<String>) {
    let blob = |d: &str| crate::util::read_json(crate::util::layout_blob(layout, d));
    let index = crate::util::read_json(layout.join("index.json"));
    let digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let created = blob(&digest)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let manifest = blob(m["digest"].as_str().unwrap());
            let config = blob(manifest["config"]["digest"].as_str().unwrap());
            config["created"].as_str().unwrap().to_string()
        })
        .collect();
    (digest, created)
}

#[test]
fn a_local_folder_image_is_undated_and_source_date_epoch_wins() {
    if !crate::util::tools_for_builds() {
        return;
    }
    let _l = crate::util::build_lock();
    let build = |epoch: Option<&str>| {
        let s = crate::util::Scratch::new();
        std::fs::create_dir_all(s.path()).unwrap();
        let mut c = s.cmd();
        c.env(
            "RECIPE_RECIPES",
            crate::util::root().join("tests/fixtures/recipes"),
        );
        match epoch {
            Some(e) => c.env("SOURCE_DATE_EPOCH", e),
            None => c.env_remove("SOURCE_DATE_EPOCH"),
        };
        crate::util::run(c.args(["build", "hello-c", "--arch", "amd64"])).success();
        let dates = created_dates(&s.out().join("hello-c/oci"));
        (s, dates)
    };
    // The fixture's source is a local folder: it has no date of its own (its files' mtimes are
    // when this checkout was made), so the image is dated 1970 and the same on every machine.
    // (An archive's image is dated by it: `debian_archive::a_debian_source_builds_with_no_apt_on_path`.)
    let (_s1, (digest1, created)) = build(None);
    assert_eq!(created, ["1970-01-01T00:00:00Z"]);
    // The same inputs give the same bytes.
    let (_s2, (digest2, _)) = build(None);
    assert_eq!(digest1, digest2);
    // An explicit SOURCE_DATE_EPOCH wins.
    let (_s3, (digest3, created)) = build(Some("1700000000"));
    assert_eq!(created, ["2023-11-14T22:13:20Z"]);
    assert_ne!(digest1, digest3);
}

/// An archive's build steps see its source's date as `SOURCE_DATE_EPOCH` (the newest time of
/// its files here), and its image, SBOM and VEX are dated by it.
#[test]
fn an_archive_build_sees_its_source_date_and_its_image_and_sbom_carry_it() {
    if !crate::util::require_tool("python3") {
        return;
    }
    use crate::util::{E, run, serve, sha, tar_bytes};
    let _l = crate::util::build_lock();
    let fixture = crate::util::root().join("tests/fixtures/hello-c");
    let (make, hello) = (
        fs::read(fixture.join("Makefile")).unwrap(),
        fs::read(fixture.join("hello.c")).unwrap(),
    );
    // Every entry is dated 1_600_000_000 (2020-09-13T12:26:40Z).
    let tar = tar_bytes(&[
        E::Dir(b"hello-1.0/"),
        E::File(b"hello-1.0/Makefile", &make, 0o644),
        E::File(b"hello-1.0/hello.c", &hello, 0o644),
    ]);
    let server = serve(&[("/hello-1.0.tar", &tar)]);
    let s = crate::util::Scratch::new();
    s.recipe(
        "dated",
        &format!(
            "name = \"dated\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
             [source]\nsha256 = \"{}\"\nurls = [\"{}\"]\nstrip = 1\n\
             [build]\nsystem = \"script\"\n\
             script = [\"mkdir -p $DESTDIR/usr/local/bin $DESTDIR/usr/local/share\", \
             \"echo $SOURCE_DATE_EPOCH > $DESTDIR/usr/local/share/source-date\", \
             \"$CC -static -O2 -o $DESTDIR/usr/local/bin/hello hello.c\"]\n\
             [app]\nfiles = [\"/usr/local/bin/hello\"]\n",
            sha(&tar),
            server.url("/hello-1.0.tar")
        ),
    );
    crate::graph::link_zig(&s);
    run(s
        .cmd_private_cache()
        .env_remove("SOURCE_DATE_EPOCH")
        .args(["build", "dated", "--arch", "amd64"]))
    .success();
    let seen: Vec<String> = fs::read_dir(s.cache().join("builds"))
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read_to_string(e.path().join("dest/usr/local/share/source-date")).ok())
        .collect();
    assert_eq!(seen, ["1600000000\n"]);
    let (_, created) = created_dates(&s.out().join("dated/oci"));
    assert_eq!(created, ["2020-09-13T12:26:40Z"]);
    let sbom = crate::util::read_json(s.out().join("dated/dated-1.0.spdx.json"));
    assert_eq!(sbom["creationInfo"]["created"], "2020-09-13T12:26:40Z");
}
