//! `just proto`: writes the NATS catalogue and message schemas into `proto/`.

use anyhow::Context;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let out = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("proto"));
    let files = bus::catalogue::render(&bus::catalogue::catalogue()).context("rendering the catalogue")?;
    // Start from an empty schemas folder so a removed message leaves no stale file behind.
    let schemas = out.join("schemas");
    if schemas.exists() {
        std::fs::remove_dir_all(&schemas).with_context(|| format!("clearing {}", schemas.display()))?;
    }
    for (path, content) in &files {
        let target = out.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&target, content).with_context(|| format!("writing {}", target.display()))?;
    }
    eprintln!("wrote {} files under {}", files.len(), out.display());
    Ok(())
}
