//! `[source]`: a local directory, or an archive pinned by sha256 with the places it comes from,
//! and the patches applied to it.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::{R, Validator};
use crate::recipe::model::{Origin, Patch, Recipe, Source};
use crate::recipe::rules;
use crate::recipe::schema::SourceTable;

const KIND_HELP: &str = "a source is either a local directory (`path`) or an archive pinned by \
     `sha256` with its origins (`urls`, `[source.debian]`, `[source.go-module]`, \
     `[source.pypi]`), never both";

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
        let hex = sha.get_ref();
        if hex.len() != 64
            || !hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            return Err(self.err(
                sha.span(),
                format!("`{hex}` is not a sha256"),
                Some("expected 64 lowercase hexadecimal digits".into()),
            ));
        }
        let (origins, strip) = self.origins(t)?;
        if origins.is_empty() {
            return Err(self.err(
                s.span(),
                "the source has a sha256 but no origin".into(),
                Some(
                    "add `urls = [...]`, a `[source.debian]`, `[source.go-module]` or `[source.pypi]` table"
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

    /// A local directory: nothing of an archive may come with it (the first such key found is
    /// the one pointed at).
    fn path_source(&self, t: &SourceTable, path: &Spanned<String>) -> R<Source> {
        let archive_keys: [(&str, Option<Range<usize>>); 6] = [
            ("sha256", t.sha256.as_ref().map(Spanned::span)),
            ("urls", t.urls.first().map(Spanned::span)),
            ("[source.debian]", t.debian.as_ref().map(Spanned::span)),
            (
                "[source.go-module]",
                t.go_module.as_ref().map(Spanned::span),
            ),
            ("[source.pypi]", t.pypi.as_ref().map(Spanned::span)),
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
    /// `[source] patches`: each a normal path beside the recipe, none twice.
    pub(super) fn patches(&self, patches: &[Spanned<String>]) -> R<Vec<Patch>> {
        let mut out: Vec<Patch> = Vec::new();
        for p in patches {
            let path = self.check(p.span(), rules::beside_recipe(p.get_ref()))?;
            if out.iter().any(|q| q.path == path) {
                return Err(self.err(
                    p.span(),
                    format!("patch `{}` is listed twice", crate::text::escape(&path)),
                    Some("a patch applies once: list each file one time, in order".into()),
                ));
            }
            out.push(Patch {
                path,
                span: p.span(),
                contents: None,
            });
        }
        Ok(out)
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
