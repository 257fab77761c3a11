//! The sandbox mode, `recipe __sandbox [--probe] [--bind|--ro-bind SRC DST]... [--chdir DIR]
//! -- PROGRAM ARGS...`: the process the process layer starts for a build step. It makes the
//! namespaces, forks PID 1 of the new PID namespace (this file's [`init`]), which makes the new
//! root ([`super::mounts`]), enters DIR, names the host `recipe`, forks and execs the step, reaps every process and exits with the
//! step's status; the kernel then kills whatever is left in the namespace.
//!
//! Nothing here is shared with the CLI: `main` enters [`super::main_if_sandbox`] before the
//! watchdog, the signal thread and clap, while the process has one thread, so the forks below
//! are plain forks of a single-threaded program.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The exit code of a sandbox that could not be set up (its reason on stderr).
pub const SETUP_FAILED: i32 = 125;
/// The exit code when the step's program could not be started.
pub const EXEC_FAILED: i32 = 127;

/// What the sandbox was asked for on its command line.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Request {
    /// Set everything up, then exit 0 without running anything (the check before a build).
    pub probe: bool,
    /// What the step sees besides the system folders, and where.
    pub binds: Vec<super::mounts::Bind>,
    /// The step's working folder (as the step sees it).
    pub chdir: Option<PathBuf>,
    /// The step's argv (looked up on the step's own PATH).
    pub argv: Vec<OsString>,
    /// A smoke run: the new root made of this folder's entries (an image's files) instead of
    /// the machine's system folders.
    pub root_from: Option<PathBuf>,
    /// A smoke run: the step runs as this uid and gid (the image's user).
    pub user: Option<(u32, u32)>,
    /// A smoke run: the loopback interface brought up, so 127.0.0.1 works inside.
    pub lo_up: bool,
    /// A smoke run: a unix socket (inherited at this descriptor) on which the outer process
    /// makes sockets in the sandbox's network namespace for `recipe` ([`super::net`]); the
    /// step waits for `recipe`'s go on it.
    pub net_fd: Option<i32>,
    /// Run ARGV inside the running sandbox whose PID 1 has this pid (its namespaces and root).
    pub join: Option<i32>,
}

/// Parses the arguments after `__sandbox`.
pub(super) fn parse(args: Vec<OsString>) -> Result<Request, String> {
    let mut r = Request::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--probe") => r.probe = true,
            Some(flag @ ("--bind" | "--ro-bind")) => {
                let src = it.next().ok_or(format!("{flag} needs two paths"))?;
                let dst = it.next().ok_or(format!("{flag} needs two paths"))?;
                r.binds.push(super::mounts::Bind {
                    src: src.into(),
                    dst: dst.into(),
                    writable: flag == "--bind",
                });
            }
            Some("--chdir") => r.chdir = Some(it.next().ok_or("--chdir needs a path")?.into()),
            Some("--root-from") => {
                r.root_from = Some(it.next().ok_or("--root-from needs a folder")?.into())
            }
            Some("--lo-up") => r.lo_up = true,
            Some("--user") => {
                let v = it.next().ok_or("--user needs UID:GID")?;
                let ids = v
                    .to_str()
                    .and_then(|v| v.split_once(':'))
                    .and_then(|(u, g)| Some((u.parse().ok()?, g.parse().ok()?)))
                    .ok_or(format!(
                        "--user needs UID:GID, not `{}`",
                        v.to_string_lossy()
                    ))?;
                r.user = Some(ids);
            }
            Some(flag @ ("--net-fd" | "--join")) => {
                let v = it.next().ok_or(format!("{flag} needs a number"))?;
                let n = v
                    .to_str()
                    .and_then(|v| v.parse::<i32>().ok())
                    .filter(|n| *n > 0)
                    .ok_or(format!(
                        "{flag} needs a number, not `{}`",
                        v.to_string_lossy()
                    ))?;
                if flag == "--net-fd" {
                    r.net_fd = Some(n);
                } else {
                    r.join = Some(n);
                }
            }
            Some("--") => {
                r.argv = it.collect();
                break;
            }
            _ => return Err(format!("unknown argument `{}`", a.to_string_lossy())),
        }
    }
    if r.argv.is_empty() && !r.probe {
        return Err("no program after `--`".into());
    }
    Ok(r)
}

