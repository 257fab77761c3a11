//! Issue 11, item 2: `[[image.file]]`, files beside a recipe shipped in its image, owned and
//! moded as declared: in every platform's layer, in the image key, in `--emit-context`, and
//! not in the build cache key (a changed config makes a new image, not a new binary).

use std::path::Path;

use crate::util::*;

/// The hello-c fixture as recipe `conf` with a root-owned config in /etc and a user-owned
/// state file in its writable folder, both beside the recipe in `files/`.
fn conf_scratch(config: &str) -> Scratch {
    let s = Scratch::new();
    let hello =
        std::fs::read_to_string(root().join("tests/fixtures/recipes/hello-c.toml")).unwrap();
    let text = hello
        .replace("name = \"hello-c\"", "name = \"conf\"")
        .replace(
            "path = \"../hello-c\"",
            &format!(
                "path = \"{}\"",
                root().join("tests/fixtures/hello-c").display()
            ),
        )
        + "\n[[image.file]]\nfrom = \"files/hello.conf\"\nto = \"/etc/hello/hello.conf\"\n\
           mode = \"0644\"\n\n[[image.file]]\nfrom = \"files/state.json\"\nto = \"/data/state.json\"\n\
           owner = \"user\"\nmode = \"0600\"\n";
    s.recipe("conf", &text);
    write_config(&s, config);
    std::fs::write(s.recipes().join("files/state.json"), "{}\n").unwrap();
    s
}

fn write_config(s: &Scratch, config: &str) {
    std::fs::create_dir_all(s.recipes().join("files")).unwrap();
    std::fs::write(s.recipes().join("files/hello.conf"), config).unwrap();
}

/// One entry of a layer: path, mode, uid, gid, contents (files only).
#[derive(Debug, PartialEq, Eq)]
struct Item {
    mode: u32,
    uid: u64,
    gid: u64,
    data: Vec<u8>,
}

/// The entries of each platform's (only) layer of the layout at `layout`, by path.
fn layers(layout: &Path) -> Vec<std::collections::BTreeMap<String, Item>> {
    use std::io::Read;
    let blob = |d: &str| crate::util::layout_blob(layout, d);
    let json = crate::util::read_json;
    let index = json(layout.join("index.json"));
    let top = json(blob(index["manifests"][0]["digest"].as_str().unwrap()));
    let manifests: Vec<serde_json::Value> = match top["manifests"].as_array() {
        Some(list) => list
            .iter()
            .map(|m| json(blob(m["digest"].as_str().unwrap())))
            .collect(),
        None => vec![top],
    };
    manifests
        .iter()
        .map(|m| {
            let layer =
                std::fs::File::open(blob(m["layers"][0]["digest"].as_str().unwrap())).unwrap();
            let mut a = tar::Archive::new(flate2::read::MultiGzDecoder::new(layer));
            a.entries()
                .unwrap()
                .map(|e| {
                    let mut e = e.unwrap();
                    let h = e.header().clone();
                    let mut data = Vec::new();
                    e.read_to_end(&mut data).unwrap();
                    (
                        e.path().unwrap().to_string_lossy().into_owned(),
                        Item {
                            mode: h.mode().unwrap(),
                            uid: h.uid().unwrap(),
                            gid: h.gid().unwrap(),
                            data,
                        },
                    )
                })
                .collect()
        })
        .collect()
}

fn index_digest(s: &Scratch) -> String {
    let index = std::fs::read(s.out().join("conf/oci/index.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&index).unwrap();
    v["manifests"][0]["digest"].as_str().unwrap().to_string()
}

#[test]
fn image_files_are_in_every_layer_owned_and_moded_and_a_new_config_makes_a_new_image_only() {
    if !require_tool("python3") {
        return;
    }
    let _l = build_lock();
    let s = conf_scratch("listen 8080;\n");
    crate::graph::link_zig(&s);
    let build = |extra: &[&str]| {
        let mut c = s.cmd_private_cache();
        c.args(["build", "conf", "--arch", "amd64,arm64"])
            .args(extra);
        run(&mut c).success()
    };
    let first = build(&["--emit-context", "ctx"]);
    let layers1 = layers(&s.out().join("conf/oci"));
    assert_eq!(layers1.len(), 2, "one layer per platform");
    for layer in &layers1 {
        let conf = &layer["etc/hello/hello.conf"];
        assert_eq!(
            (conf.mode, conf.uid, conf.gid, conf.data.as_slice()),
            (0o644, 0, 0, &b"listen 8080;\n"[..]),
            "{}",
            first.stderr
        );
        let state = &layer["data/state.json"];
        assert_eq!(
            (state.mode, state.uid, state.gid, state.data.as_slice()),
            (0o600, 1000, 1000, &b"{}\n"[..])
        );
        // Its parent is made root-owned; the writable folder stays the user's.
        assert_eq!(layer["etc/hello"].uid, 0);
        assert_eq!(layer["data"].uid, 1000);
    }
    // The build context: the file in each platform's tree, the user's one copied with --chown.
    let ctx = s.path().join("ctx");
    let dockerfile = std::fs::read_to_string(ctx.join("Dockerfile")).unwrap();
    assert!(
        dockerfile.contains(
            "COPY --chown=1000:1000 [\"${TARGETPLATFORM}/data/state.json\", \"/data/state.json\"]"
        ),
        "{dockerfile}"
    );
    for arch in ["linux/amd64", "linux/arm64"] {
        assert_eq!(
            std::fs::read(ctx.join(arch).join("etc/hello/hello.conf")).unwrap(),
            b"listen 8080;\n"
        );
    }
    let digest1 = index_digest(&s);

    // The same inputs: the same image, nothing built.
    let again = build(&[]);
    assert!(
        again.stderr.contains("conf/amd64: cached"),
        "{}",
        again.stderr
    );
    assert_eq!(index_digest(&s), digest1);

    // A changed config: the binaries come from the cache, the image is new and holds it.
    write_config(&s, "listen 9090;\n");
    let changed = build(&[]);
    for arch in ["amd64", "arm64"] {
        assert!(
            changed.stderr.contains(&format!("conf/{arch}: cached")),
            "the binary was rebuilt for a new config file:\n{}",
            changed.stderr
        );
    }
    assert!(
        !changed.stderr.contains("image (unchanged)"),
        "the image was not rewritten:\n{}",
        changed.stderr
    );
    let digest2 = index_digest(&s);
    assert_ne!(digest1, digest2, "a new config file, the same image digest");
    for layer in layers(&s.out().join("conf/oci")) {
        assert_eq!(layer["etc/hello/hello.conf"].data, b"listen 9090;\n");
    }
}
