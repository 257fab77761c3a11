//! Planning and cache invalidation in memory: recipes parsed from text, a [`CacheView`] made
//! by hand, one input changed at a time; nothing is built, fetched or spawned.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::arch::Arch;
use crate::recipe::{self, Recipe};

fn ctx() -> Context {
    Context {
        upx: [(
            Arch::Amd64,
            "upx 3.94 (0123456789abcdef) -q --lzma".to_string(),
        )]
        .into(),
        ..Context::for_tests()
    }
}

/// A recipe `name` from `/r/NAME.toml`: a library unless `app`, with `extra` top-level keys
/// (before the tables) and `build` lines.
fn recipe(name: &str, extra: &str, build: &str, app: bool) -> Recipe {
    let app = if app {
        format!("[app]\nfiles = [\"/usr/local/bin/{name}\"]\n")
    } else {
        String::new()
    };
    let text = format!(
        "name = \"{name}\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
         {extra}\n[source]\npath = \"src\"\n[build]\nsystem = \"make\"\n{build}\n{app}"
    );
    recipe::parse(Path::new(&format!("/r/{name}.toml")), &text).unwrap()
}

/// `app` on `lib`, and an independent `other` app.
fn catalogue() -> BTreeMap<String, Recipe> {
    [
        recipe("lib", "", "", false),
        recipe("app", "depends = [\"lib\"]", "", true),
        recipe("other", "", "", true),
    ]
    .into_iter()
    .map(|r| (r.name.clone(), r))
    .collect()
}

fn fingerprints() -> BTreeMap<String, String> {
    ["lib", "app", "other"]
        .iter()
        .map(|n| (n.to_string(), format!("fp-{n}")))
        .collect()
}

fn plan(
    recipes: &BTreeMap<String, Recipe>,
    ctx: &Context,
    fps: &BTreeMap<String, String>,
    cache: &CacheView,
) -> Graph {
    let roots = ["app".to_string(), "other".to_string()];
    graph(recipes, &roots, &[Arch::Amd64], ctx, fps, cache).unwrap()
}

/// What a cache holding every entry of `g` looks like to the next plan.
fn cached(g: &Graph) -> CacheView {
    let mut view = CacheView::default();
    for n in &g.nodes {
        view.present.insert(n.key.clone());
        view.latest
            .insert((n.recipe.name.clone(), n.arch), n.inputs.clone());
    }
    view
}

/// Each node's miss, by recipe name (None: a hit).
fn misses(g: &Graph) -> BTreeMap<String, Option<Miss>> {
    g.nodes
        .iter()
        .map(|n| (n.recipe.name.clone(), n.miss().cloned().clone()))
        .collect()
}

fn expect(pairs: &[(&str, Option<Miss>)]) -> BTreeMap<String, Option<Miss>> {
    pairs
        .iter()
        .map(|(n, m)| (n.to_string(), m.clone()))
        .collect()
}

#[test]
fn an_empty_cache_misses_everything_as_not_built_before() {
    let g = plan(&catalogue(), &ctx(), &fingerprints(), &CacheView::default());
    let names: Vec<&str> = g.nodes.iter().map(|n| n.recipe.name.as_str()).collect();
    assert_eq!(names, ["lib", "app", "other"], "dependencies first");
    assert!(
        g.nodes
            .iter()
            .all(|n| n.miss().cloned() == Some(Miss::NotBuiltBefore))
    );
    assert_eq!(
        Miss::NotBuiltBefore.to_string(),
        "not built before",
        "the plan table's and --json's wording"
    );
}

#[test]
fn nothing_changed_is_all_hits() {
    let (r, c, f) = (catalogue(), ctx(), fingerprints());
    let before = plan(&r, &c, &f, &CacheView::default());
    let again = plan(&r, &c, &f, &cached(&before));
    assert_eq!(
        misses(&again),
        expect(&[("lib", None), ("app", None), ("other", None)])
    );
}

