//! The one table of target architectures: every name an arch has, in one place.
//!
//! Nothing else in the code spells `aarch64`, `GOARM` or `arm-linux-musleabihf` by hand; it asks
//! this table.

use std::fmt;
use std::str::FromStr;

/// A target architecture `recipe` builds for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    Amd64,
    Arm64,
    Armv7,
}

/// ELF identity expected of a binary built for an arch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfIdentity {
    /// 32 or 64.
    pub class_bits: u8,
    /// Byte order (`EI_DATA`): true for little-endian (ELFDATA2LSB).
    pub little_endian: bool,
    /// `e_machine` (EM_X86_64 = 62, EM_AARCH64 = 183, EM_ARM = 40).
    pub machine: u16,
    /// Human name of `machine`, as a reader of `readelf -h` knows it.
    pub machine_name: &'static str,
    /// For ARM: the `e_flags` EABI version 5 and the hard-float bit must both be set.
    pub arm_hard_float_eabi5: bool,
    /// Lowest `Tag_CPU_arch` value from `.ARM.attributes` accepted (10 = ARMv7), if ARM.
    pub arm_min_cpu_arch: Option<u8>,
}

/// Every name of one arch.
#[derive(Debug, Clone, Copy)]
pub struct ArchInfo {
    pub arch: Arch,
    /// What users type: `amd64`, `arm64`, `armv7`.
    pub name: &'static str,
    /// zig's `-target` and the GNU `--host` triple.
    pub triple: &'static str,
    /// Rust's target triple (`rustc --target`, cargo's `--target`).
    pub rust_target: &'static str,
    /// zig's `-mcpu`, where the default is not what we want (armv7: not the v5/v6 default).
    pub zig_cpu: Option<&'static str>,
    /// Go's GOARCH and GOARM.
    pub goarch: &'static str,
    pub goarm: Option<&'static str>,
    /// OCI platform architecture and variant.
    pub oci_arch: &'static str,
    pub oci_variant: Option<&'static str>,
    /// CMake's CMAKE_SYSTEM_PROCESSOR; meson's cpu_family and cpu.
    pub cmake_processor: &'static str,
    pub meson_cpu_family: &'static str,
    pub meson_cpu: &'static str,
    /// Prefix of Debian's GNU binutils for the arch (`strip`: zig's objcopy cannot strip yet).
    pub binutils_prefix: &'static str,
    /// The qemu-user binary that runs it on a build machine of another arch (None: no
    /// emulator known for it).
    pub qemu: Option<&'static str>,
    /// Rust's name of the arch (`std::env::consts::ARCH`): how the build machine is found in
    /// this table.
    pub rust_arch: &'static str,
    /// The GNU triple of a glibc build machine of this arch, as `config.guess` prints it:
    /// autotools' `--build` when this arch is the build machine's.
    pub gnu_build_triple: &'static str,
    /// Debian's multiarch folder name (`/usr/lib/<multiarch>`, `/usr/include/<multiarch>`):
    /// the build machine's own libraries and headers, which the leak guard keeps out.
    pub multiarch: &'static str,
    /// What `uname -m` prints on a Linux machine of this arch: the machine name a configure
    /// script that asks `uname` gets when it runs target programs (`run-target-programs`).
    pub uname_machine: &'static str,
    pub elf: ElfIdentity,
}

// Constants below are the only place these spellings appear.
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const EM_ARM: u16 = 40;

static TABLE: [ArchInfo; 3] = [
    ArchInfo {
        arch: Arch::Amd64,
        name: "amd64",
        triple: "x86_64-linux-musl",
        rust_target: "x86_64-unknown-linux-musl",
        zig_cpu: None,
        goarch: "amd64",
        goarm: None,
        oci_arch: "amd64",
        oci_variant: None,
        cmake_processor: "x86_64",
        meson_cpu_family: "x86_64",
        meson_cpu: "x86_64",
        binutils_prefix: "x86_64-linux-gnu-",
        qemu: Some("qemu-x86_64-static"),
        rust_arch: "x86_64",
        gnu_build_triple: "x86_64-pc-linux-gnu",
        multiarch: "x86_64-linux-gnu",
        uname_machine: "x86_64",
        elf: ElfIdentity {
            class_bits: 64,
            little_endian: true,
            machine: EM_X86_64,
            machine_name: "x86-64",
            arm_hard_float_eabi5: false,
            arm_min_cpu_arch: None,
        },
    },
    ArchInfo {
        arch: Arch::Arm64,
        name: "arm64",
        triple: "aarch64-linux-musl",
        rust_target: "aarch64-unknown-linux-musl",
        zig_cpu: None,
        goarch: "arm64",
        goarm: None,
        oci_arch: "arm64",
        oci_variant: None,
        cmake_processor: "aarch64",
        meson_cpu_family: "aarch64",
        meson_cpu: "aarch64",
        binutils_prefix: "aarch64-linux-gnu-",
        qemu: Some("qemu-aarch64-static"),
        rust_arch: "aarch64",
        gnu_build_triple: "aarch64-unknown-linux-gnu",
        multiarch: "aarch64-linux-gnu",
        uname_machine: "aarch64",
        elf: ElfIdentity {
            class_bits: 64,
            little_endian: true,
            machine: EM_AARCH64,
            machine_name: "AArch64",
            arm_hard_float_eabi5: false,
            arm_min_cpu_arch: None,
        },
    },
    ArchInfo {
        arch: Arch::Armv7,
        name: "armv7",
        triple: "arm-linux-musleabihf",
        rust_target: "armv7-unknown-linux-musleabihf",
        // ARMv7-A, VFPv3 with 16 double registers, Thumb-2, no NEON: what every armv7 board has.
        zig_cpu: Some("generic+v7a+vfp3d16+thumb2-neon-d32"),
        goarch: "arm",
        goarm: Some("7"),
        oci_arch: "arm",
        oci_variant: Some("v7"),
        cmake_processor: "armv7-a",
        meson_cpu_family: "arm",
        meson_cpu: "armv7",
        binutils_prefix: "arm-linux-gnueabihf-",
        qemu: Some("qemu-arm-static"),
        rust_arch: "arm",
        gnu_build_triple: "armv7l-unknown-linux-gnueabihf",
        multiarch: "arm-linux-gnueabihf",
        uname_machine: "armv7l",
        elf: ElfIdentity {
            class_bits: 32,
            little_endian: true,
            machine: EM_ARM,
            machine_name: "ARM",
            arm_hard_float_eabi5: true,
            arm_min_cpu_arch: Some(10),
        },
    },
];

