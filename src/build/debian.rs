//! Debian's part of a `[source.debian]` source, laid out as `dpkg-source -x` lays it out and
//! applied before the recipe's own patches: for format 3.0 (quilt) the `debian.tar.*` replaces
//! any upstream `debian/` and each patch of `debian/patches/series` (or `debian.series`) is
//! applied in order with `dpkg-source`'s `patch` options; for format 1.0 the `.diff.gz` is
//! applied, then the series it adds (as Debian's build applies it). Every patch is a step of
//! its own in `build.log` (`debian patch NAME`); a patch the recipe leaves out is logged with
//! its reason and not applied. What was applied, and the CVE ids each patch and the changelog
//! name, come back as the [`Applied`] record the cache entry keeps.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use super::{BuildError, Run, io};
use crate::debian::{Applied, Format, LeftOut, PatchRecord, cves, series};
use crate::plan::Job;
use crate::recipe::DebianPackage;
use crate::source;

/// The most bytes of a patch, a series or a changelog read for their CVE ids.
const MAX_TEXT: u64 = 16 << 20;

/// Applies Debian's part of `recipe`'s source to the unpacked tree `job.src`, when the recipe
/// has one; the record of what was done.
pub(super) fn apply(run: &mut Run, store: &source::Store) -> Result<Option<Applied>, BuildError> {
    let (recipe, job) = (run.recipe, run.job);
    let Some(deb) = &recipe.debian else {
        return Ok(None);
    };
    if let Some(why) = &deb.unpatched {
        run.log_line(&format!(
            "==> debian part of {}={}: not applied: {why}",
            deb.package, deb.version
        ));
        return Ok(None);
    }
    let mut applied = Applied {
        package: deb.package.clone(),
        version: deb.version.clone(),
        release: deb.release.clone(),
        format: Format::Native,
        patches: Vec::new(),
        left_out: Vec::new(),
        changelog_cves: Vec::new(),
        licences: None,
    };
    if let Some(changes) = &deb.changes {
        run.step("debian part");
        let err = |source| BuildError::Source {
            recipe: recipe.name.clone(),
            source,
        };
        let file = store
            .fetch(&part_fetch(deb, changes), &mut |m: &str| run.note(m))
            .map_err(err)?;
        applied.format = Format::of(&changes.file).expect("validated at load");
        match applied.format {
            Format::Quilt => unpack_debian_tar(&file, job).map_err(err)?,
            Format::Diff => run.diff(&file)?,
            Format::Native => {}
        }
        let (patches, left_out) = run.series(deb)?;
        applied.patches = patches;
        applied.left_out = left_out;
    }
    let debian = job.src.join("debian");
    applied.changelog_cves = changelog_cves(&debian).map_err(io("cannot read", &debian))?;
    applied.licences = licences(&debian).map_err(io("cannot read", &debian))?;
    Ok(Some(applied))
}

/// Extracts a `debian.tar.*` beside the source and moves its `debian/` into it, in place of
/// any upstream `debian/` (as `dpkg-source -x` does for format 3.0 (quilt)).
fn unpack_debian_tar(file: &Path, job: &Job) -> Result<(), source::SourceError> {
    let part = job.work.join("debian-part");
    let _ = std::fs::remove_dir_all(&part);
    source::extract(file, &part, 0)?;
    let from = part.join("debian");
    if !from.is_dir() {
        return Err(source::SourceError::BadArchive {
            archive: file.to_path_buf(),
            reason: "Debian's part holds no `debian/` folder".into(),
        });
    }
    let to = job.src.join("debian");
    if std::fs::symlink_metadata(&to).is_ok() {
        let removed = if to.is_dir() {
            std::fs::remove_dir_all(&to)
        } else {
            std::fs::remove_file(&to)
        };
        removed.map_err(source::io_err(format!("removing {}", to.display())))?;
    }
    crate::publish::move_path(&from, &to)
        .map_err(source::io_err(format!("moving {}", from.display())))?;
    let _ = std::fs::remove_dir_all(&part);
    Ok(())
}

