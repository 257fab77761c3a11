//! The other ways out of an image: the archive read as a docker archive (its manifest.json) and
//! the BuildKit build context of `write_context` / `recipe build --emit-context`, compared with
//! the image's own amd64 layer, and built with podman when it is there.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use recipe::arch::Arch;
use recipe::image::{
    Entry, ImageConfig, PlatformImage, User, Written, base_entries, platform_dir, write_archive,
    write_context, write_layout,
};
use serde_json::Value;

use crate::util::{Podman, require_tool};

const TAG: &str = "app:7.0.15";

fn images(src: &Path) -> Vec<PlatformImage> {
    Arch::ALL
        .iter()
        .map(|&arch| {
            let bin = src.join(format!("app-{arch}"));
            fs::write(&bin, format!("app for {arch}\n").repeat(50)).unwrap();
            let mut entries = base_entries(&User::default(), &["/data".to_string()]);
            entries.push(Entry::file("/usr/local/bin/app", 0o755, &bin));
            entries.push(Entry::symlink("/usr/bin/app", "/usr/local/bin/app"));
            PlatformImage {
                arch,
                entries,
                config: ImageConfig {
                    entrypoint: vec!["/usr/local/bin/app".into()],
                    exposed_ports: vec!["8080/tcp".into()],
                    ..ImageConfig::default()
                },
                history: format!("recipe build {TAG}"),
            }
        })
        .collect()
}

fn setup(t: &Path) -> (Written, Vec<PlatformImage>) {
    let src = t.join("src");
    fs::create_dir_all(&src).unwrap();
    let imgs = images(&src);
    let w = write_layout(&t.join("layout"), TAG, &imgs).unwrap();
    (w, imgs)
}

/// What a tree entry is: kind, mode, contents or link target.
type Tree = BTreeMap<String, (char, u32, Vec<u8>)>;

/// The entries of a gzip layer blob.
fn layer_tree(blob: &Path) -> Tree {
    let gz = flate2::read::MultiGzDecoder::new(fs::File::open(blob).unwrap());
    let mut a = tar::Archive::new(gz);
    let mut out = Tree::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        let mode = e.header().mode().unwrap() & 0o7777;
        let (kind, data) = match e.header().entry_type() {
            tar::EntryType::Directory => ('d', Vec::new()),
            tar::EntryType::Symlink => ('l', e.link_name_bytes().unwrap().into_owned()),
            _ => {
                let mut d = Vec::new();
                e.read_to_end(&mut d).unwrap();
                ('f', d)
            }
        };
        out.insert(path, (kind, if kind == 'l' { 0 } else { mode }, data));
    }
    out
}

