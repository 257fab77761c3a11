//! Images: an OCI layout (a directory or a tar of one) or a `docker save` archive, read one
//! platform at a time: the manifest, the config, and the layers applied in order.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::Value;

use super::limits::{MAX_LAYERS, MAX_NAME, Meter, Metered, Trip};
use super::tree::{Op, Tree, normalise, trip_message};
use super::{CheckError, Options, PlatformReport, analyse_image};
use crate::arch::Arch;

/// Most manifests followed from one index (nested indexes included).
const MAX_MANIFESTS: usize = 256;
/// How deep image indexes may nest.
const MAX_DEPTH: usize = 4;
/// Most entries indexed in one archive.
const MAX_ARCHIVE_ENTRIES: usize = 1_000_000;

/// Where an image's files are: `index.json`, `manifest.json`, `blobs/sha256/HEX`, ...
pub trait Blobs {
    /// The file `name` (relative, normalised without the leading `/`), if present.
    fn open(&mut self, name: &str) -> Result<Option<Box<dyn Read + '_>>, CheckError>;
}

/// An image laid out in a directory.
pub struct DirBlobs {
    pub root: PathBuf,
}

impl Blobs for DirBlobs {
    fn open(&mut self, name: &str) -> Result<Option<Box<dyn Read + '_>>, CheckError> {
        let path = self.root.join(name);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => {}
            _ => return Ok(None),
        }
        let (f, _) = crate::walk::open_regular(&path, false).map_err(|error| CheckError::Read {
            path: path.clone(),
            error,
        })?;
        Ok(Some(Box::new(f)))
    }
}

/// An image in a tar archive: entries indexed first (name → offset, size), then read by seeking.
pub struct TarBlobs<'r, R> {
    r: &'r mut R,
    index: HashMap<String, (u64, u64)>,
    /// Symlinks between entries (`docker save` links layers shared by images).
    links: HashMap<String, String>,
}

impl<'r, R: Read + Seek> TarBlobs<'r, R> {
    pub fn index(r: &'r mut R) -> Result<Self, CheckError> {
        let corrupt = |what: String| CheckError::Corrupt { what };
        let len = r
            .seek(SeekFrom::End(0))
            .map_err(|e| corrupt(format!("cannot seek: {e}")))?;
        r.seek(SeekFrom::Start(0))
            .map_err(|e| corrupt(format!("cannot seek: {e}")))?;
        if len < 512 {
            return Err(corrupt(format!(
                "not a tar archive: {len} bytes, less than one tar header"
            )));
        }
        let mut index = HashMap::new();
        let mut links = HashMap::new();
        {
            // Metered so that no entry's headers (a hostile long name) are read past the cap.
            let meter = Meter::new(u64::MAX, Trip::Image(u64::MAX));
            let mut ar = tar::Archive::new(Metered::new(&mut *r, meter.clone()));
            let mut entries = ar
                .entries_with_seek()
                .map_err(|e| corrupt(format!("not a readable tar archive: {e}")))?;
            let mut data_end = 0u64;
            for n in 0.. {
                meter.headers_from(data_end);
                let Some(e) = entries.next() else { break };
                if n >= MAX_ARCHIVE_ENTRIES {
                    return Err(corrupt(format!(
                        "more than {MAX_ARCHIVE_ENTRIES} entries in the archive"
                    )));
                }
                let e = e.map_err(|e| match meter.tripped() {
                    Some(t) => corrupt(trip_message(t)),
                    None => corrupt(format!("corrupt or truncated tar archive: {e}")),
                })?;
                meter.data();
                let stored = e.header().entry_size().unwrap_or(0).max(e.size());
                data_end = e
                    .raw_file_position()
                    .saturating_add(stored)
                    .checked_next_multiple_of(512)
                    .unwrap_or(u64::MAX);
                let ty = e.header().entry_type();
                let raw = e.path_bytes();
                let link_len = e.link_name_bytes().map_or(0, |l| l.len());
                if raw.len().max(link_len) > MAX_NAME {
                    return Err(corrupt(format!(
                        "an entry name of {} bytes, longer than {MAX_NAME} bytes, the limit for \
                         one name",
                        raw.len().max(link_len)
                    )));
                }
                let name = String::from_utf8_lossy(&raw).into_owned();
                let Some(name) = normalise(&name) else {
                    continue;
                };
                if ty == tar::EntryType::Symlink {
                    let target = e
                        .link_name_bytes()
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default();
                    let dir = name.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    if let Some(t) = normalise(&format!("{dir}/{target}")) {
                        links.insert(name[1..].to_string(), t[1..].to_string());
                    }
                    continue;
                }
                if !matches!(ty, tar::EntryType::Regular | tar::EntryType::Continuous) {
                    continue;
                }
                let (off, size) = (e.raw_file_position(), e.size());
                // The data and its padding to the next 512-byte block must be in the file.
                let end = off
                    .checked_add(size)
                    .and_then(|e| e.checked_next_multiple_of(512));
                if end.is_none_or(|end| end > len) {
                    return Err(corrupt(format!(
                        "truncated archive: `{}` needs bytes {off}..{} but the archive has {len}",
                        &name[1..],
                        off.saturating_add(size)
                    )));
                }
                index.insert(name[1..].to_string(), (off, size));
            }
        }
        if index.is_empty() {
            return Err(corrupt("not a tar archive with files in it".to_string()));
        }
        Ok(TarBlobs { r, index, links })
    }

    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The regular entry `name` is, following at most 8 symlinks.
    fn find(&self, name: &str) -> Option<(u64, u64)> {
        let mut name = name;
        for _ in 0..8 {
            if let Some(&e) = self.index.get(name) {
                return Some(e);
            }
            name = self.links.get(name)?;
        }
        None
    }
}

