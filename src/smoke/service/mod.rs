//! The service smoke test: start the app (natively or under qemu-user, see
//! [`super::run::runner`]) with `{port}` filled in, wait until it listens on 127.0.0.1, send
//! the recipe's requests ([`probe`]), stop it with SIGTERM and check that it exits within its
//! grace period. A failure names its step, what was sent, what came back, and the app's last
//! output lines.

pub mod dns;
pub mod probe;

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::outcome::{By, Passed, ServiceFailure};
use super::run::{Place, SmokeError, run_smoke, shown};
use crate::arch::Arch;
use crate::process::Running;
use crate::recipe::{Listen, PORT_PLACEHOLDER, Request, Service};
use crate::sandbox::Net;

/// Attempts with a fresh port when the app exits before it listens (another process may have
/// taken the port between our release of it and the app's bind).
pub const PORT_ATTEMPTS: usize = 3;
/// The app's last output lines shown with a failure.
pub const TAIL_LINES: usize = 20;

/// One service smoke test to run.
pub struct ServiceRun<'a> {
    pub arch: Arch,
    /// The app file to start (its path in the image when `place` is the image's sandbox),
    /// and its arguments (with `{port}`).
    pub binary: &'a Path,
    pub args: &'a [String],
    pub service: &'a Service,
    /// The files of [`Service::files`] as (relative path, bytes with `{port}`).
    pub files: &'a [(String, Vec<u8>)],
    /// The app's working folder on this machine (created and filled here).
    pub cwd: &'a Path,
    /// Where the app and the `run` requests' clients run.
    pub place: Place<'a>,
    /// Where the app's stdout and stderr go.
    pub log: &'a Path,
    /// The app file a `run` request names (as `binary`).
    pub program: &'a dyn Fn(&str) -> Option<PathBuf>,
    /// How long to wait for the port, and for each request.
    pub timeout: Duration,
}

/// Runs the service smoke test. `Ok(Err(_))` is a failed test, `Err` one that could not run.
pub fn run_service(r: &ServiceRun) -> Result<Result<Passed, ServiceFailure>, SmokeError> {
    let binary = r.place.check(r.binary)?;
    let mut last = None;
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port(r.service.listen).map_err(|source| SmokeError::Spawn {
            command: "a free port on 127.0.0.1".into(),
            source,
        })?;
        match attempt(r, &binary, port)? {
            Attempt::ExitedEarly(f) => last = Some(f),
            Attempt::Done(outcome) => return Ok(outcome),
        }
    }
    Ok(Err(last.expect("at least one attempt")))
}

enum Attempt {
    /// The app ended before its port opened: maybe the port was taken; try another.
    ExitedEarly(ServiceFailure),
    Done(Result<Passed, ServiceFailure>),
}

/// A port free on 127.0.0.1 right now (bound to port 0 and released).
pub fn free_port(listen: Listen) -> std::io::Result<u16> {
    let any = (Ipv4Addr::LOCALHOST, 0);
    match listen {
        Listen::Tcp => Ok(TcpListener::bind(any)?.local_addr()?.port()),
        Listen::Udp => Ok(UdpSocket::bind(any)?.local_addr()?.port()),
    }
}

fn fill(s: &str, port: u16) -> String {
    s.replace(PORT_PLACEHOLDER, &port.to_string())
}

/// Writes the smoke files into `cwd`, `{port}` filled in (in text files).
pub fn write_files(cwd: &Path, files: &[(String, Vec<u8>)], port: u16) -> Result<(), SmokeError> {
    let io = |path: &Path, source| SmokeError::Spawn {
        command: format!("writing `{}`", crate::text::path(path)),
        source,
    };
    std::fs::create_dir_all(cwd).map_err(|e| io(cwd, e))?;
    for (rel, bytes) in files {
        let dest = cwd.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let data = match std::str::from_utf8(bytes) {
            Ok(text) => fill(text, port).into_bytes(),
            Err(_) => bytes.clone(), // not text: copied as it is
        };
        std::fs::write(&dest, data).map_err(|e| io(&dest, e))?;
    }
    Ok(())
}

