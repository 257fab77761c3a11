//! `script`: the recipe's lines, run by `/bin/sh -c` after `set -eu`.

use super::Shared;
use crate::plan::{PlanError, Step};

pub(super) fn steps(b: &Shared) -> Result<Vec<Step>, PlanError> {
    let mut script = String::from("set -eu\n");
    for line in b.subst(&b.o.script)? {
        script.push_str(&line);
        script.push('\n');
    }
    let argv = vec!["/bin/sh".to_string(), "-c".to_string(), script];
    Ok(vec![b.run("script", argv, &b.env, &b.cwd)])
}
