//! Each service's copy of a shared migration must be exactly its source. This test only reads
//! the files; `just migrations` rewrites the copies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use outbox::shared_migrations::{COPIES, Drift, drift, write};
use std::path::Path;

#[test]
fn service_copies_match_the_shared_sources() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let found = drift(&root, COPIES).expect("reading the migrations");
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        lines.is_empty(),
        "the shared migrations' copies are out of date; run `just migrations`.\n{}",
        lines.join("\n")
    );
}

#[test]
fn a_service_receives_each_shared_migration_once() {
    for (i, copy) in COPIES.iter().enumerate() {
        for other in &COPIES[i + 1..] {
            assert!(
                copy.service != other.service || (copy.version != other.version && copy.source != other.source),
                "{} receives {:?} twice or at one version",
                copy.service,
                copy.source
            );
        }
    }
}

/// The generator and the check on a scratch tree: `write` makes the copies, a hand edit shows
/// up as drift naming the file, and `write` puts it back.
#[test]
fn an_edited_copy_is_named_and_rewritten() {
    let root = std::env::temp_dir().join(format!("shared-migrations-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let source = root.join("crates/outbox/migrations/outbox_and_inbox");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::create_dir_all(root.join("crates/platform/migrations")).unwrap();
    std::fs::write(source.join("up.sql"), "CREATE TABLE outbox ();\n").unwrap();
    std::fs::write(source.join("down.sql"), "DROP TABLE outbox;\n").unwrap();
    let copies: Vec<_> = COPIES.iter().filter(|copy| copy.source.name == "outbox_and_inbox").copied().collect();

    assert_eq!(write(&root, &copies).unwrap(), 2 * copies.len());
    assert_eq!(drift(&root, &copies).unwrap(), vec![]);

    let copy = copies[0].dir().join("up.sql");
    std::fs::write(root.join(&copy), "CREATE TABLE outbox (id uuid);\n").unwrap();
    let found = drift(&root, &copies).unwrap();
    assert_eq!(found, vec![Drift::Changed { copy: copy.clone(), source: copies[0].source.dir().join("up.sql") }]);
    assert!(found[0].to_string().contains(&copy.display().to_string()), "{}", found[0]);

    write(&root, &copies).unwrap();
    assert_eq!(std::fs::read_to_string(root.join(&copy)).unwrap(), "CREATE TABLE outbox ();\n");
    assert_eq!(drift(&root, &copies).unwrap(), vec![]);
    std::fs::remove_dir_all(&root).unwrap();
}
