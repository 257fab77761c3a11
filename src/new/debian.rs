//! A first recipe from a Debian source package: the version (asked for, or the newest of the
//! newest release among the configured suites), its upstream tarball and Debian's part with
//! their sha256 from the suites' signed Sources indexes ([`crate::archive`]), fetched from the
//! pool and checked through the source store; the build system from the unpacked tree;
//! `[app] files`, the smoke test guess and the libraries from the binary packages when this
//! machine has apt (`apt-get download`, `dpkg-deb -R`: the programs under `/usr/sbin` and
//! `/usr/bin`, their DT_NEEDED and the package's `Depends`).

use std::path::Path;

use super::system::{draft_build, finish_script_switches};
use super::{Draft, NewError, apply_mapping, io_err, map_libraries};
use crate::archive::Indexes;
use crate::debian::index::SourceEntry;
use crate::debian::version;
use crate::source::{DebianSource, Fetch, Origin, Store};

/// `recipe new NAME --debian [VERSION] [--binary PKG]`.
#[derive(Debug, Clone)]
pub struct DebianRequest {
    pub package: String,
    /// `None`: the newest version of the newest release among the configured suites.
    pub version: Option<String>,
    /// The binary package whose programs make the app (default: guessed).
    pub binary: Option<String>,
}

/// A source package version as a signed index lists it, and the release it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub entry: SourceEntry,
    /// The codename of the suite's release (`bookworm`).
    pub release: String,
    pub suite: String,
}

/// The upstream version in a tarball name `PKG_VERSION.orig.tar.xz`, made a recipe version:
/// Debian's repack marks dropped (`1.2.13.dfsg`, `6.8.2+dfsg`, `1.0+ds1`, `2.0~repack` are
/// upstream's 1.2.13, 6.8.2, 1.0, 2.0), `X+reallyY` read as Y (the version really inside), and
/// the `+` and `~` left become `-`.
pub fn upstream_version(file: &str, package: &str) -> Option<String> {
    let rest = file.strip_prefix(package)?.strip_prefix('_')?;
    // `.orig.tar` or `.tar`, compressed (`.xz`, `.gz`, ...) or not.
    let v = [".orig.tar", ".tar"]
        .iter()
        .find_map(|m| {
            let i = rest.find(m)?;
            let after = &rest[i + m.len()..];
            (after.is_empty() || after.starts_with('.')).then(|| &rest[..i])
        })
        .unwrap_or(rest);
    let v = v.rsplit_once("+really").map_or(v, |(_, real)| real);
    let v = ["dfsg", "ds", "repack"]
        .iter()
        .filter_map(|mark| {
            [".", "+", "~"].iter().find_map(|sep| {
                let i = v.find(&format!("{sep}{mark}"))?;
                (i > 0).then_some(i)
            })
        })
        .min()
        .map_or(v, |i| &v[..i]);
    Some(v.replace(['+', '~'], "-"))
}

/// Checks a package name or version handed to apt.
fn check(what: &'static str, v: &str) -> Result<(), NewError> {
    let ok = !v.is_empty()
        && !v.starts_with('-')
        && v.len() <= 200
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.~:_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(NewError::BadInput {
            what,
            value: v.to_string(),
            why: "letters, digits and `+-.~:_` only, not starting with `-`",
        })
    }
}

/// Runs a host tool through the process layer and returns its output; a failure is a
/// [`NewError::Tool`] with its last lines.
pub(super) fn run(cmd: &mut std::process::Command, command: &str) -> Result<String, NewError> {
    let out = crate::process::capture(
        cmd,
        crate::process::Capture {
            timeout: Some(std::time::Duration::from_secs(1800)),
            merge: true,
            ..Default::default()
        },
    )
    .map_err(|e| NewError::Tool {
        command: command.to_string(),
        detail: e.to_string(),
    })?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.success() {
        let tail: Vec<&str> = text.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(NewError::Tool {
            command: command.to_string(),
            detail: crate::text::escape(&tail.join("\n    ")).into_owned(),
        });
    }
    Ok(text)
}

fn tool(name: &str) -> std::process::Command {
    let mut cmd = crate::process::command(name);
    cmd.envs(crate::process::host_env())
        .env("DEBIAN_FRONTEND", "noninteractive");
    cmd
}

/// What one binary package holds.
#[derive(Debug, Default)]
struct Binary {
    name: String,
    /// `/usr/sbin/X`, `/usr/bin/X` that are ELF files (or links to them), sbin first.
    programs: Vec<String>,
    needed: Vec<String>,
    depends: Vec<String>,
    description: Option<String>,
}

