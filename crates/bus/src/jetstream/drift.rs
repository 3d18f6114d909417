//! What differs between a stream as the server holds it and as the settings define it, and
//! whether NATS 2.9 can change it in place.
//!
//! A stream update on 2.9 may change the subjects, the limits (`max_age`, `max_bytes`), the
//! discard policy, the duplicate window and, on a cluster, the number of replicas (a single
//! server refuses more than one, and says so). It may not change the storage type or the
//! retention policy: those make start-up fail, naming the field, rather than run on a stream
//! that is not what the settings say.

use async_nats::jetstream::stream;
use serde::Serialize;
use std::collections::BTreeSet;

/// One field whose value differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The field as NATS names it in a stream definition (`max_age`, `storage`, ...).
    pub field: &'static str,
    /// What the server has.
    pub current: String,
    /// What the settings ask for.
    pub wanted: String,
}

/// The fields of `wanted` that differ from `current`: the ones an update may change, or the
/// first one it may not (`Err`).
pub fn changes(current: &stream::Config, wanted: &stream::Config) -> Result<Vec<Change>, Change> {
    if current.storage != wanted.storage {
        return Err(change("storage", &current.storage, &wanted.storage));
    }
    if current.retention != wanted.retention {
        return Err(change("retention", &current.retention, &wanted.retention));
    }
    let mut found = Vec::new();
    let subjects = |config: &stream::Config| config.subjects.iter().cloned().collect::<BTreeSet<_>>();
    if subjects(current) != subjects(wanted) {
        found.push(change("subjects", &current.subjects, &wanted.subjects));
    }
    if current.max_age != wanted.max_age {
        found.push(change("max_age", &seconds(current.max_age), &seconds(wanted.max_age)));
    }
    if current.max_bytes != wanted.max_bytes {
        found.push(change("max_bytes", &current.max_bytes, &wanted.max_bytes));
    }
    if current.discard != wanted.discard {
        found.push(change("discard", &current.discard, &wanted.discard));
    }
    if current.duplicate_window != wanted.duplicate_window {
        found.push(change("duplicate_window", &seconds(current.duplicate_window), &seconds(wanted.duplicate_window)));
    }
    // The server reports 1 for a stream created without a replica count.
    if current.num_replicas.max(1) != wanted.num_replicas.max(1) {
        found.push(change("num_replicas", &current.num_replicas, &wanted.num_replicas));
    }
    Ok(found)
}

/// `current` with the updatable fields of `wanted`: everything else the server keeps (or set
/// itself) is sent back unchanged, so the update changes only what the settings define.
pub fn updated(current: &stream::Config, wanted: &stream::Config) -> stream::Config {
    stream::Config {
        subjects: wanted.subjects.clone(),
        max_age: wanted.max_age,
        max_bytes: wanted.max_bytes,
        discard: wanted.discard,
        duplicate_window: wanted.duplicate_window,
        num_replicas: wanted.num_replicas,
        ..current.clone()
    }
}

fn seconds(duration: std::time::Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}

fn change<T: Serialize + std::fmt::Debug>(field: &'static str, current: &T, wanted: &T) -> Change {
    Change { field, current: show(current), wanted: show(wanted) }
}

/// The value as NATS spells it (`file`, `limits`, `["a.>"]`), or as given for plain strings.
fn show<T: Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config() -> stream::Config {
        stream::Config {
            name: "tb_ledger_events".into(),
            subjects: vec!["tb.evt.ledger.>".into()],
            max_age: Duration::from_secs(3600),
            max_bytes: 1024,
            num_replicas: 1,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        }
    }

    #[test]
    fn updatable_fields_are_listed_and_copied_onto_the_current_definition() {
        let current = stream::Config { description: Some("kept".into()), ..config() };
        let wanted = stream::Config {
            max_age: Duration::from_secs(60),
            max_bytes: 2048,
            num_replicas: 3,
            duplicate_window: Duration::from_secs(30),
            ..config()
        };
        let fields: Vec<_> = changes(&current, &wanted).unwrap().into_iter().map(|c| c.field).collect();
        assert_eq!(fields, ["max_age", "max_bytes", "duplicate_window", "num_replicas"]);
        let update = updated(&current, &wanted);
        assert_eq!((update.max_age, update.max_bytes, update.num_replicas), (wanted.max_age, 2048, 3));
        assert_eq!(update.description.as_deref(), Some("kept"));
        assert!(changes(&update, &wanted).unwrap().is_empty());
    }

    #[test]
    fn storage_and_retention_cannot_change() {
        let memory = stream::Config { storage: stream::StorageType::Memory, ..config() };
        let refused = changes(&memory, &config()).unwrap_err();
        assert_eq!((refused.field, refused.current.as_str(), refused.wanted.as_str()), ("storage", "memory", "file"));
        let work_queue = stream::Config { retention: stream::RetentionPolicy::WorkQueue, ..config() };
        assert_eq!(changes(&work_queue, &config()).unwrap_err().field, "retention");
    }

    #[test]
    fn subject_order_and_a_defaulted_replica_count_are_no_change() {
        let current = stream::Config { subjects: vec!["b".into(), "a".into()], num_replicas: 0, ..config() };
        let wanted = stream::Config { subjects: vec!["a".into(), "b".into()], ..config() };
        assert!(changes(&current, &wanted).unwrap().is_empty());
    }
}
