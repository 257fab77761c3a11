//! What a recipe's names, versions, image users and paths may be: pure checks, shared by the
//! loader ([`super::load`]) and the `--user` option. Each returns the reason a value is refused
//! and a help line saying what is allowed.

use super::model::User;

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
/// Where the image's SBOM lives (`sbom::image_path`): no recipe file goes there.
pub const SBOM_FOLDER: &str = "/var/lib/db";

/// Folders the image's system and metadata live in: a writable folder is never one of them,
/// inside one, or above one (the owner of a folder can rename what it holds).
pub const SYSTEM_FOLDERS: &[&str] = &[
    "/etc",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/proc",
    "/sys",
    "/dev",
    "/var/lib/db",
];

/// A refused value: what is wrong, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub help: String,
}

fn refuse(message: String, help: &str) -> Refusal {
    Refusal {
        message,
        help: help.to_string(),
    }
}

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

/// An absolute path inside the image in normal form: starts with `/`, no empty, `.` or `..`
/// components, no control characters, one trailing `/` allowed. Returns it without the
/// trailing `/`.
pub fn image_path(p: &str, what: &str) -> Result<String, Refusal> {
    const HELP: &str = "write it as an absolute path without `.`, `..` or `//`, e.g. \"/data\"";
    let shown = crate::text::escape(p);
    if p.chars().any(char::is_control) {
        return Err(refuse(
            format!("{what} `{shown}` holds a control character"),
            "paths in the image are printable text",
        ));
    }
    let Some(rest) = p.strip_prefix('/') else {
        return Err(refuse(
            format!("{what} `{shown}` is not an absolute path inside the image"),
            HELP,
        ));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Err(refuse(
            format!("{what} cannot be the image root `/`"),
            "name a folder below it, e.g. \"/data\"",
        ));
    }
    if rest.split('/').any(|c| matches!(c, "" | "." | "..")) {
        return Err(refuse(
            format!("{what} `{shown}` is not an absolute path inside the image"),
            HELP,
        ));
    }
    Ok(format!("/{rest}"))
}

/// True when `inner` is `outer` or lies inside it (both normal absolute paths).
pub fn within(inner: &str, outer: &str) -> bool {
    inner == outer || (inner.starts_with(outer) && inner.as_bytes().get(outer.len()) == Some(&b'/'))
}

/// A folder the app user may write: a normal absolute path (see [`image_path`]) that is not
/// a system folder, inside one or above one ([`SYSTEM_FOLDERS`]), and not a program of the
/// image (`programs`: the app files and the entrypoint), inside one or a folder holding one
/// (the app could replace its own binary). Returns the normal form.
pub fn writable(p: &str, programs: &[String]) -> Result<String, Refusal> {
    const HELP: &str = "a writable folder is a data folder of the app's own, e.g. \"/data\" or \
         \"/var/lib/app\"; not /, /etc, /usr, /bin, /sbin, /lib, /lib64, /proc, /sys, /dev or \
         /var/lib/db, and not a folder that holds an app file";
    let path = image_path(p, "writable folder")?;
    let shown = crate::text::escape(&path);
    if let Some(sys) = SYSTEM_FOLDERS
        .iter()
        .find(|s| within(&path, s) || within(s, &path))
    {
        let how = if path == *sys {
            "is".to_string()
        } else if within(&path, sys) {
            format!("is inside `{sys}`, which is")
        } else {
            format!("holds `{sys}`, which is")
        };
        return Err(refuse(
            format!("writable folder `{shown}` {how} a system folder"),
            HELP,
        ));
    }
    if let Some(f) = programs.iter().find(|f| within(f, &path)) {
        let f = crate::text::escape(f);
        let how = if *f == *shown {
            format!("`{f}` is an app file, not a folder")
        } else {
            format!("`{shown}` holds the app file `{f}`: the app could replace it")
        };
        return Err(refuse(format!("writable folder {how}"), HELP));
    }
    if let Some(f) = programs.iter().find(|f| within(&path, f)) {
        return Err(refuse(
            format!(
                "writable folder `{shown}` is inside the app file `{}`",
                crate::text::escape(f)
            ),
            HELP,
        ));
    }
    Ok(path)
}

