//! The commands of each build system (make, autotools, cmake, meson, go, cargo, script) for one
//! target, one file each, and the environment they share ([`Shared`]): the zig wrappers, the
//! sysroot's pkg-config, flags and the `${NAME}` variables. Pure.

mod autotools;
pub mod cargo;
mod cmake;
mod go;
mod make;
mod meson;
mod script;

pub use cmake::cmake_toolchain;
pub use meson::meson_cross_file;

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Command, Context, PREFIX, PlanError, Step};
use crate::arch::Arch;
use crate::recipe::{Optimize, Options, System, rules};
use crate::toolchain::cc::launcher;
use crate::toolchain::wrappers::{self, Wrappers};

pub struct Layout {
    pub work: PathBuf,
    pub src: PathBuf,
    pub dest: PathBuf,
    /// The dependencies' installed trees, merged; `usr/local/{include,lib}` in it.
    pub sysroot: PathBuf,
    /// The host tools' installed trees, merged (`${HOST_SYSROOT}`).
    pub host_sysroot: PathBuf,
    /// `bin` folders of host tools, put on PATH.
    pub host_bins: Vec<PathBuf>,
    /// The build cache (its toolchains, zig's and Go's caches).
    pub cache: PathBuf,
    /// How steps see the machine: every path above is already a seen one.
    pub view: super::View,
}

/// The plan rules revised since [`crate::plan::graph::BUILD_LOGIC`] was last bumped, each named
/// for the jobs it changes (`system`, options `o`) and part of those jobs' keys only: their old
/// entries are not reused, and no other entry is rebuilt. Folded into `BUILD_LOGIC` when it
/// is next bumped.
pub fn revised_rules(system: System, o: &Options) -> Vec<&'static str> {
    let mut rules = Vec::new();
    if system == System::Autotools && o.run_target_programs {
        rules.push("autotools run-target-programs: configure gets --host only");
    }
    rules
}

/// The steps of a `system` build of one recipe (options `o`) for `arch`.
pub fn steps(
    system: System,
    o: &Options,
    arch: Arch,
    ctx: &Context,
    l: &Layout,
) -> Result<Vec<Step>, PlanError> {
    let b = Shared::new(system, o, arch, ctx, l)?;
    match system {
        System::Make => make::steps(&b),
        System::Autotools => autotools::steps(&b),
        System::Cmake => cmake::steps(&b),
        System::Meson => meson::steps(&b),
        System::Go => go::steps(&b),
        System::Cargo => cargo::steps(&b),
        System::Script => script::steps(&b),
    }
}

/// The flag that turns link-time optimisation on, in `CFLAGS` and `LDFLAGS` (zig's linker
/// optimises the LLVM bitcode of every object and archive member across the whole program).
const LTO: &str = "-flto";

/// The optimisation flags every compile starts with: `-O2`, or `-Os` (`-Oz`) with a section
/// per function and per object (zig's linker drops unused sections); `-flto` with `lto`. (The
/// link line says `-Os` or `-Oz` too: zig builds libc++ for the link's optimisation.)
fn optimization(o: &Options) -> Vec<String> {
    let mut flags = vec![o.level()];
    if o.for_size() {
        flags.extend(["-ffunction-sections", "-fdata-sections"]);
    }
    if o.lto() {
        flags.push(LTO);
    }
    flags.into_iter().map(str::to_string).collect()
}

/// What every build system's steps start from.
pub(crate) struct Shared<'a> {
    pub o: &'a Options,
    pub arch: Arch,
    pub ctx: &'a Context,
    pub l: &'a Layout,
    pub w: Wrappers,
    /// `--jobs` as text.
    pub jobs: String,
    /// make's `-jN`, or nothing when the shared jobserver gives make its parallelism.
    pub make_j: Vec<String>,
    /// DESTDIR as text.
    pub dest: String,
    /// Where the build runs: the source tree or its `subdir`.
    pub cwd: PathBuf,
    /// Values `${NAME}` may refer to ([`rules::VARIABLES`]); they are also in the env.
    pub vars: BTreeMap<&'static str, String>,
    pub env: BTreeMap<String, String>,
    /// `-O2` and the recipe's `cflags`; `-static`, `-L<sysroot>` and its `ldflags`.
    pub cflags: Vec<String>,
    pub ldflags: Vec<String>,
}

