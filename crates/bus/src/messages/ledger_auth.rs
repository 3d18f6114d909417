//! Authentication by the ledger: bot keys, partner keys and user tokens.

use domain::api_key::KeyProof;
use domain::{BotId, PartnerId, UserId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A credential presented to the gateway, as the ledger receives it: the key's lookup prefix and
/// SHA-256 ([`KeyProof`]), never the key itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// A bot's `x-api-key` on `/api/bots/:slug/...`.
    Bot {
        /// The slug in the path.
        slug: String,
        /// The presented key's proof.
        key: KeyProof,
    },
    /// A partner's `x-api-key` on `/partner/v1/...`.
    Partner {
        /// The presented key's proof.
        key: KeyProof,
    },
    /// A user's `Authorization` token.
    User {
        /// The presented token's proof (without `Bearer `).
        token: KeyProof,
    },
}

/// Who a valid credential belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// A bot.
    Bot {
        /// Its id.
        #[serde(rename = "botId")]
        bot_id: BotId,
        /// Its slug.
        slug: String,
    },
    /// A partner.
    Partner {
        /// Its id.
        #[serde(rename = "partnerId")]
        partner_id: PartnerId,
    },
    /// A user.
    User {
        /// Their id.
        #[serde(rename = "userId")]
        user_id: UserId,
    },
}
