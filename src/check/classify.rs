//! What one file is, from its path, mode and bytes: an ELF (with [`crate::verify::check_elf`]'s
//! report), a script, a .NET assembly, Java, or data. Pure: no file is opened here.

use serde::Serialize;

use crate::arch::Arch;
use crate::verify::{ElfKind, ElfReport, check_elf};

/// How many leading bytes are enough to classify anything that is not ELF or PE.
pub const HEAD: usize = 64 * 1024;

/// The small report kept per regular file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum FileKind {
    Elf(Box<ElfReport>),
    /// `#!` line: the interpreter path and the program it runs (`python3` for
    /// `#!/usr/bin/env python3`).
    Script {
        line: String,
        interpreter: String,
        name: String,
    },
    /// A .NET assembly; `evidence` says how it was recognised.
    DotNet {
        evidence: String,
    },
    /// A Windows PE file that is not .NET.
    Pe,
    /// A `.jar`/`.war`/`.ear` zip.
    Jar,
    /// A Java `.class` file.
    JavaClass,
    /// Larger than the limit for one file read out of a layer.
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// Anything else (data, text without `#!`, ...).
    Other,
}

/// One regular file: its kind and mode bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    pub kind: FileKind,
    pub mode: u32,
    pub size: u64,
}

impl FileInfo {
    /// An app candidate: an ELF executable, a script, or any file with an executable bit.
    pub fn is_executable(&self) -> bool {
        match &self.kind {
            FileKind::Elf(r) => match &r.facts {
                Some(f) => f.kind == ElfKind::Executable,
                None => self.mode & 0o111 != 0,
            },
            FileKind::Script { .. } => true,
            _ => self.mode & 0o111 != 0,
        }
    }
}

/// True when the full bytes of a file starting with `head` are needed to classify it.
pub fn wants_full(path: &str, head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF") || (head.starts_with(b"MZ") && pe_name(path))
}

fn pe_name(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    l.ends_with(".dll") || l.ends_with(".exe")
}

fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// [`classify`], taking an ELF file's report from `known` when its bytes and arch are there
/// (a report made when its job was verified) instead of parsing it again.
pub fn classify_known(
    path: &str,
    mode: u32,
    bytes: &[u8],
    expected: Option<Arch>,
    known: &super::Known,
) -> FileKind {
    if let Some(arch) = expected
        && !known.is_empty()
        && bytes.starts_with(b"\x7fELF")
        && let Some(report) = known.get(&(arch, crate::digest::sha256_hex(bytes)))
    {
        return FileKind::Elf(Box::new(report.clone()));
    }
    classify(path, mode, bytes, expected)
}

/// Classifies one file from its bytes (complete when [`wants_full`] says so, else at least the
/// first [`HEAD`] bytes).
pub fn classify(path: &str, mode: u32, bytes: &[u8], expected: Option<Arch>) -> FileKind {
    if bytes.starts_with(b"\x7fELF") {
        return FileKind::Elf(Box::new(check_elf(bytes, expected)));
    }
    if bytes.starts_with(b"#!") {
        return script(bytes);
    }
    if bytes.starts_with(b"MZ") {
        if let Some(evidence) = dotnet(path, bytes) {
            return FileKind::DotNet { evidence };
        }
        return FileKind::Pe;
    }
    let lower = path.to_ascii_lowercase();
    if bytes.starts_with(b"PK\x03\x04")
        && [".jar", ".war", ".ear"].iter().any(|e| lower.ends_with(e))
    {
        return FileKind::Jar;
    }
    if bytes.starts_with(&[0xca, 0xfe, 0xba, 0xbe]) && lower.ends_with(".class") {
        return FileKind::JavaClass;
    }
    let _ = mode;
    FileKind::Other
}

