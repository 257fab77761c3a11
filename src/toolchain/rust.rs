//! Rust from Debian's packages (`toolchains/rust.toml`): rustc, cargo, std's source and the
//! libraries they load, unpacked into `<cache>/toolchains/rust-<debian-version>/` on first use.
//!
//! Each pinned .deb is fetched from the Debian mirror (`RECIPE_DEBIAN_MIRROR`, the one Debian
//! sources come from) with the source fetcher's GET (its timeouts; the pinned size is the cap),
//! and checked against its pinned size and sha256 before anything of it is read. Its
//! `data.tar.*` ([`super::deb`]) is unpacked by the project's bounded extractor, and the
//! packages' trees are merged into one (two packages shipping one file is refused). rustc and
//! cargo have no RPATH: they run with `LD_LIBRARY_PATH` at the tree's `usr/lib/<multiarch>`,
//! and rustc finds its sysroot (`usr`) from its driver library's place there.
//!
//! **Invariant:** the install is put together in a temporary folder beside its place, checked
//! (`rustc -vV` reports the pinned release), and placed by one rename
//! ([`crate::publish::place_dir`]): a killed run leaves only a dot-named leftover, never a
//! folder a later run trusts; two first runs racing both succeed, with the one placed first.

use std::path::{Path, PathBuf};

use super::ToolchainError;
use super::spec::{Deb, RustSpec};
use crate::debian::mirror::Mirror;

/// Rust ready to run.
#[derive(Debug, Clone)]
pub struct Rust {
    pub rustc: PathBuf,
    pub cargo: PathBuf,
    /// What `rustc -vV` reports as `release:` (`1.96.0`).
    pub version: String,
    /// The environment rustc and cargo need (`LD_LIBRARY_PATH`).
    pub env: Vec<(String, String)>,
    /// The unpacked tree (rustc's sysroot is its `usr`).
    pub root: PathBuf,
}

impl Rust {
    /// The toolchain of the unpacked tree `root` (not checked).
    fn at(spec: &RustSpec, root: &Path) -> Rust {
        let usr = root.join("usr");
        let lib = usr.join("lib").join(spec.build_machine.info().multiarch);
        Rust {
            rustc: usr.join("bin").join("rustc"),
            cargo: usr.join("bin").join("cargo"),
            version: spec.version.clone(),
            env: vec![("LD_LIBRARY_PATH".into(), lib.display().to_string())],
            root: root.to_path_buf(),
        }
    }

    /// `release:` of `rustc -vV`, when rustc runs.
    fn release(&self) -> Option<String> {
        let mut cmd = crate::process::command(&self.rustc);
        cmd.envs(crate::process::host_env())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("-vV");
        let out = super::output_of(&mut cmd)?;
        out.lines()
            .find_map(|l| l.strip_prefix("release: "))
            .map(|v| v.trim().to_string())
    }

    /// Err: why the install at `root` is not the pinned rustc.
    fn check(&self) -> Result<(), String> {
        match self.release() {
            Some(v) if v == self.version => Ok(()),
            Some(v) => Err(format!(
                "`{}` reports release {v}, the toolchain file pins {}",
                crate::text::path(&self.rustc),
                self.version
            )),
            None => Err(format!(
                "`{} -vV` does not run or reports no release",
                crate::text::path(&self.rustc)
            )),
        }
    }
}

/// Finds or installs the pinned Rust: the cache's install when there is one, else the pinned
/// .debs fetched from `mirror`, checked and unpacked (see the module doc).
pub fn provision_rust(
    spec: &RustSpec,
    cache: &Path,
    mirror: &Mirror,
    progress: &mut dyn FnMut(&str),
) -> Result<Rust, ToolchainError> {
    let err = |reason: String| ToolchainError::Rust {
        version: spec.version.clone(),
        reason,
    };
    let machine = crate::arch::Arch::build_machine();
    if machine != spec.build_machine {
        return Err(err(format!(
            "the pinned packages run on an {} build machine, this one is {}",
            spec.build_machine, machine
        )));
    }
    let home = crate::cache::Layout::new(cache).toolchain("rust", &spec.debian_version);
    if home.is_dir() {
        let rust = Rust::at(spec, &home);
        rust.check().map_err(|why| {
            err(format!(
                "{why}; remove `{}` to install it again",
                crate::text::path(&home)
            ))
        })?;
        return Ok(rust);
    }
    install(spec, &home, mirror, progress).map_err(err)
}

/// Fetches, checks and unpacks every pinned .deb into a temporary folder beside `home`, checks
/// rustc runs there, and places the folder at `home` (or takes the one another run placed).
fn install(
    spec: &RustSpec,
    home: &Path,
    mirror: &Mirror,
    progress: &mut dyn FnMut(&str),
) -> Result<Rust, String> {
    let total: u64 = spec.debs.iter().map(|d| d.size).sum();
    progress(&format!(
        "installing rust {} from Debian's packages ({} from {})",
        spec.version,
        crate::size::Bytes(total),
        mirror.base()
    ));
    let tmp = crate::publish::temp_dir_beside(home)
        .map_err(|e| format!("cannot create a folder beside `{}`: {e}", home.display()))?;
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).map_err(|e| format!("cannot create `{}`: {e}", root.display()))?;
    let limits = crate::source::Limits::from_env().map_err(|e| e.to_string())?;
    for (i, deb) in spec.debs.iter().enumerate() {
        let part = tmp.path().join(format!("part-{i}"));
        unpack_deb(deb, mirror, tmp.path(), &part, &limits)?;
        merge(&part, &root)?;
        std::fs::remove_dir_all(&part)
            .map_err(|e| format!("cannot remove `{}`: {e}", part.display()))?;
    }
    Rust::at(spec, &root).check()?;
    // Placed, or another run placed its own first: either way the one at `home` is checked.
    crate::publish::place_dir(&root, home)
        .map_err(|e| format!("cannot move the install to `{}`: {e}", home.display()))?;
    let rust = Rust::at(spec, home);
    rust.check()?;
    Ok(rust)
}

