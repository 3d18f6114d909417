//! Checkpoint and restore: a run checkpointed at any point, put through JSON and restored,
//! then fed the rest of its inputs, gives the same events and report as a run never
//! interrupted; a state that is not consistent is refused.

use proptest::prelude::*;
use rust_decimal::dec;
use serde_json::Value;

use super::*;
use crate::settings::{InvestmentAsset, SignalAction, StopCondition, Threshold};
use crate::{EngineError, EngineState, LiveSignal};

/// One input of a live run.
#[derive(Clone, Debug)]
enum Input {
    /// A quote `dt` ms after the previous input, the mid moved by `step` ticks, `spread`
    /// ticks either side.
    Quote {
        dt: i64,
        step: i64,
        spread: i64,
    },
    Signal {
        action: SignalAction,
        amount: u32,
        price: Option<u32>,
    },
    Tick {
        dt: i64,
    },
    Stop {
        exit: bool,
    },
    Resume,
    CancelAll,
    Note,
}

fn input() -> impl Strategy<Value = Input> {
    let dt = prop::sample::select(vec![0i64, 1, 700, 30_000, 61_000, 61_000, 61_000]);
    let actions = [
        SignalAction::Buy,
        SignalAction::Sell,
        SignalAction::EnterLong,
        SignalAction::ExitLong,
        SignalAction::EnterShort,
        SignalAction::ExitShort,
    ];
    prop_oneof![
        12 => (dt.clone(), -80i64..=80, 0i64..=3).prop_map(|(dt, step, spread)| Input::Quote { dt, step, spread }),
        3 => (0usize..6, 1u32..300, prop::option::of(90u32..110))
            .prop_map(move |(a, amount, price)| Input::Signal { action: actions[a], amount, price }),
        1 => dt.prop_map(|dt| Input::Tick { dt }),
        1 => prop::bool::ANY.prop_map(|exit| Input::Stop { exit }),
        1 => Just(Input::Resume),
        1 => Just(Input::CancelAll),
        1 => Just(Input::Note),
    ]
}

fn bot() -> impl Strategy<Value = BotSettings> {
    let grid = (85u32..100, 101u32..125, 2u32..10, prop::bool::ANY, 0u8..3, prop::bool::ANY).prop_map(
        |(lo, hi, n, fill, stop, futures)| {
            let mut g = grid(Decimal::from(lo), Decimal::from(hi), n, dec!(2000));
            g.stop_exit = fill;
            match stop {
                // A price stop below the range, or an RSI stop (bars of one minute).
                1 => {
                    g.stop_condition = StopCondition::Price;
                    g.stop_type = Threshold::Below;
                    g.stop_value = Decimal::from(lo - 2);
                }
                2 => {
                    g.stop_condition = StopCondition::Rsi;
                    g.stop_type = Threshold::Above;
                    g.stop_value = dec!(55);
                }
                _ => {}
            }
            if futures {
                g.investment_asset = None;
                g.leverage = Some(3);
                BotSettings::FuturesGrid(g)
            } else {
                g.trade_to_fill_grid = Some(fill);
                BotSettings::SpotGrid(g)
            }
        },
    );
    let dca = (1u32..4, 0u32..6, prop::bool::ANY).prop_map(|(dev, n, futures)| {
        let mut d = dca();
        d.price_deviation = Decimal::from(dev);
        d.max_safety_orders = n;
        if futures {
            d.leverage = Some(2);
            BotSettings::FuturesDca(d)
        } else {
            BotSettings::SpotDca(d)
        }
    });
    let webhook =
        (1u32..10).prop_map(|lev| BotSettings::Webhook(WebhookSettings { leverage: Some(lev), ..webhook(vec![]) }));
    prop_oneof![grid, dca, webhook].prop_filter("valid settings", |b| b.validate().is_ok())
}

