//! What PID 1 mounts in the sandbox's own mount namespace: a new root, on a tmpfs, holding only
//! what a step may see, as Nix's builder sandbox and bubblewrap make theirs.
//!
//! - every mount made private first (nothing propagates back to the machine);
//! - the machine's system folders ([`crate::plan::view::SYSTEM`]: the programs, libraries and
//!   settings) bound read-only where they are, the symlinks among them (a merged `/usr`) made
//!   again; in `/etc` the files that hold the machine's secrets (password hashes, host keys,
//!   private TLS keys, registry logins) hidden behind empty ones;
//! - a fresh `/proc` of the new PID namespace (no process outside it, `recipe` included, can
//!   be seen or read), a fresh read-only `/sys` of the new network namespace (only `lo`), a
//!   fresh tmpfs on `/tmp`, and a `/dev` of its own (`null`, `zero`, `full`, `random`,
//!   `urandom`, `tty` bound from the machine; `shm` a tmpfs; `fd`, `stdin`...);
//! - the request's [`Bind`]s: the job's folder at `/build`, the cache's toolchains... each a
//!   source opened (`O_PATH`) before anything hides it and mounted at its destination,
//!   read-only unless asked;
//! - `pivot_root` into it, the old root detached, the new root made read-only.
//!
//! So a step writes only its job's folder, `/tmp` and the caches it is given, and reads nothing
//! of the machine but its system folders: not the build cache's other entries, not a home
//! folder, not a signing key file.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::plan::view::SYSTEM;

/// A path mounted at `dst`, taken from `src` as the machine shows it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bind {
    pub src: PathBuf,
    pub dst: PathBuf,
    pub writable: bool,
}

/// Files and folders of the machine's `/etc` that hold its secrets: hidden in the sandbox.
const SECRETS: [&str; 12] = [
    "shadow",
    "shadow-",
    "gshadow",
    "gshadow-",
    "ssh",
    "ssl/private",
    "sudoers",
    "sudoers.d",
    "containers/auth.json",
    "docker",
    "security/opasswd",
    "machine-id",
];

/// The device nodes a step gets from the machine.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// Where the new root is made before `pivot_root` (a tmpfs mounted over it).
const STAGE: &str = "/tmp";

/// Everything PID 1 mounts before the step starts; ends with the new root as `/`. With
/// `root_from` (a smoke run), the new root holds that folder's entries (an image's files,
/// read-only) instead of the machine's system folders, and nothing of the machine's `/etc`.
pub(super) fn setup(binds: &[Bind], root_from: Option<&Path>) -> Result<(), String> {
    mount(None, "/", None, libc::MS_REC | libc::MS_PRIVATE, None)
        .map_err(|e| format!("cannot make the mounts private: {e}"))?;
    // Every source opened while it can still be seen (a bind's source may lie under /tmp);
    // a folder bound before the binds inside it.
    let mut binds: Vec<&Bind> = binds.iter().collect();
    binds.sort_by_key(|b| b.dst.components().count());
    let image = match root_from {
        Some(dir) => Some(open_entries(dir)?),
        None => None,
    };
    let mut opened = Vec::new();
    for b in binds {
        let fd = open_path(&b.src)?;
        opened.push((fd, b.src.is_dir(), b));
    }
    if !Path::new(STAGE).is_dir() {
        return Err(format!("no `{STAGE}` to make the sandbox's root in"));
    }
    let root = Path::new(STAGE);
    tmpfs(root, libc::MS_NOSUID | libc::MS_NODEV, "0755")
        .map_err(|e| format!("cannot mount the sandbox's root: {e}"))?;
    match image {
        Some(entries) => image_root(root, entries)?,
        None => {
            system(root)?;
            hide_secrets(root)?;
        }
    }
    fresh(root, root_from.is_none())?;
    devices(root)?;
    for (fd, dir, b) in &opened {
        let dst = root.join(b.dst.strip_prefix("/").unwrap_or(&b.dst));
        bind(fd, *dir, &dst, b.writable)?;
    }
    pivot(root)
}

