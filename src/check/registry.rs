//! Images where they live: `recipe check REGISTRY/REPO[:TAG|@DIGEST]` reads an image from a
//! registry, `podman:IMAGE` and `docker-daemon:IMAGE` from a local engine's store. Either way
//! the image reaches the same reader as an archive on disk ([`image::check_oci`] and the
//! analysis behind it), so the verdicts are the same.
//!
//! A registry image is pulled lazily through [`RegistryBlobs`]: the tag's index (or single
//! manifest), then only what the reader asks for. Platforms that are not wanted (`--arch`, or
//! another OS than linux) are skipped by their index entry, so neither their manifests, configs
//! nor layers are fetched; a layer two platforms share is fetched once. Every manifest and blob
//! is checked against its digest ([`crate::registry::Client`]), its size against the descriptor
//! and the check caps before a byte is fetched, and blobs stream into a temporary folder that
//! is removed afterwards.
//!
//! Which argument is what ([`Target::parse`]): a path that exists is a path; `docker://REF` is
//! a registry reference, `podman:IMAGE` and `docker-daemon:IMAGE` engine images; anything else
//! that parses as a reference whose first part names a registry host (`host.tld/`,
//! `host:port/`, `localhost/`) is a registry reference; the rest is a missing path.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::image::{self, Blobs};
use super::{CheckError, Options, Report, TargetKind, image_report};
use crate::registry::{self, Client, Failure, MAX_MANIFEST, Reference, sha256};

/// What the registry is asked for: every manifest and index kind `recipe check` reads.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";
/// How long `podman image save` / `docker save` may take.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Bytes of an engine's error output kept for a message.
const MAX_ENGINE_OUTPUT: usize = 64 << 10;

/// One argument of `recipe check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Path(PathBuf),
    Registry(Reference),
    /// `podman:IMAGE` (engine `podman`) or `docker-daemon:IMAGE` (engine `docker`).
    Engine {
        engine: Engine,
        image: String,
    },
}

/// A local container engine whose store an image is saved from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Podman,
    Docker,
}

impl Engine {
    pub fn prefix(self) -> &'static str {
        match self {
            Engine::Podman => "podman:",
            Engine::Docker => "docker-daemon:",
        }
    }

    /// The program run when `--engine` names none.
    pub fn program(self) -> &'static str {
        match self {
            Engine::Podman => "podman",
            Engine::Docker => "docker",
        }
    }
}

impl Target {
    /// Which kind of target `arg` is (see the module's documentation).
    pub fn parse(arg: &OsStr) -> Result<Target, CheckError> {
        let path = Path::new(arg);
        if std::fs::symlink_metadata(path).is_ok() {
            return Ok(Target::Path(path.to_path_buf()));
        }
        let Some(s) = arg.to_str() else {
            return Ok(Target::Path(path.to_path_buf()));
        };
        let reference = |r: &str| {
            r.parse::<Reference>().map_err(|e| CheckError::Reference {
                target: s.to_string(),
                reason: e.to_string(),
            })
        };
        if let Some(r) = s.strip_prefix("docker://") {
            return Ok(Target::Registry(reference(r)?));
        }
        for engine in [Engine::Podman, Engine::Docker] {
            if let Some(image) = s.strip_prefix(engine.prefix()) {
                if image.is_empty() || image.starts_with('-') {
                    return Err(CheckError::Reference {
                        target: s.to_string(),
                        reason: "no image named after the engine".to_string(),
                    });
                }
                return Ok(Target::Engine {
                    engine,
                    image: image.to_string(),
                });
            }
        }
        if s.starts_with('/') || s.starts_with("./") || s.starts_with("../") {
            return Ok(Target::Path(path.to_path_buf()));
        }
        let host = s.split_once('/').map(|(h, _)| h);
        if host.is_some_and(|h| h.contains('.') || h.contains(':') || h == "localhost") {
            return Ok(Target::Registry(reference(s)?));
        }
        // `redis:7`: a reference without a registry, or a file that is not there.
        if s.parse::<Reference>().is_ok() {
            return Err(CheckError::NoTarget {
                target: s.to_string(),
            });
        }
        Ok(Target::Path(path.to_path_buf()))
    }
}

