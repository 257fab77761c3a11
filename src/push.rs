//! `recipe push`: uploads the multi-arch image of an OCI image layout to a registry with every
//! digest kept. Blobs are pushed as they are, then each platform's manifest by digest, then the
//! image index by tag, all as the layout's exact bytes, so the pushed index has the layout's
//! index digest. The tag appears only once everything it points at is in the registry; any
//! refusal, wrong digest, redirect or silence (see [`crate::registry`] for the timeouts and
//! caps) stops the push with an error naming the registry, the blob or manifest and the
//! registry's answer.
//!
//! With a signing key ([`crate::sign`]), the image's signatures and attestations in cosign's
//! format go after the platform manifests and before the tag, each manifest under its
//! `sha256-HEX.sig` / `.att` tag: the tag appears only once the image is signed too.

use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::image::{ANNOTATION_REF_NAME, Descriptor, ImageIndex, ImageManifest, MediaType};
use serde::de::DeserializeOwned;

use crate::build::Progress;
use crate::registry::{
    self, Client, Failure, Reference, RegistryError, SettingError, Timeouts, sha256,
};
use crate::sign::{SignError, Signing};

/// Manifests and the index are read whole; nothing of ours comes near this.
const MAX_JSON: u64 = 4 << 20;

/// How to reach the registry. (Its `Debug` never shows the password.)
#[derive(Clone, Default)]
pub struct PushOptions {
    /// Plain http (for a registry on 127.0.0.1 without TLS).
    pub insecure: bool,
    /// HTTP basic credentials (`REGISTRY_AUTH=user:password`); anonymous without.
    pub basic_auth: Option<(String, String)>,
}

impl std::fmt::Debug for PushOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushOptions")
            .field("insecure", &self.insecure)
            .field("basic_auth", &crate::registry::redacted(&self.basic_auth))
            .finish()
    }
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// `registry/repository:tag`.
    pub reference: String,
    /// The digest the tag points to: the layout's index (or single manifest) digest.
    pub digest: String,
    /// Blobs uploaded, and blobs the registry already had.
    pub uploaded: usize,
    pub present: usize,
    /// Manifests pushed (platforms, then the index).
    pub manifests: usize,
    /// What was signed, with a signing key.
    pub signed: Option<Signed>,
}

/// The signatures and attestations a push stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Images signed: the top (index or manifest) and each platform manifest.
    pub signatures: usize,
    /// The tag of the top's signature, `sha256-HEX.sig`.
    pub signature_tag: String,
    /// The tag of the top's attestations, `sha256-HEX.att`, and their predicate types.
    pub attestations: Option<(String, Vec<String>)>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PushError {
    #[error("{} is not an image layout: {reason}", path.display())]
    #[diagnostic(help("build the image first: `recipe build NAME` writes OUT/NAME/oci"))]
    Layout { path: PathBuf, reason: String },
    #[error("invalid image reference `{reference}`: {reason}")]
    Reference { reference: String, reason: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setting(#[from] SettingError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sign(#[from] SignError),
}

/// A blob or manifest of the layout, with what it is for messages.
#[derive(Debug, Clone)]
struct Item {
    digest: String,
    media_type: MediaType,
    what: String,
}

/// The image of a layout, in push order: blobs, platform manifests (with their bytes), and the
/// tagged top (index or manifest) with its bytes.
#[derive(Debug)]
struct Plan {
    blobs: Vec<Item>,
    manifests: Vec<(Item, Vec<u8>)>,
    top: (Item, Vec<u8>),
    /// The tag part of the layout's ref name (`7.0.15` of `redis:7.0.15`), if any.
    tag: Option<String>,
}

fn layout_err(path: &Path, reason: impl Into<String>) -> PushError {
    PushError::Layout {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn blob_path(layout: &Path, digest: &str) -> Result<PathBuf, PushError> {
    match digest.strip_prefix("sha256:") {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(layout.join("blobs").join("sha256").join(h))
        }
        _ => Err(layout_err(layout, format!("invalid digest `{digest}`"))),
    }
}

/// Reads a small JSON file, checking it against `digest` when given.
fn read_small(layout: &Path, path: &Path, digest: Option<&str>) -> Result<Vec<u8>, PushError> {
    let len = fs::metadata(path)
        .map_err(|e| layout_err(layout, format!("cannot read {}: {e}", path.display())))?
        .len();
    if len > MAX_JSON {
        return Err(layout_err(
            layout,
            format!("{} is too large", path.display()),
        ));
    }
    let bytes = fs::read(path)
        .map_err(|e| layout_err(layout, format!("cannot read {}: {e}", path.display())))?;
    if let Some(d) = digest
        && sha256(&bytes) != d
    {
        return Err(layout_err(
            layout,
            format!("blob {d} does not match its digest"),
        ));
    }
    Ok(bytes)
}

/// The `bytes` of `path` as an OCI document (`what`: "image index", "image manifest").
fn parse<T: DeserializeOwned>(
    layout: &Path,
    path: &Path,
    bytes: &[u8],
    what: &str,
) -> Result<T, PushError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Data => format!("not an OCI {what}"),
            _ => "not JSON".to_string(),
        };
        layout_err(layout, format!("{} is {kind}: {e}", path.display()))
    })
}

