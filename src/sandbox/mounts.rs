//! What PID 1 mounts in the sandbox's own mount namespace: every mount made private (nothing
//! propagates back to the machine), a fresh `/proc` of the new PID namespace (so no process
//! outside it, `recipe` included, can be seen or read), a fresh read-only `/sys` of the new
//! network namespace (only `lo` in `/sys/class/net`), a fresh tmpfs on `/tmp` (each step its
//! own; nothing of another step or of the machine), and the paths that must stay visible
//! although they lie under `/tmp` (the job's folders, the cache, the `recipe` binary when a
//! test keeps them there) bound back at their own place.
//!
//! A bind is a source opened (`O_PATH`) before the tmpfs hides it and mounted at its
//! destination after: binding the job's folders at fixed paths (`/build/src`, ...) is the same
//! [`Bind`] with another destination under a tmpfs of its own.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A path mounted at `dst`, taken from `src` as it was before the sandbox's own mounts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bind {
    pub src: PathBuf,
    pub dst: PathBuf,
}

/// The binds that keep each of `keep` visible under a fresh `/tmp`: the kept paths inside
/// `/tmp` (resolved), each once, none inside another (binds are recursive).
pub(super) fn kept_under_tmp(keep: &[PathBuf]) -> Vec<Bind> {
    let tmp = Path::new("/tmp")
        .canonicalize()
        .unwrap_or_else(|_| "/tmp".into());
    let mut paths: Vec<PathBuf> = keep
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .filter(|p| p.starts_with(&tmp) && *p != tmp)
        .collect();
    paths.sort();
    let mut out: Vec<Bind> = Vec::new();
    for p in paths {
        if !out.iter().any(|b| p.starts_with(&b.src)) {
            out.push(Bind {
                src: p.clone(),
                dst: p,
            });
        }
    }
    out
}

/// Everything PID 1 mounts before the step starts.
pub(super) fn setup(keep: &[PathBuf]) -> Result<(), String> {
    mount(None, "/", None, libc::MS_REC | libc::MS_PRIVATE, None)
        .map_err(|e| format!("cannot make the mounts private: {e}"))?;
    let binds = kept_under_tmp(keep);
    let mut opened = Vec::new();
    for b in &binds {
        // Whether it is a folder, while it can still be seen.
        opened.push((open_path(&b.src)?, b.src.is_dir(), b));
    }
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )
    .map_err(|e| format!("cannot mount a fresh /proc: {e}"))?;
    // A sysfs of the new network namespace (the machine's shows its interfaces), read-only. Where
    // the kernel refuses it (a container masking parts of /sys), the machine's stays: it names
    // interfaces the step still cannot use.
    let _ = mount(
        Some("sysfs"),
        "/sys",
        Some("sysfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY,
        None,
    );
    if Path::new("/tmp").is_dir() {
        mount(
            Some("tmpfs"),
            "/tmp",
            Some("tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV,
            Some("mode=1777"),
        )
        .map_err(|e| format!("cannot mount a fresh /tmp: {e}"))?;
    }
    for (fd, dir, b) in opened {
        bind(&fd, dir, b)?;
    }
    Ok(())
}

fn open_path(p: &Path) -> Result<OwnedFd, String> {
    let c = cstr(p)?;
    // SAFETY: open(2) of a path we hold; the descriptor is owned below.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(format!(
            "cannot open `{}`: {}",
            p.display(),
            io::Error::last_os_error()
        ));
    }
    // SAFETY: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Mounts what `fd` opened at `b.dst`, making the mount point (a folder, or an empty file for a
/// file) first.
fn bind(fd: &OwnedFd, dir: bool, b: &Bind) -> Result<(), String> {
    let fail = |what: &str, e: io::Error| format!("cannot {what} `{}`: {e}", b.dst.display());
    if dir {
        std::fs::create_dir_all(&b.dst).map_err(|e| fail("make the mount point", e))?;
    } else {
        if let Some(parent) = b.dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail("make the mount point", e))?;
        }
        std::fs::write(&b.dst, b"").map_err(|e| fail("make the mount point", e))?;
    }
    let src = format!("/proc/self/fd/{}", fd.as_raw_fd());
    mount(
        Some(&src),
        &b.dst.display().to_string(),
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    )
    .map_err(|e| fail("bind", e))
}

fn cstr(p: &Path) -> Result<CString, String> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| format!("a NUL in `{}`", p.display()))
}

/// mount(2) with optional source, type and data.
fn mount(
    src: Option<&str>,
    dst: &str,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let c = |s: &str| CString::new(s).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput));
    let src = src.map(c).transpose()?;
    let dst = c(dst)?;
    let fstype = fstype.map(c).transpose()?;
    let data = data.map(c).transpose()?;
    let ptr = |o: &Option<CString>| o.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: mount(2) with NUL-terminated strings (or null) that outlive the call.
    let r = unsafe {
        libc::mount(
            ptr(&src),
            dst.as_ptr(),
            ptr(&fstype),
            flags,
            ptr(&data).cast(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_under_tmp_are_bound_back_each_once() {
        let a = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
        let inner = a.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        let binds = kept_under_tmp(&[
            inner.clone(),
            a.path().to_path_buf(),
            "/usr".into(),
            "/tmp".into(),
            a.path().join("absent"),
        ]);
        let root = a.path().canonicalize().unwrap();
        assert_eq!(
            binds,
            vec![Bind {
                src: root.clone(),
                dst: root
            }]
        );
    }
}
