//! The base contents of a distroless root: passwd, group, /tmp and the app's writable folders.

use std::collections::BTreeSet;

use super::{Entry, EntryKind, User};

/// The shell written in /etc/passwd; it does not exist in the image, so nobody can log in.
const NOLOGIN: &str = "/sbin/nologin";
/// The uid of `nobody` and gid of `nogroup`, as on Debian and in the kernel's overflow ids.
const NOBODY: u32 = 65534;

/// Base contents of a distroless image: /etc/passwd and /etc/group with root (0:0, home /root,
/// shell /sbin/nologin written as text only), the app user (uid:gid, name, home
/// /nonexistent, shell /sbin/nologin) and nobody/nogroup (65534); /tmp with mode 1777; each writable folder (absolute
/// paths) created with mode 0755 and owned by the user, with its parents as root-owned 0755
/// dirs; /etc 0755. Nothing else: no shell, no busybox.
///
/// A writable folder equal to `/tmp` keeps /tmp as it is (root, 1777). Paths are not validated
/// here; `write_layout` refuses invalid ones.
pub fn base_entries(user: &User, writable: &[String]) -> Vec<Entry> {
    let mut passwd = format!("root:x:0:0:root:/root:{NOLOGIN}\n");
    if user.uid != 0 && user.uid != NOBODY {
        passwd += &format!(
            "{n}:x:{u}:{g}:{n}:/nonexistent:{NOLOGIN}\n",
            n = user.name,
            u = user.uid,
            g = user.gid
        );
    }
    passwd += &format!("nobody:x:{NOBODY}:{NOBODY}:nobody:/nonexistent:{NOLOGIN}\n");
    let mut group = "root:x:0:\n".to_string();
    if user.gid != 0 && user.gid != NOBODY {
        group += &format!("{}:x:{}:\n", user.name, user.gid);
    }
    group += &format!("nogroup:x:{NOBODY}:\n");

    let mut out = vec![
        Entry::dir("/etc", 0o755),
        Entry::bytes("/etc/passwd", 0o644, passwd),
        Entry::bytes("/etc/group", 0o644, group),
        Entry::dir("/tmp", 0o1777),
    ];

    let mut taken: BTreeSet<String> = out.iter().map(|e| e.path.clone()).collect();
    let folders: BTreeSet<String> = writable
        .iter()
        .map(|w| {
            let t = w.trim_end_matches('/');
            if t.is_empty() {
                w.clone()
            } else {
                t.to_string()
            }
        })
        .collect();
    for folder in &folders {
        if folder == "/tmp" {
            continue;
        }
        // Parents first, as root-owned dirs, unless a writable folder or base entry claims them.
        let mut parent = String::new();
        let comps: Vec<&str> = folder.split('/').filter(|c| !c.is_empty()).collect();
        for c in comps.iter().take(comps.len().saturating_sub(1)) {
            parent.push('/');
            parent.push_str(c);
            if !folders.contains(&parent) && taken.insert(parent.clone()) {
                out.push(Entry::dir(parent.clone(), 0o755));
            }
        }
        if taken.insert(folder.clone()) {
            out.push(Entry {
                path: folder.clone(),
                kind: EntryKind::Dir,
                mode: 0o755,
                uid: user.uid,
                gid: user.gid,
            });
        } else if let Some(e) = out.iter_mut().find(|e| &e.path == folder) {
            // e.g. "/etc" asked to be writable: the user owns it.
            e.uid = user.uid;
            e.gid = user.gid;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(v: &'a [Entry], p: &str) -> &'a Entry {
        v.iter()
            .find(|e| e.path == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    }

    #[test]
    fn base_has_users_tmp_and_writable() {
        let u = User::default();
        let v = base_entries(
            &u,
            &[
                "/var/lib/redis/".to_string(),
                "/data".to_string(),
                "/tmp".to_string(),
            ],
        );
        let passwd = match &find(&v, "/etc/passwd").kind {
            EntryKind::File(super::super::FileSource::Bytes(b)) => {
                String::from_utf8(b.clone()).unwrap()
            }
            _ => panic!(),
        };
        assert_eq!(
            passwd,
            "root:x:0:0:root:/root:/sbin/nologin\napp:x:1000:1000:app:/nonexistent:/sbin/nologin\n\
             nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
        );
        assert_eq!(find(&v, "/tmp").mode, 0o1777);
        assert_eq!(find(&v, "/tmp").uid, 0);
        let lib = find(&v, "/var/lib");
        assert_eq!((lib.uid, lib.mode), (0, 0o755));
        let r = find(&v, "/var/lib/redis");
        assert_eq!((r.uid, r.gid, r.mode), (1000, 1000, 0o755));
        assert_eq!(find(&v, "/data").uid, 1000);
        assert!(!v.iter().any(|e| e.path.contains("bin")));
        let mut paths: Vec<_> = v.iter().map(|e| &e.path).collect();
        paths.sort();
        let n = paths.len();
        paths.dedup();
        assert_eq!(n, paths.len());
    }

    #[test]
    fn root_and_nobody_are_not_listed_twice() {
        for (uid, name) in [(0, "root"), (65534, "nobody")] {
            let u = User {
                uid,
                gid: uid,
                name: name.into(),
            };
            let v = base_entries(&u, &[]);
            for (file, lines) in [("/etc/passwd", 2), ("/etc/group", 2)] {
                match &find(&v, file).kind {
                    EntryKind::File(super::super::FileSource::Bytes(b)) => {
                        assert_eq!(b.iter().filter(|&&c| c == b'\n').count(), lines, "{file}")
                    }
                    _ => panic!(),
                }
            }
        }
    }
}
