//! The error contract: what each error means for `recipe`'s exit status, decided here for every
//! variant of every module's error, and [`Error`], the one error a command returns.
//!
//! | code | [`Exit`]  | when |
//! |------|-----------|------|
//! | 0    | `Ok`      | the command did what it was asked; every file verified, every app ready |
//! | 1    | `Failed`  | something was tried and failed: a build step, verification, a smoke test, fetching a source (every origin failed, a wrong sha256 served, a hostile archive), provisioning a toolchain, making the build steps' sandbox (namespaces this machine cannot make: `--no-sandbox` builds anyway), a registry refusing a push or not answering (a registry image to check: no answer or a 5xx), the build cache's disk; a `verify` or `check` verdict that is not a pass; a Debian index the mirror served that is refused (no trusted signature, past `Valid-Until`, another suite's, other bytes than signed); `recipe outdated`: a security update pending for a recipe, or a pin that could not be checked |
//! | 2    | `Usage`   | the input is wrong and retrying cannot help: a recipe mistake (also those found while planning: unknown `${VAR}`, a dependency cycle, a smoke command that is no app file), an unknown recipe or arch, an unreadable or malformed input file (a recipe, a file to verify, a target to check, an image layout to push, a local source folder; a registry image to check that does not resolve, is larger than the caps, or was served with other bytes than its digest, an image for another OS), a bad option or environment value (`--user`, `--emit-context`, `REGISTRY_AUTH`, `RECIPE_REGISTRY_TIMEOUT`, `RECIPE_MAX_DOWNLOAD`, `RECIPE_MAX_EXTRACT`, `RECIPE_CHECK_MAX_UNPACKED`, `RECIPE_TOOLCHAINS`'s file, `--remote-cache`, `--trust`/`RECIPE_CACHE_TRUST`, a signing key); a workflow older than its graph (`recipe ci matrix`); a value `recipe ci` cannot write into a CI file (a control character, `${{`, a malformed reference), a `--schedule` that is no cron line; `recipe source` into a folder that is not empty; for `recipe new`: a recipe of that name already there, a Debian source package or version no configured suite's signed index lists, a Go module version the proxy does not have; `RECIPE_DEBIAN_MIRROR`, `RECIPE_DEBIAN_SUITES`/`--suites`, `RECIPE_DEBIAN_KEYRING`; for `recipe update`: a recipe with no Debian or Go module pin, a `--to` version its release does not list |
//!
//! Argument errors found by clap exit 2 too (and `--help`, `--version` 0), as clap decides.
//! A new error variant is a compile error here until someone decides its row.

use std::path::PathBuf;

use crate::arch::UnknownArch;
use crate::archive::ArchiveError;
use crate::build::BuildError;
use crate::cache::CacheError;
use crate::check::CheckError;
use crate::image::ImageError;
use crate::new::NewError;
use crate::pins::Verdict;
use crate::pins::update::UpdateError;
use crate::pipeline::PipelineError;
use crate::plan::{GraphError, PlanError};
use crate::push::PushError;
use crate::recipe::{LoadError, RecipeError, rules::UserOptionError};
use crate::registry::{AuthError, Failure, RegistryError, SettingError};
use crate::remote::{KeyError, RemoteError};
use crate::sandbox::SandboxError;
use crate::smoke::SmokeError;
use crate::smoke::container::ContainerError;
use crate::source::SourceError;
use crate::toolchain::ToolchainError;

/// `recipe`'s exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Exit {
    /// 0: done.
    Ok = 0,
    /// 1: a build, verification, smoke test, fetch, push or check failed.
    Failed = 1,
    /// 2: bad input or usage.
    Usage = 2,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that knows which exit status it means (the table above).
pub trait ExitCode {
    fn exit(&self) -> Exit;

    fn exit_code(&self) -> i32 {
        self.exit().code()
    }
}

use Exit::{Failed, Usage};

/// Every error a command of `recipe` ends with; [`crate::cli`] renders it and exits with
/// [`ExitCode::exit_code`].
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Push(#[from] PushError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    New(#[from] NewError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Toolchain(#[from] ToolchainError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    UserOption(#[from] UserOptionError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Arch(#[from] UnknownArch),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Update(#[from] UpdateError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sign(#[from] crate::sign::SignError),
    /// `RECIPE_REGISTRY_TIMEOUT`, read by `recipe check` of a registry image.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Setting(#[from] SettingError),
}

