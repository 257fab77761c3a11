//! Shared by the fuzz targets: any panic aborts, even one the code under test catches (recipe's
//! checks wrap goblin in `catch_unwind`), so libFuzzer reports it as a crash.

use std::sync::Once;

static HOOK: Once = Once::new();

pub fn install() {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default(info);
            std::process::abort();
        }));
    });
}