impl<'a> Shared<'a> {
    fn new(
        system: System,
        o: &'a Options,
        arch: Arch,
        ctx: &'a Context,
        l: &'a Layout,
    ) -> Result<Self, PlanError> {
        let w = wrappers::paths(&l.cache, &ctx.zig_version, arch, l.view.fixed);
        let jobs = ctx.jobs.max(1).to_string();
        let make_j = if ctx.jobserver {
            vec![]
        } else {
            vec![format!("-j{jobs}")]
        };
        let cwd = match &o.subdir {
            Some(s) => l.src.join(s),
            None => l.src.clone(),
        };
        let mut b = Shared {
            o,
            arch,
            ctx,
            l,
            vars: variables(arch, &jobs, l, &w),
            w,
            jobs,
            make_j,
            dest: l.dest.display().to_string(),
            cwd,
            env: BTreeMap::new(),
            cflags: Vec::new(),
            ldflags: Vec::new(),
        };
        b.cflags = optimization(o)
            .into_iter()
            .chain(b.subst(&o.cflags)?)
            .collect();
        b.ldflags = ["-static".to_string(), format!("-L{}/lib", b.sys_prefix())]
            .into_iter()
            .chain(o.lto().then(|| LTO.to_string()))
            .chain(o.for_size().then(|| o.level().to_string()))
            .chain(b.subst(&o.ldflags)?)
            .collect();
        b.env = b.environment(system)?;
        Ok(b)
    }

    /// The sysroot's install prefix.
    fn sys_prefix(&self) -> String {
        format!("{}{PREFIX}", self.l.sysroot.display())
    }

