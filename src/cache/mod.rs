//! The build cache: one entry per cache key, `<cache>/builds/<key>/` holding the job's
//! installed tree (`dest/`) and `meta.json` ([`layout`] draws the whole cache folder and alone
//! spells its names). An entry appears by one rename when complete, so a run killed at any
//! moment leaves at most a `.tmp-*` folder that nothing trusts (and `gc` removes). A lock file
//! per key makes a second process wait for the first and reuse its entry. `meta.json` lists
//! every file of `dest/` with its sha256 ([`manifest`]); an entry whose tree no longer matches
//! is not used.

pub mod layout;
pub mod manifest;

pub use layout::{Entry, Layout, Work};

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::arch::Arch;
use crate::plan::Inputs;

/// What an entry says about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub recipe: String,
    pub version: String,
    pub arch: String,
    pub key: String,
    pub inputs: Inputs,
    /// Seconds since the epoch when the entry was made.
    pub created: u64,
    /// Bytes of the installed tree.
    pub size: u64,
    /// How long the job took to build, verify and smoke-test, in seconds (the progress
    /// display's estimate for the next build of this recipe and arch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
    /// The CPU time (user and system) of the job's build commands and every process they
    /// started, in milliseconds: beside `seconds`, how much of the machine the job used (above
    /// `seconds`, it ran on several cores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_millis: Option<u64>,
    /// Each command the job ran (patches, build steps, strip), in order, with its wall and CPU
    /// time: where inside the job the time went (`recipe cache ls --steps`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepTime>,
    /// Every file of the installed tree (filled in by [`Cache::commit`]).
    pub files: Vec<manifest::Item>,
    /// The app files packed by `[app] compress`, as they were before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packed: Vec<crate::build::compress::Packed>,
    /// What verification learned of each ELF app file as stored (packed, if it was): the
    /// record packing, the image check and every reuse read instead of the bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checked: Vec<crate::verify::FileRecord>,
    /// What the build made of a Debian source package (`[source.debian]`): the patches applied
    /// and left out, and the CVE ids each names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debian: Option<crate::debian::Applied>,
    /// True when every build step ran in the sandbox (`crate::sandbox`); false for a
    /// `--no-sandbox` build and for entries made before the sandbox existed. Only sandboxed
    /// entries are pushed to a remote cache.
    #[serde(default)]
    pub sandbox: bool,
    /// The source's own date in seconds since the epoch, taken when it was unpacked
    /// ([`crate::source::date`]): the default `created` of the images holding this entry, read
    /// here so that a reused entry gives it without unpacking again. None when the source had
    /// none (or for entries made before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_date: Option<u64>,
    /// A cargo build's crates linked into its binaries (`cargo metadata` and `Cargo.lock`),
    /// for the SBOM.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crates: Vec<crate::sbom::cargo::Crate>,
}

