//! What the terminal shows of a run, as text made from the typed progress events
//! ([`crate::progress::Event`]) and the time since the run started; pure, so its tests pin the
//! display at chosen moments. A top line says how far the run is (`[7/23 jobs] 4m12s, about
//! 6m left`: the estimate from how long each building job's last build took); each finished
//! job is one line (how it ended, how long it took), each running job one line (its step and
//! how long it has been running).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::progress::{Event, Finished};

#[derive(Debug, Default)]
pub struct Board {
    /// Every job, in the order it was planned or first seen.
    order: Vec<String>,
    parallel: usize,
    /// The jobs that build, with how long each is expected to take (None: unknown).
    builds: BTreeMap<String, Option<Duration>>,
    running: BTreeMap<String, Running>,
    done: BTreeMap<String, (Finished, Duration)>,
}

#[derive(Debug)]
struct Running {
    step: String,
    since: Duration,
}

impl Board {
    /// Takes `event`, which happened `at` (time since the run started).
    pub fn apply(&mut self, event: &Event<'_>, at: Duration) {
        match *event {
            Event::Planned { jobs, parallel } => {
                self.parallel = parallel;
                for j in jobs {
                    self.see(&j.job);
                    if j.builds {
                        self.builds.insert(j.job.clone(), j.expect);
                    }
                }
            }
            Event::Started { job } => {
                self.see(job);
                self.running.insert(
                    job.to_string(),
                    Running {
                        step: "waiting".into(),
                        since: at,
                    },
                );
            }
            Event::Step { job, step } => {
                self.see(job);
                let r = self.running.entry(job.to_string()).or_insert(Running {
                    step: String::new(),
                    since: at,
                });
                r.step = step.to_string();
            }
            Event::Finished { job, how, elapsed } => {
                self.see(job);
                self.running.remove(job);
                self.done.insert(job.to_string(), (how, elapsed));
            }
            Event::Note { .. } | Event::Warning { .. } | Event::Command { .. } => {}
        }
    }

    fn see(&mut self, job: &str) {
        if !self.order.iter().any(|j| j == job) {
            self.order.push(job.to_string());
        }
    }

    /// `[7/23 jobs] 4m12s, about 6m left` (the estimate only when every job still to build
    /// has one).
    pub fn header(&self, at: Duration) -> String {
        let mut line = format!(
            "[{}/{} jobs] {}",
            self.done.len(),
            self.order.len(),
            human(at)
        );
        if let Some(left) = self.left(at)
            && !left.is_zero()
        {
            line.push_str(&format!(", about {} left", estimate(left)));
        }
        line
    }

    /// What the building jobs not finished yet are expected to take still, spread over the
    /// jobs that run at once.
    fn left(&self, at: Duration) -> Option<Duration> {
        let mut total = Duration::ZERO;
        for (job, expect) in &self.builds {
            if self.done.contains_key(job) {
                continue;
            }
            let ran = self
                .running
                .get(job)
                .map_or(Duration::ZERO, |r| at - r.since);
            total += (*expect)?.saturating_sub(ran);
        }
        Some(total / self.parallel.max(1) as u32)
    }

    /// The whole display: the top line, then one line per job seen so far (finished ones say
    /// how they ended, running ones their step), in plan order; names and steps escaped.
    pub fn render(&self, at: Duration) -> String {
        let width = self.order.iter().map(|j| j.len()).max().unwrap_or(0);
        let mut out = self.header(at);
        for job in &self.order {
            let line = if let Some((how, took)) = self.done.get(job) {
                format!("{} ({})", how.as_str(), human(*took))
            } else if let Some(r) = self.running.get(job) {
                format!("{} ({})", crate::text::escape(&r.step), human(at - r.since))
            } else {
                continue;
            };
            let mark = if self.running.contains_key(job) {
                '>'
            } else {
                ' '
            };
            let job = crate::text::escape(job);
            out.push_str(&format!("\n{mark} {job:<width$}  {line}"));
        }
        out
    }
}

impl Board {
    /// The closing line: how many jobs ended each way, and the run's time (`built 5, cached
    /// 18, fetched 2 in 6m02s`); None when no job was seen.
    pub fn summary(&self, at: Duration) -> Option<String> {
        if self.done.is_empty() {
            return None;
        }
        let ways = [
            Finished::Built,
            Finished::Cached,
            Finished::Fetched,
            Finished::Remote,
            Finished::Failed,
        ];
        let counts: Vec<String> = ways
            .iter()
            .map(|&w| (w, self.done.values().filter(|(how, _)| *how == w).count()))
            .filter(|&(_, n)| n > 0)
            .map(|(w, n)| match w {
                Finished::Remote => format!("{n} left in the remote cache"),
                _ => format!("{} {n}", w.as_str()),
            })
            .collect();
        Some(format!("{} in {}", counts.join(", "), human(at)))
    }
}

