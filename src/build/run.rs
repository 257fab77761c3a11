//! One job being run ([`Run`]): what every stage of it reads (the recipe, the plan's job, the
//! toolchains, progress, the log) and the one way it runs a command.
//!
//! **Invariant:** every command of a job, planned or not (a patch, Debian's series, strip,
//! `go mod download`, UPX), runs through [`Run::command`] or [`Run::command_in`]: shown with
//! `-v`, logged, its `${SOURCE_DATE}` filled with the source's date once that is known.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use super::{BuildError, Progress, Tools, fsutil, io};
use crate::plan::{Command, Job};
use crate::recipe::Recipe;

/// One job being run.
pub struct Run<'a> {
    pub recipe: &'a Recipe,
    pub job: &'a Job,
    pub tools: &'a Tools,
    pub progress: &'a dyn Progress,
    /// How progress names the job (`recipe/arch`).
    pub id: &'a str,
    pub log: &'a mut File,
    /// The source's own date once it is unpacked (0 for one without): what a planned
    /// `${SOURCE_DATE}` becomes in the commands run after.
    pub date: Option<u64>,
    /// The CPU time (user and system) of the job's commands so far, their descendants included.
    pub cpu: std::time::Duration,
    /// Each command run so far, with its wall and CPU time.
    pub steps: Vec<crate::cache::StepTime>,
}

impl<'a> Run<'a> {
    /// The run of `job` (`id` as progress names it), its commands logged to `log`; the
    /// source's date is not known yet.
    pub fn new(
        recipe: &'a Recipe,
        job: &'a Job,
        tools: &'a Tools,
        progress: &'a dyn Progress,
        id: &'a str,
        log: &'a mut File,
    ) -> Run<'a> {
        Run {
            recipe,
            job,
            tools,
            progress,
            id,
            log,
            date: None,
            cpu: std::time::Duration::ZERO,
            steps: Vec::new(),
        }
    }

    /// A stage of the job, for the progress display.
    pub fn step(&self, name: &str) {
        self.progress.step(self.id, name);
    }

    /// A line for the progress display.
    pub fn note(&self, text: &str) {
        self.progress.note(self.id, text);
    }

    /// A line in the job's log.
    pub fn log_line(&mut self, text: &str) {
        writeln!(self.log, "{text}").ok();
    }

    /// Runs `cmd` in the job's sandbox (see the module doc).
    pub fn command(&mut self, cmd: &Command) -> Result<(), BuildError> {
        let sandbox = self.tools.sandbox.clone();
        self.command_in(cmd, &sandbox)
    }

    /// Runs `cmd` in `sandbox`, its output in the log; a failure names the step, the command,
    /// the log and its last lines.
    pub fn command_in(
        &mut self,
        cmd: &Command,
        sandbox: &crate::sandbox::Sandbox,
    ) -> Result<(), BuildError> {
        let cmd = match self.date {
            Some(date) => cmd.dated(date),
            None => std::borrow::Cow::Borrowed(cmd),
        };
        let (job, tools) = (self.job, self.tools);
        self.progress.command(self.id, &cmd.display());
        writeln!(
            self.log,
            "==> {}: {}\n    in {}",
            cmd.name,
            cmd.display(),
            cmd.cwd.display()
        )
        .ok();
        self.log.flush().ok();
        let mut argv = cmd.argv.clone();
        // The pinned tools stand in for their names.
        match (argv[0].as_str(), &tools.go, &tools.meson) {
            ("go", Some(go), _) => argv[0] = job.view.seen(&go.exe).display().to_string(),
            ("meson", _, Some(meson)) => argv[0] = job.view.seen(meson).display().to_string(),
            _ => {}
        }
        let out = self
            .log
            .try_clone()
            .map_err(io("cannot write the log", &job.log))?;
        let err_out = self
            .log
            .try_clone()
            .map_err(io("cannot write the log", &job.log))?;
        let mounts = sandbox.mounts(
            &job.view,
            tools.zig.as_ref().map(|z| z.exe.as_path()),
            cmd.env.get("PATH").map(String::as_str),
            Path::new(&argv[0]),
        );
        let mut command = sandbox.command(&argv, &mounts, &cmd.cwd);
        command.envs(&cmd.env).stdout(out).stderr(err_out);
        if let Some(client) = &tools.jobserver {
            client.configure_make(&mut command);
        }
        let started = std::time::Instant::now();
        let status = crate::process::spawn(&mut command).and_then(|mut child| {
            let status = child.wait();
            self.cpu += child.cpu();
            let took = crate::cache::StepTime {
                name: cmd.name.clone(),
                millis: started.elapsed().as_millis() as u64,
                cpu_millis: child.cpu().as_millis() as u64,
            };
            // Only a step that passed says so: a failed one's log ends with its own output,
            // which the error shows.
            if matches!(&status, Ok(s) if s.success()) {
                writeln!(
                    self.log,
                    "    took {:.1} s ({:.1} s of CPU)",
                    took.millis as f64 / 1000.0,
                    took.cpu_millis as f64 / 1000.0
                )
                .ok();
            }
            self.steps.push(took);
            status
        });
        let status_text = match status {
            Ok(s) if s.success() => return Ok(()),
            Ok(s) => match s.code() {
                Some(c) => format!("exited with status {c}"),
                None => format!("was killed ({s})"),
            },
            Err(e) => format!("could not start: {e}"),
        };
        Err(BuildError::Step {
            recipe: self.recipe.name.clone(),
            arch: job.arch,
            step: cmd.name.clone(),
            command: cmd.display(),
            status: status_text,
            log: job.log.clone(),
            tail: crate::text::escape_lines(&fsutil::tail(&job.log, 20)).into_owned(),
        })
    }
}