/// A namespace the sandbox makes: its `unshare` flag and the name an error gives it.
const NAMESPACES: [(libc::c_int, &str); 5] = [
    (libc::CLONE_NEWNS, "mount"),
    (libc::CLONE_NEWPID, "PID"),
    (libc::CLONE_NEWNET, "network"),
    (libc::CLONE_NEWIPC, "IPC"),
    (libc::CLONE_NEWUTS, "UTS"),
];

/// The whole sandbox: namespaces, PID 1, the step. Returns this process's exit code.
pub(super) fn run(req: Request) -> i32 {
    if let Some(pid) = req.join {
        return super::join::run(&req, pid);
    }
    if let Err(e) = unshare_all(req.user) {
        eprintln!("recipe sandbox: {e}");
        return SETUP_FAILED;
    }
    // The outer process is in the new network namespace too (only the PID namespace is for
    // children): it brings `lo` up, and serves `recipe`'s sockets from here.
    if req.lo_up
        && let Err(e) = super::net::lo_up()
    {
        return setup_failed(e);
    }
    // A smoke run is stopped as the image would be: SIGTERM to the process group reaches the
    // app, which has its grace period; this process (and PID 1, which inherits the handler
    // until nothing: it never execs) outlives it, so the app's own exit is what is reported.
    if req.user.is_some() {
        extern "C" fn ignore(_: libc::c_int) {}
        // SAFETY: a handler that does nothing (reset to the default in the exec'd step).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = ignore as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
        }
    }
    // With a net socket, the step waits for `recipe`'s go (its servers listen first).
    let (go_r, go_w) = match req.net_fd {
        Some(_) => match pipe() {
            Ok(p) => p,
            Err(e) => return setup_failed(format!("cannot make a pipe: {e}")),
        },
        None => (-1, -1),
    };
    let (death_r, death_w) = match pipe() {
        Ok(p) => p,
        Err(e) => return setup_failed(format!("cannot make a pipe: {e}")),
    };
    let (status_r, status_w) = match pipe() {
        Ok(p) => p,
        Err(e) => return setup_failed(format!("cannot make a pipe: {e}")),
    };
    // SAFETY: this process has one thread (see the module doc).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return setup_failed(format!(
            "cannot start PID 1: {}",
            io::Error::last_os_error()
        ));
    }
    if pid == 0 {
        // SAFETY: closing the ends PID 1 does not use; it never returns.
        unsafe {
            libc::close(death_w);
            libc::close(status_r);
            if go_w >= 0 {
                libc::close(go_w);
            }
            if let Some(fd) = req.net_fd {
                libc::close(fd);
            }
        }
        init(&req, death_r, status_w, go_r);
    }
    // SAFETY: the outer process keeps the death pipe's write end open until it exits and reads
    // the status PID 1 reports.
    unsafe {
        libc::close(death_r);
        libc::close(status_w);
        if go_r >= 0 {
            libc::close(go_r);
        }
    }
    if let Some(fd) = req.net_fd {
        serve_until_init_ends(
            super::net::Server {
                fd,
                init_pid: pid,
                go_w: Some(go_w),
            },
            status_r,
        );
    }
    let init_status = wait_for(pid);
    let mut raw = [0u8; 4];
    // SAFETY: a read of four bytes into our buffer.
    let n = unsafe { libc::read(status_r, raw.as_mut_ptr().cast(), 4) };
    let status = if n == 4 {
        i32::from_ne_bytes(raw)
    } else {
        init_status
    };
    exit_like(status)
}

