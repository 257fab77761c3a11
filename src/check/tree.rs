//! A file tree as small per-file reports: built from a directory or from image layers applied
//! in order (later layers replace, whiteouts delete), with symlinks kept to resolve paths.

use std::collections::BTreeMap;
use std::io::Read;
use std::rc::Rc;

use super::classify::{FileInfo, FileKind, HEAD, classify_known, wants_full};
use super::limits::{
    ENV_MAX_UNPACKED, MAX_ENTRY_HEADERS, MAX_IMAGE_ENTRIES, MAX_IMAGE_NAME_BYTES,
    MAX_LAYER_ENTRIES, MAX_NAME, Meter, Metered, Trip,
};
use super::{CheckError, Options};
use crate::arch::Arch;
use crate::size::Bytes;

/// Most symlinks followed while resolving one path.
pub const MAX_HOPS: usize = 40;

#[derive(Debug, Clone)]
pub enum Node {
    File(FileInfo),
    Symlink(String),
    Dir,
}

/// One change a layer makes, kept to apply a layer listed twice without reading it again.
#[derive(Debug, Clone)]
pub enum Op {
    /// `DIR/.wh..wh..opq`: lower layers' files in DIR are hidden.
    Opaque(String),
    /// `.wh.NAME`: the path is deleted.
    Whiteout(String),
    /// A file, symlink or directory put at the path.
    Put(String, Node),
    /// A hard link: the path gets the file the target names when the layer is applied.
    Link(String, String),
}

/// What one layer did, for its opaque whiteouts.
#[derive(Default)]
struct Changes {
    added: Vec<String>,
    opaque: Vec<String>,
}

/// Absolute, normalised paths (`/usr/bin/ls`) to nodes.
#[derive(Debug, Default)]
pub struct Tree {
    pub nodes: BTreeMap<String, Node>,
    /// Notes about the contents (unsupported layers, skipped entries).
    pub notes: Vec<String>,
    /// Entries read so far, out of every layer ([`MAX_IMAGE_ENTRIES`]).
    pub entries: usize,
    /// Bytes of the names of those entries ([`MAX_IMAGE_NAME_BYTES`]).
    pub name_bytes: u64,
}

/// What crossing a cap means, for messages.
pub fn trip_message(t: Trip) -> String {
    match t {
        Trip::Headers => format!(
            "an entry's headers (its name, link target, PAX records) are larger than {}, the \
             limit for one entry (a name may have at most {MAX_NAME} bytes)",
            Bytes(MAX_ENTRY_HEADERS)
        ),
        Trip::Layer(cap) => format!(
            "decompresses to more than {}, the limit for one layer (`{ENV_MAX_UNPACKED}` sets it)",
            Bytes(cap)
        ),
        Trip::Image(cap) => format!(
            "the image's layers decompress to more than {}, the limit for one image \
             (`{ENV_MAX_UNPACKED}` sets it)",
            Bytes(cap)
        ),
    }
}

