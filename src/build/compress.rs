//! `[app] compress`: packs a job's verified ELF app files in place, as a step of the job (its
//! command and output in `build.log`), and says what each was before.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{AppFile, BuildError, Run, Tools, append_log, io};
use crate::plan::Job;
use crate::recipe::{Compress, Recipe};
use crate::verify::GoBuildInfo;

/// One packed app file, as its cache entry remembers it: what it was before packing (the
/// verified file) and the Go build info read from it then, which the packed file hides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packed {
    /// The app file's path in the image.
    pub path: String,
    /// The packer and its version: `upx 3.94`.
    pub tool: String,
    /// Size and sha256 of the file before packing.
    pub size: u64,
    pub sha256: String,
    /// Size after packing.
    pub packed_size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<GoBuildInfo>,
    /// The runtime files (CA bundle, zoneinfo, ...) whose paths the unpacked program holds,
    /// which the packed one hides from the image's runtime-file check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime: Vec<String>,
}

/// Packs every ELF file among `files` (each installed file once, however many app files name
/// it) with the recipe's packer; the packed file replaces it with the same mode. Call it after
/// the files were verified and before the smoke test, which then runs the packed program.
pub fn compress(
    recipe: &Recipe,
    job: &Job,
    files: &[AppFile],
    tools: &Tools,
    reports: &crate::verify::Reports,
    progress: &dyn crate::progress::Progress,
) -> Result<Vec<Packed>, BuildError> {
    let Some(how) = recipe.compress else {
        return Ok(Vec::new());
    };
    let mut log = append_log(job).map_err(io("cannot write the log", &job.log))?;
    let id = format!("{}/{}", recipe.name, job.arch.name());
    let out_dir = job.work.join("compress");
    std::fs::create_dir_all(&out_dir).map_err(io("cannot create", &out_dir))?;
    let mut run = Run::new(recipe, job, tools, progress, &id, &mut log);
    let mut done = BTreeSet::new();
    let mut packed = Vec::new();
    for (i, f) in files.iter().enumerate() {
        if !done.insert(f.host_path.clone()) {
            continue;
        }
        let bytes =
            crate::verify::read_file(&f.host_path).map_err(io("cannot read", &f.host_path))?;
        if !bytes.starts_with(b"\x7fELF") {
            continue;
        }
        // What verification read of it (its record), never parsed again here.
        let facts = reports
            .get(&f.image_path)
            .and_then(|(_, r)| r.facts.as_ref());
        let go = facts.and_then(|f| f.go.clone());
        let runtime = facts
            .map(|f| f.runtime_files.iter().map(|r| r.path.clone()).collect())
            .unwrap_or_default();
        let (size, sha256) = (bytes.len() as u64, crate::digest::sha256(&bytes));
        drop(bytes);
        let out = out_dir.join(i.to_string());
        let (argv, tool) = match how {
            Compress::Upx => {
                let upx = tools
                    .upx
                    .as_ref()
                    .expect("UPX is provisioned for every miss that packs");
                // As the step sees them (the job's folder at /build, the cache's toolchains
                // under /recipe/cache in the sandbox), like the strip step's.
                let mut argv = vec![job.view.seen(&upx.exe).display().to_string()];
                argv.extend(crate::toolchain::upx::pack_args(
                    &upx.spec,
                    job.arch,
                    &job.view.seen(&f.host_path),
                    &job.view.seen(&out),
                ));
                (argv, format!("upx {}", upx.version))
            }
        };
        let cmd = crate::plan::Command {
            name: format!("compress {}", f.image_path),
            argv,
            env: crate::process::tool_env().into_iter().collect(),
            cwd: job.view.seen(&job.work),
        };
        run.command(&cmd)?;
        replace_keeping_mode(&out, &f.host_path)?;
        let packed_size = std::fs::metadata(&f.host_path)
            .map_err(io("cannot read", &f.host_path))?
            .len();
        packed.push(Packed {
            path: f.image_path.clone(),
            tool,
            size,
            sha256: sha256.trim_start_matches("sha256:").to_string(),
            packed_size,
            go,
            runtime,
        });
    }
    Ok(packed)
}

/// Moves `packed` over `original`, giving it `original`'s permission bits.
fn replace_keeping_mode(packed: &Path, original: &Path) -> Result<(), BuildError> {
    let perms = std::fs::metadata(original)
        .map_err(io("cannot read", original))?
        .permissions();
    std::fs::set_permissions(packed, perms).map_err(io("cannot set the mode of", packed))?;
    crate::publish::move_path(packed, original).map_err(io("cannot replace", original))
}
