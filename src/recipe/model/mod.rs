//! Validated recipe types: what the rest of the pipeline works with. No serde here.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::arch::Arch;

mod build;
mod smoke;

pub use build::*;
pub use smoke::*;

#[derive(Debug, Clone)]
pub struct Recipe {
    pub name: String,
    pub version: String,
    pub license: String,
    pub homepage: String,
    pub description: Option<String>,
    /// `cpe = "vendor:product"`: what scanners match CVEs against (the SBOM's `cpe23Type`).
    pub cpe: Option<Cpe>,
    /// The recipe file this came from, and its bytes (hashed into build keys, shown in errors).
    pub file: PathBuf,
    pub text: String,
    /// `arches = [...]`: the arches the recipe supports, when only some; `--arch all` and
    /// `--all` skip the others, naming one explicitly is an error pointing here.
    pub arches: Option<Arches>,
    pub depends: Vec<Dep>,
    pub host_depends: Vec<Dep>,
    pub source: Source,
    /// `[source.debian]`: the Debian source package the archive comes from, whose patch series
    /// is applied before the recipe's own `patches`.
    pub debian: Option<DebianPackage>,
    /// `[source] patches`: applied in order to the source before the build steps.
    pub patches: Vec<Patch>,
    pub build: Build,
    /// Absolute paths inside the install tree (and so the image) that make up the app; empty
    /// for a library.
    pub app_files: Vec<String>,
    /// `[app] accept`: finding code (`dlopen`, `shell`) -> why the app does without it.
    pub accept: BTreeMap<String, String>,
    /// `[app] compress`: how the app's executables are packed after they are verified.
    pub compress: Option<Compress>,
    pub smoke: Option<Smoke>,
    pub image: Image,
}

/// An executable packer (`[app] compress`). The packed file is what the smoke test runs and
/// the image holds; the unpacked one is verified first and its Go build info kept for the SBOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compress {
    /// UPX with LZMA (`toolchains/upx.toml`).
    Upx,
}

impl Compress {
    pub const NAMES: &[&str] = &["upx"];

    pub fn parse(name: &str) -> Option<Compress> {
        match name {
            "upx" => Some(Compress::Upx),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compress::Upx => "upx",
        }
    }
}

/// The arches a recipe supports, with where the recipe lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arches {
    pub list: Vec<Arch>,
    pub span: std::ops::Range<usize>,
}

/// A dependency by name, with where the recipe names it (for errors about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    pub name: String,
    pub span: std::ops::Range<usize>,
}

/// A recipe's CPE 2.3 vendor and product (NVD's names), as the formatted string writes them:
/// lowercase, punctuation but `.`, `_` and `-` escaped with `\`. The version is the recipe's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpe {
    pub vendor: String,
    pub product: String,
    /// The bytes of the recipe text holding the `cpe = ...` line (with its line end).
    pub line: std::ops::Range<usize>,
}

impl Recipe {
    /// What build keys hash of the recipe: its meaning, not its text (the TOML as data, keys
    /// sorted, comments and layout gone: [`meaning`]), without `cpe`. The CPE names the
    /// package for scanners: it changes the SBOM and so the image (whose key hashes
    /// [`Recipe::meaning`] and the SBOM), never the binaries, so changing it rebuilds nothing.
    pub fn build_text(&self) -> String {
        meaning(&self.text, &["cpe"])
    }

    /// What the key of the build for `arch` hashes of the recipe: [`Recipe::build_text`] with
    /// `[source] patches` as that arch gets them, the paths of the patches that apply to it in
    /// order. A patch for other arches changes nothing of this arch's key, and `"a.patch"` is
    /// the same build as `{ file = "a.patch", arches = [...] }` for an arch listed.
    pub fn build_text_for(&self, arch: Arch) -> String {
        meaning_with(&self.text, |t| {
            t.remove("cpe");
            patches_for(t, arch);
        })
    }

    /// The recipe's meaning, every key included: what the image key hashes.
    pub fn meaning(&self) -> String {
        meaning(&self.text, &[])
    }

    /// The recipe supports `arch`: it lists no `arches`, or lists it.
    pub fn supports(&self, arch: Arch) -> bool {
        self.arches.as_ref().is_none_or(|a| a.list.contains(&arch))
    }

    /// A library installs headers and archives for dependents; it has no app and no image.
    pub fn is_library(&self) -> bool {
        self.app_files.is_empty()
    }

