//! Runtime files: which files a binary reads at run time ([`RuntimeKind::PATHS`]) and the
//! `runtime-file` findings for them, warnings for those an image lacks.

use std::collections::BTreeSet;

use super::expect::Expect;
use super::facts::{RuntimeFile, RuntimeKind};
use super::finding::{Code, Finding, info, warning};
use super::strings::Strings;

/// The runtime files whose paths occur in the binary's strings.
pub(super) fn runtime_files(strings: &Strings) -> Vec<RuntimeFile> {
    let found: Vec<&(&str, RuntimeKind)> = RuntimeKind::PATHS
        .iter()
        .filter(|(p, _)| strings.has(p))
        .collect();
    // A folder is worth naming only when no file under it was found.
    let under = |dir: &str| {
        found.iter().any(|(p, _)| {
            p.len() > dir.len() && p.starts_with(dir) && p.as_bytes()[dir.len()] == b'/'
        })
    };
    found
        .iter()
        .filter(|(p, _)| !under(p))
        .map(|&&(path, kind)| RuntimeFile {
            path: path.to_string(),
            kind,
        })
        .collect()
}

/// The `runtime-file` findings for `files`, one per kind: notes, or warnings for those the
/// image (when `expect.image_files` is known) lacks. Each carries its kind
/// ([`Code::RuntimeFile`]).
pub fn runtime_file_findings(files: &[RuntimeFile], expect: &Expect, findings: &mut Vec<Finding>) {
    let mut kinds: Vec<RuntimeKind> = files.iter().map(|f| f.kind).collect();
    kinds.dedup();
    for kind in kinds {
        let paths: Vec<&str> = files
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| f.path.as_str())
            .collect();
        let listed = paths
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let missing = match &expect.image_files {
            Some(have) if !kind.provided_by_runtime() => !paths.iter().any(|p| image_has(have, p)),
            _ => false,
        };
        let what = kind.describe();
        let code = Code::RuntimeFile(kind);
        if missing {
            findings.push(warning(
                code,
                format!(
                    "reads {what} from {listed}; the image has none, so {}",
                    kind.consequence()
                ),
            ));
        } else {
            findings.push(info(code, format!("reads {what} from {listed}")));
        }
    }
}

/// True when the image holds `path` or something under it.
fn image_has(have: &BTreeSet<String>, path: &str) -> bool {
    if have.contains(path) {
        return true;
    }
    let prefix = format!("{path}/");
    have.range(prefix.clone()..)
        .next()
        .is_some_and(|p| p.starts_with(&prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::strings::tests::all;

    #[test]
    fn image_has_folders_by_prefix() {
        let have: BTreeSet<String> = [
            "/etc/ssl/certs/ca-certificates.crt",
            "/usr/share/zoneinfo/UTC",
        ]
        .map(String::from)
        .into();
        assert!(image_has(&have, "/etc/ssl/certs"));
        assert!(image_has(&have, "/usr/share/zoneinfo"));
        assert!(!image_has(&have, "/etc/ssl/cert.pem"));
        assert!(!image_has(&have, "/usr/share/zone"));
    }

    #[test]
    fn missing_runtime_files_warn_only_when_the_image_is_known() {
        let files = runtime_files(&all(
            b"\0/etc/ssl/certs/ca-certificates.crt\0/etc/resolv.conf\0",
        ));
        assert_eq!(files.len(), 2, "{files:?}"); // the bundle (not its folder), resolv.conf
        let mut f = Vec::new();
        runtime_file_findings(&files, &Expect::default(), &mut f);
        assert!(
            f.iter()
                .all(|f| f.severity == crate::verify::Severity::Info)
        );
        let mut f = Vec::new();
        let e = Expect {
            image_files: Some(BTreeSet::from(["/etc/passwd".to_string()])),
            ..Expect::default()
        };
        runtime_file_findings(&files, &e, &mut f);
        let warns: Vec<_> = f
            .iter()
            .filter(|f| f.severity == crate::verify::Severity::Warning)
            .collect();
        assert_eq!(warns.len(), 1, "{f:?}");
        assert!(warns[0].message.contains("TLS connections cannot verify"));
    }

    /// Callers (the image check's `include` hint, `recipe check`) match the kind a
    /// `runtime-file` finding carries, not its wording.
    #[test]
    fn findings_carry_their_file_kind() {
        let files = runtime_files(&all(
            b"\0/etc/ssl/cert.pem\0/usr/share/zoneinfo\0/etc/passwd\0/etc/hosts\0",
        ));
        let mut f = Vec::new();
        let e = Expect {
            image_files: Some(BTreeSet::new()),
            ..Expect::default()
        };
        runtime_file_findings(&files, &e, &mut f);
        let codes: Vec<(Code, crate::verify::Severity)> =
            f.iter().map(|f| (f.code, f.severity)).collect();
        use crate::verify::Severity::{Info, Warning};
        assert_eq!(
            codes,
            [
                (Code::RuntimeFile(RuntimeKind::CaBundle), Warning),
                (Code::RuntimeFile(RuntimeKind::Zoneinfo), Warning),
                (Code::RuntimeFile(RuntimeKind::Users), Warning),
                (Code::RuntimeFile(RuntimeKind::Hosts), Info),
            ]
        );
        // Every one still renders as `runtime-file`, and the file's kind as its description.
        assert!(f.iter().all(|f| f.code.as_str() == "runtime-file"));
        assert_eq!(
            serde_json::to_value(&files[0]).unwrap(),
            serde_json::json!({"path": "/etc/ssl/cert.pem", "what": "CA certificates"})
        );
    }
}