/// The names a build option may use as `${NAME}`; planning gives each its value
/// ([`crate::plan::systems`]) and puts it in the build's environment too.
pub const VARIABLES: &[&str] = &[
    "DESTDIR", "PREFIX", "JOBS", "TRIPLE", "ARCH", "SRC", "SYSROOT", "CC", "CXX", "AR", "RANLIB",
    "STRIP",
];

/// Every `${NAME}` of `text`, in order, with its byte range in `text`. A `${` without a closing
/// `}` is plain text.
pub fn variables(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("${") {
        let start = at + i;
        let Some(j) = text[start + 2..].find('}') else {
            break;
        };
        let end = start + 2 + j + 1;
        out.push((start..end, &text[start + 2..end - 1]));
        at = end;
    }
    out
}

/// A build option's text: every `${NAME}` in it is one of [`VARIABLES`].
pub fn known_variables(text: &str) -> Result<(), Refusal> {
    match variables(text)
        .into_iter()
        .find(|(_, name)| !VARIABLES.contains(name))
    {
        None => Ok(()),
        Some((_, name)) => Err(Refusal {
            message: format!(
                "unknown variable `${{{}}}` in `{}`",
                crate::text::escape(name),
                crate::text::escape(text)
            ),
            help: format!(
                "a build option may use {}",
                VARIABLES
                    .iter()
                    .map(|v| format!("`${{{v}}}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// A path beside the recipe (`[[image.file]] from`): relative, inside the recipe's folder,
/// normal (no empty, `.` or `..` component), printable. Returns it as written.
pub fn beside_recipe(p: &str) -> Result<String, Refusal> {
    const HELP: &str = "name a file in the recipe's folder or below it, e.g. \"nginx/nginx.conf\"";
    let shown = crate::text::escape(p);
    if p.is_empty() {
        return Err(refuse("the file name is empty".into(), HELP));
    }
    if p.chars().any(char::is_control) {
        return Err(refuse(
            format!("file `{shown}` holds a control character"),
            "file names in recipes are printable text",
        ));
    }
    if p.starts_with('/') {
        return Err(refuse(
            format!("file `{shown}` is an absolute path, not one beside the recipe"),
            HELP,
        ));
    }
    if p.split('/').any(|c| c == "..") {
        return Err(refuse(
            format!("file `{shown}` leads out of the recipe's folder"),
            HELP,
        ));
    }
    if p.split('/').any(|c| matches!(c, "" | ".")) {
        return Err(refuse(
            format!("file `{shown}` is not a normal path (no `.`, `//` or trailing `/`)"),
            HELP,
        ));
    }
    Ok(p.to_string())
}

/// The mode of an image file, as an octal string (`"0644"`, `"644"`, `"0o644"`): permission
/// bits only, never setuid, setgid or sticky, never writable by others.
pub fn file_mode(s: &str) -> Result<u32, Refusal> {
    const HELP: &str = "write the permission bits in octal, e.g. \"0644\" or \"0640\"; no setuid, \
         setgid or sticky bit and not writable by others";
    let shown = crate::text::escape(s);
    let digits = s.strip_prefix("0o").unwrap_or(s);
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return Err(refuse(format!("`{shown}` is not an octal file mode"), HELP));
    }
    let mode = u32::from_str_radix(digits, 8).expect("octal digits");
    if mode & 0o7000 != 0 {
        return Err(refuse(
            format!("mode `{shown}` sets the setuid, setgid or sticky bit"),
            HELP,
        ));
    }
    if mode & 0o002 != 0 {
        return Err(refuse(
            format!("mode `{shown}` makes the file writable by everyone"),
            HELP,
        ));
    }
    Ok(mode)
}

/// An image file's owner and mode together: a root-owned file must be readable by others
/// (the app runs as its own user, and as any `--user`), a user-owned one must lie inside one
/// of the image's `writable` folders (the only place the app writes).
pub fn file_owner(
    to: &str,
    mode: u32,
    user_owned: bool,
    writable: &[String],
) -> Result<(), Refusal> {
    let shown = crate::text::escape(to);
    if user_owned {
        if !writable.iter().any(|w| to != w && within(to, w)) {
            return Err(refuse(
                format!("`{shown}` is owned by the user but lies in no writable folder"),
                "a file the app rewrites goes inside a folder listed in [image] `writable`; \
                 otherwise leave it owned by root",
            ));
        }
        if mode & 0o400 == 0 {
            return Err(refuse(
                format!("`{shown}` is owned by the user, who may not read it (mode {mode:04o})"),
                "give the owner read permission, e.g. \"0600\"",
            ));
        }
    } else if mode & 0o004 == 0 {
        return Err(refuse(
            format!(
                "`{shown}` is owned by root and the app user may not read it (mode {mode:04o})"
            ),
            "the app runs as its own user: give others read permission, e.g. \"0644\", or set \
             owner = \"user\" inside a writable folder",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn writable_folders() {
        let programs = vec!["/opt/app/bin/app".to_string()];
        assert_eq!(writable("/data/", &programs).unwrap(), "/data");
        assert_eq!(writable("/var/lib/app", &programs).unwrap(), "/var/lib/app");
        assert_eq!(writable("/tmp", &programs).unwrap(), "/tmp");
        assert_eq!(
            writable("/opt/app/data", &programs).unwrap(),
            "/opt/app/data"
        );
        assert_eq!(writable("/etcetera", &programs).unwrap(), "/etcetera");
        for (bad, says) in [
            ("/", "cannot be the image root"),
            ("//", "cannot be the image root"),
            ("data", "not an absolute path"),
            ("/a/../etc", "not an absolute path"),
            ("/a/./b", "not an absolute path"),
            ("/a//b", "not an absolute path"),
            ("/da\0ta", "control character"),
            ("/etc", "`/etc` is a system folder"),
            ("/etc/passwd", "is inside `/etc`"),
            ("/usr/local/bin", "is inside `/usr`"),
            ("/lib64", "is a system folder"),
            ("/var", "holds `/var/lib/db`"),
            ("/var/lib/db/sbom", "is inside `/var/lib/db`"),
            ("/opt/app/bin", "holds the app file `/opt/app/bin/app`"),
            ("/opt", "holds the app file"),
            ("/opt/app/bin/app", "is an app file, not a folder"),
            ("/opt/app/bin/app/x", "is inside the app file"),
        ] {
            let r = writable(bad, &programs).unwrap_err();
            assert!(r.message.contains(says), "{bad}: {}", r.message);
        }
    }

    #[test]
    fn variables_are_found_and_checked() {
        let found = variables("a${DESTDIR}b${X}${");
        assert_eq!(found, vec![(1..11, "DESTDIR"), (12..16, "X")]);
        assert!(known_variables("PREFIX=${DESTDIR}/usr ${PREFIX} $HOME ${").is_ok());
        let r = known_variables("-I${NOPE}/include").unwrap_err();
        assert_eq!(
            r.message,
            "unknown variable `${NOPE}` in `-I${NOPE}/include`"
        );
        assert!(r.help.contains("`${SYSROOT}`"), "{}", r.help);
    }
}

#[cfg(test)]
mod image_file_tests {
    use super::*;

    #[test]
    fn file_modes_are_octal_and_safe() {
        for (s, m) in [
            ("0644", 0o644),
            ("644", 0o644),
            ("0o600", 0o600),
            ("0755", 0o755),
        ] {
            assert_eq!(file_mode(s), Ok(m), "{s}");
        }
        for s in [
            "",
            "0o",
            "08",
            "rw-r--r--",
            "00644",
            "4755",
            "2755",
            "1644",
            "0666",
            "0777",
        ] {
            assert!(file_mode(s).is_err(), "{s} accepted");
        }
    }

    #[test]
    fn files_beside_the_recipe_stay_inside_its_folder() {
        for ok in ["a.conf", "nginx/nginx.conf", "a..b", ".hidden"] {
            assert_eq!(beside_recipe(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "/etc/x",
            "../x",
            "a/../../x",
            "a/..",
            "./a",
            "a//b",
            "a/",
            "a\u{1b}b",
        ] {
            assert!(beside_recipe(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn owners_and_modes_fit_together() {
        let w = ["/data".to_string()];
        assert!(file_owner("/data/x", 0o600, true, &w).is_ok());
        assert!(file_owner("/data", 0o600, true, &w).is_err());
        assert!(file_owner("/etc/x", 0o644, true, &w).is_err());
        assert!(file_owner("/data/x", 0o044, true, &w).is_err());
        assert!(file_owner("/etc/x", 0o644, false, &w).is_ok());
        assert!(file_owner("/etc/x", 0o640, false, &w).is_err());
    }
}