/// How to reach registries and engines.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    pub registry: registry::Options,
    /// The program for `podman:` and `docker-daemon:` images, instead of `podman` or `docker`.
    pub engine: Option<PathBuf>,
}

/// Checks the image `reference` names, pulled from its registry.
pub fn check_reference(
    reference: &Reference,
    opts: &Options,
    pull: &PullOptions,
) -> Result<Report, CheckError> {
    let opts = &opts.with_env()?;
    let shown = reference.to_string();
    let client = Client::new(&reference.registry, &reference.repository, &pull.registry);
    let dir = tempfile::tempdir().map_err(|error| CheckError::Read {
        path: std::env::temp_dir(),
        error,
    })?;
    let mut blobs = RegistryBlobs {
        client,
        reference: shown.clone(),
        dir: dir.path().to_path_buf(),
        index: Vec::new(),
        known: HashMap::new(),
        manifests: HashMap::new(),
        fetched: HashMap::new(),
        downloaded: 0,
        opts: opts.clone(),
    };
    blobs.top(reference)?;
    let platforms = image::check_oci(&mut blobs, opts).map_err(|e| match e {
        CheckError::Corrupt { what } => CheckError::Pulled {
            reference: shown.clone(),
            what,
        },
        e => e,
    })?;
    Ok(image_report(shown, TargetKind::Registry, platforms, opts))
}

/// Checks `image` of a local engine: saved as an archive (`podman image save --format
/// oci-archive`, `docker save`) into a temporary folder, then read as any archive.
pub fn check_engine(
    engine: Engine,
    image: &str,
    opts: &Options,
    pull: &PullOptions,
) -> Result<Report, CheckError> {
    let target = format!("{}{image}", engine.prefix());
    let program: OsString = pull
        .engine
        .as_ref()
        .map_or_else(|| engine.program().into(), |p| p.clone().into_os_string());
    let dir = tempfile::tempdir().map_err(|error| CheckError::Read {
        path: std::env::temp_dir(),
        error,
    })?;
    let archive = dir.path().join("image.tar");
    let mut args: Vec<OsString> = match engine {
        Engine::Podman => ["image", "save", "--format", "oci-archive", "-o"]
            .map(OsString::from)
            .to_vec(),
        Engine::Docker => ["save", "-o"].map(OsString::from).to_vec(),
    };
    args.push(archive.clone().into_os_string());
    args.push(image.into());
    let command = std::iter::once(program.as_os_str())
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| crate::plan::shell_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = crate::process::command(&program);
    cmd.args(&args).envs(std::env::vars_os());
    let engine_err = |detail: String| CheckError::Engine {
        target: target.clone(),
        command: command.clone(),
        detail,
    };
    let out = crate::process::capture(
        &mut cmd,
        crate::process::Capture {
            timeout: Some(ENGINE_TIMEOUT),
            max: MAX_ENGINE_OUTPUT,
            merge: true,
        },
    )
    .map_err(|e| engine_err(e.to_string()))?;
    if !out.success() {
        let status = match out.status.and_then(|s| s.code()) {
            Some(c) => format!("exit status {c}"),
            None => "timed out or killed".into(),
        };
        let said = String::from_utf8_lossy(&out.stdout);
        return Err(engine_err(if said.trim().is_empty() {
            status
        } else {
            format!("{status}: {}", crate::text::escape_lines(said.trim_end()))
        }));
    }
    let mut report = super::check_path(&archive, opts).map_err(|e| match e {
        CheckError::Target { what, .. } => CheckError::Pulled {
            reference: target.clone(),
            what,
        },
        e => e,
    })?;
    report.target = target;
    Ok(report)
}

/// What a digest of the image was named as, by the index or manifest that lists it.
#[derive(Debug, Clone)]
struct Known {
    kind: Kind,
    /// The size its descriptor gives.
    size: Option<u64>,
    /// `linux/arm64`, when known (for messages).
    platform: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Manifest,
    Config,
    Layer,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Manifest => "manifest",
            Kind::Config => "config",
            Kind::Layer => "layer",
        }
    }
}

