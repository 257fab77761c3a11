//! `[source]`: a local directory, or an archive pinned by sha256 with the places it comes from,
//! and the patches applied to it.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::{R, Validator};
use std::collections::BTreeMap;

use crate::recipe::model::{Arches, DebianPackage, Origin, Patch, PinnedFile, Recipe, Source};
use crate::recipe::rules;
use crate::recipe::schema::{PatchEntry, SourceTable};

const KIND_HELP: &str = "a source is either a local directory (`path`) or an archive pinned by \
     `sha256` with its origins (`urls`, `[source.debian]`, `[source.go-module]`, \
     `[source.pypi]`, `[source.crate]`), never both";

impl Validator<'_> {
    pub(super) fn source(&self, s: &Spanned<SourceTable>) -> R<Source> {
        let t = s.get_ref();
        if let Some(path) = &t.path {
            return self.path_source(t, path);
        }
        let Some(sha) = &t.sha256 else {
            return Err(self.err(
                s.span(),
                "the source has neither `path` nor `sha256`".into(),
                Some("pin the archive with `sha256 = \"<64 hex digits>\"` and say where it comes from (`urls`, `debian`, `go-module`), or give a local `path`".into()),
            ));
        };
        let hex = self.sha256(sha)?;
        let (origins, strip) = self.origins(t)?;
        if origins.is_empty() {
            return Err(self.err(
                s.span(),
                "the source has a sha256 but no origin".into(),
                Some(
                    "add `urls = [...]`, a `[source.debian]`, `[source.go-module]`, `[source.pypi]` or `[source.crate]` table"
                        .into(),
                ),
            ));
        }
        Ok(Source::Archive {
            sha256: hex.clone(),
            origins,
            strip: t.strip.as_ref().map(|s| *s.get_ref()).unwrap_or(strip),
        })
    }

    /// A sha256 as 64 lowercase hexadecimal digits.
    fn sha256<'s>(&self, sha: &'s Spanned<String>) -> R<&'s String> {
        let hex = sha.get_ref();
        if hex.len() != 64
            || !hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            return Err(self.err(
                sha.span(),
                format!("`{}` is not a sha256", crate::text::escape(hex)),
                Some("expected 64 lowercase hexadecimal digits".into()),
            ));
        }
        Ok(hex)
    }

    /// `[source.debian]` as a source package: its release, Debian's part pinned (required
    /// with an `.orig` tarball, refused for a native package) and the patches left out.
    pub(super) fn debian_package(&self, s: &Spanned<SourceTable>) -> R<Option<DebianPackage>> {
        let Some(d) = &s.get_ref().debian else {
            return Ok(None);
        };
        let span = d.span();
        let d = d.get_ref();
        let Some(release) = &d.release else {
            return Err(self.err(
                span,
                "`[source.debian]` does not say which Debian release its version belongs to".into(),
                Some(format!(
                    "add `release = \"bookworm\"` (or another codename: {})",
                    crate::debian::codenames()
                )),
            ));
        };
        if crate::debian::release_number(release.get_ref()).is_none() {
            return Err(self.err(
                release.span(),
                format!(
                    "`{}` is not a Debian release this recipe format knows",
                    crate::text::escape(release.get_ref())
                ),
                Some(format!("give a codename: {}", crate::debian::codenames())),
            ));
        }
        let native = !d.file.contains(".orig.");
        let unpatched = match (&d.unpatched, &d.debian_file) {
            (Some(u), Some(f)) => {
                return Err(self.err(
                    f.span(),
                    "`debian-file` and `unpatched` cannot both be given".into(),
                    Some(format!(
                        "the source is either built with Debian's part or without it \
                         (`unpatched = \"{}\"`)",
                        crate::text::escape(u.get_ref())
                    )),
                ));
            }
            (Some(u), None) if u.get_ref().trim().is_empty() => {
                return Err(self.err(
                    u.span(),
                    "`unpatched` needs a reason".into(),
                    Some("say why Debian's patches cannot be applied to this build".into()),
                ));
            }
            (Some(u), None) => Some(u.get_ref().clone()),
            (None, _) => None,
        };
        let changes = self.debian_part(d, span, native || unpatched.is_some())?;
        let leave_out = self.leave_out(d, changes.is_some())?;
        Ok(Some(DebianPackage {
            package: d.package.clone(),
            version: d.version.clone(),
            release: release.get_ref().clone(),
            changes,
            unpatched,
            leave_out,
        }))
    }

    /// Debian's part pinned (`debian-file` with `debian-sha256`); none where `without` (a
    /// native package, or one built `unpatched`), required otherwise.
    fn debian_part(
        &self,
        d: &crate::recipe::schema::DebianTable,
        span: Range<usize>,
        without: bool,
    ) -> R<Option<PinnedFile>> {
        let native = !d.file.contains(".orig.");
        Ok(match (&d.debian_file, &d.debian_sha256) {
            (Some(f), Some(sha)) => {
                if native {
                    return Err(self.err(
                        f.span(),
                        "a native Debian package has no separate Debian part".into(),
                        Some(format!(
                            "`file` ({}) is not an `.orig` tarball, so it holds `debian/` \
                             itself: leave `debian-file` and `debian-sha256` out",
                            crate::text::escape(&d.file)
                        )),
                    ));
                }
                let file = f.get_ref();
                if !crate::debian::is_changes_file(file) {
                    return Err(self.err(
                        f.span(),
                        format!(
                            "`{}` is not Debian's part of a source package",
                            crate::text::escape(file)
                        ),
                        Some(
                            "expected the `.debian.tar.xz` (or .gz, .bz2) of format 3.0 \
                             (quilt), or the `.diff.gz` of format 1.0"
                                .into(),
                        ),
                    ));
                }
                Some(PinnedFile {
                    file: file.clone(),
                    sha256: self.sha256(sha)?.clone(),
                })
            }
            (None, None) if without => None,
            (Some(f), None) => {
                return Err(self.err(
                    f.span(),
                    "`debian-file` is given without its `debian-sha256`".into(),
                    Some("pin its bytes: `recipe update NAME` writes both".into()),
                ));
            }
            (None, Some(sha)) => {
                return Err(self.err(
                    sha.span(),
                    "`debian-sha256` is given without the `debian-file` it pins".into(),
                    None,
                ));
            }
            (None, None) => {
                return Err(self.err(
                    span,
                    "Debian's patches are not pinned: the source would be built without the \
                     fixes Debian's security team puts in them"
                        .into(),
                    Some(format!(
                        "add `debian-file = \"{}\"` and its `debian-sha256` (`recipe update \
                         NAME` writes both); a patch that must not apply goes in \
                         `[source.debian.leave-out]` with the reason",
                        crate::text::escape(&crate::debian::changes_file_name(
                            &d.package, &d.version
                        ))
                    )),
                ));
            }
        })
    }

    /// `[source.debian.leave-out]`: patch names of the series, each with a reason.
    fn leave_out(
        &self,
        d: &crate::recipe::schema::DebianTable,
        has_part: bool,
    ) -> R<BTreeMap<String, (String, Range<usize>)>> {
        let mut leave_out = BTreeMap::new();
        for (name, why) in &d.leave_out {
            if !has_part {
                return Err(self.err(
                    why.span(),
                    "a native Debian package has no patch series to leave a patch out of".into(),
                    None,
                ));
            }
            if !crate::debian::series::is_patch_name(name) {
                return Err(self.err(
                    why.span(),
                    format!(
                        "`{}` is not a patch name of a series",
                        crate::text::escape(name)
                    ),
                    Some("name the patch as `debian/patches/series` lists it".into()),
                ));
            }
            if why.get_ref().trim().is_empty() {
                return Err(self.err(
                    why.span(),
                    format!("leaving out `{}` needs a reason", crate::text::escape(name)),
                    Some("say why the patch must not apply to this build".into()),
                ));
            }
            leave_out.insert(name.clone(), (why.get_ref().clone(), why.span()));
        }
        Ok(leave_out)
    }

    /// A local directory: nothing of an archive may come with it (the first such key found is
    /// the one pointed at).
    fn path_source(&self, t: &SourceTable, path: &Spanned<String>) -> R<Source> {
        let archive_keys: [(&str, Option<Range<usize>>); 7] = [
            ("sha256", t.sha256.as_ref().map(Spanned::span)),
            ("urls", t.urls.first().map(Spanned::span)),
            ("[source.debian]", t.debian.as_ref().map(Spanned::span)),
            (
                "[source.go-module]",
                t.go_module.as_ref().map(Spanned::span),
            ),
            ("[source.pypi]", t.pypi.as_ref().map(Spanned::span)),
            ("[source.crate]", t.krate.as_ref().map(Spanned::span)),
            ("strip", t.strip.as_ref().map(Spanned::span)),
        ];
        if let Some((key, span)) = archive_keys
            .into_iter()
            .find_map(|(k, span)| span.map(|s| (k, s)))
        {
            return Err(self.err(
                span,
                format!("`{key}` cannot be combined with a local `path` source"),
                Some(KIND_HELP.into()),
            ));
        }
        if path.get_ref().chars().any(char::is_control) {
            return Err(self.err(
                path.span(),
                "the source `path` holds a control character".into(),
                Some("give the source folder relative to the recipe file, e.g. \"src\"".into()),
            ));
        }
        let dir = self.file.parent().unwrap_or(Path::new("."));
        Ok(Source::Path(dir.join(path.get_ref())))
    }

    /// The archive's origins in the order they are tried, and the default `strip` of the last
    /// kind that sets one.
    fn origins(&self, t: &SourceTable) -> R<(Vec<Origin>, usize)> {
        let mut origins = Vec::new();
        for u in &t.urls {
            let url = u.get_ref();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(self.err(u.span(), format!("`{url}` is not an http(s) URL"), None));
            }
            origins.push(Origin::Url(url.clone()));
        }
        if let Some(d) = &t.debian {
            let d = d.get_ref();
            origins.push(Origin::Debian {
                package: d.package.clone(),
                version: d.version.clone(),
                file: d.file.clone(),
            });
        }
        let mut strip = 1;
        if let Some(p) = &t.pypi {
            let p = p.get_ref();
            // A wheel is a zip of top-level package folders: nothing to strip.
            strip = 0;
            origins.push(Origin::Pypi {
                package: p.package.clone(),
                version: p.version.clone(),
                file: p.file.clone(),
            });
        }
        if let Some(c) = &t.krate {
            let c = c.get_ref();
            self.check(
                c.name.span(),
                crate::recipe::rules::crate_name(c.name.get_ref()),
            )?;
            self.check(
                c.version.span(),
                crate::recipe::rules::crate_version(c.version.get_ref()),
            )?;
            // A `.crate` holds `NAME-VERSION/...`: the default strip of 1.
            origins.push(Origin::Crate {
                name: c.name.get_ref().clone(),
                version: c.version.get_ref().clone(),
            });
        }
        if let Some(g) = &t.go_module {
            let g = g.get_ref();
            // The module zip holds `MODULE@VERSION/...`: one component per path element.
            strip = crate::source::go_module_strip(&g.module);
            origins.push(Origin::GoModule {
                module: g.module.clone(),
                version: g.version.clone(),
            });
        }
        Ok((origins, strip))
    }
}

