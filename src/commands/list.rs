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
            Err(_) => outln!("{name:<16} (invalid: run `recipe show {name}`)"),
        }
    }
    Ok(Exit::Ok)
}
