//! The command line: arguments, dispatch, progress display and exit codes. The only module
//! that knows about terminals, indicatif and miette's rendering.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use clap::{Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::arch::Arch;
use crate::build::Progress;
use crate::pipeline::{self, Settings};
use crate::recipe::{self, Catalogue};
use crate::report;
use crate::verify;

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum CacheCommand {
    /// List the build cache's entries.
    Ls,
    /// Remove leftovers of interrupted runs and every entry no recipe of the catalogue would
    /// use now (for any arch); with --all, everything.
    Gc {
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build recipes into verified static binaries and a multi-arch distroless image.
    Build {
        #[arg(required = true)]
        names: Vec<String>,
        /// amd64, arm64, armv7, a comma-separated list, or all.
        #[arg(long, default_value = "amd64")]
        arch: String,
        /// Where images and binaries are written (`OUT/NAME/`).
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Compile jobs in all, shared by the builds through a make jobserver (default: the
        /// number of cores); also how many builds run at once.
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Build every job again, replacing its cache entry (checks reproducibility).
        #[arg(long)]
        rebuild: bool,
        /// Also pack an image that runs as this user (`UID:GID` or `nobody`), from the same
        /// binaries: `OUT/NAME-UID-GID/`, tagged `VERSION-UID-GID`. Repeatable.
        #[arg(long = "user", value_name = "UID:GID")]
        users: Vec<String>,
        /// Also write the image as a BuildKit build context in DIR (Dockerfile and one folder
        /// per platform: linux/amd64, ...); one recipe only.
        #[arg(long, value_name = "DIR")]
        emit_context: Option<PathBuf>,
    },
    /// Push a built image (OUT/NAME/oci, every platform) to a registry, digests unchanged.
    Push {
        /// The recipe whose image to push.
        name: String,
        /// Where to: `registry/repository[:tag]` (without a tag, the recipe's version).
        reference: String,
        /// Where `recipe build` wrote the image.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Plain http instead of https (a local registry without TLS).
        #[arg(long)]
        insecure: bool,
    },
    /// Show the job graph (recipe, arch, host or target, cache hit or miss and why) without
    /// building anything.
    Plan {
        #[arg(required = true)]
        names: Vec<String>,
        #[arg(long, default_value = "amd64")]
        arch: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// See and trim the build cache.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// List the recipes.
    List,
    /// Show what a recipe says, validated.
    Show { name: String },
    /// Provision the pinned toolchains (zig, Go) into the cache and show where they are.
    Toolchain {
        /// Print only the path of this toolchain's executable (`zig` or `go`).
        #[arg(long, value_parser = ["zig", "go"])]
        print: Option<String>,
    },
    /// Check that files are fully static ELF executables (for an arch, if given).
    Verify {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        arch: Option<String>,
        /// Print the findings and facts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Can this app go distroless? Checks files, directories (root filesystems, unpacked .debs),
    /// OCI layouts and OCI or docker archives, and gives each app a verdict with reasons.
    Check {
        #[arg(required = true)]
        targets: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only this platform of an image; the arch files must be for.
        #[arg(long)]
        arch: Option<String>,
    },
}

/// Runs the command line and returns the exit code: 0 success, 1 a failed build or check,
/// 2 bad input (arguments, recipes).
pub fn main() -> i32 {
    // First, while `recipe` has one thread: the watchdog and the signal thread.
    crate::process::init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    install_error_style();
    let outcome = run(cli);
    crate::process::settle();
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
            eprintln!(
                "{}",
                crate::text::escape_rendered(&format!("{:?}", failure.report), color)
            );
            failure.code
        }
    }
}

struct Failure {
    report: miette::Report,
    code: i32,
}

fn usage(report: impl Into<miette::Report>) -> Failure {
    Failure {
        report: report.into(),
        code: 2,
    }
}

fn failed(report: impl Into<miette::Report>) -> Failure {
    Failure {
        report: report.into(),
        code: 1,
    }
}

fn install_error_style() {
    let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .terminal_links(false)
                .context_lines(1)
                .wrap_lines(false)
                .build(),
        )
    }));
}

fn default_cache() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(x).join("recipe");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache").join("recipe"),
        None => PathBuf::from(".recipe-cache"),
    }
}

