//! The app's files and accepted needs, `[image]` and `[image.health]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::{R, Validator};
use crate::recipe::model::*;
use crate::recipe::model::{FileContents, ImageFile, MAX_IMAGE_FILE, Owner};
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

    /// `[app] compress`: a packer this build knows.
    pub(super) fn compress(&self, c: &Spanned<String>) -> R<Compress> {
        Compress::parse(c.get_ref()).ok_or_else(|| {
            self.err(
                c.span(),
                format!("unknown compression `{}`", crate::text::escape(c.get_ref())),
                Some(format!(
                    "the packers are: {} (UPX: LZMA, NRV on arm64; leave `compress` out to ship the \
                     executables as built)",
                    Compress::NAMES.join(", ")
                )),
            )
        })
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
        let probe = health.as_ref().map(|_| HEALTH_PROBE_PATH);
        let files = self.image_files(&i.files, app_files, &entrypoint, &writable, probe, &i)?;
        Ok(Image {
            files,
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

    /// `[[image.file]]`: each `from` a normal path beside the recipe, each `to` a normal image
    /// path that collides with nothing else the image holds, a safe mode, a permitted owner.
    /// The files are not read here ([`read_image_files`] does).
    fn image_files(
        &self,
        list: &[Spanned<schema::FileTable>],
        app_files: &[String],
        entrypoint: &[String],
        writable: &[String],
        probe: Option<&str>,
        i: &schema::ImageTable,
    ) -> R<Vec<ImageFile>> {
        let taken = Taken {
            app_files,
            entrypoint,
            writable,
            probe,
            image: i,
        };
        let mut out: Vec<ImageFile> = Vec::new();
        for f in list {
            let t = f.get_ref();
            let from = self.check(t.from.span(), rules::beside_recipe(t.from.get_ref()))?;
            let to = self.image_path(&t.to, "image file")?;
            self.image_file_place(t, &to, &taken, &out)?;
            let mode = match &t.mode {
                Some(m) => self.check(m.span(), rules::file_mode(m.get_ref()))?,
                None => 0o644,
            };
            let owner = self.image_file_owner(t)?;
            let at = t.owner.as_ref().map(|o| o.span()).unwrap_or(t.to.span());
            self.check(
                at,
                rules::file_owner(&to, mode, owner == Owner::User, writable),
            )?;
            out.push(ImageFile {
                from,
                to,
                mode,
                owner,
                span: t.from.span(),
                contents: None,
            });
        }
        Ok(out)
    }

    /// That the image file `t`, put at `to`, collides with nothing `taken` and with none of
    /// the files declared before it (`before`).
    fn image_file_place(
        &self,
        t: &schema::FileTable,
        to: &str,
        taken: &Taken,
        before: &[ImageFile],
    ) -> R<()> {
        let clash = |a: &str, b: &str| rules::within(a, b) || rules::within(b, a);
        let shown = crate::text::escape(to);
        let collide = |what: String, help: &str| {
            Err(self.err(
                t.to.span(),
                format!("image file `{shown}` collides with {what}"),
                Some(help.to_string()),
            ))
        };
        const MOVE: &str = "put the file at a path of its own, e.g. \"/etc/APP/APP.conf\"";
        if let Some(a) = taken
            .app_files
            .iter()
            .chain(taken.entrypoint.first())
            .find(|a| clash(to, a))
        {
            return collide(format!("the app file `{}`", crate::text::escape(a)), MOVE);
        }
        // `[image.health]` puts the probe there (the `healthcheck` recipe's app file).
        if let Some(p) = taken.probe.filter(|p| clash(to, p)) {
            return collide(
                format!("the health probe `{p}`, which `[image.health]` puts in the image"),
                MOVE,
            );
        }
        if let Some(b) = BASE_PATHS.iter().find(|b| to == **b) {
            return collide(
                format!("`{b}`, which the image writes itself"),
                "the image's /etc/passwd and /etc/group hold root, nobody and the app user; \
                 set the user with [image] `user` and `user-name`",
            );
        }
        if rules::within(to, rules::SBOM_FOLDER) {
            return collide(
                format!("the SBOM folder `{}`", rules::SBOM_FOLDER),
                "the image's SBOM is written there; put the file elsewhere",
            );
        }
        let i = taken.image;
        let folders = taken
            .writable
            .iter()
            .map(|w| ("writable folder", w.as_str()))
            .chain(i.volumes.iter().map(|v| ("volume", v.get_ref().as_str())))
            .chain(i.workdir.iter().map(|w| ("workdir", w.get_ref().as_str())));
        for (what, dir) in folders {
            let dir = dir.trim_end_matches('/');
            if to == dir || rules::within(dir, to) {
                return collide(format!("the {what} `{}`", crate::text::escape(dir)), MOVE);
            }
        }
        if let Some(o) = before.iter().find(|o| clash(to, &o.to)) {
            return collide(
                format!(
                    "the image file `{}` declared before",
                    crate::text::escape(&o.to)
                ),
                "each image file has a path of its own",
            );
        }
        Ok(())
    }

    /// The owner of the image file `t`: root unless it names the image's user.
    fn image_file_owner(&self, t: &schema::FileTable) -> R<Owner> {
        let Some(o) = &t.owner else {
            return Ok(Owner::Root);
        };
        match o.get_ref().as_str() {
            "root" => Ok(Owner::Root),
            "user" => Ok(Owner::User),
            other => Err(self.err(
                o.span(),
                format!("unknown owner `{}`", crate::text::escape(other)),
                Some(
                    "an image file is owned by \"root\" (the default) or by the image's \"user\""
                        .into(),
                ),
            )),
        }
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

/// What an image file must not collide with: the paths the image holds besides the declared
/// files.
struct Taken<'a> {
    app_files: &'a [String],
    entrypoint: &'a [String],
    writable: &'a [String],
    /// The health probe's path, when `[image.health]` puts one in.
    probe: Option<&'a str>,
    /// The volumes and the workdir.
    image: &'a schema::ImageTable,
}

/// Files the image writes itself: an image file may not be one of them.
const BASE_PATHS: &[&str] = &["/etc", "/etc/passwd", "/etc/group", "/tmp"];

/// Reads the bytes of each `[[image.file]]` of `recipe` (loaded from `file`, whose text is
/// `text`) from the recipe's folder: every component a real folder (no symlink on the way,
/// so nothing leads out), the file itself a regular file (a FIFO or device is never opened),
/// at most [`MAX_IMAGE_FILE`] bytes. A failure points at the file's `from`.
pub fn read_image_files(file: &Path, text: &str, recipe: &mut Recipe) -> R<()> {
    let v = Validator { file, text };
    let dir = recipe_dir(file);
    for f in &mut recipe.image.files {
        let bytes = read_beside(&dir, &f.from).map_err(|why| {
            v.err(
                f.span.clone(),
                format!(
                    "cannot read image file `{}`: {why}",
                    crate::text::escape(&f.from)
                ),
                Some(format!(
                    "`from` names a regular file of at most {MAX_IMAGE_FILE} bytes in the \
                     recipe's folder `{}` or below it",
                    crate::text::path(&dir)
                )),
            )
        })?;
        f.contents = Some(FileContents::new(bytes));
    }
    Ok(())
}

/// The folder the files beside recipe `file` are read from.
pub(super) fn recipe_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The bytes of `rel` beside the recipe `file` (whose text is `text`), for a `what` (`patch`,
/// `smoke file`) named at `span`: a missing file or any failure is a recipe error there.
pub(super) fn read_named_beside(
    file: &Path,
    text: &str,
    rel: &str,
    span: std::ops::Range<usize>,
    what: &str,
) -> Result<Vec<u8>, Box<crate::recipe::RecipeError>> {
    let dir = recipe_dir(file);
    read_beside(&dir, rel).map_err(|why| {
        let rel = crate::text::escape(rel);
        Box::new(crate::recipe::RecipeError::new(
            file,
            text,
            span,
            match why.as_str() {
                MISSING => format!("{what} `{rel}` does not exist beside the recipe"),
                _ => format!("cannot read {what} `{rel}`: {why}"),
            },
            Some(format!(
                "name a regular file in the recipe's folder `{}` or below it",
                crate::text::path(&dir)
            )),
        ))
    })
}

/// What [`read_beside`] says of a file that is not there.
const MISSING: &str = "it does not exist";

/// The bytes of `rel` (a normal relative path) under `dir`, following no symlink.
pub(super) fn read_beside(dir: &Path, rel: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let comps: Vec<&str> = rel.split('/').collect();
    let mut at = dir.to_path_buf();
    for (n, c) in comps.iter().enumerate() {
        at.push(c);
        let meta = std::fs::symlink_metadata(&at).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => MISSING.to_string(),
            _ => e.to_string(),
        })?;
        let last = n + 1 == comps.len();
        if meta.file_type().is_symlink() {
            return Err(format!(
                "`{}` is a symlink (followed nowhere, so nothing leads out of the folder)",
                crate::text::escape(&comps[..=n].join("/"))
            ));
        }
        if !last && !meta.is_dir() {
            return Err(format!(
                "`{}` is {}, not a folder",
                crate::text::escape(&comps[..=n].join("/")),
                crate::walk::kind_name(meta.file_type())
            ));
        }
    }
    let (file, meta) = crate::walk::open_regular(&at, false).map_err(|e| e.to_string())?;
    if meta.len() > MAX_IMAGE_FILE {
        return Err(format!(
            "it is {} bytes, more than the {MAX_IMAGE_FILE} a file beside a recipe may have",
            meta.len()
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_IMAGE_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_IMAGE_FILE {
        return Err(format!(
            "it grew past the {MAX_IMAGE_FILE} bytes a file beside a recipe may have"
        ));
    }
    Ok(bytes)
}
