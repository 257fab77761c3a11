//! `recipe test`: a built image run where people run it. The host's image (amd64 here) is
//! loaded into a container engine (podman, or docker) and started the hardened way: read-only
//! root filesystem, every capability dropped, no new privileges, as the image's own user, its
//! writable folders as anonymous volumes. Then the recipe's smoke test talks to it from outside:
//! a service's requests go to its published port (a free port of 127.0.0.1), a client app's
//! command runs in the container against the smoke test's server on the host's network. Last,
//! the container is stopped with SIGTERM and must exit within the smoke test's grace period.
//! Under podman the container's `nofile` and `nproc` limits are podman's defaults capped by this
//! process's hard limits ([`super::ulimit`]), so it starts wherever podman runs; a runtime that
//! still cannot set a limit is [`ContainerError::Rlimit`], naming the limit and the fix.
//!
//! [`plan`] is pure (the engine's arguments from the recipe); [`run`] executes it.

use std::path::Path;
use std::time::{Duration, Instant};

use super::SmokeError;
pub use super::engine::Engine;
use super::engine::{ENGINE_TIMEOUT, EngineError};
use super::form::Form;
use super::outcome::{By, End, Passed, Ran, ServiceFailure, Wire};
use super::service::{self, Target};
use super::ulimit::{self, Hard, Ulimits};
use crate::arch::Arch;
use crate::recipe::{Listen, PORT_PLACEHOLDER, Recipe, Serve};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ContainerError {
    #[error("`{name}` has no smoke test: there is nothing to send to its container")]
    NoSmoke { name: String },
    #[error(
        "the image of `{name}` publishes no {proto} port (`[image] ports`) for the smoke requests"
    )]
    NoPort { name: String, proto: &'static str },
    #[error("`{command}` failed: {detail}")]
    Engine { command: String, detail: String },
    #[error("the container engine could not set the container's {resource} limit: {detail}")]
    #[diagnostic(help(
        "a container's limit cannot be raised above the hard limit the engine runs under (that \
         needs CAP_SYS_RESOURCE); `recipe test` asked for {asked}; a higher value comes from the \
         engine's own settings (`default_ulimits` in podman's containers.conf, `default-ulimits` \
         in docker's daemon.json, or the docker daemon's own limits): lower it to at most the \
         hard limits `ulimit -H -a` shows, or raise the hard limit `recipe test` runs under"
    ))]
    Rlimit {
        resource: &'static str,
        asked: String,
        detail: String,
    },
    #[error("cannot run the container test of `{name}`")]
    Smoke {
        name: String,
        #[source]
        source: SmokeError,
    },
    #[error("the container test of `{name}` failed at {failure}")]
    Failed {
        name: String,
        failure: Box<ServiceFailure>,
    },
}

impl From<EngineError> for ContainerError {
    fn from(e: EngineError) -> Self {
        ContainerError::Engine {
            command: e.command,
            detail: e.detail,
        }
    }
}

/// What the container is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The container's name (unique to this run).
    pub container: String,
    /// `run` arguments after the engine's name and before the image.
    pub run: Vec<String>,
    /// Arguments after the image (a client app's smoke arguments).
    pub args: Vec<String>,
    pub kind: Kind,
    /// Seconds the app has to exit after SIGTERM.
    pub grace: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A service: `listen` on the image's `image_port`, published on 127.0.0.1 `host_port`.
    Service {
        listen: Listen,
        host_port: u16,
        image_port: u16,
    },
    /// A client app: runs to its end on the host's network; its output must contain `expect`.
    Client { expect: String },
}

/// `run -d --name CONTAINER` hardened: read-only, no capabilities, no new privileges, the
/// limits asked for, the image's own user, its writable folders as volumes.
fn hardened(r: &Recipe, container: &str, ulimits: Option<Ulimits>) -> Vec<String> {
    let mut run: Vec<String> = [
        "run",
        "-d",
        "--name",
        container,
        "--read-only",
        "--cap-drop",
        "all",
        "--security-opt",
        "no-new-privileges",
    ]
    .map(String::from)
    .to_vec();
    run.extend(ulimits.iter().flat_map(Ulimits::args));
    // The image's own user, stated so that no engine default can replace it.
    run.extend([
        "--user".into(),
        format!("{}:{}", r.image.user.uid, r.image.user.gid),
    ]);
    // Writable folders stay writable on a read-only root as anonymous volumes (the engine
    // copies the image's folder, owner included, into each).
    for w in &r.image.writable {
        run.extend(["--volume".into(), w.clone()]);
    }
    run
}

