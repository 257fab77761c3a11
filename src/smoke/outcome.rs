//! How a smoke test ended, as data, and the one place it becomes text: a program's run
//! ([`Ran`], how it ended in [`End`]), a passed test ([`Passed`]) and a failed one
//! ([`Failure`], a service's step in [`ServiceFailure`]). The build's progress line and error,
//! `recipe test`'s line and error and a service's `run` request all render these `Display`s.
//! Bytes sent to and received from an app are [`Wire`]: shown escaped, never raw.

use std::fmt;
use std::time::Duration;

use crate::recipe::Listen;

/// How a program the smoke test ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// It exited by itself with this status (many tools print `--help` with status 1 or 2).
    Exited(i32),
    /// Killed by this signal (not by us).
    Signal(i32),
    /// Killed by us at the timeout.
    TimedOut(Duration),
    /// Ended without an exit status or a signal we could read.
    Unknown,
    /// Still running when we stopped waiting (`recipe test`'s container).
    Running(Duration),
}

/// A program the smoke test ran: what it printed and how it ended, against the text its
/// output must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    /// The command line as run, for the user to paste.
    pub command: String,
    /// The text the output must contain.
    pub expect: String,
    /// stdout and stderr interleaved as written, lossily decoded, capped.
    pub output: String,
    pub end: End,
    /// The exit status it must end with (a `run` request's `status`); None: any.
    pub status: Option<i32>,
}

impl Ran {
    /// The program exited by itself (with `status` when one is asked for) and its output
    /// contains `expect`.
    pub fn passed(&self) -> bool {
        let status_ok = |c: i32| self.status.is_none_or(|want| want == c);
        matches!(self.end, End::Exited(c) if status_ok(c)) && self.output.contains(&self.expect)
    }

    /// The exit status; None when it did not exit by itself.
    pub fn status(&self) -> Option<i32> {
        match self.end {
            End::Exited(c) => Some(c),
            _ => None,
        }
    }

    /// Killed by us at the timeout.
    pub fn timed_out(&self) -> bool {
        matches!(self.end, End::TimedOut(_))
    }

    /// Why it failed, briefly (a service's `run` request); empty when it passed.
    pub fn reason(&self) -> String {
        if self.passed() {
            return String::new();
        }
        match self.end {
            End::TimedOut(t) => format!("timed out after {t:.1?} and was killed"),
            End::Signal(sig) => format!("killed by signal {sig}"),
            End::Unknown => "ended without an exit status".to_string(),
            End::Running(t) => format!("did not finish within {t:?}"),
            End::Exited(c) => match self.status {
                Some(want) if want != c && self.output.contains(&self.expect) => {
                    format!("exit status {c}, expected {want}")
                }
                Some(want) if want != c => format!(
                    "exit status {c}, expected {want}, and the output does not contain {:?}",
                    self.expect
                ),
                _ => format!(
                    "output does not contain {:?} (exit status {c})",
                    self.expect
                ),
            },
        }
    }

    /// Why it failed, as the build and `recipe test` say it after the command.
    pub fn how(&self) -> String {
        match self.end {
            End::Exited(c) => format!(
                "exited with status {c} and its output lacks `{}`",
                self.expect
            ),
            End::Running(t) => format!("did not finish within {t:?}"),
            End::Signal(_) | End::TimedOut(_) | End::Unknown => format!(
                "did not finish or was killed; its output lacks `{}`",
                self.expect
            ),
        }
    }
}

/// Who answered a service's requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum By {
    /// The app, started by this command line.
    App(String),
    /// `recipe test`'s container.
    Container,
}

/// A smoke test that passed, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passed {
    /// The `--version`/client form: this command ran with the expected output.
    Ran { command: String, sandboxed: bool },
    /// The service form: every request answered, then a stop in time after SIGTERM.
    Served {
        by: By,
        requests: usize,
        listen: Listen,
        port: u16,
        /// How it stopped (`exit status: 0`, `exit status 0`).
        stopped: String,
        sandboxed: bool,
    },
    /// `recipe test`'s client app: the container ran these arguments to its end.
    ContainerRan {
        args: String,
        status: i32,
        expect: String,
    },
}

