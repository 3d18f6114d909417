//! The migrations several services share, written once.
//!
//! The outbox and inbox tables (this crate) and the idempotency records (`platform::idempotency`)
//! are created by the same SQL in every service that has them. diesel embeds each service's own
//! `migrations/` folder and has no include, so every service keeps a copy: the SQL lives once in
//! the crate that owns the table (`crates/<crate>/migrations/<name>/`), [`COPIES`] says which
//! service receives it under which version, and `just migrations` writes the copies
//! (`services/<service>/migrations/<version>_<name>/`). A test fails when a copy differs from
//! its source.
//!
//! A migration that mixes a shared table with a service's own tables (the backtest-executor's
//! `backtests`, the fetcher's `prune_indexes`) is not a copy: it stays hand-written.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The crates that hold shared migrations, under `<crate>/migrations/`.
pub const SOURCE_CRATES: [&str; 2] = ["crates/outbox", "crates/platform"];

/// One shared migration: the folder, relative to the workspace root, holding its `up.sql` and
/// `down.sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// The crate that owns the table, e.g. `crates/outbox`.
    pub crate_dir: &'static str,
    /// The migration's name: the source folder, and the copies' folder after the version.
    pub name: &'static str,
}

impl Source {
    const fn outbox(name: &'static str) -> Self {
        Self { crate_dir: SOURCE_CRATES[0], name }
    }

    const fn platform(name: &'static str) -> Self {
        Self { crate_dir: SOURCE_CRATES[1], name }
    }

    /// The source folder, relative to the workspace root.
    pub fn dir(&self) -> PathBuf {
        Path::new(self.crate_dir).join("migrations").join(self.name)
    }
}

/// One service's copy of a shared migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCopy {
    /// The service crate under `services/`.
    pub service: &'static str,
    /// The diesel version the copy has in that service. Once applied it never changes.
    pub version: &'static str,
    /// What the copy holds.
    pub source: Source,
}

impl ServiceCopy {
    const fn new(service: &'static str, version: &'static str, source: Source) -> Self {
        Self { service, version, source }
    }

    /// The copy's folder, relative to the workspace root.
    pub fn dir(&self) -> PathBuf {
        Path::new("services")
            .join(self.service)
            .join("migrations")
            .join(format!("{}_{}", self.version, self.source.name))
    }
}

const OUTBOX_AND_INBOX: Source = Source::outbox("outbox_and_inbox");
const OUTBOX_DEAD_ROWS: Source = Source::outbox("outbox_dead_rows");
const PRUNE_INDEXES: Source = Source::outbox("prune_indexes");
const OUTBOX_LEASE_TOKEN: Source = Source::outbox("outbox_lease_token");
const IDEMPOTENCY_RECORDS: Source = Source::platform("idempotency_records");
const IDEMPOTENCY_TEXT_BODY: Source = Source::platform("idempotency_text_body");

/// Which service receives which shared migration, under which version.
pub const COPIES: &[ServiceCopy] = &[
    ServiceCopy::new("trade-ledger", "2026-11-20-000001", OUTBOX_AND_INBOX),
    ServiceCopy::new("trade-ledger", "2026-11-20-000002", IDEMPOTENCY_RECORDS),
    ServiceCopy::new("trade-ledger", "2026-11-20-000004", IDEMPOTENCY_TEXT_BODY),
    ServiceCopy::new("trade-ledger", "2026-12-07-000001", OUTBOX_DEAD_ROWS),
    ServiceCopy::new("trade-ledger", "2026-12-07-000002", PRUNE_INDEXES),
    ServiceCopy::new("trade-ledger", "2026-12-09-000001", OUTBOX_LEASE_TOKEN),
    // The fetcher's `2026-12-07-000002_prune_indexes` also indexes `fetch_jobs`: its own.
    ServiceCopy::new("outbox-broker-fetcher", "2026-11-20-000001", OUTBOX_AND_INBOX),
    ServiceCopy::new("outbox-broker-fetcher", "2026-12-07-000001", OUTBOX_DEAD_ROWS),
    ServiceCopy::new("outbox-broker-fetcher", "2026-12-09-000001", OUTBOX_LEASE_TOKEN),
    // The executor's outbox and inbox came with its `2026-11-21-000002_backtests`: its own.
    ServiceCopy::new("backtest-executor", "2026-11-20-000001", IDEMPOTENCY_RECORDS),
    ServiceCopy::new("backtest-executor", "2026-11-21-000003", IDEMPOTENCY_TEXT_BODY),
    ServiceCopy::new("backtest-executor", "2026-12-07-000001", OUTBOX_DEAD_ROWS),
    ServiceCopy::new("backtest-executor", "2026-12-07-000002", PRUNE_INDEXES),
    ServiceCopy::new("backtest-executor", "2026-12-09-000001", OUTBOX_LEASE_TOKEN),
    ServiceCopy::new("live-session-runner", "2026-11-20-000001", OUTBOX_AND_INBOX),
    ServiceCopy::new("live-session-runner", "2026-12-07-000001", OUTBOX_DEAD_ROWS),
    ServiceCopy::new("live-session-runner", "2026-12-07-000002", PRUNE_INDEXES),
    ServiceCopy::new("live-session-runner", "2026-12-09-000001", OUTBOX_LEASE_TOKEN),
    // `signals/send` takes an Idempotency-Key.
    ServiceCopy::new("live-session-runner", "2026-12-12-000003", IDEMPOTENCY_RECORDS),
    ServiceCopy::new("live-session-runner", "2026-12-12-000004", IDEMPOTENCY_TEXT_BODY),
];

