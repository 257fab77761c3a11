//! The commands of each build system (make, autotools, cmake, go, script) for one target, and
//! the environment that points them at the zig wrappers. Pure.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Command, Context, PREFIX, PlanError, Step};
use crate::arch::Arch;
use crate::recipe::{Options, System};
use crate::toolchain::wrappers;

pub struct Layout {
    pub work: PathBuf,
    pub src: PathBuf,
    pub dest: PathBuf,
    /// The dependencies' installed trees, merged; `usr/local/{include,lib}` in it.
    pub sysroot: PathBuf,
    /// `bin` folders of host tools, put on PATH.
    pub host_bins: Vec<PathBuf>,
}

/// autoconf cache answers that a cross build cannot find out by running a test program.
const AUTOCONF_CACHE: &[(&str, &str)] = &[
    ("ac_cv_func_malloc_0_nonnull", "yes"),
    ("ac_cv_func_realloc_0_nonnull", "yes"),
    ("ac_cv_func_calloc_0_nonnull", "yes"),
    ("ac_cv_func_mmap_fixed_mapped", "yes"),
    ("ac_cv_func_setpgrp_void", "yes"),
    ("ac_cv_func_getpgrp_void", "yes"),
    ("ac_cv_file__dev_zero", "yes"),
    ("ac_cv_func_strerror_r_char_p", "no"),
];