impl<R: Read + Seek> Blobs for TarBlobs<'_, R> {
    fn open(&mut self, name: &str) -> Result<Option<Box<dyn Read + '_>>, CheckError> {
        let Some((off, size)) = self.find(name) else {
            return Ok(None);
        };
        self.r
            .seek(SeekFrom::Start(off))
            .map_err(|e| CheckError::Corrupt {
                what: format!("cannot seek to `{name}`: {e}"),
            })?;
        Ok(Some(Box::new((&mut *self.r).take(size))))
    }
}

/// Reads a JSON file of the image, at most `opts.max_json` bytes.
fn json(blobs: &mut dyn Blobs, name: &str, opts: &Options) -> Result<Value, CheckError> {
    let corrupt = |what: String| CheckError::Corrupt {
        what: format!("`{name}`: {what}"),
    };
    let Some(r) = blobs.open(name)? else {
        return Err(corrupt("missing from the image".to_string()));
    };
    let mut buf = Vec::new();
    r.take(opts.max_json + 1)
        .read_to_end(&mut buf)
        .map_err(|e| corrupt(format!("cannot read: {e}")))?;
    if buf.len() as u64 > opts.max_json {
        return Err(corrupt(format!(
            "larger than {} bytes, the limit for image JSON",
            opts.max_json
        )));
    }
    serde_json::from_slice(&buf).map_err(|e| corrupt(format!("invalid JSON: {e}")))
}