/// An image in a registry, seen as the files of an OCI layout: `index.json` is the tag's
/// index (or one made for its single manifest), `blobs/sha256/HEX` is fetched when read.
struct RegistryBlobs {
    client: Client,
    /// The reference as the user gave it, for messages.
    reference: String,
    /// Where blobs are streamed to.
    dir: PathBuf,
    index: Vec<u8>,
    known: HashMap<String, Known>,
    /// Manifests fetched, by digest.
    manifests: HashMap<String, Vec<u8>>,
    /// Blobs fetched, by digest.
    fetched: HashMap<String, PathBuf>,
    /// Bytes of blobs fetched so far.
    downloaded: u64,
    opts: Options,
}

impl RegistryBlobs {
    fn fetch_err(&self, object: String, failure: Failure) -> CheckError {
        CheckError::Fetch {
            reference: self.reference.clone(),
            object,
            failure,
        }
    }

    /// Fetches the manifest `reference` names (by tag or digest) and makes `index.json` of it.
    fn top(&mut self, reference: &Reference) -> Result<(), CheckError> {
        let wanted = reference
            .digest
            .clone()
            .or_else(|| reference.tag.clone())
            .unwrap_or_else(|| "latest".to_string());
        let object = if reference.digest.is_some() {
            format!("manifest {wanted}")
        } else {
            format!("manifest of tag `{wanted}`")
        };
        let (media, bytes) = self
            .client
            .get_manifest(&wanted, ACCEPT)
            .map_err(|f| self.fetch_err(object.clone(), f))?;
        let digest = sha256(&bytes);
        let v = self.learn(&object, &bytes, None)?;
        if v.get("manifests").is_some() {
            self.index = bytes;
        } else {
            let media = v["mediaType"].as_str().unwrap_or(&media).to_string();
            self.index = serde_json::to_vec(&serde_json::json!({
                "schemaVersion": 2,
                "manifests": [{"mediaType": media, "digest": digest, "size": bytes.len()}],
            }))
            .expect("json");
            self.manifests.insert(digest, bytes);
        }
        Ok(())
    }

    /// Records what the manifest or index `bytes` lists (`platform`: the one it is for, when
    /// known). Returns it parsed; bytes that are no JSON are left for the reader to refuse.
    fn learn(
        &mut self,
        object: &str,
        bytes: &[u8],
        platform: Option<String>,
    ) -> Result<Value, CheckError> {
        let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
            return Ok(Value::Null);
        };
        if v["schemaVersion"].as_u64() == Some(1) {
            return Err(CheckError::Pulled {
                reference: self.reference.clone(),
                what: format!(
                    "{object} is a Docker schema 1 manifest, which `recipe check` does not read"
                ),
            });
        }
        let mut note = |d: &Value, kind: Kind, platform: Option<String>| {
            if let Some(digest) = d["digest"].as_str() {
                self.known.entry(digest.to_string()).or_insert(Known {
                    kind,
                    size: d["size"].as_u64(),
                    platform,
                });
            }
        };
        if let Some(list) = v["manifests"].as_array() {
            for d in list {
                let p = &d["platform"];
                let platform = p["architecture"].as_str().map(|a| {
                    let mut s = format!("{}/{a}", p["os"].as_str().unwrap_or("linux"));
                    if let Some(var) = p["variant"].as_str() {
                        s.push('/');
                        s.push_str(var);
                    }
                    s
                });
                note(d, Kind::Manifest, platform);
            }
        } else {
            note(&v["config"], Kind::Config, platform.clone());
            for d in v["layers"].as_array().into_iter().flatten() {
                note(d, Kind::Layer, platform.clone());
            }
        }
        Ok(v)
    }

    /// `layer sha256:… of linux/arm64`.
    fn object(digest: &str, known: &Known) -> String {
        match &known.platform {
            Some(p) => format!("{} {digest} of {p}", known.kind.name()),
            None => format!("{} {digest}", known.kind.name()),
        }
    }
}

