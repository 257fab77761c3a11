//! A file tree as small per-file reports: built from a directory or from image layers applied
//! in order (later layers replace, whiteouts delete), with symlinks kept to resolve paths.

use std::collections::BTreeMap;
use std::io::Read;

use super::classify::{FileInfo, FileKind, HEAD, classify, wants_full};
use super::{CheckError, Options};
use crate::arch::Arch;

/// Most symlinks followed while resolving one path.
pub const MAX_HOPS: usize = 40;
/// Most entries read out of one layer.
const MAX_ENTRIES: usize = 2_000_000;

#[derive(Debug, Clone)]
pub enum Node {
    File(FileInfo),
    Symlink(String),
    Dir,
}

/// Absolute, normalised paths (`/usr/bin/ls`) to nodes.
#[derive(Debug, Default)]
pub struct Tree {
    pub nodes: BTreeMap<String, Node>,
    /// Notes about the contents (unsupported layers, skipped entries).
    pub notes: Vec<String>,
}

/// `./usr//bin/../x` → `/usr/x`; None for a path that escapes the root or is empty.
pub fn normalise(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("/{}", parts.join("/")))
}

impl Tree {
    /// Removes `path` and everything under it.
    pub fn remove(&mut self, path: &str) {
        self.nodes.remove(path);
        self.remove_under(path);
    }

    /// Removes everything under `dir` (not `dir` itself).
    pub fn remove_under(&mut self, dir: &str) {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.nodes.remove(&k);
        }
    }

    /// Applies one layer (a plain tar stream) over the tree: whiteouts delete, entries replace.
    /// Files are classified as they stream by; only their small reports are kept.
    pub fn apply_layer<R: Read>(
        &mut self,
        layer: R,
        name: &str,
        opts: &Options,
        expected: Option<Arch>,
    ) -> Result<(), CheckError> {
        let bad = |what: String| CheckError::Corrupt {
            what: format!("layer {name}: {what}"),
        };
        let mut ar = tar::Archive::new(layer);
        // Paths this layer added, so an opaque whiteout only hides lower layers.
        let mut added: Vec<String> = Vec::new();
        let mut opaque: Vec<String> = Vec::new();
        let entries = ar.entries().map_err(|e| bad(e.to_string()))?;
        for (n, entry) in entries.enumerate() {
            if n >= MAX_ENTRIES {
                return Err(bad(format!("more than {MAX_ENTRIES} entries")));
            }
            let mut entry = entry.map_err(|e| bad(format!("unreadable tar entry: {e}")))?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(path) = normalise(&raw) else {
                continue;
            };
            let (dir, base) = path.rsplit_once('/').unwrap_or(("", &path));
            let dir = if dir.is_empty() { "/" } else { dir };
            if base == ".wh..wh..opq" {
                opaque.push(dir.to_string());
                continue;
            }
            if let Some(hidden) = base.strip_prefix(".wh.") {
                let target = if dir == "/" {
                    format!("/{hidden}")
                } else {
                    format!("{dir}/{hidden}")
                };
                self.remove(&target);
                continue;
            }
            let header = entry.header();
            let mode = header.mode().unwrap_or(0);
            let node = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let size = header.size().unwrap_or(0);
                    Node::File(
                        read_file(&mut entry, &path, mode, size, opts, expected)
                            .map_err(|e| bad(format!("{path}: {e}")))?,
                    )
                }
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    Node::Symlink(target)
                }
                tar::EntryType::Link => {
                    let target = entry
                        .link_name_bytes()
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .and_then(|t| normalise(&t));
                    match target.and_then(|t| self.nodes.get(&t).cloned()) {
                        Some(n @ Node::File(_)) => n,
                        _ => continue,
                    }
                }
                tar::EntryType::Directory => Node::Dir,
                _ => continue,
            };
            // A new non-directory replaces whatever was there, including a directory's contents.
            if !matches!(node, Node::Dir) {
                self.remove(&path);
            } else if !matches!(self.nodes.get(&path), Some(Node::Dir) | None) {
                self.nodes.remove(&path);
            }
            self.nodes.insert(path.clone(), node);
            added.push(path);
        }
        if !opaque.is_empty() {
            let keep: std::collections::BTreeSet<String> = added.into_iter().collect();
            for dir in opaque {
                let prefix = format!("{}/", dir.trim_end_matches('/'));
                let doomed: Vec<String> = self
                    .nodes
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter(|(k, _)| !keep.contains(*k))
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in doomed {
                    self.nodes.remove(&k);
                }
            }
        }
        Ok(())
    }

    /// Follows symlinks (in every component) to the node `path` names, with at most
    /// [`MAX_HOPS`] links. Returns the final path, or why it cannot be resolved.
    pub fn resolve(&self, path: &str) -> Result<String, String> {
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .rev()
            .collect();
        let mut cur: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    cur.pop();
                    continue;
                }
                _ => {}
            }
            cur.push(c);
            let here = format!("/{}", cur.join("/"));
            if let Some(Node::Symlink(target)) = self.nodes.get(&here) {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(format!("{path}: more than {MAX_HOPS} symlinks (a loop?)"));
                }
                cur.pop();
                if target.starts_with('/') {
                    cur.clear();
                }
                pending.extend(
                    target
                        .split('/')
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                        .rev(),
                );
                if pending.len() > 4096 {
                    return Err(format!("{path}: symlink targets too long"));
                }
            }
        }
        let end = format!("/{}", cur.join("/"));
        if self.nodes.contains_key(&end) {
            Ok(end)
        } else {
            Err(format!("{path} is not in the image (resolved to {end})"))
        }
    }
}

