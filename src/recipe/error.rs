//! A mistake in a recipe file, pointing at `file:line:column` with the line and a caret.

use std::ops::Range;
use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceSpan};

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
pub struct RecipeError {
    /// `file:line:column`, 1-based.
    pub location: String,
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    pub help: Option<String>,
}

impl RecipeError {
    pub fn new(
        file: &Path,
        text: &str,
        span: Range<usize>,
        message: String,
        help: Option<String>,
    ) -> Self {
        let start = span.start.min(text.len());
        let (line, col) = line_col(text, start);
        let label = first_line(&message);
        RecipeError {
            location: format!("{}:{line}:{col}", file.display()),
            src: NamedSource::new(file.display().to_string(), text.to_string()),
            span: (start, span.end.min(text.len()).saturating_sub(start)).into(),
            label,
            message,
            help,
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

/// 1-based line and column (in characters) of byte `offset`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}
