//! Every read and reply fits the bus: a trade of 2,000 transactions, a bot of 1,000
//! followers and states, and states of 60 KiB each, read a page at a time.

use super::fixture::Fixture;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// NATS's default `max_payload`: no reply may come near it.
const MAX_PAYLOAD: usize = 1024 * 1024;

/// GETs the bot's `path`; asserts 200 and a body well under NATS's limit.
async fn read(fixture: &Fixture, path: &str) -> Value {
    let url = fixture.system.url(&format!("/api/bots/{}{path}", fixture.bot.slug));
    let response = test_support::http_client().get(url).header("x-api-key", &fixture.bot.key).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{path}: {}", &text[..text.len().min(500)]);
    assert!(text.len() < MAX_PAYLOAD - 64 * 1024, "{path}: {} bytes", text.len());
    serde_json::from_str(&text).unwrap()
}

fn entries(count: usize) -> Value {
    let entry = |n: usize| {
        json!({"transactionGroup": "entry", "symbol": "AAPL", "assetType": "stock", "side": "buy", "type": "market",
               "quantity": 1, "transactionDate": "2024-01-15T10:30:00Z", "status": "filled",
               "filledAt": "2024-01-15T10:30:05Z", "notes": format!("entry {n}")})
    };
    Value::Array((0..count).map(entry).collect())
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trade_of_2000_transactions_is_answered_a_page_at_a_time() {
    let fixture = Fixture::start().await;
    let trade = |transactions: Value| json!({"symbol": "AAPL", "tradeType": "long", "signalAt": "2024-01-15T10:30:00Z", "transactions": transactions});

    // Up to 100 transactions a write answers the trade with them, as it always did.
    let (status, reply) = fixture.post("/trades", trade(entries(100))).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(keys(&reply), ["success", "trade"]);
    assert_eq!(reply["trade"]["transactions"].as_array().unwrap().len(), 100);

    // Beyond 100, the trade without them, their count and `truncated`.
    let (status, reply) = fixture.post("/trades", trade(entries(101))).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(keys(&reply), ["success", "trade", "transactionCount", "truncated"]);
    assert_eq!((reply["transactionCount"].as_u64(), reply["truncated"].as_bool()), (Some(101), Some(true)));
    assert!(reply["trade"].get("transactions").is_none(), "{reply}");
    assert_eq!(reply["trade"]["status"], "open");

    // 1,000 with the trade and 1,000 more: 2,000.
    let (status, reply) = fixture.post("/trades", trade(entries(1000))).await;
    assert_eq!((status, reply["transactionCount"].as_u64()), (200, Some(1000)), "{reply}");
    let trade_id = reply["trade"]["id"].as_str().unwrap().to_string();
    let (status, reply) =
        fixture.post(&format!("/trades/{trade_id}/transactions"), json!({"transactions": entries(1000)})).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(keys(&reply), ["success", "trade", "transactionsAdded"], "reference 001's reply is unchanged");
    assert_eq!(reply["transactionsAdded"], 1000);
    // 600 participations too, straight into the ledger's database.
    fixture
        .execute(&format!(
            "INSERT INTO participations (id, bot_trade_id, user_id, broker_account_id, broker_order_id) \
             SELECT gen_random_uuid(), '{trade_id}', '{}', '{}', 'ORDER-' || n FROM generate_series(1, 600) n",
            fixture.user_id, fixture.account_id
        ))
        .await;

    // The trade: 500 transactions and 500 participations, with a cursor for each list.
    let mut seen = Vec::new();
    let first = read(&fixture, &format!("/trades/{trade_id}")).await;
    assert_eq!(first["trade"]["participations"].as_array().unwrap().len(), 500);
    let mut page = first.clone();
    loop {
        let transactions = ids(&page["trade"]["transactions"]);
        assert!(transactions.len() <= 500 && !transactions.is_empty(), "{}", transactions.len());
        seen.extend(transactions);
        let Some(cursor) = page["nextTransactionsCursor"].as_str() else { break };
        page = read(&fixture, &format!("/trades/{trade_id}?transactionsCursor={cursor}")).await;
    }
    assert_eq!(seen.len(), 2000);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 2000, "no transaction twice");
    let cursor = first["nextParticipationsCursor"].as_str().unwrap();
    let rest = read(&fixture, &format!("/trades/{trade_id}?participationsCursor={cursor}")).await;
    assert_eq!(rest["trade"]["participations"].as_array().unwrap().len(), 100);
    assert!(rest.get("nextParticipationsCursor").is_none());

    // The transactions route: 500 by default, up to 1,000, in the same order.
    let page = read(&fixture, &format!("/trades/{trade_id}/transactions")).await;
    assert_eq!(keys(&page), ["nextCursor", "success", "transactions"]);
    assert_eq!(ids(&page["transactions"]), seen[..500]);
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = read(&fixture, &format!("/trades/{trade_id}/transactions?limit=1000{query}")).await;
        listed.extend(ids(&page["transactions"]));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(listed, seen);

    // The participations route: 500, then the rest.
    let page = read(&fixture, &format!("/trades/{trade_id}/participations")).await;
    assert_eq!(page["participations"].as_array().unwrap().len(), 500);
    let cursor = page["nextCursor"].as_str().unwrap();
    let rest = read(&fixture, &format!("/trades/{trade_id}/participations?cursor={cursor}")).await;
    assert_eq!(rest["participations"].as_array().unwrap().len(), 100);
    assert!(rest.get("nextCursor").is_none());

    // A write on the big trade commits and answers, truncated.
    let path = format!("/api/bots/{}/trades/{trade_id}", fixture.bot.slug);
    let (status, reply) = fixture
        .send(Method::PATCH, &path, Some(&fixture.bot.key.clone()), Some(json!({"netPnl": "12.5"}).to_string()))
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!((reply["transactionCount"].as_u64(), reply["truncated"].as_bool()), (Some(2000), Some(true)));
    assert_eq!(reply["trade"]["netPnl"], "12.5");

    // The list shows every trade; the one too big to show with its transactions says so.
    let list = read(&fixture, "/trades").await;
    let trades = list["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 3 + 1, "three created here and the fixture's");
    let big = trades.iter().find(|t| t["id"] == trade_id.as_str()).unwrap();
    assert_eq!((big["transactionCount"].as_u64(), big["truncated"].as_bool()), (Some(2000), Some(true)));
    assert!(big.get("transactions").is_none());
    let small = trades.iter().find(|t| t["transactions"].as_array().is_some_and(|t| t.len() == 100)).unwrap();
    assert!(small.get("truncated").is_none(), "a trade that fits comes as it always did");
}

/// `count` broker accounts of one new user following the fixture's bot for AAPL, each with a
/// state whose text is `state` (SQL, with `n` the account's number).
async fn followers(fixture: &Fixture, count: usize, state: &str) {
    let user = uuid::Uuid::now_v7();
    fixture.execute(&format!("INSERT INTO users (id, email) VALUES ('{user}', 'many@example.com')")).await;
    fixture
        .execute(&format!(
            "INSERT INTO broker_accounts (id, user_id, broker, account_number) \
             SELECT gen_random_uuid(), '{user}', 'TRADIER', 'MANY-' || n FROM generate_series(1, {count}) n"
        ))
        .await;
    fixture
        .execute(&format!(
            "INSERT INTO bot_followers (bot_id, broker_account_id, ticker_id, quantity) \
             SELECT '{}', id, '{}', 1 FROM broker_accounts WHERE user_id = '{user}'",
            fixture.bot.id, fixture.ticker_id
        ))
        .await;
    fixture
        .execute(&format!(
            "INSERT INTO user_bot_states (id, bot_id, broker_account_id, ticker_id, state) \
             SELECT gen_random_uuid(), '{}', id, '{}', ({state})::json \
             FROM (SELECT id, substr(account_number, 6)::int AS n FROM broker_accounts WHERE user_id = '{user}') a",
            fixture.bot.id, fixture.ticker_id
        ))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_of_1000_followers_and_states_is_answered_a_page_at_a_time() {
    let fixture = Fixture::start().await;
    followers(&fixture, 1000, r#"'{"n": ' || n || '}'"#).await;

    // 1,001 followers (the fixture's account and 1,000) and 1,000 states: 500 of each.
    let mut follower_ids = BTreeSet::new();
    let mut state_ids = BTreeSet::new();
    // Each list goes on with its own cursor; one that has ended is left out (and ignored).
    let (mut followers_cursor, mut states_cursor) = (None::<String>, None::<String>);
    let (mut followers_done, mut states_done) = (false, false);
    let mut pages = 0;
    while !(followers_done && states_done) {
        let mut query = Vec::new();
        if let Some(cursor) = followers_cursor.as_ref().filter(|_| !followers_done) {
            query.push(format!("followersCursor={cursor}"));
        }
        if let Some(cursor) = states_cursor.as_ref().filter(|_| !states_done) {
            query.push(format!("statesCursor={cursor}"));
        }
        let page = read(&fixture, &format!("?{}", query.join("&"))).await;
        let followers = page["bot"]["followers"].as_array().unwrap();
        let states = page["bot"]["states"].as_array().unwrap();
        assert!(followers.len() <= 500 && states.len() <= 500, "{} {}", followers.len(), states.len());
        if pages == 0 {
            assert_eq!((followers.len(), states.len()), (500, 500));
        }
        if !followers_done {
            follower_ids.extend(ids(&page["bot"]["followers"]));
            followers_cursor = page["nextFollowersCursor"].as_str().map(str::to_string);
            followers_done = followers_cursor.is_none();
        }
        if !states_done {
            state_ids.extend(ids(&page["bot"]["states"]));
            states_cursor = page["nextStatesCursor"].as_str().map(str::to_string);
            states_done = states_cursor.is_none();
        }
        pages += 1;
        assert!(pages <= 3, "1,001 followers take three pages of 500");
    }
    assert_eq!((follower_ids.len(), state_ids.len()), (1001, 1000));

    // `GET /state`: 1,000 at most by default, `limit` and `cursor` for the rest.
    let all = read(&fixture, "/state").await;
    assert_eq!(all["states"].as_array().unwrap().len(), 1000);
    assert!(all.get("nextCursor").is_none(), "exactly 1,000: one page");
    let mut listed = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = read(&fixture, &format!("/state?limit=400{cursor}")).await;
        listed.extend(ids(&page["states"]));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(listed, ids(&all["states"]), "the same states in the same order");
    // Filters still apply to a page.
    let one = read(&fixture, &format!("/state?accountId={}", fixture.account_id)).await;
    assert_eq!(one["states"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn large_states_are_paged_by_size_too() {
    let fixture = Fixture::start().await;
    // 20 states of 60 KiB: 1.2 MB together, more than one NATS message holds.
    followers(&fixture, 20, &format!(r#"'{{"n": ' || n || ', "blob": "{}"}}'"#, "x".repeat(60 * 1024))).await;
    for path in ["/state", ""] {
        let mut seen = BTreeSet::new();
        let mut query = String::new();
        let mut pages = 0;
        loop {
            let page = read(&fixture, &format!("{path}?{query}")).await;
            let states = if path.is_empty() { &page["bot"]["states"] } else { &page["states"] };
            assert!(!states.as_array().unwrap().is_empty());
            seen.extend(ids(states));
            pages += 1;
            let (param, next) = if path.is_empty() {
                ("statesCursor", page["nextStatesCursor"].as_str())
            } else {
                ("cursor", page["nextCursor"].as_str())
            };
            match next {
                Some(next) => query = format!("{param}={next}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 20, "{path}");
        assert!(pages >= 2, "{path}: the states cannot fit one reply");
    }
}
