//! What `recipe check` prints: a table per target (and per image platform) with reasons, a
//! summary line, or the same as stable JSON. Every text of the table that came from the input
//! (file names, entry names, entrypoints, labels, reasons quoting them) goes through
//! [`crate::text::escape`]; JSON is escaped by serde.

use serde_json::{Value, json};

use crate::text::escape;

use super::{App, Report, Summary, Verdict};

/// The summary line: `3 executables: 1 distroless-ready, 1 ready after a static rebuild, ...`.
pub fn summary_line(s: &Summary) -> String {
    let parts: Vec<String> = Verdict::ALL
        .iter()
        .filter_map(|&v| {
            let n = match v {
                Verdict::DistrolessReady => s.distroless_ready,
                Verdict::ReadyAfterStaticRebuild => s.ready_after_static_rebuild,
                Verdict::NeedsRuntime => s.needs_runtime,
                Verdict::Unreadable => s.unreadable,
            };
            (n > 0).then(|| format!("{n} {v}"))
        })
        .collect();
    let noun = if s.apps == 1 {
        "executable"
    } else {
        "executables"
    };
    if parts.is_empty() {
        format!("{} {noun}", s.apps)
    } else {
        format!("{} {noun}: {}", s.apps, parts.join(", "))
    }
}

fn rows(apps: &[App], reasons: bool, out: &mut String) {
    let w = apps
        .iter()
        .map(|a| escape(&a.path).chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for a in apps {
        let path = match &a.resolved {
            Some(r) => format!("{} -> {}", escape(&a.path), escape(r)),
            None => escape(&a.path).into_owned(),
        };
        out.push_str(&format!(
            "  {path:<w$}  {:<28}  {}\n",
            a.verdict.to_string(),
            escape(&a.summary)
        ));
        if reasons {
            for r in &a.reasons {
                out.push_str(&format!("      {}\n", escape(r)));
            }
        }
    }
}

/// The human report of every target, and the summary of all of them.
pub fn human(reports: &[Report]) -> String {
    let mut out = String::new();
    let mut total = Summary::default();
    for r in reports {
        out.push_str(&format!("{} ({})\n", escape(&r.target), kind_name(r)));
        for n in &r.notes {
            out.push_str(&format!("  note: {}\n", escape(n)));
        }
        for p in &r.platforms {
            if let Some(name) = &p.platform {
                let arch = p
                    .arch
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "not one of ours".into());
                out.push_str(&format!("platform {} ({arch})", escape(name)));
                if let Some(e) = &p.entrypoint {
                    out.push_str(&format!(", runs {}", escape(&e.join(" "))));
                }
                if let Some(u) = &p.user {
                    out.push_str(&format!(", user {}", escape(u)));
                }
                out.push('\n');
            }
            if let Some(a) = &p.answer {
                out.push_str(&format!("  answer: {}\n", escape(&a.line)));
            }
            if p.apps.is_empty() {
                out.push_str("  no executables\n");
            }
            rows(&p.apps, true, &mut out);
            if !p.other_executables.is_empty() {
                out.push_str(&format!(
                    "  other executables ({}):\n",
                    p.other_executables.len()
                ));
                rows(&p.other_executables, false, &mut out);
            }
            if !p.glue.is_empty() {
                out.push_str(&format!(
                    "  not needed in a container ({}): service-manager glue and plugins of other \
                     programs\n",
                    p.glue.len()
                ));
                let w = p
                    .glue
                    .iter()
                    .map(|g| escape(&g.path).chars().count())
                    .max()
                    .unwrap_or(0)
                    .min(60);
                for g in &p.glue {
                    out.push_str(&format!("    {:<w$}  {}\n", escape(&g.path), g.what));
                }
            }
            for e in &p.runtimes {
                out.push_str(&format!(
                    "  runtime evidence: {} ({} file{}, e.g. {})\n",
                    e.runtime,
                    e.files,
                    if e.files == 1 { "" } else { "s" },
                    escape(&e.example)
                ));
            }
            for n in &p.notes {
                out.push_str(&format!("  note: {}\n", escape(n)));
            }
        }
        total.merge(&r.summary());
    }
    out.push_str(&summary_line(&total));
    out.push('\n');
    out
}

fn kind_name(r: &Report) -> &'static str {
    match r.kind {
        super::TargetKind::File => "file",
        super::TargetKind::Directory => "directory",
        super::TargetKind::OciLayout => "OCI layout",
        super::TargetKind::OciArchive => "OCI archive",
        super::TargetKind::DockerArchive => "docker archive",
        super::TargetKind::Registry => "registry",
    }
}

/// The JSON report: `{targets: [{target, kind, platforms: [{platform, arch, apps, ...}],
/// summary, distroless_ready}], summary, distroless_ready}`.
pub fn json(reports: &[Report]) -> Value {
    let mut total = Summary::default();
    let targets: Vec<Value> = reports
        .iter()
        .map(|r| {
            let s = r.summary();
            total.merge(&s);
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            v["summary"] = serde_json::to_value(&s).unwrap_or(Value::Null);
            v["distroless_ready"] = json!(r.distroless_ready());
            v
        })
        .collect();
    let ready = !reports.is_empty() && reports.iter().all(Report::distroless_ready);
    json!({
        "targets": targets,
        "summary": total,
        "distroless_ready": ready,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        let s = Summary {
            apps: 3,
            distroless_ready: 1,
            ready_after_static_rebuild: 1,
            needs_runtime: 1,
            unreadable: 0,
        };
        assert_eq!(
            summary_line(&s),
            "3 executables: 1 distroless-ready, 1 ready after a static rebuild, 1 needs a runtime"
        );
        assert_eq!(summary_line(&Summary::default()), "0 executables");
    }
}
