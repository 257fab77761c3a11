//! One reproducible layer: entries checked and sorted, then streamed as tar into gzip, with the
//! diff_id (sha256 of the tar) and the blob digest (sha256 of the gzip) hashed on the way.

use crate::digest::HashWriter;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use tar::{EntryType, Header};

use super::{Entry, EntryKind, FileSource, ImageError};

/// libdeflate's level, pinned so the same tar always gives the same blob (with
/// [`super::pgz::CHUNK`], the size of the pieces compressed in parallel).
const GZIP_LEVEL: i32 = 6;

/// How a layer's tar becomes its blob: part of every image key, so an image written by another
/// compressor is written again rather than taken as the same bytes.
pub const LAYER_FORMAT: &str = "tar, gzip: libdeflate 1.26 level 6, a member per 1 MiB piece";

/// A checked entry, ready to be written: path relative (`etc/passwd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned<'a> {
    pub rel: String,
    pub kind: PlannedKind<'a>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PlannedKind<'a> {
    Dir,
    Bytes(&'a [u8]),
    Path(&'a Path),
    Symlink(&'a str),
}

/// Checks `entries` and returns them sorted by path (component by component, so parents come
/// before children), with missing parent directories added as root-owned 0755 dirs.
pub(crate) fn plan(entries: &[Entry]) -> Result<Vec<Planned<'_>>, ImageError> {
    // Key: the path's components, which sorts parents before their children.
    let mut map: BTreeMap<Vec<String>, Planned<'_>> = BTreeMap::new();
    for e in entries {
        let comps = components(&e.path)?;
        if e.mode & 0o6000 != 0 {
            return Err(ImageError::SetId {
                path: e.path.clone(),
                mode: e.mode,
            });
        }
        if e.mode & !0o7777 != 0 {
            return Err(ImageError::InvalidMode {
                path: e.path.clone(),
                mode: e.mode,
            });
        }
        let kind = match &e.kind {
            EntryKind::Dir => PlannedKind::Dir,
            EntryKind::File(FileSource::Bytes(b)) => PlannedKind::Bytes(b),
            EntryKind::File(FileSource::Path(p)) => PlannedKind::Path(p),
            EntryKind::Symlink(t) => {
                if t.is_empty() {
                    return Err(ImageError::InvalidLinkTarget {
                        path: e.path.clone(),
                        reason: "it is empty",
                    });
                }
                if t.contains('\0') {
                    return Err(ImageError::InvalidLinkTarget {
                        path: e.path.clone(),
                        reason: "it holds a NUL byte",
                    });
                }
                PlannedKind::Symlink(t)
            }
        };
        let p = Planned {
            rel: comps.join("/"),
            kind,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
        };
        if let Some(old) = map.get(&comps) {
            // The same directory twice (e.g. from the base and from the app) is harmless.
            if *old != p {
                return Err(ImageError::Duplicate(e.path.clone()));
            }
        }
        map.insert(comps, p);
    }
    // Missing parents; existing parents must be directories.
    let keys: Vec<Vec<String>> = map.keys().cloned().collect();
    for k in keys {
        for n in 1..k.len() {
            let parent = &k[..n];
            match map.get(parent) {
                Some(p) if p.kind != PlannedKind::Dir => {
                    return Err(ImageError::NotADirectory {
                        path: format!("/{}", parent.join("/")),
                    });
                }
                Some(_) => {}
                None => {
                    let p = Planned {
                        rel: parent.join("/"),
                        kind: PlannedKind::Dir,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                    };
                    map.insert(parent.to_vec(), p);
                }
            }
        }
    }
    Ok(map.into_values().collect())
}

/// The components of an absolute image path; refuses relative paths, `.`, `..`, `//`, NUL and
/// the root itself.
fn components(path: &str) -> Result<Vec<String>, ImageError> {
    let bad = |reason| ImageError::InvalidPath {
        path: path.to_string(),
        reason,
    };
    let Some(rest) = path.strip_prefix('/') else {
        return Err(bad("it must be absolute"));
    };
    if path.contains('\0') {
        return Err(bad("it holds a NUL byte"));
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Err(bad("the root itself cannot be an entry"));
    }
    let mut out = Vec::new();
    for c in rest.split('/') {
        match c {
            "" => return Err(bad("it has an empty component")),
            "." | ".." => return Err(bad("it has a `.` or `..` component")),
            c => out.push(c.to_string()),
        }
    }
    Ok(out)
}

/// Digests and sizes of a written layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayerInfo {
    /// sha256 of the uncompressed tar: the config's diff_id.
    pub diff_id: String,
    pub uncompressed_size: u64,
    /// sha256 of the gzip blob.
    pub digest: String,
    pub compressed_size: u64,
}

/// Reads exactly `expected` bytes of a source file, reporting errors (and a file that shrank)
/// with the file's path into `failure`, so they are not mistaken for write errors.
struct SourceReader<'a> {
    file: io::Take<File>,
    path: &'a Path,
    expected: u64,
    failure: &'a mut Option<ImageError>,
}

