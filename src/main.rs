//! The `recipe` executable: parse arguments, run, turn the outcome into an exit code.

fn main() {
    // A compiler wrapper's call (`recipe __recipe-cc ...`), before any start-up of the CLI.
    if let Some(code) = recipe::toolchain::cc::main_if_wrapper() {
        std::process::exit(code);
    }
    // A build step's sandbox (`recipe __sandbox ...`), the same way.
    if let Some(code) = recipe::sandbox::main_if_sandbox() {
        std::process::exit(code);
    }
    std::process::exit(recipe::cli::main());
}
