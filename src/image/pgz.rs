//! A gzip writer that deflates on every core and still gives the same bytes on every machine
//! (pigz's scheme): the input is cut into [`CHUNK`]-byte pieces, each deflated on its own
//! thread with the 32 KiB before it as a preset dictionary (so matches reach back across the
//! cut, as in one stream) and ended with a sync flush (an empty stored block that aligns it to a
//! byte), the last one with the final block. The pieces, written in order between one gzip
//! header and trailer, are one valid deflate stream.
//!
//! The output depends only on the input, the level and [`CHUNK`], never on the number of cores
//! or on timing: each piece's bytes are a function of its own input and the 32 KiB before it. At
//! most [`in_flight`] pieces are being deflated at once, so memory stays a few MiB.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, FlushCompress, Status};

/// The size of the pieces deflated apart (changing it changes every layer's bytes).
pub const CHUNK: usize = 1 << 20;
/// Deflate's window: the preset dictionary of a piece is this much of the input before it.
const WINDOW: usize = 32 << 10;
/// The gzip header's OS byte: "unknown" (the same on every machine).
const OS_UNKNOWN: u8 = 255;

/// How many pieces may be deflated at once: two per core, so a core never waits for the writer.
fn in_flight() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// A gzip stream (mtime 0, no name) of what is written, into `W`, deflated in parallel.
pub struct ParGzEncoder<W: Write> {
    out: W,
    level: Compression,
    /// The piece being filled.
    buf: Vec<u8>,
    /// The last [`WINDOW`] bytes of the piece before `buf`.
    dict: Vec<u8>,
    crc: flate2::Crc,
    pending: VecDeque<JoinHandle<io::Result<Vec<u8>>>>,
    max_pending: usize,
}

impl<W: Write> ParGzEncoder<W> {
    pub fn new(mut out: W, level: Compression) -> io::Result<ParGzEncoder<W>> {
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS
        let xfl = match level.level() {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, OS_UNKNOWN])?;
        Ok(ParGzEncoder {
            out,
            level,
            buf: Vec::with_capacity(CHUNK),
            dict: Vec::new(),
            crc: flate2::Crc::new(),
            pending: VecDeque::new(),
            max_pending: in_flight(),
        })
    }

    /// Hands the full piece in `buf` to a thread (writing out the oldest pieces while too many
    /// are in flight).
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let dict = std::mem::take(&mut self.dict);
        if !last {
            self.dict = piece[piece.len().saturating_sub(WINDOW)..].to_vec();
        }
        let level = self.level;
        let handle = std::thread::Builder::new()
            .name("deflate".into())
            .spawn(move || deflate_piece(&piece, &dict, level, last))?;
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

    /// Ends the stream (the last piece, then the trailer) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.dispatch(true)?;
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&self.crc.sum().to_le_bytes());
        trailer[4..].copy_from_slice(&self.crc.amount().to_le_bytes());
        self.out.write_all(&trailer)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParGzEncoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        self.crc.update(&data[..n]);
        if self.buf.len() == CHUNK {
            self.dispatch(false)?;
        }
        Ok(n)
    }

    /// Nothing is flushed before [`ParGzEncoder::finish`]: a flush would cut a piece short and
    /// change the bytes.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Raw deflate of `piece` with `dict` as the preset dictionary, ending in a sync flush, or in
/// the final block when `last`.
fn deflate_piece(piece: &[u8], dict: &[u8], level: Compression, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(level, false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(piece.len() / 2 + 64);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        let consumed = c.total_in() as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let status = c
            .compress_vec(&piece[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let done_in = c.total_in() as usize == piece.len();
        match status {
            Status::StreamEnd => break,
            // A sync flush is complete once all input is in and room was left over.
            Status::Ok | Status::BufError if !last && done_in && out.len() < out.capacity() => {
                break;
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = ParGzEncoder::new(Vec::new(), Compression::new(level)).unwrap();
        // Odd-sized writes, to cross the pieces' edges anywhere.
        for part in data.chunks(77_777) {
            e.write_all(part).unwrap();
        }
        e.finish().unwrap()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
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
        }
        // (GNU gzip, skopeo, umoci and podman read them in the image tests.)
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_cores_and_the_dictionary_keeps_the_size() {
        let data = sample(4);
        let a = gz(&data, 6);
        let mut one = ParGzEncoder::new(Vec::new(), Compression::new(6)).unwrap();
        one.max_pending = 1;
        one.write_all(&data).unwrap();
        assert_eq!(
            one.finish().unwrap(),
            a,
            "one piece at a time, the same bytes"
        );
        // One whole stream of the same level is hardly smaller: the cuts cost a few bytes each.
        let mut whole = flate2::write::GzEncoder::new(Vec::new(), Compression::new(6));
        whole.write_all(&data).unwrap();
        let whole = whole.finish().unwrap();
        assert!(
            a.len() as f64 <= whole.len() as f64 * 1.002,
            "{} against {}",
            a.len(),
            whole.len()
        );
    }
}
