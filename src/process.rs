//! The one process layer: every child `recipe` starts (build steps, smoke tests, source
//! fetchers, toolchain probes) runs through here, in a process group of its own that is
//! registered while it lives. Three things stop a build's processes when `recipe` stops:
//!
//! - SIGINT, SIGTERM and SIGHUP: a signal thread kills every registered group, then `recipe`
//!   exits with 128 + the signal (130, 143, 129);
//! - `kill -9` of `recipe`: a watchdog process forked at start-up ([`init`]) holds the read end
//!   of a pipe through which `recipe` announces each group; when the pipe closes (however
//!   `recipe` ended) it kills every group still announced. Each group leader also gets
//!   `PR_SET_PDEATHSIG`, so it dies with the thread that started it;
//! - a child that escaped both (its own `setsid`): [`kill_strays`] stops every process working
//!   in a folder before that folder is cleared for a new job.
//!
//! When a group's leader exits, the rest of its group is killed before the leader is reaped,
//! so nothing a step started in the background outlives the step.
//!
//! A child must be waited for by the thread that spawned it (`PR_SET_PDEATHSIG` follows the
//! spawning thread).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

static RUNNING: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
static STOPPING: AtomicBool = AtomicBool::new(false);
/// The write end of the watchdog's pipe, or -1 without a watchdog.
static WATCHDOG: AtomicI32 = AtomicI32::new(-1);

/// A command with an empty environment and stdin from /dev/null: a caller sets every variable
/// the child sees, so nothing of the host's environment leaks in by accident.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(program);
    c.env_clear().stdin(Stdio::null());
    c
}

/// The compiler a wrapper-mode `recipe` stands in for (`zig cc`, see `toolchain::cc`): it keeps
/// the caller's environment and standard streams, since the build system called it as its
/// compiler, and it joins none of this layer's groups (wrapper mode runs before [`init`], and
/// the build step that called the wrapper is already in a group of its own).
pub fn compiler(program: impl AsRef<OsStr>) -> Command {
    Command::new(program)
}

/// Replaces this process with `cmd` (a [`compiler`]); returns only when that fails.
pub fn exec(cmd: &mut Command) -> io::Error {
    cmd.exec()
}

/// Runs a [`compiler`] to its end, in the foreground of this process.
pub fn run_compiler(cmd: &mut Command) -> io::Result<ExitStatus> {
    cmd.status()
}

/// The host variables a host tool (apt-get, pip, go, a version probe) needs to reach its
/// registry: PATH, HOME, the proxy and CA-bundle settings, pip's and pyenv's own configuration
/// and Go's proxy settings, plus a fixed C locale so that its output is stable. Nothing else
/// of the host's environment (CC, CFLAGS, PKG_CONFIG_PATH, ...) reaches any child.
pub fn host_env() -> Vec<(String, String)> {
    const KEEP: &[&str] = &[
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "TMPDIR",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "GOPROXY",
        "GOPRIVATE",
        "GONOPROXY",
        "GONOSUMDB",
        "GOSUMDB",
        "GOINSECURE",
    ];
    const KEEP_PREFIX: &[&str] = &["PIP_", "PYENV", "NPM_CONFIG_", "npm_config_"];
    let mut env = tool_env();
    for (k, v) in std::env::vars() {
        if k != "PATH"
            && (KEEP.contains(&k.as_str()) || KEEP_PREFIX.iter().any(|p| k.starts_with(p)))
        {
            env.push((k, v));
        }
    }
    env
}

/// What a host tool run as a build step (`patch`, `upx`) sees: the host's PATH (the one the
/// build steps search too) and a fixed C locale. No HOME, user, proxy or registry setting: such
/// a step reads the job's files only, the same way on every machine.
pub fn tool_env() -> Vec<(String, String)> {
    vec![("LC_ALL".into(), "C".into()), ("PATH".into(), host_path())]
}

/// The PATH build steps search for host tools: `recipe`'s own, or the usual folders without one.
pub fn host_path() -> String {
    std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into())
}

/// Starts the watchdog and the signal thread. Called once, first thing in `main`, while the
/// process has a single thread (the watchdog is forked).
pub fn init() {
    start_watchdog();
    install_signal_thread();
}