fn descriptor(layout: &Path, d: &Descriptor, what: String) -> Result<Item, PushError> {
    let digest = d.digest().to_string();
    blob_path(layout, &digest)?;
    Ok(Item {
        digest,
        media_type: d.media_type().clone(),
        what,
    })
}

/// `linux/arm/v7` of a descriptor's platform.
fn platform_name(d: &Descriptor) -> String {
    let Some(p) = d.platform() else {
        return "?/?".to_string();
    };
    match p.variant() {
        Some(v) => format!("{}/{}/{v}", p.os(), p.architecture()),
        None => format!("{}/{}", p.os(), p.architecture()),
    }
}

/// The config and layers of `m` not yet in `blobs`, added to it.
fn add_blobs(
    layout: &Path,
    blobs: &mut Vec<Item>,
    m: &ImageManifest,
    platform: &str,
) -> Result<(), PushError> {
    let mut items = vec![descriptor(
        layout,
        m.config(),
        format!("the {platform} config"),
    )?];
    for l in m.layers() {
        items.push(descriptor(layout, l, format!("a {platform} layer"))?);
    }
    for i in items {
        if !blobs.iter().any(|b| b.digest == i.digest) {
            blobs.push(i);
        }
    }
    Ok(())
}

/// Reads what to push from the layout at `layout`: its index.json's first (tagged) image.
fn plan(layout: &Path) -> Result<Plan, PushError> {
    if !layout.join("oci-layout").is_file() {
        return Err(layout_err(layout, "no oci-layout file"));
    }
    let index_json = layout.join("index.json");
    let top: ImageIndex = parse(
        layout,
        &index_json,
        &read_small(layout, &index_json, None)?,
        "image index",
    )?;
    let Some(desc) = top.manifests().first() else {
        return Err(layout_err(layout, "index.json lists no image"));
    };
    let tag = desc
        .annotations()
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_REF_NAME))
        .and_then(|r| {
            let last = r.rsplit('/').next().unwrap_or(r);
            last.rsplit_once(':').map(|(_, t)| t.to_string())
        });
    let top_item = descriptor(layout, desc, "the image index".into())?;
    let top_path = blob_path(layout, &top_item.digest)?;
    let top_bytes = read_small(layout, &top_path, Some(&top_item.digest))?;
    let mut blobs: Vec<Item> = Vec::new();
    let mut manifests = Vec::new();
    let top_item = if top_item.media_type == MediaType::ImageIndex {
        let index: ImageIndex = parse(layout, &top_path, &top_bytes, "image index")?;
        for d in index.manifests() {
            let platform = platform_name(d);
            let item = descriptor(layout, d, format!("the {platform} manifest"))?;
            if item.media_type != MediaType::ImageManifest {
                return Err(layout_err(
                    layout,
                    format!(
                        "the index names a `{}`, not an image manifest",
                        item.media_type
                    ),
                ));
            }
            let path = blob_path(layout, &item.digest)?;
            let bytes = read_small(layout, &path, Some(&item.digest))?;
            let m: ImageManifest = parse(layout, &path, &bytes, "image manifest")?;
            add_blobs(layout, &mut blobs, &m, &platform)?;
            manifests.push((item, bytes));
        }
        top_item
    } else if top_item.media_type == MediaType::ImageManifest {
        let m: ImageManifest = parse(layout, &top_path, &top_bytes, "image manifest")?;
        add_blobs(layout, &mut blobs, &m, "image")?;
        Item {
            what: "the image manifest".into(),
            ..top_item
        }
    } else {
        return Err(layout_err(
            layout,
            format!("index.json names a `{}`", top_item.media_type),
        ));
    };
    for b in &blobs {
        let p = blob_path(layout, &b.digest)?;
        if !p.is_file() {
            return Err(layout_err(
                layout,
                format!("{} ({}) is missing", b.digest, b.what),
            ));
        }
    }
    Ok(Plan {
        blobs,
        manifests,
        top: (top_item, top_bytes),
        tag,
    })
}

