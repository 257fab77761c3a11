//! `recipe list`: every recipe of the catalogue, one line each (an invalid one says so).

use super::{Context, Outcome};
use crate::error::Exit;
use crate::recipe;

pub fn run(ctx: &Context) -> Outcome {
    for name in ctx.catalogue.names() {
        match recipe::load(&ctx.catalogue, &name) {
            Ok(r) => outln!(
                "{:<16} {:<12} {:<10} {}",
                r.name,
                r.version,
                r.build.system.name(),
                crate::text::escape(&r.description.unwrap_or_default())
            ),
            // The name is the file's: any bytes a file name may hold, escape sequences too.
            Err(_) => {
                let name = crate::text::escape(&name);
                outln!("{name:<16} (invalid: run `recipe show {name}`)")
            }
        }
    }
    Ok(Exit::Ok)
}