    /// An error pointing at `span` of this recipe's file.
    pub fn error_at(
        &self,
        span: std::ops::Range<usize>,
        message: String,
        help: Option<String>,
    ) -> super::RecipeError {
        super::RecipeError::new(&self.file, &self.text, span, message, help)
    }
}

#[derive(Debug, Clone)]
pub enum Source {
    /// A local directory, copied as it is.
    Path(PathBuf),
    /// An archive pinned by sha256, with the places it may come from.
    Archive {
        sha256: String,
        origins: Vec<Origin>,
        strip: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Url(String),
    Debian {
        package: String,
        version: String,
        file: String,
    },
    GoModule {
        module: String,
        version: String,
    },
    Pypi {
        package: String,
        version: String,
        file: String,
    },
    /// A crate's `.crate` file from crates.io (`RECIPE_CRATES_URL`).
    Crate {
        name: String,
        version: String,
    },
}

impl DebianPackage {
    /// Whether the build is Debian's source package (its patches applied, or a native one),
    /// so that scanners may know it by Debian's name and version.
    pub fn is_debians(&self) -> bool {
        self.unpatched.is_none()
    }
}

/// A Debian source package: the release its version belongs to, Debian's part of it (pinned)
/// and the patches of its series a recipe leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebianPackage {
    pub package: String,
    pub version: String,
    /// A codename of [`crate::debian::RELEASES`].
    pub release: String,
    /// `debian.tar.*` or `.diff.gz`; `None` for a native package (no `.orig.` tarball) or one
    /// built `unpatched`.
    pub changes: Option<PinnedFile>,
    /// `unpatched = "why"`: Debian's part is not applied (say, not served where the build can
    /// fetch it); nothing Debian fixed is claimed.
    pub unpatched: Option<String>,
    /// Patch name -> why it is not applied, with where the reason is written.
    pub leave_out: BTreeMap<String, (String, std::ops::Range<usize>)>,
}

/// A file of a source package and the sha256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedFile {
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    pub user: User,
    /// "6379/tcp"
    pub ports: Vec<String>,
    pub volumes: Vec<String>,
    pub writable: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Recipes whose files the image also holds: a library's whole tree (e.g. the CA bundle),
    /// an app's verified files (e.g. the health probe).
    pub include: Vec<Dep>,
    pub health: Option<Health>,
    /// `[[image.file]]`: files beside the recipe, in every platform's layer.
    pub files: Vec<ImageFile>,
}

/// A patch file beside the recipe (`[source] patches`), applied with `patch -p1` to the
/// unpacked source; its bytes are part of the build key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// Relative to the recipe's folder, normal, as written.
    pub path: String,
    /// Where it is written in the recipe file (errors reading it point there).
    pub span: std::ops::Range<usize>,
    /// `{ file = ..., arches = [...] }`: the only arches it applies to (within the recipe's
    /// own `arches`); `None`: every arch.
    pub arches: Option<Arches>,
    /// The bytes, read by [`crate::recipe::load_file`]; `None` after [`crate::recipe::parse`].
    pub contents: Option<FileContents>,
}

impl Patch {
    /// Whether the build for `arch` applies this patch.
    pub fn applies_to(&self, arch: Arch) -> bool {
        self.arches.as_ref().is_none_or(|a| a.list.contains(&arch))
    }
}

/// A file beside the recipe that the image holds (e.g. a default config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    /// Relative to the recipe's folder, normal (no `.`, `..`, `//`), as written.
    pub from: String,
    /// Its normal absolute path in the image.
    pub to: String,
    /// Permission bits: never setuid, setgid, sticky or world-writable.
    pub mode: u32,
    pub owner: Owner,
    /// Where `from` is written in the recipe file (errors reading it point there).
    pub span: std::ops::Range<usize>,
    /// The bytes, read by [`crate::recipe::load_file`]; `None` after [`crate::recipe::parse`]
    /// alone, which reads nothing.
    pub contents: Option<FileContents>,
}

/// Who owns an image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Root,
    /// The image's user (its uid and gid): a file the app rewrites, inside a writable folder.
    User,
}

/// The bytes of an image file and their sha256 (hex): shared, printed as the digest only.
#[derive(Clone, PartialEq, Eq)]
pub struct FileContents {
    pub bytes: std::sync::Arc<[u8]>,
    pub sha256: String,
}