fn run(cli: Cli) -> Result<i32, Failure> {
    let catalogue = Catalogue {
        dirs: std::env::split_paths(&cli.recipes).collect(),
    };
    let cache = cli.cache.clone().unwrap_or_else(default_cache);
    let cache = std::path::absolute(&cache).unwrap_or(cache);
    match cli.command {
        Command::Build {
            names,
            arch,
            out,
            jobs,
            rebuild,
            users,
            emit_context,
        } => {
            let arches = parse_arches(&arch)?;
            let users = users
                .iter()
                .map(|u| crate::recipe::user_option(u).map_err(usage))
                .collect::<Result<Vec<_>, _>>()?;
            if emit_context.is_some() && names.len() > 1 {
                return Err(usage(miette::Report::msg(
                    "--emit-context writes one image's build context: give one recipe",
                )));
            }
            let settings = Settings {
                out: std::path::absolute(&out).unwrap_or(out),
                rebuild,
                users,
                emit_context,
                ..settings(catalogue, cache, jobs)
            };
            let recipes = pipeline::load_all(&settings, &names).map_err(usage)?;
            let progress = Display::new(cli.quiet);
            let built = pipeline::build(&settings, &recipes, &arches, &progress);
            progress.finish();
            let built = built.map_err(failed)?;
            let rows: Vec<report::Row> = built
                .iter()
                .map(|b| report::Row {
                    image: b.image.clone(),
                    size: b
                        .written
                        .platforms
                        .iter()
                        .map(|p| p.uncompressed_size)
                        .max()
                        .unwrap_or(0),
                    compressed: b
                        .written
                        .platforms
                        .iter()
                        .map(|p| p.compressed_size)
                        .max()
                        .unwrap_or(0),
                    user: b.user.clone(),
                    // What `recipe check` says of the image just written, every platform.
                    distroless: crate::check::check_path(&b.layout, &Default::default())
                        .is_ok_and(|r| r.distroless_ready()),
                    arches: b
                        .written
                        .platforms
                        .iter()
                        .map(|p| p.arch.name().to_string())
                        .collect(),
                })
                .collect();
            print!("{}", report::table(&rows));
            for b in &built {
                println!(
                    "{}: {} (index {})",
                    b.recipe.name,
                    b.layout.display(),
                    b.written.index_digest
                );
                println!("{}: {}", b.recipe.name, b.archive.display());
            }
            Ok(0)
        }
        Command::Push {
            name,
            reference,
            out,
            insecure,
        } => {
            let layout = out.join(&name).join("oci");
            if !layout.join("index.json").is_file() {
                return Err(usage(miette::Report::msg(format!(
                    "no image of `{name}` in {}: run `recipe build {name}` first",
                    out.display()
                ))));
            }
            let basic_auth = match std::env::var("REGISTRY_AUTH") {
                Ok(v) => match v.split_once(':') {
                    Some((u, p)) => Some((u.to_string(), p.to_string())),
                    None => {
                        return Err(usage(miette::Report::msg(
                            "REGISTRY_AUTH must be `user:password`",
                        )));
                    }
                },
                Err(_) => None,
            };
            let opts = crate::push::PushOptions {
                insecure,
                basic_auth,
            };
            let progress = Display::new(cli.quiet);
            let pushed = crate::push::push(&layout, &reference, &opts, &progress);
            progress.finish();
            let pushed = pushed.map_err(|e| match e {
                crate::push::PushError::Reference { .. } => usage(e),
                e => failed(e),
            })?;
            println!(
                "pushed {}@{} ({} blobs uploaded, {} already there, {} manifests)",
                pushed.reference, pushed.digest, pushed.uploaded, pushed.present, pushed.manifests
            );
            Ok(0)
        }
        Command::Plan { names, arch, json } => {
            let arches = parse_arches(&arch)?;
            let settings = settings(catalogue, cache, None);
            let recipes = pipeline::load_all(&settings, &names).map_err(usage)?;
            let planned = pipeline::plan(&settings, &recipes, &arches).map_err(usage)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report::plan_json(&planned.graph)).expect("json")
                );
            } else {
                print!("{}", report::plan_table(&planned.graph));
            }
            Ok(0)
        }
        Command::Cache { command } => {
            let store = crate::cache::Cache::new(&cache);
            match command {
                CacheCommand::Ls => {
                    print!("{}", report::cache_table(&store.list()));
                }
                CacheCommand::Gc { all } => {
                    let mut keep = std::collections::BTreeSet::new();
                    if !all {
                        let settings = settings(catalogue.clone(), cache.clone(), None);
                        let names = catalogue.names();
                        let recipes: Vec<_> = names
                            .iter()
                            .filter_map(|n| recipe::load(&catalogue, n).ok())
                            .collect();
                        let planned =
                            pipeline::plan(&settings, &recipes, &Arch::ALL).map_err(usage)?;
                        keep.extend(planned.graph.nodes.iter().map(|n| n.key.clone()));
                    }
                    let (n, bytes) = store.gc(&keep).map_err(failed)?;
                    println!("removed {n} entries ({})", report::human_size(bytes));
                    // Work folders are scratch (kept after a failed build for its log, never read by
                    // a later run): those of jobs no recipe plans now go, the others may be in use.
                    let (mut n, mut bytes) = (0, 0);
                    for e in std::fs::read_dir(cache.join("work"))
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let prefix = name.rsplit('-').next().unwrap_or("");
                        if all || !keep.iter().any(|k| k.starts_with(prefix)) {
                            bytes += crate::cache::dir_size(&e.path());
                            if std::fs::remove_dir_all(e.path()).is_ok() {
                                n += 1;
                            }
                        }
                    }
                    println!("removed {n} work folders ({})", report::human_size(bytes));
                }
            }
            Ok(0)
        }
        Command::List => {
            for name in catalogue.names() {
                match recipe::load(&catalogue, &name) {
                    Ok(r) => println!(
                        "{:<16} {:<12} {:<10} {}",
                        r.name,
                        r.version,
                        r.build.system.name(),
                        crate::text::escape(&r.description.unwrap_or_default())
                    ),
                    Err(_) => println!("{name:<16} (invalid: run `recipe show {name}`)"),
                }
            }
            Ok(0)
        }
        Command::Show { name } => {
            let r = recipe::load(&catalogue, &name).map_err(usage)?;
            print!("{}", show(&r));
            Ok(0)
        }
        Command::Toolchain { print } => {
            let specs = crate::toolchain::Specs::load(
                std::env::var_os("RECIPE_TOOLCHAINS")
                    .map(PathBuf::from)
                    .as_deref(),
            )
            .map_err(failed)?;
            let progress = Display::new(cli.quiet || print.is_some());
            if print.as_deref() != Some("go") {
                let zig = crate::toolchain::provision_zig(&specs.zig, &cache, &mut |m: &str| {
                    progress.note("zig", m)
                })
                .map_err(failed)?;
                // The per-target wrappers too, for use outside recipe (and by the benchmark).
                for arch in Arch::ALL {
                    crate::toolchain::wrappers::write(&zig, arch, &cache).map_err(failed)?;
                }
                match print {
                    Some(_) => println!("{}", zig.exe.display()),
                    None => {
                        println!("zig {}: {}", zig.version, zig.exe.display());
                        for arch in Arch::ALL {
                            let w = crate::toolchain::wrappers::paths(&cache, &zig.version, arch);
                            println!(
                                "  {arch}: CC={} (wrappers in {})",
                                w.cc.display(),
                                w.dir.display()
                            );
                        }
                    }
                }
            }
            if print.as_deref() != Some("zig") {
                let go = crate::toolchain::provision_go(&specs.go, &cache).map_err(failed)?;
                match print {
                    Some(_) => println!("{}", go.exe.display()),
                    None => println!(
                        "go {}: {} (GOTOOLCHAIN=go{})",
                        go.version,
                        go.exe.display(),
                        go.version
                    ),
                }
            }
            Ok(0)
        }
        Command::Verify { paths, arch, json } => {
            let expected = match arch {
                Some(a) => Some(
                    a.parse::<Arch>()
                        .map_err(|e| usage(miette::Report::msg(e.to_string())))?,
                ),
                None => None,
            };
            let mut all_ok = true;
            let mut out = Vec::new();
            for p in &paths {
                let checked = match verify::read_file(p) {
                    Ok(bytes) => Ok(verify::check_elf(&bytes, expected)),
                    Err(e) => Err(e.to_string()),
                };
                all_ok &= checked.as_ref().is_ok_and(|r| r.passed());
                if json {
                    out.push(report::verify_json(p, &checked));
                } else {
                    print!("{}", report::verify_text(p, &checked));
                }
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&out).expect("JSON serialises")
                );
            }
            Ok(if all_ok { 0 } else { 1 })
        }
        Command::Check {
            targets,
            json,
            arch,
        } => {
            let opts = crate::check::Options {
                arch: match arch {
                    Some(a) => Some(
                        a.parse::<Arch>()
                            .map_err(|e| usage(miette::Report::msg(e.to_string())))?,
                    ),
                    None => None,
                },
                ..Default::default()
            };
            let mut reports = Vec::new();
            let mut errors = Vec::new();
            for t in &targets {
                match crate::check::check_path(t, &opts) {
                    Ok(r) => reports.push(r),
                    Err(e) => errors.push(e),
                }
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&crate::check::render::json(&reports))
                        .expect("json")
                );
            } else if !reports.is_empty() {
                print!("{}", crate::check::render::human(&reports));
            }
            let mut errors = errors.into_iter();
            if let Some(first) = errors.next() {
                for e in errors {
                    eprintln!("{:?}", miette::Report::from(e));
                }
                return Err(usage(first));
            }
            Ok(
                if reports.iter().all(crate::check::Report::distroless_ready) {
                    0
                } else {
                    1
                },
            )
        }
    }
}

