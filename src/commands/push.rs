//! `recipe push`: a built image's layout to a registry, every digest unchanged; with a signing
//! key, signed and attested in cosign's format (`crate::sign`).

use std::path::{Path, PathBuf};

use super::{Context, Outcome, SIGNING_KEY_ENV, progress::Display};
use crate::error::{Error, Exit, UsageError};
use crate::remote::{RemoteError, SecretKey};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recipe whose image to push.
    name: String,
    /// Where to: `registry/repository[:tag]` (without a tag, the recipe's version).
    reference: String,
    /// Where `recipe build` wrote the image.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Plain http instead of https (a local registry without TLS).
    #[arg(long)]
    insecure: bool,
    /// Sign the image (its index and each platform manifest) and attest its SBOM, SLSA
    /// provenance and VEX in cosign's format with the key in FILE (`recipe key generate`'s
    /// NAME.secret); also the secret `RECIPE_CACHE_SIGNING_KEY` itself. `cosign verify --key` checks them with the
    /// public key `recipe key public --pem FILE` prints.
    #[arg(long, env = "RECIPE_CACHE_SIGNING_KEY_FILE", value_name = "FILE")]
    signing_key: Option<PathBuf>,
}

/// The signing key of `--signing-key`, else of `RECIPE_CACHE_SIGNING_KEY` (empty: none).
fn signing_key(file: Option<&Path>) -> Result<Option<SecretKey>, Error> {
    match file {
        Some(path) => Ok(Some(super::read_signing_key(path)?)),
        None => match crate::secrets::var(SIGNING_KEY_ENV) {
            Some(text) if !text.trim().is_empty() => {
                Ok(Some(SecretKey::parse(&text).map_err(RemoteError::from)?))
            }
            _ => Ok(None),
        },
    }
}

pub fn run(ctx: &Context, args: Args) -> Outcome {
    let image_dir = args.out.join(&args.name);
    let layout = image_dir.join("oci");
    if !layout.join("index.json").is_file() {
        return Err(UsageError::NoImage {
            name: args.name,
            out: args.out,
        }
        .into());
    }
    let signing = match signing_key(args.signing_key.as_deref())? {
        Some(key) => Some(crate::sign::Signing {
            key,
            // What `recipe build` wrote beside the image: SBOM, provenance, VEX.
            attestations: crate::sign::beside_image(&image_dir)
                .map_err(crate::push::PushError::from)?,
        }),
        None => None,
    };
    let opts = crate::push::PushOptions {
        insecure: args.insecure,
        basic_auth: crate::registry::basic_auth_from_env()?,
    };
    let progress = Display::new(ctx.quiet);
    let pushed = crate::push::push(&layout, &args.reference, &opts, signing.as_ref(), &progress);
    progress.finish();
    let pushed = pushed?;
    outln!(
        "pushed {}@{} ({} blobs uploaded, {} already there, {} manifests)",
        pushed.reference,
        pushed.digest,
        pushed.uploaded,
        pushed.present,
        pushed.manifests
    );
    if let Some(s) = &pushed.signed {
        outln!(
            "signed {} manifests in cosign's format (the image's signature: tag {})",
            s.signatures,
            s.signature_tag
        );
        if let Some((tag, types)) = &s.attestations {
            outln!("attested {} (tag {tag})", types.join(", "));
        }
    }
    Ok(Exit::Ok)
}
