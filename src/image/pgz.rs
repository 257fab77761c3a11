//! A gzip writer that deflates on every core and still gives the same bytes on every machine:
//! the input is cut into [`CHUNK`]-byte pieces, each compressed on its own thread by libdeflate
//! into a gzip member of its own (mtime 0, no name, OS "unknown"), and the members are written in
//! order. A gzip file is a series of members (RFC 1952, 2.2) whose data follow one another, as
//! eStargz layers are: Go's `compress/gzip` (docker, containerd, podman, skopeo, umoci), GNU
//! gzip, zlib's `gzread`, Python and Java read them whole; flate2's `GzDecoder` stops after the
//! first, its `MultiGzDecoder` does not.
//!
//! Why libdeflate and not one deflate stream: libdeflate at level 6 is about a third of GNU
//! `gzip -6`'s CPU time and slightly smaller, where zlib-rs at level 6 was 2% larger (and as
//! small only at level 9, as slow as gzip). Pieces without a shared dictionary cost 0.08%
//! against pieces four times as large (measured on `scripts/bench-pack.sh`'s tree).
//!
//! Another libdeflate may compress the same piece to other bytes: its version is part of
//! [`super::LAYER_FORMAT`], in every image key (Cargo.lock pins it).
//!
//! The output depends only on the input, the level and [`CHUNK`], never on the number of cores
//! or on timing: each member is a function of its own piece. At most [`in_flight`] pieces are
//! being compressed at once, so memory stays a few MiB per core.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::JoinHandle;

use libdeflater::{CompressionLvl, Compressor};

/// The size of the pieces compressed apart (changing it changes every layer's bytes).
pub const CHUNK: usize = 1 << 20;

/// How many pieces may be deflated at once: two per core, so a core never waits for the writer.
fn in_flight() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// A gzip stream of what is written, into `W`, deflated in parallel.
pub struct ParGzEncoder<W: Write> {
    out: W,
    level: CompressionLvl,
    /// The piece being filled.
    buf: Vec<u8>,
    /// Whether a member was written (an empty input still gets one).
    started: bool,
    pending: VecDeque<JoinHandle<io::Result<Vec<u8>>>>,
    max_pending: usize,
}

impl<W: Write> ParGzEncoder<W> {
    /// A writer compressing at libdeflate's `level` (1 to 12).
    pub fn new(out: W, level: i32) -> io::Result<ParGzEncoder<W>> {
        let level = CompressionLvl::new(level)
            .map_err(|e| io::Error::other(format!("deflate level {level}: {e:?}")))?;
        Ok(ParGzEncoder {
            out,
            level,
            buf: Vec::new(),
            started: false,
            pending: VecDeque::new(),
            max_pending: in_flight(),
        })
    }

    /// Hands the piece in `buf` to a thread (writing out the oldest pieces while too many are in
    /// flight).
    fn dispatch(&mut self) -> io::Result<()> {
        let piece = std::mem::take(&mut self.buf);
        let level = self.level;
        self.started = true;
        let handle = std::thread::Builder::new()
            .name("deflate".into())
            .spawn(move || gzip_member(&piece, level))?;
        self.pending.push_back(handle);
        while self.pending.len() > self.max_pending {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(h) = self.pending.pop_front() {
            let bytes = h
                .join()
                .map_err(|_| io::Error::other("a deflate thread panicked"))??;
            self.out.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Ends the stream (the last piece) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.buf.is_empty() || !self.started {
            self.dispatch()?;
        }
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParGzEncoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(CHUNK);
        }
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.dispatch()?;
        }
        Ok(n)
    }

    /// Nothing is flushed before [`ParGzEncoder::finish`]: a flush would cut a piece short and
    /// change the bytes.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `piece` as one gzip member (libdeflate: mtime 0, no name, OS "unknown").
fn gzip_member(piece: &[u8], level: CompressionLvl) -> io::Result<Vec<u8>> {
    let mut c = Compressor::new(level);
    let mut out = vec![0u8; c.gzip_compress_bound(piece.len())];
    let n = c
        .gzip_compress(piece, &mut out)
        .map_err(|e| io::Error::other(format!("deflate: {e:?}")))?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gz(data: &[u8], level: i32) -> Vec<u8> {
        let mut e = ParGzEncoder::new(Vec::new(), level).unwrap();
        // Odd-sized writes, to cross the pieces' edges anywhere.
        for part in data.chunks(77_777) {
            e.write_all(part).unwrap();
        }
        e.finish().unwrap()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    /// Some MiB of text-like data with long-range repeats, and incompressible bytes.
    fn sample(mib: usize) -> Vec<u8> {
        let mut v = Vec::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        while v.len() < mib << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(3) {
                v.extend_from_slice(&x.to_le_bytes());
            } else {
                v.extend_from_slice(format!("line {} of the sample text\n", x % 1000).as_bytes());
            }
        }
        v
    }

    #[test]
    fn what_is_written_comes_back_whole_from_a_standard_gunzip() {
        for data in [Vec::new(), b"x".to_vec(), sample(3), vec![0u8; CHUNK]] {
            let bytes = gz(&data, 6);
            assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0]);
            assert_eq!(gunzip(&bytes), data);
            // One member a piece, an empty input one member too.
            let members = data.len().div_ceil(CHUNK).max(1);
            let mut d = flate2::read::GzDecoder::new(&bytes[..]);
            let mut first = Vec::new();
            d.read_to_end(&mut first).unwrap();
            assert_eq!(first.len(), data.len().min(CHUNK), "{members} members");
        }
        // (GNU gzip, skopeo, umoci and podman read them in the image tests.)
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_cores_and_the_pieces_keep_gzips_size() {
        let data = sample(4);
        let a = gz(&data, 6);
        let mut one = ParGzEncoder::new(Vec::new(), 6).unwrap();
        one.max_pending = 1;
        one.write_all(&data).unwrap();
        assert_eq!(
            one.finish().unwrap(),
            a,
            "one piece at a time, the same bytes"
        );
        // Against zlib's level 6 on one whole stream, the pieces cost little even on this
        // sample, whose repeats cross every cut (on real trees they are smaller: bench-pack).
        let mut whole = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        whole.write_all(&data).unwrap();
        let whole = whole.finish().unwrap();
        assert!(
            a.len() as f64 <= whole.len() as f64 * 1.02,
            "{} against {}",
            a.len(),
            whole.len()
        );
    }

    #[test]
    fn a_level_libdeflate_does_not_have_is_an_error() {
        assert!(ParGzEncoder::new(Vec::new(), 13).is_err());
    }
}