/// The key hashes the recipe's meaning: comments, blank lines, quoting and the order of keys
/// change nothing; a value does.
#[test]
fn a_comment_or_layout_edit_of_a_recipe_plans_no_miss() {
    let (mut r, c, f) = (catalogue(), ctx(), fingerprints());
    let view = cached(&plan(&r, &c, &f, &CacheView::default()));
    let lib = r["lib"].clone();
    let mut lines: Vec<&str> = lib.text.lines().collect();
    lines.swap(0, 1); // `name` and `version` change places
    let edited = format!(
        "# a comment\n\n{}\n# another one\n",
        lines
            .join("\n")
            .replace("name = \"lib\"", "name = 'lib' # inline")
    );
    assert_ne!(edited, lib.text);
    r.insert("lib".into(), recipe::parse(&lib.file, &edited).unwrap());
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        misses(&g),
        expect(&[("lib", None), ("app", None), ("other", None)])
    );
    let changed = edited.replace("version = ", "version = \"9\"\n# was ");
    r.insert("lib".into(), recipe::parse(&lib.file, &changed).unwrap());
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        g.nodes[0].miss().cloned(),
        Some(Miss::Changed(vec![Change::Recipe]))
    );
}

#[test]
fn a_library_recipe_change_misses_it_and_its_dependents_only() {
    let (mut r, c, f) = (catalogue(), ctx(), fingerprints());
    let view = cached(&plan(&r, &c, &f, &CacheView::default()));
    r.insert("lib".into(), recipe("lib", "", "cflags = [\"-DX\"]", false));
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        misses(&g),
        expect(&[
            ("lib", Some(Miss::Changed(vec![Change::Recipe]))),
            (
                "app",
                Some(Miss::Changed(vec![Change::Dependency("lib".into())]))
            ),
            ("other", None),
        ])
    );
    assert_eq!(
        g.nodes[1].miss().cloned().as_ref().unwrap().to_string(),
        "dependency lib changed"
    );
}

#[test]
fn a_source_change_misses_that_recipe_and_its_dependents() {
    let (r, c, mut f) = (catalogue(), ctx(), fingerprints());
    let view = cached(&plan(&r, &c, &f, &CacheView::default()));
    f.insert("other".into(), "fp-other-2".into());
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        misses(&g),
        expect(&[
            ("lib", None),
            ("app", None),
            ("other", Some(Miss::Changed(vec![Change::Source]))),
        ])
    );
    f.insert("lib".into(), "fp-lib-2".into());
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        g.nodes[0].miss().cloned(),
        Some(Miss::Changed(vec![Change::Source]))
    );
    assert_eq!(
        g.nodes[1].miss().cloned(),
        Some(Miss::Changed(vec![Change::Dependency("lib".into())]))
    );
}

#[test]
fn a_toolchain_change_misses_everything_and_says_from_what_to_what() {
    let (r, mut c, f) = (catalogue(), ctx(), fingerprints());
    let view = cached(&plan(&r, &c, &f, &CacheView::default()));
    c.zig_version = "0.15.0".into();
    let g = plan(&r, &c, &f, &view);
    let w = crate::toolchain::cc::REVISION;
    let toolchain = Change::Toolchain {
        old: format!("zig 0.14.0 (wrappers {w})"),
        new: format!("zig 0.15.0 (wrappers {w})"),
    };
    assert_eq!(
        g.nodes[0].miss().cloned(),
        Some(Miss::Changed(vec![toolchain.clone()]))
    );
    assert_eq!(
        g.nodes[1].miss().cloned(),
        Some(Miss::Changed(vec![
            toolchain,
            Change::Dependency("lib".into())
        ]))
    );
    assert_eq!(
        g.nodes[1].miss().cloned().as_ref().unwrap().to_string(),
        format!(
            "toolchain changed (zig 0.14.0 (wrappers {w}) -> zig 0.15.0 (wrappers {w})), \
             dependency lib changed"
        )
    );
    // A Go version alone does not touch C builds.
    let mut go = ctx();
    go.go_version = "1.25.0".into();
    assert!(
        plan(&r, &go, &f, &view)
            .nodes
            .iter()
            .all(|n| n.miss().cloned().is_none())
    );
}

