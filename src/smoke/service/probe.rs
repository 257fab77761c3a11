//! The requests of a service smoke test, each against 127.0.0.1:port, each returning what was
//! received, or why the answer is wrong ([`Miss`]).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use super::dns;
use crate::recipe::DnsKind;
use crate::sandbox::Net;

/// At most this much of an answer is read (the rest is dropped).
pub const MAX_ANSWER: usize = 64 * 1024;

/// A wrong or missing answer: what came back (its bytes, shown escaped by
/// [`crate::smoke::outcome::Wire`]), and why it does not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    pub received: Vec<u8>,
    pub reason: String,
}

fn miss(received: &[u8], reason: impl Into<String>) -> Miss {
    Miss {
        received: received.to_vec(),
        reason: reason.into(),
    }
}

fn local(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)
}

/// How a request reaches the app's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Tcp,
    Udp,
}

/// A connection to the app's port: a TCP stream, or a UDP socket connected to it.
enum Conn {
    Tcp(std::net::TcpStream),
    Udp(std::net::UdpSocket),
}

impl Conn {
    fn open(net: &Net, over: Over, port: u16, timeout: Duration) -> Result<Conn, Miss> {
        match over {
            Over::Tcp => net
                .connect(local(port), timeout)
                .map(Conn::Tcp)
                .map_err(|e| miss(b"", format!("cannot connect: {e}"))),
            Over::Udp => {
                let s = net
                    .udp(local(0))
                    .map_err(|e| miss(b"", format!("no UDP socket: {e}")))?;
                s.connect(local(port))
                    .map_err(|e| miss(b"", format!("cannot send: {e}")))?;
                Ok(Conn::Udp(s))
            }
        }
    }

    fn send(&mut self, data: &[u8], timeout: Duration) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => {
                s.set_write_timeout(Some(timeout)).ok();
                s.write_all(data)
            }
            Conn::Udp(s) => s.send(data).map(|_| ()),
        }
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => {
                s.set_read_timeout(Some(timeout)).ok();
                s.read(buf)
            }
            Conn::Udp(s) => {
                s.set_read_timeout(Some(timeout)).ok();
                s.recv(buf)
            }
        }
    }
}

/// Connects to the app's port over `over`, sends `send`, and reads until `done` says the
/// answer is complete, the peer closes, [`MAX_ANSWER`] bytes, or `timeout`. Over UDP the
/// answer is one datagram, and none is a miss; over TCP a read error ends the answer.
pub(crate) fn exchange(
    net: &Net,
    over: Over,
    port: u16,
    send: &[u8],
    timeout: Duration,
    done: impl Fn(&[u8]) -> bool,
) -> Result<Vec<u8>, Miss> {
    let mut conn = Conn::open(net, over, port, timeout)?;
    conn.send(send, timeout)
        .map_err(|e| miss(b"", format!("cannot send: {e}")))?;
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < MAX_ANSWER && !done(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match conn.recv(&mut buf, left) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n.min(MAX_ANSWER - got.len())]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if over == Over::Udp => return Err(miss(b"", format!("no answer: {e}"))),
            Err(_) => break,
        }
    }
    Ok(got)
}