impl Arch {
    pub const ALL: [Arch; 3] = [Arch::Amd64, Arch::Arm64, Arch::Armv7];

    pub fn info(self) -> &'static ArchInfo {
        &TABLE[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The arch of the machine `recipe` runs on, if it is one of ours.
    pub fn host() -> Option<Arch> {
        Self::of_rust_arch(std::env::consts::ARCH)
    }

    /// The arch Rust calls `name` (`std::env::consts::ARCH`), if it is one of ours.
    pub fn of_rust_arch(name: &str) -> Option<Arch> {
        TABLE.iter().find(|i| i.rust_arch == name).map(|i| i.arch)
    }

    /// The arch host tools are built for and run on: the build machine's, or amd64 on a
    /// machine of none of ours (whose builds then need an emulator for every arch).
    pub fn build_machine() -> Arch {
        Self::host().unwrap_or(Arch::Amd64)
    }

    /// Go's environment that selects this arch: `GOOS`, `GOARCH` and, for arm, `GOARM`.
    pub fn go_env(self) -> Vec<(&'static str, &'static str)> {
        let info = self.info();
        let mut env = vec![("GOOS", "linux"), ("GOARCH", info.goarch)];
        if let Some(goarm) = info.goarm {
            env.push(("GOARM", goarm));
        }
        env
    }

    /// The names users may type, for error messages.
    pub fn names() -> String {
        let mut v: Vec<&str> = TABLE.iter().map(|i| i.name).collect();
        v.push("all");
        v.join(", ")
    }

    /// Parses an `--arch` value: one name, `all`, or a comma-separated list.
    pub fn parse_list(s: &str) -> Result<Vec<Arch>, UnknownArch> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part == "all" {
                out.extend(Arch::ALL);
            } else {
                out.push(part.parse()?);
            }
        }
        out.sort();
        out.dedup();
        if out.is_empty() {
            return Err(UnknownArch(s.to_string()));
        }
        Ok(out)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Arch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Arch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown arch `{0}` (expected one of: {names})", names = Arch::names())]
pub struct UnknownArch(pub String);

impl FromStr for Arch {
    type Err = UnknownArch;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TABLE
            .iter()
            .find(|i| i.name == s)
            .map(|i| i.arch)
            .ok_or_else(|| UnknownArch(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_enum() {
        for a in Arch::ALL {
            assert_eq!(a.info().arch, a);
        }
    }

    #[test]
    fn the_build_machine_is_found_in_the_table() {
        assert_eq!(Arch::of_rust_arch("x86_64"), Some(Arch::Amd64));
        assert_eq!(Arch::of_rust_arch("aarch64"), Some(Arch::Arm64));
        assert_eq!(Arch::of_rust_arch("arm"), Some(Arch::Armv7));
        assert_eq!(Arch::of_rust_arch("riscv64"), None);
        assert_eq!(
            Arch::host().map(|a| a.info().rust_arch),
            Some(std::env::consts::ARCH).filter(|a| Arch::of_rust_arch(a).is_some())
        );
        // Each arch can be emulated on a build machine of another.
        assert!(Arch::ALL.iter().all(|a| a.info().qemu.is_some()));
        assert!(
            Arch::ALL
                .iter()
                .all(|a| a.info().binutils_prefix == format!("{}-", a.info().multiarch))
        );
    }

    #[test]
    fn go_env_selects_the_arch() {
        assert_eq!(
            Arch::Armv7.go_env(),
            vec![("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "7")]
        );
        assert_eq!(
            Arch::Arm64.go_env(),
            vec![("GOOS", "linux"), ("GOARCH", "arm64")]
        );
    }

    #[test]
    fn parse_lists() {
        assert_eq!(Arch::parse_list("all").unwrap(), Arch::ALL.to_vec());
        assert_eq!(
            Arch::parse_list("armv7,amd64").unwrap(),
            vec![Arch::Amd64, Arch::Armv7]
        );
        assert!(Arch::parse_list("armhf").is_err());
    }
}