/// Packages that hold no app: libraries, headers, debug symbols, documentation, data.
fn is_app_candidate(name: &str) -> bool {
    !(name.starts_with("lib")
        || [
            "-dev", "-doc", "-dbg", "-dbgsym", "-common", "-data", "-udeb",
        ]
        .iter()
        .any(|s| name.ends_with(s)))
}

fn unpack_binary(name: &str, version: &str, dir: &Path) -> Result<Binary, NewError> {
    let spec = format!("{name}={version}");
    let mut cmd = tool("apt-get");
    cmd.args(["download", &spec]).current_dir(dir);
    run(&mut cmd, &format!("apt-get download {spec}"))?;
    let deb = std::fs::read_dir(dir)
        .map_err(io_err(format!("reading {}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "deb")
                && p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(&format!("{name}_")))
        })
        .ok_or_else(|| NewError::Tool {
            command: format!("apt-get download {spec}"),
            detail: "it wrote no .deb".into(),
        })?;
    let tree = dir.join(format!("{name}.tree"));
    let mut cmd = tool("dpkg-deb");
    cmd.arg("-R").arg(&deb).arg(&tree);
    run(&mut cmd, &format!("dpkg-deb -R {}", deb.display()))?;
    let control = std::fs::read_to_string(tree.join("DEBIAN/control")).unwrap_or_default();
    let control = crate::debian::index::parse_binary_control(&control);
    let mut b = Binary {
        name: name.to_string(),
        depends: control.depends,
        description: control.description,
        ..Binary::default()
    };
    for folder in ["usr/sbin", "usr/bin"] {
        let mut names: Vec<_> = std::fs::read_dir(tree.join(folder))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names {
            let path = tree.join(folder).join(&n);
            // A link is followed inside the package only.
            let target = match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => match std::fs::read_link(&path) {
                    Ok(t) if !t.is_absolute() && !t.to_string_lossy().contains("..") => {
                        tree.join(folder).join(t)
                    }
                    _ => continue,
                },
                Ok(m) if m.is_file() => path.clone(),
                _ => continue,
            };
            let Ok(bytes) = std::fs::read(&target) else {
                continue;
            };
            let Ok(elf) = goblin::elf::Elf::parse(&bytes) else {
                continue;
            };
            for lib in &elf.libraries {
                if !b.needed.iter().any(|l| l == lib) {
                    b.needed.push(lib.to_string());
                }
            }
            b.programs.push(format!("/{folder}/{n}"));
        }
    }
    Ok(b)
}

/// Picks the binary package that is the app: the one named, else the first of the source's
/// name, `NAME-base`, `NAME-server`, `NAME-daemon`, `NAMEd`, else the first with programs.
fn main_binary<'a>(source: &str, bins: &'a [Binary]) -> Option<&'a Binary> {
    let with_programs: Vec<&Binary> = bins.iter().filter(|b| !b.programs.is_empty()).collect();
    for n in [
        source.to_string(),
        format!("{source}-base"),
        format!("{source}-server"),
        format!("{source}-daemon"),
        format!("{source}d"),
    ] {
        if let Some(b) = with_programs.iter().find(|b| b.name == n) {
            return Some(b);
        }
    }
    with_programs.first().copied()
}

/// `/usr/sbin/X` becomes `/usr/local/sbin/X` (the recipe's prefix).
fn local(program: &str) -> String {
    match program.strip_prefix("/usr/") {
        Some(rest) => format!("/usr/local/{rest}"),
        None => program.to_string(),
    }
}

