//! `just migrations`: writes each service's copy of the shared migrations from their sources
//! (`crates/outbox/migrations`, `crates/platform/migrations`); see `outbox::shared_migrations`.

use anyhow::Context;
use outbox::shared_migrations::{COPIES, write};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let root = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    let written =
        write(&root, COPIES).with_context(|| format!("writing the shared migrations under {}", root.display()))?;
    eprintln!("wrote {written} files of {} shared migration copies", COPIES.len());
    Ok(())
}
