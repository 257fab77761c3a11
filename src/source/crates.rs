//! Rust packages' crates, offline: the crates a package's `Cargo.lock` pins, each fetched from
//! crates.io into the content-addressed store by the sha256 the lock file gives it, and
//! unpacked into a folder cargo takes as a directory source (`source.crates-io.replace-with`),
//! so that the build step runs `cargo --offline --frozen` with no network.
//!
//! **Invariant:** every vendored crate's bytes are the lock file's checksum (the store keeps
//! only bytes whose sha256 it was asked for), and each crate's `.cargo-checksum.json` names that
//! checksum, which cargo checks against the lock file again. A crate the lock file does not pin
//! by checksum (from git, or another registry) is refused before anything is fetched.
//!
//! The origin is `RECIPE_CRATES_URL` (default `https://static.crates.io/crates`), where a crate
//! is at `NAME/NAME-VERSION.crate`: crates.io's own download layout, which mirrors and tests
//! serve too.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Fetch, Origin, SourceError, Store, io_err};

/// Where crates are fetched from, by default crates.io's static download host.
pub const ENV_CRATES_URL: &str = "RECIPE_CRATES_URL";
const DEFAULT_CRATES_URL: &str = "https://static.crates.io/crates";

/// The `source` of a crates.io crate in a lock file (the git index's name; cargo writes it for
/// the sparse protocol too).
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// Where `name`'s `version` is downloaded: `$RECIPE_CRATES_URL/NAME/NAME-VERSION.crate`.
pub fn crate_url(name: &str, version: &str) -> String {
    let base = std::env::var(ENV_CRATES_URL)
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_CRATES_URL.to_string());
    format!(
        "{}/{name}/{name}-{version}.crate",
        base.trim_end_matches('/')
    )
}

/// One crates.io crate a lock file pins.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LockedCrate {
    pub name: String,
    pub version: String,
    /// The sha256 of its `.crate`, lowercase hex.
    pub checksum: String,
}

