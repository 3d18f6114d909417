//! The runner's answers about a hosted bot's runtime (`bots/orders`, `bots/logs`). The gateway
//! has checked with the ledger that the bot is the partner's; a bot the runner does not know,
//! or whose rows it purged, is not found.

use crate::ids::{RuntimeKind, runtime_id};
use crate::store::reads;
use crate::wire::wire_name;
use bus::BusError;
use bus::messages::live::{BotLogLine, BotLogPage, BotOrder, GetBotLogs, GetBotOrders};
use bus::messages::partner::reference::JsonDecimal;
use diesel_async::AsyncPgConnection;
use domain::{BotId, LiveRunId};
use engine::Order;
use platform::db::PgPool;
use rust_decimal::Decimal;

/// A page of log lines ends near this many bytes of JSON, even before `limit` lines.
const PAGE_BYTES: usize = 256 * 1024;

/// The grey of `custom` lines.
const CUSTOM_COLOR: &str = "rgba(128, 128, 128, 1.00)";

/// `qry.live.bot_orders.v1`: the bot's open orders, oldest first.
pub async fn bot_orders(pool: &PgPool, request: GetBotOrders) -> Result<Vec<BotOrder>, BusError> {
    let mut connection = connect(pool).await?;
    let (run, market) = known(&mut connection, request.bot_id).await?;
    let symbol = market["symbol"].as_str().unwrap_or_default().to_string();
    let bodies = reads::open_orders(&mut connection, run).await.map_err(storage)?;
    bodies
        .into_iter()
        .map(|body| {
            let order: Order = serde_json::from_value(body)
                .map_err(|error| BusError::unavailable(format!("a stored order is unreadable: {error}")))?;
            Ok(order_view(request.bot_id, &symbol, order))
        })
        .collect()
}

/// An open order as reference 003 shows it.
fn order_view(bot: BotId, symbol: &str, order: Order) -> BotOrder {
    let id = runtime_id(bot, RuntimeKind::Order, order.id);
    let zero = JsonDecimal(Decimal::ZERO);
    BotOrder {
        exchange_order_id: id.clone(),
        order_id: id,
        position_id: order
            .closes_position
            .or(order.position_id)
            .map(|p| runtime_id(bot, RuntimeKind::Position, p))
            .unwrap_or_default(),
        status: wire_name(&order.status),
        timestamp: order.created_at,
        direction: wire_name(&order.side),
        order_type: wire_name(&order.order_type),
        price: JsonDecimal(order.price),
        trigger_price: zero,
        trade_price: JsonDecimal(order.price),
        amount: JsonDecimal(order.amount),
        amount_filled: JsonDecimal(order.amount_filled),
        fee_costs: JsonDecimal(order.fee_costs),
        fee_currency: order.fee_currency,
        gross_profit: zero,
        roi: zero,
        market: symbol.to_string(),
        leverage: order.leverage,
        note: order.note,
    }
}

/// `qry.live.bot_logs.v1`: lines after `after_line`, at most `limit` and about 256 KiB.
pub async fn bot_logs(pool: &PgPool, request: GetBotLogs) -> Result<BotLogPage, BusError> {
    if request.after_line < 0 || !(1..=10_000).contains(&request.limit) {
        return Err(BusError::invalid("afterLine must be at least 0 and limit between 1 and 10000"));
    }
    let mut connection = connect(pool).await?;
    let (run, _) = known(&mut connection, request.bot_id).await?;
    let wanted = i64::from(request.limit);
    let lines = reads::log_lines(&mut connection, run, request.after_line, wanted + 1).await.map_err(storage)?;
    let mut items = Vec::with_capacity(lines.len().min(1024));
    let mut bytes = 0;
    let mut more = false;
    for line in lines {
        if items.len() as i64 == wanted {
            more = true;
            break;
        }
        let color = (line.severity == "custom").then(|| CUSTOM_COLOR.to_string());
        let item = BotLogLine {
            line_number: line.line_number,
            timestamp: line.time,
            severity: line.severity,
            color,
            message: line.message,
        };
        // A line's JSON is about its message plus ~100 bytes of field names and numbers.
        bytes += item.message.len() + 100;
        if bytes > PAGE_BYTES && !items.is_empty() {
            more = true;
            break;
        }
        items.push(item);
    }
    Ok(BotLogPage { items, more })
}

pub(super) async fn connect(
    pool: &PgPool,
) -> Result<diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>, BusError> {
    pool.get().await.map_err(|error| BusError::unavailable(format!("database unavailable: {error}")))
}

pub(super) async fn known(
    connection: &mut AsyncPgConnection,
    bot: BotId,
) -> Result<(LiveRunId, serde_json::Value), BusError> {
    reads::known_hosted_run(connection, bot)
        .await
        .map_err(storage)?
        .ok_or_else(|| BusError::not_found(format!("Bot {} not found", bot.as_uuid().simple())))
}

pub(super) fn storage(error: diesel::result::Error) -> BusError {
    BusError::unavailable(format!("database error: {error}"))
}