pub fn steps(
    system: System,
    o: &Options,
    arch: Arch,
    ctx: &Context,
    l: &Layout,
) -> Result<Vec<Step>, PlanError> {
    let info = arch.info();
    let w = wrappers::paths(&ctx.cache, &ctx.zig_version, arch);
    let jobs = ctx.jobs.max(1).to_string();
    // With a jobserver, make takes its parallelism from the shared pool instead of `-jN`.
    let make_j: Vec<String> = if ctx.jobserver {
        vec![]
    } else {
        vec![format!("-j{jobs}")]
    };
    let sysroot = l.sysroot.display().to_string();
    let sys_prefix = format!("{sysroot}{PREFIX}");
    let dest = l.dest.display().to_string();
    let cwd = match &o.subdir {
        Some(s) => l.src.join(s),
        None => l.src.clone(),
    };

    // Values `${NAME}` may refer to in recipe arguments and scripts; they are also in the env.
    let mut vars = BTreeMap::new();
    vars.insert("DESTDIR", dest.clone());
    vars.insert("PREFIX", PREFIX.to_string());
    vars.insert("JOBS", jobs.clone());
    vars.insert("TRIPLE", info.triple.to_string());
    vars.insert("ARCH", info.name.to_string());
    vars.insert("SRC", l.src.display().to_string());
    vars.insert("SYSROOT", sysroot.clone());
    vars.insert("CC", w.cc.display().to_string());
    vars.insert("CXX", w.cxx.display().to_string());
    vars.insert("AR", w.ar.display().to_string());
    vars.insert("RANLIB", w.ranlib.display().to_string());
    vars.insert("STRIP", w.strip.display().to_string());
    let subst = |args: &[String]| -> Result<Vec<String>, PlanError> {
        args.iter().map(|a| substitute(a, &vars)).collect()
    };

    let mut env: BTreeMap<String, String> = BTreeMap::new();
    let mut path = vec![w.dir.display().to_string()];
    path.extend(l.host_bins.iter().map(|b| b.display().to_string()));
    path.push(ctx.host_path.clone());
    env.insert("PATH".into(), path.join(":"));
    // pkg-config sees the sysroot's .pc files and nothing of the host's.
    env.insert("PKG_CONFIG".into(), w.pkg_config.display().to_string());
    env.insert(
        "PKG_CONFIG_LIBDIR".into(),
        format!("{sys_prefix}/lib/pkgconfig:{sys_prefix}/share/pkgconfig"),
    );
    env.insert("PKG_CONFIG_SYSROOT_DIR".into(), sysroot.clone());
    env.insert("RECIPE_SYSROOT".into(), sysroot.clone());
    env.insert("HOME".into(), l.work.display().to_string());
    env.insert("LC_ALL".into(), "C".into());
    env.insert(
        "SOURCE_DATE_EPOCH".into(),
        ctx.source_date_epoch.to_string(),
    );
    env.insert(
        "ZIG_GLOBAL_CACHE_DIR".into(),
        ctx.cache
            .join("zig")
            .join(info.triple)
            .display()
            .to_string(),
    );
    env.insert(
        "ZIG_LOCAL_CACHE_DIR".into(),
        l.work.join("zig-cache").display().to_string(),
    );
    for (k, v) in &vars {
        env.insert((*k).into(), v.clone());
    }
    let mut cflags = vec!["-O2".to_string()];
    cflags.extend(subst(&o.cflags)?);
    let mut ldflags = vec!["-static".to_string(), format!("-L{sys_prefix}/lib")];
    ldflags.extend(subst(&o.ldflags)?);
    if system != System::Go {
        env.insert("CFLAGS".into(), cflags.join(" "));
        env.insert("CXXFLAGS".into(), cflags.join(" "));
        env.insert("LDFLAGS".into(), ldflags.join(" "));
        env.insert("CPPFLAGS".into(), format!("-I{sys_prefix}/include"));
    }
    for (k, v) in &o.env {
        env.insert(k.clone(), substitute(v, &vars)?);
    }

    let run = |name: &str, argv: Vec<String>, env: &BTreeMap<String, String>, cwd: &PathBuf| {
        Step::Run(Command {
            name: name.into(),
            argv,
            env: env.clone(),
            cwd: cwd.clone(),
        })
    };
    let s = |x: &str| x.to_string();
    let tools = [
        format!("CC={}", w.cc.display()),
        format!("CXX={}", w.cxx.display()),
        format!("AR={}", w.ar.display()),
        format!("RANLIB={}", w.ranlib.display()),
        format!("STRIP={}", w.strip.display()),
    ];

    let steps = match system {
        System::Make => {
            let mut build = vec![s("make")];
            build.extend(make_j.iter().cloned());
            build.extend(tools.iter().cloned());
            build.extend(subst(&o.make_args)?);
            let mut install = vec![s("make"), s("install")];
            install.extend(tools.iter().cloned());
            match &o.install_args {
                Some(a) => install.extend(subst(a)?),
                None => install.extend([format!("DESTDIR={dest}"), format!("PREFIX={PREFIX}")]),
            }
            vec![
                run("build", build, &env, &cwd),
                run("install", install, &env, &cwd),
            ]
        }
        System::Autotools => {
            let mut env = env.clone();
            for (k, v) in AUTOCONF_CACHE {
                env.insert((*k).into(), (*v).into());
            }
            env.insert("CC".into(), w.cc.display().to_string());
            env.insert("CXX".into(), w.cxx.display().to_string());
            env.insert("AR".into(), w.ar.display().to_string());
            env.insert("RANLIB".into(), w.ranlib.display().to_string());
            env.insert("STRIP".into(), w.strip.display().to_string());
            let mut configure = vec![
                s("./configure"),
                format!("--host={}", info.triple),
                s("--build=x86_64-pc-linux-gnu"),
                format!("--prefix={PREFIX}"),
                s("--enable-static"),
                s("--disable-shared"),
            ];
            configure.extend(subst(&o.configure_args)?);
            let mut build = vec![s("make")];
            build.extend(make_j.iter().cloned());
            build.extend(subst(&o.make_args)?);
            let mut install = vec![s("make"), s("install"), format!("DESTDIR={dest}")];
            if let Some(a) = &o.install_args {
                install.extend(subst(a)?);
            }
            vec![
                run("configure", configure, &env, &cwd),
                run("build", build, &env, &cwd),
                run("install", install, &env, &cwd),
            ]
        }
        System::Cmake => {
            let toolchain = l.work.join("toolchain.cmake");
            let build_dir = l.work.join("build");
            let mut env = env.clone();
            env.insert("DESTDIR".into(), dest.clone());
            let mut configure = vec![
                s("cmake"),
                s("-S"),
                cwd.display().to_string(),
                s("-B"),
                build_dir.display().to_string(),
                format!("-DCMAKE_TOOLCHAIN_FILE={}", toolchain.display()),
                s("-DCMAKE_BUILD_TYPE=Release"),
                s("-DBUILD_SHARED_LIBS=OFF"),
                format!("-DCMAKE_INSTALL_PREFIX={PREFIX}"),
            ];
            configure.extend(subst(&o.cmake_args)?);
            let bd = build_dir.display().to_string();
            vec![
                Step::Write {
                    name: "toolchain".into(),
                    path: toolchain.clone(),
                    contents: cmake_toolchain(arch, &w, &l.sysroot),
                },
                run("configure", configure, &env, &l.work),
                run(
                    "build",
                    // The Makefile generator's make takes the jobserver from MAKEFLAGS; an
                    // explicit --parallel would start a pool of its own.
                    [
                        vec![s("cmake"), s("--build"), bd.clone()],
                        if ctx.jobserver {
                            vec![]
                        } else {
                            vec![s("--parallel"), jobs.clone()]
                        },
                    ]
                    .concat(),
                    &env,
                    &l.work,
                ),
                run(
                    "install",
                    vec![s("cmake"), s("--install"), bd],
                    &env,
                    &l.work,
                ),
            ]
        }
        System::Meson => {
            let cross = l.work.join("cross.ini");
            let build_dir = l.work.join("build");
            let bd = build_dir.display().to_string();
            let mut env = env.clone();
            env.insert("DESTDIR".into(), dest.clone());
            let mut setup = vec![
                s("meson"),
                s("setup"),
                bd.clone(),
                cwd.display().to_string(),
                format!("--cross-file={}", cross.display()),
                format!("--prefix={PREFIX}"),
                s("--buildtype=release"),
                s("--default-library=static"),
                s("-Dprefer_static=true"),
                s("--wrap-mode=nodownload"),
            ];
            setup.extend(subst(&o.meson_args)?);
            vec![
                Step::Write {
                    name: "cross-file".into(),
                    path: cross,
                    contents: meson_cross_file(arch, &w, &l.sysroot, &cflags, &ldflags),
                },
                run("configure", setup, &env, &l.work),
                run(
                    "build",
                    vec![
                        s("meson"),
                        s("compile"),
                        s("-C"),
                        bd.clone(),
                        format!("-j{jobs}"),
                    ],
                    &env,
                    &l.work,
                ),
                run(
                    "install",
                    vec![s("meson"), s("install"), s("-C"), bd, s("--no-rebuild")],
                    &env,
                    &l.work,
                ),
            ]
        }
        System::Go => {
            let mut env = env.clone();
            env.remove("CC");
            env.remove("CXX");
            for (k, v) in &ctx.go_env {
                env.insert(k.clone(), v.clone());
            }
            env.insert("GOOS".into(), "linux".into());
            env.insert("GOARCH".into(), info.goarch.into());
            if let Some(goarm) = info.goarm {
                env.insert("GOARM".into(), goarm.into());
            }
            let mut ldflags = vec![s("-s"), s("-w")];
            if o.cgo {
                env.insert("CGO_ENABLED".into(), "1".into());
                env.insert("CC".into(), w.cc.display().to_string());
                env.insert("CXX".into(), w.cxx.display().to_string());
                env.insert("CGO_CFLAGS".into(), cflags.join(" "));
                ldflags.extend([
                    s("-linkmode"),
                    s("external"),
                    s("-extldflags"),
                    s("-static"),
                ]);
            } else {
                env.insert("CGO_ENABLED".into(), "0".into());
            }
            ldflags.extend(subst(&o.go_ldflags)?);
            let mut tags = vec![s("netgo"), s("osusergo")];
            tags.extend(o.tags.iter().cloned());
            let mut build = vec![
                s("go"),
                s("build"),
                s("-trimpath"),
                format!("-p={jobs}"),
                format!("-tags={}", tags.join(",")),
                format!("-ldflags={}", ldflags.join(" ")),
                s("-o"),
                format!("{dest}{PREFIX}/bin/"),
            ];
            if o.packages.is_empty() {
                build.push(s("."));
            } else {
                build.extend(subst(&o.packages)?);
            }
            vec![run("build", build, &env, &cwd)]
        }
        System::Script => {
            let lines = subst(&o.script)?;
            let mut script = String::from("set -eu\n");
            for line in &lines {
                script.push_str(line);
                script.push('\n');
            }
            vec![run(
                "script",
                vec![s("/bin/sh"), s("-c"), script],
                &env,
                &cwd,
            )]
        }
    };
    Ok(steps)
}

