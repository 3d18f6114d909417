//! The run's transitions and writes, without a database: a spot grid on SIM_BTC_USDT_
//! (28000–31000 in 30 grids, 9900 USDT, so 330 USDT a level), claimed, fed quotes, stopped,
//! started, edited, deleted, and restored from the checkpoints of its own writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use chrono::{TimeZone, Utc};
use engine::{Order, Side};
use rust_decimal::dec;

const SETTINGS: &str = r#"{"symbol":"SIM_BTC_USDT_","lowerLimit":28000,"upperLimit":31000,"gridCount":30,"investmentAsset":"Quote","investmentAmount":9900}"#;
const MARKET: &str = r#"{"symbol":"SIM_BTC_USDT_","baseCurrency":"BTC","quoteCurrency":"USDT","priceDecimals":2,"amountDecimals":5,"minimumTradeAmount":"0.00001"}"#;

/// When the runner first heard of the bot, Unix seconds.
const CREATED_S: i64 = 1_700_000_000;
/// The runner's clock at a claim or a definition, ms.
const NOW_MS: i64 = 1_700_000_500_000;
/// The first quote's time, ms.
const T1: i64 = 1_700_000_600_000;

/// The buys a fresh grid places at a quote whose last is 29050, nearest first: order id,
/// price, amount (330 / price, floored to the lot).
const BUYS: [(u32, Decimal, Decimal); 11] = [
    (0, dec!(29000.00), dec!(0.01137)),
    (1, dec!(28900.00), dec!(0.01141)),
    (2, dec!(28800.00), dec!(0.01145)),
    (3, dec!(28700.00), dec!(0.01149)),
    (4, dec!(28600.00), dec!(0.01153)),
    (5, dec!(28500.00), dec!(0.01157)),
    (6, dec!(28400.00), dec!(0.01161)),
    (7, dec!(28300.00), dec!(0.01166)),
    (8, dec!(28200.00), dec!(0.01170)),
    (9, dec!(28100.00), dec!(0.01174)),
    (10, dec!(28000.00), dec!(0.01178)),
];

fn defaults() -> RunDefaults {
    RunDefaults { starting_quote: dec!(10000) }
}

fn market() -> MarketSpec {
    serde_json::from_str(MARKET).unwrap()
}

/// A quote half a dollar either side of `last`.
fn quote(time_ms: i64, last: Decimal) -> Quote {
    Quote::from_decimals(&market(), time_ms, last - dec!(0.5), last + dec!(0.5), last).unwrap()
}

/// A bot the runner has just heard of: no checkpoint, no lines, to be started.
fn fresh_row() -> ClaimedRun {
    ClaimedRun {
        id: LiveRunId::new(),
        lease_token: 7,
        bot_id: BotId::new(),
        revision: 1,
        desired: "running".to_string(),
        state: "stopped".to_string(),
        script_type: "spot_grid".to_string(),
        settings: SETTINGS.to_string(),
        market: MARKET.to_string(),
        checkpoint: None,
        checkpoint_format: None,
        next_log_line: 0,
        last_quote_ms: None,
        created_at: Utc.timestamp_opt(CREATED_S, 0).unwrap(),
        applied_revision: None,
        checkpoint_abandoned_at: None,
    }
}

/// `row` as it reads after `write` committed, claimed again (a new token) with `desired` at
/// `revision`.
fn committed_row(row: &ClaimedRun, write: &RunWrite, desired: &str, revision: i64) -> ClaimedRun {
    ClaimedRun {
        lease_token: row.lease_token + 1,
        revision,
        desired: desired.to_string(),
        state: write.state.as_str().to_string(),
        checkpoint: Some(write.checkpoint.clone().expect("the write carries a checkpoint")),
        checkpoint_format: Some(CHECKPOINT_FORMAT),
        next_log_line: write.next_log_line,
        last_quote_ms: write.last_quote_ms.or(row.last_quote_ms),
        applied_revision: Some(write.applied_revision),
        ..row.clone()
    }
}

fn adopt(row: ClaimedRun) -> LiveRun {
    match LiveRun::adopt(row, &defaults(), NOW_MS) {
        Adoption::Run(run) => *run,
        Adoption::Purge(_) => panic!("adopted as a purge"),
        Adoption::Failed(write) => panic!("adoption failed: {:?}", write.effects.lines),
    }
}

fn failed_write(row: ClaimedRun) -> RunWrite {
    match LiveRun::adopt(row, &defaults(), NOW_MS) {
        Adoption::Failed(write) => *write,
        Adoption::Run(_) => panic!("adopted as a run"),
        Adoption::Purge(_) => panic!("adopted as a purge"),
    }
}

/// The write that is due (panics if there is none).
fn write(run: &mut LiveRun, checkpoint: bool) -> RunWrite {
    run.take_write(checkpoint).unwrap().expect("a write is due")
}

fn messages(effects: &Effects) -> Vec<&str> {
    effects.lines.iter().map(|line| line.message.as_str()).collect()
}

fn numbers(effects: &Effects) -> Vec<i64> {
    effects.lines.iter().map(|line| line.line_number).collect()
}

fn order(row: &OrderRow) -> Order {
    serde_json::from_str(&row.body).unwrap()
}

/// `(order id, status, side, price, amount)` of each order row.
fn orders(effects: &Effects) -> Vec<(i64, &'static str, Side, Decimal, Decimal)> {
    effects
        .orders
        .iter()
        .map(|row| {
            let o = order(row);
            assert_eq!(row.order_id, i64::from(o.id), "the row's id is the engine's");
            (row.order_id, row.status, o.side, o.price, o.amount)
        })
        .collect()
}

fn placed_line(side: &str, price: Decimal, amount: Decimal, note: &str) -> String {
    format!("Placed {side} order at {price} for {amount} BTC ({note})")
}

