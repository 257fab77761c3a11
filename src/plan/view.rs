//! Where build steps see the job's folders and the build cache. In the sandbox, at fixed paths
//! that are the same on every machine ([`BUILD`], [`CACHE`], [`EXE`], [`ZIG`]), so what a build
//! records of its paths (OpenSSL's `OPENSSLDIR`, `__FILE__`, debug paths) does not depend on
//! where `RECIPE_CACHE` is, and an entry is byte-identical whatever the cache's path; with
//! `--no-sandbox`, where they are. Pure: the plan writes every step in seen paths, the executor
//! turns one into the real path when it touches the file itself ([`View::real`]) and the
//! sandbox binds each [`Mount`] at its seen path. The cache's folders it shows are
//! `cache::Layout`'s, seen under [`CACHE`] at the same relative paths.

use std::path::{Path, PathBuf};

/// The job's folder as steps see it: its source `src/`, install root `dest/`, `sysroot/`...
pub const BUILD: &str = "/build";
/// The build cache as steps see it (only the parts a step uses are there: toolchains, zig's
/// and Go's caches, the host tools' entries).
pub const CACHE: &str = "/recipe/cache";
/// The `recipe` binary (the compiler wrapper mode) as steps see it.
pub const EXE: &str = "/recipe/bin/recipe";
/// The folder of the zig executable (and its `lib/`) as steps see it.
pub const ZIG: &str = "/recipe/zig";

/// The machine's folders a sandboxed build step sees, read-only and where they are (the
/// programs, their libraries and settings); nothing else of the machine is there.
pub const SYSTEM: [&str; 8] = [
    "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
];

/// Whether `p` lies in one of the [`SYSTEM`] folders.
pub fn in_system(p: &Path) -> bool {
    SYSTEM.iter().any(|d| p.starts_with(Path::new("/").join(d)))
}

/// The zig executable `real` (resolved) as sandboxed steps see it, and the mount that shows
/// it: its folder at [`ZIG`] (zig finds its `lib/` beside itself), or none for a zig in the
/// [`SYSTEM`] folders, which steps see where it is.
pub fn zig(real: &Path) -> (PathBuf, Option<Mount>) {
    match (real.parent(), real.file_name()) {
        (Some(dir), Some(name)) if !in_system(real) => (
            Path::new(ZIG).join(name),
            Some(Mount {
                real: dir.to_path_buf(),
                seen: ZIG.into(),
                writable: false,
            }),
        ),
        _ => (real.to_path_buf(), None),
    }
}

/// The mount that shows the `recipe` binary `real` at [`EXE`].
pub fn exe(real: &Path) -> Mount {
    Mount {
        real: real.to_path_buf(),
        seen: EXE.into(),
        writable: false,
    }
}

/// A real path shown to steps at `seen`, writable or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub real: PathBuf,
    pub seen: PathBuf,
    pub writable: bool,
}

/// How one job's steps see the machine: nothing moved (`--no-sandbox`) or the mounts of the
/// fixed layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Whether the fixed layout is used.
    pub fixed: bool,
    pub mounts: Vec<Mount>,
}

/// What a job's fixed layout is made of.
pub struct Parts<'a> {
    pub cache: &'a Path,
    pub work: &'a Path,
    /// The host tools' entries (read-only, each at its place under [`CACHE`]).
    pub host_entries: &'a [PathBuf],
    pub go: bool,
}

impl View {
    /// Everything where it is.
    pub fn as_is() -> View {
        View::default()
    }

    /// The fixed layout of one job: its folder at [`BUILD`] (writable), the cache's
    /// toolchains (read-only), zig's cache (writable), Go's build cache and `GOPATH`
    /// (writable) and module cache (read-only: modules are downloaded before the steps), and
    /// the host tools' entries (read-only), each at its place under [`CACHE`].
    pub fn fixed(p: Parts) -> View {
        // A folder of the cache is seen at the same place under `CACHE`; anything else (a
        // host tool's entry given from elsewhere) where it is.
        let seen = |real: &Path| match real.strip_prefix(p.cache) {
            Ok(rel) => Path::new(CACHE).join(rel),
            Err(_) => real.to_path_buf(),
        };
        let under = |real: PathBuf, writable: bool| Mount {
            seen: seen(&real),
            real,
            writable,
        };
        let layout = crate::cache::Layout::new(p.cache);
        let mut mounts = vec![
            Mount {
                real: p.work.to_path_buf(),
                seen: BUILD.into(),
                writable: true,
            },
            under(layout.toolchains(), false),
            under(layout.zig(), true),
        ];
        if p.go {
            mounts.extend([
                under(layout.go_build(), true),
                under(layout.go_mod(), false),
                under(layout.go_path(), true),
            ]);
        }
        mounts.extend(p.host_entries.iter().map(|e| under(e.clone(), false)));
        View {
            fixed: true,
            mounts,
        }
    }