/// Starts the app (in a new smoke sandbox when `place` says so: then `recipe` reaches it
/// through the returned [`Net`]).
fn start(r: &ServiceRun, binary: &Path, port: u16) -> Result<(Running, String, Net), SmokeError> {
    write_files(r.cwd, r.files, port)?;
    let args: Vec<String> = r.args.iter().map(|a| fill(a, port)).collect();
    let argv = r.place.argv(r.arch, binary, &args)?;
    let command = shown(&argv);
    let spawn_err = |source| SmokeError::Spawn {
        command: command.clone(),
        source,
    };
    let (net, theirs) = match r.place {
        Place::Image { jail, .. } => {
            jail.hand_over(r.cwd).map_err(spawn_err)?;
            let (net, theirs) = Net::pair().map_err(spawn_err)?;
            (net, Some(theirs))
        }
        Place::Host { .. } => (Net::Host, None),
    };
    let log = std::fs::File::create(r.log).map_err(spawn_err)?;
    let mut cmd = r.place.command(&argv, theirs.as_ref());
    cmd.stdout(log.try_clone().map_err(spawn_err)?).stderr(log);
    let mut running = crate::process::spawn(&mut cmd).map_err(spawn_err)?;
    // Only the sandbox holds its end now: its end closing is the sandbox ending.
    drop(theirs);
    if let Err(e) = net.go() {
        let _ = running.kill();
        return Err(spawn_err(e));
    }
    Ok((running, command, net))
}

fn attempt(r: &ServiceRun, binary: &Path, port: u16) -> Result<Attempt, SmokeError> {
    let (mut app, command, net) = start(r, binary, port)?;
    let fail = |step: String, sent: Vec<u8>, received: Vec<u8>, reason: String| ServiceFailure {
        step,
        command: command.clone(),
        sent: sent.into(),
        received: received.into(),
        reason,
        output: tail(r.log),
    };
    let what = match r.service.listen {
        Listen::Tcp => format!("tcp port {port}"),
        Listen::Udp => format!("udp port {port}"),
    };
    match wait_ready(&mut app, &net, r.service.listen, port, r.timeout) {
        Ready::Yes => {}
        Ready::Exited(status) => {
            let reason = format!("the app exited ({status}) before it listened on {what}");
            return Ok(Attempt::ExitedEarly(fail(
                "start".into(),
                Vec::new(),
                Vec::new(),
                reason,
            )));
        }
        Ready::Timeout => {
            let _ = app.kill();
            let reason = format!("nothing listened on {what} within {:?}", r.timeout);
            return Ok(Attempt::Done(Err(fail(
                "start".into(),
                Vec::new(),
                Vec::new(),
                reason,
            ))));
        }
    }
    let mut done = Vec::new();
    let target = Target {
        port,
        host_port: port,
        timeout: r.timeout,
        arch: r.arch,
        program: r.program,
        place: r.place,
        net: &net,
        cookies: Default::default(),
        output: &|| read_output(r.log),
        captured: Default::default(),
    };
    let deadline = Instant::now() + r.timeout;
    for (i, req) in r.service.requests.iter().enumerate() {
        let step = format!("request {} ({})", i + 1, kind(&req.request));
        match send(&target, req, deadline, false)? {
            Ok(_) => done.push(step),
            Err((sent, miss)) => {
                let _ = app.kill();
                return Ok(Attempt::Done(Err(fail(
                    step,
                    sent,
                    miss.received,
                    miss.reason,
                ))));
            }
        }
    }
    let grace = Duration::from_secs(r.service.stop_grace_secs);
    let (status, in_time) = app.terminate(grace).map_err(|source| SmokeError::Spawn {
        command: command.clone(),
        source,
    })?;
    if !in_time {
        let reason = format!("the app did not exit within {grace:?} of SIGTERM and was killed");
        return Ok(Attempt::Done(Err(fail(
            "stop".into(),
            b"SIGTERM".to_vec(),
            Vec::new(),
            reason,
        ))));
    }
    Ok(Attempt::Done(Ok(Passed::Served {
        by: By::App(command),
        requests: done.len(),
        listen: r.service.listen,
        port,
        stopped: status.to_string(),
        sandboxed: matches!(r.place, Place::Image { .. }),
    })))
}

