//! Debian's signed archive indexes, read without apt, for discovery (`recipe new --debian`,
//! `recipe outdated`, `recipe update`): a suite's `dists/SUITE/InRelease` verified against the
//! archive keys ([`Keyring`]), its `Valid-Until` and suite name checked, the sha256 it signs
//! for `main/source/Sources.xz` checked on the fetched bytes, and the `Sources` paragraphs
//! parsed ([`SuiteIndex`]). The verified files are kept under `<cache>/debian-indexes/` for
//! [`FRESH`], and verified again each time they are read.
//!
//! Settings: the mirror (`RECIPE_DEBIAN_MIRROR`, read by [`crate::source::debian_mirror`]), the
//! suites (`RECIPE_DEBIAN_SUITES` or an option, default
//! [`crate::debian::suites::DEFAULT_SUITES`]) and the keyring (`RECIPE_DEBIAN_KEYRING`, default
//! the built-in keys).

mod get;
mod openpgp;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use openpgp::Keyring;

use crate::debian::index::{Release, SourceEntry, parse_sources};
use crate::debian::mirror::Mirror;
use crate::debian::suites::{self, Suite};
use crate::debian::version;
use crate::source::SourceError;

/// The variable listing the suites to read (comma- or space-separated).
pub const ENV_SUITES: &str = "RECIPE_DEBIAN_SUITES";
/// The variable naming a key file or folder that replaces the built-in archive keys.
pub const ENV_KEYRING: &str = "RECIPE_DEBIAN_KEYRING";
/// How long a verified index is reused before it is fetched again.
pub const FRESH: Duration = Duration::from_secs(3600);

/// The caps of one suite's files: `InRelease` (bookworm's is 150 KB), `Sources.xz` (bookworm
/// main's is about 10 MB) and its decompressed text (about 50 MB).
const MAX_INRELEASE: u64 = 8 << 20;
const MAX_SOURCES_XZ: u64 = 128 << 20;
const MAX_SOURCES: u64 = 1 << 30;
/// The index file read from each suite.
const SOURCES_XZ: &str = "main/source/Sources.xz";

/// What can go wrong while reading the archive's indexes.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ArchiveError {
    #[error("invalid `{var}` value `{}`: {why}", crate::text::escape(.value))]
    BadSetting {
        var: &'static str,
        value: String,
        why: String,
    },

    #[error(transparent)]
    Source(#[from] SourceError),

    #[error("GET {url}: {}", crate::text::escape(.detail))]
    Fetch { url: String, detail: String },

    #[error("{url}: refused, the signature does not verify against {keyring}: {}", crate::text::escape(.reason))]
    #[diagnostic(help(
        "no trusted key signed the index the mirror served (it was changed, or the mirror is not \
         Debian's); a private mirror's own keys are trusted through `RECIPE_DEBIAN_KEYRING`"
    ))]
    BadSignature {
        url: String,
        keyring: String,
        reason: String,
    },

    #[error("{url}: refused, its `Valid-Until` has passed ({valid_until})")]
    #[diagnostic(help("the mirror serves a stale index: try another (`RECIPE_DEBIAN_MIRROR`)"))]
    Expired { url: String, valid_until: String },

    #[error("{url}: refused, it is the index of `{}`, not of `{suite}`", crate::text::escape(.got))]
    WrongSuite {
        url: String,
        suite: String,
        got: String,
    },

    #[error("{url}: {}", crate::text::escape(.reason))]
    BadIndex { url: String, reason: String },

    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// Where and what to read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mirror: Mirror,
    pub suites: Vec<Suite>,
    pub keyring: Keyring,
    /// `<cache>/debian-indexes`.
    pub dir: PathBuf,
}

impl Settings {
    /// From the environment: the mirror, `suites` (an option's value) or `RECIPE_DEBIAN_SUITES`
    /// or the defaults, `RECIPE_DEBIAN_KEYRING` or the built-in keys; indexes kept under
    /// `cache`. The only reader of those two variables.
    pub fn from_env(cache: &Path, suites: Option<&str>) -> Result<Settings, ArchiveError> {
        let env_suites = std::env::var(ENV_SUITES)
            .ok()
            .filter(|s| !s.trim().is_empty());
        let (var, list) = match (suites, &env_suites) {
            (Some(s), _) => ("--suites", Some(s.to_string())),
            (None, Some(s)) => (ENV_SUITES, Some(s.clone())),
            (None, None) => (ENV_SUITES, None),
        };
        let suites = match list {
            Some(l) => suites::parse_list(&l).map_err(|bad| ArchiveError::BadSetting {
                var,
                value: bad,
                why: "expected suite names such as `bookworm,bookworm-security`".into(),
            })?,
            None => suites::defaults(),
        };
        let keyring = match std::env::var_os(ENV_KEYRING).filter(|v| !v.is_empty()) {
            Some(p) => Keyring::load(Path::new(&p)).map_err(|why| ArchiveError::BadSetting {
                var: ENV_KEYRING,
                value: p.to_string_lossy().into_owned(),
                why,
            })?,
            None => Keyring::builtin(),
        };
        Ok(Settings {
            mirror: crate::source::debian_mirror()?,
            suites,
            keyring,
            dir: crate::cache::Layout::new(cache).debian_indexes(),
        })
    }
}

