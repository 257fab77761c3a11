//! Progress as people see it: one spinner per job on a terminal (indicatif), plain lines
//! otherwise, nothing with `--quiet`. The core reports through [`crate::build::Progress`]; only
//! this file knows indicatif.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::progress::{Event, Finished, Progress};

pub struct Display {
    mode: Mode,
}

enum Mode {
    Quiet,
    Lines,
    Bars {
        multi: MultiProgress,
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
}

impl Display {
    pub fn new(quiet: bool) -> Display {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars {
                multi: MultiProgress::new(),
                bars: Mutex::new(HashMap::new()),
            }
        } else {
            Mode::Lines
        };
        Display { mode }
    }

    /// Stops every spinner (their last message stays).
    pub fn finish(&self) {
        if let Mode::Bars { bars, .. } = &self.mode {
            for b in bars.lock().unwrap().values() {
                b.finish();
            }
        }
    }
}

impl Progress for Display {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Started { .. } => {}
            Event::Step { job, step } => self.step(job, step),
            Event::Note { job, message } => {
                if !matches!(self.mode, Mode::Quiet) {
                    self.line(job, message);
                }
            }
            // Shown with `--quiet` too.
            Event::Warning { job, message } => self.line(job, &format!("warning: {message}")),
            Event::Finished { job, how, elapsed } => self.finished(job, how, elapsed),
        }
    }
}

impl Display {
    fn step(&self, job: &str, step: &str) {
        let (job, step) = (&*crate::text::escape(job), &*crate::text::escape(step));
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{job}: {step}"),
            Mode::Bars { multi, bars } => {
                let mut bars = bars.lock().unwrap();
                let bar = bars.entry(job.to_string()).or_insert_with(|| {
                    let b = multi.add(ProgressBar::new_spinner());
                    b.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<16} {msg} ({elapsed})")
                            .unwrap(),
                    );
                    b.set_prefix(job.to_string());
                    b.enable_steady_tick(std::time::Duration::from_millis(120));
                    b
                });
                bar.set_message(step.to_string());
            }
        }
    }

    /// One line about `job`, above the spinners on a terminal.
    fn line(&self, job: &str, message: &str) {
        let (job, message) = (&*crate::text::escape(job), &*crate::text::escape(message));
        match &self.mode {
            Mode::Quiet | Mode::Lines => eprintln!("{job}: {message}"),
            Mode::Bars { multi, .. } => {
                let _ = multi.println(format!("{job}: {message}"));
            }
        }
    }

    /// A finished job's spinner stops, saying how it ended and after how long (plain lines
    /// say nothing more: the job's last line said it).
    fn finished(&self, job: &str, how: Finished, elapsed: std::time::Duration) {
        if let Mode::Bars { bars, .. } = &self.mode
            && let Some(bar) = bars.lock().unwrap().get(&*crate::text::escape(job))
        {
            bar.set_style(ProgressStyle::with_template("  {prefix:<16} {msg}").unwrap());
            bar.finish_with_message(format!(
                "{} ({})",
                how.as_str(),
                indicatif::HumanDuration(elapsed)
            ));
        }
    }
}