#[test]
fn the_packer_is_in_the_key_of_packing_recipes_only() {
    let f = fingerprints();
    let mut r = catalogue();
    let plain = recipe("other", "", "", true);
    let packing = plain.text.replace("[app]\n", "[app]\ncompress = \"upx\"\n");
    r.insert(
        "other".into(),
        recipe::parse(&plain.file, &packing).unwrap(),
    );
    let c = ctx();
    let view = cached(&plan(&r, &c, &f, &CacheView::default()));
    let other = |g: &Graph| {
        g.nodes
            .iter()
            .position(|n| n.recipe.name == "other")
            .unwrap()
    };
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        g.nodes[other(&g)].inputs.toolchain,
        format!(
            "zig 0.14.0 (wrappers {}) + upx 3.94 (0123456789abcdef) -q --lzma",
            crate::toolchain::cc::REVISION
        )
    );
    let mut newer = ctx();
    newer.upx = [(
        Arch::Amd64,
        "upx 4.2.4 (fedcba9876543210) -q --lzma".to_string(),
    )]
    .into();
    let g = plan(&r, &newer, &f, &view);
    for n in &g.nodes {
        match n.recipe.name.as_str() {
            "other" => assert_eq!(
                n.miss()
                    .cloned()
                    .as_ref()
                    .map(ToString::to_string)
                    .as_deref(),
                Some(
                    format!(
                        "toolchain changed (zig 0.14.0 (wrappers {w}) + upx 3.94 \
                         (0123456789abcdef) -q --lzma -> zig 0.14.0 (wrappers {w}) + upx 4.2.4 \
                         (fedcba9876543210) -q --lzma)",
                        w = crate::toolchain::cc::REVISION
                    )
                    .as_str()
                )
            ),
            _ => assert_eq!(n.miss().cloned(), None, "{}", n.recipe.name),
        }
    }
}

#[test]
fn a_dependency_added_or_dropped_is_named() {
    let (mut r, c, f) = (catalogue(), ctx(), fingerprints());
    let view = cached(&plan(&r, &c, &f, &CacheView::default()));
    r.insert(
        "other".into(),
        recipe("other", "depends = [\"lib\"]", "", true),
    );
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        g.nodes[2].miss().cloned(),
        Some(Miss::Changed(vec![
            Change::Recipe,
            Change::NewDependency("lib".into())
        ]))
    );
    r.insert("app".into(), recipe("app", "", "", true));
    let g = plan(&r, &c, &f, &view);
    let app = g.nodes.iter().find(|n| n.recipe.name == "app").unwrap();
    assert_eq!(
        app.miss().cloned(),
        Some(Miss::Changed(vec![
            Change::Recipe,
            Change::DroppedDependency("lib".into())
        ]))
    );
    assert_eq!(
        app.miss().cloned().as_ref().unwrap().to_string(),
        "recipe changed, dependency lib dropped"
    );
}

#[test]
fn an_entry_gone_with_the_same_inputs_is_no_entry() {
    let (r, c, f) = (catalogue(), ctx(), fingerprints());
    let mut view = cached(&plan(&r, &c, &f, &CacheView::default()));
    let other = plan(&r, &c, &f, &view).nodes[2].key.clone();
    view.present.remove(&other);
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        misses(&g),
        expect(&[("lib", None), ("app", None), ("other", Some(Miss::NoEntry))])
    );
}

