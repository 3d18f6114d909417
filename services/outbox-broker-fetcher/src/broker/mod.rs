//! Brokers the fetcher reads orders from, behind one [`Broker`] trait.
//!
//! - [`TradierClient`]: Tradier's REST API, `GET /v1/accounts/{account_id}/orders/{id}` with a
//!   bearer token, live or sandbox base URL chosen by the token's [`TradierEnvironment`].
//! - [`SimBroker`]: `SIM` accounts; no network, a deterministic filled order per id.
//!
//! A fetch answers a [`BrokerOrder`] (normalised status, exact decimals, legs, and the broker's
//! own object for the snapshot) or a [`BrokerError`] that says whether trying again can help
//! ([`BrokerError::is_retryable`]) and, for a rate limit, how long to wait
//! ([`BrokerError::retry_after`]). Retrying is the caller's job; nothing here loops.
//!
//! No credential ever reaches a log line, an error message or a `Debug` output: the token is a
//! [`domain::Secret`] until the one header that carries it, and that header is marked
//! sensitive.

mod order;
mod sim;
mod tradier;
mod tradier_wire;

pub use order::{BrokerOrder, OrderStatus};
pub use sim::SimBroker;
pub use tradier::{TradierClient, TradierClientError, TradierConfig};

use crate::domain::failure::FailureCause;
use domain::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Which order to fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderRef<'a> {
    /// The broker's account number (Tradier: `VA000000`-style).
    pub account_number: &'a str,
    /// The broker's order id.
    pub order_id: &'a str,
}

/// Tradier's two environments; each has its own base URL and its own tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradierEnvironment {
    /// `https://api.tradier.com`: real money.
    Live,
    /// `https://sandbox.tradier.com`: paper trading.
    Sandbox,
}

impl TradierEnvironment {
    /// `live` or `sandbox`, as stored with a credential.
    pub fn as_str(self) -> &'static str {
        match self {
            TradierEnvironment::Live => "live",
            TradierEnvironment::Sandbox => "sandbox",
        }
    }
}

impl fmt::Display for TradierEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was neither `live` nor `sandbox`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown Tradier environment (expected live or sandbox)")]
pub struct UnknownEnvironment;

impl FromStr for TradierEnvironment {
    type Err = UnknownEnvironment;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "live" => Ok(TradierEnvironment::Live),
            "sandbox" => Ok(TradierEnvironment::Sandbox),
            _ => Err(UnknownEnvironment),
        }
    }
}

/// A broker credential in memory. `Debug` shows the environment and `Secret(***)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerToken {
    /// The bearer token.
    pub token: Secret,
    /// Which Tradier environment the token belongs to (and so which base URL is used).
    pub environment: TradierEnvironment,
}

/// Why a fetch failed. Messages name what happened and never carry a credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BrokerError {
    /// Connecting, TLS, a reset connection or reading the body failed. Retryable.
    #[error("broker unreachable: {0}")]
    Transport(String),
    /// No complete answer within the request timeout. Retryable.
    #[error("broker did not answer within the request timeout")]
    Timeout,
    /// `429`: wait `retry_after` (until the broker's rate-limit window resets), then retry.
    #[error("broker rate limit reached; retry in {} ms", retry_after.as_millis())]
    RateLimited {
        /// How long until the limit resets.
        retry_after: Duration,
    },
    /// A `5xx` answer. Retryable.
    #[error("broker answered HTTP {status}")]
    Server {
        /// The status code.
        status: u16,
    },
    /// `404` or Tradier's "order not found": right after placement an order may not be visible
    /// yet, so this is retryable; the caller's attempt limit ends a truly unknown order.
    #[error("order not found at the broker (it may not be visible yet)")]
    NotVisible,
    /// `401` / `403`, or no usable credential. Permanent until the credential changes.
    #[error("broker refused the credentials")]
    Unauthorized,
    /// The answer could not be understood (invalid JSON, missing or mistyped fields). Permanent.
    #[error("{0}")]
    Malformed(String),
    /// Any other refusal (another `4xx`, an `errors` payload). Permanent.
    #[error("broker refused the request (HTTP {status}): {message}")]
    Refused {
        /// The status code.
        status: u16,
        /// What the broker said, shortened.
        message: String,
    },
}

