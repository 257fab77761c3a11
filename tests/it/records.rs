//! One record per job: what verification learns of an app file is stored with its cache entry
//! (`meta.json`'s `checked`) and read by everything after it (packing, the SBOM, the image's
//! check, a reuse of the entry), so each binary is parsed once whether its job is built or its
//! entry reused. Parses are counted through the `RECIPE_TEST_ELF_PARSES` hook.

use std::collections::BTreeMap;

use crate::harden::{only_entry, prebuilt, with_zig};
use crate::util::{fake_zig, read_json, run, sha};

#[test]
fn each_binary_is_parsed_once_across_a_build_and_a_rebuild() {
    let Some(s) = prebuilt("") else { return };
    let zig = fake_zig();
    let log = s.path().join("parses.txt");
    let build = || {
        let mut c = with_zig(&s, &zig);
        c.env("RECIPE_TEST_ELF_PARSES", &log)
            .args(["build", "-q", "demo", "--arch", "amd64"]);
        run(&mut c).success();
    };
    build();
    let entry = only_entry(&s);
    let demo = std::fs::read(entry.join("dest/usr/local/bin/demo")).unwrap();
    let meta = read_json(entry.join("meta.json"));
    let checked = meta["checked"]
        .as_array()
        .expect("meta.json has the records");
    assert_eq!(checked.len(), 1, "{checked:?}");
    assert_eq!(checked[0]["path"], "/usr/local/bin/demo");
    assert_eq!(checked[0]["sha256"], sha(&demo));
    assert_eq!(checked[0]["report"]["facts"]["kind"], "executable");
    // The image goes, so the second run reuses the entry and writes and checks the image again.
    std::fs::remove_dir_all(s.out()).unwrap();
    build();
    assert!(s.out().join("demo/oci/index.json").exists());
    let mut parses: BTreeMap<String, usize> = BTreeMap::new();
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        *parses.entry(line.to_string()).or_default() += 1;
    }
    assert_eq!(parses.get(&sha(&demo)), Some(&1), "{parses:?}");
    assert!(
        parses.values().all(|&n| n == 1),
        "a binary parsed twice: {parses:?}"
    );
}
