//! Paging of the Bot API's lists: the opaque cursors clients pass back, and the byte budget
//! that keeps every reply under NATS's payload limit (1 MiB by default).
//!
//! A cursor is the position of the last item a page showed, base64url-encoded so clients
//! treat it as opaque. Decoding checks it completely (UUIDs, a time between the years 1000 and
//! 9999), so a forged cursor is refused with a 400 naming its parameter before it reaches a
//! query. The gateway decodes; the ledger receives typed positions and encodes the next ones.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, Utc};
use domain::{BrokerAccountId, TickerId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::io;
use uuid::Uuid;

/// The most bytes the variable part of one reply (its lists, or a trade with its
/// transactions) may take. NATS refuses a message above `max_payload` (1 MiB by default); the
/// rest is headroom for the reply envelope, the fixed fields and the protocol.
pub const REPLY_BUDGET_BYTES: usize = 896 * 1024;

/// Followers and states of `GET /api/bots/:slug`, each at most.
pub const BOT_CONFIG_PAGE: usize = 500;

/// Transactions and participations of `GET .../trades/:tradeId`, each at most; also the page
/// of `GET .../trades/:tradeId/participations`.
pub const TRADE_DETAIL_PAGE: usize = 500;

/// The most transactions a write reply (create trade, update trade) includes; beyond it the
/// reply names the count and leaves them out.
pub const WRITE_REPLY_TRANSACTIONS: usize = 100;

/// Default and maximum `limit` of `GET /api/bots/:slug/state`.
pub const STATES_PAGE_MAX: u32 = 1000;

/// Default `limit` of `GET .../trades/:tradeId/transactions`.
pub const TRANSACTIONS_PAGE_DEFAULT: u32 = 500;

/// Maximum `limit` of `GET .../trades/:tradeId/transactions`.
pub const TRANSACTIONS_PAGE_MAX: u32 = 1000;

/// The earliest and latest year a time in a cursor (or a request body) may have: four-digit
/// years print as RFC 3339 and read back the same.
pub const YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

fn decode_text(cursor: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()
}

/// A position in a list ordered by `(created_at, id)`: trades, transactions, participations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TimeCursor {
    /// When the last item shown was created.
    pub created_at: DateTime<Utc>,
    /// Its id.
    pub id: Uuid,
}

impl TimeCursor {
    /// The opaque text (`<micros>_<uuid>`, base64url): the format `GET /trades` has always used.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}_{}", self.created_at.timestamp_micros(), self.id))
    }

    /// Reads a cursor; `None` when it is not one this API wrote.
    pub fn decode(cursor: &str) -> Option<Self> {
        let text = decode_text(cursor)?;
        let (micros, id) = text.split_once('_')?;
        let created_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        YEARS.contains(&created_at.year()).then_some(())?;
        Some(Self { created_at, id: id.parse().ok()? })
    }
}

/// A position in a bot's followers, ordered by broker account id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountCursor {
    /// The last broker account shown.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub account_id: BrokerAccountId,
}

impl AccountCursor {
    /// The opaque text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.account_id.to_string())
    }

    /// Reads a cursor; `None` when it is not one this API wrote.
    pub fn decode(cursor: &str) -> Option<Self> {
        Some(Self { account_id: decode_text(cursor)?.parse().ok()? })
    }
}

/// A position in a bot's states, ordered by (broker account id, ticker id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StateCursor {
    /// The broker account of the last state shown.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub account_id: BrokerAccountId,
    /// Its ticker.
    #[cfg_attr(feature = "openapi", schema(value_type = uuid::Uuid))]
    pub ticker_id: TickerId,
}

impl StateCursor {
    /// The opaque text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}_{}", self.account_id, self.ticker_id))
    }

    /// Reads a cursor; `None` when it is not one this API wrote.
    pub fn decode(cursor: &str) -> Option<Self> {
        let text = decode_text(cursor)?;
        let (account, ticker) = text.split_once('_')?;
        Some(Self { account_id: account.parse().ok()?, ticker_id: ticker.parse().ok()? })
    }
}

/// Counts bytes without keeping them.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 = self.0.saturating_add(bytes.len());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How many bytes `value` takes as JSON (`usize::MAX` when it cannot be serialised, so it
/// never fits).
pub fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// How many of `items`, from the front, fit in `budget` bytes as members of a JSON array
/// (with their commas). At least one when there is any, so a page always moves on; a single
/// item above the budget is the writer's limit to keep (bodies are capped at 512 KiB).
pub fn fitting<T: Serialize>(items: &[T], budget: usize) -> usize {
    let mut used = 0usize;
    for (index, item) in items.iter().enumerate() {
        used = used.saturating_add(json_len(item)).saturating_add(1);
        if used > budget && index > 0 {
            return index;
        }
    }
    items.len()
}

