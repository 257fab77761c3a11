//! `recipe check` of Debian's own packages of daemons (dnsmasq, chrony, unbound): one answer
//! per package naming the daemon, its needs and the advice table's advice; init scripts,
//! hooks and plugins of other programs reported apart, as not needed in a container.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// Downloads Debian's `packages` and unpacks them into one root, as installed together; None
/// (after a skip, which fails under CI) when apt cannot download them.
fn unpacked(dir: &Path, packages: &[&str]) -> Option<PathBuf> {
    if !require_tool("apt-get") || !require_tool("dpkg-deb") {
        return None;
    }
    let dl = run(Command::new("apt-get")
        .arg("download")
        .args(packages)
        .current_dir(dir));
    if dl.code != 0 {
        skip(&format!(
            "apt-get download {} failed: {}",
            packages.join(" "),
            dl.stderr
        ));
        return None;
    }
    let root = dir.join("root");
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|e| e == "deb") {
            run(Command::new("dpkg-deb").arg("-x").arg(&p).arg(&root)).success();
        }
    }
    Some(root)
}

/// The JSON answer and the table of `recipe check ROOT`; the exit code is 1 (a static rebuild
/// is not distroless-ready yet: `recipe check`'s contract).
fn check_root(root: &Path) -> (Value, String) {
    let o = run(recipe().arg("check").arg("--json").arg(root));
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let table = run(recipe().arg("check").arg(root)).failure(1);
    let text = table.stdout.replace(&root.display().to_string(), "[ROOT]");
    (v, text)
}

fn platform(v: &Value) -> &Value {
    &v["targets"][0]["platforms"][0]
}

fn paths(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap().to_string())
        .collect()
}

/// Checks the parts every package shares: one answer naming the daemon with the verdict, the
/// glue listed apart (and not among the apps), and returns the answer's line.
fn common(v: &Value, daemon: &str, glue: &[&str]) -> String {
    let p = platform(v);
    let a = &p["answer"];
    assert_eq!(a["daemon"], daemon, "{a}");
    assert_eq!(a["verdict"], "ready-after-static-rebuild", "{a}");
    assert!(
        a["programs"]
            .as_array()
            .unwrap()
            .contains(&Value::from(daemon)),
        "{a}"
    );
    let apps = paths(&p["apps"]);
    assert!(apps.contains(&daemon.to_string()), "{apps:?}");
    let g = paths(&p["glue"]);
    for want in glue {
        assert!(g.contains(&want.to_string()), "{want}: {g:?}");
        assert!(
            !apps.contains(&want.to_string()),
            "{want} is an app: {apps:?}"
        );
    }
    for app in &apps {
        assert!(!app.starts_with("/etc/"), "glue judged as an app: {app}");
    }
    a["line"].as_str().unwrap().to_string()
}

fn snapshot(name: &str, text: &str) {
    insta::assert_snapshot!(name, text);
}

#[test]
fn debian_dnsmasq_is_one_daemon_to_build_without_dbus() {
    let t = tempfile::tempdir().unwrap();
    let Some(root) = unpacked(t.path(), &["dnsmasq", "dnsmasq-base"]) else {
        return;
    };
    let (v, text) = check_root(&root);
    let line = common(
        &v,
        "/usr/sbin/dnsmasq",
        &["/etc/init.d/dnsmasq", "/etc/resolvconf/update.d/dnsmasq"],
    );
    for want in [
        "dnsmasq (/usr/sbin/dnsmasq): ready after a static rebuild",
        "build without D-Bus (leave -DHAVE_DBUS out of COPTS)",
        "IDN (leave -DHAVE_LIBIDN2 out of COPTS)",
        "link nettle, GMP statically",
    ] {
        assert!(line.contains(want), "{want}: {line}");
    }
    assert!(!line.contains("needs a runtime"), "{line}");
    assert_eq!(
        paths(&platform(&v)["apps"]),
        ["/usr/sbin/dnsmasq"],
        "one app"
    );
    assert!(text.contains("not needed in a container"), "{text}");
    snapshot("debian_dnsmasq", &text);
}

#[test]
fn debian_chrony_is_chronyd_with_its_configure_switches() {
    let t = tempfile::tempdir().unwrap();
    let Some(root) = unpacked(t.path(), &["chrony"]) else {
        return;
    };
    let (v, text) = check_root(&root);
    let line = common(
        &v,
        "/usr/sbin/chronyd",
        &[
            "/etc/init.d/chrony",
            "/etc/ppp/ip-up.d/chrony",
            "/etc/network/if-up.d/chrony",
            "/usr/lib/NetworkManager/dispatcher.d/20-chrony-dhcp",
        ],
    );
    for want in [
        "chronyd (/usr/sbin/chronyd): ready after a static rebuild",
        "NTS (--disable-nts --without-gnutls)",
        "libcap (--without-libcap)",
        "seccomp (--without-seccomp)",
        "link nettle statically",
        "helper scripts: chrony-helper needs a shell (bash)",
    ] {
        assert!(line.contains(want), "{want}: {line}");
    }
    // chronyc is an app too; the helper script does not set the answer's verdict.
    let apps = paths(&platform(&v)["apps"]);
    assert!(apps.contains(&"/usr/bin/chronyc".to_string()), "{apps:?}");
    snapshot("debian_chrony", &text);
}

#[test]
fn debian_unbound_builds_without_its_python_module() {
    let t = tempfile::tempdir().unwrap();
    let Some(root) = unpacked(t.path(), &["unbound"]) else {
        return;
    };
    let (v, text) = check_root(&root);
    let line = common(
        &v,
        "/usr/sbin/unbound",
        &[
            "/etc/init.d/unbound",
            "/usr/share/munin/plugins/unbound_munin_",
            "/etc/resolvconf/update.d/unbound",
        ],
    );
    for want in [
        "unbound (/usr/sbin/unbound): ready after a static rebuild",
        "the Python module (--without-pythonmodule",
        "systemd support (leave out --enable-systemd)",
        "link OpenSSL (recipe `openssl`) statically",
    ] {
        assert!(line.contains(want), "{want}: {line}");
    }
    assert!(!line.contains("embeds Python"), "{line}");
    let daemon = platform(&v)["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == "/usr/sbin/unbound")
        .unwrap();
    assert_eq!(daemon["verdict"], "ready-after-static-rebuild", "{daemon}");
    snapshot("debian_unbound", &text);
}