impl FileContents {
    pub fn new(bytes: Vec<u8>) -> FileContents {
        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        FileContents {
            bytes: bytes.into(),
            sha256,
        }
    }
}

impl std::fmt::Debug for FileContents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes, sha256 {}", self.bytes.len(), self.sha256)
    }
}

/// The largest file a recipe ships in its image: configs are a few KiB.
pub const MAX_IMAGE_FILE: u64 = 1 << 20;

/// The findings an app may accept in `[app] accept`: features a static build gives up.
pub const ACCEPTABLE: &[&str] = &["dlopen", "shell"];
/// The image label prefix that carries an accepted need to `recipe check`:
/// `org.recipe.accept.dlopen = "why"`.
pub const ACCEPT_LABEL: &str = "org.recipe.accept.";

/// The recipe that builds the static health probe an image with `[image.health]` carries.
pub const HEALTH_PROBE_RECIPE: &str = "healthcheck";
/// Where the probe is in the image.
pub const HEALTH_PROBE_PATH: &str = "/usr/local/bin/healthcheck";
/// The recipe included by default: Mozilla's CA bundle.
pub const CA_RECIPE: &str = "ca-certificates";

/// A health probe on 127.0.0.1, run by the image's Healthcheck in exec form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub probe: Probe,
    pub port: u16,
    pub interval_secs: u64,
    pub timeout_secs: u64,
    pub retries: u32,
    pub start_period_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// GET this path; healthy on 2xx and 3xx.
    Http(String),
    /// Connect only.
    Tcp,
}

impl Health {
    /// The Healthcheck's exec-form command, without the `CMD` word.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = vec![HEALTH_PROBE_PATH.to_string()];
        match &self.probe {
            Probe::Http(path) => argv.extend(["http".into(), self.port.to_string(), path.clone()]),
            Probe::Tcp => argv.extend(["tcp".into(), self.port.to_string()]),
        }
        argv
    }
}

/// `text` (a recipe, already validated) as canonical data: JSON-like, tables with their keys
/// sorted, without the top-level keys `leave_out`. Comments, blank lines, quoting style, key
/// order and inline-or-not tables change nothing; any value does. (Text that is not TOML, which
/// a loaded recipe never is, stands for itself.)
pub fn meaning(text: &str, leave_out: &[&str]) -> String {
    meaning_with(text, |table| {
        for key in leave_out {
            table.remove(*key);
        }
    })
}

/// [`meaning`] of `text` after `edit` changed its data.
fn meaning_with(text: &str, edit: impl FnOnce(&mut toml::Table)) -> String {
    let Ok(mut table) = text.parse::<toml::Table>() else {
        return text.to_string();
    };
    edit(&mut table);
    let mut out = String::new();
    canonical(&toml::Value::Table(table), &mut out);
    out
}

/// Rewrites `[source] patches` of a recipe's data as `arch` gets them: each entry that applies
/// to it as its path, the others gone (a table whose `arches` does not list `arch`).
fn patches_for(recipe: &mut toml::Table, arch: Arch) {
    let Some(toml::Value::Array(patches)) = recipe
        .get_mut("source")
        .and_then(|s| s.as_table_mut())
        .and_then(|s| s.get_mut("patches"))
    else {
        return;
    };
    let name = arch.name();
    let applied = patches.drain(..).filter_map(|p| match p {
        toml::Value::Table(t) => {
            let listed = t
                .get("arches")
                .and_then(|a| a.as_array())
                .is_some_and(|a| a.iter().any(|a| a.as_str() == Some(name)));
            listed.then(|| t.get("file").cloned()).flatten()
        }
        file => Some(file),
    });
    *patches = applied.collect();
}

fn canonical(v: &toml::Value, out: &mut String) {
    use std::fmt::Write;
    match v {
        toml::Value::String(s) => out.push_str(&serde_json::to_string(s).expect("a string")),
        toml::Value::Integer(i) => write!(out, "{i}").expect("a string"),
        toml::Value::Float(f) => write!(out, "{f:?}").expect("a string"),
        toml::Value::Boolean(b) => write!(out, "{b}").expect("a string"),
        toml::Value::Datetime(d) => write!(out, "d{d}").expect("a string"),
        toml::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        toml::Value::Table(t) => {
            let mut keys: Vec<&String> = t.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("a string"));
                out.push(':');
                canonical(&t[k], out);
            }
            out.push('}');
        }
    }
}