/// The request's kind, as the recipe names it.
pub fn kind(r: &Request) -> &'static str {
    match r {
        Request::Tcp { .. } => "tcp",
        Request::Http { .. } => "http",
        Request::Dns { .. } => "dns",
        Request::Run { .. } => "run",
        Request::Output { .. } => "output",
    }
}

/// Where requests go: the app's port on 127.0.0.1, and how a `run` request's client runs.
pub struct Target<'a> {
    pub port: u16,
    /// The port HTTP requests name in their `Host` header: `port`, or in a container test the
    /// image's own port (as if published on the same number).
    pub host_port: u16,
    /// How long each request may take.
    pub timeout: Duration,
    /// The arch the clients are built for (run natively or under qemu-user).
    pub arch: Arch,
    /// The app file a `run` request names (a path in the image when `place` is its sandbox).
    pub program: &'a dyn Fn(&str) -> Option<PathBuf>,
    /// Where the clients run: in the app's sandbox (joined), or on this machine.
    pub place: Place<'a>,
    /// How the app's port is reached.
    pub net: &'a Net,
    /// Cookies the app set, sent back on the following HTTP requests (a login, then an API).
    pub cookies: std::cell::RefCell<probe::Cookies>,
    /// The app's output so far (stdout and stderr, or a container's log), for `output`
    /// requests.
    pub output: &'a dyn Fn() -> String,
    /// What `output` requests captured: `{NAME}` and its text, filled into later requests.
    pub captured: std::cell::RefCell<Vec<(String, String)>>,
}

impl Target<'_> {
    /// `s` with `{port}` and every captured `{NAME}` filled in as captured (a `run` argument).
    fn fill(&self, s: &str) -> String {
        fill_captured(s, self.port, &self.captured.borrow(), false)
    }

    /// `s` with `{port}` and every captured `{NAME}` filled in percent-encoded (an HTTP path or
    /// form: a captured `&`, `+` or space stays part of its value).
    fn fill_url(&self, s: &str) -> String {
        fill_captured(s, self.port, &self.captured.borrow(), true)
    }

    /// Bytes (a `tcp` request) with `{port}` and every captured `{NAME}` filled in.
    fn fill_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = fill_bytes(bytes, PORT_PLACEHOLDER, self.port.to_string().as_bytes());
        for (name, value) in self.captured.borrow().iter() {
            out = fill_bytes(&out, &format!("{{{name}}}"), value.as_bytes());
        }
        out
    }
}

/// `s` with `{port}` and each captured `{NAME}`, percent-encoded when `url` (all but RFC 3986's
/// unreserved characters).
fn fill_captured(s: &str, port: u16, captured: &[(String, String)], url: bool) -> String {
    let mut out = fill(s, port);
    for (name, value) in captured {
        let value = match url {
            true => crate::text::percent_encode(value, crate::text::UNRESERVED),
            false => value.clone(),
        };
        out = out.replace(&format!("{{{name}}}"), &value);
    }
    out
}

/// What a request did: `Ok(answer)`, or (what was sent, what came back and why it fails).
pub type Answer = Result<String, (Vec<u8>, probe::Miss)>;

