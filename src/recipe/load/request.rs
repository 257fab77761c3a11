//! `[[smoke.request]]`: one request of a service smoke test, exactly one of `tcp`, `http`,
//! `dns`, `run` or `output` (a regular expression, compiled here, whose named groups capture). A `tcp` request and its `expect` are read into bytes here (their escapes,
//! [`rules::unescape_bytes`]; TOML's own character escapes in a basic string refused); a `run`
//! request's `status` and an `http` path in a proxy's absolute form are checked here.

use std::ops::Range;

use toml::Spanned;

use super::{R, Validator};
use crate::recipe::model::*;
use crate::recipe::rules;
use crate::recipe::schema::{DnsTable, HttpTable, RequestTable};

impl Validator<'_> {
    pub(super) fn request(
        &self,
        r: &RequestTable,
        span: Range<usize>,
        app_files: &[String],
    ) -> R<Request> {
        let kinds = [
            r.tcp.is_some(),
            r.http.is_some(),
            r.dns.is_some(),
            r.run.is_some(),
            r.output.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(self.err(
                span,
                "a smoke request has exactly one of `tcp`, `http`, `dns`, `run`, `output`".into(),
                None,
            ));
        }
        self.request_checks(r, span)?;
        if let Some(o) = &r.output {
            return self.output_request(o);
        }
        if let Some(t) = &r.tcp {
            let expect = r
                .expect
                .as_ref()
                .expect("checked: a tcp request has expect");
            return self.tcp_request(t, expect);
        }
        if let Some(h) = &r.http {
            return self.http_request(h.get_ref());
        }
        if let Some(d) = &r.dns {
            return self.dns_request(d.get_ref());
        }
        let run = r.run.as_ref().expect("one kind is set");
        self.smoke_program(run, app_files, "the `run` command is empty")?;
        Ok(Request::Run {
            argv: run.get_ref().clone(),
            expect: r
                .expect
                .as_ref()
                .map(|e| self.nonempty_expect(e))
                .transpose()?
                .unwrap_or_default(),
            status: self.exit_status(r.status.as_ref())?,
        })
    }

    /// `expect` and `status` where the request's kind has them: `tcp` needs `expect`, `run`
    /// needs `expect` or `status` (or both), `http` and `dns` have neither.
    fn request_checks(&self, r: &RequestTable, span: Range<usize>) -> R<()> {
        if let (Some(s), None) = (&r.status, &r.run) {
            return Err(self.err(
                s.span(),
                "`status` belongs to `run` requests (the exit status of the client)".into(),
                Some(
                    "an `http` request's status goes in its table: \
                     http = { path = \"/\", status = 404 }"
                        .into(),
                ),
            ));
        }
        let (needs, help) = match (r.tcp.is_some(), r.run.is_some(), &r.expect) {
            (true, _, None) => (
                "a `tcp` request needs `expect`",
                "give what the answer must contain: expect = \"+PONG\" (bytes as `\\xNN` \
                 in a literal string: expect = '\\x20\\x02')",
            ),
            (_, true, None) if r.status.is_none() => (
                "a `run` request needs `expect` or `status`",
                "give text its output must contain (expect = \"PONG\"), the exit status it \
                 must end with (status = 0), or both",
            ),
            (false, false, Some(e)) => {
                return Err(self.err(
                    e.span(),
                    "`expect` belongs to `tcp` and `run` requests".into(),
                    Some("an `http` request checks `status` and `body`, a `dns` request its `address`".into()),
                ));
            }
            _ => return Ok(()),
        };
        Err(self.err(span, needs.into(), Some(help.into())))
    }

    /// An `output` request: its pattern compiles (within a size bound), and every named group
    /// is a placeholder name (`[a-z_][a-z0-9_]*`, not `port`) given once.
    fn output_request(&self, o: &Spanned<String>) -> R<Request> {
        let pattern = o.get_ref();
        if pattern.is_empty() {
            return Err(self.err(o.span(), "the `output` pattern is empty".into(), None));
        }
        let re = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                let detail = match e {
                    regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().to_string(),
                    other => other.to_string(),
                };
                self.err(
                    o.span(),
                    format!("the `output` pattern is not a regular expression: {detail}"),
                    Some(
                        "the syntax is Rust's regex crate's: `session: (?<password>\\S+)` \
                         captures the word after `session: ` as {password}"
                            .into(),
                    ),
                )
            })?;
        let mut names: Vec<String> = Vec::new();
        for name in re.capture_names().flatten() {
            let ok = name
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok || name == "port" {
                return Err(self.err(
                    o.span(),
                    format!("`{name}` cannot name a captured value"),
                    Some(
                        "name groups with lower-case letters, digits and `_` (not `port`, \
                         which is the smoke test's own): (?<password>\\S+)"
                            .into(),
                    ),
                ));
            }
            names.push(name.to_string());
        }
        Ok(Request::Output {
            pattern: pattern.clone(),
            names,
        })
    }

    /// A `run` request's `status`: an exit status, 0 to 255.
    fn exit_status(&self, s: Option<&Spanned<i64>>) -> R<Option<i32>> {
        let Some(s) = s else { return Ok(None) };
        match i32::try_from(*s.get_ref()) {
            Ok(code @ 0..=255) => Ok(Some(code)),
            _ => Err(self.err(
                s.span(),
                format!("exit status {} is not within 0..=255", s.get_ref()),
                None,
            )),
        }
    }

    /// A `tcp` request: what it sends and what the answer must contain, as bytes, their
    /// escapes read.
    fn tcp_request(&self, t: &Spanned<String>, expect: &Spanned<String>) -> R<Request> {
        if t.get_ref().is_empty() {
            return Err(self.err(t.span(), "the `tcp` request sends nothing".into(), None));
        }
        self.nonempty_expect(expect)?;
        Ok(Request::Tcp {
            send: self.bytes(t)?,
            expect: self.bytes(expect)?,
        })
    }

    /// The bytes a string with escapes stands for ([`rules::unescape_bytes`]); a malformed
    /// escape is pointed at itself when the string is a literal one (`'...'`, written as it
    /// is read), else at the whole string.
    fn bytes(&self, s: &Spanned<String>) -> R<Vec<u8>> {
        // TOML (1.1) reads `\xNN`, `\uNNNN` and `\UNNNNNNNN` in a basic string as a character,
        // which reaches us as its UTF-8 (`"\xff"` would send c3 bf): refused, so a byte is only
        // ever written as our own escape in a literal string.
        let raw = self.text.get(s.span()).unwrap_or_default();
        if let Some(at) = toml_char_escape(raw) {
            let start = s.span().start + at;
            return Err(self.err(
                start..start + 2,
                "a TOML character escape in a basic string (\"...\") stands for a character, not a byte"
                    .to_string(),
                Some(
                    "write the bytes in a TOML literal string ('...'), where recipe reads \\xNN as the byte NN"
                        .into(),
                ),
            ));
        }
        rules::unescape_bytes(s.get_ref()).map_err(|e| {
            let span = s.span();
            let literal =
                self.text.get(span.clone()) == Some(format!("'{}'", s.get_ref()).as_str());
            let at = match literal {
                true => span.start + 1 + e.at.start..span.start + 1 + e.at.end,
                false => span,
            };
            self.err(at, e.refusal.message, Some(e.refusal.help))
        })
    }

    fn http_request(&self, h: &HttpTable) -> R<Request> {
        // A form is a body: POST unless the recipe names another method.
        let method = h.method.as_ref().map_or(
            if h.form.is_some() { "POST" } else { "GET" }.to_string(),
            |m| m.get_ref().clone(),
        );
        if let Some(m) = &h.method
            && (m.get_ref().is_empty() || !m.get_ref().bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(self.err(
                m.span(),
                format!("HTTP method `{}` is not upper-case letters", m.get_ref()),
                Some("e.g. \"GET\", \"POST\", \"HEAD\"".into()),
            ));
        }
        let path = h.path.get_ref();
        self.http_path(&h.path)?;
        let status = match &h.status {
            None => 200,
            Some(s) if (100..=599).contains(s.get_ref()) => *s.get_ref() as u16,
            Some(s) => {
                return Err(self.err(
                    s.span(),
                    format!("HTTP status {} is not within 100..=599", s.get_ref()),
                    None,
                ));
            }
        };
        if let Some(f) = &h.form
            && (method == "GET" || method == "HEAD")
        {
            return Err(self.err(
                f.span(),
                format!("an HTTP `form` is a request body, which a {method} request has none of"),
                Some(
                    "leave `method` out (a form is sent with POST) or name POST, PUT or PATCH"
                        .into(),
                ),
            ));
        }
        if let Some(f) = &h.form
            && f.get_ref().chars().any(char::is_control)
        {
            return Err(self.err(
                f.span(),
                "an HTTP `form` holds a control character".into(),
                Some("write it URL-encoded, e.g. \"username=admin&password=a%20b\"".into()),
            ));
        }
        Ok(Request::Http {
            method,
            path: path.clone(),
            status,
            body: h.body.clone().unwrap_or_default(),
            form: h.form.as_ref().map(|f| f.get_ref().clone()),
        })
    }

    /// An HTTP request target: a path (`/x?y=1`), or a proxy's absolute form
    /// (`http://example.test/x`) with a host, no user name and no fragment; neither with a
    /// space or line break.
    fn http_path(&self, p: &Spanned<String>) -> R<()> {
        let path = p.get_ref();
        let help = "write a path starting with `/`, or for a forward proxy an absolute \
                    `http://HOST[:PORT]/PATH` URL";
        if path.contains([' ', '\r', '\n']) {
            return Err(self.err(
                p.span(),
                format!("HTTP path `{path}` holds a space or line break"),
                Some("write them URL-encoded (`%20`)".into()),
            ));
        }
        if path.starts_with('/') {
            return Ok(());
        }
        let authority_ok = |a: &str| {
            !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~:[]{}%".contains(&b))
        };
        match http_target(path) {
            Some((authority, _)) if authority_ok(authority) && !path.contains('#') => Ok(()),
            Some(_) => Err(self.err(
                p.span(),
                format!("`{path}` is not an absolute `http://` URL with a host"),
                Some(format!("{help}; no user name, no `#` fragment")),
            )),
            None if path.starts_with("https://") => Err(self.err(
                p.span(),
                format!("`{path}` is an https URL, which a proxy is asked for with CONNECT"),
                Some(help.into()),
            )),
            None => Err(self.err(
                p.span(),
                format!("HTTP path `{path}` does not start with `/` or `http://`"),
                Some(help.into()),
            )),
        }
    }

    fn dns_request(&self, d: &DnsTable) -> R<Request> {
        let name = d.name.get_ref();
        let labels_ok = name
            .trim_end_matches('.')
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.is_ascii());
        if !labels_ok || name.len() > 253 {
            return Err(self.err(
                d.name.span(),
                format!(
                    "`{name}` is not a DNS name (ASCII labels of 1 to 63 bytes, at most 253 bytes)"
                ),
                None,
            ));
        }
        let kind = match d.kind.as_ref().map(|k| k.get_ref().as_str()) {
            None | Some("A") => DnsKind::A,
            Some("AAAA") => DnsKind::Aaaa,
            Some(other) => {
                let span = d.kind.as_ref().map(Spanned::span).unwrap_or_default();
                return Err(self.err(
                    span,
                    format!("unknown DNS type `{other}`"),
                    Some("use \"A\" or \"AAAA\"".into()),
                ));
            }
        };
        let address: std::net::IpAddr = d.address.get_ref().parse().map_err(|_| {
            self.err(
                d.address.span(),
                format!("`{}` is not an IP address", d.address.get_ref()),
                None,
            )
        })?;
        if address.is_ipv4() != (kind == DnsKind::A) {
            return Err(self.err(
                d.address.span(),
                format!(
                    "`{address}` does not fit a {} record",
                    d.kind.as_ref().map_or("A", |k| k.get_ref())
                ),
                None,
            ));
        }
        Ok(Request::Dns {
            name: name.clone(),
            kind,
            address,
        })
    }
}

