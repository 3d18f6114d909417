//! How a pending receipt reaches a bot's engine and what its outcome writes back.
//!
//! ```text
//!  quote ─► the market's pending receipts (only after a NOTIFY signals_pending or an adoption)
//!         ─► per run: stopped → skipped "bot is stopped"; older than maxLag → skipped
//!                     "maxLag exceeded at delivery"; else engine.on_signal(id = delivery id)
//!         ─► the same quote: the engine acts (SignalOutcome) ─► receipt delivered (order id, or
//!            the exchange's refusal as its reason), in the commit with the order
//! ```
//!
//! A signal is handed to the engine only with a quote the engine will act on, so no checkpoint
//! ever holds a signal whose receipt is still pending: after a crash a pending receipt is
//! delivered once, by whoever holds the run next.

use crate::store::signals::{BOT_IS_STOPPED, PendingReceipt, ReceiptRow};
use engine::settings::{InvestmentAsset, SignalAction};
use engine::{LiveSignal, SignalOutcome};
use rust_decimal::Decimal;

/// The reason of a receipt whose signal aged past its `maxLag` before a quote came.
pub const MAX_LAG_EXCEEDED: &str = "maxLag exceeded at delivery";

/// The reason of an exit signal that found no position to close.
pub const NOTHING_TO_CLOSE: &str = "no open position to close";

/// The engine's signal for a receipt (its id is the receipt's delivery id), or why the stored
/// signal cannot be given to it.
pub fn engine_signal(pending: &PendingReceipt) -> Result<LiveSignal, String> {
    let unreadable = |what: &str| format!("the stored signal's {what} is unreadable");
    let action = match pending.action.as_str() {
        "buy" => SignalAction::Buy,
        "sell" => SignalAction::Sell,
        "enter_long" => SignalAction::EnterLong,
        "exit_long" => SignalAction::ExitLong,
        "enter_short" => SignalAction::EnterShort,
        "exit_short" => SignalAction::ExitShort,
        _ => return Err(unreadable("action")),
    };
    let amount_asset = match pending.investment_type.as_str() {
        "base" => InvestmentAsset::Base,
        "quote" => InvestmentAsset::Quote,
        _ => return Err(unreadable("investmentType")),
    };
    let decimal = |text: &str, what: &str| text.parse::<Decimal>().map_err(|_| unreadable(what));
    Ok(LiveSignal {
        id: u64::try_from(pending.delivery_id).map_err(|_| unreadable("delivery id"))?,
        action,
        amount: decimal(&pending.amount, "amount")?,
        amount_asset,
        price: pending.price.as_deref().map(|price| decimal(price, "price")).transpose()?,
    })
}

/// Whether the signal aged past its `maxLag` by `now_ms`.
pub fn too_old(pending: &PendingReceipt, now_ms: i64) -> bool {
    pending.max_lag.is_some_and(|max_lag| now_ms.div_euclid(1000) - pending.timestamp > max_lag)
}

/// A receipt skipped before the engine saw it.
pub fn skipped(delivery_id: i64, reason: &str) -> ReceiptRow {
    ReceiptRow { delivery_id, status: "skipped", reason: Some(reason.to_string()), order_id: None }
}

/// The receipt of the engine's outcome: a stopped bot skipped it; otherwise it was delivered,
/// with the order it placed, or the reason nothing was placed (an exchange refusal such as
/// "Insufficient funds …", or no position to close).
pub fn receipt_of(signal_id: u64, outcome: &SignalOutcome) -> ReceiptRow {
    let delivery_id = i64::try_from(signal_id).unwrap_or(i64::MAX);
    match outcome {
        SignalOutcome::OrderPlaced { order_id } => {
            ReceiptRow { delivery_id, status: "delivered", reason: None, order_id: Some(i64::from(*order_id)) }
        }
        SignalOutcome::Refused { reason } if reason == BOT_IS_STOPPED => skipped(delivery_id, BOT_IS_STOPPED),
        SignalOutcome::Refused { reason } => {
            ReceiptRow { delivery_id, status: "delivered", reason: Some(reason.clone()), order_id: None }
        }
        SignalOutcome::NothingToClose => {
            ReceiptRow { delivery_id, status: "delivered", reason: Some(NOTHING_TO_CLOSE.to_string()), order_id: None }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::BotId;
    use rust_decimal::dec;

    fn pending(action: &str, investment_type: &str, price: Option<&str>) -> PendingReceipt {
        PendingReceipt {
            delivery_id: 42,
            bot_id: BotId::new(),
            action: action.to_string(),
            amount: "0.015".to_string(),
            price: price.map(str::to_string),
            investment_type: investment_type.to_string(),
            timestamp: 1_800_000_000,
            max_lag: Some(60),
        }
    }

    #[test]
    fn a_stored_signal_becomes_the_engines_with_the_delivery_id() {
        let signal = engine_signal(&pending("exit_short", "quote", Some("29000.5"))).unwrap();
        assert_eq!(
            signal,
            LiveSignal {
                id: 42,
                action: SignalAction::ExitShort,
                amount: dec!(0.015),
                amount_asset: InvestmentAsset::Quote,
                price: Some(dec!(29000.5)),
            }
        );
        assert_eq!(engine_signal(&pending("buy", "base", None)).unwrap().price, None);
        assert_eq!(
            engine_signal(&pending("BUY", "base", None)).unwrap_err(),
            "the stored signal's action is unreadable"
        );
        assert_eq!(
            engine_signal(&pending("buy", "lots", None)).unwrap_err(),
            "the stored signal's investmentType is unreadable"
        );
    }

    #[test]
    fn max_lag_counts_whole_seconds_after_the_signals_timestamp() {
        let signal = pending("buy", "base", None);
        assert!(!too_old(&signal, 1_800_000_060_999), "60.999 s is 60 whole seconds: not older than 60");
        assert!(too_old(&signal, 1_800_000_061_000));
        assert!(!too_old(&PendingReceipt { max_lag: None, ..signal }, i64::MAX), "no maxLag: never too old");
    }

    #[test]
    fn outcomes_settle_the_receipt() {
        assert_eq!(
            receipt_of(7, &SignalOutcome::OrderPlaced { order_id: 3 }),
            ReceiptRow { delivery_id: 7, status: "delivered", reason: None, order_id: Some(3) }
        );
        let refused = SignalOutcome::Refused { reason: "Insufficient funds: need 30 USDT".into() };
        assert_eq!(receipt_of(7, &refused).status, "delivered");
        assert_eq!(receipt_of(7, &refused).reason.as_deref(), Some("Insufficient funds: need 30 USDT"));
        let stopped = SignalOutcome::Refused { reason: "bot is stopped".into() };
        assert_eq!(receipt_of(7, &stopped), skipped(7, "bot is stopped"));
        assert_eq!(receipt_of(7, &SignalOutcome::NothingToClose).reason.as_deref(), Some("no open position to close"));
    }
}
