//! The runner's answers about a hosted bot's positions (`bots/positions/open | closed |
//! orders`), shaped as reference 003 shows them (LIVE.md §5.5):
//!
//! - `realizedProfit` is **gross**: the profit of the exits before fees (fees are in
//!   `feeCosts`), unlike the bot's `profit` (net);
//! - `roi` is `realizedProfit / (entry notional / leverage) × 100`, 2 decimals;
//! - `unrealizedProfit` is marked at the latest `last` this replica heard on the market.

use super::queries::{connect, known, storage};
use crate::ids::{RuntimeKind, runtime_id};
use crate::live::LastQuotes;
use crate::store::reads;
use crate::wire::wire_name;
use bus::BusError;
use bus::messages::live::{
    BotPosition, BotPositionsPage, ClosedPositionCursor, GetBotPositions, GetPositionOrders, PositionOrder,
    PositionOrders,
};
use bus::messages::partner::reference::JsonDecimal;
use domain::BotId;
use engine::{Direction, MarketSpec, Position, PositionFill, PositionStatus};
use platform::db::PgPool;
use rust_decimal::{Decimal, RoundingStrategy};
use std::sync::PoisonError;

/// A page of closed positions ends near this many bytes of JSON, even before `limit` items.
const PAGE_BYTES: usize = 256 * 1024;

/// About how many bytes of JSON one position takes.
const POSITION_BYTES: usize = 600;

/// `qry.live.bot_positions.v1`: open positions oldest first, or a page of closed ones newest
/// first.
pub async fn bot_positions(
    pool: &PgPool,
    quotes: &LastQuotes,
    request: GetBotPositions,
) -> Result<BotPositionsPage, BusError> {
    let mut connection = connect(pool).await?;
    let (run, market) = known(&mut connection, request.bot_id).await?;
    let market: MarketSpec = serde_json::from_value(market).map_err(unreadable)?;
    let last = quotes.read().unwrap_or_else(PoisonError::into_inner).get(&market.symbol).map(|quote| quote.last);
    let view = |body| -> Result<BotPosition, BusError> {
        let position: Position = serde_json::from_value(body).map_err(unreadable)?;
        Ok(position_view(request.bot_id, &market, &position, last))
    };
    if !request.closed {
        let bodies = reads::open_positions(&mut connection, run).await.map_err(storage)?;
        let items = bodies.into_iter().map(view).collect::<Result<_, _>>()?;
        return Ok(BotPositionsPage { items, next: None });
    }
    if !(1..=10_000).contains(&request.limit) {
        return Err(BusError::invalid("limit must be between 1 and 10000"));
    }
    let wanted = usize::try_from(request.limit).unwrap_or(10_000).min(PAGE_BYTES / POSITION_BYTES);
    let after = request.after.map(|cursor| (cursor.close_time, cursor.position));
    let rows = reads::closed_positions(&mut connection, run, after, i64::try_from(wanted).unwrap_or(1) + 1)
        .await
        .map_err(storage)?;
    let more = rows.len() > wanted;
    let rows: Vec<_> = rows.into_iter().take(wanted).collect();
    let next = more.then(|| {
        rows.last().map(|row| ClosedPositionCursor {
            close_time: row.close_time.unwrap_or_default(),
            position: row.position_id,
        })
    });
    let items = rows.into_iter().map(|row| view(row.body)).collect::<Result<_, _>>()?;
    Ok(BotPositionsPage { items, next: next.flatten() })
}

/// `qry.live.position_orders.v1`: the entry and exit fills of one position (`None`: the bot has
/// no position with that id).
pub async fn position_orders(pool: &PgPool, request: GetPositionOrders) -> Result<Option<PositionOrders>, BusError> {
    let mut connection = connect(pool).await?;
    let (run, market) = known(&mut connection, request.bot_id).await?;
    let market: MarketSpec = serde_json::from_value(market).map_err(unreadable)?;
    let wanted = request.position_id.to_ascii_lowercase();
    let Some(body) = reads::position_by_public_id(&mut connection, run, &wanted).await.map_err(storage)? else {
        return Ok(None);
    };
    let position: Position = serde_json::from_value(body).map_err(unreadable)?;
    let fill = |fill: &PositionFill, exit: bool| fill_view(request.bot_id, &market, &position, fill, exit);
    Ok(Some(PositionOrders {
        position_id: runtime_id(request.bot_id, RuntimeKind::Position, position.id),
        enter_orders: position.entry_orders.iter().map(|f| fill(f, false)).collect(),
        exit_orders: position.exit_orders.iter().map(|f| fill(f, true)).collect(),
    }))
}