/// The log of a fresh grid's first quote at 29050: the engine's start, then a buy for each of
/// the 11 levels below the price, nearest first (level 10 is 29000).
fn first_quote_lines() -> Vec<String> {
    let mut lines = vec![
        "Bot started with equity 10000 USDT".to_string(),
        "Grid of 30 grids from 28000.00 to 31000.00".to_string(),
        "Grid bot started".to_string(),
    ];
    for (id, price, amount) in BUYS {
        lines.push(placed_line("BUY", price, amount, &format!("Grid buy #{}", 10 - id)));
    }
    lines
}

/// A fresh run, its first write taken, then the quote at 29050 and its write.
fn running_with_buys() -> (ClaimedRun, LiveRun, RunWrite) {
    let row = fresh_row();
    let mut run = adopt(row.clone());
    write(&mut run, false);
    run.on_quote(&quote(T1, dec!(29050)));
    let written = write(&mut run, false);
    (row, run, written)
}

fn definition(run: &LiveRun, revision: i64, desired: &str, settings: &str) -> HeldDefinition {
    HeldDefinition { id: run.id, revision, desired: desired.to_string(), settings: settings.to_string() }
}

fn settings_with(extra: &str) -> String {
    format!("{},{extra}}}", SETTINGS.trim_end_matches('}'))
}

#[test]
fn bot_settings_tags_the_definition_with_its_script_type() {
    let settings = bot_settings("spot_grid", SETTINGS).unwrap();
    assert!(matches!(&settings, BotSettings::SpotGrid(g) if g.grid_count == 30 && g.lower_limit == dec!(28000)));
    let error = bot_settings("spot_grid", "{not json").unwrap_err();
    assert!(error.starts_with("settings: "), "{error}");
    let error = bot_settings("no_such_script", SETTINGS).unwrap_err();
    assert!(error.starts_with("settings: "), "{error}");
    // The script type is put into JSON as a string, so a quote in it cannot break out.
    assert!(bot_settings("spot_grid\",\"x\":\"", SETTINGS).is_err());
}

#[test]
fn a_fresh_claim_writes_bot_created_then_its_first_quote_places_the_buys_below_the_price() {
    let row = fresh_row();
    let claim = row.claim();
    let mut run = adopt(row);
    assert!(run.is_running());
    assert!(!run.is_finished());
    assert_eq!(run.take_quiet_since(), None, "not restored: no quiet time to report");

    let first = write(&mut run, false);
    assert_eq!(first.held, claim);
    assert_eq!(first.state, RunState::Running);
    assert_eq!(
        first.effects.lines,
        vec![LineRow { line_number: 1, time: CREATED_S, severity: "info", message: "Bot created".to_string() }]
    );
    assert!(first.effects.orders.is_empty() && first.effects.fills.is_empty() && first.effects.positions.is_empty());
    assert!(first.checkpoint.is_some());
    assert_eq!((first.next_log_line, first.last_quote_ms), (1, None));
    assert_eq!((first.failed_revision, first.release), (None, false));
    assert!(run.take_write(false).unwrap().is_none(), "nothing more to write");

    run.on_quote(&quote(T1, dec!(29050)));
    let second = write(&mut run, false);
    assert_eq!(second.state, RunState::Running);
    assert_eq!(messages(&second.effects), first_quote_lines());
    assert_eq!(numbers(&second.effects), (2..=15).collect::<Vec<_>>(), "numbered on from 1, no gap");
    assert!(second.effects.lines.iter().all(|line| line.time == T1 / 1000));
    assert_eq!(second.effects.lines[0].severity, "info");
    assert!(second.effects.lines[3..].iter().all(|line| line.severity == "trade"));
    let expected: Vec<_> =
        BUYS.iter().map(|&(id, price, amount)| (i64::from(id), "OPEN", Side::Buy, price, amount)).collect();
    assert_eq!(orders(&second.effects), expected);
    assert!(second.effects.orders.iter().all(|row| row.placed_at == T1 / 1000));
    assert!(second.effects.fills.is_empty() && second.effects.positions.is_empty());
    assert_eq!((second.next_log_line, second.last_quote_ms), (15, Some(T1)));
    assert!(second.checkpoint.is_some());
    assert_eq!((second.failed_revision, second.release), (None, false));
}

#[test]
fn a_quote_without_effects_writes_nothing_until_a_checkpoint_is_asked_for() {
    let (_, mut run, _) = running_with_buys();
    assert!(!run.is_dirty(), "the write took the checkpoint");
    run.on_quote(&quote(T1 + 1_000, dec!(29050)));
    assert!(run.take_write(false).unwrap().is_none(), "the buys rest: nothing happened");
    assert!(run.is_dirty(), "the engine moved on since its last checkpoint");

    let checkpointed = write(&mut run, true);
    assert!(checkpointed.effects.is_empty());
    assert!(checkpointed.checkpoint.is_some());
    assert_eq!((checkpointed.state, checkpointed.next_log_line), (RunState::Running, 15));
    assert_eq!(checkpointed.last_quote_ms, Some(T1 + 1_000));
    assert!(!run.is_dirty());
    assert!(run.take_write(false).unwrap().is_none());
}

#[test]
fn a_tick_and_a_note_are_written_with_the_next_write() {
    let (_, mut run, _) = running_with_buys();
    run.on_tick(T1 + 30_000);
    assert!(run.take_write(false).unwrap().is_none(), "a tick alone does nothing to write");
    run.note(NOW_MS + 1_999, LogLevel::Warning, "No quotes for a while".to_string());
    run.on_quote(&quote(T1 + 61_000, dec!(28950.5)));
    let written = write(&mut run, false);
    // The runner's note comes first (at its own clock, whole seconds), then the engine's
    // lines of the quote: the 29000 buy fills and its level's sell is placed at 29100.
    assert_eq!(
        written.effects.lines[0],
        LineRow {
            line_number: 16,
            time: NOW_MS / 1000 + 1,
            severity: "warning",
            message: "No quotes for a while".to_string()
        }
    );
    assert_eq!(
        messages(&written.effects)[1..],
        [
            "BUY order filled at 29000.00 for 0.01137 BTC, fee 0.32973 USDT (Grid buy #10)".to_string(),
            placed_line("SELL", dec!(29100.00), dec!(0.01137), "Grid sell #10"),
        ]
    );
    assert_eq!(numbers(&written.effects), vec![16, 17, 18]);
    assert_eq!(written.next_log_line, 18);
}