/// The entries of a folder, the same way.
fn dir_tree(root: &Path) -> Tree {
    fn walk(root: &Path, d: &Path, out: &mut Tree) {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let m = fs::symlink_metadata(&p).unwrap();
            let mode = m.permissions().mode() & 0o7777;
            if m.file_type().is_symlink() {
                let t = fs::read_link(&p).unwrap();
                out.insert(rel, ('l', 0, t.to_string_lossy().as_bytes().to_vec()));
            } else if m.is_dir() {
                out.insert(rel, ('d', mode, Vec::new()));
                walk(root, &p, out);
            } else {
                out.insert(rel, ('f', mode, fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Tree::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn context_trees_equal_the_layers() {
    let t = tempfile::tempdir().unwrap();
    let (w, imgs) = setup(t.path());
    let ctx = t.path().join("ctx");
    write_context(&ctx, &imgs).unwrap();
    for p in &w.platforms {
        let blob = t
            .path()
            .join("layout/blobs/sha256")
            .join(&p.layer_digest[7..]);
        let dir = ctx.join(platform_dir(p.arch));
        let (layer, tree) = (layer_tree(&blob), dir_tree(&dir));
        assert_eq!(
            layer.keys().collect::<Vec<_>>(),
            tree.keys().collect::<Vec<_>>(),
            "{}",
            p.arch
        );
        assert_eq!(layer, tree, "{}", p.arch);
    }
    assert!(ctx.join("linux/arm/v7/usr/local/bin/app").is_file());
    let df = fs::read_to_string(ctx.join("Dockerfile")).unwrap();
    for line in [
        "FROM scratch\n",
        "ARG TARGETPLATFORM\n",
        "COPY ${TARGETPLATFORM}/ /\n",
        "COPY --chown=1000:1000 [\"${TARGETPLATFORM}/data/\", \"/data/\"]\n",
        "USER 1000:1000\n",
        "EXPOSE 8080/tcp\n",
        "ENTRYPOINT [\"/usr/local/bin/app\"]\n",
        "# docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 .\n",
    ] {
        assert!(df.contains(line), "{line:?} missing:\n{df}");
    }
}

/// podman builds the context offline (FROM scratch); the image it makes for linux/amd64 holds
/// our amd64 tree (paths, kinds, modes, contents; owners are not compared: COPY leaves a folder
/// owned by the app user, /data, root-owned, as the docs say).
#[test]
fn podman_builds_the_context() {
    if !require_tool("podman") || !require_tool("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let (w, imgs) = setup(t.path());
    let ctx = t.path().join("ctx");
    write_context(&ctx, &imgs).unwrap();
    let p = Podman::new();
    let o = p
        .cmd()
        .args([
            "build",
            "-q",
            "--platform",
            "linux/amd64",
            "-t",
            "localhost/ctx:1",
        ])
        .arg(&ctx)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let saved = t.path().join("built");
    let o = p
        .cmd()
        .args(["save", "-q", "--format", "oci-dir", "-o"])
        .arg(&saved)
        .arg("localhost/ctx:1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Every layer of the built image, applied in order, by path (later layers win).
    let index: Value =
        serde_json::from_slice(&fs::read(saved.join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| saved.join("blobs/sha256").join(&d[7..]);
    let m: Value = serde_json::from_slice(
        &fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let mut built = Tree::new();
    for l in m["layers"].as_array().unwrap() {
        let path = blob(l["digest"].as_str().unwrap());
        let tree = if l["mediaType"].as_str().unwrap().ends_with("gzip") {
            layer_tree(&path)
        } else {
            let gz = t.path().join("l.gz");
            let data = fs::read(&path).unwrap();
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, &data).unwrap();
            fs::write(&gz, e.finish().unwrap()).unwrap();
            layer_tree(&gz)
        };
        built.extend(tree);
    }
    let amd = w.platforms.iter().find(|p| p.arch == Arch::Amd64).unwrap();
    let ours = layer_tree(
        &t.path()
            .join("layout/blobs/sha256")
            .join(&amd.layer_digest[7..]),
    );
    assert_eq!(built, ours);
    let cfg: Value =
        serde_json::from_slice(&fs::read(blob(m["config"]["digest"].as_str().unwrap())).unwrap())
            .unwrap();
    assert_eq!(cfg["config"]["User"], "1000:1000");
    assert_eq!(cfg["config"]["Entrypoint"][0], "/usr/local/bin/app");
    assert_eq!(cfg["architecture"], "amd64");
}

#[test]
fn the_archive_is_a_docker_archive_too() {
    if !require_tool("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let (w, _) = setup(t.path());
    let archive = t.path().join("app.tar");
    write_archive(&t.path().join("layout"), &archive).unwrap();
    let amd = w.platforms.iter().find(|p| p.arch == Arch::Amd64).unwrap();

    // skopeo reads it through manifest.json: the amd64 image, tagged.
    let o = Command::new("skopeo")
        .args(["inspect", &format!("docker-archive:{}", archive.display())])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info["Architecture"], "amd64", "{info}");
    let copied = t.path().join("copied");
    let o = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            &format!("docker-archive:{}", archive.display()),
            &format!("oci:{}:x", copied.display()),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The same config and layer bytes came through.
    let cfg = fs::read(
        t.path().join("layout/blobs/sha256").join(
            &serde_json::from_slice::<Value>(
                &fs::read(
                    t.path()
                        .join("layout/blobs/sha256")
                        .join(&amd.manifest_digest[7..]),
                )
                .unwrap(),
            )
            .unwrap()["config"]["digest"]
                .as_str()
                .unwrap()[7..],
        ),
    )
    .unwrap();
    let cfg_digest = format!("sha256:{}", crate::util::sha(&cfg));
    let top: Value = serde_json::from_slice(&fs::read(copied.join("index.json")).unwrap()).unwrap();
    let m: Value = serde_json::from_slice(
        &fs::read(
            copied
                .join("blobs/sha256")
                .join(&top["manifests"][0]["digest"].as_str().unwrap()[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    let copied_cfg: Value = serde_json::from_slice(
        &fs::read(
            copied
                .join("blobs/sha256")
                .join(&m["config"]["digest"].as_str().unwrap()[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    let ours: Value = serde_json::from_slice(&cfg).unwrap();
    assert_eq!(copied_cfg["rootfs"], ours["rootfs"], "{cfg_digest}");
    assert_eq!(copied_cfg["config"], ours["config"]);
    let layer = fs::read(
        copied
            .join("blobs/sha256")
            .join(&m["layers"][0]["digest"].as_str().unwrap()[7..]),
    )
    .unwrap();
    let our_layer = fs::read(
        t.path()
            .join("layout/blobs/sha256")
            .join(&amd.layer_digest[7..]),
    )
    .unwrap();
    // skopeo compresses again; the tar inside (the diff_id) is the same.
    let gunzip = |b: &[u8]| {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    };
    assert_eq!(gunzip(&layer), gunzip(&our_layer));

    // Still an OCI archive first: skopeo's oci-archive and podman load see the whole index.
    let o = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            &format!("oci-archive:{}:{TAG}", archive.display()),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        format!("sha256:{}", crate::util::sha(&o.stdout)),
        w.index_digest
    );
}