/// The error of a layer whose reading crossed a cap.
pub fn trip_error(t: Trip, layer: &str) -> CheckError {
    CheckError::Corrupt {
        what: format!("layer {layer}: {}", trip_message(t)),
    }
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
    /// Files are classified as they stream by; only their small reports are kept. The layer may
    /// decompress to `opts.max_layer_bytes`.
    pub fn apply_layer<R: Read>(
        &mut self,
        layer: R,
        name: &str,
        opts: &Options,
        expected: Option<Arch>,
    ) -> Result<(), CheckError> {
        let meter = Meter::new(opts.max_layer_bytes, Trip::Layer(opts.max_layer_bytes));
        self.apply_metered(layer, &meter, name, opts, expected, None)
    }

    /// [`Tree::apply_layer`] with the caller's [`Meter`] (its caps: the layer's and the image's
    /// decompressed bytes), keeping the layer's changes in `record` when it is listed again.
    pub fn apply_metered<R: Read>(
        &mut self,
        layer: R,
        meter: &Rc<Meter>,
        name: &str,
        opts: &Options,
        expected: Option<Arch>,
        mut record: Option<&mut Vec<Op>>,
    ) -> Result<(), CheckError> {
        let bad = |what: String| CheckError::Corrupt {
            what: format!("layer {name}: {what}"),
        };
        let why = |e: std::io::Error, what: &str| match meter.tripped() {
            Some(t) => trip_error(t, name),
            None => bad(format!("{what}: {e}")),
        };
        let mut ar = tar::Archive::new(Metered::new(layer, meter.clone()));
        let mut changes = Changes::default();
        let mut entries = ar.entries().map_err(|e| bad(e.to_string()))?;
        let mut data_end = 0u64;
        let mut n = 0usize;
        loop {
            meter.headers_from(data_end);
            let Some(entry) = entries.next() else { break };
            let mut entry = entry.map_err(|e| why(e, "unreadable tar entry"))?;
            meter.data();
            n += 1;
            if n > MAX_LAYER_ENTRIES {
                return Err(bad(format!(
                    "more than {MAX_LAYER_ENTRIES} entries, the limit for one layer"
                )));
            }
            let stored = entry.header().entry_size().unwrap_or(0).max(entry.size());
            data_end = entry
                .raw_file_position()
                .saturating_add(stored)
                .checked_next_multiple_of(512)
                .unwrap_or(u64::MAX);
            let raw = entry.path_bytes();
            let link_len = entry.link_name_bytes().map_or(0, |l| l.len());
            self.count(raw.len().max(link_len), name)?;
            let raw = String::from_utf8_lossy(&raw).into_owned();
            let Some(path) = normalise(&raw) else {
                continue;
            };
            let (dir, base) = path.rsplit_once('/').unwrap_or(("", &path));
            let dir = if dir.is_empty() { "/" } else { dir };
            let op = if base == ".wh..wh..opq" {
                Op::Opaque(dir.to_string())
            } else if let Some(hidden) = base.strip_prefix(".wh.") {
                Op::Whiteout(if dir == "/" {
                    format!("/{hidden}")
                } else {
                    format!("{dir}/{hidden}")
                })
            } else {
                let header = entry.header();
                let mode = header.mode().unwrap_or(0);
                match header.entry_type() {
                    tar::EntryType::Regular | tar::EntryType::Continuous => {
                        let size = header.size().unwrap_or(0);
                        let info = read_file(&mut entry, &path, mode, size, opts, expected)
                            .map_err(|e| why(e, &path))?;
                        Op::Put(path, Node::File(info))
                    }
                    tar::EntryType::Symlink => {
                        let target = entry
                            .link_name_bytes()
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default();
                        Op::Put(path, Node::Symlink(target))
                    }
                    tar::EntryType::Link => {
                        let target = entry
                            .link_name_bytes()
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .and_then(|t| normalise(&t));
                        match target {
                            Some(t) => Op::Link(path, t),
                            None => continue,
                        }
                    }
                    tar::EntryType::Directory => Op::Put(path, Node::Dir),
                    _ => continue,
                }
            };
            self.apply_op(&op, &mut changes);
            if let Some(r) = record.as_mut() {
                r.push(op);
            }
        }
        self.finish(changes);
        Ok(())
    }

    /// Applies a layer again from its recorded changes (a layer listed twice in one image is
    /// decompressed once).
    pub fn replay(&mut self, ops: &[Op], name: &str) -> Result<(), CheckError> {
        let mut changes = Changes::default();
        for op in ops {
            let len = match op {
                Op::Opaque(p) | Op::Whiteout(p) | Op::Put(p, _) | Op::Link(p, _) => p.len(),
            };
            self.count(len, name)?;
            self.apply_op(op, &mut changes);
        }
        self.finish(changes);
        Ok(())
    }

    /// Counts one entry with a name (or link target) of `len` bytes against the caps.
    fn count(&mut self, len: usize, layer: &str) -> Result<(), CheckError> {
        let bad = |what: String| CheckError::Corrupt {
            what: format!("layer {layer}: {what}"),
        };
        if len > MAX_NAME {
            return Err(bad(format!(
                "an entry name of {len} bytes, longer than {MAX_NAME} bytes, the limit for one name"
            )));
        }
        self.entries += 1;
        self.name_bytes += len as u64;
        if self.entries > MAX_IMAGE_ENTRIES {
            return Err(bad(format!(
                "the image has more than {MAX_IMAGE_ENTRIES} entries, the limit for one image"
            )));
        }
        if self.name_bytes > MAX_IMAGE_NAME_BYTES {
            return Err(bad(format!(
                "the image's entry names take more than {}, the limit for one image",
                Bytes(MAX_IMAGE_NAME_BYTES)
            )));
        }
        Ok(())
    }

    fn apply_op(&mut self, op: &Op, changes: &mut Changes) {
        let (path, node) = match op {
            Op::Opaque(dir) => {
                changes.opaque.push(dir.clone());
                return;
            }
            Op::Whiteout(target) => {
                self.remove(target);
                return;
            }
            Op::Put(path, node) => (path, node.clone()),
            Op::Link(path, target) => match self.nodes.get(target) {
                Some(n @ Node::File(_)) => (path, n.clone()),
                _ => return,
            },
        };
        // A new non-directory replaces whatever was there, including a directory's contents.
        if !matches!(node, Node::Dir) {
            self.remove(path);
        } else if !matches!(self.nodes.get(path), Some(Node::Dir) | None) {
            self.nodes.remove(path);
        }
        self.nodes.insert(path.clone(), node);
        changes.added.push(path.clone());
    }

    /// Opaque whiteouts hide what lower layers put in their folder (not what this layer added).
    fn finish(&mut self, changes: Changes) {
        if changes.opaque.is_empty() {
            return;
        }
        let keep: std::collections::BTreeSet<String> = changes.added.into_iter().collect();
        for dir in changes.opaque {
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
            classify_known(path, mode, &all, expected, &opts.known)
        }
    } else {
        classify_known(path, mode, &head, expected, &opts.known)
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
    fn names_are_capped() {
        let opts = Options::default();
        let long = format!("d/{}", "n".repeat(MAX_NAME));
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_data(&mut h, &long, &b"x"[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        let e = Tree::default()
            .apply_layer(&bytes[..], "l", &opts, None)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("an entry name of 4098 bytes, longer than 4096 bytes"),
            "{e}"
        );
        // Replaying a recorded layer gives the same tree.
        let mut ops = Vec::new();
        let mut t = Tree::default();
        let meter = Meter::new(u64::MAX, Trip::Layer(u64::MAX));
        let l = layer(&[("a/x", b"1", None), ("a/.wh..wh..opq", b"", None)]);
        t.apply_metered(&l[..], &meter, "l", &opts, None, Some(&mut ops))
            .unwrap();
        let mut again = Tree::default();
        again.replay(&ops, "l").unwrap();
        assert_eq!(
            t.nodes.keys().collect::<Vec<_>>(),
            again.nodes.keys().collect::<Vec<_>>()
        );
        assert_eq!(again.entries, 2);
    }

    #[test]
    fn normalises() {
        assert_eq!(normalise("./usr//bin/../x").as_deref(), Some("/usr/x"));
        assert_eq!(normalise("../etc"), None);
        assert_eq!(normalise("./"), None);
    }
}