fn install_signal_thread() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            STOPPING.store(true, Ordering::SeqCst);
            kill_all();
            let name = match sig {
                SIGINT => "interrupted",
                SIGTERM => "terminated",
                _ => "hung up",
            };
            eprintln!("recipe: {name}; stopped every child process");
            std::process::exit(128 + sig);
        }
    });
}

/// True once `recipe` was told to stop: no new child starts.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Called before `recipe` exits by itself: when a signal is being handled, waits for the signal
/// thread to exit with 128 + the signal instead, so that a build failing because its children
/// were just killed never reports that failure (or its exit code) in the signal's place.
pub fn settle() {
    if stopping() {
        loop {
            std::thread::park();
        }
    }
}

fn start_watchdog() {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills two descriptors; O_CLOEXEC keeps them out of every exec'd child, so
    // the pipe closes exactly when `recipe` (and this watchdog's copy) are gone.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let (read, write) = (fds[0], fds[1]);
    // SAFETY: called while the process has one thread; the child only makes async-signal-safe
    // calls plus plain memory work on its own copy, then `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        // SAFETY: closing the descriptors this function made.
        unsafe {
            libc::close(read);
            libc::close(write);
        }
        return;
    }
    if pid == 0 {
        // SAFETY: in the forked child, see above.
        unsafe { watchdog(read, write) }
    }
    // SAFETY: the parent keeps only the write end.
    unsafe { libc::close(read) };
    WATCHDOG.store(write, Ordering::SeqCst);
}

/// The watchdog's whole life: read `+PGID`/`-PGID` lines until the pipe closes, then kill every
/// group still announced.
unsafe fn watchdog(read: i32, write: i32) -> ! {
    // SAFETY: plain libc calls on this process's own descriptors and signal dispositions.
    unsafe {
        libc::close(write);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE] {
            libc::signal(sig, libc::SIG_IGN);
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
        }
        libc::chdir(c"/".as_ptr());
        let mut groups: BTreeSet<i32> = BTreeSet::new();
        let mut line: Vec<u8> = Vec::new();
        let mut buf = [0u8; 512];
        loop {
            let n = libc::read(read, buf.as_mut_ptr().cast(), buf.len());
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            if n <= 0 {
                break;
            }
            for &b in &buf[..n as usize] {
                if b != b'\n' {
                    line.push(b);
                    continue;
                }
                if let Some((&sign, digits)) = line.split_first()
                    && let Some(g) = std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| d.parse::<i32>().ok())
                        .filter(|g| *g > 1)
                {
                    if sign == b'+' {
                        groups.insert(g);
                    } else {
                        groups.remove(&g);
                    }
                }
                line.clear();
            }
        }
        for g in groups {
            libc::kill(-g, libc::SIGKILL);
        }
        libc::_exit(0)
    }
}

fn announce(sign: char, pgid: i32) {
    let fd = WATCHDOG.load(Ordering::SeqCst);
    if fd >= 0 {
        let msg = format!("{sign}{pgid}\n");
        // SAFETY: one write(2) of a short buffer to our pipe; lines under PIPE_BUF are atomic,
        // so threads announcing at once never interleave.
        unsafe { libc::write(fd, msg.as_ptr().cast(), msg.len()) };
    }
}

/// Kills the process group of every running child.
pub fn kill_all() {
    let groups = RUNNING.lock().map(|g| g.clone()).unwrap_or_default();
    for pgid in groups {
        // SAFETY: kill(2) with a negative pid signals a process group.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
}

/// A child running in its own registered process group. Dropping it kills the group.
pub struct Running {
    child: Child,
    pgid: i32,
    status: Option<ExitStatus>,
    /// The CPU time (user and system) of the leader and every descendant it waited for, once
    /// reaped.
    cpu: Duration,
}

/// Starts `cmd` in its own process group, registered until it is waited for.
pub fn spawn(cmd: &mut Command) -> io::Result<Running> {
    if stopping() {
        return Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "recipe is stopping",
        ));
    }
    cmd.process_group(0);
    // SAFETY: prctl and getppid are async-signal-safe; nothing is allocated between fork and exec.
    unsafe {
        let parent = libc::getpid();
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                libc::_exit(137);
            }
            Ok(())
        });
    }
    let mut registry = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let child = cmd.spawn()?;
    let pgid = child.id() as i32;
    registry.insert(pgid);
    announce('+', pgid);
    drop(registry);
    Ok(Running {
        child,
        pgid,
        status: None,
        cpu: Duration::ZERO,
    })
}

