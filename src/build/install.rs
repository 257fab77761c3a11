//! Reading a job's installed tree the way the image will see it. A path is followed inside the
//! tree only: every symlink on the way is read (never followed on the build machine) and
//! resolved against the tree's root, as it would be inside the image, so an install's
//! `bin/app -> /etc/shadow` can neither put a host file into an image nor be what verification
//! judges. A link that leaves the tree, or points at something the install does not have, is
//! an error naming the link.

use std::path::{Path, PathBuf};

/// How many symlinks one path may pass through (as Linux's `MAXSYMLINKS`).
const MAX_HOPS: usize = 40;

/// Where an image path of an installed tree leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The regular file it reaches, inside the tree and reached through no symlink.
    pub host: PathBuf,
    /// That file's path in the image.
    pub image_path: String,
    /// When the asked path is not that file itself: the relative symlink target that the
    /// image keeps at the asked path (from its folder to `image_path`).
    pub link: Option<String>,
}

/// Follows `image_path` (absolute, e.g. `/usr/local/bin/app`) inside the tree at `root` to a
/// regular file; `Err` says why it cannot.
pub fn resolve(root: &Path, image_path: &str) -> Result<Resolved, String> {
    let mut done: Vec<String> = Vec::new();
    let mut todo: Vec<String> = components(image_path).rev().collect();
    let mut hops = 0;
    while let Some(c) = todo.pop() {
        match c.as_str() {
            "" | "." => continue,
            ".." => {
                if done.pop().is_none() {
                    return Err(format!("`{}` leads out of the image", esc(image_path)));
                }
                continue;
            }
            _ => done.push(c),
        }
        let host = root.join(done.join("/"));
        let meta = std::fs::symlink_metadata(&host).map_err(|_| {
            format!(
                "`{}` leads to `/{}`, which the install does not have",
                esc(image_path),
                esc(&done.join("/"))
            )
        })?;
        if meta.file_type().is_symlink() {
            hops += 1;
            if hops > MAX_HOPS {
                return Err(format!(
                    "`{}`: too many levels of symlinks",
                    esc(image_path)
                ));
            }
            let target = std::fs::read_link(&host)
                .map_err(|e| format!("cannot read the symlink `/{}`: {e}", esc(&done.join("/"))))?;
            let target = target.to_string_lossy().into_owned();
            done.pop();
            if target.starts_with('/') {
                done.clear();
            }
            todo.extend(components(&target).rev());
        } else if !todo.is_empty() && !meta.is_dir() {
            return Err(format!(
                "`{}`: `/{}` is not a folder",
                esc(image_path),
                esc(&done.join("/"))
            ));
        }
    }
    let host = root.join(done.join("/"));
    let real = format!("/{}", done.join("/"));
    match std::fs::symlink_metadata(&host) {
        Ok(m) if m.file_type().is_file() => {}
        _ => {
            return Err(format!(
                "`{}` leads to `{}`, which is not a regular file",
                esc(image_path),
                esc(&real)
            ));
        }
    }
    let link = (real != normal(image_path)).then(|| relative(&normal(image_path), &real));
    Ok(Resolved {
        host,
        image_path: real,
        link,
    })
}

fn components(p: &str) -> impl DoubleEndedIterator<Item = String> + '_ {
    p.split('/').map(str::to_string)
}

fn esc(s: &str) -> String {
    crate::text::escape(s).into_owned()
}

/// `p` without empty and `.` components.
fn normal(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// The relative symlink target that, placed at `from`, names `to` (both normal and absolute).
fn relative(from: &str, to: &str) -> String {
    let from: Vec<&str> = from.split('/').filter(|c| !c.is_empty()).collect();
    let to: Vec<&str> = to.split('/').filter(|c| !c.is_empty()).collect();
    let dir = &from[..from.len().saturating_sub(1)];
    let common = dir.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; dir.len() - common];
    parts.extend(&to[common..]);
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("usr/local/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("server"), b"\x7fELF").unwrap();
        symlink("server", bin.join("check")).unwrap();
        symlink("/usr/local/bin/server", bin.join("abs")).unwrap();
        symlink("../../../../etc/passwd", bin.join("escape")).unwrap();
        symlink("/etc/passwd", bin.join("host")).unwrap();
        symlink("loop", bin.join("loop")).unwrap();
        symlink(bin.join("server"), bin.join("hostpath")).unwrap();
        d
    }

    #[test]
    fn links_inside_the_tree_resolve_and_stay_links() {
        let d = tree();
        let r = resolve(d.path(), "/usr/local/bin/server").unwrap();
        assert_eq!(r.link, None);
        assert_eq!(r.host, d.path().join("usr/local/bin/server"));
        let r = resolve(d.path(), "/usr/local/bin/check").unwrap();
        assert_eq!(r.image_path, "/usr/local/bin/server");
        assert_eq!(r.link.as_deref(), Some("server"));
        // An absolute link inside the image is rewritten relative.
        let r = resolve(d.path(), "/usr/local/bin/abs").unwrap();
        assert_eq!(r.link.as_deref(), Some("server"));
        assert_eq!(relative("/a/b/c", "/a/d/e"), "../d/e");
        assert_eq!(relative("/x", "/a/b"), "a/b");
    }

    #[test]
    fn links_out_of_the_tree_are_errors_naming_the_link() {
        let d = tree();
        let e = resolve(d.path(), "/usr/local/bin/escape").unwrap_err();
        assert!(e.contains("leads out of the image"), "{e}");
        // /etc/passwd of the host is never looked at: the install has no /etc/passwd.
        let e = resolve(d.path(), "/usr/local/bin/host").unwrap_err();
        assert_eq!(
            e,
            "`/usr/local/bin/host` leads to `/etc`, which the install does not have"
        );
        let e = resolve(d.path(), "/usr/local/bin/loop").unwrap_err();
        assert!(e.contains("too many levels"), "{e}");
        // A link to the tree's own absolute host path is outside the image, too.
        let e = resolve(d.path(), "/usr/local/bin/hostpath").unwrap_err();
        assert!(e.contains("which the install does not have"), "{e}");
        let e = resolve(d.path(), "/usr/local/bin").unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