/// `12s`, `4m12s`, `1h02m`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// An estimate: whole minutes, rounded up, above a minute (`6m`, `1h05m`), seconds below.
fn estimate(d: Duration) -> String {
    let s = d.as_secs().max(1);
    if s < 60 {
        return format!("{s}s");
    }
    let m = s.div_ceil(60);
    match (m / 60, m % 60) {
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Planned;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// The events of a fixture build of `hello-dep` and `hello-c` for two arches, two jobs at a
    /// time: the library and its app build (their last builds took 40 s and 30 s), hello-c for
    /// amd64 is cached, for arm64 it builds (20 s last time). The display at three moments:
    /// running, some done, finished.
    #[test]
    fn the_display_of_a_fixture_build_at_three_moments() {
        let planned = [
            ("libgreet/amd64", true, Some(40)),
            ("hello-dep/amd64", true, Some(30)),
            ("hello-c/amd64", false, None),
            ("hello-c/arm64", true, Some(20)),
        ]
        .map(|(job, builds, expect)| Planned {
            job: job.into(),
            builds,
            expect: expect.map(secs),
        });
        let (lib, app, cached, arm) = (
            "libgreet/amd64",
            "hello-dep/amd64",
            "hello-c/amd64",
            "hello-c/arm64",
        );
        let step = |job, step| Event::Step { job, step };
        let started = |job| Event::Started { job };
        let finished = |job, how, s| Event::Finished {
            job,
            how,
            elapsed: secs(s),
        };
        let events: Vec<(u64, Event<'_>)> = vec![
            (
                0,
                Event::Planned {
                    jobs: &planned,
                    parallel: 2,
                },
            ),
            (0, started(lib)),
            (0, step(lib, "fetch")),
            (0, started(cached)),
            (0, step(cached, "cached")),
            (1, finished(cached, Finished::Cached, 1)),
            (2, step(lib, "build")),
            // moment one: 12 s
            (38, step(lib, "verify")),
            (41, finished(lib, Finished::Built, 41)),
            (41, started(app)),
            (41, step(app, "build")),
            (41, started(arm)),
            (42, step(arm, "configure")),
            // moment two: 50 s
            (66, finished(arm, Finished::Built, 25)),
            (72, finished(app, Finished::Built, 31)),
        ];
        let mut board = Board::default();
        let mut shown = Vec::new();
        for (n, (at, event)) in events.iter().enumerate() {
            board.apply(event, secs(*at));
            match n {
                6 => shown.push(board.render(secs(12))),
                12 => shown.push(board.render(secs(50))),
                _ => {}
            }
        }
        shown.push(board.render(secs(72)));
        shown.push(board.summary(secs(73)).unwrap());
        insta::assert_snapshot!(shown.join("\n\n"));
        assert!(!board.header(secs(72)).contains("left"), "nothing is left");
    }

    /// A job that never built has no estimate: then no time left is said at all.
    #[test]
    fn no_estimate_is_said_while_a_job_to_build_has_none() {
        let planned = [("a/amd64", Some(60)), ("b/amd64", None)].map(|(job, s)| Planned {
            job: job.into(),
            builds: true,
            expect: s.map(secs),
        });
        let mut board = Board::default();
        board.apply(
            &Event::Planned {
                jobs: &planned,
                parallel: 1,
            },
            secs(0),
        );
        assert_eq!(board.header(secs(3)), "[0/2 jobs] 3s");
    }

    #[test]
    fn the_estimate_counts_what_running_jobs_have_done_and_the_parallel_jobs() {
        let planned = [("a/amd64", 120), ("b/amd64", 60)].map(|(job, s)| Planned {
            job: job.into(),
            builds: true,
            expect: Some(secs(s)),
        });
        let mut board = Board::default();
        board.apply(
            &Event::Planned {
                jobs: &planned,
                parallel: 2,
            },
            secs(0),
        );
        assert_eq!(board.header(secs(0)), "[0/2 jobs] 0s, about 2m left");
        board.apply(&Event::Started { job: "a/amd64" }, secs(0));
        assert_eq!(board.header(secs(90)), "[0/2 jobs] 1m30s, about 45s left");
        assert_eq!(human(secs(3725)), "1h02m");
        assert_eq!(human(secs(252)), "4m12s");
    }
}