/// A mistake in how `recipe` was called that only the command itself can see.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum UsageError {
    #[error("--emit-context writes one image's build context: give one recipe")]
    EmitContextNeedsOne,
    #[error("--key checks the signatures of registry images: every target must be one")]
    #[diagnostic(help("give `HOST[:PORT]/REPO[:TAG|@DIGEST]` targets, or no --key"))]
    KeyNeedsRegistry,
    #[error(
        "no image of `{}` in {}: run `recipe build {}` first",
        crate::text::escape(name),
        crate::text::path(out),
        crate::text::escape(name)
    )]
    NoImage { name: String, out: PathBuf },
    /// A file given to `recipe verify` that cannot be read (its row says so too).
    #[error("cannot read {}: {reason}", crate::text::path(path))]
    Unreadable { path: PathBuf, reason: String },
    #[error(
        "--all: no recipe in {}",
        dirs.iter().map(|d| crate::text::path(d)).collect::<Vec<_>>().join(", ")
    )]
    EmptyCatalogue { dirs: Vec<PathBuf> },
    #[error("`recipe ci` needs --remote-cache: the jobs share their work through it")]
    CiNeedsRemote,
    #[error(
        "{} is not empty: give a folder that does not exist yet",
        crate::text::path(path)
    )]
    NotEmpty { path: PathBuf },
    #[error(
        "`--schedule {}` is not a cron line: give five fields (e.g. `17 4 * * 1`), or `none`",
        crate::text::escape(cron)
    )]
    BadSchedule { cron: String },
    /// A value `recipe ci` would write into the workflow that YAML or the CI engine would
    /// read as more than a value.
    #[error(
        "{option} `{}` cannot go into a CI file: {why}",
        crate::text::escape(value)
    )]
    #[diagnostic(help(
        "give each setup line as its own `--setup`, and repositories as `REGISTRY/NAMESPACE`"
    ))]
    CiValue {
        option: &'static str,
        value: String,
        why: String,
    },
    #[error("the workflow has {levels} levels of jobs, the graph now has {depth}")]
    #[diagnostic(help(
        "run the `recipe ci github` command named in the workflow's first line again, and commit the file"
    ))]
    StaleWorkflow { levels: usize, depth: usize },
    #[error("`recipe cache push` needs --remote-cache (or `RECIPE_REMOTE_CACHE`)")]
    PushNeedsRemote,
    #[error(
        "`recipe cache push` needs a signing key: --signing-key FILE or `RECIPE_CACHE_SIGNING_KEY`"
    )]
    PushNeedsKey,
    #[error("the new key must have another name than the old one (`{name}`)")]
    SameKeyName { name: String },
    #[error("cannot write `{}`", crate::text::path(path))]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ExitCode for Error {
    fn exit(&self) -> Exit {
        match self {
            Error::Load(e) => e.exit(),
            Error::Pipeline(e) => e.exit(),
            Error::Push(e) => e.exit(),
            Error::Check(e) => e.exit(),
            Error::New(e) => e.exit(),
            Error::Cache(e) => e.exit(),
            Error::Toolchain(e) => e.exit(),
            Error::Container(e) => e.exit(),
            Error::Remote(e) => e.exit(),
            Error::Setting(e) => e.exit(),
            Error::Archive(e) => e.exit(),
            Error::Update(e) => e.exit(),
            Error::Sign(e) => e.exit(),
            Error::UserOption(_) | Error::Auth(_) | Error::Arch(_) | Error::Usage(_) => Usage,
        }
    }
}

impl ExitCode for ContainerError {
    fn exit(&self) -> Exit {
        match self {
            ContainerError::NoSmoke { .. } | ContainerError::NoPort { .. } => Usage,
            ContainerError::Engine { .. }
            | ContainerError::Rlimit { .. }
            | ContainerError::Smoke { .. }
            | ContainerError::Failed { .. } => Failed,
        }
    }
}

impl ExitCode for RecipeError {
    fn exit(&self) -> Exit {
        Usage
    }
}

