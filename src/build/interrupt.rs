//! Ctrl-C: every child build runs in its own process group, registered here while it runs; on
//! SIGINT or SIGTERM `recipe` kills those groups (make, the compilers under it, qemu) and exits.
//! Cache entries only ever appear by a final rename, so nothing half-built is left trusted.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus};
use std::sync::Mutex;

static RUNNING: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Installs the handler (once). Exit code 130, as shells report an interrupted command.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
        kill_all();
        eprintln!("recipe: interrupted; stopped every child build");
        std::process::exit(130);
    });
}

/// Kills the process group of every running child.
pub fn kill_all() {
    let groups = RUNNING.lock().map(|g| g.clone()).unwrap_or_default();
    for pgid in groups {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Runs `cmd` to completion in its own process group, registered for [`kill_all`].
pub fn run(cmd: &mut Command) -> std::io::Result<ExitStatus> {
    cmd.process_group(0);
    if INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "interrupted",
        ));
    }
    let mut child = cmd.spawn()?;
    let pid = child.id() as i32;
    RUNNING.lock().unwrap().insert(pid);
    let status = child.wait();
    RUNNING.lock().unwrap().remove(&pid);
    status
}
