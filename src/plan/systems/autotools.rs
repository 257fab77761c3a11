//! `autotools`: `./configure --host=<target> --build=<build machine>`, make, make install (the
//! goals of both make steps as for `make`: `make-targets`, `install-targets`). With
//! `run-target-programs`, configure runs the test programs it links (`AC_RUN_IFELSE`) under
//! qemu-user, through the wrappers' launchers, and is given `--host` only: autoconf decides it
//! is cross compiling, without trying, whenever `--build` is given and differs from `--host`
//! (as the build machine's GNU triple always does from a musl one); with `--host` alone it runs
//! its first test program, which the launcher runs, and concludes that it is not.

use super::Shared;
use crate::arch::Arch;
use crate::plan::{PREFIX, PlanError, Step};

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

pub(super) fn steps(b: &Shared) -> Result<Vec<Step>, PlanError> {
    let mut env = b.env.clone();
    for (k, v) in AUTOCONF_CACHE {
        env.insert((*k).into(), (*v).into());
    }
    for (k, v) in b.tools() {
        env.insert(k.into(), v);
    }
    let mut configure = vec![
        "./configure".to_string(),
        format!("--host={}", b.arch.info().triple),
    ];
    if !b.o.run_target_programs {
        configure.push(format!(
            "--build={}",
            Arch::build_machine().info().gnu_build_triple
        ));
    }
    configure.extend([
        format!("--prefix={PREFIX}"),
        "--enable-static".to_string(),
        "--disable-shared".to_string(),
    ]);
    configure.extend(b.subst(&b.o.configure_args)?);
    let mut build = vec!["make".to_string()];
    build.extend(b.make_j.iter().cloned());
    build.extend(b.subst(&b.o.make_args)?);
    build.extend(b.make_targets());
    let mut install = vec!["make".to_string()];
    install.extend(b.install_targets());
    install.push(format!("DESTDIR={}", b.dest));
    if let Some(a) = &b.o.install_args {
        install.extend(b.subst(a)?);
    }
    let mut steps = Vec::new();
    if b.o.autoreconf {
        // The build machine's autoconf, automake and libtool, as Debian's dh_autoreconf runs
        // them: configure and every Makefile.in made again from the (patched) inputs.
        let argv = ["autoreconf", "--force", "--install"]
            .map(String::from)
            .to_vec();
        steps.push(b.run("autoreconf", argv, &env, &b.cwd));
    }
    steps.extend([
        b.run("configure", configure, &b.configure_env(&env), &b.cwd),
        b.run("build", build, &env, &b.cwd),
        b.run("install", install, &env, &b.cwd),
    ]);
    Ok(steps)
}
