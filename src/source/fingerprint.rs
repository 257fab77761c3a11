//! The identity of a local source directory: a sha256 over its files' relative paths, exec
//! bits, symlink targets and contents, in sorted order (`.git` and `target` skipped, as the
//! copy into a build skips them).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

pub fn fingerprint_dir(dir: &Path) -> std::io::Result<String> {
    let mut h = Sha256::new();
    walk(dir, dir, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

fn walk(base: &Path, dir: &Path, h: &mut Sha256) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name == ".git" || name == "target" {
            continue;
        }
        let path = e.path();
        let rel = path
            .strip_prefix(base)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let ty = e.file_type()?;
        if ty.is_symlink() {
            h.update(format!("L {rel} -> {}\n", std::fs::read_link(&path)?.display()).as_bytes());
        } else if ty.is_dir() {
            h.update(format!("D {rel}\n").as_bytes());
            walk(base, &path, h)?;
        } else {
            let meta = e.metadata()?;
            let exec = meta.permissions().mode() & 0o111 != 0;
            h.update(
                format!("F {rel} {} {}\n", meta.len(), if exec { "x" } else { "-" }).as_bytes(),
            );
            let mut f = std::fs::File::open(&path)?;
            let mut buf = [0u8; 1 << 16];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
        }
    }
    Ok(())
}