/// Parses a `#!` line: `#!/usr/bin/env -S python3 -u` runs `python3`.
pub fn script(bytes: &[u8]) -> FileKind {
    let line = bytes[2..].split(|&c| c == b'\n').next().unwrap_or_default();
    let line = &line[..line.len().min(256)];
    let text = String::from_utf8_lossy(line).trim().to_string();
    let mut words = text.split_whitespace();
    let interpreter = words.next().unwrap_or("").to_string();
    let mut name = base(&interpreter).to_string();
    if name == "env" {
        name = words
            .find(|w| !w.starts_with('-') && !w.contains('='))
            .map(|w| base(w).to_string())
            .unwrap_or_default();
    }
    FileKind::Script {
        line: format!("#!{text}"),
        interpreter,
        name,
    }
}

/// .NET evidence: a non-zero CLI header data directory (index 14) in the PE optional header,
/// or, for `.dll`/`.exe`, the `mscoree.dll` import or the `BSJB` metadata signature.
pub fn dotnet(path: &str, b: &[u8]) -> Option<String> {
    if cli_header(b) {
        return Some("PE CLI header (data directory 14) is set".to_string());
    }
    if pe_name(path) {
        for sig in [&b"mscoree.dll"[..], b"BSJB"] {
            if memchr::memmem::find(b, sig).is_some() {
                return Some(format!(
                    "contains `{}`",
                    String::from_utf8_lossy(sig).into_owned()
                ));
            }
        }
    }
    None
}

fn u16le(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32le(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// True when the PE optional header's CLI header directory (index 14) is non-zero. Every read is
/// bounds-checked.
pub fn cli_header(b: &[u8]) -> bool {
    (|| -> Option<bool> {
        let pe = u32le(b, 0x3c)? as usize;
        if b.get(pe..pe.checked_add(4)?)? != b"PE\0\0" {
            return Some(false);
        }
        let opt = pe.checked_add(24)?;
        let (count_off, dirs) = match u16le(b, opt)? {
            0x10b => (92, 96),
            0x20b => (108, 112),
            _ => return Some(false),
        };
        if u32le(b, opt + count_off)? <= 14 {
            return Some(false);
        }
        let d = opt + dirs + 14 * 8;
        Some(u32le(b, d)? != 0 && u32le(b, d + 4)? != 0)
    })()
    .unwrap_or(false)
}

/// Which language runtime a path is evidence of, if any: `libpython*.so*`, `site-packages`,
/// `.py`/`.pyc`, `libnode.so*`, `node_modules`, `libjvm.so`, jars, .NET's runtime libraries...
pub fn runtime_evidence(path: &str) -> Option<&'static str> {
    let name = base(path);
    let has_dir = |d: &str| path.split('/').any(|c| c == d);
    if (name.starts_with("libpython") && name.contains(".so"))
        || has_dir("site-packages")
        || name.ends_with(".pyc")
        || name.ends_with(".py")
    {
        return Some("Python");
    }
    if (name.starts_with("libnode.so")) || has_dir("node_modules") {
        return Some("Node.js");
    }
    if name == "libjvm.so" || name.ends_with(".jar") || name.ends_with(".class") {
        return Some("Java");
    }
    if ["libcoreclr.so", "libhostfxr.so", "libmonosgen-2.0.so"]
        .iter()
        .any(|l| name.starts_with(l))
    {
        return Some(".NET");
    }
    if name.starts_with("libruby") && name.contains(".so") {
        return Some("Ruby");
    }
    None
}

/// Service-manager glue and plugins of other programs, by path prefix: files a container does
/// not need to run the app (it is started by the container runtime, not by init, ifupdown or
/// cron). The first match wins.
pub static GLUE: &[(&str, &str)] = &[
    ("/etc/init.d/", "a SysV init script"),
    ("/etc/rc.d/", "an init script"),
    ("/etc/sv/", "a runit service"),
    ("/etc/service/", "a runit service"),
    ("/etc/insserv.conf.d/", "init ordering"),
    ("/usr/lib/systemd/", "systemd glue"),
    ("/lib/systemd/", "systemd glue"),
    ("/etc/systemd/", "systemd glue"),
    (
        "/usr/lib/NetworkManager/",
        "a NetworkManager dispatcher hook",
    ),
    ("/etc/NetworkManager/", "a NetworkManager dispatcher hook"),
    ("/etc/network/if-", "an ifupdown hook"),
    ("/etc/ppp/", "a ppp hook"),
    ("/etc/dhcp/", "a DHCP client hook"),
    ("/etc/resolvconf/", "a resolvconf hook"),
    ("/usr/lib/resolvconf/", "a resolvconf hook"),
    ("/lib/resolvconf/", "a resolvconf hook"),
    ("/usr/share/munin/plugins/", "a munin plugin"),
    ("/etc/munin/plugins/", "a munin plugin"),
    ("/usr/lib/nagios/plugins/", "a nagios plugin"),
    ("/usr/lib/check_mk_agent/", "a check_mk plugin"),
    ("/etc/logrotate.d/", "a logrotate rule"),
    ("/etc/cron", "a cron job"),
    ("/etc/anacron", "a cron job"),
    ("/usr/share/bash-completion/", "bash completion"),
    ("/etc/bash_completion.d/", "bash completion"),
    ("/usr/share/zsh/", "zsh completion"),
    ("/usr/share/fish/", "fish completion"),
    ("/usr/share/dbus-1/", "D-Bus configuration"),
    ("/etc/dbus-1/", "D-Bus configuration"),
    ("/etc/apparmor.d/", "an AppArmor profile"),
    ("/usr/lib/udev/", "a udev helper"),
    ("/lib/udev/", "a udev helper"),
    ("/usr/share/initramfs-tools/", "an initramfs hook"),
    ("/etc/initramfs-tools/", "an initramfs hook"),
    ("/etc/kernel/", "a kernel install hook"),
    ("/usr/lib/pm-utils/", "a suspend hook"),
    ("/etc/X11/", "an X session hook"),
    ("/usr/share/doc/", "documentation"),
    ("/usr/share/lintian/", "packaging metadata"),
    ("/var/lib/dpkg/", "packaging metadata"),
    ("/DEBIAN/", "packaging metadata"),
];

/// What glue a path is (an init script, a munin plugin...), if it is: [`GLUE`].
pub fn glue(path: &str) -> Option<&'static str> {
    GLUE.iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, what)| *what)
}

