//! `[build]` as the model holds it: the build system, its options (common and per arch) and
//! what `optimize` and `lto` ask for.

use std::collections::BTreeMap;

use crate::arch::Arch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Make,
    Autotools,
    Cmake,
    Meson,
    Go,
    Cargo,
    Script,
}

impl System {
    pub const NAMES: &'static str = "make, autotools, cmake, meson, go, cargo, script";

    pub fn parse(s: &str) -> Option<System> {
        Some(match s {
            "make" => System::Make,
            "autotools" => System::Autotools,
            "cmake" => System::Cmake,
            "meson" => System::Meson,
            "go" => System::Go,
            "cargo" => System::Cargo,
            "script" => System::Script,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            System::Make => "make",
            System::Autotools => "autotools",
            System::Cmake => "cmake",
            System::Meson => "meson",
            System::Go => "go",
            System::Cargo => "cargo",
            System::Script => "script",
        }
    }
}

/// A Go package to build, and the name of its binary when the recipe gives one (otherwise
/// go's own choice: the last element of the import path, or the one before a `/vN` suffix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoPackage {
    pub path: String,
    pub name: Option<String>,
}

/// Options of one build, common ones merged with the arch's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub env: BTreeMap<String, String>,
    pub cflags: Vec<String>,
    pub ldflags: Vec<String>,
    pub subdir: Option<String>,
    pub configure_args: Vec<String>,
    pub make_args: Vec<String>,
    /// None: the build system's default install arguments.
    pub install_args: Option<Vec<String>>,
    /// make's goals for the build step; None: the Makefile's default goal.
    pub make_targets: Option<Vec<String>>,
    /// make's goals for the install step; None: `install`.
    pub install_targets: Option<Vec<String>>,
    pub cmake_args: Vec<String>,
    pub meson_args: Vec<String>,
    pub packages: Vec<GoPackage>,
    pub tags: Vec<String>,
    pub go_ldflags: Vec<String>,
    pub cgo: bool,
    pub script: Vec<String>,
    /// cargo: the binaries to build (empty: every binary of the package).
    pub bins: Vec<String>,
    /// cargo: features to turn on.
    pub features: Vec<String>,
    /// cargo: `--no-default-features`.
    pub no_default_features: bool,
    /// `autoreconf`: autotools regenerates configure and the Makefile.in files first.
    pub autoreconf: bool,
    /// `run-target-programs`: the configure step (a script: where it sets
    /// `RECIPE_RUN_TARGET_PROGRAMS`) runs the target programs it links, under the arch's
    /// qemu-user in a cross build, and `uname -m` answers the target's machine there.
    pub run_target_programs: bool,
    /// `optimize`: None is the default, speed.
    pub optimize: Option<Optimize>,
    /// `lto`: None is the default, off.
    pub lto: Option<bool>,
}

/// What the compiler optimises for (`[build] optimize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimize {
    /// `-O2` (cmake's Release, meson's release): the default.
    Speed,
    /// `-Os` with a section per function and per object, so that the linker drops what is not
    /// used (cmake's MinSizeRel, meson's minsize, cargo's opt-level `s`); zig also builds libc++
    /// for size when the link line says `-Os`.
    Size,
    /// `-Oz`: as `Size`, with clang's stronger size settings (less inlining, no unrolling or
    /// vectorising for speed); cmake's MinSizeRel with its flags made `-Oz`, cargo's opt-level
    /// `z`.
    Smallest,
}

impl Optimize {
    pub const NAMES: &'static str = "speed, size, smallest";

    pub fn name(self) -> &'static str {
        match self {
            Optimize::Speed => "speed",
            Optimize::Size => "size",
            Optimize::Smallest => "smallest",
        }
    }

    pub fn parse(s: &str) -> Option<Optimize> {
        match s {
            "speed" => Some(Optimize::Speed),
            "size" => Some(Optimize::Size),
            "smallest" => Some(Optimize::Smallest),
            _ => None,
        }
    }
}

impl Options {
    /// Whether `optimize` is `"size"` or `"smallest"`: a section per function and object, the
    /// build systems' size modes, libc++ built for size.
    pub fn for_size(&self) -> bool {
        matches!(self.optimize, Some(Optimize::Size | Optimize::Smallest))
    }

    /// The optimisation level of every compile and of the link line: `-O2`, `-Os` or `-Oz`.
    pub fn level(&self) -> &'static str {
        match self.optimize {
            None | Some(Optimize::Speed) => "-O2",
            Some(Optimize::Size) => "-Os",
            Some(Optimize::Smallest) => "-Oz",
        }
    }

    /// Whether `lto = true` is in force.
    pub fn lto(&self) -> bool {
        self.lto == Some(true)
    }

    /// Adds `other` on top: lists and env extend, single values replace.
    pub fn merged(&self, other: &Options) -> Options {
        let mut o = self.clone();
        o.env.extend(other.env.clone());
        o.cflags.extend(other.cflags.iter().cloned());
        o.ldflags.extend(other.ldflags.iter().cloned());
        if other.subdir.is_some() {
            o.subdir = other.subdir.clone();
        }
        o.configure_args
            .extend(other.configure_args.iter().cloned());
        o.make_args.extend(other.make_args.iter().cloned());
        if let Some(a) = &other.install_args {
            o.install_args = Some(a.clone());
        }
        if let Some(t) = &other.make_targets {
            o.make_targets = Some(t.clone());
        }
        if let Some(t) = &other.install_targets {
            o.install_targets = Some(t.clone());
        }
        o.cmake_args.extend(other.cmake_args.iter().cloned());
        o.meson_args.extend(other.meson_args.iter().cloned());
        o.packages.extend(other.packages.iter().cloned());
        o.tags.extend(other.tags.iter().cloned());
        o.go_ldflags.extend(other.go_ldflags.iter().cloned());
        o.cgo |= other.cgo;
        o.script.extend(other.script.iter().cloned());
        o.bins.extend(other.bins.iter().cloned());
        o.features.extend(other.features.iter().cloned());
        o.no_default_features |= other.no_default_features;
        o.autoreconf |= other.autoreconf;
        o.run_target_programs |= other.run_target_programs;
        if other.optimize.is_some() {
            o.optimize = other.optimize;
        }
        if other.lto.is_some() {
            o.lto = other.lto;
        }
        o
    }
}

#[derive(Debug, Clone)]
pub struct Build {
    pub system: System,
    pub common: Options,
    pub per_arch: BTreeMap<Arch, Options>,
}

impl Build {
    pub fn options(&self, arch: Arch) -> Options {
        match self.per_arch.get(&arch) {
            Some(extra) => self.common.merged(extra),
            None => self.common.clone(),
        }
    }
}