#[test]
fn other_reasons_render_themselves() {
    assert_eq!(
        Miss::EntryChanged("`usr/bin/app` is missing".into()).to_string(),
        "the cache entry changed after it was made: `usr/bin/app` is missing"
    );
    assert_eq!(Miss::RebuildRequested.to_string(), "rebuild requested");
    let (r, c, f) = (catalogue(), ctx(), fingerprints());
    let mut g = plan(
        &r,
        &c,
        &f,
        &cached(&plan(&r, &c, &f, &CacheView::default())),
    );
    g.rebuild_all();
    assert!(
        g.nodes
            .iter()
            .all(|n| n.miss().cloned() == Some(Miss::RebuildRequested))
    );
    // --json writes the sentence.
    assert_eq!(
        serde_json::to_value(Some(Miss::NotBuiltBefore)).unwrap(),
        serde_json::json!("not built before")
    );
}

/// A host tool is planned for the build machine's arch, and its change reaches its users.
#[test]
fn a_host_tool_runs_on_the_build_machine() {
    let mut r = catalogue();
    r.insert("gen".into(), recipe("gen", "", "", true));
    r.insert(
        "app".into(),
        recipe(
            "app",
            "depends = [\"lib\"]\nhost-depends = [\"gen\"]",
            "",
            true,
        ),
    );
    let (c, f) = (ctx(), fingerprints());
    let arches = [Arch::Armv7];
    let roots = ["app".to_string()];
    let g = graph(&r, &roots, &arches, &c, &f, &CacheView::default()).unwrap();
    let gen_node = g.nodes.iter().find(|n| n.recipe.name == "gen").unwrap();
    assert_eq!(gen_node.arch, Arch::build_machine());
    assert_eq!(gen_node.roles, [Role::Host].into());
    let view = cached(&g);
    r.insert("gen".into(), recipe("gen", "", "cflags = [\"-DY\"]", true));
    let g = graph(&r, &roots, &arches, &c, &f, &view).unwrap();
    let app = g.nodes.iter().find(|n| n.recipe.name == "app").unwrap();
    assert_eq!(
        app.miss().cloned(),
        Some(Miss::Changed(vec![Change::Dependency("gen".into())]))
    );
}

fn graph_error(recipes: &[Recipe], root: &str) -> String {
    let r: BTreeMap<String, Recipe> = recipes
        .iter()
        .map(|r| (r.name.clone(), r.clone()))
        .collect();
    let e = graph(
        &r,
        &[root.to_string()],
        &[Arch::Amd64],
        &ctx(),
        &fingerprints(),
        &CacheView::default(),
    )
    .unwrap_err();
    match e {
        GraphError::Cycle(e) | GraphError::Recipe(e) => e.render(),
        other => panic!("not a located recipe error: {other}"),
    }
}

#[test]
fn a_dependency_cycle_points_at_the_entry_that_closes_it() {
    let out = graph_error(
        &[
            recipe("app", "depends = [\"a\"]", "", true),
            recipe("a", "depends = [\"b\"]", "", false),
            recipe("b", "depends = [\"zlib\", \"a\"]", "", false),
            recipe("zlib", "", "", false),
        ],
        "app",
    );
    assert_eq!(
        out,
        r#"  × /r/b.toml:5:20: dependency cycle: a -> b -> a
   ╭─[/r/b.toml:5:20]
 4 │ homepage = "https://example.invalid"
 5 │ depends = ["zlib", "a"]
   ·                    ─┬─
   ·                     ╰── dependency cycle: a -> b -> a
 6 │ [source]
   ╰────
  help: `a` needs itself through its dependencies: remove one of the entries of the cycle
"#
    );
}

#[test]
fn a_host_tool_cycle_is_located_too() {
    let out = graph_error(
        &[
            recipe("gen", "host-depends = [\"gen2\"]", "", true),
            recipe("gen2", "host-depends = [\"gen\"]", "", true),
        ],
        "gen",
    );
    let host = Arch::build_machine();
    let (first, second) = if host == Arch::Amd64 {
        ("gen2", "gen")
    } else {
        ("gen", "gen2")
    };
    // On an amd64 build machine gen/amd64 is the root and the cycle closes in gen2's entry.
    assert!(
        out.starts_with(&format!("  × /r/{first}.toml:5:17: dependency cycle: "))
            && out.contains(&format!("-> {second}\n")),
        "{out}"
    );
}

