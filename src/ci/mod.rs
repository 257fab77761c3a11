//! A planned job graph as a CI engine's job graph (pure: text from a [`Spec`]).
//!
//! GitHub Actions cannot make jobs at run time, only matrices: `github.rs` writes a workflow
//! with a `plan` job that prints each level of the graph as a matrix (`recipe ci matrix`: the
//! jobs neither cache has), one job per level (every earlier level in its `needs`, fail-fast
//! off, skipped when its level is empty), and an `images` job that packs every image from the
//! remote cache and pushes it. GitLab runs a child pipeline made at run time: `gitlab.rs`
//! writes one job per node with exactly its dependencies in `needs`. Both are deterministic:
//! the same recipes and options give the same bytes, so CI can check a committed file.

pub mod github;
pub mod gitlab;

use serde::Serialize;

use crate::plan::Graph;
/// A job line's words are quoted like every shell word `recipe` writes.
pub use crate::text::shell_word;

/// One job of the graph as a CI job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub recipe: String,
    pub arch: String,
    /// 0 for a job with no dependencies, else one more than its deepest dependency.
    #[serde(skip)]
    pub level: usize,
    /// The jobs (`recipe/arch`) it needs built first.
    #[serde(skip)]
    pub needs: Vec<String>,
    /// Neither the local nor the remote cache has it.
    #[serde(skip)]
    pub builds: bool,
}

impl Job {
    pub fn id(&self) -> String {
        format!("{}/{}", self.recipe, self.arch)
    }
}

/// What the generated file is about.
#[derive(Debug, Clone)]
pub struct Spec {
    /// How the file was made, for its header and `--check` (`recipe ci github ...`).
    pub command: String,
    /// `--recipes`, when not `recipes` (given to every job as `RECIPE_RECIPES`).
    pub recipes: Option<String>,
    /// The recipes to build (`--all` when empty) and the apps among them (their images).
    pub names: Vec<String>,
    pub apps: Vec<String>,
    /// `--arch` as the builds take it.
    pub arch: String,
    pub jobs: Vec<Job>,
    pub remote_cache: String,
    pub trust: Vec<String>,
    /// Where images are pushed (`REGISTRY/NAMESPACE`: each app as `NAMESPACE/NAME:VERSION`);
    /// none: images are built, not pushed.
    pub image_repo: Option<String>,
    /// Shell lines that make `recipe` and what builds need available on a fresh runner.
    pub setup: Vec<String>,
    /// A plain-http registry (one on 127.0.0.1, for a local run).
    pub insecure: bool,
    /// GitHub: when scheduled runs start (a cron line); none: no scheduled runs.
    pub schedule: Option<String>,
    /// GitLab: every job applies pending security updates to the recipes first (the parent
    /// job passes it on scheduled pipelines; GitHub's jobs do it on `schedule` events).
    pub security_updates: bool,
}

/// What a job runs, before anything else, to bring the recipes to the security uploads of
/// their Debian releases: the report (a pending update exits 1, which is why `|| true`), then
/// the update of exactly those pins. Every job runs it, so all of a run's jobs plan the same
/// keys (each runner has its own checkout). A recipe whose update cannot be had (its files not
/// served) keeps its pin and is named in the log; the others still reach the images.
pub const SECURITY_UPDATE: [&str; 2] = [
    "recipe outdated --all || true",
    "recipe update --security --all || echo 'recipe update: some security updates could not be applied; see above'",
];

/// The default `--schedule`: weekly, Monday 04:17 UTC.
pub const WEEKLY: &str = "17 4 * * 1";

/// Whether `cron` is a five-field cron line (digits, names, `*`, `/`, `,`, `-` only).
pub fn is_cron(cron: &str) -> bool {
    let fields: Vec<&str> = cron.split(' ').collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "*/,-".contains(c))
        })
}

impl Spec {
    /// How many levels the graph has.
    pub fn depth(&self) -> usize {
        self.jobs.iter().map(|j| j.level + 1).max().unwrap_or(0)
    }

    /// The variables every job gets (GitHub's `env`, GitLab's `variables`), as YAML lines
    /// indented by two spaces.
    pub fn variables(&self) -> String {
        let mut v = Vec::new();
        if let Some(dir) = &self.recipes {
            v.push(("RECIPE_RECIPES", dir.clone()));
        }
        v.push(("RECIPE_REMOTE_CACHE", self.remote_cache.clone()));
        v.push(("RECIPE_CACHE_TRUST", self.trust.join(" ")));
        if self.insecure {
            v.push(("RECIPE_REMOTE_CACHE_INSECURE", "true".into()));
        }
        if let Some(repo) = &self.image_repo {
            v.push(("RECIPE_IMAGE_REPO", repo.clone()));
        }
        v.iter()
            .map(|(k, val)| format!("  {k}: {}\n", quote(val)))
            .collect()
    }

