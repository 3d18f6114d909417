//! `GET .../logs` and `.../positions` (reference 003: `data` is the array) against an
//! in-test executor that pages like the real one, with pages of at most `PAGE_CAP` items
//! whatever the limit (as the real one stops a page near 256 KiB): the whole list streamed
//! without parameters, one page with `limit` and the next token in `X-Next-Page-Id`, bad
//! parameters refused before any request, and a walk that fails half-way cut short.

use crate::partner_backtest::{KEY, fake_ledger, partner, serve};
use crate::support::Gateway;
use bus::BusError;
use bus::messages::backtest::{BacktestPage, GetBacktestLogs, GetBacktestPositions};
use domain::BacktestId;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_util::sync::CancellationToken;

const LINES: usize = 23;
const POSITIONS: usize = 9;
const PAGE_CAP: usize = 4;

/// The backtests the fake executor knows.
#[derive(Clone, Copy)]
struct Ids {
    done: BacktestId,
    running: BacktestId,
    empty: BacktestId,
    /// Its second page fails.
    broken: BacktestId,
    /// Answers the token it was asked for again.
    stuck: BacktestId,
}

struct Executor {
    ids: Ids,
    /// Log pages asked for.
    requests: Arc<AtomicUsize>,
    /// Limits the gateway asked for, in order.
    limits: Arc<std::sync::Mutex<Vec<u32>>>,
    shutdown: CancellationToken,
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn line(n: usize) -> String {
    format!(r#"{{"lineNumber":{n},"timestamp":{},"severity":"trade","message":"line {n}"}}"#, 1_700_000_000 + n)
}

/// The page after `after` of `count` items, like the executor's: the token is the last item's
/// number, absent on the last page.
fn page(
    ids: Ids,
    id: BacktestId,
    count: usize,
    item: fn(usize) -> String,
    limit: u32,
    after: Option<String>,
) -> Result<BacktestPage, BusError> {
    let start = match after.as_deref() {
        None => 0,
        Some(_) if id == ids.broken => return Err(BusError::unavailable("the executor went away")),
        Some(_) if id == ids.stuck => 0,
        Some(token) => {
            token.parse::<usize>().map_err(|_| BusError::invalid("nextPageId: not a cursor of this backtest"))? + 1
        }
    };
    let count = if id == ids.empty { 0 } else { count };
    let from = start.min(count);
    let end = (from + (limit as usize).min(PAGE_CAP)).min(count);
    let items: Vec<String> = (from..end).map(item).collect();
    let next_page_id =
        if id == ids.stuck { Some("3".to_string()) } else { (end < count).then(|| (end - 1).to_string()) };
    let items = serde_json::value::RawValue::from_string(format!("[{}]", items.join(","))).unwrap();
    Ok(BacktestPage { items, next_page_id })
}

fn known(ids: Ids, partner_id: domain::PartnerId, id: BacktestId) -> Result<(), BusError> {
    if partner_id != partner() || ![ids.done, ids.running, ids.empty, ids.broken, ids.stuck].contains(&id) {
        return Err(BusError::not_found(format!("Backtest '{id}' not found")));
    }
    if id == ids.running {
        return Err(BusError::Conflict { message: "Backtest is not completed (state: executing)".into() });
    }
    Ok(())
}

async fn executor(gateway: &Gateway) -> Executor {
    let shutdown = CancellationToken::new();
    fake_ledger(gateway, &shutdown).await;
    let ids = Ids {
        done: BacktestId::new(),
        running: BacktestId::new(),
        empty: BacktestId::new(),
        broken: BacktestId::new(),
        stuck: BacktestId::new(),
    };
    let requests = Arc::new(AtomicUsize::new(0));
    let limits = Arc::new(std::sync::Mutex::new(Vec::new()));
    let subjects = gateway.nats.subjects();
    let (counted, seen) = (requests.clone(), limits.clone());
    serve(gateway, &shutdown, subjects.backtest_logs(), move |request: GetBacktestLogs| {
        let (counted, seen) = (counted.clone(), seen.clone());
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            seen.lock().unwrap().push(request.limit);
            known(ids, request.partner_id, request.backtest_id)?;
            page(ids, request.backtest_id, LINES, line, request.limit, request.next_page_id)
        }
    })
    .await;
    serve(gateway, &shutdown, subjects.backtest_positions(), move |request: GetBacktestPositions| async move {
        known(ids, request.partner_id, request.backtest_id)?;
        page(ids, request.backtest_id, POSITIONS, |n| format!(r#"{{"pg":"{n}"}}"#), request.limit, request.next_page_id)
    })
    .await;
    // `serve` checks each responder with a request of its own.
    requests.store(0, Ordering::SeqCst);
    limits.lock().unwrap().clear();
    Executor { ids, requests, limits, shutdown }
}

/// Status, the `X-Next-Page-Id` header and the body text (or the error reading it).
async fn get(gateway: &Gateway, path: &str) -> (u16, Option<String>, Option<u64>, Result<String, reqwest::Error>) {
    let response = test_support::http_client().get(gateway.url(path)).header("x-api-key", KEY).send().await.unwrap();
    let next = response.headers().get("x-next-page-id").map(|value| value.to_str().unwrap().to_string());
    let length = response.content_length();
    (response.status().as_u16(), next, length, response.text().await)
}

fn envelope(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

fn numbers(data: &Value, key: &str) -> Vec<usize> {
    data.as_array()
        .unwrap_or_else(|| panic!("data is an array: {data}"))
        .iter()
        .map(|item| match &item[key] {
            Value::String(text) => text.parse().unwrap(),
            other => usize::try_from(other.as_u64().unwrap()).unwrap(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn without_parameters_the_whole_list_is_streamed_in_order() {
    let gateway = Gateway::start().await;
    let executor = executor(&gateway).await;
    let logs = format!("/partner/v1/bots/backtest/{}/logs", executor.ids.done);

    let (status, next, length, text) = get(&gateway, &logs).await;
    let text = text.unwrap();
    assert_eq!((status, next), (200, None), "{text}");
    assert_eq!(length, None, "the array is streamed (chunked), not gathered first");
    let body = envelope(&text);
    assert_eq!(
        (body["isSuccess"].clone(), body["code"].clone(), body["message"].clone()),
        (json!(true), json!(0), json!(""))
    );
    assert_eq!(numbers(&body["data"], "lineNumber"), (0..LINES).collect::<Vec<_>>());
    assert_eq!(body["data"][5], serde_json::from_str::<Value>(&line(5)).unwrap());
    assert_eq!(executor.requests.load(Ordering::SeqCst), LINES.div_ceil(PAGE_CAP), "page by page");
    assert!(executor.limits.lock().unwrap().iter().all(|limit| *limit == 10_000));

    let positions = format!("/partner/v1/bots/backtest/{}/positions", executor.ids.done);
    let (status, _, _, text) = get(&gateway, &positions).await;
    assert_eq!(status, 200);
    assert_eq!(numbers(&envelope(&text.unwrap())["data"], "pg"), (0..POSITIONS).collect::<Vec<_>>());

    // After a token without a limit: the rest of the list.
    let (status, next, _, text) = get(&gateway, &format!("{logs}?nextPageId=10")).await;
    assert_eq!((status, next), (200, None));
    assert_eq!(numbers(&envelope(&text.unwrap())["data"], "lineNumber"), (11..LINES).collect::<Vec<_>>());

    // One page only, or none: a plain body.
    let (status, _, length, text) = get(&gateway, &format!("{logs}?nextPageId=20")).await;
    assert_eq!(numbers(&envelope(&text.unwrap())["data"], "lineNumber"), vec![21, 22]);
    assert!(status == 200 && length.is_some());
    let empty = format!("/partner/v1/bots/backtest/{}/logs", executor.ids.empty);
    let (status, _, _, text) = get(&gateway, &empty).await;
    assert_eq!((status, envelope(&text.unwrap())["data"].clone()), (200, json!([])));
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_with_limit_walks_the_list_with_the_next_page_header() {
    let gateway = Gateway::start().await;
    let executor = executor(&gateway).await;
    let logs = format!("/partner/v1/bots/backtest/{}/logs", executor.ids.done);
    for (limit, pages) in [(3, LINES.div_ceil(3)), (100, LINES.div_ceil(PAGE_CAP)), (LINES, LINES.div_ceil(PAGE_CAP))] {
        let (mut seen, mut walked, mut token) = (Vec::new(), 0, None::<String>);
        loop {
            let query =
                token.as_ref().map_or(format!("?limit={limit}"), |token| format!("?limit={limit}&nextPageId={token}"));
            let (status, next, _, text) = get(&gateway, &format!("{logs}{query}")).await;
            let body = envelope(&text.unwrap());
            assert_eq!(status, 200, "{body}");
            let page = numbers(&body["data"], "lineNumber");
            assert!(!page.is_empty() && page.len() <= limit, "{page:?}");
            seen.extend(page);
            walked += 1;
            match next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, (0..LINES).collect::<Vec<_>>(), "limit {limit}");
        assert_eq!(walked, pages, "limit {limit}");
    }
    // The last page has no header; an earlier one has the token of the next.
    let (_, next, _, _) = get(&gateway, &format!("{logs}?limit=3&nextPageId=20")).await;
    assert_eq!(next, None);
    let (_, next, _, _) = get(&gateway, &format!("{logs}?limit=3")).await;
    assert_eq!(next.as_deref(), Some("2"));
    let positions = format!("/partner/v1/bots/backtest/{}/positions?limit=2", executor.ids.done);
    let (status, next, _, text) = get(&gateway, &positions).await;
    assert_eq!((status, next.as_deref()), (200, Some("1")));
    assert_eq!(numbers(&envelope(&text.unwrap())["data"], "pg"), vec![0, 1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_paging_parameters_are_400_naming_the_parameter_and_ask_nothing() {
    let gateway = Gateway::start().await;
    let executor = executor(&gateway).await;
    for what in ["logs", "positions"] {
        let path = format!("/partner/v1/bots/backtest/{}/{what}", executor.ids.done);
        let cases = [
            ("limit=0", "limit"),
            ("limit=10001", "limit"),
            ("limit=-1", "limit"),
            ("limit=abc", "limit"),
            ("limit=1.5", "limit"),
            ("limit=", "limit"),
            ("limit=5&nextPageId=abc", "nextPageId"),
            ("nextPageId=-3", "nextPageId"),
            ("nextPageId=1234567890", "nextPageId"),
            ("limit=1&limit=2", "limit"),
        ];
        for (query, named) in cases {
            let (status, next, _, text) = get(&gateway, &format!("{path}?{query}")).await;
            let body = envelope(&text.unwrap());
            assert_eq!((status, body["code"].clone(), next), (400, json!(1000), None), "{query}: {body}");
            assert!(body["message"].as_str().unwrap().contains(named), "{query}: {body}");
            assert_eq!(body["isSuccess"], false);
        }
    }
    assert_eq!(executor.requests.load(Ordering::SeqCst), 0, "nothing reached the executor");
    // The largest limit is fine.
    let (status, _, _, _) =
        get(&gateway, &format!("/partner/v1/bots/backtest/{}/logs?limit=10000", executor.ids.done)).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_before_the_first_page_keep_their_codes() {
    let gateway = Gateway::start().await;
    let executor = executor(&gateway).await;
    for query in ["", "?limit=5"] {
        for (id, status, code) in [(executor.ids.running, 409, 1006), (BacktestId::new(), 404, 1009)] {
            for what in ["logs", "positions"] {
                let (got, _, _, text) = get(&gateway, &format!("/partner/v1/bots/backtest/{id}/{what}{query}")).await;
                let body = envelope(&text.unwrap());
                assert_eq!((got, body["code"].clone()), (status, json!(code)), "{what}{query}: {body}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_walk_that_fails_half_way_is_cut_short_not_ended_as_a_shorter_list() {
    let gateway = Gateway::start().await;
    let executor = executor(&gateway).await;
    for id in [executor.ids.broken, executor.ids.stuck] {
        let path = format!("/partner/v1/bots/backtest/{id}/logs");
        let sent = test_support::http_client().get(gateway.url(&path)).header("x-api-key", KEY).send().await;
        // The connection is dropped where the walk failed: when that happens before the head
        // and the first page have left the gateway's buffers (on a busy machine), the client
        // sees no response at all, which is as broken as a cut body.
        let Ok(response) = sent else { continue };
        assert_eq!(response.status().as_u16(), 200, "the first page was fine");
        if let Ok(text) = response.text().await {
            assert!(serde_json::from_str::<Value>(&text).is_err(), "a cut body is not a valid list: {text}");
        }
    }
}
