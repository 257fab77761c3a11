//! The TOML shape of a recipe file, mirrored by serde structs: no logic, no validation beyond
//! types and unknown keys. [`super::model`] turns it into validated domain types.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RecipeFile {
    pub name: Spanned<String>,
    pub version: Spanned<String>,
    pub license: String,
    pub homepage: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `"vendor:product"` of the CPE 2.3 name (NVD's), for the SBOM.
    #[serde(default)]
    pub cpe: Option<Spanned<String>>,
    /// The arches the recipe supports (all when absent).
    #[serde(default)]
    pub arches: Option<Spanned<Vec<Spanned<String>>>>,
    /// Library recipes this one builds against, for the same arch.
    #[serde(default)]
    pub depends: Vec<Spanned<String>>,
    /// Recipes whose programs this build runs on the build machine (code generators).
    #[serde(default)]
    pub host_depends: Vec<Spanned<String>>,
    pub source: Spanned<SourceTable>,
    pub build: Spanned<OptionsTable>,
    /// Absent for a library: it installs headers, archives and pkg-config files for dependents.
    #[serde(default)]
    pub app: Option<Spanned<AppTable>>,
    #[serde(default)]
    pub smoke: Option<Spanned<SmokeTable>>,
    #[serde(default)]
    pub image: Option<Spanned<ImageTable>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourceTable {
    /// A local directory, relative to the recipe file.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// The sha256 of the archive bytes every origin below must deliver.
    #[serde(default)]
    pub sha256: Option<Spanned<String>>,
    #[serde(default)]
    pub urls: Vec<Spanned<String>>,
    #[serde(default)]
    pub debian: Option<Spanned<DebianTable>>,
    #[serde(default)]
    pub go_module: Option<Spanned<GoModuleTable>>,
    #[serde(default)]
    pub pypi: Option<Spanned<PypiTable>>,
    /// `[source.crate]`: a crate from crates.io by name and version.
    #[serde(default, rename = "crate")]
    pub krate: Option<Spanned<CrateTable>>,
    /// Leading path components to drop when extracting (default 1 for url/debian, all of the
    /// module prefix for go-module).
    #[serde(default)]
    pub strip: Option<Spanned<usize>>,
    /// What the sha256 pins, in words (e.g. "Debian's orig tarball, identical to upstream").
    #[serde(default)]
    pub note: Option<String>,
    /// Patch files beside the recipe, applied in order to the unpacked source: a path, or
    /// `{ file = PATH, arches = [...] }` for a patch only some arches get.
    #[serde(default)]
    pub patches: Vec<Spanned<PatchEntry>>,
}

/// One entry of `[source] patches`: a path (every arch), or a table naming the arches the patch
/// applies to. (A hand-written `Deserialize`: an untagged enum would lose the spans.)
#[derive(Debug)]
pub enum PatchEntry {
    File(String),
    ForArches {
        file: Spanned<String>,
        arches: Spanned<Vec<Spanned<String>>>,
    },
}

impl<'de> Deserialize<'de> for PatchEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PatchEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a patch path or a table `{ file = \"NAME/fix.patch\", arches = [\"armv7\"] }`",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PatchEntry::File(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                let (mut file, mut arches) = (None, None);
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "file" if file.is_none() => file = Some(m.next_value()?),
                        "arches" if arches.is_none() => arches = Some(m.next_value()?),
                        "file" => return Err(A::Error::duplicate_field("file")),
                        "arches" => return Err(A::Error::duplicate_field("arches")),
                        other => return Err(A::Error::unknown_field(other, &["file", "arches"])),
                    }
                }
                Ok(PatchEntry::ForArches {
                    file: file.ok_or_else(|| A::Error::missing_field("file"))?,
                    arches: arches.ok_or_else(|| A::Error::missing_field("arches"))?,
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DebianTable {
    pub package: String,
    pub version: String,
    /// The upstream tarball (`*.orig.tar.*`) whose bytes `[source] sha256` pins, or a native
    /// package's one tarball.
    pub file: String,
    /// The Debian release the version belongs to, by codename (`bookworm`, `trixie`): the
    /// SBOM's `distro` qualifier.
    #[serde(default)]
    pub release: Option<Spanned<String>>,
    /// Debian's part of the source package: `debian.tar.*` (format 3.0 (quilt)) or `.diff.gz`
    /// (format 1.0), whose patch series is applied before the build.
    #[serde(default)]
    pub debian_file: Option<Spanned<String>>,
    #[serde(default)]
    pub debian_sha256: Option<Spanned<String>>,
    /// Why the source is built without Debian's part (instead of `debian-file`): its scanners'
    /// identity is then the upstream one, not Debian's.
    #[serde(default)]
    pub unpatched: Option<Spanned<String>>,
    /// Patches of the series not applied: patch name -> why.
    #[serde(default)]
    pub leave_out: BTreeMap<String, Spanned<String>>,
}

/// `[source.pypi]`: a file PyPI distributes (a wheel), fetched with `pip download`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PypiTable {
    pub package: String,
    pub version: String,
    pub file: String,
}

/// `[source.crate]`: a crate's `.crate` file as crates.io serves it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CrateTable {
    pub name: Spanned<String>,
    pub version: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GoModuleTable {
    pub module: String,
    pub version: String,
}

/// `[build]` and its per-arch tables `[build.arch.NAME]`, which share the option keys; `system`
/// and `arch` belong to `[build]` only (checked in validation, with their spans). Which options
/// apply depends on the build system. (No `serde(flatten)`: it would lose the spans.) Strings
/// that may hold `${NAME}` keep their own spans, so an unknown name points at its string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OptionsTable {
    #[serde(default)]
    pub system: Option<Spanned<String>>,
    #[serde(default)]
    pub arch: Option<Spanned<BTreeMap<Spanned<String>, OptionsTable>>>,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub cflags: Vec<Spanned<String>>,
    #[serde(default)]
    pub ldflags: Vec<Spanned<String>>,
    #[serde(default)]
    pub subdir: Option<Spanned<String>>,
    #[serde(default)]
    pub configure_args: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub make_args: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub install_args: Option<Spanned<Vec<Spanned<String>>>>,
    /// make's goals for the build step (default: the Makefile's default goal).
    #[serde(default)]
    pub make_targets: Option<Spanned<Vec<Spanned<String>>>>,
    /// make's goals for the install step (default `["install"]`).
    #[serde(default)]
    pub install_targets: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub cmake_args: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub meson_args: Option<Spanned<Vec<Spanned<String>>>>,
    /// Go packages to build: a path (`"./cmd/app"`), or `{ path = "./cmd/app", name = "app" }`
    /// to name the binary.
    #[serde(default)]
    pub packages: Option<Spanned<Vec<Spanned<GoPackageEntry>>>>,
    #[serde(default)]
    pub tags: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub go_ldflags: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub cgo: Option<Spanned<bool>>,
    #[serde(default)]
    pub script: Option<Spanned<Vec<Spanned<String>>>>,
    /// cargo: the binaries to build and install (default: every binary of the package).
    #[serde(default)]
    pub bins: Option<Spanned<Vec<Spanned<String>>>>,
    /// cargo: features to turn on.
    #[serde(default)]
    pub features: Option<Spanned<Vec<Spanned<String>>>>,
    /// cargo: build without the package's default features.
    #[serde(default)]
    pub no_default_features: Option<Spanned<bool>>,
    /// autotools: `autoreconf --force --install` before configure, as Debian's `dh_autoreconf`
    /// does, so a patched `configure.ac` or `Makefile.am` takes effect.
    #[serde(default)]
    pub autoreconf: Option<Spanned<bool>>,
    /// The configure step runs the target programs it links, under qemu-user in a cross build
    /// (`RECIPE_RUN_TARGET_PROGRAMS`), and `uname -m` answers the target's machine.
    #[serde(default)]
    pub run_target_programs: Option<Spanned<bool>>,
    /// `"speed"` (the default), `"size"` or `"smallest"`.
    #[serde(default)]
    pub optimize: Option<Spanned<String>>,
    /// Link-time optimisation of the package's own code.
    #[serde(default)]
    pub lto: Option<Spanned<bool>>,
}