    /// The targets as `recipe` takes them: the names, or `--all`.
    pub fn targets(&self) -> String {
        if self.names.is_empty() {
            "--all".into()
        } else {
            self.names
                .iter()
                .map(|n| shell_word(n))
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
}

/// The graph's nodes as CI jobs, in graph order (dependencies first).
pub fn jobs(g: &Graph) -> Vec<Job> {
    let mut level = vec![0usize; g.nodes.len()];
    // Nodes come after the nodes they need, so one pass sees every dependency's level first.
    for (i, n) in g.nodes.iter().enumerate() {
        level[i] = n
            .deps
            .iter()
            .chain(&n.host_deps)
            .map(|&d| level[d] + 1)
            .max()
            .unwrap_or(0);
    }
    g.nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Job {
            recipe: n.recipe.name.clone(),
            arch: n.arch.name().to_string(),
            level: level[i],
            needs: n
                .deps
                .iter()
                .chain(&n.host_deps)
                .map(|&d| g.nodes[d].id())
                .collect(),
            builds: n.builds(),
        })
        .collect()
}

/// `levelN=JSON` lines for `$GITHUB_OUTPUT`: each level's jobs that must be built, as a
/// matrix (`[]` for none), for `levels` levels. `Err` gives the graph's depth when it has more
/// levels than the workflow (made before a recipe gained a dependency).
pub fn matrix(jobs: &[Job], levels: usize) -> Result<String, usize> {
    let depth = jobs.iter().map(|j| j.level + 1).max().unwrap_or(0);
    if depth > levels {
        return Err(depth);
    }
    let mut out = String::new();
    for l in 0..levels {
        let these: Vec<&Job> = jobs.iter().filter(|j| j.level == l && j.builds).collect();
        out.push_str(&format!(
            "level{l}={}\n",
            serde_json::to_string(&these).expect("json")
        ));
    }
    Ok(out)
}

/// Whether `c` may not appear raw in a generated file: a control character (line breaks, NEL
/// and DEL included) or one of YAML 1.1's other line breaks (LS, PS) or a byte-order mark.
fn breaks_yaml(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// Why a value given to `recipe ci` (a setup line, a repository, a folder) cannot be written
/// into a workflow: a character that would end the YAML line it stands on (and start a job of
/// the attacker's), any other control character but a tab, or `${{`, which GitHub evaluates wherever it appears (a secret, for one).
/// The references are checked by their own parsers; this is what every value must pass.
pub fn check_value(value: &str) -> Result<(), &'static str> {
    if value.contains("${{") {
        return Err("`${{` starts a GitHub expression, which would be evaluated in the workflow");
    }
    if value.chars().any(|c| c != '\t' && breaks_yaml(c)) {
        return Err("it holds a line break or another control character");
    }
    Ok(())
}

/// `s` as a YAML double-quoted scalar: `"` and `\\` escaped, and every character that is not
/// printable or that YAML takes for a line break as an escape (`\\n`, `\\u2028`), so a value
/// always stays one scalar on one line, whatever it holds.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if breaks_yaml(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` for the text of a YAML comment line: a character that would end the line escaped (the
/// values in it were checked by [`check_value`]; this keeps the comment one line regardless).
pub fn comment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c != '\t' && breaks_yaml(c) {
                format!("\\u{:04x}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(recipe: &str, arch: &str, level: usize, builds: bool) -> Job {
        Job {
            recipe: recipe.into(),
            arch: arch.into(),
            level,
            needs: Vec::new(),
            builds,
        }
    }

    #[test]
    fn the_matrix_lists_each_level_of_what_builds() {
        let jobs = [
            job("zlib", "amd64", 0, true),
            job("zlib", "arm64", 0, false),
            job("curl", "amd64", 1, true),
        ];
        assert_eq!(
            matrix(&jobs, 3).unwrap(),
            "level0=[{\"recipe\":\"zlib\",\"arch\":\"amd64\"}]\n\
             level1=[{\"recipe\":\"curl\",\"arch\":\"amd64\"}]\n\
             level2=[]\n"
        );
        assert_eq!(matrix(&jobs, 1), Err(2));
    }

    #[test]
    fn words_are_quoted_for_the_shell_and_yaml() {
        assert_eq!(shell_word("curl"), "curl");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "\"it's\"");
        assert_eq!(shell_word(""), "''");
        assert_eq!(quote("a: \"b\"\n"), "\"a: \\\"b\\\"\\n\"");
    }

    #[test]
    fn every_value_stays_one_yaml_scalar() {
        for raw in [
            "a\nb: c",
            "a\rb",
            "x\u{85}y",
            "x\u{2028}y\u{2029}",
            "\u{7f}\u{1b}[2J",
            "\\\"",
            "plain",
        ] {
            let q = quote(raw);
            assert!(
                !q.chars().skip(1).take(q.len() - 2).any(breaks_yaml),
                "{q:?}"
            );
            // Read back as the value given (YAML's double-quoted scalars take JSON's escapes).
            let back: String = serde_json::from_str(&q).unwrap();
            assert_eq!(back, raw);
            assert!(!comment(raw).chars().any(breaks_yaml));
        }
        assert!(check_value("${{ secrets.KEY }}").is_err());
        assert!(check_value("a\rb").is_err());
        assert!(check_value("sudo apt-get install -y qemu-user-static").is_ok());
    }
}