    /// The environment of every step: wrappers and host tools first on PATH, pkg-config
    /// confined to the sysroot, reproducible settings, the variables, flags (but for Go) and
    /// the recipe's `env`.
    fn environment(&self, system: System) -> Result<BTreeMap<String, String>, PlanError> {
        let (ctx, l, w) = (self.ctx, self.l, &self.w);
        let sysroot = l.sysroot.display().to_string();
        let sys_prefix = self.sys_prefix();
        let mut path = vec![w.dir.display().to_string()];
        // A script sets RECIPE_RUN_TARGET_PROGRAMS itself, around its configure command; the
        // target's `uname` answers only there.
        if system == System::Script && self.o.run_target_programs {
            path.insert(0, w.run_target.display().to_string());
        }
        path.extend(l.host_bins.iter().map(|b| b.display().to_string()));
        path.push(ctx.host_path.clone());
        let triple = self.arch.info().triple;
        let mut env: BTreeMap<String, String> = [
            ("PATH", path.join(":")),
            ("PKG_CONFIG", w.pkg_config.display().to_string()),
            // autoconf's site defaults for a cross build (build-machine programs not found).
            ("CONFIG_SITE", w.config_site.display().to_string()),
            (
                "PKG_CONFIG_LIBDIR",
                format!("{sys_prefix}/lib/pkgconfig:{sys_prefix}/share/pkgconfig"),
            ),
            ("PKG_CONFIG_SYSROOT_DIR", sysroot.clone()),
            ("RECIPE_SYSROOT", sysroot),
            ("HOME", l.work.display().to_string()),
            ("LC_ALL", "C".into()),
            (
                "SOURCE_DATE_EPOCH",
                ctx.source_date_epoch
                    .map_or_else(|| super::SOURCE_DATE.to_string(), |e| e.to_string()),
            ),
            (
                "ZIG_GLOBAL_CACHE_DIR",
                crate::cache::Layout::new(&l.cache)
                    .zig_global(triple)
                    .display()
                    .to_string(),
            ),
            (
                "ZIG_LOCAL_CACHE_DIR",
                crate::cache::Work::at(&l.work)
                    .zig_cache()
                    .display()
                    .to_string(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in &self.vars {
            env.insert((*k).into(), v.clone());
        }
        if system != System::Go {
            // What a link line that names no level gets from the wrappers.
            env.insert(
                crate::toolchain::cc::filter::LEVEL_ENV.into(),
                self.o.level().to_string(),
            );
            env.insert("CFLAGS".into(), self.cflags.join(" "));
            env.insert("CXXFLAGS".into(), self.cflags.join(" "));
            env.insert("LDFLAGS".into(), self.ldflags.join(" "));
            env.insert("CPPFLAGS".into(), format!("-I{sys_prefix}/include"));
        }
        if system == System::Cargo {
            if self.o.for_size() {
                let level = match self.o.optimize {
                    Some(Optimize::Smallest) => "z",
                    _ => "s",
                };
                env.insert("CARGO_PROFILE_RELEASE_OPT_LEVEL".into(), level.into());
            }
            if self.o.lto() {
                env.insert("CARGO_PROFILE_RELEASE_LTO".into(), "fat".into());
            }
        }
        for (k, v) in &self.o.env {
            env.insert(k.clone(), substitute(v, &self.vars)?);
        }
        Ok(env)
    }

    /// The environment of a configure step (autotools) with `run-target-programs`: the
    /// wrappers link launchers for the programs it runs (under qemu-user in a cross build,
    /// [`crate::toolchain::cc::launcher`]), and `uname -m` answers the target's machine. The
    /// build and install steps keep `env`: they link real programs.
    fn configure_env(&self, env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut env = env.clone();
        if self.o.run_target_programs {
            env.insert(launcher::ENV.into(), "1".into());
            let path = env.get("PATH").cloned().unwrap_or_default();
            env.insert(
                "PATH".into(),
                format!("{}:{path}", self.w.run_target.display()),
            );
        }
        env
    }

    /// The program that runs target programs in a build with `run-target-programs` (cmake's
    /// `CMAKE_CROSSCOMPILING_EMULATOR`, meson's `exe_wrapper`): None without the key or natively.
    fn target_runner(&self) -> Option<&'static str> {
        Some(emulator(self.arch)).filter(|e| self.o.run_target_programs && !e.is_empty())
    }

    /// `args` with their `${NAME}` variables replaced.
    fn subst(&self, args: &[String]) -> Result<Vec<String>, PlanError> {
        args.iter().map(|a| substitute(a, &self.vars)).collect()
    }

    /// A command step named `name`.
    fn run(
        &self,
        name: &str,
        argv: Vec<String>,
        env: &BTreeMap<String, String>,
        cwd: &std::path::Path,
    ) -> Step {
        Step::Run(Command {
            name: name.into(),
            argv,
            env: env.clone(),
            cwd: cwd.to_path_buf(),
        })
    }

    /// make's goals for the build step: the recipe's `make-targets`, or none (the default goal).
    fn make_targets(&self) -> Vec<String> {
        self.o.make_targets.clone().unwrap_or_default()
    }

    /// make's goals for the install step: the recipe's `install-targets`, or `install`.
    fn install_targets(&self) -> Vec<String> {
        self.o
            .install_targets
            .clone()
            .unwrap_or_else(|| vec!["install".to_string()])
    }

    /// The wrappers as `NAME=path` arguments (`CC=...`), for make's command line.
    fn tool_args(&self) -> Vec<String> {
        self.tools()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// The wrappers by their make/autoconf names.
    fn tools(&self) -> [(&'static str, String); 5] {
        let w = &self.w;
        [
            ("CC", w.cc.display().to_string()),
            ("CXX", w.cxx.display().to_string()),
            ("AR", w.ar.display().to_string()),
            ("RANLIB", w.ranlib.display().to_string()),
            ("STRIP", w.strip.display().to_string()),
        ]
    }
}

/// The value of every name of [`rules::VARIABLES`] for one job.
fn variables(arch: Arch, jobs: &str, l: &Layout, w: &Wrappers) -> BTreeMap<&'static str, String> {
    let info = arch.info();
    let values = [
        ("DESTDIR", l.dest.display().to_string()),
        ("PREFIX", PREFIX.to_string()),
        ("JOBS", jobs.to_string()),
        ("TRIPLE", info.triple.to_string()),
        ("ARCH", info.name.to_string()),
        ("SRC", l.src.display().to_string()),
        ("SYSROOT", l.sysroot.display().to_string()),
        ("HOST_SYSROOT", l.host_sysroot.display().to_string()),
        ("CC", w.cc.display().to_string()),
        ("CXX", w.cxx.display().to_string()),
        ("AR", w.ar.display().to_string()),
        ("RANLIB", w.ranlib.display().to_string()),
        ("STRIP", w.strip.display().to_string()),
        ("EMULATOR", emulator(arch).to_string()),
    ];
    values.into_iter().collect()
}

/// The program that runs the target's programs on this build machine, for builds that run what
/// they compiled (configure scripts' test programs): the arch's qemu-user binary by name (found
/// on PATH when it runs; the smoke test needs it too), or nothing when the target is the build
/// machine's own arch.
fn emulator(arch: Arch) -> &'static str {
    if Arch::host() == Some(arch) {
        ""
    } else {
        arch.info().qemu.unwrap_or("")
    }
}

/// Replaces `${NAME}` with its value. The loader refuses unknown names
/// ([`rules::known_variables`]), so an error here means a recipe that was not loaded.
pub fn substitute(text: &str, vars: &BTreeMap<&str, String>) -> Result<String, PlanError> {
    let mut out = String::new();
    let mut at = 0;
    for (range, name) in rules::variables(text) {
        let Some(value) = vars.get(name) else {
            return Err(PlanError::UnknownVariable {
                name: name.into(),
                text: text.into(),
            });
        };
        out.push_str(&text[at..range.start]);
        out.push_str(value);
        at = range.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_known_and_rejects_unknown() {
        let mut v = BTreeMap::new();
        v.insert("DESTDIR", "/d".to_string());
        assert_eq!(
            substitute("PREFIX=${DESTDIR}/usr", &v).unwrap(),
            "PREFIX=/d/usr"
        );
        assert!(substitute("${NOPE}", &v).is_err());
        assert_eq!(substitute("$HOME ${", &v).unwrap(), "$HOME ${");
    }

    /// The loader's list of names and the values planning gives are the same set, so a name
    /// the loader accepts always has a value.
    #[test]
    fn every_variable_the_loader_accepts_has_a_value() {
        let l = layout();
        let w = wrappers::paths(std::path::Path::new("/c"), "0.0", Arch::Amd64, false);
        let vars = variables(Arch::Amd64, "2", &l, &w);
        let mut names: Vec<&str> = vars.keys().copied().collect();
        let mut known = rules::VARIABLES.to_vec();
        names.sort();
        known.sort();
        assert_eq!(names, known);
    }

    pub(super) fn layout() -> Layout {
        Layout {
            work: "/w".into(),
            src: "/w/src".into(),
            dest: "/w/dest".into(),
            sysroot: "/w/sysroot".into(),
            host_sysroot: "/w/host-sysroot".into(),
            host_bins: vec![],
            cache: "/cache".into(),
            view: crate::plan::View::as_is(),
        }
    }

    pub(super) fn context() -> Context {
        Context {
            zig_version: "0.0".into(),
            fixed_paths: false,
            ..Context::for_tests()
        }
    }

    fn argvs(system: System, o: &Options) -> Vec<Vec<String>> {
        let ctx = context();
        let l = layout();
        steps(system, o, Arch::Amd64, &ctx, &l)
            .unwrap()
            .into_iter()
            .map(|s| match s {
                Step::Run(c) => c.argv,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// Without a SOURCE_DATE_EPOCH of the user's, the plan leaves the source's date to the
    /// executor; with one, every step has it.
    #[test]
    fn source_date_epoch_is_the_users_or_the_sources() {
        let l = layout();
        let env = |ctx: &Context| -> Vec<Option<String>> {
            steps(System::Make, &Options::default(), Arch::Amd64, ctx, &l)
                .unwrap()
                .into_iter()
                .map(|s| match s {
                    Step::Run(c) => c.dated(1_600_000_000).env.get("SOURCE_DATE_EPOCH").cloned(),
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        let mut ctx = context();
        assert!(env(&ctx).iter().all(|e| e.as_deref() == Some("1")));
        ctx.source_date_epoch = None;
        let planned = steps(System::Make, &Options::default(), Arch::Amd64, &ctx, &l).unwrap();
        assert!(planned.iter().all(|s| match s {
            Step::Run(c) => c.env["SOURCE_DATE_EPOCH"] == crate::plan::SOURCE_DATE,
            _ => true,
        }));
        assert!(env(&ctx).iter().all(|e| e.as_deref() == Some("1600000000")));
    }

    /// `make-targets` and `install-targets` are make's goals in both make-driven systems; by
    /// default the build has none and the install is `install`.
    #[test]
    fn make_and_install_targets() {
        for system in [System::Make, System::Autotools] {
            let steps = argvs(system, &Options::default());
            let (build, install) = (&steps[steps.len() - 2], &steps[steps.len() - 1]);
            assert!(!build.iter().any(|a| a == "app"), "{build:?}");
            assert_eq!(install[..2], ["make", "install"], "{install:?}");
            let o = Options {
                make_targets: Some(vec!["app".into(), "tool".into()]),
                install_targets: Some(vec!["install-app".into()]),
                ..Options::default()
            };
            let steps = argvs(system, &o);
            let (build, install) = (&steps[steps.len() - 2], &steps[steps.len() - 1]);
            assert_eq!(build[build.len() - 2..], ["app", "tool"], "{build:?}");
            assert_eq!(install[..2], ["make", "install-app"], "{install:?}");
            assert!(!install.iter().any(|a| a == "install"), "{install:?}");
        }
    }

    /// A named Go package is built alone into `bin/NAME`; the others together into `bin/`.
    #[test]
    fn named_go_packages_get_their_own_output() {
        use crate::recipe::GoPackage;
        let o = Options {
            packages: vec![
                GoPackage {
                    path: "./cmd/a".into(),
                    name: None,
                },
                GoPackage {
                    path: ".".into(),
                    name: Some("app-v2".into()),
                },
            ],
            ..Options::default()
        };
        let steps = argvs(System::Go, &o);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert_eq!(
            steps[0][steps[0].len() - 2..],
            ["/w/dest/usr/local/bin/", "./cmd/a"]
        );
        assert_eq!(
            steps[1][steps[1].len() - 2..],
            ["/w/dest/usr/local/bin/app-v2", "."]
        );
        let only_named = Options {
            packages: vec![GoPackage {
                path: ".".into(),
                name: Some("x".into()),
            }],
            ..Options::default()
        };
        assert_eq!(argvs(System::Go, &only_named).len(), 1);
        assert_eq!(
            argvs(System::Go, &Options::default())[0].last().unwrap(),
            "."
        );
    }
    fn plan_for(system: System, o: &Options, arch: Arch) -> Vec<Step> {
        let ctx = context();
        steps(system, o, arch, &ctx, &layout()).unwrap()
    }

    /// The environments of the run steps by name.
    fn envs(steps: &[Step]) -> BTreeMap<String, BTreeMap<String, String>> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Run(c) => Some((c.name.clone(), c.env.clone())),
                _ => None,
            })
            .collect()
    }

    /// `run-target-programs`: autotools' configure step (only) links launchers and has the
    /// target's `uname` first on PATH; a script has that `uname` on PATH and sets the variable
    /// itself; without the key nothing changes.
    #[test]
    fn run_target_programs_reaches_the_configure_step_only() {
        let on = Options {
            run_target_programs: true,
            ..Options::default()
        };
        let run_target = wrappers::paths(std::path::Path::new("/cache"), "0.0", Arch::Armv7, false)
            .run_target
            .display()
            .to_string();
        let e = envs(&plan_for(System::Autotools, &on, Arch::Armv7));
        assert_eq!(e["configure"][launcher::ENV], "1");
        // autoconf would decide it is cross compiling without trying, were `--build` given.
        let configure = |o: &Options| -> Vec<String> {
            plan_for(System::Autotools, o, Arch::Armv7)
                .into_iter()
                .find_map(|s| match s {
                    Step::Run(c) if c.name == "configure" => Some(c.argv),
                    _ => None,
                })
                .unwrap()
        };
        let has_build = |argv: Vec<String>| argv.iter().any(|a| a.starts_with("--build="));
        assert!(!has_build(configure(&on)), "{:?}", configure(&on));
        assert!(has_build(configure(&Options::default())));
        assert_eq!(revised_rules(System::Autotools, &on).len(), 1);
        assert!(revised_rules(System::Autotools, &Options::default()).is_empty());
        assert!(revised_rules(System::Script, &on).is_empty());
        assert!(e["configure"]["PATH"].starts_with(&format!("{run_target}:")));
        for step in ["build", "install"] {
            assert!(!e[step].contains_key(launcher::ENV), "{step}");
            assert!(!e[step]["PATH"].contains(&run_target), "{step}");
        }
        let script = Options {
            script: vec!["true".into()],
            ..on.clone()
        };
        let e = envs(&plan_for(System::Script, &script, Arch::Armv7));
        assert!(!e["script"].contains_key(launcher::ENV));
        assert!(e["script"]["PATH"].starts_with(&format!("{run_target}:")));
        for system in [
            System::Autotools,
            System::Script,
            System::Cmake,
            System::Meson,
        ] {
            let off = Options {
                script: vec!["true".into()],
                ..Options::default()
            };
            for (step, env) in envs(&plan_for(system, &off, Arch::Armv7)) {
                assert!(!env.contains_key(launcher::ENV), "{system:?} {step}");
                assert!(!env["PATH"].contains(&run_target), "{system:?} {step}");
            }
        }
    }

    /// cmake and meson run target programs their own way: the emulator in the toolchain file
    /// and the cross file, in a cross build with the key only.
    #[test]
    fn cmake_and_meson_get_the_emulator_with_the_key() {
        let on = Options {
            run_target_programs: true,
            ..Options::default()
        };
        let written = |system, o: &Options, arch| -> String {
            plan_for(system, o, arch)
                .into_iter()
                .find_map(|s| match s {
                    Step::Write { contents, .. } => Some(contents),
                    _ => None,
                })
                .unwrap()
        };
        for arch in Arch::ALL {
            let qemu = emulator(arch);
            let cmake = written(System::Cmake, &on, arch);
            let meson = written(System::Meson, &on, arch);
            if qemu.is_empty() {
                assert!(!cmake.contains("CMAKE_CROSSCOMPILING_EMULATOR"), "{cmake}");
                assert!(!meson.contains("\nexe_wrapper = "), "{meson}");
            } else {
                assert!(
                    cmake.contains(&format!("set(CMAKE_CROSSCOMPILING_EMULATOR \"{qemu}\")\n")),
                    "{cmake}"
                );
                assert!(
                    meson.contains(&format!("exe_wrapper = ['{qemu}']\n")),
                    "{meson}"
                );
            }
            let off = Options::default();
            assert!(!written(System::Cmake, &off, arch).contains("CMAKE_CROSSCOMPILING_EMULATOR"));
            assert!(!written(System::Meson, &off, arch).contains("\nexe_wrapper = "));
            // Nothing launches in cmake's and meson's steps: their compiler checks read the
            // programs they link.
            for (step, env) in envs(&plan_for(System::Cmake, &on, arch))
                .into_iter()
                .chain(envs(&plan_for(System::Meson, &on, arch)))
            {
                assert!(!env.contains_key(launcher::ENV), "{step}");
            }
        }
    }

    /// `EMULATOR` runs target programs: nothing for the build machine's arch, the arch's
    /// qemu-user binary for the others.
    #[test]
    fn the_emulator_is_empty_natively_and_qemu_otherwise() {
        for arch in Arch::ALL {
            let want = if Arch::host() == Some(arch) {
                ""
            } else {
                arch.info().qemu.unwrap()
            };
            assert_eq!(emulator(arch), want, "{arch}");
        }
        if Arch::host() == Some(Arch::Amd64) {
            assert_eq!(emulator(Arch::Arm64), "qemu-aarch64-static");
            assert_eq!(emulator(Arch::Armv7), "qemu-arm-static");
        }
    }
}
