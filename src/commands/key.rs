//! `recipe key generate|public|rotate`: the ed25519 keys that sign remote build-cache entries.

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
            println!("Use it:");
            println!("  writers (CI pushes to main, a maintainer's machine): the secret file, as");
            println!(
                "    --signing-key {} or the secret RECIPE_CACHE_SIGNING_KEY",
                secret_path(&out, &name).display()
            );
            println!("  readers (every runner, pull requests, users): trust the public key,");
            println!("    --trust {public}");
            println!("    or RECIPE_CACHE_TRUST=\"{public}\"");
            Ok(Exit::Ok)
        }
        Args::Public { secret } => {
            println!("{}", read_secret(&secret)?.public().to_text());
            Ok(Exit::Ok)
        }
        Args::Rotate { old, name, out } => {
            let old = read_secret(&old)?;
            if old.name == name {
                return Err(UsageError::SameKeyName { name }.into());
            }
            let new = generate(&name, &out)?;
            let (n, o) = (new.public().to_text(), old.public().to_text());
            println!("Rotate in three steps:");
            println!(
                "  1. readers trust both keys (entries signed by `{}` stay usable):",
                old.name
            );
            println!("       RECIPE_CACHE_TRUST=\"{n} {o}\"");
            println!(
                "  2. writers sign with the new key: set the secret RECIPE_CACHE_SIGNING_KEY to the"
            );
            println!("     contents of {}", secret_path(&out, &name).display());
            println!(
                "  3. once nothing needs the old entries (or the old key may be compromised: at once),"
            );
            println!(
                "     trust only the new key; entries signed by `{}` are then rebuilt:",
                old.name
            );
            println!("       RECIPE_CACHE_TRUST=\"{n}\"");
            Ok(Exit::Ok)
        }
    }
}

fn secret_path(out: &Path, name: &str) -> PathBuf {
    out.join(format!("{name}.secret"))
}

/// Makes key `name` and writes `OUT/NAME.secret` (mode 0600) and `OUT/NAME.pub`; an existing
/// file is never overwritten.
fn generate(name: &str, out: &Path) -> Result<SecretKey, crate::error::Error> {
    let key = SecretKey::generate(name).map_err(RemoteError::from)?;
    let write = |path: PathBuf, text: String, mode: u32| -> Result<(), crate::error::Error> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .map_err(|source| UsageError::Output {
                path: path.clone(),
                source,
            })?;
        f.write_all(format!("{text}\n").as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|source| UsageError::Output {
                path: path.clone(),
                source,
            })?;
        println!("wrote {}", path.display());
        Ok(())
    };
    std::fs::create_dir_all(out).map_err(|source| UsageError::Output {
        path: out.to_path_buf(),
        source,
    })?;
    write(secret_path(out, name), key.to_text(), 0o600)?;
    write(
        out.join(format!("{name}.pub")),
        key.public().to_text(),
        0o644,
    )?;
    Ok(key)
}

fn read_secret(path: &Path) -> Result<SecretKey, crate::error::Error> {
    let text = std::fs::read_to_string(path).map_err(|source| RemoteError::KeyFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(SecretKey::parse(&text).map_err(RemoteError::from)?)
}
