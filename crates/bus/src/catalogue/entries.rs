//! The rows of the catalogue: one per subject, one per durable consumer, as `proto/`'s JSON
//! files hold them.

use crate::consumers::ConsumerDef;
use crate::subjects::Subjects;
use serde::Serialize;

/// One subject of the catalogue.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubjectEntry {
    /// The subject with the prefix written as `{prefix}`.
    pub subject: String,
    /// `cmd`, `qry`, `evt` or `md`.
    pub kind: &'static str,
    /// The schema file of the message body.
    pub message: String,
    /// The schema file of the reply body (request/reply subjects only).
    pub reply: Option<String>,
    /// Who publishes (events) or sends (requests).
    pub producer: String,
    /// Who consumes (events) or answers (requests).
    pub consumers: Vec<String>,
    /// The JetStream stream holding the subject (events only).
    pub stream: Option<String>,
    /// What the subject is for.
    pub description: &'static str,
}

/// One durable JetStream consumer of the catalogue.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerEntry {
    /// Its durable name.
    pub durable: &'static str,
    /// The service that runs it.
    pub consumer: String,
    /// The stream it lives in, with the prefix written as `{prefix}`.
    pub stream: String,
    /// The subject it filters on, with the prefix written as `{prefix}`.
    pub filter_subject: String,
    /// Deliveries before the server gives up on a message, `-1` for never.
    pub max_deliver: i64,
    /// Seconds a delivery may stay unacknowledged before it is redelivered.
    pub ack_wait_secs: u64,
    /// What it is for.
    pub description: &'static str,
}

impl ConsumerEntry {
    pub(super) fn of(subjects: &Subjects, def: &ConsumerDef) -> Self {
        let spec = def.spec(subjects);
        Self {
            durable: def.durable,
            consumer: def.consumer.to_string(),
            stream: spec.stream,
            filter_subject: spec.filter_subject,
            max_deliver: spec.max_deliver,
            ack_wait_secs: spec.ack_wait.as_secs(),
            description: def.description,
        }
    }
}
