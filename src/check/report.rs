//! What `recipe check` says of a target: a report per platform, an app's verdict with its
//! reasons and findings, evidence of language runtimes, and the counts per verdict. The model
//! only: [`super::verdict`] judges, [`super::render`] prints, `--json` serialises these.

use serde::Serialize;

use super::{Verdict, analyse};
use crate::arch::Arch;
use crate::verify::{ElfFacts, Finding};

/// What kind of target was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    File,
    Directory,
    OciLayout,
    OciArchive,
    DockerArchive,
    /// An image pulled from a registry.
    Registry,
}

/// One app (or other executable) and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct App {
    /// The path as found (the entrypoint as written, for an image).
    pub path: String,
    /// Where symlinks led, when elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    pub verdict: Verdict,
    pub summary: String,
    pub reasons: Vec<String>,
    /// `check_elf`'s one-line description, for ELF files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<ElfFacts>,
}

/// Evidence of a language runtime in the tree.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub runtime: &'static str,
    pub files: usize,
    pub example: String,
}

/// One platform of an image, or the one tree of a directory or file.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformReport {
    /// `linux/arm/v7` for an image; None for a file or directory.
    pub platform: Option<String>,
    pub arch: Option<Arch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The apps: the entrypoint of an image, every executable of a directory.
    pub apps: Vec<App>,
    /// An image's executables other than its entrypoint; a directory's outside `bin`, `sbin`
    /// and `libexec`.
    pub other_executables: Vec<App>,
    /// Executables a container does not need: service-manager glue, plugins of other programs.
    pub glue: Vec<analyse::Glue>,
    /// The one answer for the app: can it go distroless, and what it takes.
    pub answer: Option<analyse::Answer>,
    pub runtimes: Vec<Evidence>,
    pub notes: Vec<String>,
}

/// Counts of apps per verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub apps: usize,
    pub distroless_ready: usize,
    pub ready_after_static_rebuild: usize,
    pub needs_runtime: usize,
    pub unreadable: usize,
}

impl Summary {
    fn add(&mut self, v: Verdict) {
        self.apps += 1;
        *match v {
            Verdict::DistrolessReady => &mut self.distroless_ready,
            Verdict::ReadyAfterStaticRebuild => &mut self.ready_after_static_rebuild,
            Verdict::NeedsRuntime => &mut self.needs_runtime,
            Verdict::Unreadable => &mut self.unreadable,
        } += 1;
    }
    pub fn merge(&mut self, o: &Summary) {
        self.apps += o.apps;
        self.distroless_ready += o.distroless_ready;
        self.ready_after_static_rebuild += o.ready_after_static_rebuild;
        self.needs_runtime += o.needs_runtime;
        self.unreadable += o.unreadable;
    }
    /// Everything checked is distroless-ready (and there was something to check).
    pub fn all_ready(&self) -> bool {
        self.apps > 0 && self.apps == self.distroless_ready
    }
}

/// What `recipe check` found about one target.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub kind: TargetKind,
    pub platforms: Vec<PlatformReport>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for p in &self.platforms {
            for a in &p.apps {
                s.add(a.verdict);
            }
        }
        s
    }

    /// Every app of every platform is distroless-ready, and every platform has one.
    pub fn distroless_ready(&self) -> bool {
        !self.platforms.is_empty()
            && self.platforms.iter().all(|p| !p.apps.is_empty())
            && self.summary().all_ready()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts() {
        let mut s = Summary::default();
        s.add(Verdict::DistrolessReady);
        assert!(s.all_ready());
        s.add(Verdict::NeedsRuntime);
        assert!(!s.all_ready());
        assert!(!Summary::default().all_ready());
    }
}
