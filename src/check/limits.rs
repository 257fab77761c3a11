//! The caps that keep `recipe check` cheap on hostile images, and the metered reader that
//! enforces them while an archive or a layer streams by.
//!
//! Every cap is far above what real images need (the largest real layers decompress to a few
//! GiB, hold a few hundred thousand files, and no image can have more than 127 layers under
//! docker or overlayfs); an image that crosses one is an error naming the cap and the layer.
//! Decompressed bytes are the one cap a test needs small: [`ENV_MAX_UNPACKED`] sets it.
//!
//! There is no compression-ratio guard: gzip cannot expand more than about 1032:1, which real
//! layers reach too (a multi-GiB `/var/log/lastlog` of zeros from a large uid), so a ratio test
//! would misjudge real images while the byte caps already bound the work.

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};
use std::rc::Rc;

/// Longest entry name (a path or a link target) in a layer or an archive: 4096 bytes, Linux's
/// `PATH_MAX`.
pub const MAX_NAME: usize = 4096;
/// Most bytes of headers one entry may bring before its data (its own header, GNU long name and
/// long link, PAX records, sparse maps): 256 KiB. Read before the name can be measured, so it
/// keeps a hostile megabyte-long name from ever being held in memory.
pub const MAX_ENTRY_HEADERS: u64 = 256 << 10;
/// Most entries read out of one layer: 1,000,000.
pub const MAX_LAYER_ENTRIES: usize = 1_000_000;
/// Most entries read out of all the layers of one image platform: 4,000,000.
pub const MAX_IMAGE_ENTRIES: usize = 4_000_000;
/// Most entries applied (read, or replayed from a layer read before) and judged for one
/// target, every platform together: 16,000,000. Platforms with the same layers, arch and
/// config are judged once; this bounds the work of an image whose platforms each list a large
/// layer again in another order (without it, 256 platforms of 4,000,000 entries each).
pub const MAX_TARGET_ENTRIES: usize = 16_000_000;
/// Most bytes of entry names read out of all the layers of one image platform: 256 MiB.
pub const MAX_IMAGE_NAME_BYTES: u64 = 256 << 20;
/// Most layers one image platform may list: 256 (docker and overlayfs stop at 127). A layer
/// listed twice is decompressed once.
pub const MAX_LAYERS: usize = 256;
/// Most bytes one layer may decompress to: 16 GiB (unless [`ENV_MAX_UNPACKED`] is lower).
pub const MAX_LAYER_BYTES: u64 = 16 << 30;
/// Most bytes all the layers of one target (every platform) may decompress to: 64 GiB, or
/// [`ENV_MAX_UNPACKED`].
pub const MAX_IMAGE_BYTES: u64 = 64 << 30;
/// Sets the decompressed-bytes cap of one target (and of each layer, when lower than
/// [`MAX_LAYER_BYTES`]): a size as [`crate::size::parse`] reads it (`512M`, `64MiB`, `16G`).
pub const ENV_MAX_UNPACKED: &str = "RECIPE_CHECK_MAX_UNPACKED";

/// The value of [`ENV_MAX_UNPACKED`], if set: `Err` holds the value that is not a size.
pub fn unpacked_from_env() -> Result<Option<u64>, String> {
    crate::size::from_env(ENV_MAX_UNPACKED)
}

/// Which cap a metered read crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trip {
    /// One entry's headers are larger than [`MAX_ENTRY_HEADERS`].
    Headers,
    /// The layer decompresses to more than this.
    Layer(u64),
    /// The target's layers together decompress to more than this.
    Image(u64),
}

/// The state a [`Metered`] reader shares with the loop that drives the tar reader: where the
/// stream is, the caps, and which one was crossed.
#[derive(Debug)]
pub struct Meter {
    pos: Cell<u64>,
    /// End of the headers of the entry being looked for (`u64::MAX` while data is read).
    entry_end: Cell<u64>,
    /// End the layer may reach, and which cap that is.
    cap: u64,
    cap_trip: Trip,
    tripped: Cell<Option<Trip>>,
}

impl Meter {
    /// A meter for a stream that may read `cap` bytes, reporting `trip` when it tries more.
    pub fn new(cap: u64, trip: Trip) -> Rc<Meter> {
        Rc::new(Meter {
            pos: Cell::new(0),
            entry_end: Cell::new(u64::MAX),
            cap,
            cap_trip: trip,
            tripped: Cell::new(None),
        })
    }

    /// Bytes read so far (the position in the stream).
    pub fn pos(&self) -> u64 {
        self.pos.get()
    }

    /// The headers of the next entry start at or before `data_end` (the previous entry's data,
    /// padded); they may take [`MAX_ENTRY_HEADERS`] bytes past it.
    pub fn headers_from(&self, data_end: u64) {
        self.entry_end
            .set(data_end.max(self.pos()).saturating_add(MAX_ENTRY_HEADERS));
    }

    /// The entry's headers are read: its data may be read up to the layer's cap.
    pub fn data(&self) {
        self.entry_end.set(u64::MAX);
    }

    /// The cap crossed, if any.
    pub fn tripped(&self) -> Option<Trip> {
        self.tripped.get()
    }
}

/// A reader that counts what it reads and fails (recording which cap, in its [`Meter`]) rather
/// than read past the caps.
pub struct Metered<R> {
    inner: R,
    meter: Rc<Meter>,
}

impl<R> Metered<R> {
    pub fn new(inner: R, meter: Rc<Meter>) -> Self {
        Metered { inner, meter }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let m = &self.meter;
        let pos = m.pos.get();
        let (end, trip) = if m.entry_end.get() < m.cap {
            (m.entry_end.get(), Trip::Headers)
        } else {
            (m.cap, m.cap_trip)
        };
        if buf.is_empty() {
            return Ok(0);
        }
        if pos >= end {
            m.tripped.set(Some(trip));
            return Err(io::Error::other("a limit of `recipe check` was crossed"));
        }
        let room = usize::try_from(end - pos)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..room])?;
        m.pos.set(pos + n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Metered<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(to)?;
        self.meter.pos.set(at);
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_stops_at_its_caps() {
        let data = vec![7u8; 10_000];
        let meter = Meter::new(4000, Trip::Layer(4000));
        let mut r = Metered::new(&data[..], meter.clone());
        let mut buf = vec![0u8; 3000];
        assert_eq!(r.read(&mut buf).unwrap(), 3000);
        assert_eq!(r.read(&mut buf).unwrap(), 1000);
        assert!(r.read(&mut buf).is_err());
        assert_eq!(meter.tripped(), Some(Trip::Layer(4000)));

        let meter = Meter::new(u64::MAX, Trip::Image(1));
        let mut r = Metered::new(&data[..], meter.clone());
        meter.headers_from(0);
        assert!(std::io::copy(&mut r, &mut std::io::sink()).is_ok());
        assert_eq!(meter.tripped(), None);
        let big = vec![0u8; (MAX_ENTRY_HEADERS + 10) as usize];
        let meter = Meter::new(u64::MAX, Trip::Image(1));
        let mut r = Metered::new(&big[..], meter.clone());
        meter.headers_from(0);
        assert!(std::io::copy(&mut r, &mut std::io::sink()).is_err());
        assert_eq!(meter.tripped(), Some(Trip::Headers));
        meter.data();
    }
}
