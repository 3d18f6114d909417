//! Hosted bots trade on live quotes (real gateway, ledger, runner, feed, Postgres and NATS):
//! quotes are pushed through the feed on a market of the test's own, stamped from the runner's
//! clock, and what the bot does is read through `bots/orders` and `bots/logs`.

use crate::partner::{ok, own_sim_market, partner_key, post, sim_user};
use crate::system::System;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::ServiceName;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use trade_ledger::admin::AdminCommand;

const PATIENCE: Duration = Duration::from_secs(30);

/// A partner, a user on SIM, a market of the test's own and a spot grid on it: 30 levels
/// 100 apart from 28,000, 330 USDT each.
struct GridBot {
    key: String,
    user: Value,
    bot: String,
    symbol: String,
}

async fn grid_bot(system: &System) -> GridBot {
    let key = partner_key(system, "Trading Partner").await;
    let symbol = own_sim_market(system, "T").await;
    let user = sim_user(system, &key).await;
    let settings = json!({"symbol": symbol, "lowerLimit": 28000, "upperLimit": 31000, "gridCount": 30,
        "investmentAsset": "Quote", "investmentAmount": 9900});
    let created =
        ok(system, &key, "bots/create", json!({"userId": user.clone(), "type": "spot_grid", "settings": settings}))
            .await;
    GridBot { key, user, bot: created["botId"].as_str().unwrap().to_string(), symbol }
}

impl GridBot {
    async fn orders(&self, system: &System) -> (u16, Value) {
        post(system, &self.key, "bots/orders", json!({"botId": self.bot})).await
    }

    /// The open orders once some are there, pushing a quote at `last` while there are none
    /// (the first quotes may come before the runner holds the bot).
    async fn orders_after_quotes(&self, system: &System, last: &str) -> Vec<Value> {
        test_support::eventually("open orders", PATIENCE, || async {
            let (status, reply) = self.orders(system).await;
            let orders = reply["data"].as_array().cloned().unwrap_or_default();
            if status == 200 && !orders.is_empty() {
                return Some(orders);
            }
            system.push_quote(&self.symbol, last, last, last).await;
            None
        })
        .await
    }

    async fn log(&self, system: &System) -> Vec<Value> {
        ok(system, &self.key, "bots/logs", json!({"botId": self.bot})).await["items"].as_array().unwrap().clone()
    }

    /// The log once a line says `message` (the lines are numbered 1, 2, … without gaps).
    async fn log_with(&self, system: &System, message: &str) -> Vec<Value> {
        let log = test_support::eventually(&format!("a log line {message:?}"), PATIENCE, || async {
            let log = self.log(system).await;
            log.iter().any(|line| line["message"].as_str().unwrap_or_default().starts_with(message)).then_some(log)
        })
        .await;
        let numbers: Vec<i64> = log.iter().map(|line| line["lineNumber"].as_i64().unwrap()).collect();
        assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>(), "gap-free: {log:?}");
        log
    }
}

