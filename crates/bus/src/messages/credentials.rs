//! Exchange credentials on their way to the fetcher, the one service that keeps them (sealed).
//! The secrets cross the bus once, in a request only the fetcher may answer, and are never
//! printed (`Secret`'s `Debug` hides them).

use domain::{BrokerAccountId, Secret};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Seal a partner user's exchange API keys under their broker account (storing again replaces
/// them, so a replayed `users/create` reaches the same row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoreExchangeCredentials {
    /// The broker account the ledger will create for the user.
    pub broker_account_id: BrokerAccountId,
    /// The exchange the keys are for.
    pub exchange_id: String,
    /// The exchange API public key.
    pub public_key: Secret,
    /// The exchange API secret key.
    pub secret_key: Secret,
    /// The passphrase some exchanges require.
    pub extra_key: Option<Secret>,
}
