//! A live fill as a ledger record (docs/live.md#fills-become-ledger-trades): each position of
//! a hosted bot is one bot trade, found again by the runner's id of the position, and each
//! fill one `filled` transaction of it. The trade's status is the Bot API's own rule
//! (`recompute`); a closed position's `netPnl` is its gross profit less its fees; the bot's
//! `profit` / `roi` read copy follows the event's totals only when its `seq` is newer.
//!
//! The caller holds the bot's row lock (so two fills of one position cannot both create its
//! trade) and has recorded the event in its inbox in the same transaction.

use super::{Failure, TRADE_NOT_FOUND, recompute, reload};
use crate::domain::live_fills::{self, OTHER_EXIT};
use crate::store::trades::{self, JsonAsSent, NewTrade, NewTransactionRow, TradeRow};
use crate::store::{catalogue, hosted_bots};
use bus::messages::live::FillRecorded;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::trade::{TradeStatus, TradeType, TransactionGroup, TransactionStatus};
use domain::{TradeId, TransactionId};
use serde_json::json;
use tracing::warn;

/// The broker of every live fill: the runner trades the paper exchange.
const BROKER: &str = "SIM";

/// The asset type of a market the catalogue does not hold (every market the runner trades is
/// a crypto pair).
const DEFAULT_ASSET_TYPE: &str = "crypto";

/// What became of one fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A transaction of its position's trade now.
    Applied {
        /// The position's trade.
        trade_id: TradeId,
        /// Its status after the fill.
        status: String,
        /// Whether the bot's `profit` / `roi` took the event's totals (its `seq` was newer).
        totals: bool,
    },
    /// Not recorded: the fill cannot be read as a transaction (why). Nothing was written.
    Refused(String),
}

/// What the event decides before anything is read or written.
struct Plan {
    trade_type: TradeType,
    signal_at: DateTime<Utc>,
    filled_at: DateTime<Utc>,
    group: TransactionGroup,
    exit_type: Option<&'static str>,
}

impl Plan {
    fn of(event: &FillRecorded) -> Result<Self, String> {
        let (position, fill) = (&event.position, &event.fill);
        if position.id.is_empty() {
            return Err("position.id is empty".into());
        }
        let trade_type = live_fills::trade_type(&position.direction)
            .ok_or_else(|| format!("position.direction {:?} is neither LONG nor SHORT", position.direction))?;
        let time = |field: &str, secs: i64| {
            DateTime::from_timestamp(secs, 0).ok_or_else(|| format!("{field} {secs} is not a time"))
        };
        let exit_type = (!fill.entry).then(|| {
            let role = live_fills::role(&fill.role);
            role.and_then(live_fills::exit_type).unwrap_or_else(|| {
                warn!(bot.id = %event.bot_id, fill.role = %fill.role, "an exit by a role without an exit type");
                OTHER_EXIT
            })
        });
        Ok(Self {
            trade_type,
            signal_at: time("position.openedAt", position.opened_at)?,
            filled_at: time("fill.time", fill.time)?,
            group: if fill.entry { TransactionGroup::Entry } else { TransactionGroup::Exit },
            exit_type,
        })
    }
}

/// Records `event`'s fill on its position's trade (created by its first fill), recomputes the
/// trade, sets a closed position's `netPnl`, and takes the bot's totals when `seq` is newer.
/// A storage failure is an error (the batch is retried); a fill that cannot be recorded is
/// [`Recorded::Refused`] with nothing written, since it would fail the same way every time.
pub async fn record(tx: &mut AsyncPgConnection, event: &FillRecorded) -> diesel::QueryResult<Recorded> {
    let plan = match Plan::of(event) {
        Ok(plan) => plan,
        Err(reason) => return Ok(Recorded::Refused(reason)),
    };
    // A savepoint: a status the rule cannot compute undoes this fill's writes, not the batch's.
    match tx.transaction::<_, Failure, _>(async |savepoint| write(savepoint, event, &plan).await).await {
        Ok(recorded) => Ok(recorded),
        Err(Failure::Storage(error)) => Err(error),
        Err(Failure::Overflow(overflow)) => Ok(Recorded::Refused(format!("the trade's quantities: {overflow}"))),
        Err(Failure::Unreadable(error)) => Ok(Recorded::Refused(format!("the trade cannot be read back: {error}"))),
        Err(Failure::NotFound(message)) => Ok(Recorded::Refused(message.to_string())),
        // No deadline applies outside a request.
        Err(Failure::Late(exceeded)) => Ok(Recorded::Refused(exceeded.to_string())),
    }
}

