//! Recipe names (image repository components), versions (image tags), image users, make
//! targets and Go binary names.

use super::super::model::User;
use super::{Refusal, refuse};

/// The longest recipe name: it becomes an image repository component, a folder under `--out`
/// and part of file names (255 bytes at most on Linux, with suffixes added).
pub const MAX_NAME: usize = 128;
/// The longest version: the image tag is the version, and a `--user` variant's tag is
/// `VERSION-UID-GID` (up to 22 more characters), which must stay within a tag's 128.
pub const MAX_VERSION: usize = 128 - 22;
/// The longest user name, as `useradd` allows.
pub const MAX_USER_NAME: usize = 32;
/// uids and gids are below 2^31: larger ones are negative to much software, and
/// 4294967295 (`-1`) means "no change" to `chown`.
pub const MAX_ID: u32 = (1 << 31) - 1;

const NAME_HELP: &str = "a recipe name is an image name: lowercase letters and digits, \
     separated by single `.`, `_` or `__`, or by dashes, e.g. `hello-c` or `go.httpbin`";

/// A recipe name: a valid OCI repository path component,
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, at most [`MAX_NAME`] characters.
pub fn recipe_name(name: &str) -> Result<(), Refusal> {
    let shown = crate::text::escape(name);
    if name.is_empty() {
        return Err(refuse("the recipe name is empty".into(), NAME_HELP));
    }
    if name.len() > MAX_NAME {
        return Err(refuse(
            format!(
                "recipe name `{shown}` is {} bytes long, over the limit of {MAX_NAME}",
                name.len()
            ),
            NAME_HELP,
        ));
    }
    if !is_repository_component(name) {
        return Err(refuse(format!("invalid recipe name `{shown}`"), NAME_HELP));
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_repository_component(s: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        // One or more alphanumerics.
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        // A separator: `.`, `_`, `__` or one or more `-`.
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// A version the image tag can be made of: `[A-Za-z0-9_][A-Za-z0-9._-]*`, at most
/// [`MAX_VERSION`] characters.
pub fn version(v: &str) -> Result<(), Refusal> {
    const HELP: &str = "the version is the image tag: letters, digits, `_`, `.` and `-`, \
         not starting with `.` or `-`, e.g. \"7.0.15\"";
    let shown = crate::text::escape(v);
    if v.len() > MAX_VERSION {
        return Err(refuse(
            format!(
                "version `{shown}` is {} bytes long, over the limit of {MAX_VERSION}",
                v.len()
            ),
            HELP,
        ));
    }
    let tag_char = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    let ok = v
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && v.chars().all(tag_char);
    if !ok {
        return Err(refuse(
            format!("version `{shown}` is not a valid image tag"),
            HELP,
        ));
    }
    Ok(())
}

/// A user name for the image's /etc/passwd and /etc/group: `[a-z_][a-z0-9_-]*`, at most
/// [`MAX_USER_NAME`] characters (as `useradd`), and not `root` or `nogroup`; `nobody` only
/// for uid 65534.
pub fn user_name(name: &str, uid: u32) -> Result<(), Refusal> {
    const HELP: &str = "a user name is a lowercase letter or `_`, then lowercase letters, \
         digits, `_` or `-`, at most 32 characters, e.g. \"app\"";
    let shown = crate::text::escape(name);
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        return Err(refuse(format!("invalid user name `{shown}`"), HELP));
    }
    if name.len() > MAX_USER_NAME {
        return Err(refuse(
            format!(
                "user name `{shown}` is {} characters long, over the limit of {MAX_USER_NAME}",
                name.len()
            ),
            HELP,
        ));
    }
    let taken = match name {
        "root" | "nogroup" => true,
        "nobody" => uid != 65534,
        _ => false,
    };
    if taken {
        return Err(refuse(
            format!("user name `{name}` is taken by the image's own `{name}` entry"),
            "choose another name, e.g. \"app\"",
        ));
    }
    Ok(())
}

/// The image user's ids: both non-zero (not root, not group root) and at most [`MAX_ID`].
pub fn user_ids(uid: u32, gid: u32) -> Result<(), Refusal> {
    const HELP: &str = "give non-zero numeric ids below 2147483648, e.g. \"1000:1000\", \
         or `nobody`";
    if uid == 0 {
        return Err(refuse(
            format!("user `{uid}:{gid}` is root"),
            "distroless images here run as a non-root user, e.g. \"1000:1000\"",
        ));
    }
    if gid == 0 {
        return Err(refuse(
            format!("user `{uid}:{gid}` is in group root (gid 0)"),
            HELP,
        ));
    }
    for (what, id) in [("uid", uid), ("gid", gid)] {
        if id > MAX_ID {
            return Err(refuse(
                format!("{what} {id} is over the limit of {MAX_ID}"),
                HELP,
            ));
        }
    }
    Ok(())
}

/// `uid:gid` with numeric ids, or a name every image knows (`nobody` is 65534:65534, `root`
/// 0:0). Syntax only: [`user`] also checks the ids.
pub fn parse_user(s: &str) -> Option<User> {
    match s {
        "nobody" => {
            return Some(User {
                uid: 65534,
                gid: 65534,
                name: "nobody".into(),
            });
        }
        "root" => {
            return Some(User {
                uid: 0,
                gid: 0,
                name: "root".into(),
            });
        }
        _ => {}
    }
    let (u, g) = s.split_once(':')?;
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(u) || !digits(g) {
        return None;
    }
    Some(User {
        uid: u.parse().ok()?,
        gid: g.parse().ok()?,
        name: String::new(),
    })
}

/// A user given as text (a recipe's `user`, the `--user` option): [`parse_user`], then
/// [`user_ids`].
pub fn user(s: &str) -> Result<User, Refusal> {
    let Some(user) = parse_user(s) else {
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if s.split_once(':')
            .is_some_and(|(u, g)| digits(u) && digits(g))
        {
            return Err(refuse(
                format!("user `{s}` has an id over the limit of {MAX_ID}"),
                "give non-zero numeric ids below 2147483648, e.g. \"1000:1000\", or `nobody`",
            ));
        }
        return Err(refuse(
            format!(
                "user `{}` is not `uid:gid` or a known name",
                crate::text::escape(s)
            ),
            "give numeric ids, e.g. \"1000:1000\", or `nobody`",
        ));
    };
    user_ids(user.uid, user.gid).map_err(|r| Refusal {
        message: r.message.replacen(
            &format!("`{}:{}`", user.uid, user.gid),
            &format!("`{}`", crate::text::escape(s)),
            1,
        ),
        ..r
    })?;
    Ok(user)
}

/// A `--user UID:GID` option of `recipe build` refused: the same rules as a recipe's `user`.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("--user {value}: {message}")]
pub struct UserOptionError {
    value: String,
    message: String,
    #[help]
    help: String,
}

/// A `--user` option: [`user`].
pub fn user_option(s: &str) -> Result<User, UserOptionError> {
    user(s).map_err(|r| UserOptionError {
        value: crate::text::escape(s).into_owned(),
        message: r.message,
        help: r.help,
    })
}

/// A make goal in `make-targets` / `install-targets`: a plain target name, not an option
/// (`-k`), a variable assignment (`V=1`) or anything with spaces, `$` or control characters.
pub fn make_target(t: &str) -> Result<(), Refusal> {
    let help = "a make target is a plain name such as `app` or `install-app`; options and \
                `NAME=value` go in `make-args` or `install-args`";
    let shown = crate::text::escape(t);
    if t.is_empty() {
        return Err(refuse("empty make target".into(), help));
    }
    if t.starts_with('-') {
        return Err(refuse(
            format!("`{shown}` is an option, not a make target"),
            help,
        ));
    }
    if t.contains('=') {
        return Err(refuse(
            format!("`{shown}` is a variable assignment, not a make target"),
            help,
        ));
    }
    if t.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '$')
    {
        return Err(refuse(
            format!("make target `{shown}` holds a space, `$` or a control character"),
            help,
        ));
    }
    Ok(())
}

/// The name of a Go binary (`[build] packages`, `name = ...`): a plain file name of letters,
/// digits, `.`, `_`, `-` and `+`, not starting with `.` or `-`, at most 128 characters.
pub fn binary_name(n: &str) -> Result<(), Refusal> {
    let help = "a binary name is a file name such as `app` or `app-v2`: letters, digits, `.`, \
                `_`, `-` and `+`, not starting with `.` or `-`";
    let ok = !n.is_empty()
        && n.len() <= 128
        && !n.starts_with(['.', '-'])
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'));
    if !ok {
        return Err(refuse(
            format!("invalid binary name `{}`", crate::text::escape(n)),
            help,
        ));
    }
    Ok(())
}

/// A crates.io crate name: ASCII letters, digits, `_` and `-`, starting with a letter, at most
/// 64 characters (crates.io's own rule).
pub fn crate_name(n: &str) -> Result<(), Refusal> {
    let ok = n.len() <= 64
        && n.starts_with(|c: char| c.is_ascii_alphabetic())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if !ok {
        return Err(refuse(
            format!("invalid crate name `{}`", crate::text::escape(n)),
            "a crates.io name is letters, digits, `_` and `-`, starting with a letter",
        ));
    }
    Ok(())
}

/// A crate's version as semver writes it (`0.18.2+1.9.1`, `1.0.0-beta.2`), at most 64
/// characters. (It names a file to fetch and a folder to unpack into: semver's grammar lets
/// no `/` or space through.)
pub fn crate_version(v: &str) -> Result<(), Refusal> {
    // semver's grammar allows only ASCII letters, digits, `.`, `-` and `+`.
    if v.len() > 64 || semver::Version::parse(v).is_err() {
        return Err(refuse(
            format!("invalid crate version `{}`", crate::text::escape(v)),
            "a crate version is semver, such as `1.2.3`, `1.0.0-beta.2` or `0.18.2+1.9.1`",
        ));
    }
    Ok(())
}

/// A cargo feature as `--features` takes it: `name` or `dependency/name`, where each part is
/// letters, digits, `_`, `-`, `+` or `.` (cargo's own rule for feature names), not starting
/// with `-`; no space or comma, since the list is joined with commas.
pub fn cargo_feature(f: &str) -> Result<(), Refusal> {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 128
            && !p.starts_with('-')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
    };
    let ok = match f.split_once('/') {
        Some((dep, name)) => part(dep.strip_suffix('?').unwrap_or(dep)) && part(name),
        None => part(f),
    };
    if !ok {
        return Err(refuse(
            format!("invalid cargo feature `{}`", crate::text::escape(f)),
            "a feature is a name such as `tls` or `serde/derive`: letters, digits, `_`, `-`, \
             `+` and `.`",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::*;

    #[test]
    fn crate_versions_are_semver() {
        for ok in ["1.2.3", "0.18.2+1.9.1", "1.0.0-beta.2"] {
            assert!(crate_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "v1", "1/2", "../1", "1 2"] {
            assert!(crate_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cargo_features_are_names_or_dependency_features() {
        for ok in ["tls", "http2-ring", "serde/derive", "dep?/feat", "a_b.c+d"] {
            assert!(cargo_feature(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a,b", "a b", "-x", "a/", "/a", "a/b/c", "x\u{1b}"] {
            assert!(cargo_feature(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn recipe_names_are_repository_components() {
        for ok in [
            "a",
            "hello-c",
            "go.httpbin",
            "a__b",
            "a---b",
            "x1_2.3",
            "ca-certificates",
        ] {
            assert_eq!(recipe_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "..", ".", "-a", "a-", "a_", "a..b", "a___b", "a.-b", "A", "a/b", "a b", "a\0", "é",
        ] {
            assert!(recipe_name(bad).is_err(), "{bad:?}");
        }
        assert!(recipe_name(&"a".repeat(MAX_NAME)).is_ok());
        assert!(recipe_name(&"a".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn versions_are_tags() {
        for ok in ["1.0", "7.0.15", "_x", "2026.10.18", "v2-rc.1"] {
            assert_eq!(version(ok), Ok(()), "{ok}");
        }
        for bad in ["", ".1", "-1", "1:2", "1+deb", "a/b", "1 0", "1\n"] {
            assert!(version(bad).is_err(), "{bad:?}");
        }
        assert!(version(&"1".repeat(MAX_VERSION)).is_ok());
        assert!(version(&"1".repeat(MAX_VERSION + 1)).is_err());
    }

    #[test]
    fn user_names_as_useradd() {
        for ok in ["app", "_x", "a-1_b", "nobody"] {
            assert_eq!(user_name(ok, 65534), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "1a",
            "App",
            "a:b",
            "evil:x:0:0:root:/:/bin/sh\nx",
            "a b",
            "root",
        ] {
            assert!(user_name(bad, 1000).is_err(), "{bad:?}");
        }
        assert!(user_name("nobody", 1000).is_err());
        assert!(user_name(&"a".repeat(32), 1000).is_ok());
        assert!(user_name(&"a".repeat(33), 1000).is_err());
    }

    #[test]
    fn users_are_checked() {
        assert_eq!(user("1000:1000").unwrap().uid, 1000);
        assert_eq!(user("nobody").unwrap().gid, 65534);
        assert_eq!(user("2147483647:1").unwrap().uid, MAX_ID);
        for (bad, says) in [
            ("root", "user `root` is root"),
            ("0:5", "is root"),
            ("1000:0", "user `1000:0` is in group root"),
            ("4294967295:1000", "uid 4294967295 is over the limit"),
            ("1000:2147483648", "gid 2147483648 is over the limit"),
            ("+1:1", "is not `uid:gid`"),
            ("1:99999999999", "has an id over the limit"),
            ("app", "is not `uid:gid`"),
            ("1:1:1", "is not `uid:gid`"),
        ] {
            let r = user(bad).unwrap_err();
            assert!(r.message.contains(says), "{bad}: {}", r.message);
        }
    }

    #[test]
    fn make_targets_and_binary_names() {
        assert!(make_target("install-app").is_ok());
        assert!(make_target("lib/foo.a").is_ok());
        for bad in ["", "-k", "V=1", "a b", "$(X)", "a\tb"] {
            assert!(make_target(bad).is_err(), "{bad:?}");
        }
        assert!(binary_name("app-v2").is_ok());
        assert!(binary_name("example.org").is_ok());
        for bad in ["", ".x", "-x", "a/b", "..", "a b", &"a".repeat(129)] {
            assert!(binary_name(bad).is_err(), "{bad:?}");
        }
    }
}