#[test]
fn an_app_in_depends_is_located() {
    let out = graph_error(
        &[
            recipe("app", "depends = [\"other\"]", "", true),
            recipe("other", "", "", true),
        ],
        "app",
    );
    assert_eq!(
        out,
        r#"  × /r/app.toml:5:12: `other` is an app, not a library: nothing to build against
   ╭─[/r/app.toml:5:12]
 4 │ homepage = "https://example.invalid"
 5 │ depends = ["other"]
   ·            ───┬───
   ·               ╰── `other` is an app, not a library: nothing to build against
 6 │ [source]
   ╰────
  help: list it under `host-depends` to run its programs during the build
"#
    );
}

#[test]
fn a_changed_smoke_file_misses_the_recipe() {
    let (mut r, c, f) = (catalogue(), ctx(), fingerprints());
    let mut other = r["other"].clone();
    other.smoke = Some(crate::recipe::Smoke {
        command: vec!["other".into()],
        expect: String::new(),
        timeout_secs: 10,
        files: vec![crate::recipe::SmokeFile {
            path: "app.conf".into(),
            span: 0..0,
            contents: Some(b"port {port}".to_vec()),
        }],
        serve: None,
        service: Some(crate::recipe::Service {
            listen: crate::recipe::Listen::Tcp,
            stop_grace_secs: 10,
            requests: vec![],
        }),
        env: Default::default(),
    });
    r.insert("other".into(), other.clone());
    let view = cached(&plan(&r, &c, &f, &CacheView::default()));
    // The same text, another smoke file: the smoke result of the entry no longer applies.
    if let Some(s) = other.smoke.as_mut() {
        s.files[0].contents = Some(b"port {port}\nverbose".to_vec());
    }
    r.insert("other".into(), other);
    let g = plan(&r, &c, &f, &view);
    assert_eq!(
        misses(&g),
        expect(&[
            ("lib", None),
            ("app", None),
            ("other", Some(Miss::Changed(vec![Change::Recipe]))),
        ])
    );
}

/// In the sandbox the steps see fixed paths, so the keys and every step's words are the same
/// whatever the cache's path; without it the cache's path is in both, and a change between the
/// two is a miss that says so.
#[test]
fn fixed_paths_make_keys_and_steps_independent_of_the_cache_path() {
    let steps = |g: &Graph| -> Vec<String> {
        g.nodes
            .iter()
            .flat_map(|n| n.job.steps.iter())
            .map(|s| format!("{s:?}"))
            .collect()
    };
    let mut moved = ctx();
    moved.cache = "/elsewhere/cache".into();
    let (a, b) = (
        plan(&catalogue(), &ctx(), &fingerprints(), &CacheView::default()),
        plan(&catalogue(), &moved, &fingerprints(), &CacheView::default()),
    );
    let keys = |g: &Graph| g.nodes.iter().map(|n| n.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&a), keys(&b));
    assert_eq!(steps(&a), steps(&b));
    assert!(
        steps(&a)
            .iter()
            .all(|s| !s.replace("/recipe/cache/", "").contains("/cache/")),
        "a step names the real cache"
    );
    assert!(steps(&a).iter().any(|s| s.contains("/build/src")));
    assert!(
        a.nodes[0].job.work.starts_with("/cache/work"),
        "the real folder"
    );

    let (mut plain, mut plain_moved) = (ctx(), moved.clone());
    plain.fixed_paths = false;
    plain_moved.fixed_paths = false;
    let c = plan(&catalogue(), &plain, &fingerprints(), &cached(&a));
    let d = plan(
        &catalogue(),
        &plain_moved,
        &fingerprints(),
        &CacheView::default(),
    );
    assert_ne!(keys(&c), keys(&d));
    assert!(steps(&c).iter().any(|s| s.contains("/cache/work/")));
    assert_eq!(
        c.nodes[0]
            .miss()
            .cloned()
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("paths the steps see changed (fixed -> as is in /cache)")
    );
}

