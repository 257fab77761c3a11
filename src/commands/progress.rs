//! Progress as people see it: on a terminal, the run's board ([`super::board::Board`]: a top
//! line with how far the run is and an estimate, a line per job), redrawn as events come and
//! every quarter second; plain lines otherwise; with `--quiet`, warnings only; with `-v`, also
//! each command a build runs (a line, above the board on a terminal). A run ends with one line
//! saying how its jobs ended and how long it took (not with `--quiet`). The core reports
//! through [`crate::progress::Progress`]; only this file knows indicatif.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::board::Board;
use crate::progress::{Event, Progress};

pub struct Display {
    mode: Mode,
    /// What the run's events say so far (drawn on a terminal; its closing line everywhere).
    board: Arc<Mutex<Board>>,
    start: Instant,
    /// `-v`: the commands builds run are shown.
    verbose: bool,
}

enum Mode {
    Quiet,
    Lines,
    Live(Live),
}

/// The board drawn below the lines printed so far.
struct Live {
    bar: ProgressBar,
    board: Arc<Mutex<Board>>,
    start: Instant,
    stop: Arc<AtomicBool>,
    ticker: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Display {
    pub fn new(quiet: bool) -> Display {
        let board = Arc::new(Mutex::new(Board::default()));
        let start = Instant::now();
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Live(Live::start(board.clone(), start))
        } else {
            Mode::Lines
        };
        Display {
            mode,
            board,
            start,
            verbose: false,
        }
    }

    /// With `on` (`-v`), each command a build runs is shown too (not with `--quiet`).
    pub fn verbose(mut self, on: bool) -> Display {
        self.verbose = on;
        self
    }

    /// Stops redrawing (the board's last state stays on the terminal), then says how the jobs
    /// ended and how long the run took.
    pub fn finish(&self) {
        if let Mode::Live(live) = &self.mode {
            live.stop.store(true, Ordering::Relaxed);
            if let Some(t) = live.ticker.lock().unwrap().take() {
                let _ = t.join();
            }
            live.draw();
            live.bar.finish();
        }
        let summary = self.board.lock().unwrap().summary(self.start.elapsed());
        if let (Some(summary), false) = (summary, matches!(self.mode, Mode::Quiet)) {
            eprintln!("{summary}");
        }
    }

    /// One line about `job`: above the board on a terminal.
    fn line(&self, job: &str, message: &str) {
        let (job, message) = (&*crate::text::escape(job), &*crate::text::escape(message));
        match &self.mode {
            Mode::Quiet | Mode::Lines => eprintln!("{job}: {message}"),
            Mode::Live(live) => live.bar.println(format!("{job}: {message}")),
        }
    }
}

impl Live {
    fn start(board: Arc<Mutex<Board>>, start: Instant) -> Live {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{msg}").unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (bar, board, stop) = (bar.clone(), board.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    bar.set_message(board.lock().unwrap().render(start.elapsed()));
                    std::thread::sleep(Duration::from_millis(250));
                }
            })
        };
        Live {
            bar,
            board,
            start,
            stop,
            ticker: Mutex::new(Some(ticker)),
        }
    }

    fn draw(&self) {
        self.bar
            .set_message(self.board.lock().unwrap().render(self.start.elapsed()));
    }
}

impl Progress for Display {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Note { job, message } if !matches!(self.mode, Mode::Quiet) => {
                self.line(job, message);
            }
            Event::Command { job, line } if self.verbose && !matches!(self.mode, Mode::Quiet) => {
                self.line(job, &format!("$ {line}"));
            }
            // Shown with `--quiet` too.
            Event::Warning { job, message } => self.line(job, &format!("warning: {message}")),
            Event::Step { job, step } if matches!(self.mode, Mode::Lines) => {
                let (job, step) = (crate::text::escape(job), crate::text::escape(step));
                eprintln!("{job}: {step}");
            }
            _ => {}
        }
        self.board
            .lock()
            .unwrap()
            .apply(&event, self.start.elapsed());
        if let Mode::Live(live) = &self.mode {
            live.draw();
        }
    }
}