/// Answers `recipe`'s net requests until PID 1 ends (its status pipe reports data or its end
/// closing) or `recipe` closes its end.
fn serve_until_init_ends(mut server: super::net::Server, status_r: i32) {
    loop {
        let mut fds = [
            libc::pollfd {
                fd: status_r,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: server.fd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll(2) on two descriptors we hold.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if fds[0].revents != 0 {
            break;
        }
        if fds[1].revents != 0 && !server.answer() {
            break;
        }
    }
    server.close_go();
}

/// Makes every namespace, one `unshare` each so a failure names the one that could not be
/// made; a user namespace first when `recipe` is not root, mapping the caller to root, or,
/// for a step run as `user`, to that user's ids (the one id an unprivileged process may map:
/// the step's files then belong to the caller outside).
fn unshare_all(user: Option<(u32, u32)>) -> Result<(), String> {
    // SAFETY: plain syscalls on this process.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid != 0 {
        // SAFETY: unshare(2) of this process.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
            return Err(missing("user", io::Error::last_os_error()));
        }
        let write = |file: &str, text: String| {
            std::fs::write(file, text)
                .map_err(|e| format!("cannot map the user into its namespace ({file}): {e}"))
        };
        write("/proc/self/setgroups", "deny".into())?;
        let (inside_uid, inside_gid) = user.unwrap_or((0, 0));
        write("/proc/self/uid_map", format!("{inside_uid} {uid} 1"))?;
        write("/proc/self/gid_map", format!("{inside_gid} {gid} 1"))?;
    }
    for (flag, name) in NAMESPACES {
        // SAFETY: unshare(2) of this process.
        if unsafe { libc::unshare(flag) } != 0 {
            return Err(missing(name, io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// The line naming a namespace that could not be made.
fn missing(name: &str, e: io::Error) -> String {
    format!("cannot create a {name} namespace: {e}")
}

pub(super) fn setup_failed(why: String) -> i32 {
    eprintln!("recipe sandbox: {why}");
    SETUP_FAILED
}

fn pipe() -> io::Result<(i32, i32)> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills two descriptors, closed on exec so the step never holds them.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((fds[0], fds[1]))
}

/// Waits for `pid` and returns its raw wait status.
pub(super) fn wait_for(pid: i32) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waitpid(2) of our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return status;
        }
        if r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return (SETUP_FAILED & 0xff) << 8;
        }
    }
}

/// Ends the outer process as the step ended: the same exit code, or killed by the same signal
/// (so the build reports "was killed" as it would without the sandbox).
pub(super) fn exit_like(status: i32) -> i32 {
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        // SAFETY: default disposition and an unblocked signal, then raise it on ourselves.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::prctl(libc::PR_SET_DUMPABLE, 0);
            libc::raise(sig);
        }
        return 128 + sig;
    }
    libc::WEXITSTATUS(status)
}

