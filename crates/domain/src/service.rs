//! The backend services by name. The bus builds subjects from [`ServiceName::context`], and
//! the gateway's `/status` reports each service under [`ServiceName::as_str`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the four backend services behind the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceName {
    /// `trade-ledger`: the system of record.
    TradeLedger,
    /// `outbox-broker-fetcher`: broker order details.
    OutboxBrokerFetcher,
    /// `backtest-executor`: backtests over stored candles.
    BacktestExecutor,
    /// `live-session-runner`: hosted bots on live quotes.
    LiveSessionRunner,
}

impl ServiceName {
    /// Every backend service, in the order `/status` lists them.
    pub const ALL: [ServiceName; 4] = [
        ServiceName::TradeLedger,
        ServiceName::OutboxBrokerFetcher,
        ServiceName::BacktestExecutor,
        ServiceName::LiveSessionRunner,
    ];

    /// The service's name as deployed (binary, package, `/status` key).
    pub const fn as_str(self) -> &'static str {
        match self {
            ServiceName::TradeLedger => "trade-ledger",
            ServiceName::OutboxBrokerFetcher => "outbox-broker-fetcher",
            ServiceName::BacktestExecutor => "backtest-executor",
            ServiceName::LiveSessionRunner => "live-session-runner",
        }
    }

    /// The short context token used in NATS subjects and stream names (`tb.qry.ledger...`).
    pub const fn context(self) -> &'static str {
        match self {
            ServiceName::TradeLedger => "ledger",
            ServiceName::OutboxBrokerFetcher => "fetcher",
            ServiceName::BacktestExecutor => "backtest",
            ServiceName::LiveSessionRunner => "live",
        }
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_match_deployed_names() {
        for service in ServiceName::ALL {
            let json = serde_json::to_value(service).unwrap();
            assert_eq!(json, service.as_str());
        }
    }
}
