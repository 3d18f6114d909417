//! A partner's signals (`cmd.live.send_signal`, `qry.live.signal`): stored with one receipt per
//! bot in one transaction, and read back as the token's last signal with every receipt.
//!
//! ```text
//!  send: tx { signal, once per (partner, token, timestamp, action) ─ a repeat: true, nothing
//!             written; receipts: pending (running bot) / skipped "bot is stopped";
//!             NOTIFY signals_pending } ─► true
//!  get:  the token's last signal ─► receipts, each with its order's status now
//! ```
//!
//! Delivery (a pending receipt acted on at the bot's next quote, in the order's transaction)
//! is the owner's: see `docs/live.md`, "Signals".

use super::queries::{connect, storage};
use crate::ids::{RuntimeKind, runtime_id};
use crate::store::signals::{self, StoredReceipt, StoredSignal};
use bus::BusError;
use bus::messages::idempotency::{Command, Replayable};
use bus::messages::partner::reference::JsonDecimal;
use bus::messages::signals::{GetSignal, SendSignal, SignalActionMsg, SignalBotKind, SignalReceipt, SignalView};
use domain::BotId;
use platform::db::PgPool;
use platform::idempotency;
use rust_decimal::Decimal;
use serde_json::value::RawValue;

/// `cmd.live.send_signal.v1`: `true` once the signal and its receipts are committed, or at once
/// for a signal the partner already sent; once per `Idempotency-Key` of the partner.
pub async fn send(pool: &PgPool, command: Command<SendSignal>) -> Result<Replayable<bool>, BusError> {
    if command.command.bots.is_empty() {
        return Err(BusError::invalid("a signal needs at least one bot"));
    }
    let scope = command.command.partner_id;
    idempotency::run(pool, scope, command, |tx, request| {
        Box::pin(async move {
            signals::insert(tx, request.partner_id, &request.signal, &request.bots).await.map_err(storage)?;
            Ok(true)
        })
    })
    .await
}

/// `qry.live.signal.v1`: the token's last signal with every receipt (not found: the partner
/// never signalled with it).
pub async fn get(pool: &PgPool, request: GetSignal) -> Result<SignalView, BusError> {
    let mut connection = connect(pool).await?;
    let signal = signals::latest(&mut connection, request.partner_id, &request.signal_token)
        .await
        .map_err(storage)?
        .ok_or_else(|| BusError::not_found(format!("No signal sent with token '{}'", request.signal_token)))?;
    let receipts = signals::receipts(&mut connection, signal.id).await.map_err(storage)?;
    view(request.signal_token, signal, receipts)
}

fn view(token: String, signal: StoredSignal, receipts: Vec<StoredReceipt>) -> Result<SignalView, BusError> {
    let unreadable = |what: &str| BusError::unavailable(format!("a stored signal's {what} is unreadable"));
    let decimal = |text: &str, what: &str| text.parse::<Decimal>().map(JsonDecimal).map_err(|_| unreadable(what));
    Ok(SignalView {
        signal_token: token,
        action: SignalActionMsg::parse(&signal.action).ok_or_else(|| unreadable("action"))?,
        price: signal.price.as_deref().map(|price| decimal(price, "price")).transpose()?,
        amount: decimal(&signal.amount, "amount")?,
        timestamp: signal.timestamp,
        metadata: RawValue::from_string(signal.metadata).map_err(|_| unreadable("metadata"))?,
        received_at: signal.received_at,
        receipts: receipts.into_iter().map(receipt_view).collect::<Result<_, _>>()?,
    })
}

/// A receipt as the partner API shows it: a hosted bot's id and its order's id in their 32-hex
/// forms, a strategy bot's id dashed.
fn receipt_view(receipt: StoredReceipt) -> Result<SignalReceipt, BusError> {
    let bot = BotId::from_uuid(receipt.bot_id);
    let kind = match receipt.bot_kind.as_str() {
        "hosted" => SignalBotKind::Hosted,
        "strategy" => SignalBotKind::Strategy,
        other => return Err(BusError::unavailable(format!("a receipt's bot kind '{other}' is unknown"))),
    };
    let order_id = receipt
        .order_id
        .map(|number| u32::try_from(number).map(|number| runtime_id(bot, RuntimeKind::Order, number)))
        .transpose()
        .map_err(|_| BusError::unavailable("a receipt's order number is out of range"))?;
    Ok(SignalReceipt {
        bot_id: match kind {
            SignalBotKind::Hosted => receipt.bot_id.simple().to_string(),
            SignalBotKind::Strategy => receipt.bot_id.to_string(),
        },
        bot_kind: kind,
        status: receipt.status,
        reason: receipt.reason,
        order_id,
        order_status: receipt.order_status,
        delivered_at: receipt.delivered_at,
    })
}