/// One command of a job and the time it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTime {
    /// The step's name as the log and the plan give it (`configure`, `debian patch X`).
    pub name: String,
    /// Wall time, in milliseconds.
    pub millis: u64,
    /// CPU time (user and system) of the command and every process it started, in
    /// milliseconds.
    pub cpu_millis: u64,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CacheError {
    #[error("build cache: cannot {what} `{}`", crate::text::path(path))]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> CacheError + 'a {
    move |source| CacheError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

pub struct Cache {
    layout: Layout,
    /// `builds/`.
    root: PathBuf,
}

/// A held lock on one key; released when dropped.
pub struct KeyLock {
    _file: File,
}

impl Cache {
    pub fn new(cache: &Path) -> Cache {
        let layout = Layout::new(cache);
        Cache {
            root: layout.builds(),
            layout,
        }
    }

    /// The folders of the entry of `key`.
    pub fn entry(&self, key: &str) -> Entry {
        self.layout.entry(key)
    }

    /// True when a complete entry exists for `key`.
    pub fn has(&self, key: &str) -> bool {
        self.entry(key).meta().is_file()
    }

    /// Waits for and takes the lock of `key` (another `recipe` may be building it).
    pub fn lock(&self, key: &str) -> Result<KeyLock, CacheError> {
        let path = self.layout.key_lock(key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("open", &path))?;
        file.lock().map_err(io("lock", &path))?;
        Ok(KeyLock { _file: file })
    }

    /// Moves the finished installed tree `dest` into the entry of `meta.key`: into a temporary
    /// folder first, then one rename makes the entry appear.
    pub fn commit(&self, dest: &Path, log: &Path, meta: &Meta) -> Result<PathBuf, CacheError> {
        std::fs::create_dir_all(&self.root).map_err(io("create", &self.root))?;
        let tmp = self
            .root
            .join(format!(".tmp-{}-{}", meta.key, std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io("clear", &tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
        let staged = Entry::at(&tmp);
        crate::publish::move_path(dest, &staged.dest())
            .map_err(io("move the installed tree to", &tmp))?;
        let _ = crate::publish::move_path(log, &staged.log());
        let mut meta = meta.clone();
        meta.files = manifest::of_tree(&staged.dest()).map_err(io("read", &tmp))?;
        let meta_path = staged.meta();
        let json = serde_json::to_vec_pretty(&meta).expect("meta serialises");
        let mut f = File::create(&meta_path).map_err(io("write", &meta_path))?;
        std::io::Write::write_all(&mut f, &json).map_err(io("write", &meta_path))?;
        f.sync_all().map_err(io("sync", &meta_path))?;
        let entry = self.entry(&meta.key).dir().to_path_buf();
        // A rebuild replaces an entry: the old one is moved aside, then removed.
        crate::publish::replace_dir(&tmp, &entry).map_err(io("publish", &entry))?;
        Ok(entry)
    }

    /// A scratch folder among the entries (`.tmp-WHAT-*`: removed when dropped, and by `gc`
    /// after a killed run), where an entry is put together before [`Cache::adopt`].
    pub fn scratch(&self, what: &str) -> Result<tempfile::TempDir, CacheError> {
        std::fs::create_dir_all(&self.root).map_err(io("create", &self.root))?;
        tempfile::Builder::new()
            .prefix(&format!(".tmp-{what}-"))
            .tempdir_in(&self.root)
            .map_err(io("create a folder in", &self.root))
    }

    /// Makes the complete entry folder `tmp` (from [`Cache::scratch`]: `dest/`, `meta.json`,
    /// `build.log`) the entry of `key`, by one rename.
    pub fn adopt(&self, tmp: &Path, key: &str) -> Result<PathBuf, CacheError> {
        let entry = self.entry(key).dir().to_path_buf();
        crate::publish::replace_dir(tmp, &entry).map_err(io("publish", &entry))?;
        Ok(entry)
    }

    /// What the entry of `key` says about itself; `Err` says why it cannot be read.
    pub fn meta(&self, key: &str) -> Result<Meta, String> {
        let bytes = std::fs::read(self.entry(key).meta())
            .map_err(|e| format!("cannot read its meta.json: {e}"))?;
        let meta: Meta = serde_json::from_slice(&bytes)
            .map_err(|e| format!("its meta.json is not valid: {e}"))?;
        if meta.key != key {
            return Err(format!("its meta.json names another key ({})", meta.key));
        }
        Ok(meta)
    }

    /// Checks the entry of `key` against its manifest: `Err` says how it differs (or why it
    /// cannot be read), and the entry must not be used.
    pub fn verify(&self, key: &str) -> Result<(), String> {
        let entry = self.entry(key);
        let meta = self.meta(key)?;
        let now = manifest::check(&entry.dest(), &meta.files)?;
        // The content agrees; when what was seen of the files moved (a manifest of an older
        // `recipe`, a file copied back), remember it now, so the next check reads no byte again.
        if now != meta.files {
            let mut meta = meta;
            meta.files = now;
            let json = serde_json::to_vec_pretty(&meta).expect("meta serialises");
            let _ = crate::publish::write_file(&entry.meta(), &json);
        }
        Ok(())
    }

    /// Removes the entry of `key` (moved aside first, so it disappears at once).
    pub fn discard(&self, key: &str) -> Result<(), CacheError> {
        let entry = self.entry(key);
        crate::publish::remove_dir(entry.dir()).map_err(io("remove", entry.dir()))
    }

    /// Every complete entry.
    pub fn list(&self) -> Vec<Meta> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&self.root) {
            for e in rd.flatten() {
                let name = e.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                if let Ok(bytes) = std::fs::read(Entry::at(e.path()).meta())
                    && let Ok(m) = serde_json::from_slice::<Meta>(&bytes)
                {
                    out.push(m);
                }
            }
        }
        out.sort_by(|a, b| (&a.recipe, &a.arch, a.created).cmp(&(&b.recipe, &b.arch, b.created)));
        out
    }

    /// What planning needs: the keys present and the newest entry's inputs per (recipe, arch).
    pub fn view(&self) -> crate::plan::CacheView {
        let mut view = crate::plan::CacheView::default();
        let mut newest: BTreeMap<(String, Arch), (u64, Inputs, Option<u64>)> = BTreeMap::new();
        for m in self.list() {
            view.present.insert(m.key.clone());
            if let Ok(arch) = m.arch.parse::<Arch>() {
                let k = (m.recipe.clone(), arch);
                if newest.get(&k).is_none_or(|(t, _, _)| m.created >= *t) {
                    newest.insert(k, (m.created, m.inputs.clone(), m.seconds));
                }
            }
        }
        for (k, (_, inputs, seconds)) in newest {
            if let Some(s) = seconds {
                view.seconds.insert(k.clone(), s);
            }
            view.latest.insert(k, inputs);
        }
        view
    }

    /// Removes leftovers of interrupted runs (`.tmp-*`) and every entry not in `keep`;
    /// returns what was removed (entries, bytes).
    pub fn gc(
        &self,
        keep: &std::collections::BTreeSet<String>,
    ) -> Result<(usize, u64), CacheError> {
        let mut removed = (0, 0);
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return Ok(removed);
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if Layout::is_locks(&name) {
                continue;
            }
            let stale =
                name.starts_with(".tmp-") || name.starts_with(".old-") || !keep.contains(&name);
            if stale {
                let _lock = if name.starts_with('.') {
                    None
                } else {
                    Some(self.lock(&name)?)
                };
                removed.1 += dir_size(&e.path());
                std::fs::remove_dir_all(e.path()).map_err(io("remove", &e.path()))?;
                removed.0 += 1;
            }
        }
        Ok(removed)
    }
}

/// Removes the work folders (`<cache>/work/<recipe>-<arch>-<key prefix>`) whose key prefix
/// starts no key of `keep`; with an empty `keep`, all. Work folders are scratch (kept after a
/// failed build for its log, never read by a later run): those of jobs no recipe plans now go,
/// the others may be in use. Returns how many were removed and their bytes.
pub fn gc_work(cache: &Path, keep: &std::collections::BTreeSet<String>) -> (usize, u64) {
    let (mut n, mut bytes) = (0, 0);
    for e in std::fs::read_dir(Layout::new(cache).work())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let prefix = Layout::work_key_prefix(&name);
        if !keep.iter().any(|k| k.starts_with(prefix)) {
            bytes += dir_size(&e.path());
            if std::fs::remove_dir_all(e.path()).is_ok() {
                n += 1;
            }
        }
    }
    (n, bytes)
}

/// Bytes of the regular files under `dir` (symlinks not followed).
pub fn dir_size(dir: &Path) -> u64 {
    crate::walk::walk(dir)
        .unwrap_or_default()
        .iter()
        .filter(|e| e.file_type.is_file())
        .filter_map(|e| std::fs::symlink_metadata(&e.path).ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn gc_work_keeps_the_folders_of_kept_keys() {
        let t = tempfile::tempdir().unwrap();
        let work = t.path().join("work");
        for name in [
            "app-amd64-aaaa1111",
            "app-arm64-bbbb2222",
            "old-amd64-cccc3333",
        ] {
            std::fs::create_dir_all(work.join(name).join("src")).unwrap();
            std::fs::write(work.join(name).join("src/f"), b"12345").unwrap();
        }
        let keep: BTreeSet<String> = ["aaaa1111ffff".to_string(), "bbbb2222ffff".to_string()]
            .into_iter()
            .collect();
        assert_eq!(super::gc_work(t.path(), &keep), (1, 5));
        assert!(work.join("app-amd64-aaaa1111").is_dir());
        assert!(!work.join("old-amd64-cccc3333").exists());
        assert_eq!(super::gc_work(t.path(), &BTreeSet::new()), (2, 10));
        assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0);
    }
}
