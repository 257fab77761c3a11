//! The remote build cache: cache entries kept in an OCI registry as signed artifacts, one tag
//! per cache key (`--remote-cache REGISTRY/REPO`), so runners of a CI pipeline build each job
//! once between them.
//!
//! Trust is like Nix's binary caches: a key only says what inputs were claimed, and whoever can
//! write to the registry could put anything under it. So an entry is used only when it is
//! signed ([`keys`]) by a key this reader trusts, over the key asked for and the digests of
//! its layers ([`artifact`]), and every byte fetched matches those digests; its tree is then
//! unpacked by the safe extractor and checked file by file against its signed `meta.json`
//! before it becomes a local entry by one rename. Anything else is a miss with its reason (a
//! warning), and the job is built. Without a signing key the cache is read-only (pull requests
//! from forks).

pub mod artifact;
pub mod keys;

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::cache::{Cache, Meta};
use crate::registry::{self, Client, Failure, Reference, RegistryError};
use artifact::Checked;
pub use keys::{KeyError, PublicKey, SecretKey};
use oci_spec::image::{Descriptor, MediaType};

/// What [`Remote::push`] did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Signed and pushed (or nothing to do without a signing key).
    Yes,
    /// Not pushed: its build steps ran without the sandbox (`--no-sandbox`).
    Unsandboxed,
}

/// What `recipe` was told about the remote cache.
pub struct Remote {
    registry: String,
    repository: String,
    opts: registry::Options,
    trusted: Vec<PublicKey>,
    signer: Option<SecretKey>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("at", &self.at())
            .field(
                "trusted",
                &self.trusted.iter().map(|k| &k.name).collect::<Vec<_>>(),
            )
            .field("signer", &self.signer.as_ref().map(|k| &k.name))
            .finish()
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RemoteError {
    #[error("--remote-cache `{}`: {reason}", crate::text::escape(given))]
    Reference { given: String, reason: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Key(#[from] KeyError),
    #[error("cannot read the signing key `{}`", crate::text::path(path))]
    KeyFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("--remote-cache needs a key to trust")]
    #[diagnostic(help(
        "give `--trust NAME:KEY` (or `RECIPE_CACHE_TRUST`) with the public key of whoever signs the entries, or a signing key"
    ))]
    NoTrust,
    #[error(transparent)]
    Settings(#[from] registry::SettingError),
    #[error("remote cache: cannot push the entry of {id} ({key12})")]
    Push {
        id: String,
        key12: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error("remote cache: cannot pack the entry of {id} for pushing: {reason}")]
    Pack { id: String, reason: String },
}

/// `--remote-cache`'s repository (`REGISTRY/REPO`, no tag or digest: the tags are the keys).
pub fn repository(at: &str) -> Result<Reference, RemoteError> {
    let bad = |reason: String| RemoteError::Reference {
        given: at.to_string(),
        reason,
    };
    let r: Reference = at
        .parse()
        .map_err(|e: registry::ReferenceError| bad(e.to_string()))?;
    if r.tag.is_some() || r.digest.is_some() {
        return Err(bad(
            "name a repository, without a tag or digest: the tags are the cache keys".into(),
        ));
    }
    Ok(r)
}

/// A trusted entry found under a key, not fetched yet.
#[derive(Debug, Clone)]
pub struct Found(Checked);

impl Found {
    pub fn signer(&self) -> &str {
        &self.0.signer
    }
    /// Bytes to fetch.
    pub fn size(&self) -> u64 {
        self.0.tree.size() + self.0.meta.size() + self.0.log.size()
    }
}

impl Remote {
    /// A remote cache at `at` (`registry/repository`) trusting `trusted` and, when given, the
    /// public half of `signer`, which signs what this machine pushes.
    pub fn new(
        at: &str,
        insecure: bool,
        basic_auth: Option<(String, String)>,
        mut trusted: Vec<PublicKey>,
        signer: Option<SecretKey>,
    ) -> Result<Remote, RemoteError> {
        let r = repository(at)?;
        if let Some(s) = &signer
            && !trusted.contains(&s.public())
        {
            trusted.push(s.public());
        }
        if trusted.is_empty() {
            return Err(RemoteError::NoTrust);
        }
        Ok(Remote {
            registry: r.registry,
            repository: r.repository,
            opts: registry::Options {
                insecure,
                basic_auth,
                timeouts: registry::Timeouts::from_env()?,
            },
            trusted,
            signer,
        })
    }

