//! Reading recipe files: TOML to [`schema`], then validation to [`model`], with every mistake
//! reported at its `file:line:column`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::RecipeError;
use super::model::*;
use super::rules::{self, Refusal};
use super::schema;
use crate::arch::Arch;

mod build;
mod image;
mod request;
mod smoke;
pub use smoke::{app_program, read_smoke_files};
mod source;

pub use image::read_image_files;
pub use source::read_patches;

/// Parses and validates the recipe text `text` read from `file`: the whole check, pure (no
/// I/O; `file` only names the recipe and places its errors). [`super::load_file`] reads a file
/// and calls this.
pub fn parse(file: &Path, text: &str) -> Result<Recipe, Box<RecipeError>> {
    use serde::Deserialize;
    let v = Validator { file, text };
    let toml_err = |e: toml::de::Error| {
        let span = e.span().unwrap_or(0..0);
        v.err(span, e.message().trim_end_matches('\n').to_string(), None)
    };
    let doc = toml::de::DeTable::parse(text).map_err(toml_err)?;
    v.printable_table(doc.get_ref())?;
    let raw =
        schema::RecipeFile::deserialize(toml::de::Deserializer::from(doc)).map_err(toml_err)?;
    v.recipe(raw)
}

struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
}

type R<T> = Result<T, Box<RecipeError>>;

impl Validator<'_> {
    fn err(&self, span: Range<usize>, message: String, help: Option<String>) -> Box<RecipeError> {
        Box::new(RecipeError::new(self.file, self.text, span, message, help))
    }

    /// Refuses a rule's [`Refusal`] at `span`.
    fn check<T>(&self, span: Range<usize>, r: Result<T, Refusal>) -> R<T> {
        r.map_err(|r| self.err(span, r.message, Some(r.help)))
    }

    /// No key holds a control character and no string a NUL or a control character other
    /// than tab, newline and carriage return: nothing a program, a file name or a terminal
    /// should get.
    fn printable_table(&self, t: &toml::de::DeTable) -> R<()> {
        for (k, v) in t {
            if k.get_ref().chars().any(char::is_control) {
                return Err(self.err(
                    k.span(),
                    format!("the key `{}` holds a control character", k.get_ref()),
                    Some("keys are printable text".into()),
                ));
            }
            self.printable_value(v)?;
        }
        Ok(())
    }

    fn printable_value(&self, v: &Spanned<toml::de::DeValue>) -> R<()> {
        use toml::de::DeValue;
        match v.get_ref() {
            DeValue::String(s) => {
                if let Some(c) = s
                    .chars()
                    .find(|&c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                {
                    let what = match c {
                        '\0' => "a NUL character".to_string(),
                        c => format!("the control character U+{:04X}", c as u32),
                    };
                    return Err(self.err(
                        v.span(),
                        format!("`{s}` holds {what}"),
                        Some(
                            "recipe strings are printable text (tabs and newlines allowed); \
                             no program or file name can take a NUL"
                                .into(),
                        ),
                    ));
                }
                Ok(())
            }
            DeValue::Array(a) => a.iter().try_for_each(|x| self.printable_value(x)),
            DeValue::Table(t) => self.printable_table(t),
            _ => Ok(()),
        }
    }

    fn recipe(&self, raw: schema::RecipeFile) -> R<Recipe> {
        let name = raw.name.get_ref().clone();
        self.check(raw.name.span(), rules::recipe_name(&name))?;
        let stem = self.file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem != name {
            return Err(self.err(
                raw.name.span(),
                format!("recipe name `{name}` does not match its file name `{stem}.toml`"),
                Some(format!(
                    "rename the file to `{name}.toml` or set name = \"{stem}\""
                )),
            ));
        }
        self.check(raw.version.span(), rules::version(raw.version.get_ref()))?;
        let cpe = raw.cpe.as_ref().map(|c| self.cpe(c)).transpose()?;
        let source = self.source(&raw.source)?;
        let debian = self.debian_package(&raw.source)?;
        let arches = raw.arches.as_ref().map(|a| self.arches(a)).transpose()?;
        let patches = self.patches(&raw.source.get_ref().patches, arches.as_ref())?;
        let build = self.build(&raw.build)?;
        let depends = self.deps(&raw.depends, &name, "depends on")?;
        let host_depends = self.deps(&raw.host_depends, &name, "depends on")?;
        let (app_files, accept, compress) = match &raw.app {
            Some(app) => {
                let accept = self.accept(&app.get_ref().accept)?;
                let compress = app
                    .get_ref()
                    .compress
                    .as_ref()
                    .map(|c| self.compress(c))
                    .transpose()?;
                (self.app_files(&app.get_ref().files)?, accept, compress)
            }
            None => {
                self.library_only(&raw)?;
                (Vec::new(), BTreeMap::new(), None)
            }
        };
        let smoke = raw
            .smoke
            .map(|s| self.smoke(s.into_inner(), &app_files))
            .transpose()?;
        let image = self.image(
            raw.image.map(Spanned::into_inner).unwrap_or_default(),
            &app_files,
            &name,
        )?;
        Ok(Recipe {
            name,
            version: raw.version.into_inner(),
            license: raw.license,
            homepage: raw.homepage,
            description: raw.description,
            cpe,
            file: self.file.to_path_buf(),
            text: self.text.to_string(),
            arches,
            depends,
            host_depends,
            source,
            debian,
            patches,
            build,
            app_files,
            accept,
            compress,
            smoke,
            image,
        })
    }

    /// `arches = [...]`: known arch names, each once, at least one.
    fn arches(&self, a: &Spanned<Vec<Spanned<String>>>) -> R<Arches> {
        let mut list = Vec::new();
        for name in a.get_ref() {
            let arch: Arch = name.get_ref().parse().map_err(|_| {
                self.err(
                    name.span(),
                    format!("unknown arch `{}`", name.get_ref()),
                    Some(format!(
                        "the arches are {}",
                        Arch::ALL.map(Arch::name).join(", ")
                    )),
                )
            })?;
            if list.contains(&arch) {
                return Err(self.err(name.span(), format!("`{arch}` is listed twice"), None));
            }
            list.push(arch);
        }
        if list.is_empty() {
            return Err(self.err(
                a.span(),
                "`arches` is empty".into(),
                Some("list the arches the recipe supports, or leave `arches` out for all".into()),
            ));
        }
        list.sort();
        Ok(Arches {
            list,
            span: a.span(),
        })
    }

    /// `cpe = "vendor:product"` ([`rules::cpe`]), with the line that holds it: its value's
    /// span widened to whole lines (a key/value pair has its lines to itself in TOML, but for a
    /// comment after it).
    fn cpe(&self, c: &Spanned<String>) -> R<Cpe> {
        let (vendor, product) = self.check(c.span(), rules::cpe(c.get_ref()))?;
        let span = c.span();
        let start = self.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[span.end..]
            .find('\n')
            .map_or(self.text.len(), |i| span.end + i + 1);
        Ok(Cpe {
            vendor,
            product,
            line: start..end,
        })
    }

    /// A library (no `[app]`) has no smoke test and no image.
    fn library_only(&self, raw: &schema::RecipeFile) -> R<()> {
        let refuse = |what: &str, span: Range<usize>| {
            self.err(
                span,
                format!("a library recipe (no [app]) has no {what}"),
                Some("add an [app] table listing the app's files, or remove this table".into()),
            )
        };
        if let Some(s) = &raw.smoke {
            return Err(refuse("smoke test", s.span()));
        }
        if let Some(i) = &raw.image {
            return Err(refuse("image", i.span()));
        }
        Ok(())
    }

    /// Recipes named by this one (`what`: `depends on`, `includes`): valid names, none twice,
    /// never the recipe itself.
    fn deps(&self, list: &[Spanned<String>], own: &str, what: &str) -> R<Vec<Dep>> {
        let mut out: Vec<Dep> = Vec::new();
        for d in list {
            let name = d.get_ref();
            self.check(d.span(), rules::recipe_name(name))?;
            if name == own {
                return Err(self.err(
                    d.span(),
                    format!("`{own}` {what} itself"),
                    Some(format!("remove `{own}` from this list")),
                ));
            }
            if out.iter().any(|o| &o.name == name) {
                return Err(self.err(d.span(), format!("`{name}` is listed twice"), None));
            }
            out.push(Dep {
                name: name.clone(),
                span: d.span(),
            });
        }
        Ok(out)
    }
}