/// Runs `cmd` to completion in its own process group.
pub fn run(cmd: &mut Command) -> io::Result<ExitStatus> {
    spawn(cmd)?.wait()
}

impl Running {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The CPU time (user and system) the child used, with every descendant it waited for
    /// (a sandbox's PID 1 waits for all of them): zero until it was reaped.
    pub fn cpu(&self) -> Duration {
        self.cpu
    }

    /// Waits for the group leader to exit, kills what is left of its group, reaps the leader.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(s) = self.status {
                return Ok(s);
            }
            if self.exited(None)? {
                return self.reap();
            }
        }
    }

    /// Like [`Running::wait`], but gives up after `timeout` (the child keeps running).
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.exited(Some(left))? {
                return self.reap().map(Some);
            }
            if left.is_zero() {
                return Ok(None);
            }
        }
    }

    /// SIGTERM to the group; SIGKILL if the leader has not exited after `grace`. Returns the
    /// status and whether the leader exited within the grace period.
    pub fn terminate(&mut self, grace: Duration) -> io::Result<(ExitStatus, bool)> {
        if let Some(s) = self.status {
            return Ok((s, true));
        }
        // SAFETY: signals our own child's group.
        unsafe { libc::kill(-self.pgid, libc::SIGTERM) };
        match self.wait_timeout(grace)? {
            Some(s) => Ok((s, true)),
            None => Ok((self.kill()?, false)),
        }
    }

    /// Kills the whole group now and reaps the leader.
    pub fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(s) = self.status {
            return Ok(s);
        }
        // SAFETY: signals our own child's group.
        unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
        self.reap()
    }

    /// Blocks until the leader has exited (without reaping it, so its pid, which is the group's
    /// id, cannot be reused meanwhile), or `timeout` passed. True when it exited.
    fn exited(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let pid = self.child.id() as libc::id_t;
        if let Some(t) = timeout {
            // SAFETY: pidfd_open(2) of our unreaped child; the descriptor is owned below.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
            if fd >= 0 {
                // SAFETY: a fresh descriptor nobody else owns.
                let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
                let mut p = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                let ms = t.as_millis().min(i32::MAX as u128) as i32;
                // SAFETY: one pollfd we own.
                let r = unsafe { libc::poll(&mut p, 1, ms) };
                if r < 0 {
                    return interrupted_is_false();
                }
                if r == 0 {
                    return Ok(false);
                }
            } else {
                // No pidfd (old kernel): check now, then sleep a little.
                if !self.waitid(libc::WNOHANG)? {
                    std::thread::sleep(t.min(Duration::from_millis(20)));
                    return self.waitid(libc::WNOHANG);
                }
                return Ok(true);
            }
        }
        self.waitid(0)
    }

    fn waitid(&self, flags: i32) -> io::Result<bool> {
        // SAFETY: waitid(2) with WNOWAIT only reads the state of our own child.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let r = libc::waitid(
                libc::P_PID,
                self.child.id() as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT | flags,
            );
            if r < 0 {
                return interrupted_is_false();
            }
            Ok(info.si_pid() != 0)
        }
    }

    fn reap(&mut self) -> io::Result<ExitStatus> {
        // The leader is a zombie now: its pid still names the group, so this reaches exactly
        // what is left of it.
        // SAFETY: signals our own child's group.
        unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
        let (status, cpu) = wait4(self.child.id() as libc::pid_t)?;
        self.status = Some(status);
        self.cpu = cpu;
        let mut registry = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        registry.remove(&self.pgid);
        announce('-', self.pgid);
        Ok(status)
    }
}

