//! `${NAME}` in build options: the names planning gives a value, found in a string.

use super::Refusal;

/// The names a build option may use as `${NAME}`; planning gives each its value
/// ([`crate::plan::systems`]) and puts it in the build's environment too.
pub const VARIABLES: &[&str] = &[
    "DESTDIR",
    "PREFIX",
    "JOBS",
    "TRIPLE",
    "ARCH",
    "SRC",
    "SYSROOT",
    "HOST_SYSROOT",
    "CC",
    "CXX",
    "AR",
    "RANLIB",
    "STRIP",
    "EMULATOR",
];

/// Every `${NAME}` of `text`, in order, with its byte range in `text`. A `${` without a closing
/// `}` is plain text.
pub fn variables(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("${") {
        let start = at + i;
        let Some(j) = text[start + 2..].find('}') else {
            break;
        };
        let end = start + 2 + j + 1;
        out.push((start..end, &text[start + 2..end - 1]));
        at = end;
    }
    out
}

/// A build option's text: every `${NAME}` in it is one of [`VARIABLES`].
pub fn known_variables(text: &str) -> Result<(), Refusal> {
    match variables(text)
        .into_iter()
        .find(|(_, name)| !VARIABLES.contains(name))
    {
        None => Ok(()),
        Some((_, name)) => Err(Refusal {
            message: format!(
                "unknown variable `${{{}}}` in `{}`",
                crate::text::escape(name),
                crate::text::escape(text)
            ),
            help: format!(
                "a build option may use {}",
                VARIABLES
                    .iter()
                    .map(|v| format!("`${{{v}}}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;

    #[test]
    fn variables_are_found_and_checked() {
        let found = variables("a${DESTDIR}b${X}${");
        assert_eq!(found, vec![(1..11, "DESTDIR"), (12..16, "X")]);
        assert!(known_variables("PREFIX=${DESTDIR}/usr ${PREFIX} $HOME ${").is_ok());
        let r = known_variables("-I${NOPE}/include").unwrap_err();
        assert_eq!(
            r.message,
            "unknown variable `${NOPE}` in `-I${NOPE}/include`"
        );
        assert!(r.help.contains("`${SYSROOT}`"), "{}", r.help);
    }
}
