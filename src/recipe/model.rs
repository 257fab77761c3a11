//! Validated recipe types: what the rest of the pipeline works with. No serde here.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::arch::Arch;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Make,
    Autotools,
    Cmake,
    Meson,
    Go,
    Cargo,
    Script,
}

impl System {
    pub const NAMES: &'static str = "make, autotools, cmake, meson, go, cargo, script";

    pub fn parse(s: &str) -> Option<System> {
        Some(match s {
            "make" => System::Make,
            "autotools" => System::Autotools,
            "cmake" => System::Cmake,
            "meson" => System::Meson,
            "go" => System::Go,
            "cargo" => System::Cargo,
            "script" => System::Script,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            System::Make => "make",
            System::Autotools => "autotools",
            System::Cmake => "cmake",
            System::Meson => "meson",
            System::Go => "go",
            System::Cargo => "cargo",
            System::Script => "script",
        }
    }
}

/// A Go package to build, and the name of its binary when the recipe gives one (otherwise
/// go's own choice: the last element of the import path, or the one before a `/vN` suffix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoPackage {
    pub path: String,
    pub name: Option<String>,
}

/// Options of one build, common ones merged with the arch's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub env: BTreeMap<String, String>,
    pub cflags: Vec<String>,
    pub ldflags: Vec<String>,
    pub subdir: Option<String>,
    pub configure_args: Vec<String>,
    pub make_args: Vec<String>,
    /// None: the build system's default install arguments.
    pub install_args: Option<Vec<String>>,
    /// make's goals for the build step; None: the Makefile's default goal.
    pub make_targets: Option<Vec<String>>,
    /// make's goals for the install step; None: `install`.
    pub install_targets: Option<Vec<String>>,
    pub cmake_args: Vec<String>,
    pub meson_args: Vec<String>,
    pub packages: Vec<GoPackage>,
    pub tags: Vec<String>,
    pub go_ldflags: Vec<String>,
    pub cgo: bool,
    pub script: Vec<String>,
    /// cargo: the binaries to build (empty: every binary of the package).
    pub bins: Vec<String>,
    /// cargo: features to turn on.
    pub features: Vec<String>,
    /// cargo: `--no-default-features`.
    pub no_default_features: bool,
    /// `run-target-programs`: the configure step (a script: where it sets
    /// `RECIPE_RUN_TARGET_PROGRAMS`) runs the target programs it links, under the arch's
    /// qemu-user in a cross build, and `uname -m` answers the target's machine there.
    pub run_target_programs: bool,
    /// `optimize`: None is the default, speed.
    pub optimize: Option<Optimize>,
    /// `lto`: None is the default, off.
    pub lto: Option<bool>,
}

/// What the compiler optimises for (`[build] optimize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimize {
    /// `-O2` (cmake's Release, meson's release): the default.
    Speed,
    /// `-Os` with a section per function and per object, so that the linker drops what is not
    /// used (cmake's MinSizeRel, meson's minsize, cargo's opt-level `s`); zig also builds libc++
    /// for size when the link line says `-Os`.
    Size,
}

impl Optimize {
    pub const NAMES: &'static str = "speed, size";

    pub fn name(self) -> &'static str {
        match self {
            Optimize::Speed => "speed",
            Optimize::Size => "size",
        }
    }

    pub fn parse(s: &str) -> Option<Optimize> {
        match s {
            "speed" => Some(Optimize::Speed),
            "size" => Some(Optimize::Size),
            _ => None,
        }
    }
}

impl Options {
    /// Whether `optimize = "size"` is in force.
    pub fn for_size(&self) -> bool {
        self.optimize == Some(Optimize::Size)
    }

    /// Whether `lto = true` is in force.
    pub fn lto(&self) -> bool {
        self.lto == Some(true)
    }

    /// Adds `other` on top: lists and env extend, single values replace.
    pub fn merged(&self, other: &Options) -> Options {
        let mut o = self.clone();
        o.env.extend(other.env.clone());
        o.cflags.extend(other.cflags.iter().cloned());
        o.ldflags.extend(other.ldflags.iter().cloned());
        if other.subdir.is_some() {
            o.subdir = other.subdir.clone();
        }
        o.configure_args
            .extend(other.configure_args.iter().cloned());
        o.make_args.extend(other.make_args.iter().cloned());
        if let Some(a) = &other.install_args {
            o.install_args = Some(a.clone());
        }
        if let Some(t) = &other.make_targets {
            o.make_targets = Some(t.clone());
        }
        if let Some(t) = &other.install_targets {
            o.install_targets = Some(t.clone());
        }
        o.cmake_args.extend(other.cmake_args.iter().cloned());
        o.meson_args.extend(other.meson_args.iter().cloned());
        o.packages.extend(other.packages.iter().cloned());
        o.tags.extend(other.tags.iter().cloned());
        o.go_ldflags.extend(other.go_ldflags.iter().cloned());
        o.cgo |= other.cgo;
        o.script.extend(other.script.iter().cloned());
        o.bins.extend(other.bins.iter().cloned());
        o.features.extend(other.features.iter().cloned());
        o.no_default_features |= other.no_default_features;
        o.run_target_programs |= other.run_target_programs;
        if other.optimize.is_some() {
            o.optimize = other.optimize;
        }
        if other.lto.is_some() {
            o.lto = other.lto;
        }
        o
    }
}