fn proto(listen: Listen) -> &'static str {
    match listen {
        Listen::Tcp => "tcp",
        Listen::Udp => "udp",
    }
}

/// Said after a test that ran in the image's sandbox.
fn sandboxed(yes: bool) -> &'static str {
    match yes {
        true => " (in the image's sandbox, as its user)",
        false => "",
    }
}

impl fmt::Display for Passed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Passed::Ran {
                command,
                sandboxed: s,
            } => write!(f, "`{command}`{}", sandboxed(*s)),
            Passed::Served {
                by,
                requests,
                listen,
                port,
                stopped,
                sandboxed: s,
            } => {
                match by {
                    By::App(command) => write!(f, "`{command}`")?,
                    By::Container => write!(f, "the container")?,
                }
                write!(
                    f,
                    " answered {requests} request(s) on {} port {port} and stopped ({stopped}){}",
                    proto(*listen),
                    sandboxed(*s)
                )
            }
            Passed::ContainerRan {
                args,
                status,
                expect,
            } => write!(
                f,
                "the container ran `{args}` to its end (exit status {status}) with `{expect}` \
                 in its output"
            ),
        }
    }
}

/// Bytes sent to or received from an app, shown quoted: text as Rust writes a string's
/// `Debug` (`\r`, `\n`, `\"`, `\u{1b}`), and each byte that is not UTF-8 as `\xNN`, so nothing
/// reaches the terminal raw and no byte is lost to a replacement character.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wire(pub Vec<u8>);

impl Wire {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&[u8]> for Wire {
    fn from(b: &[u8]) -> Self {
        Wire(b.to_vec())
    }
}

impl From<Vec<u8>> for Wire {
    fn from(b: Vec<u8>) -> Self {
        Wire(b)
    }
}

impl From<String> for Wire {
    fn from(s: String) -> Self {
        Wire(s.into_bytes())
    }
}

impl From<&str> for Wire {
    fn from(s: &str) -> Self {
        Wire(s.as_bytes().to_vec())
    }
}

impl fmt::Display for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.0.utf8_chunks() {
            let text = format!("{:?}", chunk.valid());
            f.write_str(&text[1..text.len() - 1])?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

/// Why a service smoke test (or `recipe test`) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFailure {
    /// "start", "request 2 (tcp)", "stop".
    pub step: String,
    /// The app's command line.
    pub command: String,
    pub sent: Wire,
    pub received: Wire,
    pub reason: String,
    /// The app's last output lines.
    pub output: String,
}

impl fmt::Display for ServiceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::text::{escape, escape_lines};
        writeln!(f, "step {}: {}", self.step, escape(&self.reason))?;
        writeln!(f, "app: `{}`", escape(&self.command))?;
        writeln!(f, "sent: {}", self.sent)?;
        writeln!(f, "received: {}", self.received)?;
        write!(
            f,
            "last output lines of the app:\n{}",
            escape_lines(&self.output)
        )
    }
}

/// A smoke test that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The `--version`/client form: the program's run, and with `serve` what its server was
    /// asked.
    Ran {
        ran: Ran,
        asked: Option<Vec<String>>,
    },
    /// The service form: the step that failed.
    Service(ServiceFailure),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Ran { ran, asked } => {
                write!(f, "smoke test failed: `{}` {}", ran.command, ran.how())?;
                match asked.as_deref() {
                    Some([]) => write!(f, "; the smoke test's HTTP server got no request")?,
                    Some(lines) => write!(
                        f,
                        "; the smoke test's HTTP server got: {}",
                        lines.join(", ")
                    )?,
                    None => {}
                }
                write!(f, "\noutput:\n{}", ran.output)
            }
            Failure::Service(s) => write!(f, "service smoke test failed at {s}"),
        }
    }
}

