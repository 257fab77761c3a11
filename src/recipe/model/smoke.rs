//! `[smoke]` as the model holds it: the command, the service form, its files and requests.

use std::collections::BTreeMap;
#[derive(Debug, Clone)]
pub struct Smoke {
    /// argv; the first element is an app file (absolute path in the image, or a file name
    /// among the app files). In the service form, `{port}` in an argument is the chosen port.
    pub command: Vec<String>,
    /// The `--version` form: text the output must contain (empty in the service form).
    pub expect: String,
    /// The `--version` form: seconds before the command is killed. The service form: seconds
    /// to wait for the port, and for each request.
    pub timeout_secs: u64,
    /// Paths relative to the recipe's folder, written (with `{port}` filled in) to the same
    /// relative paths in the app's working folder; with `serve`, also what the server serves.
    pub files: Vec<SmokeFile>,
    /// The `--version` form: a server on 127.0.0.1 `{port}` for a client app to talk to.
    pub serve: Option<Serve>,
    /// The service form: the app keeps running and answers requests.
    pub service: Option<Service>,
    /// Variables the app needs in its smoke test, over the image's `env`.
    pub env: BTreeMap<String, String>,
}

impl Smoke {
    /// The smoke files as (relative path, bytes as read beside the recipe); `{port}` is filled
    /// in where they are written (`smoke::service::write_files`).
    pub fn file_bytes(&self) -> Vec<(String, Vec<u8>)> {
        self.files
            .iter()
            .map(|f| (f.path.clone(), f.contents.clone().unwrap_or_default()))
            .collect()
    }
}

/// A server the smoke test runs for a client app (curl, a downloader) while its command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// HTTP/1.1 on `{port}`: `GET /PATH` answers the smoke file PATH (with `{port}` filled in).
    Http,
}

/// A service smoke test: start the app, wait for `{port}`, send requests, stop it with SIGTERM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub listen: Listen,
    /// Seconds the app has to exit after SIGTERM.
    pub stop_grace_secs: u64,
    pub requests: Vec<SmokeRequest>,
}

/// A file beside the recipe for a service smoke test, with where the recipe names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeFile {
    pub path: String,
    pub span: std::ops::Range<usize>,
    /// The file's bytes, read by `recipe::load_file` (no symlink on the way, a regular file,
    /// capped); `None` for a recipe parsed from text only.
    pub contents: Option<Vec<u8>>,
}

/// The protocol the app's port is probed with before the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Tcp,
    Udp,
}

/// One step of a service smoke test, and whether to send it again until it passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeRequest {
    pub request: Request,
    /// `wait = true`: sent again until it passes, within the smoke test's `timeout` (a server
    /// that listens before it is ready: routes loaded after the port opens).
    pub wait: bool,
}

/// What a service smoke test sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Send these bytes over TCP (`{port}` filled in); the answer must contain `expect`. Both
    /// as written with their escapes read ([`crate::recipe::rules::unescape_bytes`]).
    Tcp { send: Vec<u8>, expect: Vec<u8> },
    /// An HTTP/1.1 request; the answer has `status` and its body contains `body`.
    Http {
        method: String,
        /// The request target: an origin-form path (`/x?y`), or a proxy's absolute form
        /// (`http://example.test/x`), whose authority is then the `Host`
        /// ([`http_target`]).
        path: String,
        status: u16,
        body: String,
        /// Sent as an `application/x-www-form-urlencoded` body (`{port}` filled in).
        form: Option<String>,
    },
    /// A DNS query over UDP; the answer holds `address`.
    Dns {
        name: String,
        kind: DnsKind,
        address: std::net::IpAddr,
    },
    /// Run an app file (under the same emulator); its output must contain `expect` (empty:
    /// anything) and, when `status` says one, it must exit with that status.
    Run {
        argv: Vec<String>,
        expect: String,
        status: Option<i32>,
    },
    /// The app's output so far (stdout and stderr; a container's log) must match `pattern`, a
    /// regular expression; the text of each named group `(?<NAME>...)` then stands for
    /// `{NAME}` in the requests after this one (a password the app prints at its first start).
    Output { pattern: String, names: Vec<String> },
}

/// An HTTP request's target split for its request line and `Host` header: the authority of an
/// absolute-form target (`http://example.test:8080/x` -> `example.test:8080`) and the target as
/// sent (`/` added when the URL has no path), or None for an origin-form path.
pub fn http_target(path: &str) -> Option<(&str, String)> {
    let rest = path.strip_prefix("http://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let target = match tail.starts_with('/') {
        true => path.to_string(),
        false => format!("http://{authority}/{tail}"),
    };
    Some((authority, target))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsKind {
    A,
    Aaaa,
}

/// Default seconds a service smoke test's app has to exit after SIGTERM.
pub const DEFAULT_STOP_GRACE_SECS: u64 = 10;
/// The placeholder for the chosen port in a service smoke test's arguments, files and requests.
pub const PORT_PLACEHOLDER: &str = "{port}";