impl LockedCrate {
    /// The folder it is unpacked to in the vendor folder.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

#[derive(serde::Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
    /// Version 1 lock files keep checksums here: `"checksum NAME VERSION (SOURCE)" = "HEX"`.
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(serde::Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
}

/// The crates.io crates of a `Cargo.lock` (`lock`, its text; `file` names it in errors),
/// sorted. Path packages (no `source`: the workspace's own) are not fetched. A crate from git
/// or another registry, or one without a checksum, is refused.
pub fn locked_crates(lock: &str, file: &Path) -> Result<Vec<LockedCrate>, SourceError> {
    let bad = |reason: String| SourceError::CargoLock {
        file: file.to_path_buf(),
        reason,
    };
    let parsed: Lock = toml::from_str(lock).map_err(|e| bad(e.message().to_string()))?;
    let v1: BTreeMap<(&str, &str), &str> = parsed
        .metadata
        .iter()
        .filter_map(|(k, v)| {
            let mut words = k.strip_prefix("checksum ")?.split(' ');
            Some(((words.next()?, words.next()?), v.as_str()?))
        })
        .collect();
    let mut out = Vec::new();
    for p in &parsed.package {
        let Some(source) = &p.source else { continue };
        crate::recipe::rules::crate_name(&p.name).map_err(|_| {
            bad(format!(
                "invalid crate name `{}`",
                crate::text::escape(&p.name)
            ))
        })?;
        if source != CRATES_IO && !source.starts_with("sparse+https://index.crates.io") {
            return Err(bad(format!(
                "{} {} comes from `{}`, which cannot be pinned by checksum; only crates.io \
                 crates are vendored (a git dependency can be added to the source with a patch \
                 as a path dependency)",
                p.name,
                crate::text::escape(&p.version),
                crate::text::escape(source)
            )));
        }
        let checksum = p
            .checksum
            .as_deref()
            .or_else(|| v1.get(&(p.name.as_str(), p.version.as_str())).copied())
            .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                bad(format!(
                    "{} {} has no sha256 `checksum` of 64 hex digits",
                    p.name,
                    crate::text::escape(&p.version)
                ))
            })?;
        crate::recipe::rules::crate_version(&p.version).map_err(|_| {
            bad(format!(
                "invalid version `{}` of {}",
                crate::text::escape(&p.version),
                p.name
            ))
        })?;
        out.push(LockedCrate {
            name: p.name.clone(),
            version: p.version.clone(),
            checksum: checksum.to_ascii_lowercase(),
        });
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `(name, version) -> checksum` of `crates`, for the SBOM.
pub fn checksums(crates: &[LockedCrate]) -> BTreeMap<(String, String), String> {
    crates
        .iter()
        .map(|c| ((c.name.clone(), c.version.clone()), c.checksum.clone()))
        .collect()
}

/// Fetches every crate of `crates` into `store` (checked against its lock file checksum) and
/// unpacks it into `dir/NAME-VERSION/` with the `.cargo-checksum.json` a directory source
/// needs. `progress` hears one line per crate fetched (not for those the store holds).
pub fn vendor(
    store: &Store,
    crates: &[LockedCrate],
    dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(), SourceError> {
    std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
    for c in crates {
        let fetch = Fetch {
            sha256: c.checksum.clone(),
            origins: vec![Origin::Url(crate_url(&c.name, &c.version))],
        };
        let archive = store.fetch(&fetch, progress)?;
        let to = dir.join(c.dir_name());
        super::extract(&archive, &to, 1)?;
        let json = format!("{{\"files\":{{}},\"package\":\"{}\"}}", c.checksum);
        let file = to.join(".cargo-checksum.json");
        std::fs::write(&file, json).map_err(io_err(format!("writing {}", file.display())))?;
    }
    Ok(())
}

/// cargo's configuration that takes crates.io's crates from the vendor folder `dir` (as the
/// build step sees it) and never asks the network.
pub fn cargo_config(dir: &str) -> String {
    format!(
        "[source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = {}\n\n\
         [net]\noffline = true\n",
        toml_string(dir)
    )
}

/// `s` as a TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["itoa"]

[[package]]
name = "itoa"
version = "1.0.15"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "4a5f13b858c8d314ee3e8f639011f7ccefe71f97f96e50151fb991f267928e2c"
"#;

    #[test]
    fn a_lock_file_gives_its_crates_io_crates_and_skips_path_packages() {
        let crates = locked_crates(LOCK, Path::new("Cargo.lock")).unwrap();
        assert_eq!(
            crates,
            vec![LockedCrate {
                name: "itoa".into(),
                version: "1.0.15".into(),
                checksum: "4a5f13b858c8d314ee3e8f639011f7ccefe71f97f96e50151fb991f267928e2c".into()
            }]
        );
    }

    #[test]
    fn versions_with_build_metadata_are_crates_io_versions() {
        let lock = LOCK.replace("1.0.15", "0.18.8+1.9.7");
        let crates = locked_crates(&lock, Path::new("Cargo.lock")).unwrap();
        assert_eq!(crates[0].dir_name(), "itoa-0.18.8+1.9.7");
        let bad = LOCK.replace("1.0.15", "1.0/../x");
        let e = locked_crates(&bad, Path::new("Cargo.lock")).unwrap_err();
        assert!(e.to_string().contains("of itoa"), "{e}");
    }

    /// Version 1 lock files (cargo before 1.41) keep the checksums in `[metadata]`.
    #[test]
    fn a_version_1_lock_file_gives_its_checksums() {
        let sum = "4a5f13b858c8d314ee3e8f639011f7ccefe71f97f96e50151fb991f267928e2c";
        let v1 = format!(
            "[[package]]\nname = \"itoa\"\nversion = \"1.0.15\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
             [metadata]\n\"checksum itoa 1.0.15 \
             (registry+https://github.com/rust-lang/crates.io-index)\" = \"{}\"\n",
            sum.to_ascii_uppercase()
        );
        let crates = locked_crates(&v1, Path::new("Cargo.lock")).unwrap();
        assert_eq!(crates.len(), 1);
        assert_eq!(crates[0].checksum, sum);
    }

    #[test]
    fn git_crates_and_crates_without_a_checksum_are_refused() {
        let git = LOCK.replace(
            "registry+https://github.com/rust-lang/crates.io-index",
            "git+https://github.com/x/itoa?rev=1#abc",
        );
        let e = locked_crates(&git, Path::new("Cargo.lock")).unwrap_err();
        assert!(
            e.to_string().contains("cannot be pinned by checksum"),
            "{e}"
        );
        let unpinned: String = LOCK
            .lines()
            .filter(|l| !l.starts_with("checksum"))
            .map(|l| format!("{l}\n"))
            .collect();
        let e = locked_crates(&unpinned, Path::new("Cargo.lock")).unwrap_err();
        assert!(e.to_string().contains("no sha256 `checksum`"), "{e}");
        let e = locked_crates("[[package]\n", Path::new("x/Cargo.lock")).unwrap_err();
        assert!(e.to_string().contains("x/Cargo.lock"), "{e}");
    }

    #[test]
    fn the_cargo_config_replaces_crates_io_with_the_vendor_folder() {
        let c = cargo_config("/build/vendor");
        let v: toml::Table = toml::from_str(&c).unwrap();
        assert_eq!(
            v["source"]["vendored"]["directory"].as_str(),
            Some("/build/vendor")
        );
        assert_eq!(
            v["source"]["crates-io"]["replace-with"].as_str(),
            Some("vendored")
        );
        assert_eq!(v["net"]["offline"].as_bool(), Some(true));
    }
}