/// Feeds `inputs`, draining every `drain_every` inputs (and compacting after each drain if
/// `compact`); at input `restart` the engine is checkpointed, put through JSON and restored.
fn run(
    bot: &BotSettings,
    inputs: &[Input],
    restart: Option<usize>,
    drain_every: usize,
    compact: bool,
) -> (Vec<EngineEvent>, Report) {
    let cfg = RunConfig { starting_base: dec!(2), equity_points: 16, ..RunConfig::default() };
    let mut e = Engine::live(bot.clone(), MarketSpec::sim_btc_usdt(), cfg, LiveConfig::default()).unwrap();
    let (mut events, mut t, mut mid, mut id) = (Vec::new(), T0 * 1000, 10_000i64, 0u64);
    for (i, input) in inputs.iter().enumerate() {
        if restart == Some(i) {
            let json = serde_json::to_string(&e.checkpoint()).unwrap();
            e = Engine::restore(serde_json::from_str(&json).unwrap()).unwrap();
        }
        match input {
            Input::Quote { dt, step, spread } => {
                t += dt;
                mid = (mid + step).clamp(2_000, 20_000);
                e.on_quote(&crate::Quote::from_ticks(t, mid - spread, mid + spread, mid).unwrap());
            }
            Input::Signal { action, amount, price } => {
                id += 1;
                e.on_signal(LiveSignal {
                    id,
                    action: *action,
                    amount: Decimal::from(*amount) / dec!(100),
                    amount_asset: InvestmentAsset::Base,
                    price: price.map(Decimal::from),
                });
            }
            Input::Tick { dt } => {
                t += dt;
                e.on_tick(t);
            }
            Input::Stop { exit } => e.stop(*exit),
            Input::Resume => e.resume(),
            Input::CancelAll => e.cancel_all("test"),
            Input::Note => e.note(LogLevel::Custom, format!("note {i}")),
        }
        if i % drain_every == 0 {
            events.extend(e.drain());
            if compact {
                e.compact();
            }
        }
    }
    events.extend(e.drain());
    (events, e.finish())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_restored_run_equals_an_uninterrupted_one(
        bot in bot(),
        inputs in prop::collection::vec(input(), 1..300),
        at in any::<prop::sample::Index>(),
        drain_every in 1usize..5,
        compact in prop::bool::ANY,
    ) {
        let k = at.index(inputs.len() + 1);
        let whole = run(&bot, &inputs, None, drain_every, compact);
        let restored = run(&bot, &inputs, Some(k), drain_every, compact);
        prop_assert_eq!(&whole.0, &restored.0, "events differ (restart at {})", k);
        prop_assert_eq!(&whole.1, &restored.1, "reports differ (restart at {})", k);
        let seqs: Vec<u64> = whole.0.iter().map(|e| e.seq).collect();
        prop_assert_eq!(seqs, (1..=whole.0.len() as u64).collect::<Vec<_>>());
    }
}

/// The grid of the live tests, holding a level: a state with orders, a position, a book.
fn state() -> Value {
    let mut e = live(BotSettings::SpotGrid(grid(dec!(100), dec!(140), 4, dec!(1000))));
    e.on_quote(&at(1_000, dec!(125)));
    e.on_quote(&at(2_000, dec!(119)));
    serde_json::to_value(e.checkpoint()).unwrap()
}

fn restore(v: Value) -> Result<Engine, EngineError> {
    let state: EngineState = serde_json::from_value(v).unwrap();
    Engine::restore(state)
}

#[test]
fn checkpoints_are_versioned_and_round_trip() {
    let v = state();
    assert!(v.get("v1").is_some(), "{v}");
    let state: EngineState = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(state.version(), 1);
    let e = Engine::restore(state).unwrap();
    assert_eq!(serde_json::to_value(e.checkpoint()).unwrap(), v);
    let mut unknown = serde_json::Map::new();
    unknown.insert("v9".into(), v["v1"].clone());
    assert!(serde_json::from_value::<EngineState>(Value::Object(unknown)).is_err());
}

#[test]
fn inconsistent_checkpoints_are_refused() {
    let mut v = state();
    v["v1"]["ex"]["account"]["reserved_quote"] = Value::from(1);
    let e = restore(v).unwrap_err();
    assert_eq!(e, EngineError::Checkpoint("the balances held do not match the open orders".into()));

    let mut v = state();
    v["v1"]["ex"]["book"]["pending"][0]["what"]["Order"] = Value::from(999);
    assert!(matches!(restore(v), Err(EngineError::Checkpoint(m)) if m.contains("the book refers")));

    let mut v = state();
    v["v1"]["ex"]["p"]["scales"]["pd"] = Value::from(3);
    assert!(matches!(restore(v), Err(EngineError::Checkpoint(m)) if m.contains("scales")));

    let mut v = state();
    v["v1"]["settings"]["settings"]["gridCount"] = Value::from(0);
    assert!(matches!(restore(v), Err(EngineError::Settings(f)) if f.field == "gridCount"));
}