/// A CMake toolchain file for the target: cross system, zig wrappers, and find-root modes that
/// keep the host's headers and libraries out.
pub fn cmake_toolchain(arch: Arch, w: &wrappers::Wrappers, sysroot: &std::path::Path) -> String {
    let info = arch.info();
    format!(
        "# generated by recipe for {name}\n\
         set(CMAKE_SYSTEM_NAME Linux)\n\
         set(CMAKE_SYSTEM_PROCESSOR {proc})\n\
         set(CMAKE_C_COMPILER \"{cc}\")\n\
         set(CMAKE_CXX_COMPILER \"{cxx}\")\n\
         set(CMAKE_AR \"{ar}\" CACHE FILEPATH \"\")\n\
         set(CMAKE_RANLIB \"{ranlib}\" CACHE FILEPATH \"\")\n\
         set(CMAKE_STRIP \"{strip}\" CACHE FILEPATH \"\")\n\
         set(CMAKE_C_LINKER_DEPFILE_SUPPORTED FALSE)\n\
         set(CMAKE_CXX_LINKER_DEPFILE_SUPPORTED FALSE)\n\
         set(CMAKE_FIND_ROOT_PATH \"{sysroot}\")\n\
         set(CMAKE_PREFIX_PATH \"{PREFIX}\")\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)\n\
         set(CMAKE_EXE_LINKER_FLAGS_INIT \"-static\")\n\
         set(CMAKE_POSITION_INDEPENDENT_CODE OFF)\n",
        name = info.name,
        proc = info.cmake_processor,
        cc = w.cc.display(),
        cxx = w.cxx.display(),
        ar = w.ar.display(),
        ranlib = w.ranlib.display(),
        strip = w.strip.display(),
        sysroot = sysroot.display(),
    )
}

