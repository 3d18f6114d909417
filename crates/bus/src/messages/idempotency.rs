//! `Idempotency-Key` (docs/api/common.md#idempotency): a command may carry the client's key;
//! the service that performs the write keeps the first response and replays it for a repeat.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The client's key and a hash of what it was sent with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyKey {
    /// The `Idempotency-Key` header.
    pub key: String,
    /// Hex SHA-256 of method, path and body: a repeat must match it.
    pub request_hash: String,
}

/// A write command with its optional idempotency key.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Command<T> {
    /// Present when the client sent `Idempotency-Key`.
    pub idempotency: Option<IdempotencyKey>,
    /// The command itself.
    pub command: T,
}

impl<T> Command<T> {
    /// A command without an idempotency key.
    pub fn new(command: T) -> Self {
        Self { idempotency: None, command }
    }
}

/// A command's reply: computed now, or the stored reply of the first request with the key.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Replayable<T> {
    /// Computed by this request.
    Fresh(T),
    /// The first request's reply, byte for byte.
    Replayed(#[schemars(with = "serde_json::Value")] Box<RawValue>),
}
