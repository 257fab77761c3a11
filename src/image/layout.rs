//! The writers: an OCI image layout directory and its one-file tar archive, both atomic.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, MediaType};
use tar::{EntryType, Header};

use super::layer::{self, append_file};
use super::oci::{self, Blob};
use super::{ImageError, PlatformImage, PlatformSummary, Written};

fn werr(path: &Path) -> impl FnOnce(io::Error) -> ImageError + '_ {
    move |source| ImageError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// The folder `path` lives in and its file name; the folder is created if missing.
pub(super) fn parent_and_name(path: &Path) -> Result<(PathBuf, String), ImageError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ImageError::Write {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"),
        })?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(werr(&parent))?;
    Ok((parent, name))
}

/// Writes `bytes` as the blob named by `digest` under `blobs` (the `blobs/sha256` folder).
fn write_blob(blobs: &Path, blob: &Blob) -> Result<(), ImageError> {
    let path = blob_path(blobs, &blob.digest);
    let mut f = File::create(&path).map_err(werr(&path))?;
    f.write_all(&blob.bytes).map_err(werr(&path))?;
    f.sync_all().map_err(werr(&path))
}

fn blob_path(blobs: &Path, digest: &str) -> PathBuf {
    blobs.join(digest.strip_prefix("sha256:").expect("digests are sha256"))
}

/// Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) at `dir`, holding one
/// image index with one manifest per platform, tagged `tag`.
///
/// index.json holds one descriptor, of media type image index, pointing at the multi-arch index
/// blob and annotated `org.opencontainers.image.ref.name: TAG`: the form skopeo and podman
/// resolve to the whole multi-arch image. Platforms are written sorted by arch, so the order of
/// `images` (and of their entries) does not change any digest.
///
/// Atomic: everything is written into a temporary sibling directory and renamed over `dir` only
/// when complete, so an interrupted run never leaves a layout that looks complete; an old `dir`
/// is replaced.
pub fn write_layout(
    dir: &Path,
    tag: &str,
    images: &[PlatformImage],
) -> Result<Written, ImageError> {
    if !oci::valid_tag(tag) {
        return Err(ImageError::InvalidTag(tag.to_string()));
    }
    if images.is_empty() {
        return Err(ImageError::NoPlatforms);
    }
    let mut sorted: Vec<&PlatformImage> = images.iter().collect();
    sorted.sort_by_key(|i| i.arch);
    for w in sorted.windows(2) {
        if w[0].arch == w[1].arch {
            return Err(ImageError::DuplicateArch(w[0].arch));
        }
    }
    // Check every platform's entries before writing anything.
    let plans = sorted
        .iter()
        .map(|i| layer::plan(&i.entries))
        .collect::<Result<Vec<_>, _>>()?;

    let (parent, name) = parent_and_name(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(werr(&parent))?;
    let blobs = tmp.path().join("blobs").join("sha256");
    fs::create_dir_all(&blobs).map_err(werr(&blobs))?;

    // The platforms are written at once, each on its own thread (and each layer deflated on
    // every core): the result is the same as one after another, in arch order.
    let written: Vec<Result<(Descriptor, PlatformSummary), ImageError>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = sorted
                .iter()
                .zip(&plans)
                .map(|(image, plan)| {
                    let blobs = &blobs;
                    scope.spawn(move || write_platform(blobs, image, plan))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
    let mut summaries = Vec::new();
    let mut manifests = Vec::new();
    for w in written {
        let (desc, summary) = w?;
        manifests.push(desc);
        summaries.push(summary);
    }
    let index = Blob::of(&oci::index(manifests));
    write_blob(&blobs, &index)?;
    let top = oci::index(vec![oci::tagged(
        index.descriptor(MediaType::ImageIndex),
        tag,
    )]);
    for (file, bytes) in [
        ("index.json", oci::to_canonical(&top)),
        ("oci-layout", oci::OCI_LAYOUT.to_vec()),
    ] {
        let path = tmp.path().join(file);
        let mut f = File::create(&path).map_err(werr(&path))?;
        f.write_all(&bytes).map_err(werr(&path))?;
        f.sync_all().map_err(werr(&path))?;
    }
    for d in [
        tmp.path().to_path_buf(),
        tmp.path().join("blobs"),
        blobs.clone(),
    ] {
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).map_err(werr(&d))?;
    }

    replace_dir(tmp, dir)?;
    Ok(Written {
        index_digest: index.digest,
        platforms: summaries,
    })
}

/// Writes one platform's layer, config and manifest into `blobs`; returns the manifest's
/// descriptor (with its platform) for the index, and what was written.
fn write_platform(
    blobs: &Path,
    image: &PlatformImage,
    plan: &[layer::Planned<'_>],
) -> Result<(Descriptor, PlatformSummary), ImageError> {
    let tmp_layer = tempfile::Builder::new()
        .prefix(".layer-")
        .tempfile_in(blobs)
        .map_err(werr(blobs))?;
    let out = BufWriter::new(tmp_layer.as_file());
    let (out, info) = layer::write_layer(plan, image.config.created_epoch, out, tmp_layer.path())?;
    drop(out);
    tmp_layer
        .as_file()
        .sync_all()
        .map_err(werr(tmp_layer.path()))?;
    let layer_path = blob_path(blobs, &info.digest);
    crate::publish::persist(tmp_layer.into_temp_path(), &layer_path).map_err(werr(&layer_path))?;
    fs::set_permissions(&layer_path, fs::Permissions::from_mode(0o644))
        .map_err(werr(&layer_path))?;

    let config = Blob::of(&oci::config(
        image.arch,
        &image.config,
        &info.diff_id,
        &image.history,
    ));
    write_blob(blobs, &config)?;
    let layer_desc = Descriptor::new(
        MediaType::ImageLayerGzip,
        info.compressed_size,
        oci::digest(&info.digest),
    );
    let manifest = Blob::of(&oci::manifest(
        config.descriptor(MediaType::ImageConfig),
        layer_desc,
    ));
    write_blob(blobs, &manifest)?;
    let mut desc = manifest.descriptor(MediaType::ImageManifest);
    desc.set_platform(Some(oci::platform(image.arch)));
    let summary = PlatformSummary {
        arch: image.arch,
        manifest_digest: manifest.digest,
        layer_digest: info.digest,
        uncompressed_size: info.uncompressed_size,
        compressed_size: info.compressed_size,
    };
    Ok((desc, summary))
}

/// Renames the complete `tmp` to `dir` ([`crate::publish::replace_dir`]).
pub(super) fn replace_dir(tmp: tempfile::TempDir, dir: &Path) -> Result<(), ImageError> {
    crate::publish::replace_dir(tmp.path(), dir).map_err(werr(dir))?;
    // The new folder is in place: `tmp` no longer exists, so dropping it is a no-op.
    let _ = tmp.keep();
    Ok(())
}

/// Files and folders of a layout, relative, sorted by components.
fn walk(root: &Path) -> Result<Vec<(Vec<String>, bool)>, ImageError> {
    let entries = crate::walk::walk(root).map_err(|e| ImageError::Read {
        path: e.path,
        source: e.source,
    })?;
    let mut out = Vec::new();
    for e in entries {
        let Some(rel) = e.rel.to_str() else {
            return Err(ImageError::UnexpectedFile {
                path: e.path,
                kind: "a file name that is not UTF-8",
            });
        };
        let comps: Vec<String> = rel.split('/').map(str::to_string).collect();
        if e.file_type.is_dir() {
            out.push((comps, true));
        } else if e.file_type.is_file() {
            out.push((comps, false));
        } else {
            return Err(ImageError::UnexpectedFile {
                path: e.path,
                kind: "a symlink or special file",
            });
        }
    }
    out.sort();
    Ok(out)
}

/// The name of the docker `manifest.json` in an archive.
const DOCKER_MANIFEST: &str = "manifest.json";

/// Writes the layout directory as one tar archive (deterministic: sorted, mtime 0, numeric
/// owner 0, modes 0755/0644) that `skopeo copy oci-archive:FILE ...` and `podman load -i FILE`
/// accept, with a docker `manifest.json` beside it (see `docker.rs`: the amd64 platform), so
/// `docker load -i FILE` and `skopeo copy docker-archive:FILE ...` accept it too. Also atomic
/// (temp file + rename).
pub fn write_archive(layout: &Path, archive: &Path) -> Result<(), ImageError> {
    if !layout.join("oci-layout").is_file() || !layout.join("index.json").is_file() {
        return Err(ImageError::NotALayout(layout.to_path_buf()));
    }
    // The docker `manifest.json` goes beside the layout (replacing one the folder may hold).
    let docker_manifest = super::docker::manifest_json(layout)?;
    let mut entries = walk(layout)?;
    entries.retain(|(rel, _)| rel.as_slice() != [DOCKER_MANIFEST]);
    entries.push((vec![DOCKER_MANIFEST.to_string()], false));
    entries.sort();
    let (parent, name) = parent_and_name(archive)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempfile_in(&parent)
        .map_err(werr(&parent))?;
    let w = werr(tmp.path());
    let mut tar = tar::Builder::new(BufWriter::new(tmp.as_file()));
    for (rel, is_dir) in &entries {
        let rel_s = rel.join("/");
        let mut h = Header::new_gnu();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        if *is_dir {
            h.set_mode(0o755);
            h.set_entry_type(EntryType::Directory);
            h.set_size(0);
            tar.append_data(&mut h, &rel_s, io::empty())
                .map_err(werr(tmp.path()))?;
        } else if rel.as_slice() == [DOCKER_MANIFEST] {
            h.set_mode(0o644);
            h.set_entry_type(EntryType::Regular);
            h.set_size(docker_manifest.len() as u64);
            tar.append_data(&mut h, &rel_s, docker_manifest.as_slice())
                .map_err(werr(tmp.path()))?;
        } else {
            h.set_mode(0o644);
            let src = rel.iter().fold(layout.to_path_buf(), |p, c| p.join(c));
            append_file(&mut tar, &mut h, &rel_s, &src, tmp.path())?;
        }
    }
    let mut out = tar.into_inner().map_err(werr(tmp.path()))?;
    out.flush().map_err(werr(tmp.path()))?;
    drop(out);
    tmp.as_file().sync_all().map_err(w)?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644)).map_err(werr(tmp.path()))?;
    crate::publish::persist(tmp.into_temp_path(), archive).map_err(werr(archive))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::image::{Entry, ImageConfig};
    use serde_json::json;

    fn images(entries: Vec<Entry>) -> Vec<PlatformImage> {
        Arch::ALL
            .iter()
            .map(|&arch| PlatformImage {
                arch,
                entries: entries.clone(),
                config: ImageConfig::default(),
                history: "test".into(),
            })
            .collect()
    }

    #[test]
    fn layout_is_reproducible_and_replaces_old_dir() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("img");
        let mut e = vec![
            Entry::bytes("/etc/x", 0o644, b"x".to_vec()),
            Entry::dir("/tmp", 0o1777),
        ];
        let a = write_layout(&dir, "latest", &images(e.clone())).unwrap();
        fs::write(dir.join("stale"), "x").unwrap();
        e.reverse();
        let mut imgs = images(e);
        imgs.reverse();
        let b = write_layout(&dir, "latest", &imgs).unwrap();
        assert_eq!(a, b);
        assert!(!dir.join("stale").exists());
        // No temporary siblings are left behind.
        let names: Vec<_> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("img")]);
        let top: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
        assert_eq!(top["manifests"][0]["digest"], json!(a.index_digest));
        assert_eq!(
            top["manifests"][0]["annotations"][oci::ANNOTATION_REF_NAME],
            json!("latest")
        );
        // Every blob's name is its digest.
        for f in fs::read_dir(dir.join("blobs/sha256")).unwrap() {
            let f = f.unwrap();
            let digest = oci::sha256(&fs::read(f.path()).unwrap());
            assert_eq!(
                digest,
                format!("sha256:{}", f.file_name().to_string_lossy())
            );
        }
        // Same layer contents on every arch: one shared blob.
        assert_eq!(a.platforms[0].layer_digest, a.platforms[2].layer_digest);
        assert_ne!(
            a.platforms[0].manifest_digest,
            a.platforms[2].manifest_digest
        );

        let ar1 = t.path().join("a.tar");
        let ar2 = t.path().join("b.tar");
        write_archive(&dir, &ar1).unwrap();
        write_archive(&dir, &ar2).unwrap();
        assert_eq!(fs::read(&ar1).unwrap(), fs::read(&ar2).unwrap());
    }

    #[test]
    fn archive_headers_are_fixed() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("img");
        write_layout(&dir, "latest", &images(vec![Entry::dir("/tmp", 0o1777)])).unwrap();
        let ar = t.path().join("img.tar");
        write_archive(&dir, &ar).unwrap();
        assert_eq!(
            fs::metadata(&ar).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let data = fs::read(&ar).unwrap();
        let mut a = tar::Archive::new(data.as_slice());
        let mut paths = Vec::new();
        for e in a.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(
                (h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()),
                (0, 0, 0)
            );
            assert_eq!(h.username_bytes(), Some(&b""[..]));
            let dir = h.entry_type() == EntryType::Directory;
            assert_eq!(h.mode().unwrap(), if dir { 0o755 } else { 0o644 });
            paths.push(e.path().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(&paths[..3], ["blobs", "blobs/sha256", paths[2].as_str()]);
        assert!(paths[2].starts_with("blobs/sha256/"));
        assert_eq!(
            &paths[paths.len() - 3..],
            ["index.json", "manifest.json", "oci-layout"]
        );
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
    }

    #[test]
    fn a_failed_write_keeps_the_old_layout() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("img");
        let good = write_layout(&dir, "latest", &images(vec![Entry::dir("/tmp", 0o1777)])).unwrap();
        let index = fs::read(dir.join("index.json")).unwrap();
        let bad = images(vec![Entry::file("/x", 0o644, t.path().join("missing"))]);
        assert!(write_layout(&dir, "latest", &bad).is_err());
        assert_eq!(fs::read(dir.join("index.json")).unwrap(), index);
        assert!(blob_path(&dir.join("blobs/sha256"), &good.index_digest).is_file());
        let names: Vec<_> = fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("img")]);
        // A plain file in the way is replaced too.
        fs::remove_dir_all(&dir).unwrap();
        fs::write(&dir, "x").unwrap();
        write_layout(&dir, "latest", &images(vec![])).unwrap();
        assert!(dir.join("oci-layout").is_file());
    }

    #[test]
    fn failures_leave_nothing() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("img");
        let bad = images(vec![Entry::file("/x", 0o644, t.path().join("missing"))]);
        assert!(matches!(
            write_layout(&dir, "latest", &bad),
            Err(ImageError::Read { .. })
        ));
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 0);
        assert!(matches!(
            write_layout(&dir, "bad tag", &bad),
            Err(ImageError::InvalidTag(_))
        ));
        assert!(matches!(
            write_layout(&dir, "latest", &[]),
            Err(ImageError::NoPlatforms)
        ));
        let mut two = images(vec![]);
        two[1].arch = Arch::Amd64;
        assert!(matches!(
            write_layout(&dir, "latest", &two),
            Err(ImageError::DuplicateArch(Arch::Amd64))
        ));
        assert!(matches!(
            write_archive(t.path(), &t.path().join("a.tar")),
            Err(ImageError::NotALayout(_))
        ));
    }
}
