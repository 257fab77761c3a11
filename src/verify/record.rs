//! What verification learned about one app file when its job was built, kept in the cache
//! entry's `meta.json` (`Meta::checked`): packing, the image check, the SBOM and every later
//! reuse of the entry read it instead of parsing the binary again. A record names the sha256 of
//! the bytes it describes; it stands for a file only while the file still has those bytes (the
//! entry's manifest is checked before reuse), and a file whose bytes differ is judged again from
//! its bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::elf::ElfReport;

/// One app file's report, as its job's verification made it: [`super::check_elf`] with the
/// arch only (what `recipe check` computes for the same bytes and platform), without the
/// expectations of its recipe (Go's are judged from the facts, [`super::go_findings`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// The app file's path in the image.
    pub path: String,
    /// The sha256 of the bytes described (the packed bytes, for a packed file).
    pub sha256: String,
    pub report: ElfReport,
}

/// The reports of a job's ELF app files as they are now, by image path, with the sha256 of the
/// bytes each describes (how the image check of the finished image knows them).
pub type Reports = BTreeMap<String, (String, ElfReport)>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Arch;
    use crate::verify::{Code, ElfFacts, Expect, Finding, RuntimeFile, RuntimeKind, Severity};

    /// A record read back is the report that was written, `runtime-file` findings (whose kind
    /// the JSON does not carry) included, in their place.
    #[test]
    fn a_report_survives_its_record() {
        let facts = ElfFacts {
            runtime_files: vec![
                RuntimeFile {
                    path: "/etc/ssl/certs/ca-certificates.crt".into(),
                    kind: RuntimeKind::CaBundle,
                },
                RuntimeFile {
                    path: "/usr/share/zoneinfo".into(),
                    kind: RuntimeKind::Zoneinfo,
                },
            ],
            ..ElfFacts::default()
        };
        let mut findings = vec![Finding {
            severity: Severity::Warning,
            code: Code::Dlopen,
            message: "loads code at run time".into(),
        }];
        super::super::runtime::runtime_file_findings(
            &facts.runtime_files,
            &Expect::default(),
            &mut findings,
        );
        findings.push(Finding {
            severity: Severity::Info,
            code: Code::Hardening,
            message: "hardening".into(),
        });
        assert!(findings.len() > 3, "{findings:?}");
        let record = FileRecord {
            path: "/usr/local/bin/app".into(),
            sha256: "ab".repeat(32),
            report: ElfReport {
                arch: Some(Arch::Arm64),
                description: "ELF 64-bit AArch64, static, musl".into(),
                findings,
                facts: Some(facts),
            },
        };
        let json = serde_json::to_string(&record).unwrap();
        let back: FileRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
    }

    /// A code no `recipe` knows makes the record unreadable, never a finding dropped.
    #[test]
    fn an_unknown_code_is_an_error() {
        let json = r#"{"arch":null,"description":"d","findings":[{"severity":"error","code":"nope","message":"m"}],"facts":null}"#;
        assert!(serde_json::from_str::<ElfReport>(json).is_err());
    }
}