/// Reaps the exited child `pid` (std's `Child` is not asked again): its status, and the CPU
/// time of it and of the descendants it waited for.
fn wait4(pid: libc::pid_t) -> io::Result<(ExitStatus, Duration)> {
    use std::os::unix::process::ExitStatusExt;
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    loop {
        let mut status = 0;
        // SAFETY: wait4(2) of our own child, into locals.
        let (r, usage) = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            (libc::wait4(pid, &mut status, 0, &mut usage), usage)
        };
        if r == pid {
            let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
            return Ok((ExitStatus::from_raw(status), cpu));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The last OS error, except that a call interrupted by a signal is "not yet" (`Ok(false)`).
fn interrupted_is_false() -> io::Result<bool> {
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::Interrupted {
        Ok(false)
    } else {
        Err(e)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.kill();
        }
    }
}

/// What a captured child did.
#[derive(Debug)]
pub struct Captured {
    /// `None` when it was killed at the timeout.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    /// Empty when the streams were merged into `stdout`.
    pub stderr: Vec<u8>,
    /// True when an output passed the cap and the rest was dropped.
    pub truncated: bool,
}

impl Captured {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// stdout as trimmed text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim().to_string()
    }

    /// stderr as trimmed text.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// How a captured child's output is kept.
#[derive(Debug, Clone, Copy)]
pub struct Capture {
    /// Kill the group after this long.
    pub timeout: Option<Duration>,
    /// Bytes kept of each stream (the rest is read and dropped).
    pub max: usize,
    /// One pipe for both streams, so the output interleaves as the program wrote it.
    pub merge: bool,
}

impl Default for Capture {
    fn default() -> Capture {
        Capture {
            timeout: None,
            max: 1 << 20,
            merge: false,
        }
    }
}

/// Runs `cmd` with its output captured (bounded by `how.max`), killing it after `how.timeout`.
pub fn capture(cmd: &mut Command, how: Capture) -> io::Result<Captured> {
    let (out_r, out_w) = io::pipe()?;
    let err_pipe = if how.merge {
        cmd.stdout(out_w.try_clone()?).stderr(out_w);
        None
    } else {
        let (err_r, err_w) = io::pipe()?;
        cmd.stdout(out_w).stderr(err_w);
        Some(err_r)
    };
    let spawned = spawn(cmd);
    // The Command holds the pipes' write ends: replace them so EOF comes when the child exits.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = spawned?;
    let out_t = reader(out_r, how.max);
    let err_t = err_pipe.map(|r| reader(r, how.max));
    let status = match how.timeout {
        Some(t) => match child.wait_timeout(t)? {
            Some(s) => Some(s),
            None => {
                child.kill()?;
                None
            }
        },
        None => Some(child.wait()?),
    };
    // The group is gone, so the pipes close; a process that left the group may still hold
    // one: don't wait for it forever.
    let (stdout, t1) = out_t
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_default();
    let (stderr, t2) = match err_t {
        Some(rx) => rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default(),
        None => (Vec::new(), false),
    };
    Ok(Captured {
        status,
        stdout,
        stderr,
        truncated: t1 || t2,
    })
}

fn reader(mut r: io::PipeReader, max: usize) -> std::sync::mpsc::Receiver<(Vec<u8>, bool)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut truncated = false;
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
                Ok(n) => {
                    let room = max.saturating_sub(kept.len());
                    truncated |= n > room;
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        let _ = tx.send((kept, truncated));
    });
    rx
}

