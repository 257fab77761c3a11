//! A build job's smoke test: the form its recipe's `[smoke]` asks for ([`Form`]), run in the
//! image's sandbox ([`super::root`]) or, with `--no-sandbox`, on this machine in the job's
//! scratch folder `smoke/`; what it showed as an [`Outcome`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::form::Form;
use super::outcome::{Failure, Outcome, Passed};
use super::root;
use super::run::{Place, SmokeError, run_smoke, run_smoke_served};
use super::service::{self, ServiceRun};
use crate::arch::Arch;
use crate::build::AppFile;
use crate::recipe::{self, Smoke};
use crate::sandbox::Jail;

/// One job's smoke test.
pub struct Job<'a> {
    pub smoke: &'a Smoke,
    pub arch: Arch,
    /// The job's folder: the scratch folder `smoke/`, the sandbox's root `smoke-root/` and a
    /// service's log `smoke.log` are made in it.
    pub work: &'a Path,
    /// The job's app files: the smoke command and a `run` request name one of them.
    pub files: &'a [AppFile],
    /// The app's environment ([`root::env`]).
    pub env: Vec<(String, String)>,
    /// The image's files for its sandbox; None with `--no-sandbox`.
    pub image: Option<root::Image<'a>>,
}

/// Why a job's smoke test could not run.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The smoke command names no app file (a recipe mistake).
    #[error("smoke command `{0}` is not one of the app files")]
    Program(String),
    /// The scratch folder or the sandbox's root could not be made.
    #[error("cannot write `{}`", crate::text::path(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Run(#[from] SmokeError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JobError {
    let path = path.to_path_buf();
    move |source| JobError::Io { path, source }
}

/// Runs the job's smoke test: `Ok` says how it passed or why it failed, `Err` that it could
/// not run.
pub fn run(job: &Job) -> Result<Outcome, JobError> {
    let s = job.smoke;
    let program = &s.command[0];
    let file = app_file(job.files, program).ok_or_else(|| JobError::Program(program.clone()))?;
    let cwd = job.work.join("smoke");
    std::fs::create_dir_all(&cwd).map_err(io(&cwd))?;
    let jail = match &job.image {
        Some(image) => Some(
            root::jail(image, job.work, job.arch, job.env.clone())
                .map_err(|(path, source)| JobError::Io { path, source })?,
        ),
        None => None,
    };
    // Without the sandbox: the machine's PATH (the image's folders mean nothing here) and the
    // scratch folder as HOME unless `[smoke] env` names another, then the image's own
    // variables and `[smoke] env`.
    let host_env = root::host_env(&job.env);
    let (place, binary) = match &jail {
        Some(j) => (
            Place::Image {
                jail: j,
                join: None,
            },
            Path::new(&file.image_path),
        ),
        None => (
            Place::Host {
                cwd: &cwd,
                env: &host_env,
            },
            file.host_path.as_path(),
        ),
    };
    match Form::of(s) {
        Form::Service(svc) => run_service(job, svc, place, binary),
        Form::Version { expect } => run_client(job, expect, false, (place, binary), jail.as_ref()),
        Form::Client { expect, serve } => match serve {
            recipe::Serve::Http => run_client(job, expect, true, (place, binary), jail.as_ref()),
        },
    }
}

/// The `--version` form, and with `served` the client form (an HTTP server of the smoke files
/// on a free port, which fills `{port}` in the files and arguments).
fn run_client(
    job: &Job,
    expect: &str,
    served: bool,
    (place, binary): (Place, &Path),
    jail: Option<&Jail>,
) -> Result<Outcome, JobError> {
    let s = job.smoke;
    let cwd = job.work.join("smoke");
    let port =
        match served {
            true => Some(service::free_port(recipe::Listen::Tcp).map_err(|source| {
                SmokeError::Spawn {
                    command: "a free port on 127.0.0.1".into(),
                    source,
                }
            })?),
            false => None,
        };
    service::write_files(&cwd, &s.file_bytes(), port.unwrap_or(0))?;
    if let Some(j) = jail {
        j.hand_over(&cwd).map_err(io(&cwd))?;
    }
    let args: Vec<String> = s.command[1..]
        .iter()
        .map(|a| match port {
            Some(p) => a.replace(recipe::PORT_PLACEHOLDER, &p.to_string()),
            None => a.clone(),
        })
        .collect();
    let timeout = Duration::from_secs(s.timeout_secs);
    let (ran, asked) = match port {
        Some(port) => {
            let (ran, asked) = run_smoke_served(
                job.arch,
                binary,
                &args,
                expect,
                place,
                timeout,
                port,
                s.file_bytes(),
            )?;
            (ran, Some(asked))
        }
        None => (
            run_smoke(job.arch, binary, &args, expect, place, timeout)?,
            None,
        ),
    };
    if !ran.passed() {
        return Ok(Outcome::Failed(Failure::Ran { ran, asked }));
    }
    Ok(Outcome::Passed(Passed::Ran {
        command: ran.command,
        sandboxed: jail.is_some(),
    }))
}

/// The service form: the app runs in `smoke/` of the job's folder with the recipe's smoke
/// files beside it.
fn run_service(
    job: &Job,
    svc: &recipe::Service,
    place: Place,
    binary: &Path,
) -> Result<Outcome, JobError> {
    let s = job.smoke;
    // The files were read when the recipe was loaded (and are part of its key); the service
    // fills `{port}` in them itself, once it has chosen the port.
    let contents = s.file_bytes();
    let in_image = matches!(place, Place::Image { .. });
    let program = |name: &str| {
        app_file(job.files, name).map(|f| match in_image {
            true => f.image_path.clone().into(),
            false => f.host_path.clone(),
        })
    };
    let run = ServiceRun {
        arch: job.arch,
        binary,
        args: &s.command[1..],
        service: svc,
        files: &contents,
        cwd: &job.work.join("smoke"),
        place,
        log: &job.work.join("smoke.log"),
        program: &program,
        timeout: Duration::from_secs(s.timeout_secs),
    };
    Ok(match service::run_service(&run)? {
        Ok(passed) => Outcome::Passed(passed),
        Err(failure) => Outcome::Failed(Failure::Service(failure)),
    })
}

/// The app file a smoke command names, by its path in the image or its file name.
pub fn app_file<'a>(files: &'a [AppFile], name: &str) -> Option<&'a AppFile> {
    files.iter().find(|f| {
        f.image_path == name
            || Path::new(&f.image_path)
                .file_name()
                .and_then(|n| n.to_str())
                == Some(name)
    })
}