fn parse_arches(arch: &str) -> Result<Vec<Arch>, Failure> {
    Arch::parse_list(arch).map_err(|e| usage(miette::Report::msg(e.to_string())))
}

fn settings(catalogue: Catalogue, cache: PathBuf, jobs: Option<usize>) -> Settings {
    Settings {
        catalogue,
        cache,
        out: PathBuf::from("out"),
        jobs: jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
        source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        toolchains: std::env::var_os("RECIPE_TOOLCHAINS").map(PathBuf::from),
        rebuild: false,
        users: Vec::new(),
        emit_context: None,
    }
}

fn show(r: &recipe::Recipe) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "name:       {}\nversion:    {}\nlicense:    {}\nhomepage:   {}\n",
        r.name,
        r.version,
        crate::text::escape(&r.license),
        crate::text::escape(&r.homepage)
    ));
    s.push_str(&format!("file:       {}\n", crate::text::path(&r.file)));
    match &r.source {
        recipe::Source::Path(p) => {
            s.push_str(&format!("source:     path {}\n", crate::text::path(p)))
        }
        recipe::Source::Archive {
            sha256,
            origins,
            strip,
        } => {
            s.push_str(&format!("source:     sha256 {sha256} (strip {strip})\n"));
            for o in origins {
                let text = match o {
                    recipe::Origin::Url(u) => crate::text::escape(u).into_owned(),
                    recipe::Origin::Debian {
                        package,
                        version,
                        file,
                    } => format!("debian {package}={version} file {file}"),
                    recipe::Origin::GoModule { module, version } => {
                        format!("go module {module}@{version}")
                    }
                    recipe::Origin::Pypi {
                        package,
                        version,
                        file,
                    } => format!("pypi {package}=={version} file {file}"),
                };
                s.push_str(&format!("  from      {text}\n"));
            }
        }
    }
    s.push_str(&format!("build:      {}\n", r.build.system.name()));
    for a in r.build.per_arch.keys() {
        s.push_str(&format!("  override  {a}\n"));
    }
    s.push_str(&format!("app files:  {}\n", r.app_files.join(", ")));
    if let Some(sm) = &r.smoke {
        s.push_str(&format!(
            "smoke:      {} (expects `{}`)\n",
            sm.command.join(" "),
            sm.expect
        ));
    }
    s.push_str(&format!("entrypoint: {}\n", r.image.entrypoint.join(" ")));
    s.push_str(&format!(
        "user:       {}:{} ({})\n",
        r.image.user.uid, r.image.user.gid, r.image.user.name
    ));
    if !r.image.ports.is_empty() {
        s.push_str(&format!("ports:      {}\n", r.image.ports.join(", ")));
    }
    if !r.image.volumes.is_empty() {
        s.push_str(&format!("volumes:    {}\n", r.image.volumes.join(", ")));
    }
    s
}

