//! Packs an arbitrary directory tree into an OCI image layout with recipe's own layer writer,
//! for `scripts/bench-pack.sh`:
//!
//!     cargo run --release --example pack_tree -- DIR OUT_LAYOUT
//!
//! DIR is walked in sorted order; directories become 0755 dirs, regular files 0755 (if any
//! execute bit is set on disk) or 0644 files streamed from disk, symlinks stay symlinks. Other
//! file types and names that are not UTF-8 are refused. One platform (amd64), a default
//! `ImageConfig`, tag `latest`. Prints the layer's compressed and uncompressed sizes.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use recipe::arch::Arch;
use recipe::image::{Entry, ImageConfig, PlatformImage, write_layout};

fn walk(root: &Path, rel: &str, out: &mut Vec<Entry>) -> Result<(), String> {
    let dir = root.join(rel);
    let mut names = Vec::new();
    for e in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let e = e.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = e
            .file_name()
            .into_string()
            .map_err(|n| format!("{}: not UTF-8", dir.join(n).display()))?;
        names.push(name);
    }
    names.sort();
    for name in names {
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let path: PathBuf = root.join(&rel);
        let image_path = format!("/{rel}");
        let meta = fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let ty = meta.file_type();
        if ty.is_symlink() {
            let target = fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let target = target
                .into_os_string()
                .into_string()
                .map_err(|_| format!("{}: link target is not UTF-8", path.display()))?;
            out.push(Entry::symlink(image_path, target));
        } else if ty.is_dir() {
            out.push(Entry::dir(image_path, 0o755));
            walk(root, &rel, out)?;
        } else if ty.is_file() {
            let mode = if meta.permissions().mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            out.push(Entry::file(image_path, mode, path));
        } else {
            return Err(format!("{}: not a file, dir or symlink", path.display()));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, out] = args.as_slice() else {
        eprintln!("usage: pack_tree DIR OUT_LAYOUT");
        return ExitCode::from(2);
    };
    let mut entries = Vec::new();
    if let Err(e) = walk(Path::new(dir), "", &mut entries) {
        eprintln!("pack_tree: {e}");
        return ExitCode::FAILURE;
    }
    let image = PlatformImage {
        arch: Arch::Amd64,
        entries,
        config: ImageConfig::default(),
        history: "pack_tree".into(),
    };
    match write_layout(Path::new(out), "latest", &[image]) {
        Ok(w) => {
            let p = &w.platforms[0];
            println!(
                "layer {} compressed {} bytes, uncompressed {} bytes",
                p.layer_digest, p.compressed_size, p.uncompressed_size
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pack_tree: {e}");
            ExitCode::FAILURE
        }
    }
}
