//! Fuzzes `recipe check` on archives: `check_archive` over arbitrary bytes (OCI archives,
//! docker archives, and whatever else a tar can hold: nested indexes, layers gzip or plain,
//! whiteouts, symlinks, ELF and scripts inside), then the report's summary and JSON. Any panic is
//! a crash, even a caught one.
#![no_main]

mod abort_on_panic;
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use recipe::check::{Options, check_archive, render};

fuzz_target!(|data: &[u8]| {
    abort_on_panic::install();
    // Small caps so a claimed size cannot make one input slow; the logic is the same.
    let opts = Options {
        max_json: 1 << 20,
        max_file_size: 8 << 20,
        ..Options::default()
    };
    if let Ok(report) = check_archive(Cursor::new(data), &opts) {
        let _ = report.summary();
        let _ = report.distroless_ready();
        let json = render::json(std::slice::from_ref(&report)).to_string();
        assert!(!json.is_empty());
        assert!(!render::human(std::slice::from_ref(&report)).is_empty());
    }
});
