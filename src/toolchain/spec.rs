//! `toolchains/*.toml`: which zig and which Go, pinned. The files are compiled in, and a
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

#[derive(Debug, Clone)]
pub struct Specs {
    pub zig: PipToolSpec,
    pub meson: PipToolSpec,
    pub go: GoSpec,
}

const ZIG_TOML: &str = include_str!("../../toolchains/zig.toml");
const GO_TOML: &str = include_str!("../../toolchains/go.toml");
const MESON_TOML: &str = include_str!("../../toolchains/meson.toml");

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
        Ok(Specs { zig, meson, go })
    }
}
