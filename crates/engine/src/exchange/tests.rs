#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rust_decimal::Decimal;
use rust_decimal::dec;

use super::*;
use crate::log::LogLevel;
use crate::vocabulary::OrderStatus;

/// SIM_BTC_USDT_ (2 price decimals, 5 amount decimals, minimum 0.00001), fee 0.1 %,
/// 10,000 USDT and no base.
fn ex() -> Exchange {
    ex_with(dec!(10000), 0)
}

fn ex_with(quote: Decimal, base_lots: i64) -> Exchange {
    let fee = FeeRate::new(dec!(0.001)).unwrap();
    let scales = Scales::new(2, 5, fee.decimals);
    let p = ExchangeParams {
        market: MarketSpec::sim_btc_usdt(),
        scales,
        fee,
        slippage_ticks: 0,
        maintenance_margin: dec!(0.005),
        min_lots: 1,
    };
    let account = Account { quote: scales.money_floor(quote).unwrap(), base: base_lots, ..Account::default() };
    Exchange::new(p, account, 1000, false)
}

fn spot(side: Side, lots: i64, target: Target) -> OrderReq {
    OrderReq { side, qty: Qty(lots), role: OrderRole::Signal, tag: 1, venue: Venue::Spot, target }
}

fn fut(side: Side, lots: i64, leverage: u32, target: Target) -> OrderReq {
    OrderReq { side, qty: Qty(lots), role: OrderRole::Signal, tag: 1, venue: Venue::Futures { leverage }, target }
}

fn quote(ex: &Exchange) -> Decimal {
    ex.money_dec(ex.account.quote)
}

fn last_log(ex: &Exchange) -> (LogLevel, String) {
    let lines = ex.journal.clone().finish(0);
    let l = lines.last().unwrap();
    (l.level, l.message.clone())
}

const BTC: i64 = 100_000;

#[test]
fn spot_buy_and_sell_move_balances_and_charge_fees() {
    let mut ex = ex();
    // Buy 0.5 BTC at 20,000.00: notional 10,000? too much with the fee — buy 0.4 instead:
    // notional 8,000, fee 8 → quote 1,992.
    let ev = ex.place_market(spot(Side::Buy, 40_000, Target::Net), Touch::point(Price(2_000_000))).unwrap();
    assert_eq!(quote(&ex), dec!(1992));
    assert_eq!(ex.account.base, 40_000);
    assert_eq!(ex.orders[0].fee, ex.p.scales.money_floor(dec!(8)).unwrap());
    // Sell it at 21,000.00: +8,400 − 8.4 fee.
    ex.place_market(spot(Side::Sell, 40_000, Target::Reduce(ev.position)), Touch::point(Price(2_100_000))).unwrap();
    assert_eq!(quote(&ex), dec!(10383.6));
    assert_eq!(ex.account.base, 0);
    let p = &ex.positions[0];
    assert!(!p.open);
    // Gross 0.4 × 1,000 = 400 (tick·lots: 100,000 ticks × 40,000 lots).
    assert_eq!(ex.p.scales.ticklots_dec(p.realized), dec!(400));
    assert_eq!(ex.money_dec(p.fees), dec!(16.4));
    assert_eq!(ex.fees_total, ex.p.scales.money_floor(dec!(16.4)).unwrap());
}

#[test]
fn limit_orders_reserve_funds_until_filled_or_cancelled() {
    let mut ex = ex();
    // 0.25 BTC at 20,000: reserves 5,000 + 5 fee.
    let a = ex.place_limit(spot(Side::Buy, 25_000, Target::Net), Price(2_000_000)).unwrap();
    assert_eq!(ex.money_dec(ex.account.free_quote()), dec!(4995));
    // A second one of the same size does not fit in the free 4,995.
    assert_eq!(ex.place_limit(spot(Side::Buy, 25_000, Target::Net), Price(2_000_000)), Err(Refusal::InsufficientFunds));
    let (level, msg) = last_log(&ex);
    assert_eq!(level, LogLevel::Error);
    assert_eq!(
        msg,
        "Blocking PlaceBuyOrder(). Insufficient funds. 5005.000000 USDT required. 4995.000000 USDT available. (Signal #1)"
    );
    assert_eq!(ex.orders.len(), 1, "a refused order is not an order");
    ex.cancel(a, "test");
    assert_eq!(ex.orders[0].status, OrderStatus::Cancelled);
    assert_eq!(ex.money_dec(ex.account.free_quote()), dec!(10000));
    assert!(!ex.book.crosses(&crate::book::Probe::point(1)));
}