/// One suite's verified `Sources`, by package.
#[derive(Debug)]
pub struct SuiteIndex {
    pub suite: Suite,
    pub release: Release,
    packages: HashMap<String, Vec<SourceEntry>>,
}

impl SuiteIndex {
    /// Every version of `package` the suite lists (usually one).
    pub fn versions(&self, package: &str) -> &[SourceEntry] {
        self.packages.get(package).map_or(&[], Vec::as_slice)
    }

    /// The newest version of `package` in the suite.
    pub fn newest(&self, package: &str) -> Option<&SourceEntry> {
        self.versions(package)
            .iter()
            .max_by(|a, b| version::compare(&a.version, &b.version))
    }

    /// `package` at exactly `version`.
    pub fn find(&self, package: &str, version: &str) -> Option<&SourceEntry> {
        self.versions(package).iter().find(|e| e.version == version)
    }
}

/// The configured suites' indexes, each read once (from the cache when fresh).
pub struct Indexes {
    pub settings: Settings,
    loaded: HashMap<String, SuiteIndex>,
}

impl Indexes {
    pub fn new(settings: Settings) -> Indexes {
        Indexes {
            settings,
            loaded: HashMap::new(),
        }
    }

    /// The index of `suite`, read and verified once.
    pub fn get(
        &mut self,
        suite: &Suite,
        progress: &mut dyn FnMut(&str),
    ) -> Result<&SuiteIndex, ArchiveError> {
        if !self.loaded.contains_key(&suite.name) {
            let index = load(&self.settings, suite, progress)?;
            self.loaded.insert(suite.name.clone(), index);
        }
        Ok(&self.loaded[&suite.name])
    }