    /// `registry/repository`, for messages.
    pub fn at(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether this machine signs and pushes what it builds (it holds a signing key).
    pub fn pushes(&self) -> bool {
        self.signer.is_some()
    }

    /// A client per call: `Client` is not `Sync`, and jobs look up and push in parallel.
    fn client(&self) -> Client {
        Client::new(&self.registry, &self.repository, &self.opts)
    }

    /// The entry tagged `key`: `Ok(None)` when there is none, `Ok(Some)` when one is there and
    /// signed by a trusted key for this key (its content not fetched yet), `Err` the reason an
    /// entry there must not be used (or the registry could not be asked).
    pub fn lookup(&self, key: &str) -> Result<Option<Found>, String> {
        let (_, bytes) = match self
            .client()
            .get_manifest(key, MediaType::ImageManifest.as_ref())
        {
            Ok(m) => m,
            Err(Failure::Status { status: 404, .. }) => return Ok(None),
            Err(f) => return Err(format!("the registry could not be asked: {f}")),
        };
        artifact::check(key, &bytes, &self.trusted).map(|c| Some(Found(c)))
    }

    /// Fetches `found`, the entry of `key` for `recipe` on `arch`, into `cache` (the caller holds
    /// the key's lock): every layer against its signed digest, the `meta.json` for this key and
    /// job, the tree unpacked safely and checked file by file against it. `Err` says why it was
    /// not used; nothing is left behind.
    pub fn fetch(
        &self,
        found: &Found,
        key: &str,
        recipe: &str,
        arch: &str,
        cache: &Cache,
    ) -> Result<(), String> {
        let c = &found.0;
        // A download cap holds for cache entries as for sources (`RECIPE_MAX_DOWNLOAD`).
        let limits = crate::source::Limits::from_env().map_err(|e| e.to_string())?;
        if c.tree.size() > limits.max_download {
            return Err(format!(
                "its tree is {} bytes, above the download cap of {} (`RECIPE_MAX_DOWNLOAD`)",
                c.tree.size(),
                limits.max_download
            ));
        }
        let tmp = cache.scratch("remote").map_err(|e| e.to_string())?;
        let client = self.client();
        let staged = crate::cache::Entry::at(tmp.path());
        let get = |d: &Descriptor, name: &str, to: PathBuf| -> Result<PathBuf, String> {
            client
                .get_blob(d.digest().as_ref(), d.size(), &to)
                .map_err(|f| format!("its {name} layer: {f}"))?;
            Ok(to)
        };
        let meta_path = get(&c.meta, "meta.json", staged.meta())?;
        let mut meta: Meta = serde_json::from_slice(
            &std::fs::read(&meta_path).map_err(|e| format!("cannot read its meta.json: {e}"))?,
        )
        .map_err(|e| format!("its meta.json is not valid: {e}"))?;
        if meta.key != key || meta.inputs.key() != key {
            return Err("its meta.json is about another key".into());
        }
        if meta.recipe != recipe || meta.arch != arch {
            return Err(format!(
                "its meta.json is about {}/{}, not {recipe}/{arch}",
                crate::text::escape(&meta.recipe),
                crate::text::escape(&meta.arch)
            ));
        }
        // What another machine saw of its files means nothing here: every byte is hashed.
        for item in &mut meta.files {
            if let crate::cache::manifest::Kind::File { seen, .. } = &mut item.kind {
                *seen = None;
            }
        }
        let tree = get(&c.tree, "tree.tar.gz", tmp.path().join("tree.tar.gz"))?;
        let dest = staged.dest();
        crate::source::extract(&tree, &dest, 0).map_err(|e| format!("its tree: {e}"))?;
        std::fs::remove_file(&tree).map_err(|e| e.to_string())?;
        set_modes(&dest, &meta.files).map_err(|e| format!("its tree: {e}"))?;
        meta.files = crate::cache::manifest::check(&dest, &meta.files)
            .map_err(|why| format!("its tree does not match its meta.json: {why}"))?;
        let log = get(&c.log, "build.log.gz", tmp.path().join("build.log.gz"))?;
        gunzip_capped(&log, &staged.log(), artifact::MAX_LOG)
            .map_err(|e| format!("its build log: {e}"))?;
        std::fs::remove_file(&log).map_err(|e| e.to_string())?;
        // When it came here: planning compares the newest entries of a recipe by this.
        meta.created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let json = serde_json::to_vec_pretty(&meta).expect("meta serialises");
        crate::publish::write_file(&meta_path, &json).map_err(|e| e.to_string())?;
        let tmp = tmp.keep();
        cache.adopt(&tmp, key).map_err(|e| {
            let _ = std::fs::remove_dir_all(&tmp);
            e.to_string()
        })?;
        Ok(())
    }

    /// Signs and pushes the local entry of `key`, unless its steps ran without the sandbox
    /// (`meta.json`'s `sandbox`: such an entry is never pushed).
    ///
    /// Signs and pushes the local entry of `key` (`id` names the job in messages): the empty
    /// config, its three layers, then the manifest under the tag `key`. A layer the registry
    /// already has is not sent again.
    pub fn push(&self, cache: &Cache, key: &str, id: &str) -> Result<Pushed, RemoteError> {
        let Some(signer) = &self.signer else {
            return Ok(Pushed::Yes);
        };
        let pack = |reason: String| RemoteError::Pack {
            id: id.to_string(),
            reason,
        };
        let meta = cache.meta(key).map_err(pack)?;
        if !meta.sandbox {
            return Ok(Pushed::Unsandboxed);
        }
        let entry = cache.entry(key);
        let tmp = cache.scratch("push").map_err(|e| pack(e.to_string()))?;
        let config = tmp.path().join("config");
        std::fs::write(&config, artifact::EMPTY_BYTES).map_err(|e| pack(e.to_string()))?;
        let tree = tmp.path().join("tree.tar.gz");
        let tree_d = tar_gz(&entry.dest(), &tree).map_err(|e| pack(e.to_string()))?;
        let meta_d = descriptor(artifact::META, &entry.meta()).map_err(|e| pack(e.to_string()))?;
        let log = tmp.path().join("build.log.gz");
        let log_d = gzip(&entry.log(), &log).map_err(|e| pack(e.to_string()))?;
        let blobs = [
            (
                artifact::EMPTY_DIGEST.to_string(),
                artifact::EMPTY_BYTES.len() as u64,
                config,
            ),
            (tree_d.digest().to_string(), tree_d.size(), tree),
            (meta_d.digest().to_string(), meta_d.size(), entry.meta()),
            (log_d.digest().to_string(), log_d.size(), log),
        ];
        let client = self.client();
        let failed = |what: String, f: Failure| RemoteError::Push {
            id: id.to_string(),
            key12: key[..12.min(key.len())].to_string(),
            source: Box::new(client.error(what, f)),
        };
        for (digest, size, path) in &blobs {
            let what = format!("push blob {digest}");
            if !client
                .blob_exists(digest)
                .map_err(|f| failed(what.clone(), f))?
            {
                client
                    .upload_blob(digest, path, *size)
                    .map_err(|f| failed(what, f))?;
            }
        }
        let manifest = artifact::manifest(
            key,
            &meta.recipe,
            &meta.arch,
            [tree_d, meta_d, log_d],
            signer,
        );
        client
            .put_manifest(key, MediaType::ImageManifest.as_ref(), &manifest)
            .map_err(|f| failed(format!("push the manifest as tag `{key}`"), f))?;
        Ok(Pushed::Yes)
    }
}

/// Sets every file's and folder's permission bits to what the signed manifest says (the
/// extractor keeps the owner able to write; an installed tree may say otherwise).
fn set_modes(dest: &Path, files: &[crate::cache::manifest::Item]) -> io::Result<()> {
    use crate::cache::manifest::Kind;
    use std::os::unix::fs::PermissionsExt;
    // Deepest first, so a folder made read-only does not stop the rest.
    for item in files.iter().rev() {
        let mode = match &item.kind {
            Kind::File { mode, .. } | Kind::Dir { mode } => *mode & 0o7777,
            _ => continue,
        };
        // Only paths inside the tree: nothing absolute, no `..` (the manifest check refuses
        // the entry afterwards; no chmod may happen elsewhere before that).
        let rel = Path::new(&item.path);
        if !rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return Err(io::Error::other(format!(
                "its meta.json names a path outside the tree: `{}`",
                crate::text::escape(&item.path)
            )));
        }
        let path = dest.join(rel);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if !m.file_type().is_symlink() => {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?
            }
            // What is missing or a symlink is the manifest check's to report.
            _ => {}
        }
    }
    Ok(())
}