/// Progress: one spinner per job on a terminal, plain lines otherwise, nothing with --quiet.
struct Display {
    mode: Mode,
}

enum Mode {
    Quiet,
    Lines,
    Bars {
        multi: MultiProgress,
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
}

impl Display {
    fn new(quiet: bool) -> Display {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars {
                multi: MultiProgress::new(),
                bars: Mutex::new(HashMap::new()),
            }
        } else {
            Mode::Lines
        };
        Display { mode }
    }

    fn finish(&self) {
        if let Mode::Bars { bars, .. } = &self.mode {
            for b in bars.lock().unwrap().values() {
                b.finish();
            }
        }
    }
}

impl Progress for Display {
    fn step(&self, job: &str, step: &str) {
        let (job, step) = (&*crate::text::escape(job), &*crate::text::escape(step));
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{job}: {step}"),
            Mode::Bars { multi, bars } => {
                let mut bars = bars.lock().unwrap();
                let bar = bars.entry(job.to_string()).or_insert_with(|| {
                    let b = multi.add(ProgressBar::new_spinner());
                    b.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<16} {msg} ({elapsed})")
                            .unwrap(),
                    );
                    b.set_prefix(job.to_string());
                    b.enable_steady_tick(std::time::Duration::from_millis(120));
                    b
                });
                bar.set_message(step.to_string());
            }
        }
    }

    fn note(&self, job: &str, message: &str) {
        let (job, message) = (&*crate::text::escape(job), &*crate::text::escape(message));
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{job}: {message}"),
            Mode::Bars { multi, .. } => {
                let _ = multi.println(format!("{job}: {message}"));
            }
        }
    }
}