/// A file of a copy: the source file it is rendered from, and the bytes it must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The source file, relative to the workspace root.
    pub source: PathBuf,
    /// Its content, which the copy holds byte for byte.
    pub content: Vec<u8>,
}

/// Every file of every copy, by path relative to the workspace root.
pub fn render(root: &Path, copies: &[ServiceCopy]) -> io::Result<BTreeMap<PathBuf, Rendered>> {
    let mut files = BTreeMap::new();
    for copy in copies {
        let source_dir = copy.source.dir();
        for (name, content) in files_in(&root.join(&source_dir))? {
            files.insert(copy.dir().join(&name), Rendered { source: source_dir.join(name), content });
        }
    }
    Ok(files)
}

/// Writes every copy under `root`, removing files a copy's folder holds that its source does
/// not. Returns how many files were written.
pub fn write(root: &Path, copies: &[ServiceCopy]) -> io::Result<usize> {
    let files = render(root, copies)?;
    for extra in extra_files(root, copies, &files) {
        std::fs::remove_file(root.join(extra))?;
    }
    for (path, file) in &files {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, &file.content)?;
    }
    Ok(files.len())
}

/// How a service's copy differs from what its source renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The copy lacks a file of its source.
    Missing(PathBuf),
    /// The copy's file differs from its source.
    Changed {
        /// The copy's file.
        copy: PathBuf,
        /// The source it must equal.
        source: PathBuf,
    },
    /// The copy's folder holds a file its source does not.
    Extra(PathBuf),
    /// A source folder no service receives.
    Unused(PathBuf),
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(path) => write!(f, "{} is missing", path.display()),
            Self::Changed { copy, source } => write!(f, "{} differs from {}", copy.display(), source.display()),
            Self::Extra(path) => write!(f, "{} is not in its source", path.display()),
            Self::Unused(path) => write!(f, "{} is copied to no service (declare it in COPIES)", path.display()),
        }
    }
}

/// Compares the copies under `root` with their sources, and finds source folders under
/// [`SOURCE_CRATES`] that no copy uses. Empty when everything is in step.
pub fn drift(root: &Path, copies: &[ServiceCopy]) -> io::Result<Vec<Drift>> {
    let files = render(root, copies)?;
    let mut found = Vec::new();
    for (path, file) in &files {
        match std::fs::read(root.join(path)) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => found.push(Drift::Missing(path.clone())),
            Err(error) => return Err(error),
            Ok(content) if content != file.content => {
                found.push(Drift::Changed { copy: path.clone(), source: file.source.clone() })
            }
            Ok(_) => {}
        }
    }
    found.extend(extra_files(root, copies, &files).into_iter().map(Drift::Extra));
    for crate_dir in SOURCE_CRATES {
        let migrations = Path::new(crate_dir).join("migrations");
        for entry in std::fs::read_dir(root.join(&migrations))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let used = copies.iter().any(|copy| copy.source.crate_dir == crate_dir && copy.source.name == name);
            if entry.file_type()?.is_dir() && !used {
                found.push(Drift::Unused(migrations.join(name)));
            }
        }
    }
    Ok(found)
}

/// Files in the copies' folders that no source renders, relative to `root`.
fn extra_files(root: &Path, copies: &[ServiceCopy], files: &BTreeMap<PathBuf, Rendered>) -> Vec<PathBuf> {
    copies
        .iter()
        .flat_map(|copy| {
            let names = files_in(&root.join(copy.dir())).unwrap_or_default().into_keys();
            names.map(|name| copy.dir().join(name)).collect::<Vec<_>>()
        })
        .filter(|path| !files.contains_key(path))
        .collect()
}

/// The regular files directly in `dir`, by name.
fn files_in(dir: &Path) -> io::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            files.insert(entry.file_name().to_string_lossy().into_owned(), std::fs::read(entry.path())?);
        }
    }
    Ok(files)
}