/// PID 1 of the new PID namespace: dies with the outer process, sets up the mounts and the
/// host name, runs the step, reaps every process, and exits with the step's status (written
/// to `status_w` first, raw, so a signal is reported as a signal).
fn init(req: &Request, death_r: i32, status_w: i32, go_r: i32) -> ! {
    // SAFETY: prctl and poll on this process; the outer process may have died before the
    // death signal was armed: then its end of the pipe is closed already.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        let mut p = libc::pollfd {
            fd: death_r,
            events: libc::POLLIN,
            revents: 0,
        };
        if libc::poll(&mut p, 1, 0) > 0 && p.revents & libc::POLLHUP != 0 {
            libc::_exit(137);
        }
    }
    let entered = super::mounts::setup(&req.binds, req.root_from.as_deref()).and_then(|()| {
        let dir = req.chdir.as_deref().unwrap_or(Path::new("/"));
        std::env::set_current_dir(dir)
            .map_err(|e| format!("cannot enter the step's folder `{}`: {e}", dir.display()))
    });
    if let Err(e) = entered {
        eprintln!("recipe sandbox: {e}");
        // SAFETY: ends PID 1 (and so the namespace).
        unsafe { libc::_exit(SETUP_FAILED) }
    }
    // SAFETY: sethostname(2) in our own UTS namespace.
    unsafe { libc::sethostname(c"recipe".as_ptr(), 6) };
    if req.probe {
        // SAFETY: as above.
        unsafe { libc::_exit(0) }
    }
    if go_r >= 0 {
        let mut b = [0u8; 1];
        // SAFETY: a one-byte read from our pipe; EOF means `recipe` gave up before the go.
        if unsafe { libc::read(go_r, b.as_mut_ptr().cast(), 1) } != 1 {
            eprintln!("recipe sandbox: `recipe` stopped before the step was to start");
            // SAFETY: ends PID 1.
            unsafe { libc::_exit(SETUP_FAILED) }
        }
        // SAFETY: closing our end; the step never holds it.
        unsafe { libc::close(go_r) };
    }
    let step = start(&req.argv, req.user);
    if req.user.is_some() {
        forward_sigterm(step);
    }
    let status = reap_until(step);
    // SAFETY: a four-byte write to our pipe, then the end of PID 1: the kernel kills every
    // process left in the namespace before the outer process sees us exit.
    unsafe {
        libc::write(status_w, status.to_ne_bytes().as_ptr().cast(), 4);
        libc::_exit(if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        })
    }
}

/// Forks and execs the step (its environment is this process's, set by the caller) as `user`
/// when given; returns its pid. In the child, a failed exec ends it with [`EXEC_FAILED`] and
/// the reason on stderr.
pub(super) fn start(argv: &[OsString], user: Option<(u32, u32)>) -> i32 {
    let args: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).unwrap_or_default())
        .collect();
    let mut ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: PID 1 has one thread; the child only resets its signal mask and execs.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: in the child: an empty signal mask as a fresh process has, then exec.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        }
        if let Some(ids) = user
            && let Err(e) = become_user(ids)
        {
            eprintln!("recipe sandbox: {e}");
            // SAFETY: ends the child.
            unsafe { libc::_exit(SETUP_FAILED) }
        }
        // SAFETY: exec of NUL-terminated strings that outlive the call.
        unsafe {
            libc::execvp(ptrs[0], ptrs.as_ptr());
        }
        let e = io::Error::last_os_error();
        eprintln!(
            "recipe sandbox: cannot run `{}`: {e}",
            Path::new(&argv[0]).display()
        );
        // SAFETY: ends the child.
        unsafe { libc::_exit(EXEC_FAILED) }
    }
    if pid < 0 {
        eprintln!(
            "recipe sandbox: cannot start the step: {}",
            io::Error::last_os_error()
        );
        // SAFETY: ends PID 1.
        unsafe { libc::_exit(SETUP_FAILED) }
    }
    pid
}