fn descriptor(media_type: &str, path: &Path) -> io::Result<Descriptor> {
    let mut w = crate::digest::HashWriter::new(io::sink());
    io::copy(&mut File::open(path)?, &mut w)?;
    let (_, hex, size) = w.finish();
    Ok(artifact::layer(media_type, &hex, size))
}

/// A gzip writer into `to` that hashes what it writes.
fn gz_to(to: &Path) -> io::Result<flate2::write::GzEncoder<crate::digest::HashWriter<File>>> {
    Ok(flate2::write::GzEncoder::new(
        crate::digest::HashWriter::new(File::create(to)?),
        flate2::Compression::fast(),
    ))
}

fn finish_gz(
    media_type: &str,
    gz: flate2::write::GzEncoder<crate::digest::HashWriter<File>>,
) -> io::Result<Descriptor> {
    let (file, hex, size) = gz.finish()?.finish();
    file.sync_all()?;
    Ok(artifact::layer(media_type, &hex, size))
}

/// `dir` as a tar+gzip at `to`, in path order, symlinks as symlinks.
fn tar_gz(dir: &Path, to: &Path) -> io::Result<Descriptor> {
    let mut b = tar::Builder::new(gz_to(to)?);
    b.follow_symlinks(false);
    b.mode(tar::HeaderMode::Deterministic);
    let entries = crate::walk::walk(dir).map_err(|e| io::Error::new(e.source.kind(), e))?;
    for e in entries {
        b.append_path_with_name(&e.path, &e.rel)?;
    }
    finish_gz(artifact::TREE, b.into_inner()?)
}

