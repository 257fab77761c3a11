//! `[build]` and its per-arch tables: the build system, which options apply to it, and the
//! `${NAME}` variables option strings may use.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::{R, Validator};
use crate::arch::Arch;
use crate::recipe::model::{Build, GoPackage, Optimize, Options, System};
use crate::recipe::rules;
use crate::recipe::schema::{GoPackageEntry, OptionsTable};
use crate::toolchain::cc::launcher::ENV as RUN_TARGET_ENV;

/// An option key, where the recipe sets it, and the build systems that read it.
type Applies<'a> = (&'static str, Option<Range<usize>>, &'a [System]);

impl Validator<'_> {
    pub(super) fn build(&self, table: &Spanned<OptionsTable>) -> R<Build> {
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
        if system == System::Script {
            self.script_runs_target_programs(b)?;
        }
        Ok(Build {
            system,
            common,
            per_arch,
        })
    }

    fn options(&self, system: System, o: &OptionsTable) -> R<Options> {
        self.applies(system, o)?;
        if let Some(sub) = &o.subdir {
            self.relative_path(sub)?;
        }
        let list = |v: &Option<Spanned<Vec<Spanned<String>>>>| -> R<Vec<String>> {
            match v {
                Some(v) => self.strings(v.get_ref()),
                None => Ok(Vec::new()),
            }
        };
        let mut env = BTreeMap::new();
        for (k, v) in &o.env {
            if k == RUN_TARGET_ENV {
                return Err(self.err(
                    v.span(),
                    format!("`{RUN_TARGET_ENV}` cannot be set in `env`"),
                    Some(
                        "say `run-target-programs = true`: it is set for the configure step \
                         only, so that the build itself links real programs"
                            .into(),
                    ),
                ));
            }
            if system == System::Cargo
                && [
                    "RUSTFLAGS",
                    "CARGO_ENCODED_RUSTFLAGS",
                    "CARGO_BUILD_RUSTFLAGS",
                ]
                .contains(&k.as_str())
            {
                return Err(self.err(
                    v.span(),
                    format!("`{k}` cannot be set in a cargo build's `env`"),
                    Some(
                        "it would replace the flags that give rustc the prebuilt musl std \
                         (`--sysroot`) and `+crt-static`; set target options in the package's \
                         own `.cargo/config.toml` or `Cargo.toml` profile instead"
                            .into(),
                    ),
                ));
            }
            env.insert(k.clone(), self.string(v)?);
        }
        Ok(Options {
            env,
            cflags: self.strings(&o.cflags)?,
            ldflags: self.strings(&o.ldflags)?,
            subdir: o.subdir.as_ref().map(|s| s.get_ref().clone()),
            configure_args: list(&o.configure_args)?,
            make_args: list(&o.make_args)?,
            install_args: o
                .install_args
                .as_ref()
                .map(|a| self.strings(a.get_ref()))
                .transpose()?,
            cmake_args: list(&o.cmake_args)?,
            meson_args: list(&o.meson_args)?,
            make_targets: self.targets("make-targets", &o.make_targets)?,
            install_targets: self.targets("install-targets", &o.install_targets)?,
            packages: match &o.packages {
                Some(p) => self.packages(p.get_ref())?,
                None => Vec::new(),
            },
            tags: o
                .tags
                .as_ref()
                .map(|s| s.get_ref().clone())
                .unwrap_or_default(),
            go_ldflags: list(&o.go_ldflags)?,
            cgo: o.cgo.as_ref().map(|s| *s.get_ref()).unwrap_or(false),
            script: list(&o.script)?,
            bins: self.bins(&o.bins)?,
            features: self.features(&o.features)?,
            no_default_features: o.no_default_features.as_ref().is_some_and(|s| *s.get_ref()),
            autoreconf: o.autoreconf.as_ref().is_some_and(|s| *s.get_ref()),
            run_target_programs: o.run_target_programs.as_ref().is_some_and(|s| *s.get_ref()),
            optimize: self.optimize(&o.optimize)?,
            lto: o.lto.as_ref().map(|s| *s.get_ref()),
        })
    }

    /// `optimize`: `"speed"`, `"size"` or `"smallest"`.
    fn optimize(&self, v: &Option<Spanned<String>>) -> R<Option<Optimize>> {
        let Some(v) = v else { return Ok(None) };
        match Optimize::parse(v.get_ref()) {
            Some(o) => Ok(Some(o)),
            None => Err(self.err(
                v.span(),
                format!("unknown `optimize` value `{}`", v.get_ref()),
                Some(format!("expected one of: {}", Optimize::NAMES)),
            )),
        }
    }

    /// A script build sets `RECIPE_RUN_TARGET_PROGRAMS` itself, around its configure command
    /// (the build after it must link real programs): `run-target-programs` (which puts the
    /// target's `uname` on PATH) and that variable in the script go together, for every arch.
    fn script_runs_target_programs(&self, b: &OptionsTable) -> R<()> {
        let arch_tables: Vec<&OptionsTable> = b
            .arch
            .as_ref()
            .map(|a| a.get_ref().values().collect())
            .unwrap_or_default();
        let key = |t: &OptionsTable| {
            t.run_target_programs
                .as_ref()
                .filter(|k| *k.get_ref())
                .map(Spanned::span)
        };
        let mention = |t: &OptionsTable| {
            t.script.as_ref().and_then(|s| {
                s.get_ref()
                    .iter()
                    .find(|l| l.get_ref().contains(RUN_TARGET_ENV))
                    .map(Spanned::span)
            })
        };
        // Each arch's build: [build] with its own table, or [build] alone.
        let mut builds: Vec<[&OptionsTable; 2]> = arch_tables.iter().map(|t| [b, *t]).collect();
        builds.push([b, b]);
        for tables in builds {
            let on = tables.iter().find_map(|t| key(t));
            let said = tables.iter().find_map(|t| mention(t));
            match (on, said) {
                (Some(on), None) => {
                    return Err(self.err(
                        on,
                        format!(
                            "`run-target-programs` is on but the script never sets \
                             `{RUN_TARGET_ENV}`"
                        ),
                        Some(format!(
                            "run the configure command as `{RUN_TARGET_ENV}=1 ./configure ...`; \
                             the build after it must link real programs"
                        )),
                    ));
                }
                (None, Some(line)) => {
                    return Err(self.err(
                        line,
                        format!("the script sets `{RUN_TARGET_ENV}` without `run-target-programs`"),
                        Some(
                            "add `run-target-programs = true` to [build]: it also gives the \
                             configure step the target's `uname -m`"
                                .into(),
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Which keys each build system reads; a key it would ignore is a mistake.
    fn applies(&self, system: System, o: &OptionsTable) -> R<()> {
        use System::*;
        fn span<T>(v: &Option<Spanned<T>>) -> Option<Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        let keys: [Applies; 19] = [
            ("configure-args", span(&o.configure_args), &[Autotools]),
            ("make-args", span(&o.make_args), &[Make, Autotools]),
            ("install-args", span(&o.install_args), &[Make, Autotools]),
            ("make-targets", span(&o.make_targets), &[Make, Autotools]),
            (
                "install-targets",
                span(&o.install_targets),
                &[Make, Autotools],
            ),
            ("cmake-args", span(&o.cmake_args), &[Cmake]),
            ("meson-args", span(&o.meson_args), &[Meson]),
            ("packages", span(&o.packages), &[Go]),
            ("tags", span(&o.tags), &[Go]),
            ("go-ldflags", span(&o.go_ldflags), &[Go]),
            ("cgo", span(&o.cgo), &[Go]),
            ("script", span(&o.script), &[Script]),
            ("bins", span(&o.bins), &[Cargo]),
            ("features", span(&o.features), &[Cargo]),
            (
                "no-default-features",
                span(&o.no_default_features),
                &[Cargo],
            ),
            ("autoreconf", span(&o.autoreconf), &[Autotools]),
            (
                "run-target-programs",
                span(&o.run_target_programs),
                &[Autotools, Cmake, Meson, Script],
            ),
            // Go has its own compiler and linker, with no such switches.
            (
                "optimize",
                span(&o.optimize),
                &[Autotools, Make, Cmake, Meson, Script, Cargo],
            ),
            (
                "lto",
                span(&o.lto),
                &[Autotools, Make, Cmake, Meson, Script, Cargo],
            ),
        ];
        for (field, span, systems) in keys {
            if let Some(span) = span
                && !systems.contains(&system)
            {
                return Err(self.err(
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
                ));
            }
        }
        Ok(())
    }

    /// `make-targets` / `install-targets`: a non-empty list of make goals, each a plain name
    /// (a `NAME=value` or an option belongs in `make-args` / `install-args`).
    fn targets(
        &self,
        key: &str,
        v: &Option<Spanned<Vec<Spanned<String>>>>,
    ) -> R<Option<Vec<String>>> {
        let Some(list) = v else { return Ok(None) };
        if list.get_ref().is_empty() {
            return Err(self.err(
                list.span(),
                format!("`{key}` is empty"),
                Some(format!(
                    "name at least one make target, or leave `{key}` out for the default"
                )),
            ));
        }
        let mut out = Vec::new();
        for t in list.get_ref() {
            self.check(t.span(), rules::make_target(t.get_ref()))?;
            out.push(t.get_ref().clone());
        }
        Ok(Some(out))
    }

    /// `bins`: cargo binary names, each a plain file name, none twice.
    fn bins(&self, v: &Option<Spanned<Vec<Spanned<String>>>>) -> R<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for b in v
            .as_ref()
            .map(|v| v.get_ref().as_slice())
            .unwrap_or_default()
        {
            self.check(b.span(), rules::binary_name(b.get_ref()))?;
            if out.contains(b.get_ref()) {
                return Err(self.err(b.span(), format!("`{}` is listed twice", b.get_ref()), None));
            }
            out.push(b.get_ref().clone());
        }
        Ok(out)
    }

    /// `features`: cargo feature names (`name`, or `dependency/name`), each once.
    fn features(&self, v: &Option<Spanned<Vec<Spanned<String>>>>) -> R<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for f in v
            .as_ref()
            .map(|v| v.get_ref().as_slice())
            .unwrap_or_default()
        {
            self.check(f.span(), rules::cargo_feature(f.get_ref()))?;
            if out.contains(f.get_ref()) {
                return Err(self.err(
                    f.span(),
                    format!("feature `{}` is listed twice", f.get_ref()),
                    None,
                ));
            }
            out.push(f.get_ref().clone());
        }
        Ok(out)
    }

    /// `packages`: each a package path (with `${NAME}` variables) and maybe its binary's name.
    fn packages(&self, v: &[Spanned<GoPackageEntry>]) -> R<Vec<GoPackage>> {
        let mut out: Vec<GoPackage> = Vec::new();
        for p in v {
            let (path, name) = match p.get_ref() {
                GoPackageEntry::Path(path) => {
                    let s = Spanned::new(p.span(), path.clone());
                    (self.string(&s)?, None)
                }
                GoPackageEntry::Named { path, name } => {
                    let name = match name {
                        Some(n) => {
                            self.check(n.span(), rules::binary_name(n.get_ref()))?;
                            if out.iter().any(|o| o.name.as_deref() == Some(n.get_ref())) {
                                return Err(self.err(
                                    n.span(),
                                    format!("two packages are named `{}`", n.get_ref()),
                                    Some("give each package's binary its own name".into()),
                                ));
                            }
                            Some(n.get_ref().clone())
                        }
                        None => None,
                    };
                    (self.string(path)?, name)
                }
            };
            out.push(GoPackage { path, name });
        }
        Ok(out)
    }

    /// Option strings whose `${NAME}` variables planning replaces: each name must be known.
    fn strings(&self, v: &[Spanned<String>]) -> R<Vec<String>> {
        v.iter().map(|s| self.string(s)).collect()
    }

    fn string(&self, s: &Spanned<String>) -> R<String> {
        self.check(s.span(), rules::known_variables(s.get_ref()))?;
        Ok(s.get_ref().clone())
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
}
