//! Fuzzes the static-ELF check: `check_elf` on arbitrary bytes, with no expected arch and with
//! each of ours, and the JSON serialization of every report. Any panic is a crash, even one
//! `check_elf`'s own `catch_unwind` would turn into an "unparsable" finding.
#![no_main]

mod abort_on_panic;

use libfuzzer_sys::fuzz_target;
use recipe::arch::Arch;
use recipe::verify::check_elf;

fuzz_target!(|data: &[u8]| {
    abort_on_panic::install();
    let reports = std::iter::once(None)
        .chain(Arch::ALL.into_iter().map(Some))
        .map(|arch| check_elf(data, arch));
    for report in reports {
        assert!(!report.description.is_empty());
        let json = serde_json::to_string(&report).expect("an ElfReport always serializes");
        assert!(!json.is_empty());
    }
});
