//! Scripted misbehaviour: one [`Step`] is consumed per `GET` of the order it is scripted for;
//! when the script is empty the order is answered normally again.

use serde::{Deserialize, Serialize};

/// How long [`Step::Timeout`] holds a request: longer than any sane client timeout.
pub const TIMEOUT_HOLD_MS: u64 = 60_000;

/// One scripted answer. On the wire (`POST /_sim/accounts/{account}/orders/{id}/script`, a JSON
/// array) each step is tagged by `kind`, fields in camelCase:
/// `{"kind":"delay","ms":200}`, `{"kind":"rate_limited","resetInMs":500}`,
/// `{"kind":"server_error","status":503}`, `{"kind":"timeout"}`, `{"kind":"reset"}`,
/// `{"kind":"not_found"}`, `{"kind":"malformed"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Step {
    /// Wait `ms`, then answer normally.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// `429 Too Many Requests` with Tradier's rate-limit headers, `X-Ratelimit-Available: 0` and
    /// `X-Ratelimit-Expiry` (epoch milliseconds) `reset_in_ms` from now.
    RateLimited {
        /// Milliseconds until the limit resets.
        reset_in_ms: u64,
    },
    /// An HTTP error status (meant for 5xx) with a plain-text body.
    ServerError {
        /// The status code; anything that is not a valid status becomes 500.
        status: u16,
    },
    /// Hold the request for [`TIMEOUT_HOLD_MS`] (or until the simulator stops), then answer
    /// normally.
    Timeout,
    /// Close the connection without writing any response.
    Reset,
    /// `404` with Tradier's `errors` payload, as for an order that is unknown or not visible yet.
    NotFound,
    /// `200`, `application/json`, with the normal body cut in half (invalid JSON).
    Malformed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_use_the_documented_wire_shape() {
        let steps: Vec<Step> = serde_json::from_str(
            r#"[{"kind":"delay","ms":5},{"kind":"rate_limited","resetInMs":500},{"kind":"server_error","status":503},
                {"kind":"timeout"},{"kind":"reset"},{"kind":"not_found"},{"kind":"malformed"}]"#,
        )
        .unwrap();
        assert_eq!(
            steps,
            vec![
                Step::Delay { ms: 5 },
                Step::RateLimited { reset_in_ms: 500 },
                Step::ServerError { status: 503 },
                Step::Timeout,
                Step::Reset,
                Step::NotFound,
                Step::Malformed,
            ]
        );
        assert_eq!(
            serde_json::to_string(&Step::RateLimited { reset_in_ms: 500 }).unwrap(),
            r#"{"kind":"rate_limited","resetInMs":500}"#
        );
    }
}
