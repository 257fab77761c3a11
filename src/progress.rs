//! Progress events of the core, typed (uv's reporters as the model): the stages say what
//! happens to a job through [`Progress`], and only the CLI layer (`commands/progress.rs`)
//! decides how that looks; tests can record the events.
//!
//! Architecture invariant: a warning is a [`Event::Warning`], never a note whose text starts
//! with "warning: " (`--quiet` hides notes and steps, never warnings).

use std::time::Duration;

/// One thing that happened to a job (`redis/arm64`), or to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The run's jobs, in the order they were planned, before any starts; `parallel` run at once.
    Planned {
        jobs: &'a [Planned],
        parallel: usize,
    },
    /// The scheduler started the job.
    Started { job: &'a str },
    /// The job entered a step (`fetch`, `configure`, `verify`, `smoke`...).
    Step { job: &'a str, step: &'a str },
    /// A line of information about the job.
    Note { job: &'a str, message: &'a str },
    /// The job runs a build step's command, its line as the plan has it (shown with `-v`).
    Command { job: &'a str, line: &'a str },
    /// Something the user should look at; the job goes on.
    Warning { job: &'a str, message: &'a str },
    /// The job ended: how, and how long it took.
    Finished {
        job: &'a str,
        how: Finished,
        elapsed: Duration,
    },
}

/// One job of a run, as planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub job: String,
    /// It is built (not reused or fetched).
    pub builds: bool,
    /// How long its last build took, if known: what this one is expected to take.
    pub expect: Option<Duration>,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// Built (and verified, smoke-tested, stored).
    Built,
    /// Its entry in the local cache was reused.
    Cached,
    /// Its entry was fetched from the remote cache and reused.
    Fetched,
    /// Left in the remote cache: nothing here needed it.
    Remote,
    Failed,
}

impl Finished {
    pub fn as_str(self) -> &'static str {
        match self {
            Finished::Built => "built",
            Finished::Cached => "cached",
            Finished::Fetched => "fetched",
            Finished::Remote => "in the remote cache",
            Finished::Failed => "failed",
        }
    }
}

/// Where the core reports its events.
pub trait Progress: Sync {
    fn event(&self, event: Event<'_>);

    /// `job` entered `step`.
    fn step(&self, job: &str, step: &str) {
        self.event(Event::Step { job, step });
    }

    /// `job` runs the command `line` (a build step's, as planned).
    fn command(&self, job: &str, line: &str) {
        self.event(Event::Command { job, line });
    }

    /// A line of information about `job`.
    fn note(&self, job: &str, message: &str) {
        self.event(Event::Note { job, message });
    }

    /// A warning about `job` (its text without a `warning: ` prefix).
    fn warn(&self, job: &str, message: &str) {
        self.event(Event::Warning { job, message });
    }
}

/// A progress sink that shows nothing.
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _: Event<'_>) {}
}