#[derive(Debug, Clone)]
pub struct Build {
    pub system: System,
    pub common: Options,
    pub per_arch: BTreeMap<Arch, Options>,
}

impl Build {
    pub fn options(&self, arch: Arch) -> Options {
        match self.per_arch.get(&arch) {
            Some(extra) => self.common.merged(extra),
            None => self.common.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Smoke {
    /// argv; the first element is an app file (absolute path in the image, or a file name
    /// among the app files). In the service form, `{port}` in an argument is the chosen port.
    pub command: Vec<String>,
    /// The `--version` form: text the output must contain (empty in the service form).
    pub expect: String,
    /// The `--version` form: seconds before the command is killed. The service form: seconds
    /// to wait for the port, and for each request.
    pub timeout_secs: u64,
    /// Paths relative to the recipe's folder, written (with `{port}` filled in) to the same
    /// relative paths in the app's working folder; with `serve`, also what the server serves.
    pub files: Vec<SmokeFile>,
    /// The `--version` form: a server on 127.0.0.1 `{port}` for a client app to talk to.
    pub serve: Option<Serve>,
    /// The service form: the app keeps running and answers requests.
    pub service: Option<Service>,
    /// Variables the app needs in its smoke test, over the image's `env`.
    pub env: BTreeMap<String, String>,
}

impl Smoke {
    /// The smoke files as (relative path, bytes as read beside the recipe); `{port}` is filled
    /// in where they are written (`smoke::service::write_files`).
    pub fn file_bytes(&self) -> Vec<(String, Vec<u8>)> {
        self.files
            .iter()
            .map(|f| (f.path.clone(), f.contents.clone().unwrap_or_default()))
            .collect()
    }
}

/// A server the smoke test runs for a client app (curl, a downloader) while its command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// HTTP/1.1 on `{port}`: `GET /PATH` answers the smoke file PATH (with `{port}` filled in).
    Http,
}

/// A service smoke test: start the app, wait for `{port}`, send requests, stop it with SIGTERM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub listen: Listen,
    /// Seconds the app has to exit after SIGTERM.
    pub stop_grace_secs: u64,
    pub requests: Vec<SmokeRequest>,
}

/// A file beside the recipe for a service smoke test, with where the recipe names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeFile {
    pub path: String,
    pub span: std::ops::Range<usize>,
    /// The file's bytes, read by `recipe::load_file` (no symlink on the way, a regular file,
    /// capped); `None` for a recipe parsed from text only.
    pub contents: Option<Vec<u8>>,
}

/// The protocol the app's port is probed with before the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Tcp,
    Udp,
}

/// One step of a service smoke test, and whether to send it again until it passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeRequest {
    pub request: Request,
    /// `wait = true`: sent again until it passes, within the smoke test's `timeout` (a server
    /// that listens before it is ready: routes loaded after the port opens).
    pub wait: bool,
}

/// What a service smoke test sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Send these bytes over TCP (`{port}` filled in); the answer must contain `expect`. Both
    /// as written with their escapes read ([`crate::recipe::rules::unescape_bytes`]).
    Tcp { send: Vec<u8>, expect: Vec<u8> },
    /// An HTTP/1.1 request; the answer has `status` and its body contains `body`.
    Http {
        method: String,
        /// The request target: an origin-form path (`/x?y`), or a proxy's absolute form
        /// (`http://example.test/x`), whose authority is then the `Host`
        /// ([`http_target`]).
        path: String,
        status: u16,
        body: String,
        /// Sent as an `application/x-www-form-urlencoded` body (`{port}` filled in).
        form: Option<String>,
    },
    /// A DNS query over UDP; the answer holds `address`.
    Dns {
        name: String,
        kind: DnsKind,
        address: std::net::IpAddr,
    },
    /// Run an app file (under the same emulator); its output must contain `expect` (empty:
    /// anything) and, when `status` says one, it must exit with that status.
    Run {
        argv: Vec<String>,
        expect: String,
        status: Option<i32>,
    },
}

/// An HTTP request's target split for its request line and `Host` header: the authority of an
/// absolute-form target (`http://example.test:8080/x` -> `example.test:8080`) and the target as
/// sent (`/` added when the URL has no path), or None for an origin-form path.
pub fn http_target(path: &str) -> Option<(&str, String)> {
    let rest = path.strip_prefix("http://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let target = match tail.starts_with('/') {
        true => path.to_string(),
        false => format!("http://{authority}/{tail}"),
    };
    Some((authority, target))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsKind {
    A,
    Aaaa,
}

/// Default seconds a service smoke test's app has to exit after SIGTERM.
pub const DEFAULT_STOP_GRACE_SECS: u64 = 10;
/// The placeholder for the chosen port in a service smoke test's arguments, files and requests.
pub const PORT_PLACEHOLDER: &str = "{port}";

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