/// One entry of `[build] packages`: a package path, or a table that also names the binary.
/// (A hand-written `Deserialize`: an untagged enum would lose the spans of the table's values.)
#[derive(Debug)]
pub enum GoPackageEntry {
    Path(String),
    Named {
        path: Spanned<String>,
        name: Option<Spanned<String>>,
    },
}

impl<'de> Deserialize<'de> for GoPackageEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GoPackageEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a package path or a table `{ path = \"./cmd/app\", name = \"app\" }`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(GoPackageEntry::Path(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                let (mut path, mut name) = (None, None);
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "path" if path.is_none() => path = Some(m.next_value()?),
                        "name" if name.is_none() => name = Some(m.next_value()?),
                        "path" => return Err(A::Error::duplicate_field("path")),
                        "name" => return Err(A::Error::duplicate_field("name")),
                        other => return Err(A::Error::unknown_field(other, &["path", "name"])),
                    }
                }
                let path = path.ok_or_else(|| A::Error::missing_field("path"))?;
                Ok(GoPackageEntry::Named { path, name })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppTable {
    pub files: Spanned<Vec<Spanned<String>>>,
    /// Needs the static build knowingly gives up, each with its reason: `dlopen`, `shell`.
    #[serde(default)]
    pub accept: BTreeMap<String, Spanned<String>>,
    /// `"upx"`: pack the app's executables (checked and smoke-tested as packed).
    #[serde(default)]
    pub compress: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SmokeTable {
    pub command: Spanned<Vec<String>>,
    /// The `--version` form: text the command's output must contain.
    #[serde(default)]
    pub expect: Option<Spanned<String>>,
    #[serde(default)]
    pub timeout: Option<Spanned<u64>>,
    /// The service form: `"tcp"` or `"udp"`, the protocol of `{port}` on 127.0.0.1.
    #[serde(default)]
    pub listen: Option<Spanned<String>>,
    #[serde(default)]
    pub stop_grace: Option<Spanned<u64>>,
    /// The `--version` form: `"http"`, a server of the smoke files on `{port}` for a client app.
    #[serde(default)]
    pub serve: Option<Spanned<String>>,
    /// Files beside the recipe copied (with `{port}` filled in) into the app's scratch folder.
    #[serde(default)]
    pub files: Vec<Spanned<String>>,
    #[serde(default)]
    pub request: Vec<Spanned<RequestTable>>,
    /// Variables the app needs in its smoke test (over the image's `env`).
    #[serde(default)]
    pub env: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `[[smoke.request]]`: exactly one of `tcp`, `http`, `dns`, `run`, `output`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RequestTable {
    #[serde(default)]
    pub tcp: Option<Spanned<String>>,
    #[serde(default)]
    pub http: Option<Spanned<HttpTable>>,
    #[serde(default)]
    pub dns: Option<Spanned<DnsTable>>,
    #[serde(default)]
    pub run: Option<Spanned<Vec<String>>>,
    /// A regular expression the app's output must match; its named groups are captured.
    #[serde(default)]
    pub output: Option<Spanned<String>>,
    /// Text the answer must contain (a `tcp` request's with byte escapes).
    #[serde(default)]
    pub expect: Option<Spanned<String>>,
    /// A `run` request: the exit status its client must end with.
    #[serde(default)]
    pub status: Option<Spanned<i64>>,
    /// Send it again until it passes (within the smoke test's timeout).
    #[serde(default)]
    pub wait: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HttpTable {
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    pub path: Spanned<String>,
    #[serde(default)]
    pub status: Option<Spanned<i64>>,
    #[serde(default)]
    pub body: Option<String>,
    /// A request body sent as `application/x-www-form-urlencoded` (a login form).
    #[serde(default)]
    pub form: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DnsTable {
    pub name: Spanned<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<Spanned<String>>,
    pub address: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageTable {
    #[serde(default)]
    pub entrypoint: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub cmd: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub workdir: Option<Spanned<String>>,
    #[serde(default)]
    pub user: Option<Spanned<String>>,
    #[serde(default)]
    pub user_name: Option<Spanned<String>>,
    #[serde(default)]
    pub ports: Vec<Spanned<toml::Value>>,
    #[serde(default)]
    pub volumes: Vec<Spanned<String>>,
    #[serde(default)]
    pub writable: Vec<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Recipes whose files the image also holds, e.g. `["ca-certificates", "tzdata"]`.
    #[serde(default)]
    pub include: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub health: Option<Spanned<HealthTable>>,
    /// `[[image.file]]`: files beside the recipe shipped in the image.
    #[serde(default, rename = "file")]
    pub files: Vec<Spanned<FileTable>>,
}

/// `[[image.file]]`: a file beside the recipe, copied into the image.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileTable {
    /// Relative to the recipe's folder, e.g. `"nginx/nginx.conf"`.
    pub from: Spanned<String>,
    /// Its path in the image, e.g. `"/etc/nginx/nginx.conf"`.
    pub to: Spanned<String>,
    /// Octal permission bits as a string, e.g. `"0644"` (the default).
    #[serde(default)]
    pub mode: Option<Spanned<String>>,
    /// `"root"` (the default) or `"user"` (the image's user).
    #[serde(default)]
    pub owner: Option<Spanned<String>>,
}

/// `[image.health]`: a probe the image's Healthcheck runs, without a shell.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HealthTable {
    /// HTTP path to GET on 127.0.0.1 (a 2xx or 3xx answer is healthy).
    #[serde(default)]
    pub http: Option<Spanned<String>>,
    /// Only connect to the port.
    #[serde(default)]
    pub tcp: Option<bool>,
    pub port: Spanned<toml::Value>,
    #[serde(default)]
    pub interval: Option<Spanned<u64>>,
    #[serde(default)]
    pub timeout: Option<Spanned<u64>>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub start_period: Option<Spanned<u64>>,
}
