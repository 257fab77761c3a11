//! `recipe __sandbox --join PID [--user UID:GID] [--chdir DIR] -- ARGV`: runs ARGV inside the
//! running smoke sandbox whose PID 1 is PID, as its step runs: its user namespace (when
//! `recipe` is not root), its IPC, UTS, network, PID and mount namespaces, its root, as the
//! image's user. A smoke test's `run` request (`redis-cli -p {port} ping`) reaches the app on
//! the sandbox's 127.0.0.1 this way.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::init::{Request, exit_like, setup_failed, start, wait_for};

/// The namespaces joined, in order (the user namespace first, for the rights to the rest).
const JOINED: [(&str, libc::c_int); 5] = [
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("pid", libc::CLONE_NEWPID),
    ("mnt", libc::CLONE_NEWNS),
];

pub(super) fn run(req: &Request, pid: i32) -> i32 {
    match enter(pid) {
        Ok(()) => {}
        Err(e) => return setup_failed(e),
    }
    if let Some(dir) = &req.chdir
        && let Err(e) = std::env::set_current_dir(dir)
    {
        return setup_failed(format!("cannot enter `{}`: {e}", dir.display()));
    }
    // The PID namespace applies to children: the program is forked into it.
    let child = start(&req.argv, req.user);
    exit_like(wait_for(child))
}

fn open(path: &str) -> Result<OwnedFd, String> {
    let c = std::ffi::CString::new(path).map_err(|_| format!("a NUL in `{path}`"))?;
    // SAFETY: open(2) of a path we hold; the descriptor is owned below.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(format!(
            "cannot open `{path}`: {}",
            io::Error::last_os_error()
        ));
    }
    // SAFETY: a fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Enters the namespaces and the root of `pid`.
fn enter(pid: i32) -> Result<(), String> {
    // Everything opened first: /proc is the machine's until the mount namespace changes.
    let root = open(&format!("/proc/{pid}/root"))?;
    let user = open(&format!("/proc/{pid}/ns/user"))?;
    let mut joined = Vec::new();
    for (name, flag) in JOINED {
        joined.push((name, flag, open(&format!("/proc/{pid}/ns/{name}"))?));
    }
    let setns = |name: &str, fd: &OwnedFd, flag| {
        // SAFETY: setns(2) of this single-threaded process.
        if unsafe { libc::setns(fd.as_raw_fd(), flag) } != 0 {
            return Err(format!(
                "cannot join the sandbox's {name} namespace: {}",
                io::Error::last_os_error()
            ));
        }
        Ok(())
    };
    // SAFETY: geteuid(2).
    if unsafe { libc::geteuid() } != 0 {
        setns("user", &user, libc::CLONE_NEWUSER)?;
    }
    for (name, flag, fd) in &joined {
        setns(name, fd, *flag)?;
    }
    // SAFETY: fchdir to the sandbox's root (opened above), then chroot there.
    unsafe {
        if libc::fchdir(root.as_raw_fd()) != 0 || libc::chroot(c".".as_ptr()) != 0 {
            return Err(format!(
                "cannot enter the sandbox's root: {}",
                io::Error::last_os_error()
            ));
        }
    }
    std::env::set_current_dir(Path::new("/"))
        .map_err(|e| format!("cannot enter the sandbox's root: {e}"))?;
    Ok(())
}