/// `sha256:HEX` → `blobs/sha256/HEX`, refusing anything that is not a plain digest.
fn blob_name(digest: &Value) -> Result<String, CheckError> {
    let d = digest.as_str().unwrap_or("");
    let ok = d.split_once(':').is_some_and(|(alg, hex)| {
        !alg.is_empty()
            && !hex.is_empty()
            && alg.chars().all(|c| c.is_ascii_alphanumeric())
            && hex.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if !ok {
        return Err(CheckError::Corrupt {
            what: format!("invalid digest {digest}"),
        });
    }
    let (alg, hex) = d.split_once(':').unwrap_or_default();
    Ok(format!("blobs/{alg}/{hex}"))
}

/// One platform's image to read: its manifest's layers and config.
struct Platform {
    /// `linux/arm/v7`.
    name: String,
    arch: Option<Arch>,
    config: Value,
    layers: Vec<String>,
}

/// The arch of an OCI platform, through the arch table.
pub fn arch_of(arch: &str, variant: Option<&str>) -> Option<Arch> {
    Arch::ALL.into_iter().find(|a| {
        let i = a.info();
        i.oci_arch == arch && (i.oci_variant.is_none() || i.oci_variant == variant)
    })
}

fn platform_of(desc: Option<&Value>, config: &Value) -> (String, Option<Arch>) {
    let pick = |v: &Value| {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        (s("os"), s("architecture"), s("variant"))
    };
    let (os, arch, variant) = match desc.map(pick) {
        Some((os, Some(a), v)) => (os, Some(a), v),
        _ => pick(config),
    };
    let arch_s = arch.unwrap_or_else(|| "unknown".to_string());
    let mut name = format!("{}/{arch_s}", os.unwrap_or_else(|| "linux".to_string()));
    if let Some(v) = &variant {
        name.push_str(&format!("/{v}"));
    }
    (name, arch_of(&arch_s, variant.as_deref()))
}

/// Checks an OCI layout (directory or archive): every platform of every manifest index.json
/// reaches.
pub fn check_oci(blobs: &mut dyn Blobs, opts: &Options) -> Result<Vec<PlatformReport>, CheckError> {
    let index = json(blobs, "index.json", opts)?;
    let mut todo: Vec<(Value, usize)> = manifests_of(&index).into_iter().map(|d| (d, 0)).collect();
    let mut platforms = Vec::new();
    let mut seen = BTreeSet::new();
    let mut steps = 0;
    let mut others = Vec::new();
    while let Some((desc, depth)) = todo.pop() {
        steps += 1;
        if steps > MAX_MANIFESTS {
            return Err(CheckError::Corrupt {
                what: format!("index.json reaches more than {MAX_MANIFESTS} manifests"),
            });
        }
        let name = blob_name(&desc["digest"])?;
        if !seen.insert(name.clone()) {
            continue;
        }
        // A platform the index names and that is not wanted is skipped before its manifest
        // and config are read (a registry then fetches nothing of it).
        if let Some(p) = desc
            .get("platform")
            .filter(|p| p.get("architecture").is_some())
        {
            let (pname, arch) = platform_of(Some(p), &Value::Null);
            if pname.contains("/unknown") || !wanted(&pname, arch, opts) {
                others.extend(other_os(&pname));
                continue;
            }
        }
        let m = json(blobs, &name, opts)?;
        if m.get("manifests").is_some() {
            if depth >= MAX_DEPTH {
                return Err(CheckError::Corrupt {
                    what: format!("image indexes nest deeper than {MAX_DEPTH}"),
                });
            }
            for d in manifests_of(&m) {
                todo.push((d, depth + 1));
            }
            continue;
        }
        let config_name = blob_name(&m["config"]["digest"]).map_err(|e| CheckError::Corrupt {
            what: format!("manifest {name}: {e}"),
        })?;
        let config = json(blobs, &config_name, opts)?;
        let (pname, arch) = platform_of(desc.get("platform"), &config);
        if pname.contains("/unknown") {
            continue; // attestation manifests (buildx), not a runnable platform
        }
        let layers = m["layers"]
            .as_array()
            .map(|a| a.iter().map(|l| blob_name(&l["digest"])).collect())
            .unwrap_or(Ok(Vec::new()))?;
        platforms.push(Platform {
            name: pname,
            arch,
            config,
            layers,
        });
    }
    if platforms.is_empty() && !others.is_empty() {
        return Err(only_other_os(&others));
    }
    read_platforms(blobs, platforms, opts)
}

/// Whether a platform (`linux/arm/v7`, its arch) is one to check: a linux one, of `--arch`
/// when given.
fn wanted(name: &str, arch: Option<Arch>, opts: &Options) -> bool {
    name.starts_with("linux/") && opts.arch.is_none_or(|want| arch == Some(want))
}

/// The platform, when it is for another OS than linux (attestations, `unknown/unknown`, aside).
fn other_os(name: &str) -> Option<String> {
    (!name.starts_with("linux/") && !name.starts_with("unknown/")).then(|| name.to_string())
}

/// The error for an image whose platforms are all for other OSes.
fn only_other_os(others: &[String]) -> CheckError {
    let mut names = others.to_vec();
    names.sort();
    names.dedup();
    CheckError::Corrupt {
        what: format!(
            "an image for {}, not for linux: `recipe check` reads linux images",
            names.join(", ")
        ),
    }
}

fn manifests_of(index: &Value) -> Vec<Value> {
    let mut v: Vec<Value> = index["manifests"].as_array().cloned().unwrap_or_default();
    v.reverse(); // popped from the end: keep the file's order
    v
}

/// Checks a `docker save` archive: `manifest.json` lists each image's config and layers.
pub fn check_docker(
    blobs: &mut dyn Blobs,
    opts: &Options,
) -> Result<Vec<PlatformReport>, CheckError> {
    let manifest = json(blobs, "manifest.json", opts)?;
    let Some(images) = manifest.as_array() else {
        return Err(CheckError::Corrupt {
            what: "`manifest.json`: not a list of images".to_string(),
        });
    };
    let mut platforms = Vec::new();
    for (i, img) in images.iter().enumerate().take(MAX_MANIFESTS) {
        let path = |v: &Value, what: &str| {
            v.as_str()
                .and_then(normalise)
                .map(|p| p[1..].to_string())
                .ok_or_else(|| CheckError::Corrupt {
                    what: format!("`manifest.json`: image {i} has no valid {what}"),
                })
        };
        let config_name = path(&img["Config"], "Config")?;
        let config = json(blobs, &config_name, opts)?;
        let layers = img["Layers"]
            .as_array()
            .map(|a| a.iter().map(|l| path(l, "layer path")).collect())
            .unwrap_or(Ok(Vec::new()))?;
        let (mut name, arch) = platform_of(None, &config);
        if let Some(tag) = img["RepoTags"].get(0).and_then(Value::as_str) {
            name = format!("{name} ({tag})");
        }
        platforms.push(Platform {
            name,
            arch,
            config,
            layers,
        });
    }
    read_platforms(blobs, platforms, opts)
}

fn read_platforms(
    blobs: &mut dyn Blobs,
    mut platforms: Vec<Platform>,
    opts: &Options,
) -> Result<Vec<PlatformReport>, CheckError> {
    platforms.sort_by(|a, b| (a.arch, &a.name).cmp(&(b.arch, &b.name)));
    let others: Vec<String> = platforms.iter().filter_map(|p| other_os(&p.name)).collect();
    if !platforms.is_empty() && others.len() == platforms.len() {
        return Err(only_other_os(&others));
    }
    platforms.retain(|p| wanted(&p.name, p.arch, opts));
    for p in &platforms {
        if p.layers.len() > MAX_LAYERS {
            return Err(CheckError::Corrupt {
                what: format!(
                    "platform {}: the manifest lists {} layers, more than {MAX_LAYERS}, the limit \
                     for one image",
                    p.name,
                    p.layers.len()
                ),
            });
        }
    }
    // Layers listed more than once (in one platform or several) are read once, their changes
    // kept and applied again.
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for l in platforms.iter().flat_map(|p| &p.layers) {
        *uses.entry(l).or_default() += 1;
    }
    let mut again: HashMap<String, Rc<Vec<Op>>> = HashMap::new();
    let mut unpacked = 0u64;
    let mut out: Vec<PlatformReport> = Vec::new();
    // Platforms with the same layers, arch and config are the same answer: judged once.
    let mut judged: HashMap<(&[String], Option<Arch>, String), usize> = HashMap::new();
    let mut work = 0usize;
    for p in &platforms {
        let same = (p.layers.as_slice(), p.arch, p.config["config"].to_string());
        if let Some(&i) = judged.get(&same) {
            let mut report = out[i].clone();
            report.platform = Some(p.name.clone());
            out.push(report);
            continue;
        }
        let mut tree = Tree::default();
        for layer in &p.layers {
            if let Some(ops) = again.get(layer) {
                tree.replay(ops, &short_name(layer))?;
                continue;
            }
            let mut record = (uses[layer.as_str()] > 1).then(Vec::new);
            unpacked += apply(
                blobs,
                &mut tree,
                layer,
                opts,
                p.arch,
                unpacked,
                record.as_mut(),
            )?;
            if let Some(ops) = record {
                again.insert(layer.clone(), Rc::new(ops));
            }
        }
        work = work.saturating_add(tree.entries + tree.nodes.len());
        if work > opts.max_target_entries {
            return Err(CheckError::Corrupt {
                what: format!(
                    "platform {}: the image's platforms make more than {} entries to read and \
                     judge together, the limit for one image",
                    p.name, opts.max_target_entries
                ),
            });
        }
        judged.insert(same, out.len());
        out.push(analyse_image(tree, &p.name, p.arch, &p.config["config"]));
    }
    Ok(out)
}

/// Applies one layer blob: gzip or plain tar by magic; zstd (and others) become a note.
/// `unpacked` bytes of the image's layers were decompressed before this one; returns how many
/// this one took.
fn apply(
    blobs: &mut dyn Blobs,
    tree: &mut Tree,
    name: &str,
    opts: &Options,
    arch: Option<Arch>,
    unpacked: u64,
    record: Option<&mut Vec<Op>>,
) -> Result<u64, CheckError> {
    let Some(r) = blobs.open(name)? else {
        return Err(CheckError::Corrupt {
            what: format!("layer `{name}` is missing from the image"),
        });
    };
    let mut r = BufReader::new(r);
    let magic = r
        .fill_buf()
        .map_err(|e| CheckError::Corrupt {
            what: format!("layer `{name}`: cannot read: {e}"),
        })?
        .to_vec();
    let short = short_name(name);
    let left = opts.max_image_bytes.saturating_sub(unpacked);
    let meter = if left < opts.max_layer_bytes {
        Meter::new(left, Trip::Image(opts.max_image_bytes))
    } else {
        Meter::new(opts.max_layer_bytes, Trip::Layer(opts.max_layer_bytes))
    };
    if magic.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::MultiGzDecoder::new(r);
        tree.apply_metered(gz, &meter, &short, opts, arch, record)?;
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        tree.notes.push(format!(
            "unsupported layer compression (zstd) in layer {short}: its files were not checked"
        ));
    } else if magic.starts_with(b"BZh") || magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
        tree.notes.push(format!(
            "unsupported layer compression in layer {short}: its files were not checked"
        ));
    } else {
        tree.apply_metered(r, &meter, &short, opts, arch, record)?;
    }
    Ok(meter.pos())
}

