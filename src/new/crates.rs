//! A first recipe from a crates.io crate: the version and the `.crate`'s sha256 (`cksum`) from
//! crates.io's sparse index, the `.crate` fetched into the source store by that sha256 (so the
//! bytes written into the recipe are the index's), then its `Cargo.toml` (name, licence,
//! binaries, features) and `Cargo.lock` (required; crates.io crates only, as the build
//! vendors them; OpenSSL or native-tls in it flagged) read from the unpacked tree.
//!
//! The index is `RECIPE_CRATES_INDEX` (default `https://index.crates.io`), one file per crate
//! at cargo's sparse-index path (`3/s/syn`, `se/rd/serde`), each line a JSON object with at
//! least `vers`, `cksum` and `yanked`. The `.crate` comes from
//! [`crate::source::crates::crate_url`] (`RECIPE_CRATES_URL`), as the build fetches it.

use std::path::Path;

mod package;

use super::{Draft, NewError, io_err};
use crate::source::{Fetch, Limits, Origin, SourceError, Store};
pub(crate) use package::{
    Bin, LockFacts, Manifest, default_features, lock_facts, read_manifest, spdx_license,
};

/// The variable naming the sparse index's base URL.
pub const ENV_CRATES_INDEX: &str = "RECIPE_CRATES_INDEX";
const DEFAULT_INDEX: &str = "https://index.crates.io";
/// The largest index file read (crates.io's biggest are a few MiB).
const MAX_INDEX: u64 = 32 << 20;

/// `recipe new --crate NAME[@VERSION] [RECIPE]`.
#[derive(Debug, Clone)]
pub struct CrateRequest {
    pub krate: String,
    /// None: the newest version that is neither a pre-release nor yanked.
    pub version: Option<String>,
    /// The recipe's name (default: the crate's).
    pub name: Option<String>,
}

impl CrateRequest {
    /// From `NAME` or `NAME@VERSION`.
    pub fn parse(spec: &str, name: Option<String>) -> Result<CrateRequest, NewError> {
        let bad = |why| NewError::BadInput {
            what: "crate",
            value: spec.to_string(),
            why,
        };
        let (krate, version) = match spec.split_once('@') {
            Some((k, v)) => (k, Some(v)),
            None => (spec, None),
        };
        if crate::recipe::rules::crate_name(krate).is_err() {
            return Err(bad(
                "expected NAME or NAME@VERSION with a crates.io name (letters, digits, `_` and \
                 `-`, starting with a letter), e.g. `miniserve@0.35.0`",
            ));
        }
        if let Some(v) = version
            && semver::Version::parse(v).is_err()
        {
            return Err(bad(
                "the version must be a crate's exact version, e.g. `2.44.1`",
            ));
        }
        if let Some(n) = &name
            && crate::recipe::rules::recipe_name(n).is_err()
        {
            return Err(NewError::BadInput {
                what: "recipe name",
                value: n.clone(),
                why: "a recipe name is lowercase letters and digits, separated by single `.`, \
                      `_` or `__`, or by dashes, e.g. `static-web-server`",
            });
        }
        Ok(CrateRequest {
            krate: krate.to_string(),
            version: version.map(str::to_string),
            name,
        })
    }

    /// The recipe's name: the one given, or the crate's made a recipe name.
    pub fn recipe_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| super::recipe_name(&self.krate))
    }
}

/// A crate's file in a sparse index (cargo's layout): `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`,
/// lowercase.
pub(crate) fn index_path(krate: &str) -> String {
    let n = krate.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

fn index_url(krate: &str) -> String {
    let base = std::env::var(ENV_CRATES_INDEX)
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_INDEX.to_string());
    format!("{}/{}", base.trim_end_matches('/'), index_path(krate))
}

/// One version of a crate, as its index line gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub(crate) struct Release {
    /// The crate's name as published (the index file is found case-insensitively).
    pub name: String,
    pub vers: String,
    /// The `.crate`'s sha256, lowercase hex.
    pub cksum: String,
    #[serde(default)]
    pub yanked: bool,
}