#[test]
fn a_restored_run_repeats_nothing_and_goes_on_as_the_original_would() {
    let (row, mut original, written) = running_with_buys();
    let mut restored = adopt(committed_row(&row, &written, "running", 1));
    assert!(restored.is_running());
    assert_eq!(restored.take_quiet_since(), Some(T1), "an owner died: the last quote it had seen");
    assert_eq!(restored.take_quiet_since(), None, "taken once");

    let first = write(&mut restored, false);
    assert_eq!(first.state, RunState::Running);
    assert!(first.effects.is_empty(), "no Bot created, no Bot started, no order again: {:?}", first.effects.lines);
    assert_eq!((first.next_log_line, first.last_quote_ms), (15, Some(T1)));
    assert_eq!((first.failed_revision, first.release), (None, false));
    assert_eq!(first.held.token, lease::Token::from(8), "the new claim");

    // The price it placed its buys at: nothing is placed twice.
    for run in [&mut original, &mut restored] {
        run.on_quote(&quote(T1 + 1_000, dec!(29050)));
        assert!(run.take_write(false).unwrap().is_none());
    }

    // The ask reaches the 29000 buy: both fill it and place its sell, the same way.
    original.on_quote(&quote(T1 + 2_000, dec!(28950)));
    restored.on_quote(&quote(T1 + 2_000, dec!(28950)));
    let (a, b) = (write(&mut original, false), write(&mut restored, false));
    assert_eq!(a.effects, b.effects);
    assert_eq!(
        orders(&b.effects),
        vec![
            (0, "FILLED", Side::Buy, dec!(29000.00), dec!(0.01137)),
            (11, "OPEN", Side::Sell, dec!(29100.00), dec!(0.01137))
        ]
    );
    assert_eq!(b.effects.fills.len(), 1);
    assert_eq!((b.effects.fills[0].order_id, b.effects.fills[0].position_id), (0, 0));
    assert_eq!(b.effects.positions.iter().map(|p| (p.position_id, p.status)).collect::<Vec<_>>(), vec![(0, "OPEN")]);
    assert_eq!(numbers(&b.effects), vec![16, 17]);
    assert_eq!((a.next_log_line, a.last_quote_ms), (b.next_log_line, b.last_quote_ms));
    assert_eq!(a.checkpoint, b.checkpoint, "the same state");
}

#[test]
fn a_stop_notes_the_request_then_cancels_every_order_and_gives_the_run_back() {
    let (_, mut run, _) = running_with_buys();
    assert_eq!(run.apply(&definition(&run, 2, "stopped", SETTINGS), NOW_MS + 5_000), Applied::Keep);
    assert_eq!(run.revision, 2);
    assert!(!run.is_running());
    assert!(run.is_finished());

    let stopped = write(&mut run, false);
    assert_eq!(stopped.state, RunState::Stopped);
    assert!(stopped.release);
    assert_eq!(stopped.failed_revision, None);
    assert!(stopped.checkpoint.is_some());
    assert_eq!(
        stopped.effects.lines[0],
        LineRow {
            line_number: 16,
            time: NOW_MS / 1000 + 5,
            severity: "info",
            message: "Bot stopped: stop requested".to_string()
        }
    );
    let cancelled: Vec<String> =
        BUYS.iter().map(|&(id, price, _)| format!("Cancelled BUY order at {price} (Grid buy #{})", 10 - id)).collect();
    assert_eq!(messages(&stopped.effects)[1..], cancelled);
    assert_eq!(numbers(&stopped.effects), (16..=27).collect::<Vec<_>>());
    assert_eq!(stopped.next_log_line, 27);
    let expected: Vec<_> =
        BUYS.iter().map(|&(id, price, amount)| (i64::from(id), "CANCELLED", Side::Buy, price, amount)).collect();
    assert_eq!(orders(&stopped.effects), expected);
    assert!(stopped.effects.fills.is_empty() && stopped.effects.positions.is_empty());

    // The same revision again, or an older one, changes nothing.
    assert_eq!(run.apply(&definition(&run, 2, "running", SETTINGS), NOW_MS + 6_000), Applied::Keep);
    assert_eq!(run.apply(&definition(&run, 1, "running", SETTINGS), NOW_MS + 6_000), Applied::Keep);
    assert!(run.take_write(false).unwrap().is_none());
    assert_eq!(run.revision, 2);
    assert!(!run.is_running());
}

