//! `recipe push --signing-key`: signatures and attestations in cosign's format, checked by the
//! real `cosign` CLI against a local registry (Debian's docker-registry on 127.0.0.1), and the
//! errors of a bad key or a refused signature push.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use recipe::image::Written;
use recipe::registry::{Client, Options};
use serde_json::{Value, json};

use crate::push::{Registry, built_image, fake_registry};
use crate::util::{Output, recipe, require_tool, run};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Where `scripts/setup.sh --tests` installs `cosign`, or PATH. None (skip) without it, except
/// under CI.
fn cosign() -> Option<PathBuf> {
    let fixed = PathBuf::from("/opt/recipe-tools/bin/cosign");
    if fixed.is_file() {
        return Some(fixed);
    }
    require_tool("cosign").then(|| PathBuf::from("cosign"))
}

/// `cosign ARGS...` with the one flag a signature without a transparency log entry needs (the
/// README's commands: a registry on 127.0.0.1 needs no flag for plain http), its home a temp
/// folder (nothing read from or written to the user's).
fn cosign_run(cosign: &Path, home: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(cosign);
    c.args(&args[..1])
        .arg("--insecure-ignore-tlog=true")
        .args(&args[1..])
        .env("HOME", home)
        .env_remove("COSIGN_EXPERIMENTAL");
    run(&mut c)
}

/// The image of `push::built_image` with an SBOM and a VEX document beside it, as `recipe build`
/// leaves them.
fn image_with_documents(out: &Path) -> (Written, Value, Value) {
    let w = built_image(out);
    let sbom = json!({
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": "app-7.0.15", "documentNamespace": "https://example.invalid/app-7.0.15",
        "creationInfo": {"created": "1970-01-01T00:00:00Z", "creators": ["Tool: recipe"]},
        "packages": [],
    });
    let vex = json!({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/vex",
        "author": "recipe", "timestamp": "1970-01-01T00:00:00Z", "version": 1,
        "statements": [],
    });
    let dir = out.join("app");
    std::fs::write(dir.join("app-7.0.15.spdx.json"), sbom.to_string()).unwrap();
    std::fs::write(dir.join("app-7.0.15.openvex.json"), vex.to_string()).unwrap();
    (w, sbom, vex)
}

/// `recipe key generate NAME` in `dir` and its PEM public key (`recipe key public --pem`).
fn key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    run(recipe().args(["key", "generate", name, "--out"]).arg(dir)).success();
    let secret = dir.join(format!("{name}.secret"));
    let o = run(recipe().args(["key", "public", "--pem"]).arg(&secret)).success();
    assert!(
        o.stdout.starts_with("-----BEGIN PUBLIC KEY-----\n")
            && o.stdout.ends_with("-----END PUBLIC KEY-----\n"),
        "{}",
        o.stdout
    );
    let pem = dir.join(format!("{name}.pem"));
    std::fs::write(&pem, &o.stdout).unwrap();
    (secret, pem)
}

fn client(reg: &Registry) -> Client {
    let opts = Options {
        insecure: true,
        ..Default::default()
    };
    Client::new(&reg.host(), "team/app", &opts)
}