impl ExitCode for LoadError {
    fn exit(&self) -> Exit {
        match self {
            // Unknown names, unreadable recipe files, mistakes in them: all input.
            LoadError::Unknown { .. } | LoadError::Io { .. } | LoadError::Invalid(_) => Usage,
        }
    }
}

impl ExitCode for PlanError {
    fn exit(&self) -> Exit {
        match self {
            PlanError::UnknownVariable { .. } => Usage,
        }
    }
}

impl ExitCode for GraphError {
    fn exit(&self) -> Exit {
        match self {
            GraphError::Recipe(_) | GraphError::Cycle(_) => Usage,
            GraphError::Plan(e) => e.exit(),
        }
    }
}

impl ExitCode for PipelineError {
    fn exit(&self) -> Exit {
        match self {
            PipelineError::Load(e) => e.exit(),
            PipelineError::Graph(e) => e.exit(),
            PipelineError::Cache(e) => e.exit(),
            PipelineError::Toolchain(e) => e.exit(),
            PipelineError::Sandbox(e) => e.exit(),
            PipelineError::Build(e) => e.exit(),
            PipelineError::Remote(e) => e.exit(),
            PipelineError::Verify { .. }
            | PipelineError::EntryGone { .. }
            | PipelineError::EntryMeta { .. }
            | PipelineError::PackedUnknown { .. }
            | PipelineError::Smoke { .. }
            | PipelineError::NotDistroless { .. } => Failed,
            PipelineError::SmokeRun { source, .. } => source.exit(),
            // The recipe's smoke command names no app file; the recipe's user or writable
            // folders break the image rules (checked at load, again when packing).
            PipelineError::SmokeProgram { .. } | PipelineError::UnsafeImage { .. } => Usage,
            PipelineError::Image { source, .. } => source.exit(),
            // A local source folder that cannot be read (a FIFO, a symlink leading out).
            PipelineError::LocalSource { .. } => Usage,
            // Reading what a build installed, the jobserver, the image folder.
            PipelineError::Io { .. } => Failed,
        }
    }
}

impl ExitCode for RemoteError {
    fn exit(&self) -> Exit {
        match self {
            // `--remote-cache`, `--trust`, the signing key, `RECIPE_REGISTRY_TIMEOUT`: input.
            RemoteError::Reference { .. }
            | RemoteError::Key(_)
            | RemoteError::KeyFile { .. }
            | RemoteError::NoTrust
            | RemoteError::Settings(_) => Usage,
            // The registry refused or did not answer; the local entry could not be read.
            RemoteError::Push { .. } | RemoteError::Pack { .. } => Failed,
        }
    }
}

impl ExitCode for ArchiveError {
    fn exit(&self) -> Exit {
        match self {
            // `RECIPE_DEBIAN_SUITES`/`--suites`, `RECIPE_DEBIAN_KEYRING`: input.
            ArchiveError::BadSetting { .. } => Usage,
            ArchiveError::Source(e) => e.exit(),
            // The mirror did not answer, or served an index that is not signed by a trusted
            // key, stale, another suite's, or other bytes than the signed sha256: a fetch failed.
            ArchiveError::Fetch { .. }
            | ArchiveError::BadSignature { .. }
            | ArchiveError::Expired { .. }
            | ArchiveError::WrongSuite { .. }
            | ArchiveError::BadIndex { .. }
            | ArchiveError::Io { .. } => Failed,
        }
    }
}

impl ExitCode for UpdateError {
    fn exit(&self) -> Exit {
        match self {
            // A recipe with nothing to update, a version its release does not list, a recipe
            // file whose pins are not where the format puts them: input.
            UpdateError::NotPinned { .. }
            | UpdateError::ToNeedsOne
            | UpdateError::UnknownVersion { .. }
            | UpdateError::Edit { .. } => Usage,
            UpdateError::Archive(e) => e.exit(),
            UpdateError::Source(e) => e.exit(),
            UpdateError::Toolchain(e) => e.exit(),
            UpdateError::Write { .. } => Failed,
            // Each recipe's own error was printed with its code's reason; some update failed.
            UpdateError::SomeFailed { .. } => Failed,
        }
    }
}

