//! `[smoke]`: the `--version` form (`command` + `expect`) and the service form (`listen`,
//! `[[smoke.request]]`, `files`, `stop-grace`); each request is read in [`super::request`].

use toml::Spanned;

use super::{R, Validator};
use crate::recipe::model::*;
use crate::recipe::schema::SmokeTable;

/// The `--version` form's default timeout, in seconds.
const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// The longest `timeout` or `stop-grace` accepted, in seconds (an hour: no smoke test needs
/// more, and a typo of a few zeros is caught).
const MAX_SECS: u64 = 3600;

impl Validator<'_> {
    pub(super) fn smoke(&self, s: SmokeTable, app_files: &[String]) -> R<Smoke> {
        self.smoke_program(&s.command, app_files, "the smoke command is empty")?;
        let timeout_secs = self.seconds(s.timeout.as_ref(), DEFAULT_TIMEOUT_SECS, "timeout")?;
        let service = match &s.listen {
            Some(listen) => Some(self.service(&s, listen, app_files)?),
            None => {
                self.version_form_only(&s)?;
                None
            }
        };
        let serve = self.serve(&s)?;
        let expect = match (&s.expect, &service) {
            (Some(e), None) => self.nonempty_expect(e)?,
            (Some(e), Some(_)) => {
                return Err(self.err(
                    e.span(),
                    "a service smoke test (`listen`) has no top-level `expect`".into(),
                    Some("put `expect` in a [[smoke.request]] instead".into()),
                ));
            }
            (None, None) => {
                return Err(self.err(
                    s.command.span(),
                    "the smoke test has neither `expect` nor `listen`".into(),
                    Some(
                        "add expect = \"text the output must contain\", or listen = \"tcp\" \
                         with [[smoke.request]] tables"
                            .into(),
                    ),
                ));
            }
            (None, Some(_)) => String::new(),
        };
        let env = self.smoke_env(&s.env)?;
        Ok(Smoke {
            env,
            files: s
                .files
                .iter()
                .map(|f| self.smoke_file(f))
                .collect::<R<_>>()?,
            command: s.command.into_inner(),
            expect,
            timeout_secs,
            serve,
            service,
        })
    }

    /// `env`: each name a variable name (`[A-Za-z_][A-Za-z0-9_]*`), each value without a NUL.
    fn smoke_env(
        &self,
        env: &std::collections::BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> R<std::collections::BTreeMap<String, String>> {
        let mut out = std::collections::BTreeMap::new();
        for (k, v) in env {
            let name = k.get_ref();
            let mut chars = name.chars();
            let good = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !good {
                return Err(self.err(
                    k.span(),
                    format!(
                        "`{}` is not an environment variable name",
                        crate::text::escape(name)
                    ),
                    Some(
                        "a name is letters, digits and `_`, not starting with a digit (e.g. `TZ`, `APP_MODE`)"
                            .into(),
                    ),
                ));
            }
            if v.get_ref().contains('\0') {
                return Err(self.err(
                    v.span(),
                    format!("the value of `{name}` holds a NUL character"),
                    Some("a program's environment cannot hold NUL characters".into()),
                ));
            }
            out.insert(name.clone(), v.get_ref().clone());
        }
        Ok(out)
    }

    /// `serve`: only in the `--version` form, `"http"`, with files to serve.
    fn serve(&self, s: &SmokeTable) -> R<Option<Serve>> {
        let Some(v) = &s.serve else { return Ok(None) };
        if s.listen.is_some() {
            return Err(self.err(
                v.span(),
                "`serve` belongs to a smoke test that runs to its end (`expect`), not to a service (`listen`)".into(),
                Some("a service is the server: send it [[smoke.request]]s instead".into()),
            ));
        }
        if v.get_ref() != "http" {
            return Err(self.err(
                v.span(),
                format!("unknown `serve` protocol `{}`", v.get_ref()),
                Some("use \"http\"".into()),
            ));
        }
        if s.files.is_empty() {
            return Err(self.err(
                v.span(),
                "`serve = \"http\"` serves the smoke `files`, and there are none".into(),
                Some("add files = [\"hello.txt\"] (files beside the recipe)".into()),
            ));
        }
        Ok(Some(Serve::Http))
    }

    /// `argv` is not empty and its program is one of the app files (by path or file name).
    pub(super) fn smoke_program(
        &self,
        argv: &Spanned<Vec<String>>,
        app_files: &[String],
        empty: &str,
    ) -> R<()> {
        let Some(program) = argv.get_ref().first() else {
            return Err(self.err(
                argv.span(),
                empty.into(),
                Some("give the program and its arguments, e.g. [\"app\", \"--version\"]".into()),
            ));
        };
        if app_program(app_files, program).is_none() {
            return Err(self.err(
                argv.span(),
                format!("`{program}` is not one of the app files"),
                Some(format!(
                    "name an app file by its path or file name: {}",
                    app_files.join(", ")
                )),
            ));
        }
        Ok(())
    }

    fn seconds(&self, v: Option<&Spanned<u64>>, default: u64, key: &str) -> R<u64> {
        let Some(v) = v else { return Ok(default) };
        if *v.get_ref() == 0 || *v.get_ref() > MAX_SECS {
            return Err(self.err(
                v.span(),
                format!(
                    "`{key}` is {} seconds, not within 1..={MAX_SECS}",
                    v.get_ref()
                ),
                None,
            ));
        }
        Ok(*v.get_ref())
    }

    pub(super) fn nonempty_expect(&self, e: &Spanned<String>) -> R<String> {
        if e.get_ref().is_empty() {
            return Err(self.err(
                e.span(),
                "`expect` is empty, so any output would pass".into(),
                Some("give text the command's output must contain".into()),
            ));
        }
        Ok(e.get_ref().clone())
    }

    /// Keys of the service form in a `--version` smoke test.
    fn version_form_only(&self, s: &SmokeTable) -> R<()> {
        let stray = s
            .request
            .first()
            .map(|r| ("[[smoke.request]]", r.span()))
            .or(s.stop_grace.as_ref().map(|g| ("stop-grace", g.span())));
        match stray {
            Some((what, span)) => Err(self.err(
                span,
                format!("`{what}` belongs to a service smoke test, which needs `listen`"),
                Some("add listen = \"tcp\" (or \"udp\") for an app that serves on {port}".into()),
            )),
            None => Ok(()),
        }
    }

    fn service(
        &self,
        s: &SmokeTable,
        listen: &Spanned<String>,
        app_files: &[String],
    ) -> R<Service> {
        let listen = match listen.get_ref().as_str() {
            "tcp" => Listen::Tcp,
            "udp" => Listen::Udp,
            other => {
                return Err(self.err(
                    listen.span(),
                    format!("unknown `listen` protocol `{other}`"),
                    Some("use \"tcp\" or \"udp\"".into()),
                ));
            }
        };
        if s.request.is_empty() {
            return Err(self.err(
                s.command.span(),
                "a service smoke test has no [[smoke.request]]".into(),
                Some("add at least one request: tcp, http, dns, run or output".into()),
            ));
        }
        let requests = s
            .request
            .iter()
            .map(|r| {
                Ok(SmokeRequest {
                    request: self.request(r.get_ref(), r.span(), app_files)?,
                    wait: r.get_ref().wait,
                })
            })
            .collect::<R<Vec<_>>>()?;
        Ok(Service {
            listen,
            stop_grace_secs: self.seconds(
                s.stop_grace.as_ref(),
                DEFAULT_STOP_GRACE_SECS,
                "stop-grace",
            )?,
            requests,
        })
    }

    /// A relative path inside the recipe's folder: no `..`, not absolute, not empty.
    fn smoke_file(&self, f: &Spanned<String>) -> R<SmokeFile> {
        use std::path::{Component, Path};
        let p = Path::new(f.get_ref());
        if f.get_ref().is_empty() || !p.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(self.err(
                f.span(),
                format!(
                    "smoke file `{}` is not a relative path inside the recipe's folder",
                    f.get_ref()
                ),
                Some(
                    "name a file beside the recipe, e.g. \"app.conf\" or \"conf/app.conf\"".into(),
                ),
            ));
        }
        Ok(SmokeFile {
            path: f.get_ref().clone(),
            span: f.span(),
            contents: None,
        })
    }
}

/// The app file `program` names: its absolute path, or the file name of one.
pub fn app_program<'a>(app_files: &'a [String], program: &str) -> Option<&'a String> {
    app_files.iter().find(|f| {
        *f == program
            || std::path::Path::new(f).file_name().and_then(|n| n.to_str()) == Some(program)
    })
}

/// Reads the service smoke test's files beside the recipe (as `[[image.file]]`s are read: no
/// symlink on the way, a regular file, capped), so that their bytes are part of the recipe's
/// identity (the build key) and the smoke test never reads the folder again.
pub fn read_smoke_files(r: &mut Recipe) -> Result<(), Box<crate::recipe::RecipeError>> {
    let Some(smoke) = r.smoke.as_mut() else {
        return Ok(());
    };
    for f in &mut smoke.files {
        f.contents = Some(super::image::read_named_beside(
            &r.file,
            &r.text,
            &f.path,
            f.span.clone(),
            "smoke file",
        )?);
    }
    Ok(())
}