/// Raw TCP: the answer contains `expect`.
pub fn tcp(
    net: &Net,
    port: u16,
    send: &[u8],
    expect: &[u8],
    timeout: Duration,
) -> Result<String, Miss> {
    let got = exchange(net, Over::Tcp, port, send, timeout, |g| {
        memchr::memmem::find(g, expect).is_some()
    })?;
    if memchr::memmem::find(&got, expect).is_none() {
        return Err(miss(
            &got,
            format!(
                "the answer does not contain {}",
                crate::smoke::outcome::Wire::from(expect)
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

/// The request line and headers of an HTTP/1.1 request that closes the connection. A path in
/// a proxy's absolute form (`http://example.test/x`) is sent as it is, its authority the
/// `Host`; an origin-form path names the app at 127.0.0.1:`port`.
pub fn http_request(
    method: &str,
    path: &str,
    port: u16,
    form: Option<&str>,
    cookies: &Cookies,
) -> String {
    let (host, target) = match crate::recipe::http_target(path) {
        Some((authority, target)) => (authority.to_string(), target),
        None => (format!("127.0.0.1:{port}"), path.to_string()),
    };
    let mut r = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: recipe-smoke\r\n\
         Accept: */*\r\nConnection: close\r\n"
    );
    if !cookies.is_empty() {
        let pairs: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        r.push_str(&format!("Cookie: {}\r\n", pairs.join("; ")));
    }
    match form {
        Some(f) => r.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{f}",
            f.len()
        )),
        None => r.push_str("\r\n"),
    }
    r
}

/// The cookies a smoke test keeps between its HTTP requests: name -> value.
pub type Cookies = std::collections::BTreeMap<String, String>;

/// Remembers the `Set-Cookie` name=value pairs of an HTTP answer's headers in `jar`.
/// A cookie set empty or already expired (`Max-Age=0`) is dropped from the jar.
pub fn keep_cookies(raw: &[u8], jar: &mut Cookies) {
    let Some(end) = memchr::memmem::find(raw, b"\r\n\r\n") else {
        return;
    };
    for line in String::from_utf8_lossy(&raw[..end]).split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        let mut attrs = value.split(';');
        let pair = attrs.next().unwrap_or("").trim();
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || value.chars().any(char::is_control) {
            continue;
        }
        let expired = attrs.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        if v.is_empty() || expired {
            jar.remove(k);
        } else {
            jar.insert(k.to_string(), v.to_string());
        }
    }
}

/// The status code and the (de-chunked) body of an HTTP/1.x answer.
pub fn parse_http(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let head_end = memchr::memmem::find(raw, b"\r\n\r\n").ok_or("no end of the headers")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let status_line = head.lines().next().unwrap_or("");
    let mut parts = status_line.split(' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(format!("no status line: {status_line:?}"));
    };
    let status = code
        .parse::<u16>()
        .ok()
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or_else(|| format!("not an HTTP/1 status line: {status_line:?}"))?;
    let body = &raw[head_end + 4..];
    let chunked = head.lines().skip(1).any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        },
    ))
}

/// A chunked body's data (as far as it goes: a cut-off answer gives what arrived).
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = memchr::memmem::find(b, b"\r\n") {
        let size = String::from_utf8_lossy(&b[..eol]);
        let size = size.split(';').next().unwrap_or("").trim();
        let Ok(n) = usize::from_str_radix(size, 16) else {
            break;
        };
        let data = &b[eol + 2..];
        if n == 0 {
            break;
        }
        out.extend_from_slice(&data[..n.min(data.len())]);
        b = data.get(n + 2..).unwrap_or(&[]);
    }
    out
}

/// HTTP: the answer has `status` and its body contains `body`.
/// The request is [`http_request`]'s; the cookies the answer sets are kept in `jar`.
pub fn http(
    net: &Net,
    port: u16,
    request: &str,
    status: u16,
    body: &str,
    timeout: Duration,
    jar: &mut Cookies,
) -> Result<String, Miss> {
    let got = exchange(net, Over::Tcp, port, request.as_bytes(), timeout, |_| false)?;
    keep_cookies(&got, jar);
    let (code, data) = parse_http(&got).map_err(|r| miss(&got, r))?;
    if code != status {
        return Err(miss(&got, format!("status {code}, expected {status}")));
    }
    if memchr::memmem::find(&data, body.as_bytes()).is_none() {
        return Err(miss(&got, format!("the body does not contain {body:?}")));
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

/// DNS over UDP: the answer holds `address`. Returns the addresses it holds.
pub fn dns(
    net: &Net,
    port: u16,
    name: &str,
    kind: DnsKind,
    address: std::net::IpAddr,
    timeout: Duration,
) -> Result<String, Miss> {
    let id = (std::process::id() as u16) ^ port;
    let q = dns::query(id, name, kind);
    // One datagram is the whole answer.
    let raw = exchange(net, Over::Udp, port, &q, timeout, |g| !g.is_empty())?;
    let got = dns::answer(&raw, id, kind).map_err(|r| miss(&raw, r))?;
    let shown = got
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if !got.contains(&address) {
        return Err(Miss {
            received: format!("addresses [{shown}]").into_bytes(),
            reason: format!("the answer does not hold {address}"),
        });
    }
    Ok(format!("addresses [{shown}]"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};

    /// A server that answers one connection with `answer` after reading the request.
    fn one_shot(answer: &'static [u8]) -> u16 {
        let l = TcpListener::bind(local(0)).unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            s.write_all(answer).unwrap();
        });
        port
    }

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn tcp_passes_on_the_expected_text_and_shows_what_came_back_otherwise() {
        assert!(tcp(&Net::Host, one_shot(b"+PONG\r\n"), b"PING\r\n", b"+PONG", T).is_ok());
        let m = tcp(
            &Net::Host,
            one_shot(b"-ERR unknown\r\n"),
            b"PING\r\n",
            b"+PONG",
            T,
        )
        .unwrap_err();
        assert_eq!(m.received, b"-ERR unknown\r\n");
        assert!(m.reason.contains("+PONG"), "{m:?}");
    }

    /// A server that reads exactly `want` and answers `answer`, or closes without one.
    fn exact(want: &'static [u8], answer: &'static [u8]) -> u16 {
        let l = TcpListener::bind(local(0)).unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = vec![0u8; want.len()];
            if s.read_exact(&mut got).is_ok() && got == want {
                s.write_all(answer).unwrap();
            }
        });
        port
    }

    /// MQTT's CONNECT and CONNACK: bytes that are not text, sent and expected as they are; a
    /// miss keeps the bytes that came back, and says what was expected escaped.
    #[test]
    fn tcp_sends_and_expects_bytes_that_are_not_text() {
        const CONNECT: &[u8] = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00";
        let port = exact(CONNECT, b"\x20\x02\x00\x00");
        assert!(tcp(&Net::Host, port, CONNECT, b"\x20\x02\x00\x00", T).is_ok());
        let port = exact(CONNECT, b"\x20\x02\x00\x05\xff");
        let m = tcp(&Net::Host, port, CONNECT, b"\x20\x02\x00\x00", T).unwrap_err();
        assert_eq!(m.received, b"\x20\x02\x00\x05\xff");
        assert_eq!(m.reason, "the answer does not contain \" \\u{2}\\0\\0\"");
    }

    const GET: &str = "GET / HTTP/1.1\r\n\r\n";

    #[test]
    fn http_checks_status_and_body() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert!(
            http(
                &Net::Host,
                one_shot(ok),
                GET,
                200,
                "hell",
                T,
                &mut Cookies::new()
            )
            .is_ok()
        );
        let m = http(
            &Net::Host,
            one_shot(ok),
            GET,
            204,
            "",
            T,
            &mut Cookies::new(),
        )
        .unwrap_err();
        assert!(m.reason.contains("status 200, expected 204"), "{m:?}");
        let m = http(
            &Net::Host,
            one_shot(ok),
            GET,
            200,
            "bye",
            T,
            &mut Cookies::new(),
        )
        .unwrap_err();
        assert!(
            m.reason.contains("body") && memchr::memmem::find(&m.received, b"hello").is_some(),
            "{m:?}"
        );
        let m = http(
            &Net::Host,
            one_shot(b"+PONG\r\n"),
            GET,
            200,
            "",
            T,
            &mut Cookies::new(),
        )
        .unwrap_err();
        assert!(m.reason.contains("headers"), "{m:?}");
    }

    #[test]
    fn http_parsing_reads_chunked_bodies() {
        let raw = b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n";
        assert_eq!(parse_http(raw).unwrap(), (404, b"hello".to_vec()));
        assert!(parse_http(b"SSH-2.0 x\r\n\r\n").is_err());
    }

    /// A forward proxy is asked in the absolute form, the URL's authority as the `Host`; a
    /// URL without a path asks for `/`.
    #[test]
    fn a_proxy_request_names_the_url_and_its_host() {
        let r = http_request(
            "GET",
            "http://example.test/x?y=1",
            8888,
            None,
            &Cookies::new(),
        );
        assert!(
            r.starts_with("GET http://example.test/x?y=1 HTTP/1.1\r\nHost: example.test\r\n"),
            "{r}"
        );
        let r = http_request("HEAD", "http://a.test:81", 8888, None, &Cookies::new());
        assert!(
            r.starts_with("HEAD http://a.test:81/ HTTP/1.1\r\nHost: a.test:81\r\n"),
            "{r}"
        );
        // The bytes on the wire, as a proxy listening on the app's port reads them.
        let l = TcpListener::bind(local(0)).unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied")
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let sent = http_request("GET", "http://example.test/x", port, None, &Cookies::new());
        http(
            &Net::Host,
            port,
            &sent,
            200,
            "proxied",
            T,
            &mut Cookies::new(),
        )
        .unwrap();
        let seen = seen.join().unwrap();
        assert!(
            seen.starts_with("GET http://example.test/x HTTP/1.1\r\nHost: example.test\r\n"),
            "{seen}"
        );
    }

    #[test]
    fn the_http_request_names_host_and_closes() {
        let r = http_request("HEAD", "/x?y=1", 8080, None, &Cookies::new());
        assert!(
            r.starts_with("HEAD /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"),
            "{r}"
        );
        assert!(r.ends_with("Connection: close\r\n\r\n"));
    }

    #[test]
    fn a_form_is_sent_with_its_length_and_the_kept_cookies_go_back() {
        let mut jar = Cookies::new();
        keep_cookies(
            b"HTTP/1.1 200 OK\r\nset-cookie: SID=abc/+=; HttpOnly; path=/\r\n\
              Set-Cookie: lang=en\r\nX: Set-Cookie: no=pe\r\n\r\nSet-Cookie: body=no",
            &mut jar,
        );
        assert_eq!(
            jar.iter().collect::<Vec<_>>(),
            [
                (&"SID".to_string(), &"abc/+=".to_string()),
                (&"lang".to_string(), &"en".to_string())
            ]
        );
        // A cookie emptied or expired is dropped; one holding a control character (a CR that
        // would start a header of its own) is never kept; a body's lines are not headers.
        keep_cookies(
            b"HTTP/1.1 200 OK\r\nSet-Cookie: gone=x\r\nSet-Cookie: a=b\rX-Evil: 1\r\n\
              Set-Cookie: z=1\0\r\n\r\n",
            &mut jar,
        );
        keep_cookies(
            b"HTTP/1.1 200 OK\r\nSet-Cookie: gone=; Max-Age=0\r\n\r\n",
            &mut jar,
        );
        keep_cookies(b"HTTP/1.1 200 OK\nSet-Cookie: bare=lf\n\nx", &mut jar);
        assert_eq!(jar.keys().collect::<Vec<_>>(), ["SID", "lang"]);
        let r = http_request("POST", "/login", 80, Some("user=a&pass=b"), &jar);
        assert!(r.contains("\r\nCookie: SID=abc/+=; lang=en\r\n"), "{r}");
        assert!(
            r.ends_with(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\nuser=a&pass=b"
            ),
            "{r}"
        );
    }

    /// A UDP server that answers one query with `addr` (an A record) and the response code.
    fn dns_server(addr: [u8; 4], rcode: u8) -> u16 {
        let s = UdpSocket::bind(local(0)).unwrap();
        let port = s.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (n, from) = s.recv_from(&mut buf).unwrap();
            let mut r = buf[..n].to_vec();
            r[2] = 0x81;
            r[3] = 0x80 | rcode;
            r[7] = 1;
            r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            r.extend_from_slice(&addr);
            s.send_to(&r, from).unwrap();
        });
        port
    }

    #[test]
    fn dns_finds_the_address_or_says_what_came_back() {
        let want = "10.1.2.3".parse().unwrap();
        let ok = dns(
            &Net::Host,
            dns_server([10, 1, 2, 3], 0),
            "a.test",
            DnsKind::A,
            want,
            T,
        )
        .unwrap();
        assert_eq!(ok, "addresses [10.1.2.3]");
        let m = dns(
            &Net::Host,
            dns_server([10, 9, 9, 9], 0),
            "a.test",
            DnsKind::A,
            want,
            T,
        )
        .unwrap_err();
        assert_eq!(m.received, b"addresses [10.9.9.9]");
        let m = dns(
            &Net::Host,
            dns_server([10, 1, 2, 3], 3),
            "a.test",
            DnsKind::A,
            want,
            T,
        )
        .unwrap_err();
        assert!(m.reason.contains("code 3"), "{m:?}");
    }
}