/// `recipe outdated`'s verdict: 1 when a security update is pending for a recipe, or a pin
/// could not be checked; 0 otherwise (a pending update that is not a security update, or a
/// newer version in another release, is shown but exits 0).
impl ExitCode for Verdict {
    fn exit(&self) -> Exit {
        if self.security_pending || self.failed {
            Failed
        } else {
            Exit::Ok
        }
    }
}

impl ExitCode for KeyError {
    fn exit(&self) -> Exit {
        Usage
    }
}

impl ExitCode for CacheError {
    fn exit(&self) -> Exit {
        match self {
            CacheError::Io { .. } => Failed,
        }
    }
}

impl ExitCode for SandboxError {
    fn exit(&self) -> Exit {
        match self {
            // The machine cannot make namespaces: the build was tried and cannot run here.
            SandboxError::Unavailable { .. } => Failed,
        }
    }
}

impl ExitCode for ToolchainError {
    fn exit(&self) -> Exit {
        match self {
            // The toolchain file (compiled in, or `RECIPE_TOOLCHAINS`'s) is input.
            ToolchainError::Spec(_) => Usage,
            ToolchainError::Zig { .. }
            | ToolchainError::Meson { .. }
            | ToolchainError::Go { .. }
            | ToolchainError::Upx { .. }
            | ToolchainError::Rust { .. }
            | ToolchainError::Io { .. } => Failed,
        }
    }
}

impl ExitCode for BuildError {
    fn exit(&self) -> Exit {
        match self {
            BuildError::Source { source, .. } => source.exit(),
            BuildError::Toolchain(e) => e.exit(),
            // The recipe names a patch its source does not have.
            BuildError::Recipe(_) => Usage,
            // Debian's part of the source is not what a source package holds.
            BuildError::DebianSeries { .. } => Failed,
            // A step failed, or it did not install what the recipe lists: found by building.
            BuildError::Step { .. }
            | BuildError::MissingFile { .. }
            | BuildError::BadLink { .. }
            | BuildError::Io { .. } => Failed,
        }
    }
}

impl ExitCode for SourceError {
    fn exit(&self) -> Exit {
        match self {
            // What the recipe or the environment says, wrong before anything is fetched.
            SourceError::BadSha256(_)
            | SourceError::NoOrigins(_)
            | SourceError::BadUrl(_)
            | SourceError::BadName { .. }
            | SourceError::BadLimit { .. }
            | SourceError::BadMirror { .. }
            // A go.mod `replace` the recipe's source cannot satisfy: the recipe's choice.
            | SourceError::GoLocalReplace { .. }
            // A lock file whose crates cannot be pinned: the source the recipe chose.
            | SourceError::CargoLock { .. } => Usage,
            // Every origin failed: input only when each failed for an input reason.
            SourceError::AllOriginsFailed { errors, .. } => {
                if !errors.is_empty() && errors.iter().all(|e| e.exit() == Usage) {
                    Usage
                } else {
                    Failed
                }
            }
            // What an origin served, or the host's tools and disk.
            SourceError::Mismatch { .. }
            | SourceError::HttpStatus { .. }
            | SourceError::Http { .. }
            | SourceError::NotInPool { .. }
            | SourceError::Command { .. }
            | SourceError::UnsafeEntry { .. }
            | SourceError::BadArchive { .. }
            | SourceError::DeclaredTooBig { .. }
            | SourceError::DownloadTooBig { .. }
            | SourceError::ExtractTooBig { .. }
            | SourceError::TooManyEntries { .. }
            | SourceError::DestNotEmpty(_)
            // The module proxy gave no date for a Go module (unreachable, or no `.info`).
            | SourceError::GoModuleUndated { .. }
            | SourceError::Io { .. } => Failed,
        }
    }
}

impl ExitCode for SmokeError {
    fn exit(&self) -> Exit {
        match self {
            // The machine cannot run the test, or the build left no binary to run.
            SmokeError::MissingQemu { .. }
            | SmokeError::NoRunner { .. }
            | SmokeError::MissingBinary(_)
            | SmokeError::Spawn { .. } => Failed,
        }
    }
}