/// A position as reference 003 shows it.
pub fn position_view(bot: BotId, market: &MarketSpec, position: &Position, last: Option<Decimal>) -> BotPosition {
    let open = position.status == PositionStatus::Open;
    let amount = if open { position.open_amount } else { position.amount };
    let sign = direction_sign(position.direction);
    let unrealized = match (open, last) {
        (false, _) => Decimal::ZERO,
        (true, Some(last)) => sign * (last - position.average_entry_price) * position.open_amount,
        (true, None) => position.unrealized_profit,
    };
    let realized = position.gross_profit;
    let notional = position.average_entry_price * position.amount;
    BotPosition {
        position_id: runtime_id(bot, RuntimeKind::Position, position.id),
        status: if open { "OPEN" } else { "CLOSED" }.to_string(),
        timestamp: position.open_time,
        direction: wire_name(&position.direction),
        enter_price: JsonDecimal(position.average_entry_price),
        exit_price: position.average_exit_price.map(JsonDecimal),
        amount: JsonDecimal(amount),
        amount_label: format!("{} {}", amount.normalize(), market.base_currency),
        unrealized_profit: JsonDecimal(unrealized),
        realized_profit: JsonDecimal(realized),
        profit_label: profit_label(realized, market),
        roi: JsonDecimal(roi(realized, notional, position.leverage)),
        fee_costs: JsonDecimal(position.fee_costs),
        market: market.symbol.clone(),
        leverage: position.leverage,
        open_time: position.open_time,
        close_time: position.close_time.unwrap_or(0),
        order_count: u32::try_from(position.entry_orders.len() + position.exit_orders.len()).unwrap_or(u32::MAX),
    }
}

/// One fill of a position: an entry shows no profit; an exit the gross profit of its share
/// and that over its share's entry notional.
fn fill_view(bot: BotId, market: &MarketSpec, position: &Position, fill: &PositionFill, exit: bool) -> PositionOrder {
    let (profit, roi) = if exit {
        let profit = direction_sign(position.direction) * (fill.price - position.average_entry_price) * fill.amount;
        (profit, self::roi(profit, position.average_entry_price * fill.amount, position.leverage))
    } else {
        (Decimal::ZERO, Decimal::ZERO)
    };
    PositionOrder {
        order_id: runtime_id(bot, RuntimeKind::Order, fill.order_id),
        timestamp: fill.time,
        direction: wire_name(&fill.side),
        order_type: wire_name(&fill.order_type),
        price: JsonDecimal(fill.price),
        amount: JsonDecimal(fill.amount),
        fee_costs: JsonDecimal(fill.fee_costs),
        fee_currency: market.quote_currency.clone(),
        profit: JsonDecimal(profit),
        roi: JsonDecimal(roi),
        note: fill.note.clone(),
    }
}

/// `profit / (notional / leverage) × 100`, 2 decimals (0 without a notional).
fn roi(profit: Decimal, notional: Decimal, leverage: u32) -> Decimal {
    let margin = notional / Decimal::from(leverage.max(1));
    if margin.is_zero() { Decimal::ZERO } else { (profit / margin * Decimal::ONE_HUNDRED).round_dp(2) }
}

fn direction_sign(direction: Direction) -> Decimal {
    match direction {
        Direction::Long => Decimal::ONE,
        Direction::Short => Decimal::NEGATIVE_ONE,
    }
}

/// `realizedProfit` rounded (half away from zero) to the quote's display decimals, with the
/// currency: `1.14 USDT` for 1.137.
fn profit_label(realized: Decimal, market: &MarketSpec) -> String {
    let decimals = display_decimals(market);
    let rounded = realized.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    format!("{rounded:.prec$} {}", market.quote_currency, prec = decimals as usize)
}