fn gzip(from: &Path, to: &Path) -> io::Result<Descriptor> {
    let mut gz = gz_to(to)?;
    match File::open(from) {
        Ok(mut f) => {
            io::copy(&mut f, &mut gz)?;
        }
        // An entry fetched without a log, or made before logs were kept: an empty one.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    finish_gz(artifact::LOG, gz)
}

/// Decompresses `from` into `to`, at most `cap` bytes.
fn gunzip_capped(from: &Path, to: &Path, cap: u64) -> io::Result<()> {
    let mut r = flate2::read::MultiGzDecoder::new(File::open(from)?).take(cap + 1);
    let mut out = io::BufWriter::new(File::create(to)?);
    let n = io::copy(&mut r, &mut out)?;
    if n > cap {
        return Err(io::Error::other(format!("larger than {cap} bytes")));
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use crate::cache::manifest::{Item, Kind};

    #[test]
    fn modes_are_set_only_inside_the_tree() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("dest");
        std::fs::create_dir_all(&dest).unwrap();
        let outside = t.path().join("outside");
        std::fs::write(&outside, b"x").unwrap();
        for path in ["../outside", "/etc/passwd", "a/../../outside"] {
            let files = [Item {
                path: path.into(),
                kind: Kind::File {
                    mode: 0o777,
                    size: 1,
                    sha256: String::new(),
                    seen: None,
                },
            }];
            let e = super::set_modes(&dest, &files).unwrap_err();
            assert!(e.to_string().contains("outside the tree"), "{e}");
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&outside).unwrap().permissions().mode();
        assert_ne!(mode & 0o777, 0o777, "the file outside was not touched");
    }
}