/// The engine's arguments for `recipe`'s smoke test in a container (pure). `host_port` is the
/// free port a service is published on, or the port of a client app's server; `ulimits` the
/// container's resource limits (none: the engine's defaults).
pub fn plan(
    r: &Recipe,
    container: &str,
    host_port: u16,
    ulimits: Option<Ulimits>,
) -> Result<Plan, ContainerError> {
    let s = r.smoke.as_ref().ok_or_else(|| ContainerError::NoSmoke {
        name: r.name.clone(),
    })?;
    let mut run = hardened(r, container, ulimits);
    let fill = |a: &String| a.replace(PORT_PLACEHOLDER, &host_port.to_string());
    let kind = match Form::of(s) {
        Form::Service(svc) => {
            let proto = match svc.listen {
                Listen::Tcp => "tcp",
                Listen::Udp => "udp",
            };
            let port = r
                .image
                .ports
                .iter()
                .find_map(|p| p.strip_suffix(&format!("/{proto}")))
                .ok_or_else(|| ContainerError::NoPort {
                    name: r.name.clone(),
                    proto,
                })?;
            run.extend([
                "--publish".into(),
                format!("127.0.0.1:{host_port}:{port}/{proto}"),
            ]);
            // The same port of the other protocol too (DNS answers on both): `{port}` is one
            // number for every request.
            let other = if proto == "tcp" { "udp" } else { "tcp" };
            if r.image.ports.contains(&format!("{port}/{other}")) {
                run.extend([
                    "--publish".into(),
                    format!("127.0.0.1:{host_port}:{port}/{other}"),
                ]);
            }
            Kind::Service {
                listen: svc.listen,
                host_port,
                image_port: port.parse().unwrap_or(host_port),
            }
        }
        Form::Version { expect } | Form::Client { expect, .. } => {
            // The client reaches the smoke test's server on the host's 127.0.0.1. It runs the
            // smoke test's command, so with its `[smoke] env` too (a service runs the image's
            // own entrypoint and cmd, with the image's own env).
            run.extend(["--network".into(), "host".into()]);
            for (k, v) in &s.env {
                run.extend(["--env".into(), format!("{k}={v}")]);
            }
            let program = &s.command[0];
            let entry = r.image.entrypoint.first();
            let is_entry = entry.is_some_and(|e| {
                e == program || Path::new(e).file_name().and_then(|n| n.to_str()) == Some(program)
            });
            if !is_entry {
                let path = crate::recipe::load::app_program(&r.app_files, program)
                    .cloned()
                    .unwrap_or_else(|| program.clone());
                run.extend(["--entrypoint".into(), path]);
            }
            Kind::Client {
                expect: expect.to_string(),
            }
        }
    };
    let args = match kind {
        Kind::Client { .. } => s.command[1..].iter().map(fill).collect(),
        Kind::Service { .. } => Vec::new(),
    };
    Ok(Plan {
        container: container.to_string(),
        run,
        args,
        kind,
        grace: s
            .service
            .as_ref()
            .map_or(crate::recipe::DEFAULT_STOP_GRACE_SECS, |v| {
                v.stop_grace_secs
            }),
    })
}

/// Where `run` finds what it needs.
pub struct Inputs<'a> {
    pub recipe: &'a Recipe,
    pub engine: &'a Engine,
    /// OUT/NAME/NAME-VERSION.oci.tar.
    pub archive: &'a Path,
    /// OUT/NAME/bin/ARCH/: the app files a `run` request names.
    pub bin: &'a Path,
    /// How long to wait for the port, and for each request.
    pub timeout: Duration,
}