/// Parses `target` (`registry/repo[:tag]`); without a tag, the layout's (`tag`), else `latest`.
fn target_reference(target: &str, tag: Option<&str>) -> Result<Reference, PushError> {
    let bad = |reason: String| PushError::Reference {
        reference: crate::text::escape(target).into_owned(),
        reason,
    };
    let mut r: Reference = target.parse().map_err(|e| bad(format!("{e}")))?;
    if r.digest.is_some() {
        return Err(bad(
            "give a tag, not a digest: the digest is the image's own".into(),
        ));
    }
    if r.tag.is_none() {
        r.tag = Some(tag.unwrap_or("latest").to_string());
    }
    Ok(r)
}

/// Pushes the signatures and attestations of `signing` for the image of `plan` (in repository
/// `id`, `registry/repository`): blobs the registry lacks, then each manifest under its tag.
/// `push_err` names what was refused.
fn push_signed(
    client: &Client,
    id: &str,
    plan: &Plan,
    signing: &Signing,
    push_err: &dyn Fn(&str, Failure) -> PushError,
) -> Result<Signed, PushError> {
    let top = &plan.top.0.digest;
    let platforms: Vec<String> = plan
        .manifests
        .iter()
        .map(|(m, _)| m.digest.clone())
        .collect();
    let artifacts = crate::sign::artifacts(id, top, &platforms, signing);
    for a in &artifacts {
        let what = if a.tag.ends_with(".att") {
            "attestation"
        } else {
            "signature"
        };
        for (digest, bytes) in &a.blobs {
            let blob = format!("{what} blob {digest}");
            if !client.blob_exists(digest).map_err(|f| push_err(&blob, f))? {
                client
                    .upload_blob_bytes(digest, bytes)
                    .map_err(|f| push_err(&blob, f))?;
            }
        }
        client
            .put_manifest(&a.tag, MediaType::ImageManifest.as_ref(), &a.manifest)
            .map_err(|f| push_err(&format!("the {what} manifest as tag `{}`", a.tag), f))?;
    }
    let attestations = (!signing.attestations.is_empty()).then(|| {
        (
            crate::sign::cosign::tag(top, crate::sign::Kind::Attestations),
            signing
                .attestations
                .iter()
                .map(|a| a.predicate_type.clone())
                .collect(),
        )
    });
    Ok(Signed {
        signatures: platforms.len() + 1,
        signature_tag: crate::sign::cosign::tag(top, crate::sign::Kind::Signatures),
        attestations,
    })
}

