//! The resource limits `recipe test` starts a podman container with. Run as root, podman asks
//! the runtime for `nofile` and `nproc` of 1048576 each unless told otherwise, and the runtime
//! cannot raise a limit above the hard limit podman runs under without `CAP_SYS_RESOURCE`: on a
//! machine whose hard `nofile` is lower (20000 in a CI container, a login's `ulimit -Hn`) the
//! container never starts ("error setting rlimit type 7: operation not permitted"). podman
//! also lowers its own `nproc` to the kernel's `pid_max`, so its default `nproc` fails
//! wherever `pid_max` is below 1048576 (the kernel's default is 32768).
//!
//! [`Ulimits::within`] (pure) picks podman's own defaults capped by those limits, so nothing
//! changes where podman's defaults work; [`Hard::of_this_process`] reads them (`getrlimit`,
//! `/proc/sys/kernel/pid_max`); [`rlimit_name`] names the resource of a runtime's
//! `rlimit type N` error.
//!
//! Invariant: both values are at most this process's hard limits (podman, its child, inherits
//! them), so the runtime never has to raise a limit.

/// podman's default `nofile` and `nproc` for a container started as root.
pub const ENGINE_DEFAULT: u64 = 1_048_576;

/// This process's hard limits; `None` is unlimited (or unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hard {
    pub nofile: Option<u64>,
    pub nproc: Option<u64>,
    /// The kernel's highest process ID (`/proc/sys/kernel/pid_max`).
    pub pid_max: Option<u64>,
}

impl Hard {
    /// Reads this process's hard `nofile` and `nproc` and the kernel's `pid_max`.
    pub fn of_this_process() -> Hard {
        let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|t| t.trim().parse().ok());
        Hard {
            nofile: hard_limit(libc::RLIMIT_NOFILE),
            nproc: hard_limit(libc::RLIMIT_NPROC),
            pid_max,
        }
    }
}

#[cfg(target_env = "gnu")]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
type Resource = libc::c_int;

/// The hard limit of `resource`; `None` when unlimited or not readable.
fn hard_limit(resource: Resource) -> Option<u64> {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live local.
    if unsafe { libc::getrlimit(resource, &mut l) } != 0 || l.rlim_max == libc::RLIM_INFINITY {
        return None;
    }
    Some(l.rlim_max)
}

/// The limits a container is started with: soft and hard alike, as podman's defaults are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ulimits {
    pub nofile: u64,
    pub nproc: u64,
}

impl Ulimits {
    /// podman's defaults, each capped by `hard` (and `nproc` by `pid_max`: podman runs with at
    /// most that many, and more processes than process IDs cannot exist anyway).
    pub fn within(hard: Hard) -> Ulimits {
        let cap = |limits: &[Option<u64>]| {
            limits
                .iter()
                .flatten()
                .fold(ENGINE_DEFAULT, |m, &l| m.min(l))
        };
        Ulimits {
            nofile: cap(&[hard.nofile]),
            nproc: cap(&[hard.nproc, hard.pid_max]),
        }
    }

    /// The engine's `--ulimit` arguments.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--ulimit".into(),
            format!("nofile={n}:{n}", n = self.nofile),
            "--ulimit".into(),
            format!("nproc={n}:{n}", n = self.nproc),
        ]
    }

    /// How they read in a message: `nofile=20000:20000, nproc=32768:32768`.
    pub fn describe(&self) -> String {
        let a = self.args();
        format!("{}, {}", a[1], a[3])
    }
}

/// The resource a runtime names in `error setting rlimit type N` (Linux's numbering), with the
/// `--ulimit` name where there is one.
pub fn rlimit_name(stderr: &str) -> Option<&'static str> {
    const NAMES: [&str; 16] = [
        "RLIMIT_CPU (cpu)",
        "RLIMIT_FSIZE (fsize)",
        "RLIMIT_DATA (data)",
        "RLIMIT_STACK (stack)",
        "RLIMIT_CORE (core)",
        "RLIMIT_RSS (rss)",
        "RLIMIT_NPROC (nproc)",
        "RLIMIT_NOFILE (nofile)",
        "RLIMIT_MEMLOCK (memlock)",
        "RLIMIT_AS (as)",
        "RLIMIT_LOCKS (locks)",
        "RLIMIT_SIGPENDING (sigpending)",
        "RLIMIT_MSGQUEUE (msgqueue)",
        "RLIMIT_NICE (nice)",
        "RLIMIT_RTPRIO (rtprio)",
        "RLIMIT_RTTIME (rttime)",
    ];
    let rest = &stderr[stderr.find("rlimit type ")? + "rlimit type ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    NAMES.get(digits.parse::<usize>().ok()?).copied()
}

/// Whether an engine's error output says the runtime could not set a resource limit.
pub fn is_rlimit_failure(stderr: &str) -> bool {
    stderr.contains("error setting rlimit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_defaults_are_kept_where_the_hard_limits_allow_them() {
        let u = Ulimits::within(Hard {
            nofile: None,
            nproc: None,
            pid_max: Some(4_194_304),
        });
        assert_eq!(
            u,
            Ulimits {
                nofile: ENGINE_DEFAULT,
                nproc: ENGINE_DEFAULT
            }
        );
        assert_eq!(
            u.args(),
            [
                "--ulimit",
                "nofile=1048576:1048576",
                "--ulimit",
                "nproc=1048576:1048576"
            ]
        );
    }

    #[test]
    fn lower_hard_limits_and_pid_max_cap_them() {
        let u = Ulimits::within(Hard {
            nofile: Some(20000),
            nproc: Some(96369),
            pid_max: Some(32768),
        });
        assert_eq!(u.describe(), "nofile=20000:20000, nproc=32768:32768");
        let u = Ulimits::within(Hard {
            nofile: Some(1024),
            nproc: Some(500),
            pid_max: None,
        });
        assert_eq!(u.describe(), "nofile=1024:1024, nproc=500:500");
    }

    #[test]
    fn this_process_is_within_its_own_limits() {
        let hard = Hard::of_this_process();
        let u = Ulimits::within(hard);
        assert!(hard.nofile.is_none_or(|h| u.nofile <= h));
        assert!(hard.nproc.is_none_or(|h| u.nproc <= h));
    }

    #[test]
    fn a_runtimes_rlimit_error_names_the_resource() {
        let e = "Error: runc: runc create failed: unable to start container process: error \
                 during container init: error setting rlimits for ready process: error setting \
                 rlimit type 7: operation not permitted: OCI permission denied";
        assert!(is_rlimit_failure(e));
        assert_eq!(rlimit_name(e), Some("RLIMIT_NOFILE (nofile)"));
        assert_eq!(
            rlimit_name("error setting rlimit type 6: x"),
            Some("RLIMIT_NPROC (nproc)")
        );
        assert_eq!(rlimit_name("error setting rlimit type 99"), None);
        assert!(!is_rlimit_failure("no such image"));
    }
}