/// How many decimals a profit label shows: 2 for fiat and stablecoin quotes, the market's
/// price decimals otherwise.
fn display_decimals(market: &MarketSpec) -> u32 {
    match market.quote_currency.as_str() {
        "USD" | "USDT" | "USDC" | "EUR" | "GBP" | "BUSD" | "DAI" => 2,
        _ => market.price_decimals,
    }
}

fn unreadable(error: serde_json::Error) -> BusError {
    BusError::unavailable(format!("a stored record is unreadable: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn closed_long() -> Position {
        let fill = |order_id, side: &str, price, time| {
            serde_json::from_value::<PositionFill>(serde_json::json!({
                "orderId": order_id, "time": time, "side": side, "orderType": "Limit", "price": price,
                "amount": "0.1", "feeCosts": "4.2", "note": "Grid buy #5"
            }))
            .unwrap()
        };
        Position {
            id: 3,
            direction: Direction::Long,
            status: PositionStatus::Closed,
            leverage: 1,
            open_time: 1_704_024_000,
            close_time: Some(1_704_067_200),
            amount: dec!(0.1),
            open_amount: dec!(0),
            average_entry_price: dec!(42000),
            average_exit_price: Some(dec!(42500)),
            gross_profit: dec!(50),
            fee_costs: dec!(8.45),
            realized_profit: dec!(41.55),
            unrealized_profit: dec!(0),
            margin: dec!(4200),
            roi: dec!(0.99),
            liquidated: false,
            entry_orders: vec![fill(10, "BUY", "42000", 1_704_024_000)],
            exit_orders: vec![fill(11, "SELL", "42500", 1_704_067_200)],
        }
    }

    #[test]
    fn a_closed_position_shows_gross_profit_and_its_roi_on_the_entry_notional() {
        let market = MarketSpec::sim_btc_usdt();
        let bot = BotId::new();
        let view = position_view(bot, &market, &closed_long(), Some(dec!(43000)));
        // Reference 003's closed example: 42000 → 42500 × 0.1 = 50 gross, 50 / 4200 = 1.19 %.
        assert_eq!((view.realized_profit, view.roi), (JsonDecimal(dec!(50)), JsonDecimal(dec!(1.19))));
        assert_eq!(view.profit_label, "50.00 USDT");
        let mut odd = closed_long();
        odd.gross_profit = dec!(1.137);
        assert_eq!(position_view(bot, &market, &odd, None).profit_label, "1.14 USDT", "rounded, not cut");
        assert_eq!((view.amount, view.amount_label.as_str()), (JsonDecimal(dec!(0.1)), "0.1 BTC"));
        assert_eq!((view.unrealized_profit, view.exit_price), (JsonDecimal(dec!(0)), Some(JsonDecimal(dec!(42500)))));
        assert_eq!((view.open_time, view.close_time, view.order_count), (1_704_024_000, 1_704_067_200, 2));
        assert_eq!(view.position_id, runtime_id(bot, RuntimeKind::Position, 3));
        let exit = fill_view(bot, &market, &closed_long(), &closed_long().exit_orders[0], true);
        assert_eq!((exit.profit, exit.roi), (JsonDecimal(dec!(50)), JsonDecimal(dec!(1.19))));
        let entry = fill_view(bot, &market, &closed_long(), &closed_long().entry_orders[0], false);
        assert_eq!((entry.profit, entry.roi), (JsonDecimal(dec!(0)), JsonDecimal(dec!(0))));
        assert_eq!(entry.order_id, runtime_id(bot, RuntimeKind::Order, 10));
    }

    #[test]
    fn an_open_position_is_marked_at_the_latest_price() {
        let market = MarketSpec::sim_btc_usdt();
        let mut short = closed_long();
        short.direction = Direction::Short;
        short.status = PositionStatus::Open;
        short.close_time = None;
        short.open_amount = dec!(0.04);
        short.gross_profit = dec!(0);
        let view = position_view(BotId::new(), &market, &short, Some(dec!(41900)));
        // Short 0.04 from 42000, marked at 41900: +4.
        assert_eq!(view.unrealized_profit, JsonDecimal(dec!(4.00)));
        assert_eq!((view.status.as_str(), view.direction.as_str(), view.close_time), ("OPEN", "SHORT", 0));
        assert_eq!((view.amount, view.profit_label.as_str()), (JsonDecimal(dec!(0.04)), "0.00 USDT"));
    }
}