fn ids(orders: &[Value]) -> BTreeSet<String> {
    orders.iter().map(|order| order["orderId"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grid_bot_rests_its_buys_stops_starts_and_takes_edits_live() {
    let system = System::start().await.expect("the system starts");
    let grid = grid_bot(&system).await;

    // Levels 28,000 + 100·i; the buys rest at every level below the quote's last (29,050),
    // placed from the nearest down (oldest first: 29,000 … 28,000), each for 330 USDT rounded
    // down to the lot (5 decimals).
    let orders = grid.orders_after_quotes(&system, "29050").await;
    let prices: Vec<Value> = orders.iter().map(|order| order["price"].clone()).collect();
    let expected: Vec<Value> = (0..=10).rev().map(|i| json!(28000 + 100 * i)).collect();
    assert_eq!(prices, expected, "{orders:?}");
    for order in &orders {
        let price: rust_decimal::Decimal = order["price"].to_string().parse().unwrap();
        let amount = (rust_decimal::Decimal::from(330) / price)
            .round_dp_with_strategy(5, rust_decimal::RoundingStrategy::ToZero)
            .normalize();
        assert_eq!(order["amount"].to_string(), amount.to_string(), "{order}");
        assert_eq!(
            (order["status"].clone(), order["direction"].clone(), order["orderType"].clone()),
            (json!("OPEN"), json!("BUY"), json!("Limit"))
        );
        assert_eq!((order["market"].clone(), order["positionId"].clone()), (json!(grid.symbol), json!("")));
        assert_eq!((order["feeCurrency"].clone(), order["leverage"].clone()), (json!("USDT"), json!(1)));
        assert_eq!(order["exchangeOrderId"], order["orderId"]);
        let level = (order["price"].as_i64().unwrap() - 28000) / 100;
        assert_eq!(order["note"], format!("Grid buy #{level}"));
    }

    // The log starts with "Bot created", then the engine's start; it pages.
    let log = grid.log_with(&system, "Bot started with equity").await;
    assert_eq!(log[0]["message"], "Bot created");
    assert_eq!((log[0]["severity"].clone(), log[0]["color"].clone()), (json!("info"), Value::Null));
    let first = ok(&system, &grid.key, "bots/logs", json!({"botId": grid.bot, "limit": 2})).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let token = first["nextPageId"].as_str().expect("more lines remain").to_string();
    let next = ok(&system, &grid.key, "bots/logs", json!({"botId": grid.bot, "limit": 2, "nextPageId": token})).await;
    assert_eq!(next["items"][0]["lineNumber"], 3);
    let skipped = ok(&system, &grid.key, "bots/logs", json!({"botId": grid.bot, "limit": 1, "offset": 1})).await;
    assert_eq!(skipped["items"][0], log[1]);

    // Stop: every order cancelled, the log says so; start: the buys come back.
    assert_eq!(ok(&system, &grid.key, "bots/stop", json!({"botId": grid.bot})).await, json!(true));
    test_support::eventually("no open orders", PATIENCE, || async {
        (grid.orders(&system).await.1["data"] == json!([])).then_some(())
    })
    .await;
    grid.log_with(&system, "Bot stopped: stop requested").await;
    assert_eq!(ok(&system, &grid.key, "bots/start", json!({"botId": grid.bot})).await, json!(true));
    let again = grid.orders_after_quotes(&system, "29050").await;
    let prices_again: Vec<Value> = again.iter().map(|order| order["price"].clone()).collect();
    assert_eq!(prices_again, expected);
    assert!(ids(&again).is_disjoint(&ids(&orders)), "new orders, new ids");
    grid.log_with(&system, "Bot started").await;

    // An edit of the stop value is applied live.
    let edit = json!({"userId": grid.user, "botId": grid.bot, "settings": {"stopValue": 55000}});
    let (status, reply) = post(&system, &grid.key, "bots/edit", edit).await;
    assert_eq!(status, 200, "{reply}");
    grid.log_with(&system, "Settings updated: stopValue 0 → 55000").await;

    // Delete: the runner purges the bot's rows; its orders are not found (once the gateway's
    // ownership cache and the runner have caught up).
    assert_eq!(ok(&system, &grid.key, "bots/delete", json!({"botId": grid.bot})).await, json!(true));
    let reply = test_support::eventually("bots/orders answers 1002", PATIENCE, || async {
        let (status, reply) = grid.orders(&system).await;
        (status == 404).then_some(reply)
    })
    .await;
    assert_eq!(reply["code"], 1002, "{reply}");
    test_support::eventually("the runner's rows purged", PATIENCE, || async {
        (system.orders_written(&grid.bot).await == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quiet_feed_is_logged_once_and_its_return_too() {
    let system = System::start().await.expect("the system starts");
    let grid = grid_bot(&system).await;
    grid.orders_after_quotes(&system, "29050").await;

    system.clock.advance(11_000);
    let stale = format!("No quotes for {} for 11 s: market data is stale", grid.symbol);
    grid.log_with(&system, &stale).await;
    system.push_quote(&grid.symbol, "29050", "29050", "29050").await;
    let log = grid.log_with(&system, "Market data resumed").await;
    let warnings: Vec<&Value> = log.iter().filter(|line| line["message"] == json!(stale)).collect();
    assert_eq!(warnings.len(), 1, "one warning per episode: {log:?}");
    assert_eq!(warnings[0]["severity"], "warning");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_runner_is_taken_over_without_a_doubled_order() {
    let mut system = System::start().await.expect("the system starts");
    let grid = grid_bot(&system).await;
    let before = grid.orders_after_quotes(&system, "29050").await;
    let written = system.orders_written(&grid.bot).await;
    let lines = grid.log_with(&system, "Bot started with equity").await.len();

    // Killed mid-run: nothing more is written; a new runner takes the run over once its lease
    // runs out, from the committed checkpoint.
    let killed = holder(&system, &grid.bot).await.expect("the run is held");
    system.kill_runner(&killed).await;
    system.clock.advance(15_000);
    let new = system.start_runner().await.expect("a new runner starts");
    let log = test_support::eventually("the new runner trades the bot", PATIENCE, || async {
        system.push_quote(&grid.symbol, "29060", "29060", "29060").await;
        let log = grid.log(&system).await;
        log.iter().any(|line| line["message"] == "Resumed after 15 s without quotes").then_some(log)
    })
    .await;
    let after = grid.orders(&system).await.1["data"].as_array().cloned().unwrap();
    assert_eq!(ids(&after), ids(&before), "the same open orders");
    assert_eq!(after, before, "unchanged");
    assert_eq!(system.orders_written(&grid.bot).await, written, "no order placed twice");
    let numbers: Vec<i64> = log.iter().map(|line| line["lineNumber"].as_i64().unwrap()).collect();
    assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>(), "the log continues gap-free");
    assert!(log.len() > lines);
    assert_eq!(holder(&system, &grid.bot).await, Some(new), "the new runner holds the run");
}

/// The replica holding `bot`'s run now, if any.
async fn holder(system: &System, bot: &str) -> Option<String> {
    use live_session_runner::store::schema::runs;
    let mut connection = system.db(ServiceName::LiveSessionRunner).connect().await;
    let bot: domain::BotId = bot.parse().unwrap();
    runs::table
        .filter(runs::bot_id.eq(bot))
        .filter(runs::lease_until.gt(diesel::dsl::now))
        .select(runs::lease_owner)
        .first::<Option<String>>(&mut connection)
        .await
        .optional()
        .unwrap()
        .flatten()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_two_runners_the_survivor_takes_over_when_the_holder_dies() {
    let mut system = System::start().await.expect("the system starts");
    let second = system.start_runner().await.expect("a second runner starts");
    let grid = grid_bot(&system).await;
    let before = grid.orders_after_quotes(&system, "29050").await;
    let written = system.orders_written(&grid.bot).await;

    // One runner holds the run; the other has it when the holder is killed.
    let names = system.runner_names();
    assert!(names.contains(&second), "{names:?}");
    let first_holder = holder(&system, &grid.bot).await.expect("the run is held");
    system.kill_runner(&first_holder).await;
    let survivor = names.into_iter().find(|name| *name != first_holder).unwrap();
    test_support::eventually("the survivor takes the run over", PATIENCE, || async {
        system.push_quote(&grid.symbol, "29070", "29070", "29070").await;
        (holder(&system, &grid.bot).await.as_ref() == Some(&survivor)).then_some(())
    })
    .await;
    let after = grid.orders(&system).await.1["data"].as_array().cloned().unwrap();
    assert_eq!(after, before, "the same open orders");
    assert_eq!(system.orders_written(&grid.bot).await, written, "no order placed twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runner_stopped_gracefully_gives_its_runs_back_at_once() {
    let mut system = System::start().await.expect("the system starts");
    let grid = grid_bot(&system).await;
    let before = grid.orders_after_quotes(&system, "29050").await;
    system.stop(ServiceName::LiveSessionRunner).await;
    assert_eq!(holder(&system, &grid.bot).await, None, "given back, not left to run out");
    let new = system.start_runner().await.expect("a new runner starts");
    test_support::eventually("the new runner holds the run", PATIENCE, || async {
        (holder(&system, &grid.bot).await.as_ref() == Some(&new)).then_some(())
    })
    .await;
    system.push_quote(&grid.symbol, "29050", "29050", "29050").await;
    assert_eq!(grid.orders(&system).await.1["data"].as_array().cloned().unwrap(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grid_round_trip_shows_its_position_open_then_closed_with_its_gross_profit() {
    let system = System::start().await.expect("the system starts");
    let grid = grid_bot(&system).await;
    grid.orders_after_quotes(&system, "29050").await;
    let positions = |route: &'static str| {
        let body = json!({"botId": grid.bot});
        let (system, key) = (&system, grid.key.clone());
        async move { ok(system, &key, route, body).await }
    };

    // Down through level 10 (29,000): its buy of 0.01137 fills and a LONG opens there.
    system.push_quote(&grid.symbol, "28999", "29000", "28999.5").await;
    let open = test_support::eventually("an open position", PATIENCE, || async {
        let open = positions("bots/positions/open").await;
        (open.as_array().is_some_and(|items| items.len() == 1)).then_some(open)
    })
    .await;
    let long = &open[0];
    assert_eq!((long["status"].clone(), long["direction"].clone()), (json!("OPEN"), json!("LONG")));
    assert_eq!((long["enterPrice"].clone(), long["amount"].clone()), (json!(29000), json!(0.01137)));
    let base = grid.symbol.split('_').nth(1).unwrap();
    assert_eq!(
        (long["amountLabel"].clone(), long["exitPrice"].clone()),
        (json!(format!("0.01137 {base}")), Value::Null)
    );
    assert_eq!((long["realizedProfit"].clone(), long["profitLabel"].clone()), (json!(0), json!("0.00 USDT")));
    // Marked at the latest last, 28,999.5: (28,999.5 − 29,000) × 0.01137.
    assert_eq!(long["unrealizedProfit"], json!(-0.005685));
    assert_eq!((long["closeTime"].clone(), long["orderCount"].clone()), (json!(0), json!(1)));

    // Up through level 11 (29,100): the sell fills; the position is closed with its gross profit
    // (29,100 − 29,000) × 0.01137 = 1.137 and roi 1.137 / 329.73 × 100 = 0.34.
    system.push_quote(&grid.symbol, "29100", "29101", "29100.5").await;
    let closed = test_support::eventually("a closed position", PATIENCE, || async {
        let closed = positions("bots/positions/closed").await;
        (closed["items"].as_array().is_some_and(|items| items.len() == 1)).then_some(closed)
    })
    .await;
    assert_eq!(closed["nextPageId"], Value::Null);
    let done = &closed["items"][0];
    assert_eq!(done["positionId"], long["positionId"]);
    assert_eq!((done["status"].clone(), done["exitPrice"].clone()), (json!("CLOSED"), json!(29100)));
    assert_eq!((done["realizedProfit"].clone(), done["roi"].clone()), (json!(1.137), json!(0.34)));
    assert_eq!((done["profitLabel"].clone(), done["unrealizedProfit"].clone()), (json!("1.14 USDT"), json!(0)));
    assert_eq!((done["amount"].clone(), done["orderCount"].clone()), (json!(0.01137), json!(2)));
    assert!(done["closeTime"].as_i64().unwrap() >= done["openTime"].as_i64().unwrap());
    // Fees: 0.1 % of each fill's notional, 0.32973 + 0.330867.
    assert_eq!(done["feeCosts"], json!(0.660597));
    assert_eq!(positions("bots/positions/open").await, json!([]));

    let fills =
        ok(&system, &grid.key, "bots/positions/orders", json!({"botId": grid.bot, "positionId": done["positionId"]}))
            .await;
    let (entries, exits) = (fills["enterOrders"].as_array().unwrap(), fills["exitOrders"].as_array().unwrap());
    assert_eq!((entries.len(), exits.len()), (1, 1), "{fills}");
    assert_eq!((entries[0]["direction"].clone(), entries[0]["price"].clone()), (json!("BUY"), json!(29000)));
    assert_eq!((entries[0]["profit"].clone(), entries[0]["note"].clone()), (json!(0), json!("Grid buy #10")));
    assert_eq!((exits[0]["direction"].clone(), exits[0]["price"].clone()), (json!("SELL"), json!(29100)));
    assert_eq!((exits[0]["profit"].clone(), exits[0]["roi"].clone()), (json!(1.137), json!(0.34)));
    let unknown =
        post(&system, &grid.key, "bots/positions/orders", json!({"botId": grid.bot, "positionId": "0".repeat(32)}))
            .await;
    assert_eq!((unknown.0, unknown.1["code"].clone()), (404, json!(1012)), "{unknown:?}");

    // The fills reached the one ledger: the bot's profit is the gross less both fees, over its
    // 10,000 USDT; the position is one closed trade with its two filled transactions.
    let get = json!({"userId": grid.user, "botId": grid.bot});
    let bot = test_support::eventually("the ledger's profit", PATIENCE, || async {
        let bot = ok(&system, &grid.key, "bots/get", get.clone()).await;
        (bot["profit"] != json!(0)).then_some(bot)
    })
    .await;
    assert_eq!((bot["profit"].clone(), bot["roi"].clone()), (json!(0.476403), json!(0.00476403)), "{bot}");
    let trades = system.admin(AdminCommand::BotTrades { bot: grid.bot.clone() }).await;
    let trades = trades["trades"].as_array().expect("the bot's trades");
    assert_eq!(trades.len(), 1, "{trades:?}");
    assert_eq!((trades[0]["status"].clone(), trades[0]["netPnl"].clone()), (json!("closed"), json!("0.476403")));
    let transactions = trades[0]["transactions"].as_array().unwrap();
    let groups: Vec<&Value> = transactions.iter().map(|t| &t["transactionGroup"]).collect();
    assert_eq!(groups, [&json!("entry"), &json!("exit")]);
    assert_eq!(transactions[1]["exitType"], "take_profit");
    assert_eq!(transactions[0]["brokerOrderId"], entries[0]["orderId"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_the_engine_decides_stops_the_bot_in_the_ledger_and_a_start_re_arms_it() {
    let system = System::start().await.expect("the system starts");
    let grid = grid_bot(&system).await;
    let edit = json!({"userId": grid.user, "botId": grid.bot,
        "settings": {"stopCondition": "Price", "stopType": "Below value", "stopValue": 28500}});
    let (status, reply) = post(&system, &grid.key, "bots/edit", edit).await;
    assert_eq!(status, 200, "{reply}");
    grid.orders_after_quotes(&system, "29050").await;
    grid.log_with(&system, "Settings updated").await;

    // The price falls below 28,500: the engine stops the bot; the ledger hears of it.
    system.push_quote(&grid.symbol, "28400", "28401", "28400.5").await;
    let get = json!({"userId": grid.user, "botId": grid.bot});
    test_support::eventually("the ledger's bot stopped", PATIENCE, || async {
        (ok(&system, &grid.key, "bots/get", get.clone()).await["status"] == json!("stopped")).then_some(())
    })
    .await;
    let log = grid.log_with(&system, "Bot stopped: stop condition met").await;
    let stops = log.iter().filter(|line| line["message"].as_str().unwrap().starts_with("Bot stopped")).count();
    assert_eq!(stops, 1, "the ledger's stop that follows is not logged again: {log:?}");
    test_support::eventually("no open orders", PATIENCE, || async {
        (grid.orders(&system).await.1["data"] == json!([])).then_some(())
    })
    .await;

    // A partner's start re-arms it.
    assert_eq!(ok(&system, &grid.key, "bots/start", json!({"botId": grid.bot})).await, json!(true));
    grid.log_with(&system, "Bot started").await;
    assert_eq!(ok(&system, &grid.key, "bots/get", get).await["status"], "running");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grid_preview_at_the_latest_quote_equals_the_hand_worked_case() {
    let system = System::start().await.expect("the system starts");
    let grid = grid_bot(&system).await;
    let settings = json!({"symbol": grid.symbol, "lowerLimit": 100, "upperLimit": 140, "gridCount": 4,
        "investmentAsset": "Quote", "investmentAmount": 1000, "tradeToFillGrid": true});
    let body = json!({"userId": grid.user, "exchangeId": "SIM", "type": "spot_grid", "settings": settings});

    // No quote of the market yet: nothing to preview at.
    let (status, reply) = post(&system, &grid.key, "bots/preview", body.clone()).await;
    assert_eq!((status, reply["code"].clone()), (422, json!(1007)), "{reply}");
    assert_eq!(reply["message"], format!("No current price for {}", grid.symbol));

    // At 125: level 3 (130 ≥ 125) is bought at market and rests its sell at 140; the levels
    // below get buys, nearest first; 250 USDT per grid; fees 0.1 % (crates/engine's preview
    // test works the figures by hand).
    let preview = test_support::eventually("a preview at the pushed quote", PATIENCE, || async {
        system.push_quote(&grid.symbol, "124.99", "125.01", "125").await;
        let (status, reply) = post(&system, &grid.key, "bots/preview", body.clone()).await;
        (status == 200).then(|| reply["data"].clone())
    })
    .await;
    let order = |level: u32, direction: &str, price: Value, amount: Value| json!({"level": level, "direction": direction, "price": price, "amount": amount});
    assert_eq!(
        preview,
        json!({
            "price": 125,
            "orders": [order(3, "SELL", json!(140), json!(1.92307)), order(2, "BUY", json!(120), json!(2.08333)),
                       order(1, "BUY", json!(110), json!(2.27272)), order(0, "BUY", json!(100), json!(2.5))],
            "amountPerGrid": 250,
            "profitPerGrid": {"min": 7.4846, "max": 9.79},
            "requiredQuote": 991.37293255,
            "requiredBase": 1.92307,
            "estimatedFees": 1.0192286,
            "warnings": []
        })
    );

    // Only grids have a preview.
    let dca = json!({"userId": grid.user, "exchangeId": "SIM", "type": "spot_dollar_cost_averaging",
        "settings": {"symbol": grid.symbol, "direction": "Buy", "baseOrderAmount": 100, "safetyOrderAmount": 50}});
    let (status, reply) = post(&system, &grid.key, "bots/preview", dca).await;
    assert_eq!((status, reply["code"].clone()), (400, json!(1005)), "{reply}");
}
