//! Recipe files: their TOML schema, the validated model, and loading with located errors.

pub mod error;
pub mod load;
pub mod model;
pub mod rules;
pub mod schema;

pub use error::RecipeError;
pub use load::{Catalogue, parse};
pub use model::*;
pub use rules::{parse_user, user_option};

use std::path::Path;

/// Why a recipe could not be loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("unknown recipe `{}`", crate::text::escape(name))]
    #[diagnostic(help("{known}"))]
    Unknown { name: String, known: String },
    #[error("cannot read recipe `{}`", crate::text::path(path))]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(#[from] Box<RecipeError>),
}

/// Loads the recipe `name_or_path` from the catalogue.
pub fn load(cat: &Catalogue, name_or_path: &str) -> Result<Recipe, LoadError> {
    let Some(path) = cat.find(name_or_path) else {
        let names = cat.names();
        let known = if names.is_empty() {
            format!(
                "no recipes found in {}",
                cat.dirs
                    .iter()
                    .map(|d| format!("`{}`", d.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("known recipes: {}", names.join(", "))
        };
        return Err(LoadError::Unknown {
            name: name_or_path.to_string(),
            known,
        });
    };
    load_file(&path)
}

/// The largest recipe file read: real ones are a few KiB.
const MAX_RECIPE_FILE: u64 = 1 << 20;

pub fn load_file(path: &Path) -> Result<Recipe, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    // A regular file only (a FIFO named as a recipe must not block), and a bounded read.
    let (file, meta) = crate::walk::open_regular(path, true).map_err(io)?;
    if meta.len() > MAX_RECIPE_FILE {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {MAX_RECIPE_FILE} bytes, no recipe is"),
        )));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_RECIPE_FILE), &mut text)
        .map_err(io)?;
    let mut recipe = parse(path, &text)?;
    load::read_smoke_files(&mut recipe)?;
    load::read_patches(&mut recipe)?;
    load::read_image_files(path, &text, &mut recipe)?;
    Ok(recipe)
}
