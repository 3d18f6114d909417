//! Bot trades and their transactions: the status rule of docs/api/bot.md#trade-status.
//!
//! A trade's status is derived from its transactions after every write that touches them
//! ([`derive`]); the first rule that matches wins:
//!
//! 1. `error`: `errorAt` or `errorMessage` is set and no entry is filled;
//! 2. `pending`: no entry is filled and at least one entry is open, or there are no entries;
//! 3. `cancelled`: every entry is cancelled;
//! 4. `open`: filled entry quantity > filled exit quantity (trims are exits);
//! 5. `closed`: otherwise.
//!
//! `openedAt` becomes the first entry `filledAt` and, for a closed trade, `closedAt` the
//! latest exit `filledAt`, each only when not already set. A transaction counts as filled when
//! its status is `filled`; its filled quantity is `filledQuantity` when given, else `quantity`.
//!
//! Quantities are added with checked arithmetic: quantities come from clients, and a sum past
//! what a decimal holds (about 7.9e28) is an [`Overflow`], never a panic.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The wire and database text.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownValue(other.to_string())),
                }
            }
        }
    };
}

/// A string that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

string_enum!(
    /// The status of a bot trade.
    TradeStatus {
        /// Waiting for an entry to fill.
        Pending => "pending",
        /// Some position is held.
        Open => "open",
        /// The position is flat again.
        Closed => "closed",
        /// Every entry was cancelled.
        Cancelled => "cancelled",
        /// The bot reported an error before any entry filled.
        Error => "error",
    }
);

string_enum!(
    /// Whether a trade is long or short.
    TradeType {
        /// Profits when the price rises.
        Long => "long",
        /// Profits when the price falls.
        Short => "short",
    }
);

string_enum!(
    /// Whether a transaction opens (entry) or reduces (exit, including trims) the position.
    TransactionGroup {
        /// Opens or adds to the position.
        Entry => "entry",
        /// Reduces or closes it.
        Exit => "exit",
    }
);

string_enum!(
    /// The state of one transaction's order.
    TransactionStatus {
        /// Working at the broker.
        Open => "open",
        /// Executed.
        Filled => "filled",
        /// Withdrawn; it counts for nothing.
        Cancelled => "cancelled",
    }
);

/// What the status rule reads of a transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct TransactionFacts {
    /// Entry or exit.
    pub group: TransactionGroup,
    /// Open, filled or cancelled.
    pub status: TransactionStatus,
    /// Ordered quantity.
    pub quantity: Decimal,
    /// Executed quantity, when reported.
    pub filled_quantity: Option<Decimal>,
    /// When it filled.
    pub filled_at: Option<DateTime<Utc>>,
}

impl TransactionFacts {
    fn is_filled(&self) -> bool {
        self.status == TransactionStatus::Filled
    }

    /// The quantity it contributes once filled.
    pub fn effective_filled_quantity(&self) -> Decimal {
        self.filled_quantity.unwrap_or(self.quantity)
    }
}

/// What the status rule reads of the trade itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TradeFacts {
    /// When the bot reported an error.
    pub error_at: Option<DateTime<Utc>>,
    /// The bot's error message.
    pub error_message: Option<String>,
    /// When the first entry filled, if already recorded.
    pub opened_at: Option<DateTime<Utc>>,
    /// When the trade closed, if already recorded.
    pub closed_at: Option<DateTime<Utc>>,
}

/// The filled quantities of a trade's transactions add up to more than a decimal holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the trade's filled quantities add up to more than a decimal can hold")]
pub struct Overflow;

/// The derived fields of a trade.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    /// The status by the rule.
    pub status: TradeStatus,
    /// `openedAt`, filled in from the first entry fill when not set.
    pub opened_at: Option<DateTime<Utc>>,
    /// `closedAt`, filled in from the latest exit fill when the trade is closed and it is not set.
    pub closed_at: Option<DateTime<Utc>>,
}

/// The sum of the filled quantities of `transactions`, or [`Overflow`].
fn filled_quantity<'a>(transactions: impl Iterator<Item = &'a TransactionFacts>) -> Result<Decimal, Overflow> {
    transactions
        .filter(|t| t.is_filled())
        .try_fold(Decimal::ZERO, |sum, t| sum.checked_add(t.effective_filled_quantity()).ok_or(Overflow))
}

