//! A job's smoke test from the pipeline's side: what its image holds (`pack.rs`'s files,
//! environment and user) handed to [`crate::smoke::job`], and its outcome turned into a
//! progress line or a [`PipelineError`].

use super::contents::{has_ca_bundle, image_env, image_user, root_entries};
use super::{PipelineError, Progress};
use crate::build::AppFile;
use crate::plan;
use crate::recipe::Recipe;
use crate::sandbox::Sandbox;
use crate::smoke::job::{Job, JobError};
use crate::smoke::{Outcome, root};

/// The smoke test of a job's app files, in the image's sandbox unless the sandbox is off;
/// `extra` are the files of the recipes the image includes.
pub(super) fn smoke(
    r: &Recipe,
    job: &plan::Job,
    (files, extra): (&[AppFile], &[AppFile]),
    sandbox: &Sandbox,
    progress: &dyn Progress,
) -> Result<(), PipelineError> {
    let Some(s) = &r.smoke else { return Ok(()) };
    let id = format!("{}/{}", r.name, job.arch);
    progress.step(&id, "smoke");
    let user = image_user(r);
    let image = match sandbox {
        Sandbox::On { exe } => Some(root::Image {
            exe,
            entries: root_entries(r, files, extra, &user),
            user: (user.uid, user.gid),
            writable: &r.image.writable,
        }),
        Sandbox::Off => None,
    };
    let run = Job {
        smoke: s,
        arch: job.arch,
        work: &job.work,
        files,
        env: smoke_env(r, extra),
        image,
    };
    let outcome = crate::smoke::job::run(&run).map_err(|e| match e {
        JobError::Program(program) => PipelineError::SmokeProgram {
            recipe: r.name.clone(),
            program,
        },
        JobError::Io { path, source } => PipelineError::Io { path, source },
        JobError::Run(source) => PipelineError::SmokeRun {
            recipe: r.name.clone(),
            source,
        },
    })?;
    match outcome {
        Outcome::Passed(passed) => {
            progress.note(&id, &format!("smoke test passed: {passed}"));
            Ok(())
        }
        Outcome::Failed(failure) => Err(PipelineError::Smoke {
            recipe: r.name.clone(),
            arch: job.arch,
            failure: Box::new(failure),
        }),
    }
}

/// The app's environment in its smoke test ([`root::env`]): the image's (with
/// `SSL_CERT_FILE` when `extra` holds the CA bundle), then `[smoke] env`.
fn smoke_env(r: &Recipe, extra: &[AppFile]) -> Vec<(String, String)> {
    let image = image_env(r, has_ca_bundle(extra));
    match &r.smoke {
        Some(s) => root::env(image, &s.env),
        None => root::env(image, &Default::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::Path;

    fn recipe(extra: &str) -> Recipe {
        let text = format!(
            "name = \"demo\"\nversion = \"1.0\"\nlicense = \"MIT\"\n\
             homepage = \"https://example.invalid\"\n[source]\npath = \"src\"\n\
             [build]\nsystem = \"make\"\n[app]\nfiles = [\"/usr/local/bin/demo\"]\n{extra}"
        );
        crate::recipe::parse(Path::new("demo.toml"), &text).unwrap()
    }

    /// PATH, HOME, the CA bundle's variable when included, the image's env, then `[smoke] env`
    /// over it (a name keeps its first place and its last value).
    #[test]
    fn the_smoke_env_is_the_image_env_then_the_smoke_env() {
        let r = recipe(
            "[smoke]\ncommand = [\"demo\", \"--version\"]\nexpect = \"1\"\n\
             env = { GREETING = \"hi\", HOME = \"/data\" }\n\
             [image]\nenv = { GREETING = \"image\", MODE = \"prod\" }\n",
        );
        let ca = AppFile {
            image_path: "/etc/ssl/certs/ca-certificates.crt".into(),
            host_path: "/x".into(),
            link: None,
        };
        let pairs = |v: Vec<(String, String)>| {
            v.into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs(smoke_env(&r, &[ca])),
            [
                "PATH=/usr/local/bin:/usr/bin:/bin",
                "HOME=/data",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                "GREETING=hi",
                "MODE=prod"
            ]
        );
        assert_eq!(
            pairs(smoke_env(&r, &[]))[..2],
            ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/data"]
        );
    }
}