/// Kills every process (other than this one) whose working folder is `dir` or inside it, and
/// waits up to a few seconds for them to go: a killed run's stray children never write into
/// a folder that a new job is about to use. Only processes this user may signal are touched.
pub fn kill_strays(dir: &Path) {
    let Ok(dir) = dir.canonicalize() else { return };
    let me = std::process::id();
    let mut found = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if pid == me {
                continue;
            }
            if let Ok(cwd) = std::fs::read_link(e.path().join("cwd"))
                && cwd.starts_with(&dir)
            {
                found.push(pid);
            }
        }
    }
    for &pid in &found {
        // SAFETY: kill(2) of a process found above; ESRCH if it is already gone.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline
        && found
            .iter()
            .any(|p| Path::new(&format!("/proc/{p}/cwd")).exists())
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_tool_step_sees_the_path_and_locale_only_and_a_registry_client_more() {
        let tool = tool_env();
        let keys: Vec<&str> = tool.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["LC_ALL", "PATH"]);
        let host = host_env();
        assert!(tool.iter().all(|kv| host.contains(kv)), "{host:?}");
        assert_eq!(host.iter().filter(|(k, _)| k == "PATH").count(), 1);
        if std::env::var_os("HOME").is_some() {
            assert!(host.iter().any(|(k, _)| k == "HOME"), "{host:?}");
        }
    }

    #[test]
    fn a_reaped_child_reports_its_cpu_time_with_its_descendants() {
        // The counting loop runs in a grandchild: its time reaches us through the shell that
        // waited for it. 300,000 rounds of a shell loop take well over 20 ms on any machine.
        let mut cmd = command("/bin/sh");
        cmd.arg("-c")
            .arg("/bin/sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'; true");
        let mut child = spawn(&mut cmd).unwrap();
        assert_eq!(
            child.cpu(),
            Duration::ZERO,
            "nothing is known before the reap"
        );
        assert!(child.wait().unwrap().success());
        assert!(
            child.cpu() >= Duration::from_millis(20),
            "cpu {:?}",
            child.cpu()
        );
    }

    #[test]
    fn a_background_child_of_a_step_does_not_outlive_it() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("bg.pid");
        let mut cmd = command("/bin/sh");
        cmd.arg("-c")
            .arg(format!("sleep 300 & echo $! > {}", pidfile.display()));
        let status = run(&mut cmd).unwrap();
        assert!(status.success());
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The background sleep was killed with its group (it may linger as a zombie of init
        // for an instant: look at its state).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let alive = state
                .rsplit(')')
                .next()
                .is_some_and(|s| !s.trim_start().starts_with('Z'));
            if !alive {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "background child {pid} still runs"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn capture_keeps_a_bounded_output_and_kills_at_the_timeout() {
        let mut cmd = command("/bin/sh");
        cmd.arg("-c")
            .arg("head -c 100000 /dev/zero; echo err >&2; sleep 300");
        let c = capture(
            &mut cmd,
            Capture {
                timeout: Some(Duration::from_millis(500)),
                max: 1000,
                merge: false,
            },
        )
        .unwrap();
        assert!(c.status.is_none(), "killed at the timeout");
        assert_eq!(c.stdout.len(), 1000);
        assert!(c.truncated);
        assert_eq!(c.stderr_text(), "err");
    }

    #[test]
    fn merged_capture_and_exit_status() {
        let mut cmd = command("/bin/sh");
        cmd.arg("-c").arg("echo out; echo err >&2; exit 3");
        let c = capture(
            &mut cmd,
            Capture {
                merge: true,
                ..Capture::default()
            },
        )
        .unwrap();
        assert_eq!(c.status.and_then(|s| s.code()), Some(3));
        assert_eq!(c.stdout_text(), "out\nerr");
        assert!(!c.success());
    }

    #[test]
    fn the_environment_is_explicit() {
        let mut cmd = command("/usr/bin/env");
        cmd.env("ONLY", "this");
        let c = capture(&mut cmd, Capture::default()).unwrap();
        assert_eq!(c.stdout_text(), "ONLY=this");
    }

    #[test]
    fn terminate_gives_a_grace_period_then_kills() {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready");
        let mut cmd = command("/bin/sh");
        cmd.arg("-c").arg(format!(
            "trap '' TERM; touch {}; sleep 300",
            ready.display()
        ));
        let mut r = spawn(&mut cmd).unwrap();
        // SIGTERM only once the trap is set.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready.exists() {
            assert!(Instant::now() < deadline, "the shell never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        let (_, in_grace) = r.terminate(Duration::from_millis(300)).unwrap();
        assert!(
            !in_grace,
            "a shell ignoring SIGTERM is killed after the grace period"
        );
        let mut cmd = command("/bin/sleep");
        cmd.arg("300");
        let mut r = spawn(&mut cmd).unwrap();
        let (status, in_grace) = r.terminate(Duration::from_secs(30)).unwrap();
        assert!(in_grace);
        assert!(!status.success());
    }
}