impl Validator<'_> {
    /// `[source] patches`: each a normal path beside the recipe, none twice; a table's
    /// `arches` known names within the recipe's own `arches` (`supported`, all when `None`).
    pub(super) fn patches(
        &self,
        patches: &[Spanned<PatchEntry>],
        supported: Option<&Arches>,
    ) -> R<Vec<Patch>> {
        let mut out: Vec<Patch> = Vec::new();
        for entry in patches {
            let (written, span, arches) = match entry.get_ref() {
                PatchEntry::File(f) => (f, entry.span(), None),
                PatchEntry::ForArches { file, arches } => {
                    if arches.get_ref().is_empty() {
                        return Err(self.err(
                            arches.span(),
                            "the patch's `arches` is empty".into(),
                            Some(
                                "list the arches the patch applies to, or write its path alone \
                                 for every arch"
                                    .into(),
                            ),
                        ));
                    }
                    let list = self.arches(arches)?;
                    self.patch_arches_supported(arches, supported)?;
                    (file.get_ref(), file.span(), Some(list))
                }
            };
            let path = self.check(span.clone(), rules::beside_recipe(written))?;
            if out.iter().any(|q| q.path == path) {
                return Err(self.err(
                    span,
                    format!("patch `{}` is listed twice", crate::text::escape(&path)),
                    Some("a patch applies once: list each file one time, in order".into()),
                ));
            }
            out.push(Patch {
                path,
                span,
                arches,
                contents: None,
            });
        }
        Ok(out)
    }

    /// A patch's `arches` (known names, as `written`) name only arches the recipe supports.
    fn patch_arches_supported(
        &self,
        written: &Spanned<Vec<Spanned<String>>>,
        supported: Option<&Arches>,
    ) -> R<()> {
        let Some(supported) = supported else {
            return Ok(());
        };
        for name in written.get_ref() {
            let Ok(arch) = name.get_ref().parse::<crate::arch::Arch>() else {
                continue;
            };
            if !supported.list.contains(&arch) {
                let names: Vec<&str> = supported.list.iter().map(|a| a.name()).collect();
                return Err(self.err(
                    name.span(),
                    format!("the recipe does not support {arch}, so no patch applies to it"),
                    Some(format!("the recipe's `arches` lists {}", names.join(", "))),
                ));
            }
        }
        Ok(())
    }
}

/// Reads each patch of `r` from the recipe's folder (as image files are read: no symlink on the
/// way, a regular file, capped), so its bytes are in the build key and the build never reads
/// the folder again.
pub fn read_patches(r: &mut Recipe) -> Result<(), Box<crate::recipe::RecipeError>> {
    for p in &mut r.patches {
        let bytes =
            super::image::read_named_beside(&r.file, &r.text, &p.path, p.span.clone(), "patch")?;
        p.contents = Some(crate::recipe::FileContents::new(bytes));
    }
    Ok(())
}