/// The bytes the first `max` of `items` take as members of a JSON array.
pub fn needed<T: Serialize>(items: &[T], max: usize) -> usize {
    items.iter().take(max).map(|item| json_len(item).saturating_add(1)).fold(0, usize::saturating_add)
}

/// Cuts `items`, loaded one past `max` to learn whether more exist, to one page: at most
/// `max`, and no more than fit `budget` bytes. Returns the page and whether anything follows.
pub fn page<T: Serialize>(mut items: Vec<T>, max: usize, budget: usize) -> (Vec<T>, bool) {
    let beyond_max = items.len() > max;
    items.truncate(max);
    let fit = fitting(&items, budget);
    let cut = fit < items.len();
    items.truncate(fit);
    (items, beyond_max || cut)
}

/// Splits `budget` between two lists that need `first` and `second` bytes: each gets what it
/// needs when both fit, else at least half, and what one leaves goes to the other.
pub fn split(budget: usize, first: usize, second: usize) -> (usize, usize) {
    let half = budget / 2;
    match (first <= half, second <= half) {
        (true, _) => (first, budget.saturating_sub(first)),
        (false, true) => (budget.saturating_sub(second), second),
        (false, false) => (half, budget.saturating_sub(half)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_cursors_keep_the_trades_format_and_refuse_what_they_did_not_write() {
        let cursor = TimeCursor {
            created_at: DateTime::from_timestamp_micros(1_705_314_600_123_456).unwrap(),
            id: "0190d5f0-0000-7000-8000-000000000001".parse().unwrap(),
        };
        let text = cursor.encode();
        assert_eq!(
            decode_text(&text).unwrap(),
            "1705314600123456_0190d5f0-0000-7000-8000-000000000001",
            "the format GET /trades has always used"
        );
        assert_eq!(TimeCursor::decode(&text), Some(cursor));
        let forged = |text: &str| URL_SAFE_NO_PAD.encode(text);
        for bad in [
            "not base64!".to_string(),
            forged("123"),
            forged("abc_0190d5f0-0000-7000-8000-000000000001"),
            forged("1705314600123456_nope"),
            // Years 999 and 10000.
            forged("-30641760000000000_0190d5f0-0000-7000-8000-000000000001"),
            forged("253402300800000000_0190d5f0-0000-7000-8000-000000000001"),
            format!("{text}="),
        ] {
            assert_eq!(TimeCursor::decode(&bad), None, "{bad}");
        }
    }

    #[test]
    fn id_cursors_round_trip_and_refuse_garbage() {
        let account = AccountCursor { account_id: BrokerAccountId::new() };
        assert_eq!(AccountCursor::decode(&account.encode()), Some(account));
        let state = StateCursor { account_id: BrokerAccountId::new(), ticker_id: TickerId::new() };
        assert_eq!(StateCursor::decode(&state.encode()), Some(state));
        assert_eq!(StateCursor::decode(&account.encode()), None);
        assert_eq!(AccountCursor::decode("%%%"), None);
    }

    #[test]
    fn pages_fit_their_budget_but_always_move_on() {
        let items = vec!["x".repeat(98); 10]; // 100 bytes as JSON, 101 with its comma
        assert_eq!(json_len(&items[0]), 100);
        assert_eq!(fitting(&items, 1_000), 9);
        assert_eq!(fitting(&items, 10_000), 10);
        assert_eq!(fitting(&items, 10), 1, "one item even above the budget");
        assert_eq!(fitting::<String>(&[], 10), 0);
    }

    #[test]
    fn a_page_stops_at_its_size_or_its_budget() {
        let items = vec!["x".repeat(98); 10];
        assert_eq!(needed(&items, 3), 303);
        assert_eq!(page(items.clone(), 20, 10_000), (items.clone(), false));
        assert_eq!(page(items.clone(), 9, 10_000).0.len(), 9);
        assert!(page(items.clone(), 9, 10_000).1, "one past the size was loaded: more follow");
        assert_eq!(page(items.clone(), 20, 500), (items[..4].to_vec(), true));
    }

    #[test]
    fn a_budget_is_shared_fairly() {
        assert_eq!(split(100, 10, 20), (10, 90));
        assert_eq!(split(100, 80, 20), (80, 20));
        assert_eq!(split(100, 80, 70), (50, 50));
    }
}