/// A patch for some arches (`{ file, arches }`) is a step of their jobs only, and only their
/// keys hold it: adding an armv7-only patch keeps the amd64 key, and a patch listed for an arch
/// is the same build of it as the patch written for every arch.
#[test]
fn a_patch_for_some_arches_is_in_their_steps_and_keys_only() {
    let (c, f) = (ctx(), fingerprints());
    let with = |patches: &str| {
        let r = recipe("other", "", "", true);
        let text = r.text.replace(
            "path = \"src\"",
            &format!("path = \"src\"\npatches = {patches}"),
        );
        let r = recipe::parse(&r.file, &text).unwrap();
        let recipes = [(r.name.clone(), r)].into();
        let roots = ["other".to_string()];
        let arches = [Arch::Amd64, Arch::Armv7];
        graph(&recipes, &roots, &arches, &c, &f, &CacheView::default()).unwrap()
    };
    let key = |g: &Graph, arch: Arch| g.nodes.iter().find(|n| n.arch == arch).unwrap().key.clone();
    let steps = |g: &Graph, arch: Arch| -> Vec<String> {
        let n = g.nodes.iter().find(|n| n.arch == arch).unwrap();
        n.job.patches.iter().map(|p| p.patch.clone()).collect()
    };
    let plain = with("[\"a.patch\"]");
    let armv7 = with("[\"a.patch\", { file = \"b.patch\", arches = [\"armv7\"] }]");
    let every = with("[\"a.patch\", \"b.patch\"]");
    let listed = with("[\"a.patch\", { arches = [\"armv7\", \"amd64\"], file = \"b.patch\" }]");
    assert_eq!(steps(&armv7, Arch::Amd64), ["a.patch"]);
    assert_eq!(steps(&armv7, Arch::Armv7), ["a.patch", "b.patch"]);
    assert_eq!(armv7.nodes[1].job.patches[1].arches, [Arch::Armv7]);
    assert_eq!(key(&armv7, Arch::Amd64), key(&plain, Arch::Amd64));
    assert_ne!(key(&armv7, Arch::Armv7), key(&plain, Arch::Armv7));
    assert_eq!(key(&armv7, Arch::Armv7), key(&every, Arch::Armv7));
    assert_eq!(key(&listed, Arch::Amd64), key(&every, Arch::Amd64));
}

/// The steps' SOURCE_DATE_EPOCH is the source's own date (already in the key through the
/// source's bytes) unless the user gives one: then a change of it misses every job.
#[test]
fn an_explicit_source_date_epoch_is_an_input() {
    let (r, mut c, f) = (catalogue(), ctx(), fingerprints());
    c.source_date_epoch = None;
    let view = cached(&plan(&r, &c, &f, &CacheView::default()));
    let again = plan(&r, &c, &f, &view);
    assert!(again.nodes.iter().all(|n| n.miss().is_none()));
    c.source_date_epoch = Some(1_700_000_000);
    let dated = plan(&r, &c, &f, &view);
    assert_eq!(
        dated.nodes[0].miss().cloned(),
        Some(Miss::Changed(vec![Change::Source]))
    );
    assert!(dated.nodes[0].inputs.source.ends_with(" date:1700000000"));
}