impl Run<'_> {
    /// Applies a format 1.0 `.diff.gz` to the tree, as one step.
    fn diff(&mut self, file: &Path) -> Result<(), BuildError> {
        let plain = self.job.work.join("debian.diff");
        let input = File::open(file).map_err(io("cannot open", file))?;
        let mut gz = flate2::read::GzDecoder::new(input).take(MAX_TEXT * 4);
        let mut out = File::create(&plain).map_err(io("cannot create", &plain))?;
        std::io::copy(&mut gz, &mut out).map_err(io("cannot decompress", file))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.patch(&format!("debian diff {name}"), &plain, 1)
    }

    /// The series: each patch applied in order, or logged as left out; every name the recipe
    /// leaves out must be in it.
    fn series(
        &mut self,
        deb: &DebianPackage,
    ) -> Result<(Vec<PatchRecord>, Vec<LeftOut>), BuildError> {
        let debian = self.job.src.join("debian");
        let entries = read_series(&debian).map_err(|reason| BuildError::DebianSeries {
            recipe: self.recipe.name.clone(),
            reason,
        })?;
        if let Some((name, (_, span))) = deb
            .leave_out
            .iter()
            .find(|(name, _)| !entries.iter().any(|(e, _)| &e.name == *name))
        {
            let listed: Vec<&str> = entries.iter().map(|(e, _)| e.name.as_str()).collect();
            return Err(BuildError::Recipe(Box::new(self.recipe.error_at(
                span.clone(),
                format!(
                    "`{}` is not a patch of {}={}'s series",
                    crate::text::escape(name),
                    deb.package,
                    deb.version
                ),
                Some(if listed.is_empty() {
                    "the source package has no patch series".into()
                } else {
                    format!(
                        "its series lists: {}",
                        crate::text::escape(&listed.join(", "))
                    )
                }),
            ))));
        }
        let (patches, left_out) = split(deb, entries);
        for l in &left_out {
            writeln!(
                self.log,
                "==> debian patch {}: left out: {}",
                l.name, l.reason
            )
            .ok();
        }
        for p in &patches {
            let strip = p.1;
            let path = debian.join("patches").join(&p.0.name);
            self.patch(&format!("debian patch {}", p.0.name), &path, strip)?;
        }
        Ok((patches.into_iter().map(|p| p.0).collect(), left_out))
    }

    /// One patch applied to the tree ([`crate::plan::patch_command`]).
    fn patch(&mut self, name: &str, file: &Path, strip: u32) -> Result<(), BuildError> {
        self.step(name);
        let cmd = crate::plan::patch_command(
            name.to_string(),
            &self.job.view.seen(file),
            strip,
            &self.job.view.seen(&self.job.src),
        );
        self.command(&cmd)
    }
}

/// Where Debian's part of `deb` comes from: its pool, pinned by its sha256.
fn part_fetch(deb: &DebianPackage, changes: &crate::recipe::PinnedFile) -> source::Fetch {
    source::Fetch {
        sha256: changes.sha256.clone(),
        origins: vec![source::Origin::Debian(source::DebianSource {
            package: deb.package.clone(),
            version: deb.version.clone(),
            file: changes.file.clone(),
        })],
    }
}

/// The series of `deb`'s Debian part as its entries' order and left-out patches make it, each
/// with the CVE ids it names: [`split`] of [`read_series`].
type Split = (Vec<(PatchRecord, u32)>, Vec<LeftOut>);

fn split(deb: &DebianPackage, entries: Vec<(series::Entry, Vec<String>)>) -> Split {
    let mut patches = Vec::new();
    let mut left_out = Vec::new();
    for (e, cves) in entries {
        match deb.leave_out.get(&e.name) {
            Some((reason, _)) => left_out.push(LeftOut {
                name: e.name,
                reason: reason.clone(),
                cves,
            }),
            None => patches.push((PatchRecord { name: e.name, cves }, e.strip)),
        }
    }
    (patches, left_out)
}

