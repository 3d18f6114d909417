//! Controlling a live run: stop and resume, cancel_all, flatten, settings edits, P&L, and the
//! RSI on bars of the bot's interval.

use rust_decimal::dec;

use super::*;
use crate::settings::{StartCondition, StopCondition, Threshold};
use crate::{Pnl, ValidationError};

/// Grid 100–140 in 4 grids, 1,000 USDT (Quote): 2.5 @100, 2.27272 @110, 2.08333 @120,
/// 1.92307 @130. At 125 it buys at 120, 110 and 100; at 119 the 120 buy fills and level 2
/// rests its sell at 130.
fn holding_grid() -> Engine {
    let mut e = live(BotSettings::SpotGrid(grid(dec!(100), dec!(140), 4, dec!(1000))));
    e.on_quote(&at(1_000, dec!(125)));
    e.on_quote(&at(2_000, dec!(119)));
    e
}

#[test]
fn stop_then_resume_replaces_a_grids_sells_and_buys_without_duplicates() {
    let mut e = holding_grid();
    let before = open_orders(&e);
    assert_eq!(
        before,
        vec![
            (OrderRole::GridBuy, "Grid buy #1".into(), dec!(110)),
            (OrderRole::GridBuy, "Grid buy #0".into(), dec!(100)),
            (OrderRole::GridSell, "Grid sell #2".into(), dec!(130)),
        ]
    );
    e.stop(false);
    assert!(e.is_stopped() && open_orders(&e).is_empty());
    e.on_quote(&at(2_500, dec!(125))); // stopped: the bot places nothing
    assert!(open_orders(&e).is_empty());
    e.resume();
    e.resume();
    assert!(open_orders(&e).is_empty(), "a grid re-places at the next quote, not in resume()");
    e.on_quote(&at(3_000, dec!(125)));
    let mut after = open_orders(&e);
    after.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected = before.clone();
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(after, expected, "the held level's sell and the idle levels' buys, once each");
    e.on_quote(&at(4_000, dec!(125)));
    assert_eq!(open_orders(&e).len(), 3);
    // cancel_all on a running grid: it reconciles at the next quote and re-places, once.
    e.cancel_all("operator");
    assert!(open_orders(&e).is_empty());
    e.on_quote(&at(5_000, dec!(125)));
    assert_eq!(open_orders(&e).len(), 3);
}

#[test]
fn stop_then_resume_replaces_a_dcas_take_profit_and_safety_orders_once() {
    // Base 1 BTC @100; safeties at 99, 98, 97, 96, 95; take-profit at 101.20.
    let mut e = live(BotSettings::SpotDca(dca()));
    e.on_quote(&at(1_000, dec!(100)));
    let before = open_orders(&e);
    assert_eq!(before.len(), 6);
    assert_eq!(before[5], (OrderRole::DcaTakeProfit, "Take profit".into(), dec!(101.2)));
    e.stop(false);
    assert!(open_orders(&e).is_empty());
    e.resume();
    assert_eq!(open_orders(&e), before, "re-placed at once, same prices");
    e.resume();
    assert_eq!(open_orders(&e), before, "a second resume places nothing");
    e.on_quote(&at(2_000, dec!(100)));
    assert_eq!(open_orders(&e), before, "the open deal is kept: no new base order");
    let r = e.finish();
    assert_eq!(with_role(&r, OrderRole::DcaBase).len(), 1);
}

#[test]
fn flatten_closes_every_position_at_market_and_stops() {
    let mut e = holding_grid();
    e.flatten();
    assert!(e.is_stopped());
    assert!(open_orders(&e).is_empty());
    e.on_quote(&at(3_000, dec!(125)));
    assert!(open_orders(&e).is_empty(), "a flattened bot places nothing");
    // The 2.08333 bought at 120 sold at the bid 119: gross −2.08333; fees 0.2499996 +
    // 0.24791627.
    let p = e.pnl();
    assert_eq!(
        p,
        Pnl {
            realized_gross: dec!(-2.08333),
            fees: dec!(0.49791587),
            unrealized: dec!(0),
            equity: dec!(9997.41875413)
        }
    );
    let r = e.finish();
    let flat = with_role(&r, OrderRole::Flatten);
    assert_eq!(
        flat.iter().map(|o| (o.price, o.amount, o.note.as_str())).collect::<Vec<_>>(),
        vec![(dec!(119), dec!(2.08333), "Flatten")]
    );
    assert!(r.positions.iter().all(|p| p.status == crate::PositionStatus::Closed));
}