impl Read for SourceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.file.read(buf) {
            Ok(0) if self.file.limit() > 0 && !buf.is_empty() => {
                *self.failure = Some(ImageError::Changed {
                    path: self.path.to_path_buf(),
                    expected: self.expected,
                });
                Err(io::Error::other("source file shrank"))
            }
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let msg = e.to_string();
                *self.failure = Some(ImageError::Read {
                    path: self.path.to_path_buf(),
                    source: e,
                });
                Err(io::Error::other(msg))
            }
        }
    }
}

/// Appends the file at `src` to `tar` as `rel`, streaming it; `h` holds everything but the
/// size and type. `out_path` names the archive in write errors.
pub(crate) fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    h: &mut Header,
    rel: &str,
    src: &Path,
    out_path: &Path,
) -> Result<(), ImageError> {
    let rerr = |source| ImageError::Read {
        path: src.to_path_buf(),
        source,
    };
    let file = File::open(src).map_err(rerr)?;
    let meta = file.metadata().map_err(rerr)?;
    if !meta.is_file() {
        return Err(ImageError::NotAFile {
            source_path: src.to_path_buf(),
            image_path: format!("/{rel}"),
        });
    }
    let size = meta.len();
    h.set_entry_type(EntryType::Regular);
    h.set_size(size);
    let mut failure = None;
    let reader = SourceReader {
        file: file.take(size),
        path: src,
        expected: size,
        failure: &mut failure,
    };
    match tar.append_data(h, rel, reader) {
        Ok(()) => Ok(()),
        Err(e) => Err(failure.unwrap_or_else(|| ImageError::Write {
            path: out_path.to_path_buf(),
            source: e,
        })),
    }
}