/// Applies the status rule to a trade and all of its transactions.
pub fn derive(trade: &TradeFacts, transactions: &[TransactionFacts]) -> Result<Derived, Overflow> {
    let entries = || transactions.iter().filter(|t| t.group == TransactionGroup::Entry);
    let exits = || transactions.iter().filter(|t| t.group == TransactionGroup::Exit);

    let any_entry_filled = entries().any(TransactionFacts::is_filled);
    let any_entry_open = entries().any(|t| t.status == TransactionStatus::Open);
    let has_entries = entries().next().is_some();
    let has_error = trade.error_at.is_some() || trade.error_message.is_some();

    let status = if has_error && !any_entry_filled {
        TradeStatus::Error
    } else if !any_entry_filled && (any_entry_open || !has_entries) {
        TradeStatus::Pending
    } else if entries().all(|t| t.status == TransactionStatus::Cancelled) {
        TradeStatus::Cancelled
    } else if filled_quantity(entries())? > filled_quantity(exits())? {
        TradeStatus::Open
    } else {
        TradeStatus::Closed
    };

    let first_entry_fill = entries().filter(|t| t.is_filled()).filter_map(|t| t.filled_at).min();
    let last_exit_fill = exits().filter(|t| t.is_filled()).filter_map(|t| t.filled_at).max();
    Ok(Derived {
        status,
        opened_at: trade.opened_at.or(first_entry_fill),
        closed_at: match status {
            TradeStatus::Closed => trade.closed_at.or(last_exit_fill),
            _ => trade.closed_at,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransactionGroup::{Entry, Exit};
    use TransactionStatus::{Cancelled, Filled, Open};
    use proptest::prelude::*;
    use rust_decimal::dec;

    fn at(minute: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + i64::from(minute) * 60, 0).unwrap()
    }

    fn tx(group: TransactionGroup, status: TransactionStatus, quantity: Decimal) -> TransactionFacts {
        let filled_at = (status == Filled).then(|| at(1));
        TransactionFacts { group, status, quantity, filled_quantity: None, filled_at }
    }

    fn status(trade: &TradeFacts, transactions: &[TransactionFacts]) -> TradeStatus {
        derive(trade, transactions).unwrap().status
    }

    #[test]
    fn each_status_by_its_rule() {
        let none = TradeFacts::default();
        let errored = TradeFacts { error_message: Some("broker rejected".into()), ..TradeFacts::default() };
        let cases: Vec<(&str, &TradeFacts, Vec<TransactionFacts>, TradeStatus)> = vec![
            ("no transactions", &none, vec![], TradeStatus::Pending),
            ("only exits", &none, vec![tx(Exit, Open, dec!(1))], TradeStatus::Pending),
            ("an open entry", &none, vec![tx(Entry, Open, dec!(1))], TradeStatus::Pending),
            ("error before any fill", &errored, vec![tx(Entry, Open, dec!(1))], TradeStatus::Error),
            ("error without entries", &errored, vec![], TradeStatus::Error),
            ("error after a fill is ignored", &errored, vec![tx(Entry, Filled, dec!(1))], TradeStatus::Open),
            (
                "all entries cancelled",
                &none,
                vec![tx(Entry, Cancelled, dec!(1)), tx(Entry, Cancelled, dec!(2))],
                TradeStatus::Cancelled,
            ),
            (
                "cancelled and open entry",
                &none,
                vec![tx(Entry, Cancelled, dec!(1)), tx(Entry, Open, dec!(2))],
                TradeStatus::Pending,
            ),
            ("filled entry", &none, vec![tx(Entry, Filled, dec!(100))], TradeStatus::Open),
            ("trimmed", &none, vec![tx(Entry, Filled, dec!(100)), tx(Exit, Filled, dec!(50))], TradeStatus::Open),
            (
                "fully exited",
                &none,
                vec![tx(Entry, Filled, dec!(100)), tx(Exit, Filled, dec!(50)), tx(Exit, Filled, dec!(50))],
                TradeStatus::Closed,
            ),
            (
                "open exits do not count",
                &none,
                vec![tx(Entry, Filled, dec!(100)), tx(Exit, Open, dec!(100))],
                TradeStatus::Open,
            ),
            (
                "cancelled entry next to a filled one",
                &none,
                vec![tx(Entry, Filled, dec!(1)), tx(Entry, Cancelled, dec!(1)), tx(Exit, Filled, dec!(1))],
                TradeStatus::Closed,
            ),
        ];
        for (name, trade, transactions, expected) in cases {
            assert_eq!(status(trade, &transactions), expected, "{name}");
        }
    }

    #[test]
    fn filled_quantity_overrides_quantity() {
        let mut partial = tx(Entry, Filled, dec!(100));
        partial.filled_quantity = Some(dec!(60));
        let exit = tx(Exit, Filled, dec!(60));
        assert_eq!(status(&TradeFacts::default(), &[partial, exit]), TradeStatus::Closed);
    }

    #[test]
    fn opened_and_closed_at_come_from_fills_unless_set() {
        let mut first = tx(Entry, Filled, dec!(1));
        first.filled_at = Some(at(5));
        let mut second = tx(Entry, Filled, dec!(1));
        second.filled_at = Some(at(3));
        let mut exit = tx(Exit, Filled, dec!(2));
        exit.filled_at = Some(at(9));
        let derived = derive(&TradeFacts::default(), &[first.clone(), second.clone(), exit.clone()]).unwrap();
        assert_eq!((derived.opened_at, derived.closed_at), (Some(at(3)), Some(at(9))));

        let preset = TradeFacts { opened_at: Some(at(1)), closed_at: Some(at(2)), ..TradeFacts::default() };
        let derived = derive(&preset, &[first.clone(), second, exit]).unwrap();
        assert_eq!((derived.opened_at, derived.closed_at), (Some(at(1)), Some(at(2))));

        let still_open = derive(&TradeFacts::default(), &[first]).unwrap();
        assert_eq!(still_open.closed_at, None, "an open trade gets no closedAt");
    }

    #[test]
    fn quantities_past_what_a_decimal_holds_are_an_error_not_a_panic() {
        let huge = Decimal::MAX - dec!(1);
        let entries = [tx(Entry, Filled, huge), tx(Entry, Filled, huge)];
        assert_eq!(derive(&TradeFacts::default(), &entries), Err(Overflow));
        let exits = [tx(Entry, Filled, dec!(1)), tx(Exit, Filled, huge), tx(Exit, Filled, huge)];
        assert_eq!(derive(&TradeFacts::default(), &exits), Err(Overflow));
        // Negative quantities cannot overflow past MIN either.
        let negative = [tx(Entry, Filled, Decimal::MIN), tx(Entry, Filled, Decimal::MIN)];
        assert_eq!(derive(&TradeFacts::default(), &negative), Err(Overflow));
        // Unfilled ones are not added at all.
        let open = [tx(Entry, Filled, dec!(1)), tx(Entry, Open, huge), tx(Entry, Open, huge)];
        assert_eq!(status(&TradeFacts::default(), &open), TradeStatus::Open);
    }

    fn transaction() -> impl Strategy<Value = TransactionFacts> {
        (
            prop_oneof![Just(Entry), Just(Exit)],
            prop_oneof![Just(Open), Just(Filled), Just(Cancelled)],
            1u32..1_000,
            proptest::option::of(1u32..1_000),
            0u32..10_000,
        )
            .prop_map(|(group, status, quantity, filled, minute)| TransactionFacts {
                group,
                status,
                quantity: Decimal::from(quantity),
                filled_quantity: filled.map(Decimal::from),
                filled_at: (status == Filled).then(|| at(minute)),
            })
    }

    fn sum_filled(transactions: &[TransactionFacts], group: TransactionGroup) -> Decimal {
        transactions
            .iter()
            .filter(|t| t.group == group && t.status == Filled)
            .map(TransactionFacts::effective_filled_quantity)
            .sum()
    }

    proptest! {
        #[test]
        fn an_open_trade_stays_open_when_an_entry_fills(
            transactions in proptest::collection::vec(transaction(), 0..12),
            quantity in 1u32..1_000,
        ) {
            let mut with_entry = transactions.clone();
            with_entry.push(TransactionFacts {
                group: Entry, status: Filled, quantity: Decimal::from(quantity), filled_quantity: None, filled_at: Some(at(1)),
            });
            let before = status(&TradeFacts::default(), &transactions);
            let after = status(&TradeFacts::default(), &with_entry);
            if before == TradeStatus::Open {
                prop_assert_eq!(after, TradeStatus::Open);
            }
        }

        #[test]
        fn closed_means_exits_cover_entries_and_open_means_they_do_not(
            transactions in proptest::collection::vec(transaction(), 0..12),
        ) {
            let derived = derive(&TradeFacts::default(), &transactions).unwrap();
            let entries = sum_filled(&transactions, Entry);
            let exits = sum_filled(&transactions, Exit);
            match derived.status {
                TradeStatus::Closed => prop_assert!(entries > Decimal::ZERO && exits >= entries),
                TradeStatus::Open => prop_assert!(entries > exits),
                TradeStatus::Pending | TradeStatus::Cancelled => prop_assert_eq!(entries, Decimal::ZERO),
                TradeStatus::Error => prop_assert!(false, "no error facts were given"),
            }
        }

        #[test]
        fn the_rule_ignores_transaction_order(
            mut transactions in proptest::collection::vec(transaction(), 0..12),
        ) {
            let forward = derive(&TradeFacts::default(), &transactions);
            transactions.reverse();
            prop_assert_eq!(forward, derive(&TradeFacts::default(), &transactions));
        }

        #[test]
        fn an_error_only_shows_while_nothing_filled(
            transactions in proptest::collection::vec(transaction(), 0..12),
        ) {
            let errored = TradeFacts { error_at: Some(at(0)), ..TradeFacts::default() };
            let derived = derive(&errored, &transactions).unwrap();
            let any_entry_filled = transactions.iter().any(|t| t.group == Entry && t.status == Filled);
            prop_assert_eq!(derived.status == TradeStatus::Error, !any_entry_filled);
        }
    }
}
