//! The command line: arguments, dispatch, progress display and exit codes.

pub fn main() -> i32 {
    0
}