    /// Every configured suite's index, in the configured order.
    pub fn all(
        &mut self,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Vec<&SuiteIndex>, ArchiveError> {
        for s in self.settings.suites.clone() {
            self.get(&s, progress)?;
        }
        Ok(self
            .settings
            .suites
            .iter()
            .map(|s| &self.loaded[&s.name])
            .collect())
    }
}

/// The cache folder of a suite of this mirror.
fn cache_dir(settings: &Settings, suite: &Suite) -> PathBuf {
    use sha2::Digest;
    let mirror = hex::encode(sha2::Sha256::digest(settings.mirror.base().as_bytes()));
    settings.dir.join(&mirror[..16]).join(&suite.name)
}

/// Reads one suite: the cached files when fresh and still verifying, else the mirror's.
fn load(
    settings: &Settings,
    suite: &Suite,
    progress: &mut dyn FnMut(&str),
) -> Result<SuiteIndex, ArchiveError> {
    let dir = cache_dir(settings, suite);
    let url = settings.mirror.dists_url(suite, "InRelease");
    let xz_url = settings.mirror.dists_url(suite, SOURCES_XZ);
    if let Some((inrelease, xz)) = cached(&dir)
        && let Ok(release) = check_release(settings, suite, &url, &inrelease)
        && check_listed(&release, &xz_url, &xz).is_ok()
    {
        return index(suite.clone(), release, &xz_url, &xz);
    }
    progress(&format!("reading Debian's {} index", suite.name));
    let inrelease = get::get(&url, MAX_INRELEASE).map_err(|detail| ArchiveError::Fetch {
        url: url.clone(),
        detail,
    })?;
    let release = check_release(settings, suite, &url, &inrelease)?;
    let xz = get::get(&xz_url, MAX_SOURCES_XZ).map_err(|detail| ArchiveError::Fetch {
        url: xz_url.clone(),
        detail,
    })?;
    check_listed(&release, &xz_url, &xz)?;
    store(&dir, &inrelease, &xz)?;
    index(suite.clone(), release, &xz_url, &xz)
}

/// The cached `InRelease` and `Sources.xz` of a suite, when the `InRelease` was stored less
/// than [`FRESH`] ago.
fn cached(dir: &Path) -> Option<(Vec<u8>, Vec<u8>)> {
    let ir = dir.join("InRelease");
    let age = SystemTime::now()
        .duration_since(std::fs::metadata(&ir).ok()?.modified().ok()?)
        .ok()?;
    if age > FRESH {
        return None;
    }
    let read = |p: &Path, cap: u64| -> Option<Vec<u8>> {
        let mut b = Vec::new();
        std::fs::File::open(p)
            .ok()?
            .take(cap + 1)
            .read_to_end(&mut b)
            .ok()?;
        (b.len() as u64 <= cap).then_some(b)
    };
    Some((
        read(&ir, MAX_INRELEASE)?,
        read(&dir.join("Sources.xz"), MAX_SOURCES_XZ)?,
    ))
}

/// Keeps the verified files: `Sources.xz` first, so a fresh `InRelease` always has its index.
fn store(dir: &Path, inrelease: &[u8], xz: &[u8]) -> Result<(), ArchiveError> {
    std::fs::create_dir_all(dir).map_err(|source| ArchiveError::Io {
        context: format!("creating {}", dir.display()),
        source,
    })?;
    for (name, bytes) in [("Sources.xz", xz), ("InRelease", inrelease)] {
        let p = dir.join(name);
        crate::publish::write_file(&p, bytes).map_err(|source| ArchiveError::Io {
            context: format!("writing {}", p.display()),
            source,
        })?;
    }
    Ok(())
}

/// Verifies an `InRelease` and reads its `Release`: signed by a trusted key, for `suite`, not
/// past its `Valid-Until`, listing `main/source/Sources.xz`.
fn check_release(
    settings: &Settings,
    suite: &Suite,
    url: &str,
    inrelease: &[u8],
) -> Result<Release, ArchiveError> {
    let bad = |reason: String| ArchiveError::BadIndex {
        url: url.into(),
        reason,
    };
    let text = std::str::from_utf8(inrelease).map_err(|_| bad("not UTF-8 text".into()))?;
    let signed = settings
        .keyring
        .verify(text)
        .map_err(|reason| ArchiveError::BadSignature {
            url: url.into(),
            keyring: settings.keyring.origin.clone(),
            reason,
        })?;
    let release = Release::parse(&signed).map_err(bad)?;
    let names = [release.codename.as_deref(), release.suite.as_deref()];
    if !names.contains(&Some(suite.name.as_str())) {
        return Err(ArchiveError::WrongSuite {
            url: url.into(),
            suite: suite.name.clone(),
            got: release.codename.clone().unwrap_or_default(),
        });
    }
    if let Some(until) = release.valid_until {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if now > until {
            return Err(ArchiveError::Expired {
                url: url.into(),
                valid_until: signed
                    .lines()
                    .find_map(|l| l.strip_prefix("Valid-Until:"))
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            });
        }
    }
    if release.file(SOURCES_XZ).is_none() {
        return Err(bad(format!("the signed index lists no `{SOURCES_XZ}`")));
    }
    Ok(release)
}

/// Checks `xz` against the size and sha256 the signed `Release` lists for it.
fn check_listed(release: &Release, url: &str, xz: &[u8]) -> Result<(), ArchiveError> {
    use sha2::Digest;
    let listed = release
        .file(SOURCES_XZ)
        .ok_or_else(|| ArchiveError::BadIndex {
            url: url.into(),
            reason: "not listed".into(),
        })?;
    let got = hex::encode(sha2::Sha256::digest(xz));
    if got != listed.sha256 || xz.len() as u64 != listed.size {
        return Err(ArchiveError::BadIndex {
            url: url.into(),
            reason: format!(
                "refused, its sha256 is {got} ({} bytes), the signed index lists {} ({} bytes)",
                xz.len(),
                listed.sha256,
                listed.size
            ),
        });
    }
    Ok(())
}

/// Decompresses (within [`MAX_SOURCES`]) and parses a checked `Sources.xz`.
fn index(suite: Suite, release: Release, url: &str, xz: &[u8]) -> Result<SuiteIndex, ArchiveError> {
    let mut text = Vec::new();
    liblzma::read::XzDecoder::new(xz)
        .take(MAX_SOURCES + 1)
        .read_to_end(&mut text)
        .map_err(|e| ArchiveError::BadIndex {
            url: url.into(),
            reason: format!("cannot decompress it: {e}"),
        })?;
    if text.len() as u64 > MAX_SOURCES {
        return Err(ArchiveError::BadIndex {
            url: url.into(),
            reason: format!(
                "it decompresses to more than {}",
                crate::size::Bytes(MAX_SOURCES)
            ),
        });
    }
    let text = String::from_utf8_lossy(&text);
    let mut packages: HashMap<String, Vec<SourceEntry>> = HashMap::new();
    for e in parse_sources(&text) {
        packages.entry(e.package.clone()).or_default().push(e);
    }
    Ok(SuiteIndex {
        suite,
        release,
        packages,
    })
}