fn short_name(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    if base.len() > 16 && name.starts_with("blobs/") {
        format!("sha256:{}", &base[..12])
    } else {
        name.to_string()
    }
}

/// What an image directory is, if one: OCI layout or an unpacked `docker save`.
pub fn dir_kind(dir: &Path) -> Option<&'static str> {
    if dir.join("oci-layout").is_file() && dir.join("index.json").is_file() {
        Some("oci-layout")
    } else if dir.join("manifest.json").is_file() && dir.join("repositories").is_file() {
        Some("docker-save-dir")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_map_through_the_table() {
        for a in Arch::ALL {
            let i = a.info();
            assert_eq!(arch_of(i.oci_arch, i.oci_variant), Some(a));
        }
        assert_eq!(arch_of("arm64", Some("v8")), Some(Arch::Arm64));
        assert_eq!(arch_of("arm", Some("v6")), None);
        assert_eq!(arch_of("s390x", None), None);
    }

    #[test]
    fn digests_are_checked() {
        assert_eq!(
            blob_name(&Value::from("sha256:abc")).unwrap(),
            "blobs/sha256/abc"
        );
        for bad in ["sha256:../../etc/passwd", "abc", "sha256:", ":x"] {
            assert!(blob_name(&Value::from(bad)).is_err(), "{bad}");
        }
        assert!(blob_name(&Value::Null).is_err());
    }
}