/// `optimize = "size"` and `lto` reach every compile and link of the job (cmake's build type
/// too); saying `optimize = "speed"` is the default's steps (the key follows the recipe's text).
#[test]
fn optimize_for_size_and_lto_reach_the_flags_and_the_build_type() {
    let (c, f) = (ctx(), fingerprints());
    let job = |build: &str| {
        let r = recipe("other", "", build, true);
        let text = r.text.replace("system = \"make\"", "system = \"cmake\"");
        let r = recipe::parse(&r.file, &text).unwrap();
        let recipes = [(r.name.clone(), r)].into();
        let roots = ["other".to_string()];
        let g = graph(
            &recipes,
            &roots,
            &[Arch::Amd64],
            &c,
            &f,
            &CacheView::default(),
        );
        g.unwrap().nodes.remove(0).job
    };
    let configure = |j: &Job| -> (Vec<String>, BTreeMap<String, String>) {
        let Some(Step::Run(cmd)) = j
            .steps
            .iter()
            .find(|s| matches!(s, Step::Run(c) if c.name == "configure"))
        else {
            panic!("no configure step: {:?}", j.steps);
        };
        (cmd.argv.clone(), cmd.env.clone())
    };
    let (plain, speed) = (job(""), job("optimize = \"speed\"\nlto = false"));
    assert_eq!(plain.steps, speed.steps);
    let (argv, env) = configure(&plain);
    assert!(argv.contains(&"-DCMAKE_BUILD_TYPE=Release".to_string()));
    assert!(env["CFLAGS"].starts_with("-O2"), "{}", env["CFLAGS"]);
    assert!(!env["LDFLAGS"].contains("-flto"));

    let small = job("optimize = \"size\"\nlto = true");
    assert_ne!(small.key, plain.key);
    let (argv, env) = configure(&small);
    assert!(argv.contains(&"-DCMAKE_BUILD_TYPE=MinSizeRel".to_string()));
    for flags in ["CFLAGS", "CXXFLAGS"] {
        assert!(
            env[flags].starts_with("-Os -ffunction-sections -fdata-sections -flto"),
            "{}",
            env[flags]
        );
    }
    assert!(env["LDFLAGS"].contains(" -flto -Os"), "{}", env["LDFLAGS"]);
    // cmake's MinSizeRel flags are its own (`-Os`) for "size"
    assert!(
        !argv.iter().any(|a| a.contains("FLAGS_MINSIZEREL")),
        "{argv:?}"
    );

    // "smallest": -Oz everywhere, MinSizeRel made -Oz (its own flags come after CFLAGS)
    let smallest = job("optimize = \"smallest\"");
    assert_ne!(smallest.key, small.key);
    let (argv, env) = configure(&smallest);
    assert!(argv.contains(&"-DCMAKE_BUILD_TYPE=MinSizeRel".to_string()));
    for lang in ["C", "CXX"] {
        let flag = format!("-DCMAKE_{lang}_FLAGS_MINSIZEREL=-Oz -DNDEBUG");
        assert!(argv.contains(&flag), "{argv:?}");
    }
    assert!(
        env["CFLAGS"].starts_with("-Oz -ffunction-sections -fdata-sections"),
        "{}",
        env["CFLAGS"]
    );
    assert!(env["LDFLAGS"].ends_with(" -Oz"), "{}", env["LDFLAGS"]);
}

/// What an image links: the app's node and the libraries it reaches, each once, never its host
/// tools or another app.
#[test]
fn an_apps_linked_nodes_are_its_libraries_not_its_host_tools() {
    let mut r = catalogue();
    r.insert("gen".into(), recipe("gen", "", "", true));
    r.insert("base".into(), recipe("base", "", "", false));
    r.insert(
        "lib".into(),
        recipe("lib", "depends = [\"base\"]", "", false),
    );
    r.insert(
        "app".into(),
        recipe(
            "app",
            "depends = [\"lib\", \"base\"]\nhost-depends = [\"gen\"]",
            "",
            true,
        ),
    );
    let roots = ["app".to_string(), "other".to_string()];
    let g = graph(
        &r,
        &roots,
        &[Arch::Armv7],
        &ctx(),
        &fingerprints(),
        &CacheView::default(),
    )
    .unwrap();
    let app = g.nodes.iter().position(|n| n.recipe.name == "app").unwrap();
    let names: Vec<&str> = g
        .linked(&[app])
        .into_iter()
        .map(|i| g.nodes[i].recipe.name.as_str())
        .collect();
    assert_eq!(names[0], "app");
    let mut rest = names[1..].to_vec();
    rest.sort();
    assert_eq!(rest, ["base", "lib"]);
}