impl ExitCode for ImageError {
    fn exit(&self) -> Exit {
        match self {
            // The recipe's own image values were checked at load: what reaches the image writer
            // wrong came from what the build installed, or from the disk.
            ImageError::InvalidPath { .. }
            | ImageError::Duplicate(_)
            | ImageError::SetId { .. }
            | ImageError::InvalidMode { .. }
            | ImageError::NotADirectory { .. }
            | ImageError::InvalidLinkTarget { .. }
            | ImageError::NotAFile { .. }
            | ImageError::Changed { .. }
            | ImageError::Read { .. }
            | ImageError::Write { .. }
            | ImageError::InvalidTag(_)
            | ImageError::NoPlatforms
            | ImageError::DuplicateArch(_)
            | ImageError::ConfigsDiffer
            | ImageError::UnexpectedFile { .. } => Failed,
            // A layout read back (for an archive or a context) that is not one.
            ImageError::NotALayout(_) | ImageError::BadLayout { .. } => Failed,
        }
    }
}

impl ExitCode for PushError {
    fn exit(&self) -> Exit {
        match self {
            // The layout given is no image; the reference or a setting is malformed; a
            // document to attest beside the image cannot be read.
            PushError::Layout { .. } | PushError::Reference { .. } | PushError::Setting(_) => Usage,
            PushError::Sign(e) => e.exit(),
            PushError::Registry(e) => e.exit(),
        }
    }
}

impl ExitCode for crate::sign::SignError {
    fn exit(&self) -> Exit {
        use crate::sign::SignError;
        match self {
            // A document beside the image or a public key that cannot be used.
            SignError::Document { .. } | SignError::Key { .. } => Usage,
            // Signatures that do not hold, or a registry that does not answer.
            SignError::Refused { .. } | SignError::Registry(_) => Failed,
        }
    }
}

impl ExitCode for RegistryError {
    /// A refusal, a wrong answer or no answer: the push failed.
    fn exit(&self) -> Exit {
        Failed
    }
}

impl ExitCode for SettingError {
    fn exit(&self) -> Exit {
        Usage
    }
}

impl ExitCode for NewError {
    fn exit(&self) -> Exit {
        match self {
            // An existing recipe, a malformed name, a package, version or module that does not
            // exist, a source with no build system `recipe new` knows: retrying cannot help.
            NewError::Exists(_)
            | NewError::BadInput { .. }
            | NewError::UnknownDebian { .. }
            | NewError::NoTarball { .. }
            | NewError::UnknownModule { .. }
            | NewError::UnknownCrate { .. }
            | NewError::BadCrate { .. }
            | NewError::NoCargoLock(_)
            | NewError::NoBinary(_)
            | NewError::NoBuildSystem(_) => Usage,
            // A host tool failed (apt, dpkg-deb), the scratch folder or the recipe could not be
            // written, the crates index answered something else.
            NewError::Tool { .. } | NewError::Io { .. } | NewError::BadIndex { .. } => Failed,
            NewError::CrateChecksum { source, .. } => source.exit(),
            NewError::Source(e) => e.exit(),
            NewError::Archive(e) => e.exit(),
            NewError::Toolchain(e) => e.exit(),
        }
    }
}

impl ExitCode for CheckError {
    fn exit(&self) -> Exit {
        match self {
            // The target cannot be read or is not what it claims; the cap setting is malformed.
            // (A target that reads but is not distroless-ready is a verdict: exit 1.)
            CheckError::Read { .. }
            | CheckError::Corrupt { .. }
            | CheckError::Target { .. }
            | CheckError::Env { .. } => Usage,
            // A target that is neither a file nor a reference, a malformed reference, an image
            // that is not one, larger than the caps, or an engine that cannot save it: input.
            CheckError::NoTarget { .. }
            | CheckError::Reference { .. }
            | CheckError::Pulled { .. }
            | CheckError::TooLarge { .. }
            | CheckError::Engine { .. } => Usage,
            // What the registry served: a tag that does not resolve (404), a refusal, changed
            // bytes are input; no answer, or a server error, is the registry failing.
            CheckError::Fetch { failure, .. } => match failure {
                Failure::Transport(_) => Failed,
                Failure::Status { status, .. } if *status >= 500 => Failed,
                Failure::Status { .. }
                | Failure::Redirect { .. }
                | Failure::Digest { .. }
                | Failure::Protocol(_) => Usage,
            },
        }
    }
}