/// Writes `planned` as a tar, gzip-compressed, into `out`; every entry gets `mtime`. `out_path`
/// names `out` in errors. Returns `out` (flushed) and the digests.
pub(crate) fn write_layer<W: Write>(
    planned: &[Planned<'_>],
    mtime: u64,
    out: W,
    out_path: &Path,
) -> Result<(W, LayerInfo), ImageError> {
    let werr = |source: io::Error| ImageError::Write {
        path: out_path.to_path_buf(),
        source,
    };
    let gz = super::pgz::ParGzEncoder::new(HashWriter::new(out), GZIP_LEVEL).map_err(werr)?;
    let mut tar = tar::Builder::new(HashWriter::new(gz));
    for p in planned {
        let mut h = Header::new_gnu();
        h.set_mode(p.mode);
        h.set_uid(p.uid as u64);
        h.set_gid(p.gid as u64);
        h.set_mtime(mtime);
        match p.kind {
            PlannedKind::Dir => {
                h.set_entry_type(EntryType::Directory);
                h.set_size(0);
                tar.append_data(&mut h, &p.rel, io::empty()).map_err(werr)?;
            }
            PlannedKind::Bytes(b) => {
                h.set_entry_type(EntryType::Regular);
                h.set_size(b.len() as u64);
                tar.append_data(&mut h, &p.rel, b).map_err(werr)?;
            }
            PlannedKind::Symlink(t) => {
                h.set_entry_type(EntryType::Symlink);
                h.set_size(0);
                tar.append_link(&mut h, &p.rel, t).map_err(werr)?;
            }
            PlannedKind::Path(src) => append_file(&mut tar, &mut h, &p.rel, src, out_path)?,
        }
    }
    let (gz, diff_id, uncompressed_size) = tar.into_inner().map_err(werr)?.finish();
    let diff_id = format!("sha256:{diff_id}");
    let (mut out, digest, compressed_size) = gz.finish().map_err(werr)?.finish();
    let digest = format!("sha256:{digest}");
    out.flush().map_err(werr)?;
    Ok((
        out,
        LayerInfo {
            diff_id,
            uncompressed_size,
            digest,
            compressed_size,
        },
    ))
}

/// The archive paths of a planned layer, for tests and diagnostics.
#[cfg(test)]
fn rels(p: &[Planned<'_>]) -> Vec<String> {
    p.iter().map(|p| p.rel.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Entry;
    use sha2::Digest;

    fn sample() -> Vec<Entry> {
        vec![
            Entry::bytes("/usr/local/bin/app", 0o755, b"#!not a shell\n".to_vec()),
            Entry::dir("/tmp", 0o1777),
            Entry::symlink("/usr/bin/app", "/usr/local/bin/app"),
            Entry::bytes(
                "/etc/passwd",
                0o644,
                b"root:x:0:0::/root:/sbin/nologin\n".to_vec(),
            ),
            Entry {
                path: "/data".into(),
                kind: EntryKind::Dir,
                mode: 0o755,
                uid: 1000,
                gid: 1000,
            },
            Entry::bytes("/a-b", 0o644, b"x".to_vec()),
            Entry::bytes("/a/b", 0o644, b"y".to_vec()),
        ]
    }

    fn layer(entries: &[Entry], mtime: u64) -> (Vec<u8>, LayerInfo) {
        let planned = plan(entries).unwrap();
        write_layer(&planned, mtime, Vec::new(), Path::new("mem")).unwrap()
    }

    fn untar(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(gz)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn plan_sorts_and_adds_parents() {
        let s = sample();
        let p = plan(&s).unwrap();
        assert_eq!(
            rels(&p),
            [
                "a",
                "a/b",
                "a-b",
                "data",
                "etc",
                "etc/passwd",
                "tmp",
                "usr",
                "usr/bin",
                "usr/bin/app",
                "usr/local",
                "usr/local/bin",
                "usr/local/bin/app"
            ]
        );
        let usr = p.iter().find(|p| p.rel == "usr").unwrap();
        assert_eq!(
            (usr.mode, usr.uid, usr.gid, &usr.kind),
            (0o755, 0, 0, &PlannedKind::Dir)
        );
    }

    #[test]
    fn plan_refuses_bad_input() {
        let bad = |path: &str, mode: u32| plan(&[Entry::bytes(path, mode, vec![])]).unwrap_err();
        let invalid_path = |path: &str| match bad(path, 0o644) {
            ImageError::InvalidPath { reason, .. } => reason,
            other => panic!("{path}: {other}"),
        };
        assert_eq!(invalid_path("etc/x"), "it must be absolute");
        assert_eq!(invalid_path("/etc/../x"), "it has a `.` or `..` component");
        assert_eq!(invalid_path("/etc//x"), "it has an empty component");
        assert_eq!(invalid_path("/"), "the root itself cannot be an entry");
        for mode in [0o4755, 0o2755] {
            let e = bad("/bin/su", mode);
            assert!(
                matches!(e, ImageError::SetId { mode: m, .. } if m == mode),
                "{e}"
            );
        }
        let e = bad("/bin/x", 0o100755);
        assert!(
            matches!(e, ImageError::InvalidMode { mode: 0o100755, .. }),
            "{e}"
        );
        let e = plan(&[
            Entry::bytes("/x", 0o644, vec![]),
            Entry::bytes("/x/y", 0o644, vec![]),
        ])
        .unwrap_err();
        assert!(
            matches!(e, ImageError::NotADirectory { ref path } if path == "/x"),
            "{e}"
        );
        let e = plan(&[
            Entry::bytes("/x", 0o644, vec![1]),
            Entry::bytes("/x", 0o644, vec![2]),
        ])
        .unwrap_err();
        assert!(matches!(e, ImageError::Duplicate(_)));
        // The same dir twice is fine.
        plan(&[Entry::dir("/x", 0o755), Entry::dir("/x/", 0o755)]).unwrap();
    }

    #[test]
    fn tar_headers_are_deterministic() {
        let (gz, info) = layer(&sample(), 1_700_000_000);
        // gzip header: magic, deflate, no flags (no name), mtime 0, xfl 0, OS 255.
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        assert_eq!(info.compressed_size, gz.len() as u64);
        let raw = untar(&gz);
        assert_eq!(info.uncompressed_size, raw.len() as u64);
        assert_eq!(
            info.diff_id,
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(&raw)))
        );
        assert_eq!(
            info.digest,
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(&gz)))
        );

        let mut ar = tar::Archive::new(raw.as_slice());
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert!(h.as_gnu().is_some());
            assert_eq!(h.mtime().unwrap(), 1_700_000_000);
            assert_eq!(h.username_bytes(), Some(&b""[..]));
            assert_eq!(h.groupname_bytes(), Some(&b""[..]));
            assert!(!matches!(
                h.entry_type(),
                EntryType::XHeader | EntryType::XGlobalHeader
            ));
            let gnu = h.as_gnu().unwrap();
            assert!(gnu.atime.iter().all(|&b| b == 0) && gnu.ctime.iter().all(|&b| b == 0));
            let path = e.path().unwrap().to_string_lossy().into_owned();
            assert!(!path.starts_with('/'));
            seen.push((path, h.mode().unwrap(), h.uid().unwrap(), h.entry_type()));
        }
        assert!(seen.contains(&("tmp".into(), 0o1777, 0, EntryType::Directory)));
        assert!(seen.contains(&("data".into(), 0o755, 1000, EntryType::Directory)));
        assert!(seen.contains(&("usr/local/bin/app".into(), 0o755, 0, EntryType::Regular)));
        assert!(seen.contains(&("usr/bin/app".into(), 0o777, 0, EntryType::Symlink)));
        let paths: Vec<_> = seen.iter().map(|s| s.0.clone()).collect();
        assert_eq!(paths, rels(&plan(&sample()).unwrap()));
    }

    #[test]
    fn same_bytes_whatever_the_order_and_the_disk_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bin");
        std::fs::write(&f, vec![7u8; 100_000]).unwrap();
        let mut a = sample();
        a.push(Entry::file("/usr/local/bin/big", 0o755, &f));
        let (gz1, i1) = layer(&a, 0);
        a.reverse();
        a.swap(1, 4);
        // Touch the source: a different mtime and mode on disk must not matter.
        std::fs::write(&f, vec![7u8; 100_000]).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let (gz2, i2) = layer(&a, 0);
        assert_eq!(i1, i2);
        assert_eq!(gz1, gz2);
    }

    #[test]
    fn long_paths_and_links_survive() {
        let long = format!("/opt/{}/{}", "d".repeat(120), "f".repeat(90));
        let target = format!("/{}", "t".repeat(150));
        let (gz, _) = layer(
            &[
                Entry::bytes(long.clone(), 0o644, b"hi".to_vec()),
                Entry::symlink("/l", target.clone()),
            ],
            0,
        );
        let raw = untar(&gz);
        let mut ar = tar::Archive::new(raw.as_slice());
        let mut found = (false, false);
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            if p == long[1..] {
                found.0 = true;
            }
            if p == "l" {
                assert_eq!(e.link_name().unwrap().unwrap().to_string_lossy(), target);
                found.1 = true;
            }
        }
        assert_eq!(found, (true, true));
    }

    #[test]
    fn missing_source_is_a_read_error() {
        let planned_src = [Entry::file("/x", 0o644, "/nonexistent/recipe-test")];
        let planned = plan(&planned_src).unwrap();
        let e = write_layer(&planned, 0, Vec::new(), Path::new("mem")).unwrap_err();
        assert!(matches!(e, ImageError::Read { .. }), "{e}");
        assert!(e.to_string().contains("/nonexistent/recipe-test"));
    }
}
