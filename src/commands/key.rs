//! `recipe key generate|public|rotate`: the ed25519 keys that sign remote build-cache entries
//! and pushed images (`recipe push --signing-key`; `recipe key public --pem` prints the public
//! key as cosign reads it).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::Outcome;
use crate::error::{Exit, UsageError};
use crate::remote::{RemoteError, SecretKey};

#[derive(clap::Subcommand, Debug)]
pub enum Args {
    /// Make a signing key: NAME.secret (for the machines that push) and NAME.pub (what
    /// readers trust).
    Generate {
        /// The key's name (letters, digits, `.`, `_`, `-`), carried by every signature:
        /// e.g. the project and the year, `acme-2026`.
        name: String,
        /// Where to write the two files.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Print the public key (`NAME:BASE64`) of a secret key file.
    Public {
        /// The secret key file.
        secret: PathBuf,
        /// Print it as PKIX PEM (`-----BEGIN PUBLIC KEY-----`) instead, the form cosign reads:
        /// `cosign verify --key FILE` checks what `recipe push --signing-key` signed.
        #[arg(long)]
        pem: bool,
    },
    /// Replace a signing key: make the new one and say how to move readers and writers to it
    /// without rebuilding what the old one signed.
    Rotate {
        /// The secret key file in use now.
        old: PathBuf,
        /// The new key's name.
        name: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

pub fn run(args: Args) -> Outcome {
    match args {
        Args::Generate { name, out } => {
            let key = generate(&name, &out)?;
            let public = key.public().to_text();
            outln!("Use it:");
            outln!("  writers (CI pushes to main, a maintainer's machine): the secret file, as");
            outln!(
                "    --signing-key {} or the secret RECIPE_CACHE_SIGNING_KEY",
                secret_path(&out, &name).display()
            );
            outln!("  readers (every runner, pull requests, users): trust the public key,");
            outln!("    --trust {public}");
            outln!("    or RECIPE_CACHE_TRUST=\"{public}\"");
            Ok(Exit::Ok)
        }
        Args::Public { secret, pem } => {
            let public = super::read_signing_key(&secret)?.public();
            if pem {
                out!("{}", public.to_pem());
            } else {
                outln!("{}", public.to_text());
            }
            Ok(Exit::Ok)
        }
        Args::Rotate { old, name, out } => {
            let old = super::read_signing_key(&old)?;
            if old.name == name {
                return Err(UsageError::SameKeyName { name }.into());
            }
            let new = generate(&name, &out)?;
            let (n, o) = (new.public().to_text(), old.public().to_text());
            outln!("Rotate in three steps:");
            outln!(
                "  1. readers trust both keys (entries signed by `{}` stay usable):",
                old.name
            );
            outln!("       RECIPE_CACHE_TRUST=\"{n} {o}\"");
            outln!(
                "  2. writers sign with the new key: set the secret RECIPE_CACHE_SIGNING_KEY to the"
            );
            outln!("     contents of {}", secret_path(&out, &name).display());
            outln!(
                "  3. once nothing needs the old entries (or the old key may be compromised: at once),"
            );
            outln!(
                "     trust only the new key; entries signed by `{}` are then rebuilt:",
                old.name
            );
            outln!("       RECIPE_CACHE_TRUST=\"{n}\"");
            Ok(Exit::Ok)
        }
    }
}

fn secret_path(out: &Path, name: &str) -> PathBuf {
    out.join(format!("{name}.secret"))
}

/// Makes key `name` and writes `OUT/NAME.secret` (mode 0600) and `OUT/NAME.pub`; an existing
/// file is never overwritten. Both files are created before either is written, and the first
/// is removed again when the second cannot be made: a `NAME.pub` already there leaves no
/// orphan `NAME.secret` behind.
fn generate(name: &str, out: &Path) -> Result<SecretKey, crate::error::Error> {
    let key = SecretKey::generate(name).map_err(RemoteError::from)?;
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UsageError::Output { path, source }
    };
    let create = |path: &Path, mode: u32| {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .map_err(failed(path))
    };
    std::fs::create_dir_all(out).map_err(failed(out))?;
    let (secret, public) = (secret_path(out, name), out.join(format!("{name}.pub")));
    let secret_file = create(&secret, 0o600)?;
    let public_file = create(&public, 0o644).inspect_err(|_| {
        let _ = std::fs::remove_file(&secret);
    })?;
    let written = [
        (secret_file, &secret, key.to_text()),
        (public_file, &public, key.public().to_text()),
    ]
    .into_iter()
    .try_for_each(|(mut f, path, text)| {
        f.write_all(format!("{text}\n").as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(failed(path))
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&secret);
        let _ = std::fs::remove_file(&public);
        return Err(e.into());
    }
    outln!("wrote {}", secret.display());
    outln!("wrote {}", public.display());
    Ok(key)
}