/// The series under `debian` (`patches/debian.series`, else `patches/series`; none is an empty
/// series), each entry with the CVE ids its name and header name.
fn read_series(debian: &Path) -> Result<Vec<(series::Entry, Vec<String>)>, String> {
    let dir = debian.join("patches");
    let Some(file) = [dir.join("debian.series"), dir.join("series")]
        .into_iter()
        .find(|f| f.is_file())
    else {
        return Ok(Vec::new());
    };
    let text = read_capped(&file).map_err(|e| format!("reading the series: {e}"))?;
    let mut out = Vec::new();
    for e in series::parse(&text).map_err(|e| e.to_string())? {
        let text = read_capped(&dir.join(&e.name))
            .map_err(|err| format!("reading patch {}: {err}", crate::text::escape(&e.name)))?;
        let cves = cves::of_patch(&e.name, &text).into_iter().collect();
        out.push((e, cves));
    }
    Ok(out)
}

/// What a build of `deb` would apply, read from its fetched Debian part (unpacked in `scratch`)
/// without applying it: the record [`apply`] makes, for `recipe show`. A format 1.0 diff is its
/// one "patch", with the CVE ids of its whole text. `None` without a Debian part.
pub fn describe(
    deb: &DebianPackage,
    store: &source::Store,
    scratch: &Path,
) -> Result<Option<Applied>, source::SourceError> {
    let Some(changes) = &deb.changes else {
        return Ok(None);
    };
    let file = store.fetch(&part_fetch(deb, changes), &mut |_| {})?;
    let format = Format::of(&changes.file).expect("validated at load");
    let mut applied = Applied {
        package: deb.package.clone(),
        version: deb.version.clone(),
        release: deb.release.clone(),
        format,
        patches: Vec::new(),
        left_out: Vec::new(),
        changelog_cves: Vec::new(),
        licences: None,
    };
    let bad = |reason: String| source::SourceError::BadArchive {
        archive: file.clone(),
        reason,
    };
    if format == Format::Diff {
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(&file).map_err(source::io_err("reading"))?)
            .take(MAX_TEXT * 4)
            .read_to_string(&mut text)
            .map_err(|e| bad(e.to_string()))?;
        let cves: Vec<String> = cves::in_text(&text).into_iter().collect();
        applied.patches.push(PatchRecord {
            name: changes.file.clone(),
            cves: cves.clone(),
        });
        applied.changelog_cves = cves;
        return Ok(Some(applied));
    }
    source::extract(&file, scratch, 0)?;
    let debian = scratch.join("debian");
    let (patches, left_out) = split(deb, read_series(&debian).map_err(bad)?);
    applied.patches = patches.into_iter().map(|p| p.0).collect();
    applied.left_out = left_out;
    applied.changelog_cves = changelog_cves(&debian).map_err(|e| bad(e.to_string()))?;
    applied.licences = licences(&debian).map_err(|e| bad(e.to_string()))?;
    Ok(Some(applied))
}

/// What a machine-readable `debian/copyright` says of the licences (None without one).
pub(crate) fn licences(
    debian: &Path,
) -> std::io::Result<Option<crate::debian::copyright::Licences>> {
    let file = debian.join("copyright");
    if !file.is_file() {
        return Ok(None);
    }
    Ok(crate::debian::copyright::parse(&read_capped(&file)?))
}

/// The CVE ids `debian/changelog` names (none without one).
fn changelog_cves(debian: &Path) -> std::io::Result<Vec<String>> {
    let changelog = debian.join("changelog");
    if !changelog.is_file() {
        return Ok(Vec::new());
    }
    Ok(cves::in_text(&read_capped(&changelog)?)
        .into_iter()
        .collect())
}

/// A text file of Debian's part, at most [`MAX_TEXT`] bytes, read as UTF-8 with replacements.
fn read_capped(path: &Path) -> std::io::Result<String> {
    let (f, _) = crate::walk::open_regular(path, false)?;
    let mut bytes = Vec::new();
    f.take(MAX_TEXT).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
