//! What the Partner API asks the ledger about a partner's records.

use domain::{PartnerId, UserId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One of a partner's users (another partner's user, or an unknown one, is not found).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetPartnerUser {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The user asked about.
    pub user_id: UserId,
}

/// A partner's user and the exchanges (brokers) of their accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUser {
    /// The user.
    pub user_id: UserId,
    /// The brokers of the user's accounts, as registered (e.g. `SIM`, `TRADIER`), sorted.
    pub exchanges: Vec<String>,
}
