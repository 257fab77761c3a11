//! What the user reads at the end of a build: a table of images (image, size on disk, user,
//! distroless, architectures), rendered as plain text, and `recipe verify`'s output. Pure.

use std::path::Path;

use crate::verify;

/// One row of the final table.
#[derive(Debug, Clone)]
pub struct Row {
    pub image: String,
    /// Uncompressed size of the largest platform's layers, like `docker image ls`.
    pub size: u64,
    pub compressed: u64,
    pub user: String,
    pub distroless: bool,
    pub arches: Vec<String>,
}

impl Row {
    /// The row of a finished image; `distroless` is what `recipe check` says of it.
    pub fn of(b: &crate::pipeline::Built, distroless: bool) -> Row {
        let platforms = &b.written.platforms;
        Row {
            image: b.image.clone(),
            size: platforms
                .iter()
                .map(|p| p.uncompressed_size)
                .max()
                .unwrap_or(0),
            compressed: platforms
                .iter()
                .map(|p| p.compressed_size)
                .max()
                .unwrap_or(0),
            user: b.user.clone(),
            distroless,
            arches: platforms
                .iter()
                .map(|p| p.arch.name().to_string())
                .collect(),
        }
    }
}

/// The lines after the table: where each image's layout (with its index digest) and archive
/// are.
pub fn written(built: &[crate::pipeline::Built]) -> String {
    let mut s = String::new();
    for b in built {
        s.push_str(&format!(
            "{}: {} (index {})\n{}: {}\n",
            b.recipe.name,
            b.layout.display(),
            b.written.index_digest,
            b.recipe.name,
            b.archive.display()
        ));
    }
    s
}

/// Renders `rows` as an aligned text table.
pub fn table(rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.image.clone(),
                human_size(r.size),
                human_size(r.compressed),
                r.user.clone(),
                if r.distroless {
                    "yes".into()
                } else {
                    "no".into()
                },
                r.arches.join(", "),
            ]
        })
        .collect();
    render(
        &[
            "IMAGE",
            "SIZE",
            "COMPRESSED",
            "USER",
            "DISTROLESS",
            "ARCHITECTURES",
        ],
        &cells,
    )
}

/// Renders rows of cells as an aligned text table under `header`.
fn render(header: &[&str], cells: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(&widths).enumerate() {
            if i + 1 == cols.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = *w));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = vec![line(header.to_vec())];
    for row in cells {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n") + "\n"
}

/// `recipe plan`: one line per job, in the order they run.
pub fn plan_table(g: &crate::plan::Graph) -> String {
    let cells: Vec<Vec<String>> = g
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.recipe.name.clone(),
                n.arch.name().to_string(),
                roles(n),
                n.key[..12].to_string(),
                n.action.to_string(),
                n.deps
                    .iter()
                    .chain(&n.host_deps)
                    .map(|&d| g.nodes[d].id())
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    render(&["RECIPE", "ARCH", "FOR", "KEY", "CACHE", "NEEDS"], &cells)
}

fn roles(n: &crate::plan::Node) -> String {
    n.roles
        .iter()
        .map(|r| match r {
            crate::plan::Role::Target => "target",
            crate::plan::Role::Host => "host",
        })
        .collect::<Vec<_>>()
        .join("+")
}

/// `recipe plan --json`.
pub fn plan_json(g: &crate::plan::Graph) -> serde_json::Value {
    let jobs: Vec<serde_json::Value> = g
        .nodes
        .iter()
        .map(|n| {
            serde_json::json!({
                "recipe": n.recipe.name,
                "version": n.recipe.version,
                "arch": n.arch.name(),
                "for": roles(n),
                "key": n.key,
                "cache": match &n.action {
                    crate::plan::Action::Reuse => "hit",
                    crate::plan::Action::Remote(_) => "remote",
                    crate::plan::Action::Build(_) => "miss",
                },
                "why": n.miss(),
                "needs": n.deps.iter().chain(&n.host_deps).map(|&d| g.nodes[d].id()).collect::<Vec<_>>(),
                "source": match &n.recipe.source {
                    crate::recipe::Source::Path(p) => serde_json::json!({ "path": p }),
                    crate::recipe::Source::Archive { sha256, strip, .. } => serde_json::json!({ "sha256": sha256, "strip": strip }),
                },
                "work": n.job.work,
                "src": n.job.src,
                "dest": n.job.dest,
                "sysroot": n.job.sysroot,
                "sysroot_from": n.job.sysroot_from,
                "steps": job_steps(n),
            })
        })
        .collect();
    serde_json::json!({ "jobs": jobs })
}