/// Loads, starts, probes and stops; how it passed, or why it failed.
pub fn run(i: &Inputs) -> Result<Passed, ContainerError> {
    let r = i.recipe;
    let smoke_err = |source| ContainerError::Smoke {
        name: r.name.clone(),
        source,
    };
    let image = i.engine.load(i.archive)?;
    let container = format!("recipe-test-{}-{}", r.name, std::process::id());
    i.engine.remove(&container);
    let form = r.smoke.as_ref().map(Form::of);
    let listen = match form {
        Some(Form::Service(svc)) => Some(svc.listen),
        _ => None,
    };
    // A client app's server, or a free port to publish a service on.
    let server = match form {
        Some(Form::Client {
            serve: Serve::Http, ..
        }) => Some(
            super::serve::HttpServer::start(
                r.smoke.as_ref().map(|s| s.file_bytes()).unwrap_or_default(),
            )
            .map_err(|source| SmokeError::Spawn {
                command: "an HTTP server on 127.0.0.1".into(),
                source,
            })
            .map_err(smoke_err)?,
        ),
        _ => None,
    };
    let port = match (&server, listen) {
        (Some(s), _) => s.port(),
        (None, Some(l)) => service::free_port(l)
            .map_err(|source| SmokeError::Spawn {
                command: "a free port on 127.0.0.1".into(),
                source,
            })
            .map_err(smoke_err)?,
        (None, None) => 0,
    };
    // podman's limits within ours; docker's containers take the daemon's.
    let ulimits = (!i.engine.is_docker()).then(|| Ulimits::within(Hard::of_this_process()));
    let p = plan(r, &container, port, ulimits)?;
    let mut args = p.run.clone();
    args.push(image.clone());
    args.extend(p.args.iter().cloned());
    let command = format!("{} {}", i.engine.program.display(), args.join(" "));
    let outcome = i
        .engine
        .run(&args, ENGINE_TIMEOUT)
        .map_err(|e| rlimit_explained(e.into(), ulimits))
        .and_then(|_| match &p.kind {
            Kind::Service {
                listen,
                host_port,
                image_port,
            } => probe_service(i, &p, &command, *listen, (*host_port, *image_port))
                .map_err(smoke_err),
            Kind::Client { expect } => Ok(wait_client(i, &p, &command, expect)),
        });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            i.engine.remove(&container);
            return Err(e);
        }
    };
    let result = match outcome {
        Ok(summary) => Ok(summary),
        Err(mut failure) => {
            failure.output = i.engine.logs(&container);
            Err(ContainerError::Failed {
                name: r.name.clone(),
                failure: Box::new(failure),
            })
        }
    };
    i.engine.remove(&container);
    result
}

/// An engine failure to set a resource limit, as [`ContainerError::Rlimit`]; any other error
/// as it is.
fn rlimit_explained(e: ContainerError, asked: Option<Ulimits>) -> ContainerError {
    match e {
        ContainerError::Engine { command, detail } if ulimit::is_rlimit_failure(&detail) => {
            ContainerError::Rlimit {
                resource: ulimit::rlimit_name(&detail).unwrap_or("resource"),
                asked: asked.map_or(
                    "no limits (docker's containers take the daemon's)".into(),
                    |u| format!("{} (within this process's hard limits)", u.describe()),
                ),
                detail: format!("`{command}` failed: {detail}"),
            }
        }
        e => e,
    }
}

fn failure(
    step: &str,
    command: &str,
    sent: impl Into<Wire>,
    received: impl Into<Wire>,
    reason: String,
) -> ServiceFailure {
    ServiceFailure {
        step: step.into(),
        command: command.into(),
        sent: sent.into(),
        received: received.into(),
        reason,
        output: String::new(),
    }
}

/// Sends the requests (the first one again while nothing comes back, until the timeout: a
/// published port may accept before the app listens; a `wait` one until it passes), then stops
/// the container.
fn probe_service(
    i: &Inputs,
    p: &Plan,
    command: &str,
    listen: Listen,
    (port, image_port): (u16, u16),
) -> Result<Result<Passed, ServiceFailure>, SmokeError> {
    let r = i.recipe;
    let svc = r
        .smoke
        .as_ref()
        .and_then(|s| s.service.as_ref())
        .expect("a service");
    let program = |name: &str| {
        crate::recipe::load::app_program(&r.app_files, name)
            .and_then(|f| Path::new(f).file_name())
            .map(|n| i.bin.join(n))
    };
    let cwd = tempfile::tempdir().map_err(|source| SmokeError::Spawn {
        command: "a scratch folder".into(),
        source,
    })?;
    let host = Arch::host().unwrap_or(Arch::Amd64);
    let env = client_env(r);
    let target = Target {
        port,
        // As the app is addressed when its port is published on the same number (`-p
        // 8080:8080`): an app that checks the Host header's port (qBittorrent) answers.
        host_port: image_port,
        timeout: Duration::from_secs(5).min(i.timeout),
        arch: host,
        program: &program,
        place: super::Place::Host {
            cwd: cwd.path(),
            env: &env,
        },
        net: &crate::sandbox::Net::Host,
        cookies: Default::default(),
        output: &|| i.engine.output(&p.container),
        captured: Default::default(),
    };
    let deadline = Instant::now() + i.timeout;
    let mut answered = 0;
    for (n, req) in svc.requests.iter().enumerate() {
        let step = format!("request {} ({})", n + 1, service::kind(&req.request));
        if let Err((sent, miss)) = service::send(&target, req, deadline, n == 0)? {
            return Ok(Err(failure(
                &step,
                command,
                sent,
                miss.received,
                miss.reason,
            )));
        }
        answered += 1;
    }
    // `stop -t GRACE` sends SIGTERM, then SIGKILL after GRACE; a kill is exit status 137.
    let stop = i.engine.run(
        &[
            "stop".into(),
            "-t".into(),
            p.grace.to_string(),
            p.container.clone(),
        ],
        Duration::from_secs(p.grace + 60),
    );
    let code = exit_code(i, &p.container);
    match (stop, code) {
        (Ok(_), Some(c)) if c != 137 => Ok(Ok(Passed::Served {
            by: By::Container,
            requests: answered,
            listen,
            port,
            stopped: format!("exit status {c}"),
            sandboxed: false,
        })),
        (stop, code) => Ok(Err(failure(
            "stop",
            command,
            "SIGTERM",
            Wire::default(),
            match stop {
                Err(e) => e.to_string(),
                Ok(_) => format!(
                    "the container did not exit within {} s of SIGTERM and was killed (exit status {})",
                    p.grace,
                    code.map_or("unknown".into(), |c| c.to_string())
                ),
            },
        ))),
    }
}

