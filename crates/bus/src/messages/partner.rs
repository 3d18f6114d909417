//! What the Partner API asks the ledger about a partner's records: its users, and the market
//! catalogue it trades on ([`reference`]).

pub mod reference;

use crate::messages::bot_api::paging::TimeCursor;
use domain::{BrokerAccountId, PartnerId, UserId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most items a partner list page may ask for (`limit` -1 means this many).
pub const MAX_PAGE_LIMIT: u32 = 10_000;

/// The most bytes the items of one partner page may take: far below NATS's 1 MiB payload, so a
/// page of 10,000 users or bots (several MB) is cut into pages instead of failing.
pub const PAGE_BUDGET_BYTES: usize = 256 * 1024;

/// One of a partner's users (another partner's user, or an unknown one, is not found).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetPartnerUser {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The user asked about.
    pub user_id: UserId,
}

/// A partner's user as reference 003 shows it, and the exchanges (brokers) of their accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUser {
    /// The user object of `users/get`.
    pub user: PartnerUserView,
    /// The brokers of the user's accounts, as registered (e.g. `SIM`, `TRADIER`), sorted.
    pub exchanges: Vec<String>,
}

/// The user object of reference 003 (`users/get`, `users/list`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUserView {
    /// The user's id.
    pub user_id: UserId,
    /// The exchange the user was created on; for a user made by `admin create-user`, the
    /// broker of their first account, or null without one.
    pub exchange_id: Option<String>,
    /// The partner's own id of the user on the exchange; null when absent or empty.
    pub exchange_user_id: Option<String>,
    /// When the user was created, unix seconds.
    pub created_at: i64,
    /// Bots of this user ever started (a create that starts counts).
    pub bots_started: i64,
    /// Bots of this user running now.
    pub bots_active: i64,
}

/// A page of a partner's users, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPartnerUsers {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// At most this many users (1 to [`MAX_PAGE_LIMIT`]); a page also ends near
    /// [`PAGE_BUDGET_BYTES`].
    pub limit: u32,
    /// The position of the last user of the previous page.
    pub after: Option<TimeCursor>,
}

/// `data` of `users/list`: the items and the token of the next page (null on the last).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUsersPage {
    /// The users, newest first.
    pub items: Vec<PartnerUserView>,
    /// The opaque token of the next page ([`TimeCursor::encode`]); null when none remain.
    pub next_page_id: Option<String>,
}

/// Creates a partner's user with one broker account on `exchange_id`. The credentials are
/// already sealed in the fetcher under `broker_account_id` (or there are none: `paper`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePartnerUser {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// An enabled exchange of the catalogue.
    pub exchange_id: String,
    /// The partner's own id of the user on the exchange (empty is stored as absent).
    pub exchange_user_id: Option<String>,
    /// The broker account the gateway named when it stored the credentials.
    pub broker_account_id: BrokerAccountId,
    /// A paper (`publicKey: "sim"`) account: nothing was stored in the fetcher.
    pub paper: bool,
}

/// Soft-deletes a partner's user; the fetcher then erases the user's credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletePartnerUser {
    /// The authenticated partner.
    pub partner_id: PartnerId,
    /// The user to delete.
    pub user_id: UserId,
}

/// A partner's user was deleted: their broker accounts' credentials must be erased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDeleted {
    /// The deleted user.
    pub user_id: UserId,
    /// Every broker account of the user.
    pub broker_account_ids: Vec<BrokerAccountId>,
}
