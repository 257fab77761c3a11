//! An image's OpenVEX documents from its cache entries: the Debian records
//! ([`crate::debian::Applied`]) of the app's nodes and of every library they link, read from
//! each entry's `meta.json` (not derived again), made into the copy inside the image and, once
//! the index digest is known, the one beside it ([`crate::vex`] writes the bytes).

use super::Settings;
use crate::build::Progress;
use crate::recipe::Recipe;
use crate::{plan, vex};

/// What the image's OpenVEX documents are made of: each Debian-sourced component as its cache
/// entries recorded it, and the copy inside the image (None: the image states nothing).
pub(super) struct ImageVex {
    pub(super) components: Vec<vex::Component>,
    pub(super) inside: Option<Vec<u8>>,
    /// The documents' `timestamp`: the image's `created` ([`super::pack::image_created`]).
    pub(super) epoch: u64,
}

impl ImageVex {
    /// The document beside the image whose index is `index_digest`.
    pub(super) fn beside(&self, r: &Recipe, index_digest: &str) -> Option<Vec<u8>> {
        let scope = vex::Scope::Image {
            name: &r.name,
            index_digest,
        };
        vex::document(&r.name, &r.version, &self.components, scope, self.epoch)
            .map(|d| vex::to_json(&d))
    }
}

/// The VEX of `r`'s image: the Debian records ([`crate::debian::Applied`]) in the cache entries
/// of its nodes and of every library they reach through `depends` (the SBOM's closure), read
/// from each entry's `meta.json`. A Debian-sourced entry without a record (made by an older
/// `recipe`) gets a warning and no statement: nothing is claimed for it. Its documents are
/// dated `epoch`, the image's `created`.
pub(super) fn image_vex(
    settings: &Settings,
    (r, epoch): (&Recipe, u64),
    graph: &plan::Graph,
    roots: &[usize],
    progress: &dyn Progress,
) -> ImageVex {
    let cache = crate::cache::Cache::new(&settings.cache);
    let mut records = Vec::new();
    for i in graph.linked(roots) {
        let node = &graph.nodes[i];
        if !node.recipe.debian.as_ref().is_some_and(|d| d.is_debians()) {
            continue;
        }
        let why = match cache.meta(&node.key) {
            Ok(meta) => match meta.debian {
                Some(applied) => {
                    records.push(applied);
                    continue;
                }
                None => "its cache entry has no record of Debian's patch series".to_string(),
            },
            Err(why) => format!("its cache entry: {why}"),
        };
        progress.warn(
            &node.id(),
            &format!(
                "the image's VEX states nothing about {}: {why} (`--rebuild` makes one)",
                node.recipe.name
            ),
        );
    }
    let components = vex::components(&records);
    let inside = vex::document(
        &r.name,
        &r.version,
        &components,
        vex::Scope::Components,
        epoch,
    )
    .map(|d| vex::to_json(&d));
    ImageVex {
        components,
        inside,
        epoch,
    }
}