/// The environment of a `run` request's client on this machine: the image's `env`, then
/// `[smoke] env`, as under `--no-sandbox`.
fn client_env(r: &Recipe) -> Vec<(String, String)> {
    let image = r.image.env.iter().map(|(k, v)| (k.clone(), v.clone()));
    let smoke = r.smoke.as_ref().map(|s| s.env.clone()).unwrap_or_default();
    super::root::host_env(&super::root::env(image.collect(), &smoke))
}

fn exit_code(i: &Inputs, container: &str) -> Option<i32> {
    i.engine
        .run(
            &[
                "inspect".into(),
                "--format".into(),
                "{{.State.ExitCode}}".into(),
                container.into(),
            ],
            Duration::from_secs(60),
        )
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A client app runs to its end; its logs must contain `expect`.
fn wait_client(
    i: &Inputs,
    p: &Plan,
    command: &str,
    expect: &str,
) -> Result<Passed, ServiceFailure> {
    let deadline = Instant::now() + i.timeout;
    let code = loop {
        let running = i
            .engine
            .run(
                &[
                    "inspect".into(),
                    "--format".into(),
                    "{{.State.Running}}".into(),
                    p.container.clone(),
                ],
                Duration::from_secs(60),
            )
            .map(|s| s.trim() == "true")
            .unwrap_or(false);
        if !running {
            break exit_code(i, &p.container);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let ran = Ran {
        command: command.to_string(),
        expect: expect.to_string(),
        output: i.engine.logs(&p.container),
        end: code.map_or(End::Running(i.timeout), End::Exited),
        status: None,
    };
    match ran.end {
        End::Exited(status) if ran.passed() => Ok(Passed::ContainerRan {
            args: p.args.join(" "),
            status,
            expect: expect.to_string(),
        }),
        _ => Err(failure(
            "run",
            command,
            Wire::default(),
            ran.output.clone(),
            ran.how(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(smoke_and_image: &str) -> Recipe {
        let text = format!(
            "name = \"demo\"\nversion = \"1.0\"\nlicense = \"MIT\"\nhomepage = \"https://example.invalid\"\n\
             [source]\npath = \"src\"\n[build]\nsystem = \"make\"\n\
             [app]\nfiles = [\"/usr/local/bin/demo\", \"/usr/local/bin/demo-cli\"]\n{smoke_and_image}"
        );
        crate::recipe::parse(Path::new("/r/demo.toml"), &text).unwrap()
    }

    const SERVICE: &str = "[smoke]\ncommand = [\"demo\", \"-p\", \"{port}\"]\nlisten = \"udp\"\nstop-grace = 3\n\
        [[smoke.request]]\ndns = { name = \"a.test\", address = \"10.0.0.1\" }\n";

    #[test]
    fn a_service_is_published_hardened_on_both_protocols_of_its_port() {
        let r = recipe(&format!(
            "{SERVICE}[image]\nports = [5353, \"5353/udp\"]\nuser = \"101:102\"\nwritable = [\"/data\"]\n"
        ));
        let p = plan(&r, "c1", 40000, None).unwrap();
        assert_eq!(
            p.run.join(" "),
            "run -d --name c1 --read-only --cap-drop all --security-opt no-new-privileges \
             --user 101:102 --volume /data --publish 127.0.0.1:40000:5353/udp \
             --publish 127.0.0.1:40000:5353/tcp"
        );
        assert!(p.args.is_empty());
        assert_eq!(p.grace, 3);
        assert_eq!(
            p.kind,
            Kind::Service {
                listen: Listen::Udp,
                host_port: 40000,
                image_port: 5353,
            }
        );
    }

    #[test]
    fn the_limits_asked_for_are_passed_as_ulimits() {
        let r = recipe(&format!("{SERVICE}[image]\nports = [\"5353/udp\"]\n"));
        let limits = Ulimits::within(Hard {
            nofile: Some(20000),
            nproc: None,
            pid_max: Some(32768),
        });
        let p = plan(&r, "c1", 40000, Some(limits)).unwrap();
        assert!(
            p.run.join(" ").starts_with(
                "run -d --name c1 --read-only --cap-drop all --security-opt no-new-privileges \
                 --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --user 1000:1000"
            ),
            "{:?}",
            p.run
        );
        // The engine's failure to set one is explained with what was asked.
        let e = rlimit_explained(
            ContainerError::Engine {
                command: "podman run".into(),
                detail: "exit status 126: error setting rlimit type 7: operation not permitted"
                    .into(),
            },
            Some(limits),
        );
        assert_eq!(
            e.to_string(),
            "the container engine could not set the container's RLIMIT_NOFILE (nofile) limit: \
             `podman run` failed: exit status 126: error setting rlimit type 7: operation not \
             permitted"
        );
        let ContainerError::Rlimit { asked, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            asked,
            "nofile=20000:20000, nproc=32768:32768 (within this process's hard limits)"
        );
    }

    #[test]
    fn a_service_without_a_port_of_its_protocol_is_refused() {
        let r = recipe(&format!("{SERVICE}[image]\nports = [5353]\n"));
        assert!(matches!(
            plan(&r, "c1", 40000, None),
            Err(ContainerError::NoPort { proto: "udp", .. })
        ));
    }

    #[test]
    fn a_client_runs_on_the_host_network_through_its_own_program() {
        let r = recipe(
            "[smoke]\ncommand = [\"demo-cli\", \"get\", \"http://127.0.0.1:{port}/x\"]\n\
             serve = \"http\"\nfiles = [\"x\"]\nexpect = \"hello\"\n",
        );
        let p = plan(&r, "c2", 41000, None).unwrap();
        let run = p.run.join(" ");
        assert!(
            run.ends_with("--network host --entrypoint /usr/local/bin/demo-cli"),
            "{run}"
        );
        assert_eq!(p.args, ["get", "http://127.0.0.1:41000/x"]);
        assert_eq!(
            p.kind,
            Kind::Client {
                expect: "hello".into()
            }
        );
        // The entrypoint's own program needs no --entrypoint.
        let r = recipe("[smoke]\ncommand = [\"demo\", \"--version\"]\nexpect = \"demo 1\"\n");
        assert!(
            !plan(&r, "c3", 0, None)
                .unwrap()
                .run
                .contains(&"--entrypoint".into())
        );
    }

    /// A client app's container runs the smoke command with `[smoke] env`; a service's runs
    /// the image as it is. `run` clients on this machine get the image's env and `[smoke] env`.
    #[test]
    fn the_smoke_env_goes_to_a_client_container_and_to_run_clients() {
        let r = recipe(
            "[smoke]\ncommand = [\"demo\", \"--version\"]\nexpect = \"demo 1\"\n\
             env = { DEMO_MODE = \"check\", TZ = \"UTC\" }\n",
        );
        let run = plan(&r, "c", 0, None).unwrap().run.join(" ");
        assert!(
            run.ends_with("--network host --env DEMO_MODE=check --env TZ=UTC"),
            "{run}"
        );
        let service = SERVICE.replace(
            "stop-grace = 3\n",
            "stop-grace = 3\nenv = { DEMO_MODE = \"check\" }\n",
        );
        let r = recipe(&format!(
            "{service}[image]\nports = [\"5353/udp\"]\nenv = {{ MODE = \"prod\", DEMO_MODE = \"x\" }}\n"
        ));
        assert!(
            !plan(&r, "c", 1, None)
                .unwrap()
                .run
                .contains(&"--env".into())
        );
        assert_eq!(
            client_env(&r),
            [
                ("DEMO_MODE".to_string(), "check".to_string()),
                ("MODE".to_string(), "prod".to_string())
            ]
        );
    }

    #[test]
    fn a_recipe_without_a_smoke_test_is_refused() {
        let r = recipe("");
        assert!(matches!(
            plan(&r, "c", 1, None),
            Err(ContainerError::NoSmoke { .. })
        ));
    }
}