#[test]
fn sells_need_free_base() {
    let mut ex = ex_with(dec!(0), BTC);
    ex.place_limit(spot(Side::Sell, 60_000, Target::Net), Price(3_000_000)).unwrap();
    assert_eq!(ex.account.free_base(), 40_000);
    assert_eq!(
        ex.place_market(spot(Side::Sell, 50_000, Target::Net), Touch::point(Price(3_000_000))).map(|_| ()),
        Err(Refusal::InsufficientFunds)
    );
    let (_, msg) = last_log(&ex);
    assert!(
        msg.starts_with(
            "Blocking PlaceSellOrder(). Insufficient funds. 0.500000 BTC required. 0.400000 BTC available."
        ),
        "{msg}"
    );
}

#[test]
fn below_minimum_is_not_placed_and_logged() {
    let mut ex = ex();
    ex.p.min_lots = 10; // 0.0001 BTC
    assert_eq!(ex.place_limit(spot(Side::Buy, 9, Target::Net), Price(2_000_000)), Err(Refusal::BelowMinimum));
    let (level, msg) = last_log(&ex);
    assert_eq!(level, LogLevel::Warning);
    assert!(msg.contains("amount 0.00009 BTC is below the minimum trade amount"), "{msg}");
    assert!(ex.place_limit(spot(Side::Buy, 10, Target::Net), Price(2_000_000)).is_ok(), "exactly the minimum is fine");
}

#[test]
fn market_orders_pay_slippage() {
    let mut ex = ex();
    ex.p.slippage_ticks = 3;
    let ev = ex.place_market(spot(Side::Buy, BTC / 10, Target::Net), Touch::point(Price(2_000_000))).unwrap();
    assert_eq!(ev.price, Price(2_000_003));
    let ev = ex.place_market(spot(Side::Sell, BTC / 10, Target::Net), Touch::point(Price(2_000_000))).unwrap();
    assert_eq!(ev.price, Price(1_999_997));
    // On a quote: buys at the ask, sells at the bid.
    let t = Touch { bid: Price(100), ask: Price(110), last: Price(105) };
    assert_eq!(ex.market_price(Side::Buy, t), Price(113));
    assert_eq!(ex.market_price(Side::Sell, t), Price(97));
}

#[test]
fn net_spot_position_flips_with_the_remainder() {
    let mut ex = ex_with(dec!(10000), BTC);
    let at = Touch::point(Price(10_000)); // 100.00
    ex.place_market(spot(Side::Buy, BTC, Target::Net), at).unwrap(); // long 1
    let ev = ex.place_market(spot(Side::Sell, 3 * BTC / 2, Target::Net), at).unwrap(); // sell 1.5
    assert_eq!(ev.position, 1, "the fill's remainder opened position 1");
    assert_eq!(ex.positions.len(), 2);
    assert_eq!(
        (ex.positions[0].open, ex.positions[1].direction, ex.positions[1].qty),
        (false, Direction::Short, BTC / 2)
    );
    // The fee of the 1.5 sell (0.15) is split 2:1 between the two positions.
    assert_eq!(ex.money_dec(ex.positions[0].fees), dec!(0.2));
    assert_eq!(ex.money_dec(ex.positions[1].fees), dec!(0.05));
}

