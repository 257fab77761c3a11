//! `recipe check`: can each app of the targets go distroless? A verdict that is not ready is
//! exit 1; a target that cannot be read is bad input, exit 2. A target is a path, a registry
//! image (`HOST[:PORT]/REPO[:TAG|@DIGEST]`, `docker://REFERENCE`) or a local engine's image
//! (`podman:IMAGE`, `docker-daemon:IMAGE`): see [`check::registry`].

use std::ffi::OsString;
use std::path::PathBuf;

use super::{Context, Outcome};
use crate::check::{self, registry::Target};
use crate::error::{Error, UsageError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files, directories, image layouts or archives; registry images `HOST[:PORT]/REPO[:TAG]`
    /// (or `docker://REFERENCE`); `podman:IMAGE` or `docker-daemon:IMAGE`.
    #[arg(required = true)]
    targets: Vec<OsString>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Only this platform of an image; the arch files must be for.
    #[arg(long)]
    arch: Option<String>,
    /// Plain http instead of https for registry images (a local registry without TLS).
    #[arg(long)]
    insecure: bool,
    /// The program for `podman:` and `docker-daemon:` images (default: `podman`, `docker`).
    #[arg(long)]
    engine: Option<PathBuf>,
    /// Also check each registry image's signatures (its own and each platform's) and
    /// attestations, as `recipe push --signing-key` stores them in cosign's format, against
    /// this public key (PEM, or `recipe key`'s NAME.pub); print what its provenance says. A
    /// missing or foreign signature, or one of changed bytes, is exit 1.
    #[arg(long, value_name = "PUB")]
    key: Option<PathBuf>,
}

pub fn run(_ctx: &Context, args: Args) -> Outcome {
    let opts = check::Options {
        arch: super::arch(args.arch.as_deref())?,
        ..Default::default()
    };
    let targets: Vec<Result<Target, check::CheckError>> =
        args.targets.iter().map(|t| Target::parse(t)).collect();
    let key = match &args.key {
        Some(path) => {
            if targets
                .iter()
                .any(|t| !matches!(t, Ok(Target::Registry(_))))
            {
                return Err(UsageError::KeyNeedsRegistry.into());
            }
            Some(crate::sign::verify::read_key(path)?)
        }
        None => None,
    };
    let mut pull = check::registry::PullOptions {
        engine: args.engine,
        ..Default::default()
    };
    if targets.iter().any(|t| matches!(t, Ok(Target::Registry(_)))) {
        pull.registry = crate::registry::Options {
            insecure: args.insecure,
            basic_auth: crate::registry::basic_auth_from_env()?,
            timeouts: crate::registry::Timeouts::from_env()?,
        };
    }
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    let mut signatures = Vec::new();
    for t in targets {
        if let (Some(key), Ok(Target::Registry(r))) = (&key, &t) {
            match crate::sign::verify::reference(r, key, &pull.registry) {
                Ok(v) => signatures.push((r.to_string(), v)),
                Err(e) => errors.push(Error::from(e)),
            }
        }
        let report = t.and_then(|t| match t {
            Target::Path(p) => check::check_path(&p, &opts),
            Target::Registry(r) => check::registry::check_reference(&r, &opts, &pull),
            Target::Engine { engine, image } => {
                check::registry::check_engine(engine, &image, &opts, &pull)
            }
        });
        match report {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(Error::from(e)),
        }
    }
    if args.json {
        let mut json = check::render::json(&reports);
        if key.is_some() {
            json["signatures"] = signatures.iter().map(|(r, v)| signed_json(r, v)).collect();
        }
        outln!("{}", serde_json::to_string_pretty(&json).expect("json"));
    } else {
        if !reports.is_empty() {
            out!("{}", check::render::human(&reports));
        }
        for (image, v) in &signatures {
            out!("{}", signed_lines(image, v));
        }
    }
    crate::cli::first_error(errors)?;
    Ok(super::verdict(
        reports.iter().all(check::Report::distroless_ready),
    ))
}

/// What `--key` found of `image`, for `--json`: the digest, how many images are signed, each
/// attestation's predicate type, and the provenance's predicate whole (the SBOM and the VEX
/// document are the image's own files, which `recipe check` reads anyway).
fn signed_json(image: &str, v: &crate::sign::verify::Verified) -> serde_json::Value {
    let attestations: Vec<serde_json::Value> = v
        .attestations
        .iter()
        .map(|a| {
            let mut j = serde_json::json!({ "predicate_type": a.predicate_type });
            if a.predicate_type == crate::sign::provenance::PREDICATE_TYPE {
                j["predicate"] = a.predicate.clone();
            }
            j
        })
        .collect();
    serde_json::json!({
        "image": image,
        "digest": v.digest,
        "signed_by_key": true,
        "signed_images": v.signed,
        "attestations": attestations,
    })
}

/// What `--key` found of `image`: its signatures, its attestations and what its provenance says.
fn signed_lines(image: &str, v: &crate::sign::verify::Verified) -> String {
    let mut out = format!(
        "\n{image} ({}): signed by the key ({} image{})\n",
        v.digest,
        v.signed,
        if v.signed == 1 {
            ""
        } else {
            "s: the index and each platform"
        }
    );
    if v.attestations.is_empty() {
        out.push_str("  no attestations\n");
    }
    for a in &v.attestations {
        out.push_str(&format!("  attested: {}\n", a.predicate_type));
        if a.predicate_type == crate::sign::provenance::PREDICATE_TYPE {
            for l in crate::sign::verify::provenance_lines(&a.predicate) {
                out.push_str(&format!("    {l}\n"));
            }
        }
    }
    out
}