    /// The build cache as steps see it.
    pub fn cache(&self, real: &Path) -> PathBuf {
        if self.fixed {
            CACHE.into()
        } else {
            real.to_path_buf()
        }
    }

    /// Where steps see the real path `p`: under the mount with the longest real prefix, or the
    /// path itself outside every mount.
    pub fn seen(&self, p: &Path) -> PathBuf {
        map(&self.mounts, p, |m| (&m.real, &m.seen))
    }

    /// The real path of `p` as steps see it (the inverse of [`View::seen`]).
    pub fn real(&self, p: &Path) -> PathBuf {
        map(&self.mounts, p, |m| (&m.seen, &m.real))
    }

    /// [`View::seen`] of a value that may be a path (an environment value): other text as it is.
    pub fn seen_text(&self, s: &str) -> String {
        if s.starts_with('/') {
            self.seen(Path::new(s)).display().to_string()
        } else {
            s.to_string()
        }
    }
}

fn map<'a>(
    mounts: &'a [Mount],
    p: &Path,
    side: impl Fn(&'a Mount) -> (&'a PathBuf, &'a PathBuf),
) -> PathBuf {
    mounts
        .iter()
        .map(&side)
        .filter(|(from, _)| p.starts_with(from))
        .max_by_key(|(from, _)| from.components().count())
        .map_or_else(
            || p.to_path_buf(),
            |(from, to)| match p.strip_prefix(from) {
                Ok(rel) if rel.as_os_str().is_empty() => to.clone(),
                Ok(rel) => to.join(rel),
                Err(_) => p.to_path_buf(),
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        View::fixed(Parts {
            cache: Path::new("/c"),
            work: Path::new("/c/work/x-amd64-0123"),
            host_entries: &["/c/builds/k1/tree".into()],
            go: true,
        })
    }

    #[test]
    fn paths_map_both_ways_by_the_longest_mount() {
        let v = view();
        let src = Path::new("/c/work/x-amd64-0123/src/a.c");
        assert_eq!(v.seen(src), Path::new("/build/src/a.c"));
        assert_eq!(v.real(&v.seen(src)), src);
        assert_eq!(v.seen(Path::new("/c/work/x-amd64-0123")), Path::new(BUILD));
        assert_eq!(
            v.seen(Path::new("/c/toolchains/zig-1-wrappers-sandbox/cc")),
            Path::new("/recipe/cache/toolchains/zig-1-wrappers-sandbox/cc")
        );
        assert_eq!(
            v.seen(Path::new("/c/builds/k1/tree/usr/local/bin")),
            Path::new("/recipe/cache/builds/k1/tree/usr/local/bin")
        );
        assert_eq!(v.seen_text("/c/go/mod"), "/recipe/cache/go/mod");
        assert_eq!(v.seen_text("-modcacherw"), "-modcacherw");
        // Outside every mount, and as is: unchanged.
        assert_eq!(
            v.seen(Path::new("/usr/bin/make")),
            Path::new("/usr/bin/make")
        );
        let same = View::as_is();
        assert_eq!(same.seen(src), src);
        assert_eq!(same.cache(Path::new("/c")), Path::new("/c"));
        assert_eq!(v.cache(Path::new("/c")), Path::new(CACHE));
    }

    #[test]
    fn zig_is_seen_in_its_folder_unless_the_system_has_it() {
        let (seen, m) = zig(Path::new("/opt/zig-0.1/zig"));
        assert_eq!(seen, Path::new("/recipe/zig/zig"));
        assert_eq!(m.unwrap().real, Path::new("/opt/zig-0.1"));
        assert_eq!(
            zig(Path::new("/usr/bin/zig")),
            ("/usr/bin/zig".into(), None)
        );
        assert!(in_system(Path::new("/etc/ld.so.cache")));
        assert!(!in_system(Path::new("/etcetera")));
    }

    #[test]
    fn the_module_cache_is_read_only_and_the_job_folder_writable() {
        let v = view();
        let w = |seen: &str| {
            v.mounts
                .iter()
                .find(|m| m.seen == Path::new(seen))
                .map(|m| m.writable)
        };
        assert_eq!(w(BUILD), Some(true));
        assert_eq!(w("/recipe/cache/go/mod"), Some(false));
        assert_eq!(w("/recipe/cache/toolchains"), Some(false));
        assert_eq!(w("/recipe/cache/builds/k1/tree"), Some(false));
    }
}