#[test]
fn futures_entry_posts_margin_and_sets_the_liquidation_trigger() {
    let mut ex = ex();
    // 1 BTC long at 100.00, ×10: margin 10, fee 0.1.
    let ev = ex.place_market(fut(Side::Buy, BTC, 10, Target::Net), Touch::point(Price(10_000))).unwrap();
    assert_eq!(quote(&ex), dec!(9989.9));
    assert_eq!(ex.money_dec(ex.account.margin), dec!(10));
    // X = (100 − 10) / (1 × 0.995) = 90.4523; the last tick below it is 90.45: there equity
    // 10 − 9.55 = 0.45 < 0.005 × 90.45 = 0.45225, at 90.46 it is 0.46 > 0.4523.
    assert_eq!(ex.positions[ev.position].liquidation, Some(Price(9045)));
    assert_eq!(ex.book.best_below(), 9045);
    // Equity at 95: 9,989.9 + 10 + (95 − 100) = 9,994.9.
    assert_eq!(ex.money_dec(ex.equity(Price(9500))), dec!(9994.9));
}

#[test]
fn short_liquidation_trigger() {
    let mut ex = ex();
    let ev = ex.place_market(fut(Side::Sell, BTC, 10, Target::Net), Touch::point(Price(10_000))).unwrap();
    // X = (100 + 10) / 1.005 = 109.4527; first tick above: 109.46 (equity 0.54 < 0.5473),
    // while at 109.45 equity 0.55 ≥ 0.54725.
    assert_eq!(ex.positions[ev.position].liquidation, Some(Price(10946)));
    assert_eq!(ex.book.best_above(), 10946);
}

#[test]
fn liquidation_pays_back_what_is_left_of_the_margin() {
    let mut ex = ex();
    let ev = ex.place_market(fut(Side::Buy, BTC, 10, Target::Net), Touch::point(Price(10_000))).unwrap();
    let liq = ex.liquidate(ev.position, Price(9045)).unwrap();
    assert_eq!(liq.role, OrderRole::Liquidation);
    // Loss 9.55, fee 0.09045: 10 − 9.55 − 0.09045 = 0.35955 comes back.
    assert_eq!(quote(&ex), dec!(9990.25955));
    assert_eq!(ex.account.margin, 0);
    let p = &ex.positions[ev.position];
    assert!(p.liquidated && !p.open);
    assert_eq!(ex.book.best_below(), i64::MIN, "trigger removed");
}

#[test]
fn a_gap_past_the_margin_costs_only_the_margin() {
    let mut ex = ex();
    let ev = ex.place_market(fut(Side::Buy, BTC, 10, Target::Net), Touch::point(Price(10_000))).unwrap();
    ex.liquidate(ev.position, Price(8500)).unwrap();
    // Loss 15 + fee 0.085 exceed the margin 10: the account loses the margin (and the entry
    // fee) only; 5.085 is absorbed.
    assert_eq!(quote(&ex), dec!(9989.9));
    assert_eq!(ex.money_dec(ex.positions[0].absorbed), dec!(5.085));
}

#[test]
fn futures_exits_are_capped_by_the_open_quantity() {
    let mut ex = ex();
    let ev = ex.place_market(fut(Side::Buy, BTC, 2, Target::Net), Touch::point(Price(10_000))).unwrap();
    let pos = ev.position;
    ex.place_limit(fut(Side::Sell, BTC / 2, 2, Target::Reduce(pos)), Price(11_000)).unwrap();
    assert_eq!(ex.positions[pos].pending_reduce, BTC / 2);
    assert_eq!(
        ex.place_limit(fut(Side::Sell, BTC / 2 + 1, 2, Target::Reduce(pos)), Price(11_000)),
        Err(Refusal::NothingToReduce)
    );
    // Close half at 110: margin released 25 of 50, profit 5, fee 0.055.
    let id = ex.orders.len() as u32 - 1;
    ex.fill(id, Price(11_000));
    // 10,000 − 50 − 0.1 (entry) + 25 + 5 − 0.055 = 9,979.845.
    assert_eq!(quote(&ex), dec!(9979.845));
    assert_eq!(ex.money_dec(ex.account.margin), dec!(25));
    assert_eq!(ex.positions[pos].qty, BTC / 2);
}

#[test]
fn margin_rounds_up_to_the_money_unit() {
    assert_eq!(margin_for(10, 3), 4);
    assert_eq!(margin_for(9, 3), 3);
    assert_eq!(margin_for(7, 1), 7);
}