/// Pushes the image of the layout at `layout` to `target` (`registry/repository[:tag]`; without
/// a tag, the layout's), signed and attested with `signing` when given. Returns what it did
/// once the tag is in place; an error leaves the tag untouched (blobs and manifests already
/// uploaded stay, unreferenced by it).
pub fn push(
    layout: &Path,
    target: &str,
    opts: &PushOptions,
    signing: Option<&Signing>,
    progress: &dyn Progress,
) -> Result<Pushed, PushError> {
    let plan = plan(layout)?;
    let reference = target_reference(target, plan.tag.as_deref())?;
    let options = registry::Options {
        insecure: opts.insecure,
        basic_auth: opts.basic_auth.clone(),
        timeouts: Timeouts::from_env()?,
    };
    let client = Client::new(&reference.registry, &reference.repository, &options);
    let id = format!("{}/{}", reference.registry, reference.repository);
    let push_err =
        |what: &str, f: Failure| PushError::from(client.error(format!("push {what}"), f));

    let (mut uploaded, mut present) = (0, 0);
    for b in &plan.blobs {
        let what = format!("blob {} ({})", b.digest, b.what);
        let path = blob_path(layout, &b.digest)?;
        let size = fs::metadata(&path)
            .map_err(|e| layout_err(layout, format!("cannot read {}: {e}", path.display())))?
            .len();
        if client
            .blob_exists(&b.digest)
            .map_err(|f| push_err(&what, f))?
        {
            present += 1;
            continue;
        }
        progress.note(&id, &format!("uploading {what}, {size} bytes"));
        client
            .upload_blob(&b.digest, &path, size)
            .map_err(|f| push_err(&what, f))?;
        uploaded += 1;
    }
    for (m, bytes) in &plan.manifests {
        client
            .put_manifest(&m.digest, m.media_type.as_ref(), bytes)
            .map_err(|f| push_err(&format!("{} {}", m.what, m.digest), f))?;
    }
    let signed = signing
        .map(|s| push_signed(&client, &id, &plan, s, &push_err))
        .transpose()?;
    let (top, bytes) = &plan.top;
    let tag = reference.tag.as_deref().unwrap_or("latest");
    client
        .put_manifest(tag, top.media_type.as_ref(), bytes)
        .map_err(|f| push_err(&format!("{} {} as tag `{tag}`", top.what, top.digest), f))?;
    Ok(Pushed {
        reference: format!("{id}:{tag}"),
        digest: top.digest.clone(),
        uploaded,
        present,
        manifests: plan.manifests.len() + 1,
        signed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_password() {
        let o = PushOptions {
            insecure: false,
            basic_auth: Some(("me".into(), "hunter2".into())),
        };
        let shown = format!("{o:?}");
        assert!(
            shown.contains("me") && !shown.contains("hunter2"),
            "{shown}"
        );
        let r = crate::registry::Options {
            basic_auth: o.basic_auth.clone(),
            ..Default::default()
        };
        assert!(!format!("{r:?}").contains("hunter2"));
    }
    use crate::arch::Arch;
    use crate::image::{Entry, ImageConfig, PlatformImage, write_layout};

    #[test]
    fn plans_blobs_then_manifests_then_the_index() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("oci");
        let imgs: Vec<PlatformImage> = Arch::ALL
            .iter()
            .map(|&arch| PlatformImage {
                arch,
                entries: vec![Entry::bytes("/etc/x", 0o644, b"same".to_vec())],
                config: ImageConfig::default(),
                history: "t".into(),
            })
            .collect();
        let w = write_layout(&dir, "app:1.0", &imgs).unwrap();
        let p = plan(&dir).unwrap();
        assert_eq!(p.tag.as_deref(), Some("1.0"));
        assert_eq!(p.top.0.digest, w.index_digest);
        assert_eq!(sha256(&p.top.1), w.index_digest);
        // Three configs and one shared layer.
        assert_eq!(p.blobs.len(), 4);
        let digests: Vec<&str> = p.manifests.iter().map(|m| m.0.digest.as_str()).collect();
        let expected: Vec<&str> = w
            .platforms
            .iter()
            .map(|p| p.manifest_digest.as_str())
            .collect();
        assert_eq!(digests, expected);
        assert!(p.manifests[2].0.what.contains("linux/arm/v7"));

        fs::write(dir.join("blobs/sha256").join(&w.index_digest[7..]), "{}").unwrap();
        let e = plan(&dir).unwrap_err().to_string();
        assert!(e.contains("does not match its digest"), "{e}");
        assert!(plan(t.path()).is_err());
    }

    #[test]
    fn references() {
        let r = target_reference("127.0.0.1:5000/app", Some("1.0")).unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "app", Some("1.0"))
        );
        let r = target_reference("127.0.0.1:5000/team/app:x", Some("1.0")).unwrap();
        assert_eq!(
            (r.repository.as_str(), r.tag.as_deref()),
            ("team/app", Some("x"))
        );
        let r = target_reference("localhost:5000/app", None).unwrap();
        assert_eq!(r.tag.as_deref(), Some("latest"));
        let d = format!("127.0.0.1:5000/app@sha256:{}", "a".repeat(64));
        assert!(target_reference(&d, None).is_err());
        assert!(target_reference("UPPER/Case", None).is_err());
    }
}