/// Becomes `uid`:`gid` for good (no supplementary groups, no capabilities left, no new
/// privileges from a setuid file). In a user namespace made by an unprivileged `recipe` the
/// ids are already these (the map's one id) and only `no_new_privs` is set. First the
/// standard input, output and error are given to the user, as runc gives a container's: an
/// app that opens `/dev/stdout` or `/dev/stderr` again (nginx's `error_log /dev/stderr`) must
/// be allowed to, as in the container.
fn become_user((uid, gid): (u32, u32)) -> Result<(), String> {
    // SAFETY: plain syscalls on this (single-threaded) process.
    unsafe {
        if libc::geteuid() != uid || libc::getegid() != gid {
            give_stdio(uid, gid);
            let groups = [gid];
            if libc::setgroups(1, groups.as_ptr()) != 0 {
                return Err(format!(
                    "cannot drop the supplementary groups: {}",
                    io::Error::last_os_error()
                ));
            }
            if libc::setresgid(gid, gid, gid) != 0 || libc::setresuid(uid, uid, uid) != 0 {
                return Err(format!(
                    "cannot become the image's user {uid}:{gid}: {}",
                    io::Error::last_os_error()
                ));
            }
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(format!(
                "cannot set no_new_privs: {}",
                io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// The step a smoke run's PID 1 forwards SIGTERM to.
static STEP: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// In a smoke run, SIGTERM to the process group stops the app as `docker stop` stops a
/// container's main process; an app that made a process group of its own (syncthing does)
/// would not get it, so PID 1, which does, passes it on to the step when the step is not in
/// PID 1's group (in the group it has it already: a second one is not sent).
fn forward_sigterm(step: i32) {
    extern "C" fn forward(_: libc::c_int) {
        let pid = STEP.load(std::sync::atomic::Ordering::Relaxed);
        // SAFETY: getpgid, getpgrp and kill are plain syscalls, safe in a signal handler.
        unsafe {
            if pid > 0 && libc::getpgid(pid) != libc::getpgrp() {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
    STEP.store(step, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: installs a handler that only makes async-signal-safe calls.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = forward as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
    }
}

/// Gives descriptors 0, 1 and 2 to `uid`:`gid`, but for a character device (`/dev/null`, a
/// terminal), which is everyone's already (runc's `fixStdioPermissions`). A pipe or the smoke
/// test's log file changes owner; `recipe`, as root, still reads it.
fn give_stdio(uid: u32, gid: u32) {
    for fd in 0..3 {
        // SAFETY: fstat and fchown of our own descriptors into a zeroed stat we own.
        unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT != libc::S_IFCHR {
                libc::fchown(fd, uid, gid);
            }
        }
    }
}

/// Reaps every child of PID 1 (orphans of the namespace come here too) until `step` exits;
/// returns its raw status.
fn reap_until(step: i32) -> i32 {
    loop {
        let mut status = 0;
        // SAFETY: waitpid(2) of any child of ours.
        let r = unsafe { libc::waitpid(-1, &mut status, 0) };
        if r == step {
            return status;
        }
        if r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return (SETUP_FAILED & 0xff) << 8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let a = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        let r = parse(a(&[
            "--bind",
            "/c/w",
            "/build",
            "--ro-bind",
            "/c/t",
            "/t",
            "--chdir",
            "/build/src",
            "--",
            "make",
            "-j2",
        ]))
        .unwrap();
        let bind = |src: &str, dst: &str, writable| super::super::mounts::Bind {
            src: src.into(),
            dst: dst.into(),
            writable,
        };
        assert_eq!(
            r.binds,
            vec![bind("/c/w", "/build", true), bind("/c/t", "/t", false)]
        );
        assert_eq!(r.chdir, Some(PathBuf::from("/build/src")));
        assert_eq!(r.argv, a(&["make", "-j2"]));
        assert!(!r.probe);
        assert!(parse(a(&["--probe"])).unwrap().probe);
        let smoke = parse(a(&[
            "--root-from",
            "/w/root",
            "--user",
            "1000:1001",
            "--lo-up",
            "--net-fd",
            "3",
            "--",
            "/app",
        ]))
        .unwrap();
        assert_eq!(smoke.root_from, Some(PathBuf::from("/w/root")));
        assert_eq!(smoke.user, Some((1000, 1001)));
        assert!(smoke.lo_up);
        assert_eq!(smoke.net_fd, Some(3));
        assert_eq!(
            parse(a(&["--join", "42", "--", "x"])).unwrap().join,
            Some(42)
        );
        assert!(parse(a(&["--user", "1000", "--", "x"])).is_err());
        assert!(parse(a(&["--net-fd", "-1", "--", "x"])).is_err());
        assert!(parse(a(&["--"])).is_err());
        assert!(parse(a(&["--bind", "/a"])).is_err());
        assert!(parse(a(&["--bogus", "--", "x"])).is_err());
    }
}