/// Sends `req`, again (every quarter second, until `deadline`) while it fails and it has
/// `wait`, or, with `while_silent`, while nothing came back (a published port that accepts
/// before the app listens). `Err` only when a client cannot be started.
pub fn send(
    t: &Target,
    req: &crate::recipe::SmokeRequest,
    deadline: Instant,
    while_silent: bool,
) -> Result<Answer, SmokeError> {
    loop {
        let a = request(t, &req.request)?;
        let again = match &a {
            Ok(_) => false,
            Err((_, miss)) => req.wait || (while_silent && miss.received.is_empty()),
        };
        if !again || Instant::now() >= deadline {
            return Ok(a);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Sends one request (`{port}` filled in). `Err` only when a client cannot be started.
pub fn request(t: &Target, req: &Request) -> Result<Answer, SmokeError> {
    let port = t.port;
    let timeout = t.timeout;
    Ok(match req {
        Request::Tcp { send, expect } => {
            let send = t.fill_bytes(send);
            probe::tcp(t.net, port, &send, expect, timeout).map_err(|m| (send, m))
        }
        Request::Http {
            method,
            path,
            status,
            body,
            form,
        } => {
            let path = t.fill_url(path);
            let form = form.as_ref().map(|f| t.fill_url(f));
            let mut jar = t.cookies.borrow_mut();
            let sent = probe::http_request(method, &path, t.host_port, form.as_deref(), &jar);
            probe::http(t.net, port, &sent, *status, body, timeout, &mut jar)
                .map_err(|m| (sent.into_bytes(), m))
        }
        Request::Dns {
            name,
            kind,
            address,
        } => probe::dns(t.net, port, name, *kind, *address, timeout)
            .map_err(|m| (format!("{name} {kind:?} over udp").into_bytes(), m)),
        Request::Run {
            argv,
            expect,
            status,
        } => return run_client(t, argv, expect, *status),
        Request::Output { pattern, .. } => output(t, pattern),
    })
}

/// An `output` request: the app's output so far must match `pattern`; its named groups are
/// kept for the requests after it.
fn output(t: &Target, pattern: &str) -> Answer {
    let sent = format!("(the app's output, for /{pattern}/)").into_bytes();
    // Checked when the recipe loaded.
    let re = match regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
    {
        Ok(re) => re,
        Err(e) => {
            let reason = format!("the pattern is not a regular expression: {e}");
            return Err((
                sent,
                probe::Miss {
                    received: Vec::new(),
                    reason,
                },
            ));
        }
    };
    let text = (t.output)();
    let Some(caps) = re.captures(&text) else {
        let reason = "no part of the app's output matches the pattern".to_string();
        let received = last_lines(&text, TAIL_LINES).as_bytes().to_vec();
        return Err((sent, probe::Miss { received, reason }));
    };
    let mut captured = t.captured.borrow_mut();
    for name in re.capture_names().flatten() {
        let value = caps.name(name).map_or("", |m| m.as_str()).to_string();
        captured.retain(|(n, _)| n != name);
        captured.push((name.to_string(), value));
    }
    Ok(caps[0].to_string())
}

/// `bytes` with each `placeholder` replaced by `value`.
fn fill_bytes(bytes: &[u8], placeholder: &str, value: &[u8]) -> Vec<u8> {
    let at = placeholder.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(i) = memchr::memmem::find(rest, at) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(value);
        rest = &rest[i + at.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// A `run` request's client, at the app's place; it passes with `expect` in its output and,
/// when `status` says one, that exit status.
fn run_client(
    t: &Target,
    argv: &[String],
    expect: &str,
    status: Option<i32>,
) -> Result<Answer, SmokeError> {
    let args: Vec<String> = argv[1..].iter().map(|a| t.fill(a)).collect();
    let program =
        (t.program)(&argv[0]).ok_or_else(|| SmokeError::MissingBinary(argv[0].clone().into()))?;
    // In the app's sandbox, the client joins it: its 127.0.0.1 is the app's.
    let place = match t.place {
        Place::Image { jail, .. } => {
            let pid = t.net.init_pid().map_err(|source| SmokeError::Spawn {
                command: "the pid of the app's sandbox".into(),
                source,
            })?;
            Place::Image { jail, join: pid }
        }
        host => host,
    };
    let o = super::outcome::Ran {
        status,
        ..run_smoke(t.arch, &program, &args, expect, place, t.timeout)?
    };
    if o.passed() {
        return Ok(Ok(o.output));
    }
    let reason = o.reason();
    Ok(Err((
        o.command.into_bytes(),
        probe::Miss {
            received: last_lines(&o.output, TAIL_LINES).as_bytes().to_vec(),
            reason,
        },
    )))
}

enum Ready {
    Yes,
    Exited(std::process::ExitStatus),
    Timeout,
}

/// Polls until the port is open, the app exits, or `timeout` passed.
fn wait_ready(app: &mut Running, net: &Net, listen: Listen, port: u16, timeout: Duration) -> Ready {
    let deadline = Instant::now() + timeout;
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    loop {
        let open = match listen {
            Listen::Tcp => net.connect(addr, Duration::from_millis(200)).is_ok(),
            Listen::Udp => udp_bound(net, port),
        };
        if open {
            return Ready::Yes;
        }
        match app.wait_timeout(Duration::from_millis(50)) {
            Ok(Some(status)) => return Ready::Exited(status),
            Ok(None) if Instant::now() < deadline => {}
            _ => return Ready::Timeout,
        }
    }
}

/// Whether some socket is bound to UDP `port` in `net`'s network namespace (from its
/// `/proc/.../net/udp` and `udp6`: UDP has no connection to try; an emulated app's sockets are
/// the namespace's).
fn udp_bound(net: &Net, port: u16) -> bool {
    let want = format!(":{port:04X}");
    let Ok(dir) = net.proc_net() else {
        return false;
    };
    ["udp", "udp6"].iter().any(|f| {
        std::fs::read_to_string(dir.join(f)).is_ok_and(|t| {
            t.lines()
                .skip(1)
                .filter_map(|l| l.split_whitespace().nth(1))
                .any(|local| local.ends_with(&want))
        })
    })
}

/// The last `n` lines of `text`, each with its line break.
fn last_lines(text: &str, n: usize) -> &str {
    let body = text.strip_suffix('\n').unwrap_or(text);
    match body.rmatch_indices('\n').nth(n.saturating_sub(1)) {
        Some((i, _)) if n > 0 => &text[i + 1..],
        _ if n == 0 => "",
        _ => text,
    }
}

/// The last [`TAIL_LINES`] lines of the app's output.
/// The app's output so far, as text (its first [`MAX_OUTPUT`] bytes).
fn read_output(log: &Path) -> String {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Ok(f) = std::fs::File::open(log) {
        let _ = f.take(MAX_OUTPUT).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The bytes of an app's output an `output` request reads.
pub const MAX_OUTPUT: u64 = 4 << 20;

fn tail(log: &Path) -> String {
    crate::text::file_tail(log, TAIL_LINES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_bindable_and_placeholders_filled() {
        let p = free_port(Listen::Tcp).unwrap();
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok());
        assert_eq!(fill("127.0.0.1:{port} -p {port}", 7), "127.0.0.1:7 -p 7");
        assert_eq!(
            fill_bytes(b"\x00{port}\xff{port", PORT_PLACEHOLDER, b"8080"),
            b"\x008080\xff{port"
        );
    }

    /// A captured value goes into a URL or form percent-encoded, into an argument as it is.
    #[test]
    fn captured_values_are_encoded_for_urls_only() {
        let captured = [("password".to_string(), "a&b c+d".to_string())];
        assert_eq!(
            fill_captured("user=admin&pass={password}&p={port}", 80, &captured, true),
            "user=admin&pass=a%26b%20c%2Bd&p=80"
        );
        assert_eq!(
            fill_captured("--pass={password}", 80, &captured, false),
            "--pass=a&b c+d"
        );
        // A name nothing captured stays as written (JSON braces in a form, say).
        assert_eq!(fill_captured("{other}", 80, &captured, true), "{other}");
    }

    /// A failed `run` client's output is shown by its last lines.
    #[test]
    fn the_last_lines_of_a_clients_output_are_kept() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(last_lines("a\nb\nc", 2), "b\nc");
        assert_eq!(last_lines("a\nb\n", 5), "a\nb\n");
        assert_eq!(last_lines("one line", 1), "one line");
        assert_eq!(last_lines("a\nb", 0), "");
        assert_eq!(last_lines("", 3), "");
    }

    #[test]
    fn a_bound_udp_port_is_seen() {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = s.local_addr().unwrap().port();
        assert!(udp_bound(&Net::Host, port));
        drop(s);
        assert!(!udp_bound(&Net::Host, port));
    }

    #[test]
    fn the_tail_is_the_last_lines() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("log");
        let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, text).unwrap();
        let t = tail(&log);
        assert!(t.starts_with("line 31\n") && t.ends_with("line 50"), "{t}");
    }
}