#[test]
fn an_older_or_equal_revision_changes_nothing() {
    let (_, mut run, _) = running_with_buys();
    let edited = settings_with(r#""stopValue":55000"#);
    for revision in [1, 0] {
        assert_eq!(run.apply(&definition(&run, revision, "stopped", &edited), NOW_MS), Applied::Keep);
        assert_eq!(run.apply(&definition(&run, revision, "deleted", &edited), NOW_MS), Applied::Keep);
    }
    assert!(run.take_write(false).unwrap().is_none());
    assert_eq!(run.revision, 1);
    assert!(run.is_running());
    assert_eq!(run.engine.settings(), &bot_settings("spot_grid", SETTINGS).unwrap());
}

#[test]
fn a_start_after_a_stop_writes_bot_started_and_re_places_the_buys_with_new_ids() {
    let (row, mut run, _) = running_with_buys();
    run.apply(&definition(&run, 2, "stopped", SETTINGS), NOW_MS);
    let stopped = write(&mut run, false);
    let stopped_row = committed_row(&row, &stopped, "running", 3);
    assert_eq!(stopped_row.state, "stopped");

    let mut started = adopt(stopped_row);
    assert!(started.is_running());
    assert!(!started.is_finished());
    assert_eq!(started.take_quiet_since(), None);
    let first = write(&mut started, false);
    assert_eq!(first.state, RunState::Running);
    assert!(!first.release);
    assert_eq!(
        first.effects.lines,
        vec![LineRow { line_number: 28, time: NOW_MS / 1000, severity: "info", message: "Bot started".to_string() }]
    );
    assert!(first.effects.orders.is_empty());

    started.on_quote(&quote(T1 + 60_000, dec!(29050)));
    let resumed = write(&mut started, false);
    let expected: Vec<_> =
        BUYS.iter().map(|&(id, price, amount)| (i64::from(id) + 11, "OPEN", Side::Buy, price, amount)).collect();
    assert_eq!(orders(&resumed.effects), expected, "the same levels, new ids after the old ones");
    let placed: Vec<String> = first_quote_lines()[3..].to_vec();
    assert_eq!(messages(&resumed.effects), placed, "the engine had started before: only the buys");
    assert_eq!(numbers(&resumed.effects), (29..=39).collect::<Vec<_>>());
}

#[test]
fn a_stop_whose_owner_died_before_committing_it_is_finished_by_the_next_claim() {
    let (row, _, written) = running_with_buys();
    // The row says running (the stop never committed) while the ledger wants it stopped.
    let mut taken_over = adopt(committed_row(&row, &written, "stopped", 2));
    assert!(!taken_over.is_running());
    assert!(taken_over.is_finished());
    assert_eq!(taken_over.take_quiet_since(), None);
    let stopped = write(&mut taken_over, false);
    assert_eq!((stopped.state, stopped.release), (RunState::Stopped, true));
    assert_eq!(messages(&stopped.effects)[0], "Bot stopped: stop requested");
    assert_eq!(numbers(&stopped.effects), (16..=27).collect::<Vec<_>>());
    assert_eq!(stopped.effects.orders.len(), 11);
    assert!(stopped.effects.orders.iter().all(|row| row.status == "CANCELLED"));
}

#[test]
fn a_start_applied_to_a_held_stopped_run_resumes_it() {
    let (_, mut run, _) = running_with_buys();
    run.apply(&definition(&run, 2, "stopped", SETTINGS), NOW_MS);
    write(&mut run, false);
    assert_eq!(run.apply(&definition(&run, 3, "running", SETTINGS), NOW_MS + 1_000), Applied::Keep);
    assert!(run.is_running());
    let started = write(&mut run, false);
    assert_eq!(messages(&started.effects), ["Bot started"]);
    assert_eq!((started.state, started.release), (RunState::Running, false));
    run.on_quote(&quote(T1 + 1_000, dec!(29050)));
    let resumed = write(&mut run, false);
    assert_eq!(orders(&resumed.effects).iter().map(|o| o.0).collect::<Vec<_>>(), (11..=21).collect::<Vec<_>>());
}

#[test]
fn an_edit_of_an_editable_setting_is_applied_and_logged() {
    let (_, mut run, _) = running_with_buys();
    let edited = settings_with(r#""stopValue":55000"#);
    assert_eq!(run.apply(&definition(&run, 2, "running", &edited), NOW_MS + 3_000), Applied::Keep);
    assert_eq!(run.revision, 2);
    assert!(run.is_running());
    assert_eq!(run.engine.settings(), &bot_settings("spot_grid", &edited).unwrap());
    let written = write(&mut run, false);
    assert_eq!(
        written.effects.lines,
        vec![LineRow {
            line_number: 16,
            time: NOW_MS / 1000 + 3,
            severity: "info",
            message: "Settings updated: stopValue 0 → 55000".to_string()
        }]
    );
    assert!(written.effects.orders.is_empty(), "an edit cancels nothing");
    assert_eq!((written.state, written.release), (RunState::Running, false));

    // The same settings at a newer revision: nothing to say.
    run.apply(&definition(&run, 3, "running", &edited), NOW_MS + 4_000);
    let same = write(&mut run, false);
    assert!(same.effects.is_empty(), "{:?}", same.effects.lines);
}

#[test]
fn an_edit_of_a_fixed_setting_or_of_unreadable_settings_is_refused_and_changes_nothing() {
    let (_, mut run, _) = running_with_buys();
    let original = bot_settings("spot_grid", SETTINGS).unwrap();
    let regridded = SETTINGS.replace(r#""gridCount":30"#, r#""gridCount":40"#);
    run.apply(&definition(&run, 2, "running", &regridded), NOW_MS);
    assert_eq!(run.engine.settings(), &original);
    run.apply(&definition(&run, 3, "running", r#"{"symbol":"#), NOW_MS);
    assert_eq!(run.engine.settings(), &original);
    assert_eq!(run.revision, 3);
    let written = write(&mut run, false);
    assert_eq!(messages(&written.effects)[0], "Settings not applied: gridCount: cannot be edited");
    assert!(
        messages(&written.effects)[1].starts_with("Settings not applied: settings: "),
        "{}",
        messages(&written.effects)[1]
    );
    assert!(written.effects.lines.iter().all(|line| line.severity == "error"));
    assert_eq!(numbers(&written.effects), vec![16, 17]);
    assert!(written.effects.orders.is_empty());
    assert!(run.is_running());
}

#[test]
fn a_restored_run_whose_settings_were_edited_meanwhile_applies_them_once() {
    let (row, _, written) = running_with_buys();
    let edited = settings_with(r#""stopValue":55000"#);
    let mut row = committed_row(&row, &written, "running", 2);
    row.settings = edited.clone();
    let mut restored = adopt(row);
    assert_eq!(restored.engine.settings(), &bot_settings("spot_grid", &edited).unwrap());
    let first = write(&mut restored, false);
    assert_eq!(messages(&first.effects), ["Settings updated: stopValue 0 → 55000"]);
    assert_eq!(numbers(&first.effects), vec![16]);
}

#[test]
fn a_delete_purges_whether_it_is_applied_or_claimed() {
    let (row, mut run, written) = running_with_buys();
    assert_eq!(run.apply(&definition(&run, 2, "deleted", SETTINGS), NOW_MS), Applied::Purge);

    let mut deleted = committed_row(&row, &written, "deleted", 2);
    let claim = deleted.claim();
    assert!(matches!(LiveRun::adopt(deleted.clone(), &defaults(), NOW_MS), Adoption::Purge(held) if held == claim));
    deleted.desired = "running".to_string();
    deleted.state = "deleted".to_string();
    assert!(matches!(LiveRun::adopt(deleted, &defaults(), NOW_MS), Adoption::Purge(held) if held == claim));
    let fresh = ClaimedRun { desired: "deleted".to_string(), ..fresh_row() };
    assert!(matches!(LiveRun::adopt(fresh, &defaults(), NOW_MS), Adoption::Purge(_)));
}

#[test]
fn a_desired_state_the_runner_does_not_know_is_logged_and_kept() {
    let (_, mut run, _) = running_with_buys();
    assert_eq!(run.apply(&definition(&run, 2, "paused", SETTINGS), NOW_MS), Applied::Keep);
    assert!(run.is_running());
    let written = write(&mut run, false);
    assert_eq!(messages(&written.effects), ["Unknown desired state paused"]);
    assert_eq!(written.effects.lines[0].severity, "error");
}

/// The write of a claim that cannot run: one error line after the lines so far, the revision
/// marked failed, no checkpoint (the stored one is kept), given back.
fn assert_failed(row: ClaimedRun, reason_starts: &str) {
    let (revision, next, claim) = (row.revision, row.next_log_line, row.claim());
    let written = failed_write(row);
    assert_eq!(written.held, claim);
    assert_eq!(written.state, RunState::Stopped);
    assert_eq!(written.checkpoint, None);
    assert_eq!(written.failed_revision, Some(revision));
    assert!(written.release);
    assert_eq!(written.last_quote_ms, None);
    assert!(written.effects.orders.is_empty() && written.effects.fills.is_empty());
    assert!(written.effects.positions.is_empty());
    // A bot the runner just heard of still gets its "Bot created" first.
    let created = usize::from(next == 0);
    assert_eq!(written.effects.lines.len(), 1 + created);
    if created == 1 {
        let first = &written.effects.lines[0];
        assert_eq!((first.line_number, first.time, first.message.as_str()), (1, CREATED_S, "Bot created"));
    }
    let last = next + 1 + i64::from(next == 0);
    assert_eq!(written.next_log_line, last);
    let line = &written.effects.lines[created];
    assert_eq!((line.line_number, line.time, line.severity), (last, NOW_MS / 1000, "error"));
    let expected = format!("Bot stopped: {reason_starts}");
    assert!(line.message.starts_with(&expected), "{:?} does not start with {expected:?}", line.message);
}

#[test]
fn a_claim_that_cannot_run_is_failed_at_its_revision() {
    let bad_settings = ClaimedRun { settings: "{\"symbol\":".to_string(), revision: 4, ..fresh_row() };
    assert_failed(bad_settings, "settings: ");
    let unknown_key = ClaimedRun { settings: settings_with(r#""bogus":1"#), ..fresh_row() };
    assert_failed(unknown_key, "settings: unknown field `bogus`");
    let invalid = ClaimedRun { settings: SETTINGS.replace("31000", "27000"), ..fresh_row() };
    assert_failed(invalid, "validation failed: ");
    let bad_market = ClaimedRun { market: "{\"symbol\":1}".to_string(), ..fresh_row() };
    assert_failed(bad_market, "market: ");
    let bad_state = ClaimedRun { state: "sleeping".to_string(), ..fresh_row() };
    assert_failed(bad_state, "unknown state running/sleeping");

    let (row, _, written) = running_with_buys();
    let committed = committed_row(&row, &written, "running", 5);
    let unknown_format = ClaimedRun { checkpoint_format: Some(CHECKPOINT_FORMAT + 1), ..committed.clone() };
    assert_failed(unknown_format, &format!("its saved state has an unknown format Some({})", CHECKPOINT_FORMAT + 1));
    let no_format = ClaimedRun { checkpoint_format: None, ..committed.clone() };
    assert_failed(no_format, "its saved state has an unknown format None");
    let unreadable = ClaimedRun { checkpoint: Some(b"{\"v9\":{}}".to_vec()), ..committed.clone() };
    assert_failed(unreadable, "its saved state is unreadable: ");
    let exact = failed_write(ClaimedRun { checkpoint_format: Some(2), ..committed });
    assert_eq!(exact.effects.lines[0].message, "Bot stopped: its saved state has an unknown format Some(2)");
    assert_eq!(exact.effects.lines[0].line_number, 16);
}

#[test]
fn a_running_run_whose_new_settings_cannot_be_read_stops_with_its_orders_cancelled() {
    let (row, _, written) = running_with_buys();
    // The ledger's settings of a newer revision are not readable by this runner (say a key a
    // newer ledger knows); the run was trading with 11 buys open. Its saved engine is fine: it
    // is restored and stopped, as a stop would.
    let mut unreadable = committed_row(&row, &written, "running", 2);
    unreadable.settings = settings_with(r#""newKey":1"#);
    let mut run = adopt(unreadable);
    let failed = write(&mut run, false);
    assert_eq!(failed.state, RunState::Stopped);
    assert_eq!((failed.failed_revision, failed.release, failed.abandon), (Some(2), true, false));
    assert!(failed.checkpoint.is_some(), "the stopped engine is saved");
    assert!(failed.effects.lines[0].message.starts_with("Bot stopped: settings: unknown field `newKey`"));
    let cancelled = failed.effects.orders.iter().filter(|order| order.status == "CANCELLED").count();
    assert_eq!(cancelled, 11, "{:?}", failed.effects.lines);
}

#[test]
fn a_claim_whose_saved_state_cannot_be_read_abandons_it() {
    let (row, _, written) = running_with_buys();
    let unreadable = ClaimedRun { checkpoint: Some(b"{}".to_vec()), ..committed_row(&row, &written, "running", 2) };
    let failed = failed_write(unreadable);
    assert!(failed.abandon, "the open orders are cancelled with the saved state");
    let fresh = failed_write(ClaimedRun { market: "{}".to_string(), ..fresh_row() });
    assert!(!fresh.abandon, "nothing saved, nothing abandoned");
}

#[test]
fn a_run_whose_saved_state_was_abandoned_never_trades_again() {
    // The commit of an abandoning write cleared the checkpoint and stamped the run; a newer
    // revision (a partner's start or edit) claims it again.
    let (row, _, written) = running_with_buys();
    let abandoned = ClaimedRun {
        checkpoint: None,
        checkpoint_format: None,
        checkpoint_abandoned_at: Some(Utc.timestamp_opt(CREATED_S + 60, 0).unwrap()),
        ..committed_row(&row, &written, "running", 3)
    };
    let expected = format!(
        "its saved state was lost on {} and a new engine would reuse its order and position ids; create a new bot",
        Utc.timestamp_opt(CREATED_S + 60, 0).unwrap().format("%Y-%m-%d %H:%M:%S UTC")
    );
    assert_failed(abandoned.clone(), &expected);
    let failed = failed_write(abandoned);
    assert!(!failed.abandon, "nothing left to abandon");
    assert_eq!(failed.events.stopped.as_ref().map(|stop| stop.revision), Some(3), "the ledger hears it is stopped");
}

#[test]
fn a_refused_edit_is_logged_once_even_across_a_restore() {
    let (row, mut run, _) = running_with_buys();
    let regridded = SETTINGS.replace(r#""gridCount":30"#, r#""gridCount":40"#);
    run.apply(&definition(&run, 2, "running", &regridded), NOW_MS);
    let refused = write(&mut run, false);
    assert_eq!(messages(&refused.effects), ["Settings not applied: gridCount: cannot be edited"]);
    // The write committed; the row holds the ledger's settings of revision 2. The process
    // dies, and another claim restores the run from that commit.
    let mut restored_row = committed_row(&row, &refused, "running", 2);
    restored_row.settings = regridded;
    let mut restored = adopt(restored_row);
    let first = write(&mut restored, false);
    assert!(first.effects.is_empty(), "the restore repeated {:?}", messages(&first.effects));
}

/// A tiny xorshift64 generator: the same paths on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo + 1).unwrap();
        lo + i64::try_from(self.next() % span).unwrap()
    }
}

/// One input of a random path.
#[derive(Clone, Copy, Debug)]
enum Input {
    Quote(Quote),
    Tick(i64),
}

/// A random walk of quotes around and beyond the grid (whole dollars, some in the same ms,
/// a few out of order), with clock ticks between some.
fn path(rng: &mut Rng) -> Vec<Input> {
    let len = rng.between(1, 60);
    let (mut price, mut time) = (rng.between(27_500, 31_500), T1);
    let mut inputs = Vec::new();
    for _ in 0..len {
        price = (price + rng.between(-350, 350)).clamp(27_000, 32_000);
        time += match rng.between(0, 19) {
            0 => -1_500,
            1 | 2 => 0,
            _ => rng.between(1, 90_000),
        };
        if rng.between(0, 4) == 0 {
            inputs.push(Input::Tick(time + rng.between(-1_000, 120_000)));
        }
        inputs.push(Input::Quote(quote(time, Decimal::from(price))));
    }
    inputs
}

fn feed(run: &mut LiveRun, input: Input) {
    match input {
        Input::Quote(q) => run.on_quote(&q),
        Input::Tick(now) => run.on_tick(now),
    }
}

/// Everything a run's writes put into the database, in order.
#[derive(Debug, Default, PartialEq)]
struct Written {
    orders: Vec<OrderRow>,
    positions: Vec<PositionRow>,
    fills: Vec<FillRow>,
    lines: Vec<LineRow>,
}

impl Written {
    fn add(&mut self, write: Option<RunWrite>) -> Option<RunWrite> {
        if let Some(w) = &write {
            self.orders.extend(w.effects.orders.iter().cloned());
            self.positions.extend(w.effects.positions.iter().cloned());
            self.fills.extend(w.effects.fills.iter().cloned());
            self.lines.extend(w.effects.lines.iter().cloned());
        }
        write
    }
}

#[test]
fn a_crash_after_any_commit_loses_nothing_and_repeats_nothing() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut fills_seen = 0;
    for case in 0..300 {
        let inputs = path(&mut rng);
        let cut = usize::try_from(rng.between(0, i64::try_from(inputs.len()).unwrap())).unwrap();
        let row = fresh_row();

        // A: never interrupted, a write after every input.
        let mut a = adopt(row.clone());
        let mut a_written = Written::default();
        a_written.add(a.take_write(false).unwrap());
        for &input in &inputs {
            feed(&mut a, input);
            a_written.add(a.take_write(false).unwrap());
        }
        let a_last = write(&mut a, true);

        // B: the same up to the cut, whose write carries the checkpoint; then the process
        // dies, and another claim restores the run from what was committed.
        let mut b = adopt(row.clone());
        let mut b_written = Written::default();
        let mut committed = b_written.add(b.take_write(cut == 0).unwrap()).expect("the first write");
        for (i, &input) in inputs[..cut].iter().enumerate() {
            feed(&mut b, input);
            if let Some(w) = b_written.add(b.take_write(i + 1 == cut).unwrap()) {
                committed = w;
            }
        }
        let mut b = adopt(committed_row(&row, &committed, "running", 1));
        assert_eq!(b.take_quiet_since(), committed.last_quote_ms, "case {case}");
        let restored = b_written.add(b.take_write(false).unwrap()).expect("the restored run's first write");
        assert!(restored.effects.is_empty(), "case {case}: the restore wrote {:?}", restored.effects);
        for &input in &inputs[cut..] {
            feed(&mut b, input);
            b_written.add(b.take_write(false).unwrap());
        }
        let b_last = write(&mut b, true);

        assert_eq!(b_written, a_written, "case {case}: cut at {cut} of {inputs:?}");
        let numbers: Vec<i64> = a_written.lines.iter().map(|line| line.line_number).collect();
        assert_eq!(numbers, (1..=i64::try_from(numbers.len()).unwrap()).collect::<Vec<_>>(), "case {case}");
        assert_eq!((b_last.next_log_line, b_last.last_quote_ms), (a_last.next_log_line, a_last.last_quote_ms));
        assert_eq!(b_last.checkpoint, a_last.checkpoint, "case {case}: the same state in the end");
        fills_seen += a_written.fills.len();
    }
    assert!(fills_seen > 100, "the paths trade ({fills_seen} fills)");
}

/// One step of the hosting protocol around a run: inputs while it is held, and the ledger's
/// stops and starts (a newer revision each).
#[derive(Clone, Copy, Debug)]
enum Step {
    Feed(Input),
    Stop,
    Start,
}

/// The runner around one run as the market task drives it: every write is committed at once
/// into `row`, a run whose write gives it back is dropped, and a run not held is claimed
/// again when its row needs an owner.
struct Host {
    row: ClaimedRun,
    run: Option<LiveRun>,
    written: Written,
}

impl Host {
    fn new() -> Self {
        let row = fresh_row();
        let run = adopt(row.clone());
        let mut host = Self { row, run: Some(run), written: Written::default() };
        host.write(false);
        host
    }

    /// Takes the held run's write and commits it.
    fn write(&mut self, checkpoint: bool) {
        let Some(run) = &mut self.run else { return };
        let Some(write) = self.written.add(run.take_write(checkpoint).unwrap()) else { return };
        assert_eq!(write.held, self.row.claim(), "the write names the claim that holds");
        self.row.state = write.state.as_str().to_string();
        if let Some(checkpoint) = write.checkpoint {
            self.row.checkpoint = Some(checkpoint);
            self.row.checkpoint_format = Some(CHECKPOINT_FORMAT);
        }
        self.row.next_log_line = write.next_log_line;
        self.row.last_quote_ms = write.last_quote_ms.or(self.row.last_quote_ms);
        if write.release {
            self.run = None;
        }
    }

    /// Claims the run again if its row needs an owner.
    fn claim(&mut self) {
        if self.run.is_none() && (self.row.desired == "running" || self.row.state != self.row.desired) {
            self.row.lease_token += 1;
            self.run = Some(adopt(self.row.clone()));
            self.write(false);
        }
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::Feed(input) => {
                if let Some(run) = &mut self.run {
                    feed(run, input);
                }
            }
            Step::Stop | Step::Start => {
                self.row.revision += 1;
                self.row.desired = if matches!(step, Step::Stop) { "stopped" } else { "running" }.to_string();
                let held = HeldDefinition {
                    id: self.row.id,
                    revision: self.row.revision,
                    desired: self.row.desired.clone(),
                    settings: self.row.settings.clone(),
                };
                if let Some(run) = &mut self.run {
                    assert_eq!(run.apply(&held, NOW_MS), Applied::Keep);
                }
            }
        }
        self.write(false);
        self.claim();
    }

    /// The process dies after its last commit: another claim restores the run from the row.
    fn crash(&mut self) {
        self.run = None;
        self.claim();
    }
}

#[test]
fn a_crash_after_any_commit_loses_nothing_and_repeats_nothing_across_stops_and_starts() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let (mut stops, mut starts_after_stop) = (0, 0);
    for case in 0..300 {
        let mut steps: Vec<Step> = path(&mut rng).into_iter().map(Step::Feed).collect();
        for _ in 0..rng.between(0, 4) {
            let at = usize::try_from(rng.between(0, i64::try_from(steps.len()).unwrap())).unwrap();
            steps.insert(at, if rng.between(0, 1) == 0 { Step::Stop } else { Step::Start });
        }
        let cut = usize::try_from(rng.between(0, i64::try_from(steps.len()).unwrap())).unwrap();

        let mut a = Host::new();
        let mut stopped = false;
        for &step in &steps {
            a.step(step);
            match step {
                Step::Stop if !stopped => (stops, stopped) = (stops + 1, true),
                Step::Start if stopped => (starts_after_stop, stopped) = (starts_after_stop + 1, false),
                _ => {}
            }
        }
        a.write(true);

        let mut b = Host {
            row: ClaimedRun { id: a.row.id, bot_id: a.row.bot_id, ..fresh_row() },
            run: None,
            written: Written::default(),
        };
        b.run = Some(adopt(b.row.clone()));
        b.write(cut == 0);
        for (i, &step) in steps[..cut].iter().enumerate() {
            b.step(step);
            if i + 1 == cut {
                b.write(true);
            }
        }
        b.crash();
        for &step in &steps[cut..] {
            b.step(step);
        }
        b.write(true);

        assert_eq!(b.written, a.written, "case {case}: cut at {cut} of {steps:?}");
        let numbers: Vec<i64> = a.written.lines.iter().map(|line| line.line_number).collect();
        assert_eq!(numbers, (1..=i64::try_from(numbers.len()).unwrap()).collect::<Vec<_>>(), "case {case}");
        assert_eq!(b.row.checkpoint, a.row.checkpoint, "case {case}: the same state in the end");
        assert_eq!((b.row.state.as_str(), b.row.next_log_line), (a.row.state.as_str(), a.row.next_log_line));
    }
    assert!(stops > 100 && starts_after_stop > 50, "the paths stop ({stops}) and start ({starts_after_stop})");
}

#[test]
fn each_fill_is_an_event_for_the_ledger_with_the_bots_totals_after_it() {
    let (_, mut run, written) = running_with_buys();
    assert!(written.events.fills.is_empty() && written.events.stopped.is_none(), "resting buys are not fills");
    // The ask reaches 29,000: buy #10 (0.01137) fills; fee 29,000 × 0.01137 × 0.1 % = 0.32973.
    run.on_quote(&quote(T1 + 1_000, dec!(28999.5)));
    let filled = write(&mut run, false);
    assert_eq!(filled.events.fills.len(), 1);
    let event = &filled.events.fills[0];
    assert_eq!((event.bot_id, event.session_id), (run.bot_id, None));
    let fill = &event.fill;
    assert_eq!(fill.order_id, runtime_id(run.bot_id, RuntimeKind::Order, 0));
    assert_eq!(
        (fill.entry, fill.side.as_str(), fill.order_type.as_str(), fill.role.as_str()),
        (true, "BUY", "Limit", "gridBuy")
    );
    assert_eq!(
        (fill.quantity, fill.price, fill.fee, fill.fee_currency.as_str()),
        (dec!(0.01137), dec!(29000), dec!(0.32973), "USDT")
    );
    assert_eq!((fill.note.as_str(), fill.time), ("Grid buy #10", (T1 + 1_000) / 1000));
    let position = &event.position;
    assert_eq!(position.id, runtime_id(run.bot_id, RuntimeKind::Position, 0));
    assert_eq!(
        (position.direction.as_str(), position.symbol.as_str(), position.closed),
        ("LONG", "SIM_BTC_USDT_", false)
    );
    assert_eq!((position.gross_profit, position.fees), (dec!(0), dec!(0.32973)));
    // Realized net of fees: only the entry's fee so far, over the 10,000 USDT paper balance.
    assert_eq!((event.bot_totals.profit, event.bot_totals.roi), (dec!(-0.32973), dec!(-0.0032973)));
    let seq = event.seq;
    // The bid reaches 29,100: its sell closes the position: gross 1.137, fees 0.32973 + 0.330867.
    run.on_quote(&quote(T1 + 2_000, dec!(29100.5)));
    let closed = write(&mut run, false);
    let exit = &closed.events.fills[0];
    assert!(exit.seq > seq, "sequence numbers grow");
    assert_eq!((exit.fill.entry, exit.fill.role.as_str(), exit.position.closed), (false, "gridSell", true));
    assert_eq!((exit.position.gross_profit, exit.position.fees), (dec!(1.137), dec!(0.660597)));
    assert_eq!(exit.bot_totals.profit, dec!(1.137) - dec!(0.660597));
}

#[test]
fn an_engine_stop_that_lost_to_an_edit_is_told_again_at_the_newer_revision() {
    let (_, mut run, _) = running_with_buys();
    let stop_below = settings_with(r#""stopCondition":"Price","stopType":"Below value","stopValue":28500"#);
    run.apply(&definition(&run, 2, "running", &stop_below), NOW_MS);
    write(&mut run, false);
    // The price falls through 28,500: the engine stops the bot and the ledger is told at
    // revision 2.
    run.on_quote(&quote(T1 + 1_000, dec!(28400)));
    let stopped = write(&mut run, false);
    let event = stopped.events.stopped.clone().expect("the ledger is told");
    assert_eq!((event.revision, event.reason.as_str()), (2, "stop condition met"));
    // The partner edited the bot meanwhile (revision 3, still running): the ledger refused the
    // stop at 2, so the runner says it again at 3.
    let edited = settings_with(r#""stopCondition":"Price","stopType":"Below value","stopValue":28400"#);
    run.apply(&definition(&run, 3, "running", &edited), NOW_MS);
    let again = write(&mut run, false).events.stopped.expect("told again");
    assert_eq!((again.revision, again.reason.as_str()), (3, "stop condition met"));
    // The ledger's stop that follows is not logged a second time.
    run.apply(&definition(&run, 4, "stopped", &edited), NOW_MS);
    let last = write(&mut run, false);
    assert!(
        !messages(&last.effects).iter().any(|line| line.starts_with("Bot stopped")),
        "{:?}",
        messages(&last.effects)
    );
}

/// A running webhook bot that has seen a quote at `NOW_MS`.
fn webhook_run() -> LiveRun {
    let row = ClaimedRun {
        script_type: "webhook".to_string(),
        settings: r#"{"symbol":"SIM_BTC_USDT_","signalToken":"tok"}"#.to_string(),
        ..fresh_row()
    };
    let mut run = adopt(row);
    run.on_quote(&quote(NOW_MS, dec!(29000)));
    write(&mut run, true);
    run
}

fn pending_buy(delivery_id: i64) -> PendingReceipt {
    PendingReceipt {
        delivery_id,
        bot_id: BotId::new(),
        action: "buy".to_string(),
        amount: "0.01".to_string(),
        price: None,
        investment_type: "base".to_string(),
        timestamp: NOW_MS / 1000,
        max_lag: None,
    }
}

#[test]
fn an_older_quote_never_makes_the_run_hand_a_signal_to_an_engine_that_skips_it() {
    let mut run = webhook_run();
    // The engine skips a quote older than the last it took; the run's clock of quotes must not
    // go back with it, or the next one (still older than the engine's) would carry a signal.
    run.on_quote(&quote(NOW_MS - 100, dec!(29000)));
    assert!(!run.takes_quote_at(NOW_MS - 50));
    assert!(run.takes_quote_at(NOW_MS), "the same ms is taken");
}

#[test]
fn a_signal_handed_over_twice_before_its_quote_is_acted_on_once() {
    let mut run = webhook_run();
    run.deliver(&pending_buy(41), NOW_MS);
    run.deliver(&pending_buy(41), NOW_MS);
    run.on_quote(&quote(NOW_MS + 1_000, dec!(29010)));
    let written = write(&mut run, false);
    assert_eq!(written.effects.receipts.len(), 1, "{:?}", written.effects.receipts);
    assert_eq!((written.effects.receipts[0].delivery_id, written.effects.receipts[0].status), (41, "delivered"));
    assert_eq!(written.effects.fills.len(), 1, "one market buy");
    // Settled: a later hand-over (another wake-up before the commit was seen) acts again only
    // if the receipt is still pending, which the store decides; the run itself forgets it.
    run.deliver(&pending_buy(42), NOW_MS + 1_000);
    run.on_quote(&quote(NOW_MS + 2_000, dec!(29010)));
    assert_eq!(write(&mut run, false).effects.receipts.len(), 1);
}

#[test]
fn a_stopped_or_too_old_signal_is_skipped_without_reaching_the_engine() {
    let mut run = webhook_run();
    let old = PendingReceipt { max_lag: Some(60), timestamp: NOW_MS / 1000 - 61, ..pending_buy(7) };
    run.deliver(&old, NOW_MS);
    let written = write(&mut run, false);
    assert_eq!(written.effects.receipts, [signals::skipped(7, "maxLag exceeded at delivery")]);
    assert!(written.effects.fills.is_empty() && written.effects.orders.is_empty());
}
