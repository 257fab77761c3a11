//! What the build does with each node, decided once: the plan sets it from the cache's
//! contents, and only the stages that learn more before anything runs revise it (`--rebuild`,
//! an entry that changed since it was made, the remote cache); every later stage (provisioning,
//! the jobserver, the executor, `recipe plan`, `recipe ci`, `recipe cache push`) reads it.

use std::fmt;

use super::Miss;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Reuse its entry in the local cache.
    Reuse,
    /// Its entry is in the remote cache, trusted; the local cache misses it (why). It is fetched
    /// when a job here stands on it, else it stays there.
    Remote(Miss),
    /// Build it (why).
    Build(Miss),
}

impl Action {
    /// The plan's action for a key the local cache has (`None`) or misses (why).
    pub fn from_miss(miss: Option<Miss>) -> Action {
        match miss {
            None => Action::Reuse,
            Some(why) => Action::Build(why),
        }
    }

    /// Why the local cache has no entry to reuse, if it has none.
    pub fn miss(&self) -> Option<&Miss> {
        match self {
            Action::Reuse => None,
            Action::Remote(why) | Action::Build(why) => Some(why),
        }
    }

    pub fn builds(&self) -> bool {
        matches!(self, Action::Build(_))
    }
}

/// As the plan table says it: `hit`, `remote`, `miss: WHY`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Reuse => f.write_str("hit"),
            Action::Remote(_) => f.write_str("remote"),
            Action::Build(why) => write!(f, "miss: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_says_what_it_does_and_why() {
        assert_eq!(Action::from_miss(None), Action::Reuse);
        let build = Action::from_miss(Some(Miss::NotBuiltBefore));
        assert!(build.builds());
        assert_eq!(build.miss(), Some(&Miss::NotBuiltBefore));
        assert_eq!(build.to_string(), format!("miss: {}", Miss::NotBuiltBefore));
        let remote = Action::Remote(Miss::RebuildRequested);
        assert!(!remote.builds());
        assert_eq!(remote.to_string(), "remote");
        assert_eq!(Action::Reuse.to_string(), "hit");
        assert_eq!(Action::Reuse.miss(), None);
    }
}