/// How a smoke test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed(Passed),
    Failed(Failure),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ran(end: End, output: &str) -> Ran {
        Ran {
            command: "demo --version".into(),
            expect: "demo 1".into(),
            output: output.into(),
            end,
            status: None,
        }
    }

    #[test]
    fn a_run_with_a_status_passes_only_with_it_and_says_the_status_seen() {
        let with = |end, output: &str, expect: &str, status| Ran {
            expect: expect.into(),
            status: Some(status),
            ..ran(end, output)
        };
        assert!(with(End::Exited(0), "", "", 0).passed());
        assert!(with(End::Exited(3), "no server", "", 3).passed());
        assert!(!with(End::Exited(1), "demo 1", "demo 1", 0).passed());
        assert!(!with(End::Signal(9), "", "", 0).passed());
        assert_eq!(
            with(End::Exited(2), "refused", "", 0).reason(),
            "exit status 2, expected 0"
        );
        assert_eq!(
            with(End::Exited(2), "refused", "ok", 0).reason(),
            "exit status 2, expected 0, and the output does not contain \"ok\""
        );
        assert_eq!(
            with(End::Exited(0), "refused", "ok", 0).reason(),
            "output does not contain \"ok\" (exit status 0)"
        );
    }

    /// Text is shown as a string's `Debug` (as before bytes were kept); bytes that are not
    /// UTF-8 as `\xNN`, never raw.
    #[test]
    fn wire_bytes_are_shown_escaped() {
        assert_eq!(
            Wire::from("-ERR\x1b[31m\r\n\"é\"").to_string(),
            "\"-ERR\\u{1b}[31m\\r\\n\\\"é\\\"\""
        );
        assert_eq!(
            Wire(b"\x20\x02\x00\xff\xfeMQTT".to_vec()).to_string(),
            "\" \\u{2}\\0\\xff\\xfeMQTT\""
        );
        let f = ServiceFailure {
            step: "request 1 (tcp)".into(),
            command: "demo".into(),
            sent: Wire(vec![0x10, 0x80]),
            received: Wire(vec![0xc3]),
            reason: "r".into(),
            output: String::new(),
        };
        let shown = f.to_string();
        assert!(
            shown.contains("sent: \"\\u{10}\\x80\"\nreceived: \"\\xc3\"\n"),
            "{shown}"
        );
    }

    #[test]
    fn a_run_passes_when_it_exits_with_the_text_in_its_output() {
        assert!(ran(End::Exited(2), "usage: demo 1.0").passed());
        assert!(!ran(End::Exited(0), "demo 2").passed());
        assert!(!ran(End::Signal(9), "demo 1").passed());
        assert_eq!(ran(End::Exited(0), "demo 1").reason(), "");
        assert_eq!(
            ran(End::Exited(1), "x").reason(),
            "output does not contain \"demo 1\" (exit status 1)"
        );
        assert_eq!(
            ran(End::TimedOut(Duration::from_millis(1500)), "").reason(),
            "timed out after 1.5s and was killed"
        );
    }

    #[test]
    fn a_failed_run_says_its_status_the_missing_text_and_what_the_server_got() {
        let f = Failure::Ran {
            ran: ran(End::Exited(1), "Illegal instruction"),
            asked: Some(vec!["GET /x -> 404".into()]),
        };
        assert_eq!(
            f.to_string(),
            "smoke test failed: `demo --version` exited with status 1 and its output lacks \
             `demo 1`; the smoke test's HTTP server got: GET /x -> 404\noutput:\n\
             Illegal instruction"
        );
        let f = Failure::Ran {
            ran: ran(End::Signal(11), ""),
            asked: Some(vec![]),
        };
        assert!(
            f.to_string().contains(
                "did not finish or was killed; its output lacks `demo 1`; the smoke test's \
                 HTTP server got no request"
            ),
            "{f}"
        );
    }

    #[test]
    fn a_pass_says_who_answered_and_where() {
        let p = Passed::Served {
            by: By::App("demo -p 4000".into()),
            requests: 2,
            listen: Listen::Udp,
            port: 4000,
            stopped: "exit status: 0".into(),
            sandboxed: true,
        };
        assert_eq!(
            p.to_string(),
            "`demo -p 4000` answered 2 request(s) on udp port 4000 and stopped \
             (exit status: 0) (in the image's sandbox, as its user)"
        );
        let p = Passed::Served {
            by: By::Container,
            requests: 7,
            listen: Listen::Tcp,
            port: 4000,
            stopped: "exit status 0".into(),
            sandboxed: false,
        };
        assert_eq!(
            p.to_string(),
            "the container answered 7 request(s) on tcp port 4000 and stopped (exit status 0)"
        );
    }
}
