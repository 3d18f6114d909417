//! Errors on the bus. [`BusError`] is what a responder replies with; [`RequestError`] is what
//! a requester gets, which adds the ways a request fails before any responder decided.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A responder's typed refusal. The gateway maps each kind to its API family's status and body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BusError {
    /// The request is malformed or breaks a rule; repeating it will fail again.
    #[error("invalid: {message}")]
    Invalid {
        /// What is wrong, fit to show to the client.
        message: String,
    },
    /// A record the request names does not exist (or is not the caller's).
    #[error("not found: {message}")]
    NotFound {
        /// What was not found, fit to show to the client.
        message: String,
    },
    /// The request conflicts with the current state (a duplicate, a running job).
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicts, fit to show to the client.
        message: String,
    },
    /// An `Idempotency-Key` was used before with a different request (docs/api/common.md#idempotency: 422).
    #[error("idempotency key reused: {message}")]
    IdempotencyKeyReused {
        /// What happened, fit to show to the client.
        message: String,
    },
    /// The caller may not do this.
    #[error("forbidden: {message}")]
    Forbidden {
        /// Why, fit to show to the client.
        message: String,
    },
    /// The service cannot serve right now (its database is down, it is shutting down); retry.
    #[error("unavailable: {message}")]
    Unavailable {
        /// Why, for logs; clients get their family's generic 503 text.
        message: String,
    },
}

impl BusError {
    /// Whether repeating the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, BusError::Unavailable { .. })
    }

    /// Shorthand for [`BusError::Invalid`].
    pub fn invalid(message: impl Into<String>) -> Self {
        BusError::Invalid { message: message.into() }
    }

    /// Shorthand for [`BusError::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        BusError::NotFound { message: message.into() }
    }

    /// Shorthand for [`BusError::Unavailable`].
    pub fn unavailable(message: impl Into<String>) -> Self {
        BusError::Unavailable { message: message.into() }
    }
}

/// Why a request did not produce a reply value.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Nobody subscribes to the subject: the service is not running.
    #[error("no service answers on {subject}")]
    NoResponders {
        /// The subject asked.
        subject: String,
    },
    /// A responder exists (or existed) but did not answer in time. Unlike the other failures,
    /// the responder may have acted: the gateway answers 504, not 503.
    #[error("no reply on {subject} within {timeout_ms} ms")]
    Timeout {
        /// The subject asked.
        subject: String,
        /// The timeout that ran out.
        timeout_ms: u64,
    },
    /// The NATS connection failed.
    #[error("transport failure on {subject}: {reason}")]
    Transport {
        /// The subject asked.
        subject: String,
        /// The client's error.
        reason: String,
    },
    /// A body could not be encoded or the reply decoded: a contract mismatch between services.
    #[error("bad message on {subject}: {reason}")]
    Codec {
        /// The subject asked.
        subject: String,
        /// The serde error.
        reason: String,
    },
    /// The responder answered with a typed error.
    #[error(transparent)]
    Rejected(#[from] BusError),
}

impl RequestError {
    /// Whether the failure means "the service is not available" and nothing was done: the
    /// gateway answers 503. A [`RequestError::Timeout`] is not: see [`Self::is_timeout`].
    pub fn is_unavailable(&self) -> bool {
        match self {
            RequestError::NoResponders { .. } | RequestError::Transport { .. } => true,
            RequestError::Rejected(error) => error.is_retryable(),
            RequestError::Timeout { .. } | RequestError::Codec { .. } => false,
        }
    }

    /// Whether a responder took the request but its answer did not come in time, so the
    /// outcome is unknown: the gateway answers 504.
    pub fn is_timeout(&self) -> bool {
        matches!(self, RequestError::Timeout { .. })
    }
}

/// The body of a reply: a value or a typed error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reply<T> {
    /// The request succeeded.
    Ok(T),
    /// The responder refused.
    Error(BusError),
}

impl<T> From<Result<T, BusError>> for Reply<T> {
    fn from(result: Result<T, BusError>) -> Self {
        match result {
            Ok(value) => Reply::Ok(value),
            Err(error) => Reply::Error(error),
        }
    }
}

impl<T> From<Reply<T>> for Result<T, BusError> {
    fn from(reply: Reply<T>) -> Self {
        match reply {
            Reply::Ok(value) => Ok(value),
            Reply::Error(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_have_a_stable_wire_shape() {
        let ok: Reply<u32> = Ok(7).into();
        assert_eq!(serde_json::to_value(&ok).unwrap(), serde_json::json!({"ok": 7}));
        let error: Reply<u32> = Err(BusError::not_found("Ticker not found")).into();
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"error": {"kind": "not_found", "message": "Ticker not found"}})
        );
    }

    #[test]
    fn only_unavailability_is_retryable() {
        assert!(BusError::unavailable("db down").is_retryable());
        assert!(!BusError::invalid("bad").is_retryable());
        assert!(RequestError::NoResponders { subject: "x".into() }.is_unavailable());
        assert!(!RequestError::Rejected(BusError::not_found("x")).is_unavailable());
    }

    #[test]
    fn a_timeout_is_not_unavailability() {
        let timeout = RequestError::Timeout { subject: "x".into(), timeout_ms: 5 };
        assert!(timeout.is_timeout() && !timeout.is_unavailable());
        let no_responders = RequestError::NoResponders { subject: "x".into() };
        assert!(!no_responders.is_timeout() && no_responders.is_unavailable());
    }
}