/// The releases of an index file, one JSON object a line (blank lines skipped).
pub(crate) fn parse_index(text: &str, url: &str) -> Result<Vec<Release>, NewError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| NewError::BadIndex {
            url: url.to_string(),
            line: i + 1,
            reason,
        };
        let r: Release = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        if r.cksum.len() != 64 || !r.cksum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("`cksum` is not a sha256".into()));
        }
        if semver::Version::parse(&r.vers).is_err() {
            return Err(bad(format!(
                "`vers` {} is not a version",
                crate::text::escape(&r.vers)
            )));
        }
        out.push(Release {
            cksum: r.cksum.to_ascii_lowercase(),
            ..r
        });
    }
    Ok(out)
}

/// The release asked for: that exact version (yanked or not: the caller says so), or the
/// newest that is neither a pre-release nor yanked.
pub(crate) fn choose<'a>(
    releases: &'a [Release],
    krate: &str,
    version: Option<&str>,
) -> Result<&'a Release, NewError> {
    let parsed = |r: &Release| semver::Version::parse(&r.vers).ok();
    let found = match version {
        Some(v) => releases.iter().find(|r| r.vers == v),
        None => releases
            .iter()
            .filter(|r| !r.yanked)
            .filter_map(|r| Some((parsed(r)?, r)))
            .filter(|(v, _)| v.pre.is_empty())
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, r)| r),
    };
    found.ok_or_else(|| {
        let mut known: Vec<&Release> = releases.iter().filter(|r| !r.yanked).collect();
        known.sort_by_key(|r| std::cmp::Reverse(parsed(r)));
        NewError::UnknownCrate {
            krate: krate.to_string(),
            version: version.map(str::to_string),
            known: known.iter().take(5).map(|r| r.vers.clone()).collect(),
        }
    })
}