/// The statement of the attestation `cosign verify-attestation` printed (one envelope a line).
fn statement(printed: &str) -> Value {
    let envelope: Value = serde_json::from_str(printed.lines().next().unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn cosign_verifies_what_push_signs_and_refuses_other_keys_and_changed_signatures() {
    let Some(cosign) = cosign() else { return };
    let Some(reg) = Registry::start() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let (w, sbom, vex) = image_with_documents(&out);
    let (secret, pem) = key(t.path(), "signer");
    let (_, other_pem) = key(t.path(), "other");
    let pem = pem.to_str().unwrap();
    let repo = format!("{}/team/app", reg.host());
    let image = format!("{repo}:7.0.15");

    run(recipe()
        .args(["push", "app", &repo, "--insecure", "--signing-key"])
        .arg(&secret)
        .arg("--out")
        .arg(&out))
    .success()
    .stdout_has("signed 4 manifests in cosign's format")
    .stdout_has(&format!("tag {}.sig", w.index_digest.replace(':', "-")))
    .stdout_has("attested https://spdx.dev/Document, https://openvex.dev/ns");

    let verify =
        |key: &str, what: &str| cosign_run(&cosign, t.path(), &["verify", "--key", key, what]);
    let o = verify(pem, &image).success();
    assert!(o.stdout.contains(&w.index_digest), "{}", o.stdout);
    for p in &w.platforms {
        verify(pem, &format!("{repo}@{}", p.manifest_digest)).success();
    }
    let attested = |kind: &str| {
        cosign_run(
            &cosign,
            t.path(),
            &["verify-attestation", "--key", pem, "--type", kind, &image],
        )
        .success()
    };
    let s = statement(&attested("spdxjson").stdout);
    assert_eq!(s["predicateType"], "https://spdx.dev/Document");
    assert_eq!(s["predicate"], sbom);
    assert_eq!(s["subject"][0]["name"], repo.as_str());
    assert_eq!(
        format!(
            "sha256:{}",
            s["subject"][0]["digest"]["sha256"].as_str().unwrap()
        ),
        w.index_digest
    );
    assert_eq!(statement(&attested("openvex").stdout)["predicate"], vex);

    // Another key's public key is refused.
    refused(verify(other_pem.to_str().unwrap(), &image));

    // Signing again (the key from the environment this time) gives the same manifests.
    let c = client(&reg);
    let sig_tag = format!("{}.sig", w.index_digest.replace(':', "-"));
    let att_tag = format!("{}.att", w.index_digest.replace(':', "-"));
    let before = [&sig_tag, &att_tag].map(|t| c.get_manifest(t, OCI_MANIFEST).unwrap().1);
    let secret_text = std::fs::read_to_string(&secret).unwrap();
    run(recipe()
        .args(["push", "app", &repo, "--insecure", "--out"])
        .arg(&out)
        .env("RECIPE_CACHE_SIGNING_KEY", secret_text.trim()))
    .success()
    .stdout_has("signed 4 manifests");
    let after = [&sig_tag, &att_tag].map(|t| c.get_manifest(t, OCI_MANIFEST).unwrap().1);
    assert_eq!(before, after, "signing is deterministic");

    // A changed signature (one byte of the annotation) is refused.
    change_signature(&c, &sig_tag);
    refused(verify(pem, &image));
}

/// Changes one byte of the signature annotation in the manifest under `sig_tag`.
fn change_signature(c: &Client, sig_tag: &str) {
    let mut m: Value =
        serde_json::from_slice(&c.get_manifest(sig_tag, OCI_MANIFEST).unwrap().1).unwrap();
    let sig = &mut m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"];
    let mut bytes = sig.as_str().unwrap().to_string().into_bytes();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    *sig = Value::String(String::from_utf8(bytes).unwrap());
    c.put_manifest(sig_tag, OCI_MANIFEST, &serde_json::to_vec(&m).unwrap())
        .unwrap();
}

/// A `cosign verify` that found no valid signature.
#[track_caller]
fn refused(o: Output) {
    assert_ne!(o.code, 0, "cosign accepted it:\n{}", o.stdout);
    assert!(o.stderr.contains("no matching signatures"), "{}", o.stderr);
}

#[test]
fn a_missing_or_invalid_key_is_a_usage_error() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    image_with_documents(&out);
    let push = |key: &Path| {
        let mut c = recipe();
        c.args([
            "push",
            "app",
            "127.0.0.1:1/app",
            "--insecure",
            "--signing-key",
        ])
        .arg(key)
        .arg("--out")
        .arg(&out);
        run(&mut c)
    };
    let missing = t.path().join("nope.secret");
    push(&missing)
        .failure(2)
        .stderr_has("cannot read the signing key");
    let bad = t.path().join("bad.secret");
    std::fs::write(&bad, "k:AAAA\n").unwrap();
    push(&bad).failure(2).stderr_has("signing key `k`");
    // A public key file where the secret belongs.
    run(recipe()
        .args(["key", "generate", "k", "--out"])
        .arg(t.path()))
    .success();
    push(&t.path().join("k.pub"))
        .failure(2)
        .stderr_has("signing key `k`");
    // The same from the environment.
    run(recipe()
        .args(["push", "app", "127.0.0.1:1/app", "--insecure", "--out"])
        .arg(&out)
        .env("RECIPE_CACHE_SIGNING_KEY", "not a key"))
    .failure(2)
    .stderr_has("signing key");
    run(recipe().args(["key", "public", "--pem"]).arg(&missing))
        .failure(2)
        .stderr_has("cannot read the signing key");
    // An SBOM beside the image that is not JSON cannot be attested.
    std::fs::write(out.join("app/app-7.0.15.spdx.json"), "{").unwrap();
    push(&t.path().join("k.secret"))
        .failure(2)
        .stderr_has("cannot attest")
        .stderr_has("app-7.0.15.spdx.json");
}

#[test]
fn a_refused_signature_push_fails_naming_its_tag_and_leaves_the_tag_alone() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    image_with_documents(&out);
    run(recipe()
        .args(["key", "generate", "k", "--out"])
        .arg(t.path()))
    .success();
    // Every blob is there and the image's manifests go in; the signature's PUT is refused.
    let host = fake_registry(|method, path| match (method, path) {
        ("PUT", p) if p.contains("/manifests/sha256-") => (
            "403 Forbidden",
            r#"{"errors":[{"code":"DENIED","message":"no signatures here"}]}"#,
        ),
        ("PUT", _) => ("201 Created", ""),
        _ => ("200 OK", ""),
    });
    let o = run(recipe()
        .args([
            "push",
            "app",
            &format!("{host}/app:1"),
            "--insecure",
            "--signing-key",
        ])
        .arg(t.path().join("k.secret"))
        .arg("--out")
        .arg(&out))
    .failure(1)
    .stderr_has(&format!(
        "registry {host}: cannot push the signature manifest as tag `sha256-"
    ))
    .stderr_has(".sig`")
    .stderr_has("403 Forbidden");
    assert!(!o.stdout.contains("pushed"), "{}", o.stdout);
}

