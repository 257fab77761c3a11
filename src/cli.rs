//! The command line: clap's arguments, dispatch to [`crate::commands`], and the one place an
//! outcome becomes an exit code ([`crate::error::ExitCode`]) and an error is drawn (miette, no
//! colour without a terminal or with `NO_COLOR`, escaped by [`crate::text::escape_rendered`]).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::{self, Context};
use crate::error::{Error, ExitCode};

#[derive(Parser, Debug)]
#[command(
    name = "recipe",
    version,
    about = "Build static musl binaries and distroless OCI images from recipe files"
)]
struct Cli {
    /// Where recipe files are looked up: one folder, or several separated by `:` (the first
    /// that has a recipe wins).
    #[arg(long, global = true, env = "RECIPE_RECIPES", default_value = "recipes")]
    recipes: PathBuf,
    /// Cache of sources, toolchains and build directories.
    #[arg(long, global = true, env = "RECIPE_CACHE")]
    cache: Option<PathBuf>,
    /// Show no progress, only results and errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Also show each command a build runs (`redis/amd64: $ make -j2 ...`).
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build recipes into verified static binaries and a multi-arch distroless image.
    Build(commands::build::Args),
    /// Push a built image (OUT/NAME/oci, every platform) to a registry, digests unchanged.
    Push(commands::push::Args),
    /// Show the job graph (recipe, arch, host or target, cache hit or miss and why) without
    /// building anything.
    Plan(commands::plan::Args),
    /// See and trim the build cache.
    Cache {
        #[command(subcommand)]
        command: commands::cache::Args,
    },
    /// List the recipes.
    List,
    /// Show what a recipe says, validated.
    Show(commands::show::Args),
    /// Fetch and unpack a recipe's source into a folder, Debian's patches and the recipe's own
    /// applied: the tree its build starts from.
    Source(commands::source::Args),
    /// Provision the pinned toolchains (zig, Go) into the cache and show where they are.
    Toolchain(commands::toolchain::Args),
    /// Check that files are fully static ELF executables (for an arch, if given).
    Verify(commands::verify::Args),
    /// Can this app go distroless? Checks files, directories (root filesystems, unpacked .debs),
    /// OCI layouts and OCI or docker archives, and gives each app a verdict with reasons.
    Check(commands::check::Args),
    /// Write a first recipe for an app from a Debian source package (`NAME --debian [VERSION]`),
    /// a Go module (`--go MODULE@VERSION`) or a crates.io crate (`--crate NAME[@VERSION]`), and
    /// say what was guessed and what to check.
    New(commands::new::Args),
    /// Each recipe's pinned version against the newest its origin has now (Debian suites'
    /// signed indexes, the Go module proxy) and the pinned toolchains; exit 1 when a security
    /// update is pending.
    Outdated(commands::outdated::Args),
    /// Rewrite a recipe's pins (version, files, sha256s) to a newer version in place, keeping
    /// its comments, and show what `recipe plan` will rebuild.
    Update(commands::update::Args),
    /// Make CI pipelines of the job graph (GitHub Actions, GitLab) that share a signed
    /// remote build cache.
    Ci {
        #[command(subcommand)]
        command: commands::ci::Args,
    },
    /// Make and rotate the keys that sign remote build-cache entries.
    Key {
        #[command(subcommand)]
        command: commands::key::Args,
    },
    /// Run a built image (the build machine's arch) in podman or docker, read-only, without
    /// capabilities, as its user, and send it the recipe's smoke requests from outside.
    Test(commands::test::Args),
}

/// Runs the command line and returns the exit code (the table in [`crate::error`]): 0 done,
/// 1 a build, verification, smoke test, push or check failed, 2 bad input or usage.
pub fn main() -> i32 {
    // First, while `recipe` has one thread: the secrets out of the environment (before the
    // watchdog is forked with a copy of it), then the watchdog and the signal thread.
    crate::secrets::take();
    crate::process::init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let outcome = dispatch(cli);
    crate::process::settle();
    match outcome {
        Ok(exit) => exit.code(),
        Err(e) => {
            eprintln!("{}", render(&e, stderr_color()));
            e.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> commands::Outcome {
    let mut ctx = Context::new(&cli.recipes, cli.cache, cli.quiet);
    ctx.verbose = cli.verbose;
    match cli.command {
        Command::Build(args) => commands::build::run(&ctx, args),
        Command::Push(args) => commands::push::run(&ctx, args),
        Command::Plan(args) => commands::plan::run(&ctx, args),
        Command::Cache { command } => commands::cache::run(&ctx, command),
        Command::List => commands::list::run(&ctx),
        Command::Show(args) => commands::show::run(&ctx, args),
        Command::Source(args) => commands::source::run(&ctx, args),
        Command::Toolchain(args) => commands::toolchain::run(&ctx, args),
        Command::Verify(args) => commands::verify::run(&ctx, args),
        Command::Check(args) => commands::check::run(&ctx, args),
        Command::Test(args) => commands::test::run(&ctx, args),
        Command::New(args) => commands::new::run(&ctx, args),
        Command::Outdated(args) => commands::outdated::run(&ctx, args),
        Command::Update(args) => commands::update::run(&ctx, args),
        Command::Ci { command } => commands::ci::run(&ctx, command),
        Command::Key { command } => commands::key::run(command),
    }
}

fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// `err` drawn as `recipe` prints it on stderr (without the final newline): miette's
/// graphical report (colour and unicode only with `color`), every character from outside
/// escaped.
pub fn render(err: &dyn miette::Diagnostic, color: bool) -> String {
    let handler = miette::MietteHandlerOpts::new()
        .color(color)
        .unicode(color)
        .terminal_links(false)
        .context_lines(1)
        .wrap_lines(false)
        .build();
    struct Drawn<'a>(&'a dyn miette::Diagnostic, &'a miette::MietteHandler);
    impl std::fmt::Display for Drawn<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            miette::ReportHandler::debug(self.1, self.0, f)
        }
    }
    crate::text::escape_rendered(&Drawn(err, &handler).to_string(), color)
}

/// For a command that went on past bad inputs (`verify`, `check`): every error but the first
/// is printed now, the first is returned (and printed last, deciding the exit code).
pub fn first_error(errors: impl IntoIterator<Item = Error>) -> Result<(), Error> {
    let mut errors = errors.into_iter();
    let Some(first) = errors.next() else {
        return Ok(());
    };
    for e in errors {
        eprintln!("{}", render(&e, stderr_color()));
    }
    Err(first)
}
