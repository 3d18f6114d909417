//! `just nats-config`: writes the `nats-server` authorization block (one user per service,
//! permissions from the subject catalogue) for a subject prefix.
//!
//! Usage: `nats-config [<out file> [<prefix>]]` (defaults `deploy/nats/permissions.conf`, `tb`).

use anyhow::Context;
use bus::permissions::{UserAuth, permissions, render};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().map_or_else(|| PathBuf::from("deploy/nats/permissions.conf"), PathBuf::from);
    let prefix = args.next().unwrap_or_else(|| "tb".to_string());
    let subjects = bus::Subjects::new(prefix.clone())?;
    let text = render(&prefix, &permissions(&subjects), |_| UserAuth::PasswordFromEnvironment);
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
