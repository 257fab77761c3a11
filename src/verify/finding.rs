//! What a check found: [`Finding`]s, their [`Severity`] and their stable [`Code`]. A leaf
//! module: every part of `verify/` and `check/` imports it, and it imports nothing of theirs but
//! the runtime-file kinds ([`RuntimeKind`]) a code carries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::facts::RuntimeKind;

/// How bad a finding is: any [`Severity::Error`] fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// The stable name of a finding. It renders (text and `--json`) as its kebab-case name
/// ([`Code::as_str`]); recipes name codes in `[app] accept` and images in
/// `org.recipe.accept.CODE` labels, compared through [`Code::as_str`] and [`FromStr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// `not-elf`: no ELF magic.
    NotElf,
    /// `truncated`: the header, a segment or the section header table is cut off.
    Truncated,
    /// `unparsable`: the ELF parser gave up.
    Unparsable,
    /// `malformed`: parsed only leniently.
    Malformed,
    /// `class`: ELF class invalid or not the arch's.
    Class,
    /// `endianness`: byte order invalid or not the arch's.
    Endianness,
    /// `wrong-machine`: `e_machine` is not the expected arch's.
    WrongMachine,
    /// `unknown-machine`: `e_machine` is none of ours.
    UnknownMachine,
    /// `dynamic`: PT_INTERP or DT_NEEDED.
    Dynamic,
    /// `not-executable`: a shared library, object file, core dump or other type.
    NotExecutable,
    /// `arm-eabi`: not EABI5.
    ArmEabi,
    /// `soft-float`: the soft-float ABI where hard-float is expected.
    SoftFloat,
    /// `arm-arch`: an ARM CPU arch below the arch's minimum, or a microcontroller profile.
    ArmArch,
    /// `arm-attributes`: `.ARM.attributes` unreadable.
    ArmAttributes,
    /// `float-abi-unknown`: no record of the float ABI.
    FloatAbiUnknown,
    /// `arm-arch-unknown`: no record of the ARM CPU arch.
    ArmArchUnknown,
    /// `go-buildinfo`: Go build info unreadable, missing or not what the recipe asked.
    GoBuildinfo,
    /// `glibc-static`: glibc linked statically.
    GlibcStatic,
    /// `nss`: static glibc with NSS lookups.
    Nss,
    /// `dlopen`: loads code at run time.
    Dlopen,
    /// `shell`: runs a shell.
    Shell,
    /// `runtime-file`: reads a file at run time, of this kind.
    RuntimeFile(RuntimeKind),
    /// `hardening`: the hardening summary (a warning for an executable stack).
    Hardening,
    /// `accepted`: a need the image accepts (`recipe check`).
    Accepted,
}

impl Code {
    /// Every code name [`FromStr`] parses (all but `runtime-file`, which needs a kind).
    pub const NAMED: [Code; 23] = [
        Code::NotElf,
        Code::Truncated,
        Code::Unparsable,
        Code::Malformed,
        Code::Class,
        Code::Endianness,
        Code::WrongMachine,
        Code::UnknownMachine,
        Code::Dynamic,
        Code::NotExecutable,
        Code::ArmEabi,
        Code::SoftFloat,
        Code::ArmArch,
        Code::ArmAttributes,
        Code::FloatAbiUnknown,
        Code::ArmArchUnknown,
        Code::GoBuildinfo,
        Code::GlibcStatic,
        Code::Nss,
        Code::Dlopen,
        Code::Shell,
        Code::Hardening,
        Code::Accepted,
    ];

    /// The kebab-case name, e.g. `wrong-machine`, `runtime-file`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::NotElf => "not-elf",
            Code::Truncated => "truncated",
            Code::Unparsable => "unparsable",
            Code::Malformed => "malformed",
            Code::Class => "class",
            Code::Endianness => "endianness",
            Code::WrongMachine => "wrong-machine",
            Code::UnknownMachine => "unknown-machine",
            Code::Dynamic => "dynamic",
            Code::NotExecutable => "not-executable",
            Code::ArmEabi => "arm-eabi",
            Code::SoftFloat => "soft-float",
            Code::ArmArch => "arm-arch",
            Code::ArmAttributes => "arm-attributes",
            Code::FloatAbiUnknown => "float-abi-unknown",
            Code::ArmArchUnknown => "arm-arch-unknown",
            Code::GoBuildinfo => "go-buildinfo",
            Code::GlibcStatic => "glibc-static",
            Code::Nss => "nss",
            Code::Dlopen => "dlopen",
            Code::Shell => "shell",
            Code::RuntimeFile(_) => "runtime-file",
            Code::Hardening => "hardening",
            Code::Accepted => "accepted",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A name that is not a code [`FromStr`] knows (`runtime-file` is one only with a kind).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown finding code `{}`", crate::text::escape(.0))]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Code, UnknownCode> {
        Code::NAMED
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode(s.to_string()))
    }
}

/// One thing the check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.severity, self.code, self.message)
    }
}

/// A message or description with the names it quotes from the file (libraries, paths, Go
/// modules) made safe to print ([`crate::text::escape`]).
pub(super) fn escaped(s: String) -> String {
    match crate::text::escape(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(e) => e,
    }
}

fn finding(severity: Severity, code: Code, message: String) -> Finding {
    Finding {
        severity,
        code,
        message: escaped(message),
    }
}

/// An error finding, its message escaped.
pub(super) fn error(code: Code, message: String) -> Finding {
    finding(Severity::Error, code, message)
}
/// A warning finding, its message escaped.
pub(super) fn warning(code: Code, message: String) -> Finding {
    finding(Severity::Warning, code, message)
}
/// A note, its message escaped.
pub(super) fn info(code: Code, message: String) -> Finding {
    finding(Severity::Info, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_render_and_serialize_as_their_kebab_names() {
        let f = warning(
            Code::RuntimeFile(RuntimeKind::CaBundle),
            "reads CA certificates".into(),
        );
        assert_eq!(
            f.to_string(),
            "warning [runtime-file]: reads CA certificates"
        );
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({
                "severity": "warning",
                "code": "runtime-file",
                "message": "reads CA certificates",
            })
        );
        assert_eq!(
            serde_json::to_value(Code::FloatAbiUnknown).unwrap(),
            "float-abi-unknown"
        );
    }

    #[test]
    fn names_parse_back_to_their_codes() {
        for c in Code::NAMED {
            assert_eq!(c.as_str().parse::<Code>(), Ok(c));
        }
        assert_eq!(
            "runtime-file".parse::<Code>(),
            Err(UnknownCode("runtime-file".into()))
        );
        assert!("nope".parse::<Code>().is_err());
        // Every code a recipe may accept is a code.
        for name in crate::recipe::ACCEPTABLE {
            assert!(name.parse::<Code>().is_ok(), "{name}");
        }
    }
}
