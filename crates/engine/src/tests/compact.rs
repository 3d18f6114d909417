//! `compact()` keeps a long live run's memory flat: finished orders and closed positions go
//! once their events are drained; ids stay stable.

use rust_decimal::dec;

use super::*;

#[test]
fn a_million_quotes_keep_a_bounded_number_of_records() {
    // Grid 100–140 in 4 grids; the price swings 95 → 145 → 95 in steps of 0.50, so every
    // level trades a round trip per swing: 5,000 swings, about 40,000 fills.
    let mut e = live(BotSettings::SpotGrid(grid(dec!(100), dec!(140), 4, dec!(1000))));
    let (mut most, mut fills, mut last_order) = ((0, 0), 0usize, 0u32);
    for i in 0..1_000_000i64 {
        let k = i % 200;
        let ticks = 9_500 + 50 * if k < 100 { k } else { 200 - k };
        e.on_quote(&crate::Quote::from_ticks(i * 250, ticks - 1, ticks + 1, ticks).unwrap());
        if (i + 1) % 1_000 == 0 {
            for ev in e.drain() {
                if let EventKind::OrderFilled { order, .. } = &ev.kind {
                    fills += 1;
                    last_order = last_order.max(order.id);
                }
            }
            e.compact();
            let (o, p) = e.retained();
            most = (most.0.max(o), most.1.max(p));
            assert_eq!(e.pending_events(), 0);
        }
    }
    assert!(fills > 39_000, "{fills} fills");
    assert!(last_order > 39_000, "ids keep counting: {last_order}");
    // At most the 4 levels' orders (a buy or a sell each) and their 4 positions are kept.
    assert!(most.0 <= 4 && most.1 <= 4, "kept at most {most:?}");
    let r = e.finish();
    assert!(r.orders.iter().all(|o| o.status == OrderStatus::Open));
    assert!(r.orders.iter().all(|o| o.id > 39_000), "the kept orders keep their ids");
    assert!(r.summary.gross_profit > dec!(0), "totals cover the whole run");
}

#[test]
fn compaction_keeps_what_is_not_drained_or_still_referred_to() {
    let mut e = live(BotSettings::SpotGrid(grid(dec!(100), dec!(140), 4, dec!(1000))));
    e.on_quote(&at(1_000, dec!(125)));
    e.on_quote(&at(2_000, dec!(119))); // the 120 buy filled: finished, but not drained
    e.compact();
    assert_eq!(e.retained(), (4, 1), "nothing drained: nothing dropped");
    e.drain();
    e.compact();
    assert_eq!(e.retained(), (3, 1), "the filled buy goes; the open position stays");
    // Checkpoints carry compacted state and restore it.
    let restored = Engine::restore(e.checkpoint()).unwrap();
    assert_eq!(restored.retained(), (3, 1));
}
