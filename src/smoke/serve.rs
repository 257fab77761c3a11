//! The server a client app's smoke test talks to (`[smoke] serve = "http"`): HTTP/1.1 on a
//! free port of 127.0.0.1, answering `GET /PATH` (and `HEAD`) with the smoke file PATH, every
//! other path with 404. It runs while the command runs and remembers what it was asked, so a
//! failure can say whether the app reached it at all.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Requests remembered for a failure's message (the rest are counted, not kept).
const MAX_LOGGED: usize = 20;

/// A running server; dropped (or [`HttpServer::stop`]ped) it stops.
pub struct HttpServer {
    server: Arc<tiny_http::Server>,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves `files` (relative path, bytes) on a free port of 127.0.0.1.
    pub fn start(files: Vec<(String, Vec<u8>)>) -> std::io::Result<HttpServer> {
        let l = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
        HttpServer::on(l, files)
    }

    /// Serves `files` on `listener` (one a smoke sandbox made: the app's network).
    pub fn on(
        listener: std::net::TcpListener,
        files: Vec<(String, Vec<u8>)>,
    ) -> std::io::Result<HttpServer> {
        let server = tiny_http::Server::from_listener(listener, None)
            .map(Arc::new)
            .map_err(std::io::Error::other)?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| std::io::Error::other("the server has no TCP address"))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (server, log) = (server.clone(), log.clone());
            std::thread::spawn(move || serve(&server, &files, &log))
        };
        Ok(HttpServer {
            server,
            port,
            log,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops serving and gives back what was asked: one line per request (`GET /x -> 200`).
    pub fn stop(mut self) -> Vec<String> {
        self.shut();
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn shut(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shut();
    }
}

fn serve(server: &tiny_http::Server, files: &[(String, Vec<u8>)], log: &Mutex<Vec<String>>) {
    // `incoming_requests` ends when the server is unblocked.
    for request in server.incoming_requests() {
        let method = request.method().clone();
        let url = request.url().to_string();
        let path = url.split(['?', '#']).next().unwrap_or("");
        let found = path
            .strip_prefix('/')
            .and_then(|p| files.iter().find(|(rel, _)| rel == p));
        let (status, body) = match (&method, found) {
            (tiny_http::Method::Get | tiny_http::Method::Head, Some((_, bytes))) => {
                (200, bytes.clone())
            }
            (tiny_http::Method::Get | tiny_http::Method::Head, None) => {
                (404, b"not found\n".to_vec())
            }
            _ => (405, b"method not allowed\n".to_vec()),
        };
        {
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            if log.len() < MAX_LOGGED {
                log.push(format!(
                    "{method} {} -> {status}",
                    crate::text::escape(&url)
                ));
            }
        }
        let response = tiny_http::Response::from_data(body).with_status_code(status);
        // A client that hangs up early is the app's failure, seen in its own output.
        let _ = request.respond(response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smoke::service::probe::{Over, exchange};

    fn get(port: u16, path: &str) -> String {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let timeout = std::time::Duration::from_secs(10);
        let got = exchange(
            &crate::sandbox::Net::Host,
            Over::Tcp,
            port,
            request.as_bytes(),
            timeout,
            |_| false,
        )
        .unwrap();
        String::from_utf8(got).unwrap()
    }

    #[test]
    fn serves_the_files_and_remembers_the_requests() {
        let server =
            HttpServer::start(vec![("dir/hello.txt".into(), b"hello there\n".to_vec())]).unwrap();
        let port = server.port();
        let ok = get(port, "/dir/hello.txt?x=1");
        assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
        assert!(ok.ends_with("hello there\n"), "{ok}");
        let missing = get(port, "/nope");
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        assert_eq!(
            server.stop(),
            vec!["GET /dir/hello.txt?x=1 -> 200", "GET /nope -> 404"]
        );
    }
}