impl Blobs for RegistryBlobs {
    fn open(&mut self, name: &str) -> Result<Option<Box<dyn Read + '_>>, CheckError> {
        if name == "index.json" {
            return Ok(Some(Box::new(Cursor::new(self.index.clone()))));
        }
        let Some(hex) = name.strip_prefix("blobs/sha256/") else {
            return Ok(None);
        };
        let digest = format!("sha256:{hex}");
        if !registry::digest_ok(&digest) {
            return Ok(None);
        }
        if let Some(bytes) = self.manifests.get(&digest) {
            return Ok(Some(Box::new(Cursor::new(bytes.clone()))));
        }
        if let Some(path) = self.fetched.get(&digest) {
            let f = std::fs::File::open(path).map_err(|error| CheckError::Read {
                path: path.clone(),
                error,
            })?;
            return Ok(Some(Box::new(f)));
        }
        let Some(known) = self.known.get(&digest).cloned() else {
            return Ok(None);
        };
        let object = Self::object(&digest, &known);
        let too_large = |size: u64, limit: u64, cap: &'static str| CheckError::TooLarge {
            reference: self.reference.clone(),
            object: object.clone(),
            size,
            limit,
            cap,
        };
        let (limit, cap) = match known.kind {
            Kind::Manifest => (MAX_MANIFEST.min(self.opts.max_json), "a manifest"),
            Kind::Config => (self.opts.max_json, "image JSON"),
            Kind::Layer => (
                self.opts.max_layer_bytes.min(self.opts.max_image_bytes),
                "one layer",
            ),
        };
        let Some(size) = known.size else {
            return Err(CheckError::Pulled {
                reference: self.reference.clone(),
                what: format!("{object}: its descriptor gives no size"),
            });
        };
        if size > limit {
            return Err(too_large(size, limit, cap));
        }
        if known.kind == Kind::Manifest {
            let (_, bytes) = self
                .client
                .get_manifest(&digest, ACCEPT)
                .map_err(|f| self.fetch_err(object.clone(), f))?;
            if bytes.len() as u64 != size {
                return Err(CheckError::Pulled {
                    reference: self.reference.clone(),
                    what: format!(
                        "{object} is {} bytes, not the {size} its index says",
                        bytes.len()
                    ),
                });
            }
            self.learn(&object, &bytes, known.platform.clone())?;
            self.manifests.insert(digest, bytes.clone());
            return Ok(Some(Box::new(Cursor::new(bytes))));
        }
        let total = self.downloaded.saturating_add(size);
        if total > self.opts.max_image_bytes {
            return Err(too_large(total, self.opts.max_image_bytes, "all layers"));
        }
        let path = self.dir.join(hex);
        self.client
            .get_blob(&digest, size, &path)
            .map_err(|f| self.fetch_err(object.clone(), f))?;
        self.downloaded = total;
        let f = std::fs::File::open(&path).map_err(|error| CheckError::Read {
            path: path.clone(),
            error,
        })?;
        self.fetched.insert(digest, path);
        Ok(Some(Box::new(f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Target, CheckError> {
        Target::parse(OsStr::new(s))
    }

    #[test]
    fn targets_are_told_apart() {
        assert_eq!(parse("/").unwrap(), Target::Path("/".into()));
        let Target::Registry(r) = parse("127.0.0.1:5000/app:1").unwrap() else {
            panic!()
        };
        assert_eq!(
            (r.registry.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", Some("1"))
        );
        assert!(matches!(parse("localhost/app"), Ok(Target::Registry(_))));
        let pinned = format!("ghcr.io/o/app@sha256:{}", "a".repeat(64));
        assert!(matches!(parse(&pinned), Ok(Target::Registry(_))));
        let Target::Registry(r) = parse("docker://redis:7").unwrap() else {
            panic!()
        };
        assert_eq!(r.to_string(), "docker.io/library/redis:7");
        assert_eq!(
            parse("podman:app:1").unwrap(),
            Target::Engine {
                engine: Engine::Podman,
                image: "app:1".into()
            }
        );
        assert!(matches!(
            parse("docker-daemon:x"),
            Ok(Target::Engine {
                engine: Engine::Docker,
                ..
            })
        ));
        for missing in ["/no/such/file", "./x.tar", "Out/App"] {
            assert_eq!(parse(missing).unwrap(), Target::Path(missing.into()));
        }
        for missing in ["no-such-file.tar", "out/app/oci", "redis:7"] {
            assert!(
                matches!(parse(missing), Err(CheckError::NoTarget { .. })),
                "{missing}"
            );
        }
        for bad in [
            "docker://UPPER/x",
            "example.org/App",
            "podman:",
            "podman:-x",
        ] {
            assert!(
                matches!(parse(bad), Err(CheckError::Reference { .. })),
                "{bad}"
            );
        }
    }
}