/// True for a program's place: directly in a `bin` or `sbin` directory (`/usr/sbin/dnsmasq`,
/// `/app/bin/server`), or anywhere under `libexec`.
pub fn program_dir(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    parts.pop();
    matches!(parts.last(), Some(&"bin") | Some(&"sbin")) || parts.contains(&"libexec")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        let FileKind::Script {
            interpreter, name, ..
        } = script(b"#!/usr/bin/env python3\nprint(1)\n")
        else {
            panic!()
        };
        assert_eq!(
            (interpreter.as_str(), name.as_str()),
            ("/usr/bin/env", "python3")
        );
        let FileKind::Script { name, .. } = script(b"#! /bin/sh -e\n") else {
            panic!()
        };
        assert_eq!(name, "sh");
        let FileKind::Script { name, .. } = script(b"#!/usr/bin/env -S node --x\n") else {
            panic!()
        };
        assert_eq!(name, "node");
        let FileKind::Script { name, .. } = script(b"#!") else {
            panic!()
        };
        assert_eq!(name, "");
    }

    /// A minimal PE32+ with data directory 14 set.
    fn pe(cli: bool) -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[0..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        let opt = 0x80 + 24;
        b[opt..opt + 2].copy_from_slice(&0x20bu16.to_le_bytes());
        b[opt + 108..opt + 112].copy_from_slice(&16u32.to_le_bytes());
        if cli {
            let d = opt + 112 + 14 * 8;
            b[d..d + 4].copy_from_slice(&0x2000u32.to_le_bytes());
            b[d + 4..d + 8].copy_from_slice(&0x48u32.to_le_bytes());
        }
        b
    }

    #[test]
    fn dotnet_by_cli_header_or_signature() {
        assert!(matches!(
            classify("/app/x.bin", 0o644, &pe(true), None),
            FileKind::DotNet { .. }
        ));
        assert_eq!(
            classify("/app/x.exe", 0o644, &pe(false), None),
            FileKind::Pe
        );
        let mut b = pe(false);
        b.extend_from_slice(b"....mscoree.dll..");
        assert!(matches!(
            classify("/app/App.dll", 0o644, &b, None),
            FileKind::DotNet { .. }
        ));
        // Hostile offsets never panic.
        for off in [0u32, 0xffff_fff0, 510, 0x1fe] {
            let mut b = pe(true);
            b[0x3c..0x40].copy_from_slice(&off.to_le_bytes());
            let _ = cli_header(&b);
            let _ = cli_header(&b[..0x41]);
        }
        assert!(!cli_header(b"MZ"));
    }

    #[test]
    fn java_and_evidence() {
        assert_eq!(
            classify("/a/app.jar", 0o644, b"PK\x03\x04xx", None),
            FileKind::Jar
        );
        assert_eq!(
            classify("/a/notes.zip", 0o644, b"PK\x03\x04xx", None),
            FileKind::Other
        );
        assert_eq!(
            classify("/a/A.class", 0o644, &[0xca, 0xfe, 0xba, 0xbe, 0, 0], None),
            FileKind::JavaClass
        );
        assert_eq!(
            runtime_evidence("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"),
            Some("Python")
        );
        assert_eq!(
            runtime_evidence("/app/node_modules/x/index.js"),
            Some("Node.js")
        );
        assert_eq!(runtime_evidence("/usr/lib/libz.so.1"), None);
    }

    #[test]
    fn glue_by_path() {
        for (path, what) in [
            ("/etc/init.d/dnsmasq", "init script"),
            (
                "/etc/NetworkManager/dispatcher.d/20-chrony",
                "NetworkManager",
            ),
            (
                "/usr/lib/NetworkManager/dispatcher.d/20-chrony-dhcp",
                "NetworkManager",
            ),
            ("/usr/share/munin/plugins/unbound_munin_", "munin plugin"),
            ("/etc/ppp/ip-up.d/chrony", "ppp hook"),
            ("/usr/lib/systemd/system-generators/x", "systemd"),
            ("/lib/systemd/system/x.service", "systemd"),
            ("/etc/network/if-up.d/chrony", "ifupdown"),
            ("/etc/network/if-post-down.d/chrony", "ifupdown"),
            ("/etc/resolvconf/update.d/unbound", "resolvconf"),
            ("/usr/lib/resolvconf/dpkg-event.d/unbound", "resolvconf"),
            ("/etc/logrotate.d/x", "logrotate"),
            ("/etc/cron.daily/x", "cron"),
            (
                "/usr/share/bash-completion/completions/x",
                "bash completion",
            ),
            ("/usr/share/dbus-1/system.d/x.conf", "D-Bus"),
            ("/etc/apparmor.d/usr.sbin.x", "AppArmor"),
            ("/etc/sv/dnsmasq/run", "runit"),
        ] {
            assert!(
                glue(path).is_some_and(|g| g.contains(what)),
                "{path}: {:?}",
                glue(path)
            );
        }
        for path in [
            "/usr/sbin/dnsmasq",
            "/usr/bin/chronyc",
            "/usr/libexec/unbound-helper",
            "/etc/dnsmasq.conf",
            "/app/server",
            "/etc/initial",
        ] {
            assert_eq!(glue(path), None, "{path}");
        }
    }

    #[test]
    fn program_dirs() {
        for p in [
            "/usr/sbin/dnsmasq",
            "/bin/ls",
            "/usr/local/bin/app.py",
            "/usr/libexec/unbound-helper",
            "/usr/libexec/chrony/chrony-helper",
            "/app/bin/server",
        ] {
            assert!(program_dir(p), "{p}");
        }
        for p in [
            "/app/server",
            "/usr/lib/x86_64-linux-gnu/x",
            "/etc/init.d/x",
            "/bin",
        ] {
            assert!(!program_dir(p), "{p}");
        }
    }

    #[test]
    fn executables() {
        let f = |kind, mode| FileInfo {
            kind,
            mode,
            size: 0,
        };
        assert!(f(script(b"#!/bin/sh\n"), 0o644).is_executable());
        assert!(f(FileKind::Other, 0o755).is_executable());
        assert!(!f(FileKind::Other, 0o644).is_executable());
    }
}