#[test]
fn pnl_marks_open_positions_at_the_last_quote() {
    let mut e = holding_grid();
    e.on_quote(&at(3_000, dec!(121)));
    // Holding 2.08333 from 120: unrealized 2.08333 at 121; the buy's fee 0.2499996.
    let p = e.pnl();
    assert_eq!((p.realized_gross, p.fees, p.unrealized), (dec!(0), dec!(0.2499996), dec!(2.08333)));
    assert_eq!(p.equity, dec!(10000) - dec!(0.2499996) + dec!(2.08333));
}

#[test]
fn a_dca_flattened_and_resumed_opens_a_new_deal() {
    let mut e = live(BotSettings::SpotDca(dca()));
    e.on_quote(&at(1_000, dec!(100)));
    e.flatten();
    e.resume();
    assert!(open_orders(&e).is_empty(), "the deal ended with its position");
    e.on_quote(&at(2_000, dec!(100)));
    let r = e.finish();
    assert_eq!(with_role(&r, OrderRole::DcaBase).len(), 2);
}

#[test]
fn settings_edits_touch_only_editable_keys() {
    let g = grid(dec!(100), dec!(140), 4, dec!(1000));
    let mut e = live(BotSettings::SpotGrid(g.clone()));
    e.on_quote(&at(1_000, dec!(125)));
    let refuse = |e: &mut Engine, s: BotSettings| e.update_settings(s).unwrap_err();
    let err = refuse(&mut e, BotSettings::SpotGrid(crate::settings::GridSettings { grid_count: 5, ..g.clone() }));
    assert_eq!(err, ValidationError::new("gridCount", "cannot be edited"));
    assert_eq!(refuse(&mut e, BotSettings::SpotDca(dca())).field, "type");
    let bad = crate::settings::GridSettings { stop_value: dec!(-1), ..g.clone() };
    assert_eq!(refuse(&mut e, BotSettings::SpotGrid(bad)).field, "stopValue");
    assert_eq!(e.settings(), &BotSettings::SpotGrid(g.clone()), "a refused edit changes nothing");
    // An editable key: a stop above 130, met by the next quote.
    let stop = crate::settings::GridSettings {
        stop_condition: StopCondition::Price,
        stop_type: Threshold::Above,
        stop_value: dec!(130),
        ..g
    };
    e.update_settings(BotSettings::SpotGrid(stop.clone())).unwrap();
    assert_eq!(e.settings(), &BotSettings::SpotGrid(stop));
    e.drain();
    e.on_quote(&at(2_000, dec!(131)));
    assert!(kinds(&e.drain()).contains(&"BotDeactivated"));
}

#[test]
fn a_webhook_definition_carrying_signals_is_refused_live() {
    let w = webhook(vec![crate::settings::Signal {
        timestamp: T0,
        action: crate::settings::SignalAction::Buy,
        amount: dec!(1),
        price: None,
    }]);
    let e = Engine::live(
        BotSettings::Webhook(w.clone()),
        MarketSpec::sim_btc_usdt(),
        RunConfig::default(),
        LiveConfig::default(),
    );
    assert_eq!(e.unwrap_err().to_string(), "validation failed: signals: a backtest-only setting");
    let mut e = live(BotSettings::Webhook(webhook(vec![])));
    assert_eq!(e.update_settings(BotSettings::Webhook(w)).unwrap_err().to_string(), "signals: a backtest-only setting");
}

#[test]
fn an_rsi_edit_keeps_the_rsi_state() {
    // Rising closes, one bar a minute: after 15 bar closes the RSI is 100. The stop is
    // switched to "RSI ≥ 70" then: the next quote stops the bot at once, because the RSI
    // computed while the stop was Manual is kept.
    let g = grid(dec!(50), dec!(200), 3, dec!(1000));
    let mut e = live(BotSettings::SpotGrid(g.clone()));
    for m in 0..16 {
        e.on_quote(&at(60_000 * m + 1, Decimal::from(101 + m)));
    }
    e.drain();
    let rsi = crate::settings::GridSettings {
        stop_condition: StopCondition::Rsi,
        stop_type: Threshold::Above,
        stop_value: dec!(70),
        ..g
    };
    e.update_settings(BotSettings::SpotGrid(rsi)).unwrap();
    e.on_quote(&at(60_000 * 16 + 1, dec!(117)));
    assert!(kinds(&e.drain()).contains(&"BotDeactivated"));
}