async fn write(tx: &mut AsyncPgConnection, event: &FillRecorded, plan: &Plan) -> Result<Recorded, Failure> {
    let (position, fill) = (&event.position, &event.fill);
    let trade = match trades::lock_by_source_position(tx, event.bot_id, &position.id).await? {
        Some(trade) => trade,
        None => create(tx, event, plan).await?,
    };
    let asset_type = catalogue::asset_type(tx, &position.symbol).await?.unwrap_or_else(|| {
        warn!(bot.id = %event.bot_id, symbol = %position.symbol, "a fill on a market the catalogue does not hold");
        DEFAULT_ASSET_TYPE.to_string()
    });
    let metadata = json!({ "fee": fill.fee, "feeCurrency": fill.fee_currency, "role": fill.role });
    let row = NewTransactionRow {
        id: TransactionId::new(),
        bot_trade_id: trade.id,
        transaction_group: plan.group.as_str().to_string(),
        exit_type: plan.exit_type.map(str::to_string),
        trim_level: None,
        symbol: position.symbol.clone(),
        asset_type,
        side: live_fills::api_word(&fill.side),
        order_type: live_fills::api_word(&fill.order_type),
        quantity: fill.quantity,
        transaction_date: plan.filled_at,
        stop_price: None,
        price: Some(fill.price),
        option_type: None,
        strike_price: None,
        expiration_date: None,
        status: TransactionStatus::Filled.as_str().to_string(),
        filled_at: Some(plan.filled_at),
        filled_price: Some(fill.price),
        filled_quantity: Some(fill.quantity),
        avg_fill_price: Some(fill.price),
        broker: Some(BROKER.to_string()),
        broker_account_number: None,
        broker_order_id: Some(fill.order_id.clone()),
        broker_parent_order_id: None,
        notes: Some(fill.note.clone()).filter(|note| !note.is_empty()),
        metadata: JsonAsSent(metadata.to_string()),
    };
    trades::insert_transactions(tx, &[row]).await?;
    recompute(tx, &trade).await?;
    if let Some(net_pnl) = live_fills::net_pnl(position.closed, position.gross_profit, position.fees) {
        trades::set_net_pnl(tx, trade.id, net_pnl).await?;
    }
    let totals =
        hosted_bots::record_performance(tx, event.bot_id, event.seq, event.bot_totals.profit, event.bot_totals.roi)
            .await?;
    let trade = reload(tx, event.bot_id, trade.id).await?;
    Ok(Recorded::Applied { trade_id: trade.id, status: trade.status, totals })
}

/// The position's trade, made by its first fill (whichever fill of it arrives first).
async fn create(tx: &mut AsyncPgConnection, event: &FillRecorded, plan: &Plan) -> Result<TradeRow, Failure> {
    let position = &event.position;
    let source = if event.session_id.is_some() { "session" } else { "hosted" };
    let metadata = json!({ "source": source, "positionId": position.id, "sessionId": event.session_id });
    let id = TradeId::new();
    let metadata = metadata.to_string();
    let new = NewTrade {
        id,
        bot_id: event.bot_id,
        symbol: &position.symbol,
        trade_type: plan.trade_type.as_str(),
        status: TradeStatus::Pending.as_str(),
        signal_at: plan.signal_at,
        opened_at: None,
        metadata: &metadata,
        source_position_id: Some(&position.id),
    };
    trades::insert_trade(tx, &new).await?;
    trades::find_trade(tx, event.bot_id, id).await?.ok_or(Failure::NotFound(TRADE_NOT_FOUND))
}
