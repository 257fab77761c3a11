//! Why a job builds instead of reusing a cache entry: typed reasons that render themselves (as
//! cargo's `dirty_reason.rs` does), so the plan table, `--json` and tests all read one value.

use std::fmt;

use super::Inputs;

/// Why a node's cache key has no entry to reuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// No entry of this (recipe, arch) was ever made.
    NotBuiltBefore,
    /// The newest entry of this (recipe, arch) was made from other inputs: these.
    Changed(Vec<Change>),
    /// The newest entry has the same inputs but not this key (`recipe`'s own build logic
    /// changed, or the entry was removed).
    NoEntry,
    /// The entry no longer matches the file list it was stored with (what differs, first).
    EntryChanged(String),
    /// `--rebuild`: every job builds again.
    RebuildRequested,
}

/// One input that differs from the newest entry's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Recipe,
    Source,
    Toolchain {
        old: String,
        new: String,
    },
    /// The paths the steps see changed (built with or without the sandbox, or the cache moved
    /// under `--no-sandbox`).
    Paths {
        old: String,
        new: String,
    },
    /// A dependency's key changed (its name, without `host:`).
    Dependency(String),
    /// A dependency the newest entry did not have.
    NewDependency(String),
    /// A dependency the newest entry had and this build has not.
    DroppedDependency(String),
}

impl Miss {
    /// Why `wanted` misses, given the inputs of the newest entry of its (recipe, arch), if any.
    pub fn between(wanted: &Inputs, newest: Option<&Inputs>) -> Miss {
        match newest {
            None => Miss::NotBuiltBefore,
            Some(old) => {
                let changes = Change::between(wanted, old);
                if changes.is_empty() {
                    Miss::NoEntry
                } else {
                    Miss::Changed(changes)
                }
            }
        }
    }
}

impl Change {
    /// What differs from `old` to `new`, in a fixed order: recipe, source, toolchain, paths, then the
    /// dependencies by name.
    pub fn between(new: &Inputs, old: &Inputs) -> Vec<Change> {
        let mut why = Vec::new();
        if new.recipe != old.recipe {
            why.push(Change::Recipe);
        }
        if new.source != old.source {
            why.push(Change::Source);
        }
        if new.toolchain != old.toolchain {
            why.push(Change::Toolchain {
                old: old.toolchain.clone(),
                new: new.toolchain.clone(),
            });
        }
        if new.paths != old.paths {
            why.push(Change::Paths {
                old: old.paths.clone(),
                new: new.paths.clone(),
            });
        }
        let shown = |name: &str| name.trim_start_matches("host:").to_string();
        for (name, key) in &new.deps {
            match old.deps.get(name) {
                Some(k) if k == key => {}
                Some(_) => why.push(Change::Dependency(shown(name))),
                None => why.push(Change::NewDependency(shown(name))),
            }
        }
        for name in old.deps.keys().filter(|n| !new.deps.contains_key(*n)) {
            why.push(Change::DroppedDependency(shown(name)));
        }
        why
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Recipe => f.write_str("recipe changed"),
            Change::Source => f.write_str("source changed"),
            Change::Toolchain { old, new } => write!(f, "toolchain changed ({old} -> {new})"),
            Change::Paths { old, new } => {
                let old = if old.is_empty() { "as is" } else { old };
                write!(f, "paths the steps see changed ({old} -> {new})")
            }
            Change::Dependency(d) => write!(f, "dependency {d} changed"),
            Change::NewDependency(d) => write!(f, "new dependency {d}"),
            Change::DroppedDependency(d) => write!(f, "dependency {d} dropped"),
        }
    }
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::NotBuiltBefore => f.write_str("not built before"),
            Miss::Changed(changes) => {
                for (i, c) in changes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
            Miss::NoEntry => f.write_str("no entry for this key"),
            Miss::EntryChanged(what) => {
                write!(f, "the cache entry changed after it was made: {what}")
            }
            Miss::RebuildRequested => f.write_str("rebuild requested"),
        }
    }
}

/// A miss is written as its sentence (`recipe plan --json`'s `why`).
impl serde::Serialize for Miss {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
