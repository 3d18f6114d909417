//! The checked-in `proto/` must be exactly what the code generates. This test only reads the
//! files; `just proto` rewrites them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

fn checked_in(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in walk(dir) {
        let relative = entry.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
        files.insert(relative, std::fs::read_to_string(&entry).unwrap());
    }
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn proto_matches_the_code() {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let generated = bus::catalogue::render(&bus::catalogue::catalogue()).unwrap();
    let on_disk = checked_in(&proto);
    let missing: Vec<_> = generated.keys().filter(|k| !on_disk.contains_key(*k)).collect();
    let stale: Vec<_> = on_disk.keys().filter(|k| !generated.contains_key(*k)).collect();
    let changed: Vec<_> =
        generated.iter().filter(|(k, v)| on_disk.get(*k).is_some_and(|d| d != *v)).map(|(k, _)| k).collect();
    assert!(
        missing.is_empty() && stale.is_empty() && changed.is_empty(),
        "proto/ is out of date; run `just proto`.\nmissing: {missing:?}\nstale: {stale:?}\nchanged: {changed:?}"
    );
}

#[test]
fn nats_permissions_match_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nats/permissions.conf");
    let subjects = bus::Subjects::new("tb").unwrap();
    let generated = bus::permissions::render("tb", &bus::permissions::permissions(&subjects), |_| {
        bus::permissions::UserAuth::PasswordFromEnvironment
    });
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(generated == on_disk, "deploy/nats/permissions.conf is out of date; run `just nats-config`");
}