/// Where recipes are looked up, and how a name becomes a file.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub dirs: Vec<PathBuf>,
}

impl Catalogue {
    /// Every `*.toml` in the catalogue dirs, by name (first dir wins).
    pub fn names(&self) -> Vec<String> {
        let mut names = std::collections::BTreeSet::new();
        for d in &self.dirs {
            if let Ok(rd) = std::fs::read_dir(d) {
                for e in rd.flatten() {
                    let p = e.path();
                    if p.extension().is_some_and(|x| x == "toml")
                        && let Some(s) = p.file_stem().and_then(|s| s.to_str())
                    {
                        names.insert(s.to_string());
                    }
                }
            }
        }
        names.into_iter().collect()
    }

    /// The file for `name_or_path`: a path to a `.toml` file, or a recipe name (without `/`: a
    /// name never reaches outside the catalogue's folders; the loader checks the name itself).
    pub fn find(&self, name_or_path: &str) -> Option<PathBuf> {
        if name_or_path.ends_with(".toml") {
            let p = PathBuf::from(name_or_path);
            return present(&p).then_some(p);
        }
        if name_or_path.is_empty() || name_or_path.contains(['/', '\0']) {
            return None;
        }
        self.dirs
            .iter()
            .map(|d| d.join(format!("{name_or_path}.toml")))
            .find(|p| present(p))
    }
}

/// True when something that is not a folder is at `p` (a FIFO or device too: loading it then
/// says what it is, instead of "unknown recipe").
fn present(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| !m.is_dir())
}
