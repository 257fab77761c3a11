//! Where a package can be found and what it is called: the download URL of a recipe's origin
//! (Debian pool, PyPI, the Go module proxy, crates.io), its purl, encoded as the purl spec asks,
//! and its CPE 2.3 name, escaped as the formatted-string binding asks.

use super::ExternalRef;
use crate::recipe::Origin;

/// Where an origin's archive can be downloaded.
pub(super) fn origin_url(o: &Origin) -> String {
    match o {
        Origin::Url(u) => u.clone(),
        Origin::Debian { package, file, .. } => debian_pool_url(package, file),
        Origin::GoModule { module, version } => go_proxy_url(module, version),
        Origin::Pypi { package, file, .. } => pypi_file_url(package, file),
        Origin::Crate { name, version } => super::crates_io_url(name, version),
    }
}

/// PyPI's stable URL of a distribution file: `https://files.pythonhosted.org/packages/<python
/// tag>/<first letter>/<package>/<file>` (the python tag of a wheel, `source` for an sdist).
pub fn pypi_file_url(package: &str, file: &str) -> String {
    let tag = file
        .strip_suffix(".whl")
        .and_then(|stem| stem.rsplit('-').nth(2))
        .unwrap_or("source");
    let first = package.chars().next().unwrap_or('_');
    format!("https://files.pythonhosted.org/packages/{tag}/{first}/{package}/{file}")
}

/// `https://deb.debian.org/debian/pool/main/<prefix>/<package>/<file>`: the prefix is the first
/// letter, or `lib` and the next letter for `lib*` packages.
pub fn debian_pool_url(package: &str, file: &str) -> String {
    let prefix = if package.starts_with("lib") && package.len() > 3 {
        &package[..4]
    } else {
        &package[..package.len().min(1)]
    };
    format!("https://deb.debian.org/debian/pool/main/{prefix}/{package}/{file}")
}

/// The module proxy's zip of `module@version`, case-encoded (`A` is `!a`) as the proxy protocol
/// asks.
pub fn go_proxy_url(module: &str, version: &str) -> String {
    format!(
        "https://proxy.golang.org/{}/@v/{}.zip",
        case_encode(module),
        case_encode(version)
    )
}

pub(super) fn case_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Percent-encodes all but the unreserved characters.
pub(super) fn purl_segment(s: &str) -> String {
    crate::text::percent_encode(s, crate::text::UNRESERVED)
}

/// Like [`purl_segment`], keeping `:` and `/` too.
pub(super) fn purl_qualifier(s: &str) -> String {
    const QUALIFIER: &percent_encoding::AsciiSet =
        &crate::text::UNRESERVED.remove(b':').remove(b'/');
    crate::text::percent_encode(s, QUALIFIER)
}

/// `pkg:golang/<path>@<version>`, each path segment encoded.
pub fn golang_purl(module: &str, version: &str) -> String {
    let path: Vec<String> = module.split('/').map(purl_segment).collect();
    let mut p = format!("pkg:golang/{}", path.join("/"));
    if !version.is_empty() && version != "(devel)" {
        p += &format!("@{}", purl_segment(version));
    }
    p
}

/// `cpe:2.3:a:VENDOR:PRODUCT:VERSION:*:*:*:*:*:*:*`: an application (`a`), any update,
/// edition, language, software edition, target and other. `vendor` and `product` come as the
/// recipe's `cpe` holds them (already in formatted-string form); the version is escaped here.
/// None for a version the binding cannot carry (empty, or not printable ASCII).
pub fn cpe23(vendor: &str, product: &str, version: &str) -> Option<String> {
    Some(format!(
        "cpe:2.3:a:{vendor}:{product}:{}:*:*:*:*:*:*:*",
        cpe_value(version)?
    ))
}

/// One value of a CPE 2.3 formatted string (NISTIR 7695, 6.2): letters (lowercased, as NVD
/// writes its names and as matching compares them), digits, `.`, `_` and `-` as they are, every
/// other printable ASCII character escaped with `\`. None for an empty value (which would read
/// as ANY), a lone `-` (NA), a space or a character outside printable ASCII, none of which the
/// binding can carry.
pub fn cpe_value(s: &str) -> Option<String> {
    if s.is_empty() || s == "-" {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => {
                out.push(c.to_ascii_lowercase())
            }
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            _ => return None,
        }
    }
    Some(out)
}

pub(super) fn cpe_ref(locator: String) -> ExternalRef {
    ExternalRef {
        reference_category: "SECURITY".into(),
        reference_type: "cpe23Type".into(),
        reference_locator: locator,
    }
}

pub(super) fn purl_ref(locator: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER".into(),
        reference_type: "purl".into(),
        reference_locator: locator,
    }
}
