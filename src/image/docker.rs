//! The `docker save` side of an image archive: the `manifest.json` that the classic `docker load`
//! reads, made from an OCI image layout, so one archive loads with docker, podman and skopeo.
//!
//! A classic engine holds one platform per tag, so `manifest.json` lists one image: the amd64
//! platform (docker's default platform, and the one most `docker load` users run), or the first
//! platform by arch when the image has no amd64. Which platform never depends on the machine
//! that writes the archive, so the archive stays byte-identical everywhere. Docker 25+ (the
//! containerd store), podman and skopeo read `index.json` and get every platform.

use std::fs;
use std::path::Path;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ImageError;
use super::oci::{self, ANNOTATION_REF_NAME};
use crate::arch::Arch;

/// The platform `manifest.json` names when the image has it.
pub const DOCKER_PLATFORM: Arch = Arch::Amd64;

/// One image of docker's `manifest.json`: blobs of the layout, by path.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerImage {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}

fn bad(path: &Path, reason: impl Into<String>) -> ImageError {
    ImageError::BadLayout {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Reads a JSON document of the layout (index.json or a blob), at most 16 MiB, as `what`.
fn read_doc<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, ImageError> {
    let meta = fs::metadata(path).map_err(|source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.len() > 16 << 20 {
        return Err(bad(path, "it is larger than 16 MiB"));
    }
    let bytes = fs::read(path).map_err(|source| ImageError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => bad(path, format!("not an OCI {what}: {e}")),
        _ => bad(path, format!("not JSON: {e}")),
    })
}

/// `blobs/sha256/HEX` of a descriptor's digest, refusing anything but a sha256 digest.
fn blob_rel(layout: &Path, desc: &Descriptor) -> Result<String, ImageError> {
    match desc.as_digest_sha256() {
        Some(hex) => Ok(format!("blobs/sha256/{hex}")),
        None => Err(bad(
            layout,
            format!("a descriptor has no sha256 digest: `{}`", desc.digest()),
        )),
    }
}

/// The docker repository tag of an OCI ref name: `name:tag` as it is; a ref name without a tag
/// (`latest`, `7.0.15`) is no repository, so the image is loaded untagged.
fn repo_tag(ref_name: &str) -> Option<String> {
    let last = ref_name.rsplit('/').next().unwrap_or(ref_name);
    let (repo, _) = ref_name.rsplit_once(':')?;
    (last.contains(':') && !repo.is_empty()).then(|| ref_name.to_string())
}

/// The manifest of the index at `rel` for [`DOCKER_PLATFORM`] (or the first platform by arch
/// without it).
fn chosen_manifest(layout: &Path, rel: &str) -> Result<Descriptor, ImageError> {
    let index: ImageIndex = read_doc(&layout.join(rel), "image index")?;
    let platforms: Vec<(Arch, &Descriptor)> = index
        .manifests()
        .iter()
        .filter(|d| *d.media_type() == MediaType::ImageManifest)
        .filter_map(|d| {
            Arch::ALL
                .into_iter()
                .find(|a| d.platform().as_ref() == Some(&oci::platform(*a)))
                .map(|a| (a, d))
        })
        .collect();
    platforms
        .iter()
        .find(|(a, _)| *a == DOCKER_PLATFORM)
        .or_else(|| platforms.iter().min_by_key(|(a, _)| *a))
        .map(|(_, d)| (*d).clone())
        .ok_or_else(|| bad(&layout.join(rel), "the index has no linux image we know"))
}

/// The `manifest.json` of the layout at `layout`: `[{"Config", "RepoTags", "Layers"}]` naming
/// blobs of the layout, for the tagged image of index.json (an image index or one manifest) on
/// [`DOCKER_PLATFORM`] (or the first platform by arch without it). Canonical JSON.
pub(crate) fn manifest_json(layout: &Path) -> Result<Vec<u8>, ImageError> {
    let top_path = layout.join("index.json");
    let top: ImageIndex = read_doc(&top_path, "image index")?;
    let Some(desc) = top.manifests().first() else {
        return Err(bad(&top_path, "it lists no image"));
    };
    let tags: Vec<String> = desc
        .annotations()
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_REF_NAME))
        .and_then(|r| repo_tag(r))
        .into_iter()
        .collect();
    let manifest_desc = if *desc.media_type() == MediaType::ImageIndex {
        chosen_manifest(layout, &blob_rel(layout, desc)?)?
    } else {
        desc.clone()
    };
    let rel = blob_rel(layout, &manifest_desc)?;
    let manifest: ImageManifest = read_doc(&layout.join(&rel), "image manifest")?;
    let layers = manifest
        .layers()
        .iter()
        .map(|l| blob_rel(layout, l))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(oci::to_canonical(&[DockerImage {
        config: blob_rel(layout, manifest.config())?,
        repo_tags: tags,
        layers,
    }]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Entry, ImageConfig, PlatformImage, write_layout};
    use serde_json::{Value, json};

    fn images(arches: &[Arch]) -> Vec<PlatformImage> {
        arches
            .iter()
            .map(|&arch| PlatformImage {
                arch,
                entries: vec![Entry::bytes("/etc/x", 0o644, arch.name())],
                config: ImageConfig::default(),
                history: "test".into(),
            })
            .collect()
    }

    #[test]
    fn lists_the_amd64_image_with_its_tag() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("img");
        let w = write_layout(&dir, "app:1.0", &images(&Arch::ALL)).unwrap();
        let m: Value = serde_json::from_slice(&manifest_json(&dir).unwrap()).unwrap();
        let amd = w.platforms.iter().find(|p| p.arch == Arch::Amd64).unwrap();
        assert_eq!(m.as_array().unwrap().len(), 1);
        assert_eq!(m[0]["RepoTags"], json!(["app:1.0"]));
        assert_eq!(
            m[0]["Layers"],
            json!([format!("blobs/sha256/{}", &amd.layer_digest[7..])])
        );
        // The config named is amd64's.
        let cfg: Value = read_doc(&dir.join(m[0]["Config"].as_str().unwrap()), "config").unwrap();
        assert_eq!(cfg["architecture"], "amd64");
    }

    #[test]
    fn without_amd64_the_first_arch_and_without_tag_none() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("img");
        write_layout(&dir, "latest", &images(&[Arch::Armv7, Arch::Arm64])).unwrap();
        let m: Value = serde_json::from_slice(&manifest_json(&dir).unwrap()).unwrap();
        assert_eq!(m[0]["RepoTags"], json!([]));
        let cfg: Value = read_doc(&dir.join(m[0]["Config"].as_str().unwrap()), "config").unwrap();
        assert_eq!(cfg["architecture"], "arm64");
    }

    #[test]
    fn repo_tags() {
        assert_eq!(repo_tag("app:1.0").as_deref(), Some("app:1.0"));
        assert_eq!(
            repo_tag("localhost:5000/app:1").as_deref(),
            Some("localhost:5000/app:1")
        );
        assert_eq!(repo_tag("localhost:5000/app"), None);
        assert_eq!(repo_tag("latest"), None);
    }

    #[test]
    fn bad_digests_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let sha512 = format!("sha512:{}", "a".repeat(128));
        for digest in ["sha256:../../x", sha512.as_str()] {
            let index = json!({"schemaVersion": 2, "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": 1,
            }]});
            fs::write(t.path().join("index.json"), index.to_string()).unwrap();
            assert!(
                matches!(manifest_json(t.path()), Err(ImageError::BadLayout { .. })),
                "{digest}"
            );
        }
    }
}