/// Reads `krate`'s index file (capped at [`MAX_INDEX`] or the download cap, whichever is
/// smaller) through the URL origin's GET.
fn read_index(krate: &str, cache: &Path) -> Result<Vec<Release>, NewError> {
    let url = index_url(krate);
    let mut limits = Limits::from_env()?;
    limits.max_download = limits.max_download.min(MAX_INDEX);
    let tmp = super::scratch(cache)?;
    let (file, _) = match crate::source::download_to_temp(&url, &tmp, &limits) {
        Ok(x) => x,
        Err(SourceError::HttpStatus { status: 404, .. }) => {
            return Err(NewError::UnknownCrate {
                krate: krate.to_string(),
                version: None,
                known: Vec::new(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let text = std::fs::read_to_string(&file).map_err(io_err(format!("reading {url}")))?;
    parse_index(&text, &url)
}

/// A first recipe for the crate `req`: the release from the index, the `.crate` checked
/// against its `cksum`, and what its `Cargo.toml` and `Cargo.lock` say.
pub fn from_crate(
    req: &CrateRequest,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Draft, NewError> {
    progress(&format!("reading the index of {}", req.krate));
    let releases = read_index(&req.krate, cache)?;
    let release = choose(&releases, &req.krate, req.version.as_deref())?.clone();
    let label = format!("{}-{}", release.name, release.vers);
    let store = Store::new(crate::cache::Layout::new(cache).sources());
    let fetch = Fetch {
        sha256: release.cksum.clone(),
        origins: vec![Origin::Url(crate::source::crates::crate_url(
            &release.name,
            &release.vers,
        ))],
    };
    let archive = store.fetch(&fetch, progress).map_err(|e| match e {
        SourceError::AllOriginsFailed { ref errors, .. }
            if errors
                .iter()
                .any(|e| matches!(e, SourceError::Mismatch { .. })) =>
        {
            NewError::CrateChecksum {
                krate: label.clone(),
                source: e,
            }
        }
        e => e.into(),
    })?;
    let (_work, tree) = super::unpack(cache, &archive, 1)?;
    let read = |file: &str| -> Result<Option<String>, NewError> {
        let path = tree.join(file);
        if !path.is_file() {
            return Ok(None);
        }
        std::fs::read_to_string(&path)
            .map(Some)
            .map_err(io_err(format!("reading {label}/{file}")))
    };
    let toml_text = read("Cargo.toml")?.ok_or_else(|| NewError::BadCrate {
        krate: label.clone(),
        reason: "it holds no `Cargo.toml`".into(),
    })?;
    let manifest = read_manifest(&toml_text, &tree, &format!("{label}/Cargo.toml"))?;
    if manifest.name != release.name || manifest.version != release.vers {
        return Err(NewError::BadCrate {
            krate: label,
            reason: format!(
                "its `Cargo.toml` names {} {}",
                crate::text::escape(&manifest.name),
                crate::text::escape(&manifest.version)
            ),
        });
    }
    // A library crate is refused as such, before its (usually absent) lock file.
    if manifest.bins.is_empty() {
        return Err(NewError::NoBinary(label));
    }
    let lock_text = read("Cargo.lock")?.ok_or_else(|| NewError::NoCargoLock(label.clone()))?;
    let lock = lock_facts(&lock_text, Path::new(&format!("{label}/Cargo.lock")))?;
    let mut d = crate_draft(req, &release, &manifest, &lock);
    binaries(&mut d, &manifest, &label)?;
    features_and_tls(&mut d, &manifest, &lock);
    smoke_and_image(&mut d);
    Ok(d)
}

/// The draft's name, version, licence, homepage, description and source pin.
fn crate_draft(
    req: &CrateRequest,
    release: &Release,
    manifest: &Manifest,
    lock: &LockFacts,
) -> Draft {
    let (name, vers) = (&release.name, &release.vers);
    let mut d = Draft {
        name: req.recipe_name(),
        version: vers.replace('+', "-"),
        homepage: manifest
            .homepage
            .clone()
            .or_else(|| manifest.repository.clone())
            .unwrap_or_else(|| format!("https://crates.io/crates/{name}")),
        description: manifest
            .description
            .clone()
            .unwrap_or_else(|| format!("{name} (Rust)")),
        sha256: release.cksum.clone(),
        note: format!("the .crate file crates.io serves for {name} {vers}"),
        source_comment: vec![format!(
            "sha256 of {name}-{vers}.crate as crates.io's index lists it (`cksum`); `recipe new` \
             checked the bytes it fetched against it."
        )],
        origin_table: "source.crate".into(),
        origin_lines: vec![
            ("name".into(), name.clone()),
            ("version".into(), vers.clone()),
        ],
        system: "cargo".into(),
        ..Draft::default()
    };
    d.guesses.push(format!(
        "source: {name}-{vers}.crate, sha256 {} (crates.io's index){}",
        release.cksum,
        if req.version.is_none() {
            ", the newest release that is neither a pre-release nor yanked"
        } else {
            ""
        }
    ));
    if release.yanked {
        d.checks.push(format!(
            "{name} {vers} is yanked on crates.io: its authors withdrew it; prefer another version"
        ));
    }
    d.guesses.push(format!(
        "build system: cargo (Cargo.lock pins {} crate{} from crates.io)",
        lock.crates,
        if lock.crates == 1 { "" } else { "s" }
    ));
    match (&manifest.license, &manifest.license_file) {
        (Some(l), _) => {
            d.license = spdx_license(l);
            d.license_comment =
                vec!["the licence is the package's `license` in Cargo.toml.".into()];
            d.guesses
                .push(format!("license {}, from Cargo.toml", d.license));
        }
        (None, file) => {
            d.license = "NOASSERTION".into();
            d.checks.push(format!(
                "license: Cargo.toml names no SPDX licence{}; set the SPDX expression \
                 (`NOASSERTION` now)",
                file.as_ref()
                    .map(|f| format!(" (only the file `{}`)", crate::text::escape(f)))
                    .unwrap_or_default()
            ));
        }
    }
    if manifest.description.is_none() {
        d.checks
            .push("description: one line saying what the app is".into());
    }
    d
}

/// The binaries cargo builds by default as app files (those needing a feature that is not on
/// by default are left out, and said so), with `bins` written out when there are several.
fn binaries(d: &mut Draft, manifest: &Manifest, label: &str) -> Result<(), NewError> {
    let on = default_features(&manifest.features);
    let (built, left): (Vec<&Bin>, Vec<&Bin>) = manifest
        .bins
        .iter()
        .partition(|b| b.needs.iter().all(|f| on.contains(f)));
    for b in &left {
        d.checks.push(format!(
            "binary `{}` needs the feature(s) {}, not on by default: left out; to ship it, add \
             them to `features` and it to `bins` and `[app] files`",
            b.name,
            b.needs.join(", ")
        ));
    }
    if built.is_empty() {
        return Err(NewError::NoBinary(label.to_string()));
    }
    // The binary named after the package first: the image's entrypoint.
    let mut names: Vec<String> = built.iter().map(|b| b.name.clone()).collect();
    names.sort_by_key(|n| (*n != manifest.name, n.clone()));
    d.files = names
        .iter()
        .map(|n| format!("/usr/local/bin/{n}"))
        .collect();
    d.guesses.push(format!(
        "binaries {} -> app files {}",
        names.join(", "),
        d.files.join(", ")
    ));
    if names.len() > 1 {
        d.build_comment.push(format!(
            "CHECK: the package has {} binaries; keep in `bins` (and `[app] files`) those the \
             image needs.",
            names.len()
        ));
        d.options.push(("bins".into(), names));
        d.checks
            .push("[build] bins: more than one binary; keep the ones the image needs".into());
    }
    Ok(())
}

/// The package's features (as a comment) and what an OpenSSL in the lock file asks of a
/// static build.
fn features_and_tls(d: &mut Draft, manifest: &Manifest, lock: &LockFacts) {
    let features: Vec<&String> = manifest
        .features
        .keys()
        .filter(|f| *f != "default")
        .collect();
    if !features.is_empty() {
        let on: Vec<String> = default_features(&manifest.features).into_iter().collect();
        d.build_comment.push(format!(
            "features of the package: {} (on by default: {}); `features = [...]` turns more \
             on, `no-default-features = true` turns the defaults off.",
            features
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if on.is_empty() {
                "none".to_string()
            } else {
                on.join(", ")
            }
        ));
    }
    if !lock.c_crates.is_empty() {
        d.guesses.push(format!(
            "crates that compile C when the build uses them (zig is their C compiler; some may \
             be for features or systems not built): {}",
            lock.c_crates.join(", ")
        ));
    }
    if lock.tls.is_empty() {
        return;
    }
    let helpful: Vec<&str> = features
        .iter()
        .map(|f| f.as_str())
        .filter(|f| f.contains("rustls") || f.contains("vendored") || f.contains("openssl"))
        .collect();
    let hint = if helpful.is_empty() {
        String::new()
    } else {
        format!(" (the package's features that may: {})", helpful.join(", "))
    };
    let tls = lock.tls.join(" and ");
    d.build_comment.push(format!(
        "CHECK: Cargo.lock has {tls}: openssl-sys links the system OpenSSL, which a static musl \
         build cannot; turn on a feature that builds it vendored (openssl's `vendored`) or one \
         that uses rustls instead{hint}."
    ));
    d.checks.push(format!(
        "[build] features: Cargo.lock has {tls}; a static build needs OpenSSL vendored \
         (openssl's `vendored` feature) or rustls instead{hint}"
    ));
}

/// An active `--version` smoke test (clap's `--version` prints `NAME VERSION`) and what the
/// image needs checked.
fn smoke_and_image(d: &mut Draft) {
    let program = d
        .files
        .first()
        .map(|f| f.rsplit('/').next().unwrap_or(f).to_string())
        .unwrap_or_default();
    d.smoke = Some((vec![program.clone(), "--version".into()], d.version.clone()));
    d.checks.push(format!(
        "[smoke]: a guess (`{program} --version` printing {}); confirm it, or make it a \
         service test",
        d.version
    ));
    d.image_checks("an app");
}

#[cfg(test)]
mod tests;