/// A meson cross file for the target: compilers in array form, the sysroot's pkg-config
/// folder, and an exe wrapper needed for every arch but the build machine's.
pub fn meson_cross_file(
    arch: Arch,
    w: &wrappers::Wrappers,
    sysroot: &std::path::Path,
    cflags: &[String],
    ldflags: &[String],
) -> String {
    let info = arch.info();
    let list = |v: &[String]| {
        v.iter()
            .map(|x| format!("'{}'", x.replace('\'', "\\'")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sys = sysroot.display();
    let native = Some(arch) == Arch::host();
    format!(
        "# generated by recipe for {name}\n\
         [binaries]\n\
         c = ['{cc}']\n\
         cpp = ['{cxx}']\n\
         ar = ['{ar}']\n\
         strip = ['{strip}']\n\
         pkg-config = ['{pkg}']\n\
         pkgconfig = ['{pkg}']\n\
         \n\
         [properties]\n\
         sys_root = '{sys}'\n\
         pkg_config_libdir = ['{sys}{PREFIX}/lib/pkgconfig', '{sys}{PREFIX}/share/pkgconfig']\n\
         needs_exe_wrapper = {wrapper}\n\
         \n\
         [built-in options]\n\
         c_args = [{cflags}]\n\
         cpp_args = [{cflags}]\n\
         c_link_args = [{ldflags}]\n\
         cpp_link_args = [{ldflags}]\n\
         \n\
         [host_machine]\n\
         system = 'linux'\n\
         cpu_family = '{family}'\n\
         cpu = '{cpu}'\n\
         endian = 'little'\n",
        name = info.name,
        cc = w.cc.display(),
        cxx = w.cxx.display(),
        ar = w.ar.display(),
        strip = w.strip.display(),
        pkg = w.pkg_config.display(),
        wrapper = if native { "false" } else { "true" },
        cflags = list(cflags),
        ldflags = list(ldflags),
        family = info.meson_cpu_family,
        cpu = info.meson_cpu,
    )
}

/// Replaces `${NAME}` with its value; an unknown name is an error.
pub fn substitute(text: &str, vars: &BTreeMap<&str, String>) -> Result<String, PlanError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let name = &after[..j];
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => {
                return Err(PlanError::UnknownVariable {
                    name: name.into(),
                    text: text.into(),
                });
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
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
}
