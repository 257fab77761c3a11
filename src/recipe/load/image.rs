//! The app's files and accepted needs, `[image]` and `[image.health]`.

use std::collections::BTreeMap;

use toml::Spanned;

use super::{R, Validator};
use crate::recipe::model::*;
use crate::recipe::rules;
use crate::recipe::schema;

impl Validator<'_> {
    fn image_path(&self, p: &Spanned<String>, what: &str) -> R<String> {
        self.check(p.span(), rules::image_path(p.get_ref(), what))
    }

    pub(super) fn accept(
        &self,
        accept: &BTreeMap<String, Spanned<String>>,
    ) -> R<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (code, why) in accept {
            if !ACCEPTABLE.contains(&code.as_str()) {
                return Err(self.err(
                    why.span(),
                    format!("`{code}` cannot be accepted"),
                    Some(format!("only these needs can: {}", ACCEPTABLE.join(", "))),
                ));
            }
            if why.get_ref().trim().is_empty() {
                return Err(self.err(
                    why.span(),
                    format!("say why the app does without `{code}`"),
                    None,
                ));
            }
            out.insert(code.clone(), why.get_ref().clone());
        }
        Ok(out)
    }

    pub(super) fn app_files(&self, files: &Spanned<Vec<Spanned<String>>>) -> R<Vec<String>> {
        if files.get_ref().is_empty() {
            return Err(self.err(
                files.span(),
                "`files` is empty: the image would hold no app".into(),
                Some(
                    "list the installed files that make up the app, e.g. [\"/usr/local/bin/app\"]"
                        .into(),
                ),
            ));
        }
        files
            .get_ref()
            .iter()
            .map(|f| self.image_path(f, "app file"))
            .collect()
    }

    pub(super) fn image(&self, i: schema::ImageTable, app_files: &[String], own: &str) -> R<Image> {
        let entrypoint = match &i.entrypoint {
            Some(e) => {
                let argv = e.get_ref();
                match argv.first() {
                    None => return Err(self.err(e.span(), "the entrypoint is empty".into(), None)),
                    Some(p) if !p.starts_with('/') => {
                        return Err(self.err(
                            e.span(),
                            format!("entrypoint `{p}` is not an absolute path"),
                            Some("a distroless image has no shell and no PATH search: give the full path, e.g. \"/usr/local/bin/app\"".into()),
                        ))
                    }
                    Some(p) => {
                        self.check(e.span(), rules::image_path(p, "entrypoint"))?;
                        argv.clone()
                    }
                }
            }
            None => app_files.first().cloned().into_iter().collect(),
        };
        let user = match &i.user {
            None => User {
                uid: 1000,
                gid: 1000,
                name: String::new(),
            },
            Some(u) => self.check(u.span(), rules::user(u.get_ref()))?,
        };
        let name = match (&i.user_name, user.name.is_empty()) {
            (Some(n), _) => {
                self.check(n.span(), rules::user_name(n.get_ref(), user.uid))?;
                n.get_ref().clone()
            }
            (None, true) => "app".into(),
            (None, false) => user.name.clone(),
        };
        let user = User { name, ..user };
        let mut ports = Vec::new();
        for p in &i.ports {
            ports.push(self.port(p)?);
        }
        let volumes = i
            .volumes
            .iter()
            .map(|v| self.image_path(v, "volume"))
            .collect::<R<Vec<_>>>()?;
        // The programs of the image: a writable folder never holds one.
        let programs: Vec<String> = app_files
            .iter()
            .chain(entrypoint.first())
            .cloned()
            .collect();
        let writable = i
            .writable
            .iter()
            .map(|v| self.check(v.span(), rules::writable(v.get_ref(), &programs)))
            .collect::<R<Vec<_>>>()?;
        let workdir = i
            .workdir
            .as_ref()
            .map(|w| self.image_path(w, "workdir"))
            .transpose()?;
        let include = match &i.include {
            None => Vec::new(),
            Some(list) => self.deps(list, own, "includes")?,
        };
        let health = i.health.as_ref().map(|h| self.health(h)).transpose()?;
        let mut include = include;
        if health.is_some() && !include.iter().any(|d| d.name == HEALTH_PROBE_RECIPE) {
            include.push(Dep {
                name: HEALTH_PROBE_RECIPE.to_string(),
                span: i.health.as_ref().map(|h| h.span()).unwrap_or(0..0),
            });
        }
        Ok(Image {
            entrypoint,
            cmd: i.cmd,
            env: i.env,
            workdir,
            user,
            ports,
            volumes,
            writable,
            labels: i.labels,
            include,
            health,
        })
    }

    fn health(&self, h: &Spanned<schema::HealthTable>) -> R<Health> {
        let t = h.get_ref();
        let port = match t.port.get_ref() {
            toml::Value::Integer(n) if (1..=65535).contains(n) => *n as u16,
            toml::Value::Integer(n) => {
                return Err(self.err(t.port.span(), format!("port {n} is out of range"), None));
            }
            other => {
                return Err(self.err(
                    t.port.span(),
                    format!("the health port must be a number, found `{other}`"),
                    Some("e.g. `port = 8080`".into()),
                ));
            }
        };
        let probe = match (&t.http, t.tcp) {
            (Some(p), None | Some(false)) => {
                if !p.get_ref().starts_with('/') {
                    return Err(self.err(
                        p.span(),
                        format!("health path `{}` does not start with `/`", p.get_ref()),
                        Some("e.g. `http = \"/health\"`".into()),
                    ));
                }
                Probe::Http(p.get_ref().clone())
            }
            (None, Some(true)) => Probe::Tcp,
            (Some(_), Some(true)) => {
                return Err(self.err(
                    h.span(),
                    "give either `http = \"/path\"` or `tcp = true`, not both".into(),
                    None,
                ));
            }
            (None, _) => {
                return Err(self.err(
                    h.span(),
                    "the health probe needs `http = \"/path\"` or `tcp = true`".into(),
                    None,
                ));
            }
        };
        let secs = |v: &Option<Spanned<u64>>, default: u64| -> R<u64> {
            match v {
                Some(s) if *s.get_ref() == 0 => {
                    Err(self.err(s.span(), "must be at least 1 second".into(), None))
                }
                Some(s) => Ok(*s.get_ref()),
                None => Ok(default),
            }
        };
        Ok(Health {
            probe,
            port,
            interval_secs: secs(&t.interval, 30)?,
            timeout_secs: secs(&t.timeout, 5)?,
            retries: t.retries.unwrap_or(3),
            start_period_secs: match &t.start_period {
                Some(s) => *s.get_ref(),
                None => 5,
            },
        })
    }

    fn port(&self, p: &Spanned<toml::Value>) -> R<String> {
        let bad = |what: String| {
            self.err(
                p.span(),
                what,
                Some("write a port as a number 1-65535 or as \"PORT/tcp\" or \"PORT/udp\"".into()),
            )
        };
        match p.get_ref() {
            toml::Value::Integer(n) if (1..=65535).contains(n) => Ok(format!("{n}/tcp")),
            toml::Value::Integer(n) => Err(bad(format!("port {n} is out of range"))),
            toml::Value::String(s) => {
                let (num, proto) = s.split_once('/').unwrap_or((s.as_str(), "tcp"));
                match (num.parse::<u16>(), proto) {
                    (Ok(n), "tcp" | "udp") if n > 0 => Ok(format!("{n}/{proto}")),
                    _ => Err(bad(format!("`{s}` is not a port"))),
                }
            }
            other => Err(bad(format!(
                "a port must be a number or a string, found {}",
                other.type_str()
            ))),
        }
    }
}