/// A first recipe for Debian's source package `req`: its pins from the signed indexes, its
/// tree's build system and licence, and the app files, libraries and smoke test of its binary
/// package.
pub fn from_debian(
    req: &DebianRequest,
    indexes: &mut Indexes,
    cache: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Draft, NewError> {
    check("debian package", &req.package)?;
    if let Some(v) = &req.version {
        check("debian version", v)?;
    }
    if let Some(b) = &req.binary {
        check("binary package", b)?;
    }
    let found = find(indexes, &req.package, req.version.as_deref(), progress)?;
    let debian_version = found.entry.version.clone();
    let Some(tarball) = found.entry.tarball().cloned() else {
        return Err(NewError::NoTarball {
            package: req.package.clone(),
            version: debian_version,
        });
    };
    let version = upstream_version(&tarball.name, &req.package).unwrap_or_else(|| {
        let v = crate::debian::without_epoch(&debian_version);
        v.rsplit_once('-')
            .map_or(v, |x| x.0)
            .replace(['+', '~'], "-")
    });

    // The files, from the pool: the store checks the sha256 the signed index lists.
    let store = Store::new(crate::cache::Layout::new(cache).sources());
    let fetch = |file: &str, sha256: &str, progress: &mut dyn FnMut(&str)| {
        store.fetch(
            &Fetch {
                sha256: sha256.to_string(),
                origins: vec![Origin::Debian(DebianSource {
                    package: req.package.clone(),
                    version: debian_version.clone(),
                    file: file.to_string(),
                })],
            },
            progress,
        )
    };
    let archive = fetch(&tarball.name, &tarball.sha256, progress)?;
    let debian_part = match found.entry.changes() {
        Some(c) => Some(fetch(&c.name, &c.sha256, progress)?),
        None => None,
    };
    let (work, tree) = super::unpack(cache, &archive, 1)?;
    let detected =
        super::detect(&tree).ok_or_else(|| NewError::NoBuildSystem(req.package.clone()))?;
    let (bins, skipped) = binaries(req, &found.entry, work.path(), progress)?;
    let main = main_binary(&req.package, &bins);

    let mut d = source_draft(&found, &tarball.sha256, &tarball.name, &version);
    set_licence(&mut d, debian_part.as_deref(), cache, &tree);
    d.description = main
        .and_then(|b| b.description.clone())
        .unwrap_or_else(|| format!("{} (from Debian's source package)", req.package));
    let (system, key) = draft_build(&mut d, detected, &tree);
    d.guesses
        .push(format!("build system: {}", detected.describe()));
    if as_library(&mut d, req, &found.entry.binaries) {
        return Ok(d);
    }
    match main {
        Some(b) => app_from_binary(&mut d, b, &bins, &debian_version, system, key, &version),
        None => placeholder_app(&mut d, req, &found, &skipped),
    }
    if d.smoke.is_none() {
        d.smoke_comment.push(
            "CHECK: no smoke test was guessed. Add [smoke]: a command and what it prints, or a \
             service test (listen and requests), docs/recipe-format.md."
                .into(),
        );
        d.checks.push(
            "[smoke]: none was guessed; add one (`recipe build` runs it on every arch)".into(),
        );
    }
    image_defaults(&mut d);
    Ok(d)
}

/// The draft's licence: what Debian's machine-readable copyright file says of `Files: *` (as
/// the SBOM declares it), else a guess from the tree's licence file, with a check.
fn set_licence(d: &mut Draft, debian_part: Option<&Path>, cache: &Path, tree: &Path) {
    let Some(l) = debian_part.and_then(|p| copyright_licences(cache, p)) else {
        if let Some((id, from)) = super::license(d, tree) {
            d.checks.push(format!(
                "license: `{id}` is read from {from}; Debian's debian/copyright says exactly (e.g. -only or -or-later)"
            ));
        }
        return;
    };
    let every = l.conjunction().unwrap_or_default();
    d.license = l.main.clone().unwrap_or_default();
    d.license_comment = vec![format!(
        "The licence of `Files: *` in Debian's debian/copyright; every file together: {every}"
    )];
    d.guesses.push(format!(
        "license {}, from Debian's debian/copyright (`Files: *`; every file: {every})",
        d.license
    ));
}

/// Every binary package a library's (`lib*`, `-dev`, ...) and none named: the draft becomes a
/// library recipe (true).
fn as_library(d: &mut Draft, req: &DebianRequest, binaries: &[String]) -> bool {
    if req.binary.is_some() || binaries.is_empty() || binaries.iter().any(|b| is_app_candidate(b)) {
        return false;
    }
    d.library = true;
    d.description = format!("{} (library, from Debian's source package)", req.package);
    d.guesses.push(format!(
        "a library: Debian's binary packages of {} are all libraries, headers or data ({})",
        req.package,
        binaries.join(", ")
    ));
    true
}

/// No binary package gave the app: a placeholder app file, and a check saying why (apt could
/// not fetch them, `skipped`, or none has programs).
fn placeholder_app(
    d: &mut Draft,
    req: &DebianRequest,
    found: &Found,
    skipped: &[(String, NewError)],
) {
    d.files = vec![format!("/usr/local/bin/{}", d.name)];
    let why = match skipped.first() {
        Some((name, e)) => format!(
            "apt could not fetch {name}={} ({e}): this machine's apt sources may not list \
             {release} (add `deb http://deb.debian.org/debian {release} main` to them and run \
             `apt-get update` to let `recipe new` read Debian's binary packages), so the \
             libraries Debian links are not guessed either",
            found.entry.version,
            release = found.release,
        ),
        None => format!(
            "no binary package of {} has programs in /usr/sbin or /usr/bin",
            req.package
        ),
    };
    d.checks.push(format!(
        "[app] files: {why}; `/usr/local/bin/{}` is a placeholder (name the package with \
         --binary)",
        d.name
    ));
}

/// What Debian's part (`debian_part`, its `.debian.tar.*`) says in a machine-readable
/// `debian/copyright` whose `Files: *` names a licence; None without one, or when it cannot be
/// read (the draft then reads the tree's licence file).
fn copyright_licences(
    cache: &Path,
    debian_part: &Path,
) -> Option<crate::debian::copyright::Licences> {
    let (_work, tree) = super::unpack(cache, debian_part, 0).ok()?;
    crate::build::debian::licences(&tree.join("debian"))
        .ok()
        .flatten()
        .filter(|l| l.main.is_some())
}

/// `package` at `version` in a configured suite's signed index; without a version, the newest
/// version of the newest release that has the package (across that release's suites:
/// `bookworm`, `bookworm-updates`, `bookworm-security`).
pub(crate) fn find(
    indexes: &mut Indexes,
    package: &str,
    version: Option<&str>,
    progress: &mut dyn FnMut(&str),
) -> Result<Found, NewError> {
    let mut candidates: Vec<Found> = Vec::new();
    for index in indexes.all(progress)? {
        for e in index.versions(package) {
            candidates.push(Found {
                entry: e.clone(),
                release: index.suite.release().to_string(),
                suite: index.suite.name.clone(),
            });
        }
    }
    pick(candidates, package, version)
}

/// The choice [`find`] makes among what the indexes list.
fn pick(candidates: Vec<Found>, package: &str, version: Option<&str>) -> Result<Found, NewError> {
    let release_rank = |f: &Found| crate::debian::release_number(&f.release).unwrap_or(0);
    let chosen = match version {
        Some(v) => candidates.iter().find(|f| f.entry.version == v),
        None => candidates.iter().max_by(|a, b| {
            release_rank(a)
                .cmp(&release_rank(b))
                .then_with(|| version::compare(&a.entry.version, &b.entry.version))
        }),
    };
    if let Some(f) = chosen {
        return Ok(f.clone());
    }
    let mut known: Vec<String> = candidates
        .iter()
        .map(|f| format!("{} ({})", f.entry.version, f.suite))
        .collect();
    known.dedup();
    Err(NewError::UnknownDebian {
        package: package.to_string(),
        version: version.unwrap_or("any").to_string(),
        known,
    })
}

/// The binary packages read, and those that could not be (name, why).
type Binaries = (Vec<Binary>, Vec<(String, NewError)>);

/// The binary packages read (`--binary`, or every one that may hold an app), each unpacked in
/// `work`; one that cannot be read is skipped with a note unless it was named, and returned
/// with why.
fn binaries(
    req: &DebianRequest,
    src: &SourceEntry,
    work: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Binaries, NewError> {
    let names: Vec<&String> = match &req.binary {
        Some(b) => vec![b],
        None => src
            .binaries
            .iter()
            .filter(|b| is_app_candidate(b))
            .collect(),
    };
    let (mut bins, mut skipped) = (Vec::new(), Vec::new());
    for n in names {
        progress(&format!("reading the binary package {n}={}", src.version));
        let dir = work.join(format!("deb-{n}"));
        std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        match unpack_binary(n, &src.version, &dir) {
            Ok(b) => bins.push(b),
            Err(e) if req.binary.is_some() => return Err(e),
            Err(e) => {
                progress(&format!("skipped {n}: {e}"));
                skipped.push((n.clone(), e));
            }
        }
    }
    Ok((bins, skipped))
}

/// The draft's name, version, homepage and source pins.
fn source_draft(found: &Found, sha256: &str, file: &str, version: &str) -> Draft {
    let e = &found.entry;
    let mut lines = vec![
        ("package".into(), e.package.clone()),
        ("version".into(), e.version.clone()),
        ("release".into(), found.release.clone()),
        ("file".into(), file.to_string()),
    ];
    if let Some(c) = e.changes() {
        lines.push(("debian-file".into(), c.name.clone()));
        lines.push(("debian-sha256".into(), c.sha256.clone()));
    }
    let mut d = Draft {
        name: super::recipe_name(&e.package),
        version: version.to_string(),
        homepage: e
            .homepage
            .clone()
            .unwrap_or_else(|| format!("https://tracker.debian.org/pkg/{}", e.package)),
        sha256: sha256.to_string(),
        note: format!("the bytes of Debian's {file} ({})", found.release),
        origin_table: "source.debian".into(),
        origin_lines: lines,
        source_comment: vec![format!(
            "sha256 of {file} as Debian's signed Sources index of {} lists it for {}={}; the \
             store checked the bytes fetched from the pool against it.",
            found.suite, e.package, e.version
        )],
        ..Draft::default()
    };
    d.guesses.push(format!(
        "source: {}={} from {}: {file}, sha256 {sha256} (Debian's signed Sources index)",
        e.package, e.version, found.suite
    ));
    d
}

/// The app files, libraries and smoke test from the main binary package `b`.
fn app_from_binary(
    d: &mut Draft,
    b: &Binary,
    bins: &[Binary],
    debian_version: &str,
    system: &str,
    key: Option<&str>,
    version: &str,
) {
    d.files = b.programs.iter().map(|p| local(p)).collect();
    d.files_comment.push(format!(
        "CHECK: Debian's {} installs {}; here under the recipe's prefix /usr/local.",
        b.name,
        b.programs.join(", ")
    ));
    d.guesses.push(format!(
        "app files from Debian's {} {}: {}",
        b.name,
        debian_version,
        d.files.join(", ")
    ));
    for other in bins
        .iter()
        .filter(|o| o.name != b.name && !o.programs.is_empty())
    {
        if other.programs.iter().all(|p| b.programs.contains(p)) {
            continue;
        }
        d.files_comment.push(format!(
            "Debian's {} also has {} (not listed: add them if this build installs them)",
            other.name,
            other.programs.join(", ")
        ));
    }
    let programs: Vec<String> = b
        .programs
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
        .collect();
    let mapped = map_libraries(&programs, &b.needed, &b.depends, system);
    d.guesses.push(format!(
        "libraries Debian's {} links: {}",
        b.name,
        if b.needed.is_empty() {
            "none".to_string()
        } else {
            b.needed.join(", ")
        }
    ));
    apply_mapping(d, &mapped, key);
    finish_script_switches(d);
    if let Some(first) = d.files.first() {
        let program = first.rsplit('/').next().unwrap_or(first).to_string();
        d.smoke = Some((
            vec![program.clone(), "--version".into()],
            version.to_string(),
        ));
        d.guesses.push(format!(
            "smoke test: `{program} --version` prints {version}"
        ));
    }
}

fn image_defaults(d: &mut Draft) {
    d.image_comment.push(
        "CHECK: the entrypoint is the first app file; ports, volumes, writable folders, the user \
         and a config file ([[image.file]]) are not guessed."
            .into(),
    );
    d.checks.push(
        "[image]: add ports, writable folders and a config file ([[image.file]]) the app needs"
            .into(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOWSRC: &str = "Package: dnsmasq\nBinary: dnsmasq, dnsmasq-base, dnsmasq-base-lua, dnsmasq-utils\n\
        Version: 2.90-4~deb12u2\nHomepage: https://thekelleys.org.uk/dnsmasq/doc.html\nFiles:\n \
        58b511a118301b8fe4e89f9734957937 570672 dnsmasq_2.90.orig.tar.xz\nChecksums-Sha256:\n \
        8E50309BD837BFEC9649A812E066C09B6988B73D749B7D293C06C57D46A109E4 570672 dnsmasq_2.90.orig.tar.xz\n \
        1111111111111111111111111111111111111111111111111111111111111111 833 dnsmasq_2.90.orig.tar.xz.asc\n \
        2222222222222222222222222222222222222222222222222222222222222222 100 dnsmasq_2.90-4~deb12u2.debian.tar.xz\n\
        Package-List:\n dnsmasq deb net optional arch=all\n\n\
        Package: dnsmasq\nVersion: 2.89-1\nChecksums-Sha256:\n \
        3333333333333333333333333333333333333333333333333333333333333333 1 dnsmasq_2.89.orig.tar.xz\n";

    #[test]
    fn the_tarball_and_its_sha256_come_from_the_index() {
        let s = crate::debian::index::parse_sources(SHOWSRC);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].binaries.len(), 4);
        assert_eq!(
            s[0].homepage.as_deref(),
            Some("https://thekelleys.org.uk/dnsmasq/doc.html")
        );
        let t = s[0].tarball().unwrap();
        assert_eq!(t.name, "dnsmasq_2.90.orig.tar.xz");
        assert_eq!(
            t.sha256,
            "8e50309bd837bfec9649a812e066c09b6988b73d749b7d293c06c57d46a109e4"
        );
        assert_eq!(
            upstream_version(&t.name, "dnsmasq").as_deref(),
            Some("2.90")
        );
        for (file, package, version) in [
            ("zlib_1.2.13.dfsg.orig.tar.gz", "zlib", "1.2.13"),
            ("zlib_1.3.dfsg+really1.3.1.orig.tar.gz", "zlib", "1.3.1"),
            ("foo_1.0+ds.tar.xz", "foo", "1.0"),
            ("qt6-base_6.8.2+dfsg.orig.tar.xz", "qt6-base", "6.8.2"),
            ("valkey_8.1.1+dfsg1.orig.tar.xz", "valkey", "8.1.1"),
            ("bar_2.0~repack.orig.tar.gz", "bar", "2.0"),
            ("baz_1.0~rc1.orig.tar.gz", "baz", "1.0-rc1"),
        ] {
            assert_eq!(
                upstream_version(file, package).as_deref(),
                Some(version),
                "{file}"
            );
        }
        assert_eq!(
            upstream_version("demo_1.0.orig.tar", "demo").as_deref(),
            Some("1.0")
        );
    }

    #[test]
    fn without_a_version_the_newest_of_the_newest_release_is_chosen() {
        let f = |v: &str, suite: &str| Found {
            entry: SourceEntry {
                package: "dnsmasq".into(),
                version: v.into(),
                ..SourceEntry::default()
            },
            release: suite.split('-').next().unwrap().into(),
            suite: suite.into(),
        };
        let all = vec![
            f("2.90-4~deb12u1", "bookworm"),
            f("2.90-4~deb12u2", "bookworm-security"),
            f("2.91-1", "trixie"),
            f("2.91-1+deb13u1", "trixie-security"),
        ];
        let got = pick(all.clone(), "dnsmasq", None).unwrap();
        assert_eq!(got.entry.version, "2.91-1+deb13u1");
        assert_eq!(got.release, "trixie");
        let got = pick(all.clone(), "dnsmasq", Some("2.90-4~deb12u2")).unwrap();
        assert_eq!(
            (got.release.as_str(), got.suite.as_str()),
            ("bookworm", "bookworm-security")
        );
        let e = pick(all, "dnsmasq", Some("9.9-9"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("2.90-4~deb12u1 (bookworm)"), "{e}");
        assert!(pick(Vec::new(), "nothing", None).is_err());
    }

    #[test]
    fn only_app_packages_are_read() {
        let keep: Vec<&str> = [
            "dnsmasq",
            "dnsmasq-base",
            "libfoo1",
            "foo-dev",
            "foo-doc",
            "foo-common",
            "redis-tools",
        ]
        .into_iter()
        .filter(|n| is_app_candidate(n))
        .collect();
        assert_eq!(keep, ["dnsmasq", "dnsmasq-base", "redis-tools"]);
    }

    #[test]
    fn the_main_package_is_named_after_the_source() {
        let b = |name: &str, programs: &[&str]| Binary {
            name: name.into(),
            programs: programs.iter().map(|p| p.to_string()).collect(),
            ..Binary::default()
        };
        let bins = [
            b("dnsmasq", &[]),
            b("dnsmasq-utils", &["/usr/bin/dhcp_release"]),
            b("dnsmasq-base", &["/usr/sbin/dnsmasq"]),
            b("dnsmasq-base-lua", &["/usr/sbin/dnsmasq"]),
        ];
        assert_eq!(main_binary("dnsmasq", &bins).unwrap().name, "dnsmasq-base");
        let bins = [b("chrony", &["/usr/sbin/chronyd", "/usr/bin/chronyc"])];
        assert_eq!(main_binary("chrony", &bins).unwrap().name, "chrony");
        assert_eq!(local("/usr/sbin/chronyd"), "/usr/local/sbin/chronyd");
    }

    #[test]
    fn bad_names_are_refused_before_apt_sees_them() {
        assert!(check("debian package", "-oAPT::x").is_err());
        assert!(check("debian version", "1.0 2").is_err());
        assert!(check("debian version", "5:7.0.15-1~deb12u10").is_ok());
    }
}
