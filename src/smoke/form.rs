//! What a recipe's `[smoke]` asks for, as one of its three forms.

use crate::recipe::{Serve, Service, Smoke};

/// The form of a recipe's smoke test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form<'a> {
    /// `--version`: the command runs to its end and its output contains `expect`.
    Version { expect: &'a str },
    /// A client app: the same, while a server of the smoke files answers on `{port}`.
    Client { expect: &'a str, serve: Serve },
    /// A service: the app starts, listens on `{port}`, answers the requests and stops on
    /// SIGTERM within its grace period.
    Service(&'a Service),
}

impl<'a> Form<'a> {
    /// The form `s` asks for (the recipe loader lets only one of them through).
    pub fn of(s: &'a Smoke) -> Form<'a> {
        match (&s.service, s.serve) {
            (Some(service), _) => Form::Service(service),
            (None, Some(serve)) => Form::Client {
                expect: &s.expect,
                serve,
            },
            (None, None) => Form::Version { expect: &s.expect },
        }
    }
}
