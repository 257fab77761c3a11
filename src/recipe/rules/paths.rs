//! Paths of an image and beside a recipe: image paths in normal form, writable folders (never
//! system folders or a folder holding an app file), files beside the recipe and their modes
//! and owners.

use super::{Refusal, refuse};

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