/// The machine's system folders, read-only where they are; their symlinks made again.
fn system(root: &Path) -> Result<(), String> {
    for name in SYSTEM {
        let host = Path::new("/").join(name);
        let inside = root.join(name);
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&host)
                    .map_err(|e| format!("cannot read the link `{}`: {e}", host.display()))?;
                std::os::unix::fs::symlink(&target, &inside)
                    .map_err(|e| format!("cannot make `{}`: {e}", inside.display()))?;
            }
            Ok(m) if m.is_dir() => {
                let fd = open_path(&host)?;
                bind(&fd, true, &inside, false)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A top-level entry of an image's root folder, opened before the tmpfs hides it.
enum Top {
    Link(PathBuf, PathBuf),
    Path(PathBuf, OwnedFd, bool),
}

/// Every top-level entry of `dir` (an image's files as `recipe` assembled them).
fn open_entries(dir: &Path) -> Result<Vec<Top>, String> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the image's root `{}`: {e}", dir.display()))?;
    let mut out = Vec::new();
    for entry in read {
        let entry =
            entry.map_err(|e| format!("cannot read the image's root `{}`: {e}", dir.display()))?;
        let path = entry.path();
        let name = PathBuf::from(entry.file_name());
        let m = std::fs::symlink_metadata(&path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if m.file_type().is_symlink() {
            let target = std::fs::read_link(&path)
                .map_err(|e| format!("cannot read the link `{}`: {e}", path.display()))?;
            out.push(Top::Link(name, target));
        } else {
            out.push(Top::Path(name, open_path(&path)?, m.is_dir()));
        }
    }
    Ok(out)
}

/// The image's top-level entries in the new root: folders and files bound read-only, links
/// made again.
fn image_root(root: &Path, entries: Vec<Top>) -> Result<(), String> {
    for e in entries {
        match e {
            Top::Link(name, target) => {
                let inside = root.join(name);
                std::os::unix::fs::symlink(&target, &inside)
                    .map_err(|e| format!("cannot make `{}`: {e}", inside.display()))?;
            }
            Top::Path(name, fd, dir) => bind(&fd, dir, &root.join(name), false)?,
        }
    }
    Ok(())
}

/// The secrets of `/etc` hidden: an empty read-only tmpfs on a folder, `/dev/null` on a file.
fn hide_secrets(root: &Path) -> Result<(), String> {
    let null = open_path(Path::new("/dev/null"))?;
    for name in SECRETS {
        let at = root.join("etc").join(name);
        let Ok(m) = std::fs::symlink_metadata(&at) else {
            continue;
        };
        let shown = at.display().to_string();
        if m.is_dir() {
            let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY;
            tmpfs(&at, flags, "0755")
        } else if m.is_file() {
            mount(Some(&fd_path(&null)), &shown, None, libc::MS_BIND, None)
        } else {
            Ok(())
        }
        .map_err(|e| format!("cannot hide `/etc/{name}`: {e}"))?;
    }
    Ok(())
}

/// A fresh `/proc`, `/sys` (read-only) and `/tmp`, and (`var_tmp`: over the machine's
/// folders) `/var/tmp` as `/tmp`.
fn fresh(root: &Path, var_tmp: bool) -> Result<(), String> {
    let dir = |p: &Path| {
        std::fs::create_dir_all(p).map_err(|e| format!("cannot make `{}`: {e}", p.display()))
    };
    let proc = root.join("proc");
    dir(&proc)?;
    mount(
        Some("proc"),
        &proc.display().to_string(),
        Some("proc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        None,
    )
    .map_err(|e| format!("cannot mount a fresh /proc: {e}"))?;
    // A sysfs of the new network namespace (the machine's shows its interfaces), read-only.
    // Where the kernel refuses it (a container masking parts of /sys), there is no /sys.
    let sys = root.join("sys");
    dir(&sys)?;
    let _ = mount(
        Some("sysfs"),
        &sys.display().to_string(),
        Some("sysfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY,
        None,
    );
    let tmp = root.join("tmp");
    dir(&tmp)?;
    tmpfs(&tmp, libc::MS_NOSUID | libc::MS_NODEV, "1777")
        .map_err(|e| format!("cannot mount a fresh /tmp: {e}"))?;
    if !var_tmp {
        return Ok(());
    }
    dir(&root.join("var"))?;
    std::os::unix::fs::symlink("/tmp", root.join("var/tmp"))
        .map_err(|e| format!("cannot make /var/tmp: {e}"))
}

/// `/dev`: a tmpfs with the machine's harmless devices bound in, `shm`, and the usual links.
fn devices(root: &Path) -> Result<(), String> {
    let dev = root.join("dev");
    std::fs::create_dir_all(&dev).map_err(|e| format!("cannot make /dev: {e}"))?;
    tmpfs(&dev, libc::MS_NOSUID | libc::MS_NOEXEC, "0755")
        .map_err(|e| format!("cannot mount /dev: {e}"))?;
    for name in DEVICES {
        let host = Path::new("/dev").join(name);
        if !host.exists() {
            continue;
        }
        let fd = open_path(&host)?;
        bind(&fd, false, &dev.join(name), true)?;
    }
    let shm = dev.join("shm");
    std::fs::create_dir_all(&shm).map_err(|e| format!("cannot make /dev/shm: {e}"))?;
    tmpfs(&shm, libc::MS_NOSUID | libc::MS_NODEV, "1777")
        .map_err(|e| format!("cannot mount /dev/shm: {e}"))?;
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, dev.join(name))
            .map_err(|e| format!("cannot make /dev/{name}: {e}"))?;
    }
    Ok(())
}

/// Makes `root` the root: `pivot_root`, the old root detached, the new one read-only (the
/// folders bound writable stay so).
fn pivot(root: &Path) -> Result<(), String> {
    let old = root.join(".old-root");
    std::fs::create_dir(&old).map_err(|e| format!("cannot make `{}`: {e}", old.display()))?;
    let (new_c, old_c) = (cstr(root)?, cstr(&old)?);
    // SAFETY: pivot_root(2) with two NUL-terminated paths that outlive the call.
    if unsafe { libc::syscall(libc::SYS_pivot_root, new_c.as_ptr(), old_c.as_ptr()) } != 0 {
        return Err(format!(
            "cannot pivot into the sandbox's root: {}",
            io::Error::last_os_error()
        ));
    }
    std::env::set_current_dir("/").map_err(|e| format!("cannot enter the new root: {e}"))?;
    // SAFETY: umount2(2) of a path we name.
    if unsafe { libc::umount2(c"/.old-root".as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(format!(
            "cannot detach the machine's root: {}",
            io::Error::last_os_error()
        ));
    }
    std::fs::remove_dir("/.old-root").map_err(|e| format!("cannot remove /.old-root: {e}"))?;
    mount(
        None,
        "/",
        None,
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
        None,
    )
    .map_err(|e| format!("cannot make the sandbox's root read-only: {e}"))
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

fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Mounts what `fd` opened at `dst`, making the mount point (a folder, or an empty file for a
/// file) first; then read-only unless `writable`.
fn bind(fd: &OwnedFd, dir: bool, dst: &Path, writable: bool) -> Result<(), String> {
    let fail = |what: &str, e: io::Error| format!("cannot {what} `{}`: {e}", dst.display());
    if dir {
        std::fs::create_dir_all(dst).map_err(|e| fail("make the mount point", e))?;
    } else {
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail("make the mount point", e))?;
        }
        if std::fs::symlink_metadata(dst).is_err() {
            std::fs::write(dst, b"").map_err(|e| fail("make the mount point", e))?;
        }
    }
    let shown = dst.display().to_string();
    mount(
        Some(&fd_path(fd)),
        &shown,
        None,
        libc::MS_BIND | libc::MS_REC,
        None,
    )
    .map_err(|e| fail("bind", e))?;
    if writable {
        return Ok(());
    }
    // A read-only remount keeps the flags the kernel locked on the source (in a user
    // namespace, dropping nosuid, nodev or noexec is refused).
    let c = cstr(dst)?;
    // SAFETY: statvfs(2) into a zeroed struct we own.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let locked = if unsafe { libc::statvfs(c.as_ptr(), &mut st) } == 0 {
        let mut f = 0;
        for (st_flag, ms_flag) in [
            (libc::ST_NOSUID, libc::MS_NOSUID),
            (libc::ST_NODEV, libc::MS_NODEV),
            (libc::ST_NOEXEC, libc::MS_NOEXEC),
            (libc::ST_NOATIME, libc::MS_NOATIME),
            (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
            (libc::ST_RELATIME, libc::MS_RELATIME),
        ] {
            if st.f_flag & st_flag != 0 {
                f |= ms_flag;
            }
        }
        f
    } else {
        0
    };
    mount(
        None,
        &shown,
        None,
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | locked,
        None,
    )
    .map_err(|e| fail("make read-only", e))
}

fn cstr(p: &Path) -> Result<CString, String> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| format!("a NUL in `{}`", p.display()))
}

/// A fresh tmpfs on `at`, mounted with `flags`, its root folder of `mode` (`0755`, `1777`).
fn tmpfs(at: &Path, flags: libc::c_ulong, mode: &str) -> io::Result<()> {
    let data = format!("mode={mode}");
    mount(
        Some("tmpfs"),
        &at.display().to_string(),
        Some("tmpfs"),
        flags,
        Some(&data),
    )
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