/// The fixture `hello-c` built for two arches (its provenance beside it), pushed signed: cosign
/// verifies the signatures, the SBOM and the SLSA provenance, whose materials are the build's
/// inputs; `recipe check --key` says the same without cosign, and refuses another key, a
/// changed signature and an unsigned image with exit 1.
#[test]
fn a_built_image_is_signed_with_its_provenance_and_checked_with_and_without_cosign() {
    let Some(cosign) = cosign() else { return };
    if !crate::util::tools_for_builds() {
        return;
    }
    let Some(reg) = Registry::start() else { return };
    let _l = crate::util::build_lock();
    let s = crate::util::Scratch::new();
    std::fs::create_dir_all(s.path()).unwrap();
    let fixtures = crate::util::root().join("tests/fixtures/recipes");
    let builder = "https://ci.example/team/app/build.yml@refs/heads/main";
    run(s
        .cmd()
        .env("RECIPE_RECIPES", &fixtures)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .args([
            "build",
            "hello-c",
            "--arch",
            "amd64,arm64",
            "--builder-id",
            builder,
        ]))
    .success();
    let dir = s.out().join("hello-c");
    let provenance = crate::util::read_json(dir.join("hello-c-1.0.provenance.json"));
    assert_eq!(provenance["runDetails"]["builder"]["id"], builder);
    let t = s.path();
    let (secret, pem) = key(t, "release");
    let (_, other_pem) = key(t, "other");
    let repo = format!("{}/team/hello-c", reg.host());
    let image = format!("{repo}:1.0");
    run(recipe()
        .args(["push", "hello-c", &repo, "--insecure", "--signing-key"])
        .arg(&secret)
        .arg("--out")
        .arg(s.out()))
    .success()
    .stdout_has("signed 3 manifests")
    .stdout_has("attested https://spdx.dev/Document, https://slsa.dev/provenance/v1");

    let pem_s = pem.to_str().unwrap();
    cosign_run(&cosign, t, &["verify", "--key", pem_s, &image]).success();
    let attested = |kind: &str| {
        cosign_run(
            &cosign,
            t,
            &["verify-attestation", "--key", pem_s, "--type", kind, &image],
        )
        .success()
    };
    let slsa = statement(&attested("slsaprovenance1").stdout);
    assert_eq!(slsa["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(slsa["predicate"], provenance);
    // Its materials are the build's inputs: the recipe's source folder by the fingerprint its
    // key holds, and each arch's cache entry by its key.
    let names: Vec<&str> = provenance["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    for n in [
        "source/hello-c",
        "entry/hello-c/amd64",
        "entry/hello-c/arm64",
    ] {
        assert!(names.contains(&n), "{n} not in {names:?}");
    }
    let sbom = statement(&attested("spdxjson").stdout);
    assert_eq!(
        sbom["predicate"],
        crate::util::read_json(dir.join("hello-c-1.0.spdx.json"))
    );

    // recipe check --key: the same without cosign, and what the provenance says.
    let check = |key: &Path, what: &str| {
        run(recipe()
            .args(["check", "--insecure", "--key"])
            .arg(key)
            .arg(what))
    };
    check(&pem, &image)
        .success()
        .stdout_has("signed by the key (3 images")
        .stdout_has("attested: https://slsa.dev/provenance/v1")
        .stdout_has("recipe hello-c 1.0 for amd64, arm64")
        .stdout_has(&format!("built by {builder}"))
        .stdout_has("  source/hello-c  recipeTree:");
    // recipe key's own public key file works too; --json says the same.
    check(&t.join("release.pub"), &image).success();
    let json = run(recipe()
        .args(["check", "--insecure", "--json", "--key"])
        .arg(&pem)
        .arg(&image))
    .success();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let signed = &json["signatures"][0];
    assert_eq!(signed["image"], image.as_str());
    assert_eq!(signed["signed_images"], 3);
    let types: Vec<&str> = signed["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["predicate_type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"https://slsa.dev/provenance/v1"),
        "{types:?}"
    );
    assert!(types.contains(&"https://spdx.dev/Document"), "{types:?}");
    assert_eq!(
        signed["attestations"][types.iter().position(|t| t.contains("slsa")).unwrap()]["predicate"],
        provenance
    );
    check(&other_pem, &image)
        .failure(1)
        .stderr_has("is not this key's signature");

    // A changed signature of one platform is refused, naming it.
    let c = Client::new(
        &reg.host(),
        "team/hello-c",
        &Options {
            insecure: true,
            ..Default::default()
        },
    );
    let index: Value =
        serde_json::from_slice(&c.get_manifest("1.0", OCI_INDEX).unwrap().1).unwrap();
    let platform = index["manifests"][1]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let sig_tag = format!("{}.sig", platform.replace(':', "-"));
    change_signature(&c, &sig_tag);
    check(&pem, &image)
        .failure(1)
        .stderr_has(&format!("no signature of {platform} holds"));
    refused(cosign_run(
        &cosign,
        t,
        &["verify", "--key", pem_s, &format!("{repo}@{platform}")],
    ));

    // An image pushed without a key has no signature.
    let unsigned = format!("{}/team/unsigned", reg.host());
    run(recipe()
        .args(["push", "hello-c", &unsigned, "--insecure", "--out"])
        .arg(s.out())
        .env_remove("RECIPE_CACHE_SIGNING_KEY"))
    .success();
    check(&pem, &format!("{unsigned}:1.0"))
        .failure(1)
        .stderr_has("has no signature (no tag `sha256-");
}