/// The URL of `deb` on `mirror`: `BASE/debian-security/pool/updates/...`.
fn url(mirror: &Mirror, deb: &Deb) -> String {
    format!("{}/{}/{}", mirror.base(), deb.archive.folder(), deb.path)
}

/// Fetches `deb` into `tmp`, checks its size and sha256, and unpacks its data into `part`.
fn unpack_deb(
    deb: &Deb,
    mirror: &Mirror,
    tmp: &Path,
    part: &Path,
    limits: &crate::source::Limits,
) -> Result<(), String> {
    let url = url(mirror, deb);
    let capped = crate::source::Limits {
        max_download: deb.size,
        ..*limits
    };
    let (file, sha256) = crate::source::download_to_temp(&url, tmp, &capped)
        .map_err(|e| format!("`{}`: {e}", deb.package))?;
    let size = std::fs::metadata(&file)
        .map_err(|e| format!("cannot read the download of `{url}`: {e}"))?
        .len();
    if size != deb.size || sha256 != deb.sha256 {
        return Err(format!(
            "`{url}` served {size} bytes with sha256 {sha256}; the toolchain file pins {} \
             bytes with sha256 {}",
            deb.size, deb.sha256
        ));
    }
    let data = tmp.join(format!("{}.data", deb.package));
    crate::debian::deb::data_member(&file, &data).map_err(|e| format!("`{url}`: {e}"))?;
    drop(file);
    crate::source::extract_with(&data, part, 0, limits)
        .map_err(|e| format!("cannot unpack the data of `{url}`: {e}"))?;
    std::fs::remove_file(&data).map_err(|e| format!("cannot remove `{}`: {e}", data.display()))
}

/// Moves the tree `from` into `into`: a folder absent from `into` moves whole, one present in
/// both is merged; any other entry present in both is refused (two packages ship it).
fn merge(from: &Path, into: &Path) -> Result<(), String> {
    merge_at(from, into, into)
}

/// [`merge`] of the subfolder `into` of the tree `top` (named in messages from there).
fn merge_at(from: &Path, into: &Path, top: &Path) -> Result<(), String> {
    fn io(p: &Path) -> impl FnOnce(std::io::Error) -> String + '_ {
        move |e| format!("cannot read `{}`: {e}", p.display())
    }
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let (src, dst) = (entry.path(), into.join(entry.file_name()));
        let is_dir = entry.file_type().map_err(io(&src))?.is_dir();
        match std::fs::symlink_metadata(&dst) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                crate::publish::move_path(&src, &dst)
                    .map_err(|e| format!("cannot move `{}`: {e}", src.display()))?;
            }
            Ok(meta) if is_dir && meta.is_dir() => merge_at(&src, &dst, top)?,
            Ok(_) => {
                return Err(format!(
                    "two packages ship `{}`",
                    dst.strip_prefix(top).unwrap_or(&dst).display()
                ));
            }
            Err(e) => return Err(io(&dst)(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deb_is_fetched_from_its_archive_folder_on_the_mirror() {
        let deb = Deb {
            package: "rustc-web".into(),
            archive: crate::debian::suites::Archive::Security,
            path: "pool/updates/main/r/rustc-web/rustc-web_1.96.0+dfsg1-1~deb12u2_amd64.deb".into(),
            size: 1,
            sha256: "0".repeat(64),
        };
        let mirror = Mirror::parse("http://mirror.example/").unwrap();
        assert_eq!(
            url(&mirror, &deb),
            "http://mirror.example/debian-security/pool/updates/main/r/rustc-web/\
             rustc-web_1.96.0+dfsg1-1~deb12u2_amd64.deb"
        );
    }

    /// Trees merge folder by folder; a file two packages ship is refused.
    #[test]
    fn trees_merge_and_a_file_shipped_twice_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let (a, b, root) = (t.path().join("a"), t.path().join("b"), t.path().join("r"));
        for (dir, file) in [
            (&a, "usr/bin/rustc"),
            (&b, "usr/bin/cargo"),
            (&b, "usr/lib/x.so"),
        ] {
            let p = dir.join(file);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, file).unwrap();
        }
        std::fs::create_dir(&root).unwrap();
        merge(&a, &root).unwrap();
        merge(&b, &root).unwrap();
        let files = ["usr/bin/rustc", "usr/bin/cargo", "usr/lib/x.so"];
        for f in files {
            assert_eq!(std::fs::read_to_string(root.join(f)).unwrap(), f);
        }
        let c = t.path().join("c");
        std::fs::create_dir_all(c.join("usr/bin")).unwrap();
        std::fs::write(c.join("usr/bin/cargo"), "again").unwrap();
        assert_eq!(
            merge(&c, &root),
            Err("two packages ship `usr/bin/cargo`".into())
        );
    }

    #[test]
    fn the_rust_error_renders_its_version_and_reason() {
        let e = ToolchainError::Rust {
            version: "1.96.0".into(),
            reason: "`http://m/x.deb` served 3 bytes".into(),
        };
        assert_eq!(
            e.to_string(),
            "cannot provision rust 1.96.0: `http://m/x.deb` served 3 bytes"
        );
    }
}