impl BrokerError {
    /// Whether trying the same request again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BrokerError::Transport(_)
                | BrokerError::Timeout
                | BrokerError::RateLimited { .. }
                | BrokerError::Server { .. }
                | BrokerError::NotVisible
        )
    }

    /// For a rate limit, how long until it resets; `None` otherwise.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            BrokerError::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// What kind of failure this is, in the terms that decide the client's code.
    pub fn cause(&self) -> FailureCause {
        match self {
            BrokerError::Transport(_) | BrokerError::Timeout => FailureCause::BrokerUnreachable,
            BrokerError::RateLimited { .. } => FailureCause::RateLimited,
            BrokerError::Server { .. } => FailureCause::BrokerServerError,
            BrokerError::NotVisible => FailureCause::OrderNotVisible,
            BrokerError::Unauthorized => FailureCause::CredentialsRefused,
            BrokerError::Malformed(_) => FailureCause::MalformedAnswer,
            BrokerError::Refused { .. } => FailureCause::RequestRefused,
        }
    }
}

/// A broker the fetcher can read orders from.
#[allow(async_fn_in_trait)]
pub trait Broker {
    /// Fetches one order. `token` is the account's credential (`None` for brokers that need
    /// none, such as the simulated one).
    async fn fetch_order(&self, token: Option<&BrokerToken>, order: OrderRef<'_>) -> Result<BrokerOrder, BrokerError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_errors_are_the_ones_time_can_fix() {
        let retryable = [
            BrokerError::Transport("reset".into()),
            BrokerError::Timeout,
            BrokerError::RateLimited { retry_after: Duration::from_secs(2) },
            BrokerError::Server { status: 503 },
            BrokerError::NotVisible,
        ];
        assert!(retryable.iter().all(BrokerError::is_retryable));
        let permanent = [
            BrokerError::Unauthorized,
            BrokerError::Malformed("broker answered invalid JSON: x".into()),
            BrokerError::Refused { status: 400, message: "bad".into() },
        ];
        assert!(!permanent.iter().any(BrokerError::is_retryable));
        assert_eq!(retryable[2].retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(retryable[0].retry_after(), None);
        assert_eq!(retryable[2].to_string(), "broker rate limit reached; retry in 2000 ms");
    }

    #[test]
    fn every_broker_error_has_its_cause() {
        use FailureCause::*;
        let cases = [
            (BrokerError::Transport("connection reset".into()), BrokerUnreachable),
            (BrokerError::Timeout, BrokerUnreachable),
            (BrokerError::RateLimited { retry_after: Duration::from_secs(1) }, RateLimited),
            (BrokerError::Server { status: 502 }, BrokerServerError),
            (BrokerError::NotVisible, OrderNotVisible),
            (BrokerError::Unauthorized, CredentialsRefused),
            (BrokerError::Malformed("broker answered invalid JSON: x".into()), MalformedAnswer),
            (BrokerError::Refused { status: 400, message: "bad".into() }, RequestRefused),
        ];
        for (error, cause) in cases {
            assert_eq!(error.cause(), cause, "{error:?}");
        }
    }

    #[test]
    fn environments_parse_and_print() {
        assert_eq!("live".parse::<TradierEnvironment>(), Ok(TradierEnvironment::Live));
        assert_eq!(" Sandbox ".parse::<TradierEnvironment>(), Ok(TradierEnvironment::Sandbox));
        assert_eq!("paper".parse::<TradierEnvironment>(), Err(UnknownEnvironment));
        assert_eq!(TradierEnvironment::Sandbox.as_str(), "sandbox");
        assert_eq!(serde_json::to_string(&TradierEnvironment::Live).unwrap(), "\"live\"");
    }

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = BrokerToken { token: Secret::new("tradier-token-123"), environment: TradierEnvironment::Live };
        let debug = format!("{token:?}");
        assert!(!debug.contains("tradier-token-123"), "{debug}");
        assert!(debug.contains("Live"), "{debug}");
    }
}