/// Every step of a node's job in the order it runs: Debian's series (its commands known only
/// once the source is fetched), the recipe's patches, the build system's steps, the strip.
fn job_steps(n: &crate::plan::Node) -> Vec<serde_json::Value> {
    let command = |c: &crate::plan::Command| serde_json::json!({ "name": c.name, "argv": c.argv, "env": c.env, "cwd": c.cwd });
    let mut steps = Vec::new();
    if n.recipe.debian.is_some() {
        steps.push(serde_json::json!({
            "name": "debian series",
            "note": "Debian's patch series, each patch a `patch` step, as the fetched source lists it"
        }));
    }
    for p in &n.job.patches {
        let mut step = command(&p.cmd);
        step["patch"] = p.patch.clone().into();
        step["arches"] = p.arches.iter().map(|a| a.name()).collect::<Vec<_>>().into();
        steps.push(step);
    }
    for s in &n.job.steps {
        steps.push(match s {
            crate::plan::Step::Run(c) => command(c),
            crate::plan::Step::Write {
                name,
                path,
                contents,
            } => {
                serde_json::json!({ "name": name, "write": path, "contents": contents })
            }
        });
    }
    if let Some(strip) = &n.job.strip {
        steps.push(command(&strip.cmd));
    }
    steps
}

/// `recipe cache ls`.
pub fn cache_table(entries: &[crate::cache::Meta]) -> String {
    let cells: Vec<Vec<String>> = entries
        .iter()
        .map(|m| {
            vec![
                m.recipe.clone(),
                m.version.clone(),
                m.arch.clone(),
                m.key[..12].to_string(),
                human_size(m.size),
                m.seconds.map_or("-".into(), |s| format!("{s} s")),
                m.cpu_millis
                    .map_or("-".into(), |ms| format!("{} s", (ms + 500) / 1000)),
            ]
        })
        .collect();
    let total: u64 = entries.iter().map(|m| m.size).sum();
    let built: u64 = entries.iter().filter_map(|m| m.seconds).sum();
    let cpu = (entries.iter().filter_map(|m| m.cpu_millis).sum::<u64>() + 500) / 1000;
    render(
        &[
            "RECIPE", "VERSION", "ARCH", "KEY", "SIZE", "BUILT IN", "CPU",
        ],
        &cells,
    ) + &format!(
        "{} entries, {}, built in {built} s ({cpu} s of CPU) in all\n",
        entries.len(),
        human_size(total)
    )
}

/// `recipe cache ls --steps`: each entry's commands in the order they ran, with their wall and
/// CPU time (entries made before steps were recorded have none).
pub fn cache_steps_table(entries: &[crate::cache::Meta]) -> String {
    let secs = |ms: u64| format!("{:.1} s", ms as f64 / 1000.0);
    let cells: Vec<Vec<String>> = entries
        .iter()
        .flat_map(|m| {
            m.steps.iter().map(move |s| {
                vec![
                    m.recipe.clone(),
                    m.arch.clone(),
                    m.key[..12].to_string(),
                    s.name.clone(),
                    secs(s.millis),
                    secs(s.cpu_millis),
                ]
            })
        })
        .collect();
    render(&["RECIPE", "ARCH", "KEY", "STEP", "TOOK", "CPU"], &cells)
}

/// Sizes as `docker image ls` shows them: 1000-based, one decimal under 10.
pub fn human_size(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n}B")
    } else if v < 10.0 {
        format!("{v:.1}{}", units[u])
    } else {
        format!("{v:.0}{}", units[u])
    }
}

/// `recipe verify`'s lines for one file: a verdict line, then each finding.
pub fn verify_text(path: &Path, checked: &Result<verify::ElfReport, String>) -> String {
    let r = match checked {
        Ok(r) => r,
        Err(e) => return format!("{}: FAIL: cannot read: {e}\n", crate::text::path(path)),
    };
    let verdict = if r.passed() { "ok" } else { "FAIL" };
    let mut out = format!(
        "{}: {verdict}: {}\n",
        crate::text::path(path),
        r.description
    );
    for f in &r.findings {
        let sev = match f.severity {
            verify::Severity::Error => "error",
            verify::Severity::Warning => "warning",
            verify::Severity::Info => "note",
        };
        out += &format!("  {sev}: {}\n", f.message);
    }
    out
}

/// `recipe verify --json`'s object for one file.
pub fn verify_json(path: &Path, checked: &Result<verify::ElfReport, String>) -> serde_json::Value {
    match checked {
        Ok(r) => serde_json::json!({
            "path": path,
            "passed": r.passed(),
            "arch": r.arch.map(|a| a.name()),
            "description": r.description,
            "findings": r.findings,
            "facts": r.facts,
        }),
        Err(e) => serde_json::json!({
            "path": path,
            "passed": false,
            "error": format!("cannot read: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(6_340_000), "6.3MB");
        assert_eq!(human_size(27_000_000), "27MB");
    }

    #[test]
    fn table_aligns() {
        let t = table(&[Row {
            image: "redis:7.0.15".into(),
            size: 6_000_000,
            compressed: 2_000_000,
            user: "1000:1000".into(),
            distroless: true,
            arches: vec!["amd64".into(), "arm64".into()],
        }]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].find("SIZE"), lines[1].find("6.0MB"));
    }
}
