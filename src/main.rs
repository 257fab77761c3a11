//! The `recipe` executable: parse arguments, run, turn the outcome into an exit code.

fn main() {
    std::process::exit(recipe::cli::main());
}
