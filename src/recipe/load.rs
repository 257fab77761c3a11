//! Reading recipe files: TOML to [`schema`], then validation to [`model`], with every mistake
//! reported at its `file:line:column`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::RecipeError;
use super::model::*;
use super::rules::{self, Refusal};
use super::schema::{self, OptionsTable};
use crate::arch::Arch;

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
        let source = self.source(&raw.source)?;
        let build = self.build(&raw.build)?;
        let depends = self.deps(&raw.depends, &name, "depends on")?;
        let host_depends = self.deps(&raw.host_depends, &name, "depends on")?;
        let accept = match &raw.app {
            Some(app) => self.accept(&app.get_ref().accept)?,
            None => BTreeMap::new(),
        };
        let app_files = match &raw.app {
            Some(app) => self.app_files(&app.get_ref().files)?,
            None => {
                let library_only = |what: &str, span: Range<usize>| {
                    self.err(
                        span,
                        format!("a library recipe (no [app]) has no {what}"),
                        Some(
                            "add an [app] table listing the app's files, or remove this table"
                                .into(),
                        ),
                    )
                };
                if let Some(s) = &raw.smoke {
                    return Err(library_only("smoke test", s.span()));
                }
                if let Some(i) = &raw.image {
                    return Err(library_only("image", i.span()));
                }
                Vec::new()
            }
        };
        let smoke = match raw.smoke.map(Spanned::into_inner) {
            None => None,
            Some(s) => {
                if s.command.get_ref().is_empty() {
                    return Err(self.err(
                        s.command.span(),
                        "the smoke command is empty".into(),
                        Some(
                            "give the program and its arguments, e.g. [\"app\", \"--version\"]"
                                .into(),
                        ),
                    ));
                }
                if s.expect.get_ref().is_empty() {
                    return Err(self.err(
                        s.expect.span(),
                        "`expect` is empty, so any output would pass".into(),
                        Some("give text the command's output must contain".into()),
                    ));
                }
                Some(Smoke {
                    command: s.command.into_inner(),
                    expect: s.expect.into_inner(),
                    timeout_secs: s.timeout.unwrap_or(60),
                })
            }
        };
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
            file: self.file.to_path_buf(),
            text: self.text.to_string(),
            depends,
            host_depends,
            source,
            build,
            app_files,
            accept,
            smoke,
            image,
        })
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

    fn source(&self, s: &Spanned<schema::SourceTable>) -> R<Source> {
        let t = s.get_ref();
        if let Some(path) = &t.path {
            if t.sha256.is_some()
                || !t.urls.is_empty()
                || t.debian.is_some()
                || t.go_module.is_some()
            {
                return Err(self.err(
                    path.span(),
                    "`path` cannot be combined with `sha256`, `urls`, `debian` or `go-module`"
                        .into(),
                    Some(
                        "a source is either a local directory or an archive pinned by sha256"
                            .into(),
                    ),
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
            return Ok(Source::Path(dir.join(path.get_ref())));
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
        let mut origins = Vec::new();
        for u in &t.urls {
            let url = u.get_ref();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(self.err(u.span(), format!("`{url}` is not an http(s) URL"), None));
            }
            origins.push(Origin::Url(url.clone()));
        }
        if let Some(d) = &t.debian {
            origins.push(Origin::Debian {
                package: d.package.clone(),
                version: d.version.clone(),
                file: d.file.clone(),
            });
        }
        let mut strip = 1;
        if let Some(p) = &t.pypi {
            // A wheel is a zip of top-level package folders: nothing to strip.
            strip = 0;
            origins.push(Origin::Pypi {
                package: p.package.clone(),
                version: p.version.clone(),
                file: p.file.clone(),
            });
        }
        if let Some(g) = &t.go_module {
            // The module zip holds `MODULE@VERSION/...`: one component per path element.
            strip = crate::source::go_module_strip(&g.module);
            origins.push(Origin::GoModule {
                module: g.module.clone(),
                version: g.version.clone(),
            });
        }
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
            strip: t.strip.unwrap_or(strip),
        })
    }

    fn build(&self, table: &Spanned<OptionsTable>) -> R<Build> {
        let b = table.get_ref();
        let Some(system_name) = &b.system else {
            return Err(self.err(
                table.span(),
                "missing field `system`".into(),
                Some(format!(
                    "say how to build: system = one of {}",
                    System::NAMES
                )),
            ));
        };
        let Some(system) = System::parse(system_name.get_ref()) else {
            return Err(self.err(
                system_name.span(),
                format!("unknown build system `{}`", system_name.get_ref()),
                Some(format!("expected one of: {}", System::NAMES)),
            ));
        };
        let common = self.options(system, b)?;
        let mut per_arch = BTreeMap::new();
        let arch_tables = b
            .arch
            .as_ref()
            .map(|a| a.get_ref().iter().collect::<Vec<_>>())
            .unwrap_or_default();
        for (key, opts) in arch_tables {
            if let Some(s) = &opts.system {
                return Err(self.err(
                    s.span(),
                    "`system` cannot differ per arch".into(),
                    Some("set it once in [build]".into()),
                ));
            }
            if let Some(a) = &opts.arch {
                return Err(self.err(a.span(), "per-arch tables cannot nest".into(), None));
            }
            let arch: Arch = key
                .get_ref()
                .parse()
                .map_err(|e: crate::arch::UnknownArch| self.err(key.span(), e.to_string(), None))?;
            per_arch.insert(arch, self.options(system, opts)?);
        }
        Ok(Build {
            system,
            common,
            per_arch,
        })
    }

    fn options(&self, system: System, o: &OptionsTable) -> R<Options> {
        // Which keys each build system reads; a key it would ignore is a mistake.
        let check =
            |field: &'static str, span: Option<Range<usize>>, systems: &[System]| -> R<()> {
                match span {
                    Some(span) if !systems.contains(&system) => Err(self.err(
                        span,
                        format!(
                            "`{field}` does not apply to build system `{}`",
                            system.name()
                        ),
                        Some(format!(
                            "`{field}` is read by: {}",
                            systems
                                .iter()
                                .map(|s| s.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    )),
                    _ => Ok(()),
                }
            };
        use System::*;
        check(
            "configure-args",
            o.configure_args.as_ref().map(|s| s.span()),
            &[Autotools],
        )?;
        check(
            "make-args",
            o.make_args.as_ref().map(|s| s.span()),
            &[Make, Autotools],
        )?;
        check(
            "install-args",
            o.install_args.as_ref().map(|s| s.span()),
            &[Make, Autotools],
        )?;
        check(
            "cmake-args",
            o.cmake_args.as_ref().map(|s| s.span()),
            &[Cmake],
        )?;
        check(
            "meson-args",
            o.meson_args.as_ref().map(|s| s.span()),
            &[Meson],
        )?;
        check("packages", o.packages.as_ref().map(|s| s.span()), &[Go])?;
        check("tags", o.tags.as_ref().map(|s| s.span()), &[Go])?;
        check("go-ldflags", o.go_ldflags.as_ref().map(|s| s.span()), &[Go])?;
        check("cgo", o.cgo.as_ref().map(|s| s.span()), &[Go])?;
        check("script", o.script.as_ref().map(|s| s.span()), &[Script])?;
        if let Some(sub) = &o.subdir {
            self.relative_path(sub)?;
        }
        let list = |v: &Option<Spanned<Vec<String>>>| {
            v.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default()
        };
        Ok(Options {
            env: o.env.clone(),
            cflags: o.cflags.clone(),
            ldflags: o.ldflags.clone(),
            subdir: o.subdir.as_ref().map(|s| s.get_ref().clone()),
            configure_args: list(&o.configure_args),
            make_args: list(&o.make_args),
            install_args: o.install_args.as_ref().map(|s| s.get_ref().clone()),
            cmake_args: list(&o.cmake_args),
            meson_args: list(&o.meson_args),
            packages: list(&o.packages),
            tags: list(&o.tags),
            go_ldflags: list(&o.go_ldflags),
            cgo: o.cgo.as_ref().map(|s| *s.get_ref()).unwrap_or(false),
            script: list(&o.script),
        })
    }

    fn relative_path(&self, p: &Spanned<String>) -> R<()> {
        let path = Path::new(p.get_ref());
        if p.get_ref().chars().any(char::is_control)
            || path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(self.err(
                p.span(),
                format!(
                    "`{}` must be a relative path inside the source tree",
                    p.get_ref()
                ),
                None,
            ));
        }
        Ok(())
    }

    /// An absolute path inside the image in normal form ([`rules::image_path`]).
    fn image_path(&self, p: &Spanned<String>, what: &str) -> R<String> {
        self.check(p.span(), rules::image_path(p.get_ref(), what))
    }

    fn accept(&self, accept: &BTreeMap<String, Spanned<String>>) -> R<BTreeMap<String, String>> {
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

    fn app_files(&self, files: &Spanned<Vec<Spanned<String>>>) -> R<Vec<String>> {
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

    fn image(&self, i: schema::ImageTable, app_files: &[String], own: &str) -> R<Image> {
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
            return p.is_file().then_some(p);
        }
        if name_or_path.is_empty() || name_or_path.contains(['/', '\0']) {
            return None;
        }
        self.dirs
            .iter()
            .map(|d| d.join(format!("{name_or_path}.toml")))
            .find(|p| p.is_file())
    }
}