/// Reads one file out of a stream: the head, and all of it only when an ELF or PE needs it, up
/// to the limit. Never allocates by the header's size.
fn read_file<R: Read>(
    r: &mut R,
    path: &str,
    mode: u32,
    size: u64,
    opts: &Options,
    expected: Option<Arch>,
) -> std::io::Result<FileInfo> {
    let mut head = Vec::new();
    r.by_ref().take(HEAD as u64).read_to_end(&mut head)?;
    let kind = if wants_full(path, &head) {
        if size > opts.max_file_size {
            FileKind::TooLarge {
                size,
                limit: opts.max_file_size,
            }
        } else {
            let mut all = head;
            r.take(opts.max_file_size).read_to_end(&mut all)?;
            classify(path, mode, &all, expected)
        }
    } else {
        classify(path, mode, &head, expected)
    };
    Ok(FileInfo { kind, mode, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o755);
            match link {
                Some(t) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    b.append_link(&mut h, name, t).unwrap();
                }
                None => {
                    h.set_size(data.len() as u64);
                    b.append_data(&mut h, name, *data).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn layers_replace_and_whiteouts_delete() {
        let opts = Options::default();
        let mut t = Tree::default();
        t.apply_layer(
            &layer(&[
                ("bin/a", b"#!/bin/sh\n", None),
                ("bin/b", b"x", None),
                ("etc/x/1", b"1", None),
                ("etc/x/2", b"2", None),
            ])[..],
            "one",
            &opts,
            None,
        )
        .unwrap();
        t.apply_layer(
            &layer(&[
                ("bin/.wh.b", b"", None),
                ("etc/x/.wh..wh..opq", b"", None),
                ("etc/x/3", b"3", None),
                ("bin/a", b"data", None),
            ])[..],
            "two",
            &opts,
            None,
        )
        .unwrap();
        let keys: Vec<&str> = t.nodes.keys().map(String::as_str).collect();
        assert_eq!(keys, ["/bin/a", "/etc/x/3"]);
        let Some(Node::File(f)) = t.nodes.get("/bin/a") else {
            panic!()
        };
        assert_eq!(f.kind, FileKind::Other);
    }

    #[test]
    fn resolves_symlinks_with_a_limit() {
        let opts = Options::default();
        let mut t = Tree::default();
        t.apply_layer(
            &layer(&[
                ("usr/bin/busybox", b"x", None),
                ("bin", b"", Some("usr/bin")),
                ("usr/bin/sh", b"", Some("busybox")),
                ("loop1", b"", Some("/loop2")),
                ("loop2", b"", Some("loop1")),
            ])[..],
            "l",
            &opts,
            None,
        )
        .unwrap();
        assert_eq!(t.resolve("/bin/sh").unwrap(), "/usr/bin/busybox");
        assert!(t.resolve("/loop1").unwrap_err().contains("symlinks"));
        assert!(t.resolve("/nope").is_err());
    }

    #[test]
    fn normalises() {
        assert_eq!(normalise("./usr//bin/../x").as_deref(), Some("/usr/x"));
        assert_eq!(normalise("../etc"), None);
        assert_eq!(normalise("./"), None);
    }
}