/// Where a TOML basic string's raw text (`"..."` or `"""..."""`, as written) uses one of TOML's
/// character escapes `\x`, `\u` or `\U`; None for a literal string or a basic one without them.
fn toml_char_escape(raw: &str) -> Option<usize> {
    if !raw.starts_with('"') {
        return None;
    }
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some((_, 'x' | 'u' | 'U')) => return Some(i),
                _ => continue,
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::recipe::{Request, parse};

    /// The requests of a service smoke test whose request tables are `requests`, or the
    /// error's `location: message`.
    fn requests(requests: &str) -> Result<Vec<Request>, String> {
        let text = format!(
            "name = \"demo\"\nversion = \"1.0\"\nlicense = \"MIT\"\n\
             homepage = \"https://example.invalid\"\n[source]\npath = \"src\"\n\
             [build]\nsystem = \"make\"\n\
             [app]\nfiles = [\"/usr/local/bin/demo\", \"/usr/local/bin/demo-cli\"]\n\
             [smoke]\ncommand = [\"demo\", \"-p\", \"{{port}}\"]\nlisten = \"tcp\"\n{requests}"
        );
        match parse(Path::new("demo.toml"), &text) {
            Ok(r) => Ok(r
                .smoke
                .unwrap()
                .service
                .unwrap()
                .requests
                .into_iter()
                .map(|r| r.request)
                .collect()),
            Err(e) => Err(format!("{}: {}", e.location, e.message)),
        }
    }

    #[test]
    fn a_run_request_may_check_its_exit_status_alone() {
        let got = requests(
            "[[smoke.request]]\nrun = [\"demo-cli\", \"ping\"]\nstatus = 0\n\
             [[smoke.request]]\nrun = [\"demo-cli\"]\nexpect = \"usage\"\nstatus = 2\n\
             [[smoke.request]]\nrun = [\"demo-cli\"]\nexpect = \"usage\"\n",
        )
        .unwrap();
        let run = |expect: &str, status| Request::Run {
            argv: vec!["demo-cli".into()],
            expect: expect.into(),
            status,
        };
        assert_eq!(
            got,
            [
                Request::Run {
                    argv: vec!["demo-cli".into(), "ping".into()],
                    expect: String::new(),
                    status: Some(0),
                },
                run("usage", Some(2)),
                run("usage", None),
            ]
        );
    }

    #[test]
    fn an_output_request_names_what_it_captures() {
        let got = requests(
            "[[smoke.request]]\noutput = 'session: (?<password>\\S+) as (?<user>\\w+)'\n\
             [[smoke.request]]\noutput = 'listening'\n",
        )
        .unwrap();
        assert_eq!(
            got,
            [
                Request::Output {
                    pattern: "session: (?<password>\\S+) as (?<user>\\w+)".into(),
                    names: vec!["password".into(), "user".into()],
                },
                Request::Output {
                    pattern: "listening".into(),
                    names: vec![],
                },
            ]
        );
    }

    #[test]
    fn status_mistakes_are_located() {
        let err = |r: &str| requests(r).unwrap_err();
        assert_eq!(
            err("[[smoke.request]]\nrun = [\"demo-cli\"]\n"),
            "demo.toml:14:1: a `run` request needs `expect` or `status`"
        );
        assert_eq!(
            err("[[smoke.request]]\nrun = [\"demo-cli\"]\nstatus = 256\n"),
            "demo.toml:16:10: exit status 256 is not within 0..=255"
        );
        assert_eq!(
            err("[[smoke.request]]\nhttp = { path = \"/\" }\nstatus = 404\n"),
            "demo.toml:16:10: `status` belongs to `run` requests (the exit status of the client)"
        );
        assert_eq!(
            err("[[smoke.request]]\ntcp = \"PING\"\n"),
            "demo.toml:14:1: a `tcp` request needs `expect`"
        );
    }

    #[test]
    fn tcp_requests_read_byte_escapes() {
        let got = requests(
            "[[smoke.request]]\ntcp = '\\x10\\x0c\\x00\\x04MQTT\\x04\\x02\\x00\\x3c\\x00\\x00'\n\
             expect = '\\x20\\x02\\x00\\x00'\n\
             [[smoke.request]]\ntcp = \"PING {port}\\r\\n\"\nexpect = \"+PONG\"\n\
             [[smoke.request]]\ntcp = \"a\\\\\\\\b\\\\x41\"\nexpect = 'C:\\\\'\n",
        )
        .unwrap();
        assert_eq!(
            got,
            [
                Request::Tcp {
                    send: b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00".to_vec(),
                    expect: b"\x20\x02\x00\x00".to_vec(),
                },
                Request::Tcp {
                    send: b"PING {port}\r\n".to_vec(),
                    expect: b"+PONG".to_vec(),
                },
                Request::Tcp {
                    send: b"a\\bA".to_vec(),
                    expect: b"C:\\".to_vec(),
                },
            ]
        );
    }

    /// In a literal string the error points at the escape itself; in a basic string (whose
    /// own escapes move the columns) at the string.
    #[test]
    fn a_malformed_escape_is_located() {
        let err = |r: &str| requests(r).unwrap_err();
        assert_eq!(
            err("[[smoke.request]]\ntcp = 'MQTT\\x0'\nexpect = 'x'\n"),
            "demo.toml:15:12: `\\x0` is not a byte escape: `\\x` takes two hex digits"
        );
        assert_eq!(
            err("[[smoke.request]]\ntcp = 'x'\nexpect = 'a\\qb'\n"),
            "demo.toml:16:12: unknown escape `\\q`"
        );
        assert_eq!(
            err("[[smoke.request]]\ntcp = \"\\tx\\\\q\"\nexpect = 'x'\n"),
            "demo.toml:15:7: unknown escape `\\q`"
        );
        assert_eq!(
            err("[[smoke.request]]\ntcp = 'x'\nexpect = '\\x'\n"),
            "demo.toml:16:11: `\\x` is not a byte escape: `\\x` takes two hex digits"
        );
        // TOML's own character escapes in a basic string would send a character's UTF-8.
        for (escape, column) in [("\\xff", 8), ("\\u00e9", 8), ("\\\\\\x41", 10)] {
            assert_eq!(
                err(&format!(
                    "[[smoke.request]]\ntcp = \"{escape}\"\nexpect = 'x'\n"
                )),
                format!(
                    "demo.toml:15:{column}: a TOML character escape in a basic string (\"...\") \
                     stands for a character, not a byte"
                )
            );
        }
    }

    #[test]
    fn an_http_path_may_be_a_proxys_absolute_url() {
        let got = requests(
            "[[smoke.request]]\nhttp = { path = \"http://example.test/x\", body = \"x\" }\n",
        )
        .unwrap();
        assert!(
            matches!(&got[0], Request::Http { path, .. } if path == "http://example.test/x"),
            "{got:?}"
        );
        let err = |path: &str| {
            requests(&format!(
                "[[smoke.request]]\nhttp = {{ path = \"{path}\" }}\n"
            ))
            .unwrap_err()
        };
        assert_eq!(
            err("https://example.test/"),
            "demo.toml:15:17: `https://example.test/` is an https URL, which a proxy is asked \
             for with CONNECT"
        );
        assert_eq!(
            err("http:///x"),
            "demo.toml:15:17: `http:///x` is not an absolute `http://` URL with a host"
        );
        assert_eq!(
            err("http://user@example.test/"),
            "demo.toml:15:17: `http://user@example.test/` is not an absolute `http://` URL \
             with a host"
        );
        assert_eq!(
            err("x/y"),
            "demo.toml:15:17: HTTP path `x/y` does not start with `/` or `http://`"
        );
        assert_eq!(
            err("/a b"),
            "demo.toml:15:17: HTTP path `/a b` holds a space or line break"
        );
    }
}