#[test]
fn a_dca_take_profit_edit_is_replaced_at_the_next_quote() {
    let mut e = live(BotSettings::SpotDca(dca()));
    e.on_quote(&at(1_000, dec!(100)));
    e.drain();
    let mut d = dca();
    d.take_profit = dec!(2);
    e.update_settings(BotSettings::SpotDca(d)).unwrap();
    assert!(e.drain().is_empty(), "nothing moves before the next event");
    e.on_quote(&at(2_000, dec!(100)));
    let ev = e.drain();
    assert_eq!(kinds(&ev), vec!["OrderCancelled", "OrderPlaced"]);
    // 100 × (1 + 0.02 + 0.001) / (1 − 0.001) = 102.2022… → 102.20.
    let tp = open_orders(&e).into_iter().find(|o| o.0 == OrderRole::DcaTakeProfit);
    assert_eq!(tp.map(|o| o.2), Some(dec!(102.2)));
}

#[test]
fn rsi_runs_on_bars_of_the_interval_and_price_conditions_on_every_quote() {
    // RSI below 30 on falling prices, three quotes a minute. On bars of one minute the RSI
    // exists after 15 bar closes: at the first quote of minute 15, not after 15 quotes.
    let mut g = grid(dec!(50), dec!(200), 3, dec!(1000));
    g.start_condition = StartCondition::Rsi;
    g.start_type = Threshold::Below;
    g.start_value = dec!(30);
    let mut e = live(BotSettings::SpotGrid(g.clone()));
    let mut p = dec!(180);
    for m in 0..15 {
        for s in 0..3 {
            e.on_quote(&at(60_000 * m + 20_000 * s, p));
            p -= dec!(0.5);
        }
    }
    assert!(open_orders(&e).is_empty(), "14 bar closes: no RSI yet");
    e.on_quote(&at(60_000 * 15, p));
    assert!(!open_orders(&e).is_empty(), "the 15th bar close gives RSI 0: started");
    // With a 5-minute interval the same quotes make 2 bar closes: no start.
    g.interval = Some(5);
    let mut e = live(BotSettings::SpotGrid(g));
    let mut p = dec!(180);
    for m in 0..16 {
        e.on_quote(&at(60_000 * m, p));
        p -= dec!(1);
    }
    assert!(open_orders(&e).is_empty());
    // A price condition is tested on every quote's last, within one bar.
    let mut g = grid(dec!(50), dec!(200), 3, dec!(1000));
    g.start_condition = StartCondition::Price;
    g.start_type = Threshold::Below;
    g.start_value = dec!(105);
    let mut e = live(BotSettings::SpotGrid(g));
    e.on_quote(&quote(1_000, dec!(109.9), dec!(110.1), dec!(110)));
    assert!(open_orders(&e).is_empty());
    e.on_quote(&quote(2_000, dec!(104.9), dec!(105.1), dec!(105)));
    assert!(!open_orders(&e).is_empty());
}

#[test]
fn a_deactivated_grid_is_rearmed_by_resume() {
    let mut g = grid(dec!(100), dec!(140), 4, dec!(1000));
    g.stop_condition = StopCondition::Price;
    g.stop_type = Threshold::Below;
    g.stop_value = dec!(105);
    let mut e = live(BotSettings::SpotGrid(g));
    e.on_quote(&at(1_000, dec!(125)));
    e.on_quote(&at(2_000, dec!(119))); // level 2 holds 2.08333, sells at 130
    // The 110 buy fills (level 1 holds 2.27272, sells at 120), then the stop condition:
    // everything cancelled, the bot deactivated; without stopExit both levels keep their base.
    e.on_quote(&at(3_000, dec!(104)));
    assert!(open_orders(&e).is_empty());
    e.on_quote(&at(4_000, dec!(125)));
    assert!(open_orders(&e).is_empty(), "deactivated");
    e.resume();
    e.drain();
    e.on_quote(&at(5_000, dec!(125)));
    let ev = e.drain();
    assert!(lines(&ev).contains(&"Grid bot started".to_string()), "Instant start: at once");
    let mut o: Vec<String> = open_orders(&e).into_iter().map(|o| o.1).collect();
    o.sort();
    assert_eq!(o, vec!["Grid buy #0", "Grid sell #1", "Grid sell #2"], "the held levels sell again");
}
