//! The logs, positions and equity picture of real backtests through the gateway and the
//! backtest-executor: without parameters `data` is the whole array (the gateway walks the
//! executor's pages), with `limit` one page and the next token in `X-Next-Page-Id`; the SVG of
//! a grid run, a DCA run and a run with no drawdown keeps every point inside its panel.

#[path = "../../../../services/gateway/tests/it/svg_geometry.rs"]
mod svg_geometry;

use crate::system::System;
use backtest_executor::usecase::queries::PAGE_BYTES;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use trade_ledger::admin::AdminCommand;

/// First open time of `BTC_USDT-1m.csv`, and how many of its candles the test imports.
const FIRST: i64 = 1_689_677_460;
const CANDLES: i64 = 10_000;

/// A dense grid around the first week's prices: many fills, so a log longer than one executor
/// page.
const DENSE_GRID: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 29000, "upperLimit": 30500, "gridCount": 120,
    "investmentAsset": "Quote", "investmentAmount": 9900}"#;
const DCA: &str = r#"{"symbol": "SIM_BTC_USDT_", "baseOrderAmount": 100, "safetyOrderAmount": 200,
    "maxSafetyOrders": 5, "priceDeviation": 1, "takeProfit": 1}"#;
/// Every level far below the market: no order ever fills, so the equity never falls.
const IDLE_GRID: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 1000, "upperLimit": 2000, "gridCount": 5,
    "investmentAsset": "Quote", "investmentAmount": 9900}"#;

fn slice() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/marketdata/BTC_USDT-1m.csv");
    let text = std::fs::read_to_string(source).unwrap();
    let lines: Vec<&str> = text.lines().take(usize::try_from(CANDLES).unwrap() + 1).collect();
    let path = std::env::temp_dir().join(format!("e2e-listing-btc-1m-{}.csv", uuid::Uuid::now_v7()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

struct Run {
    system: System,
    key: String,
}

/// Status, `X-Next-Page-Id` and body of a GET.
struct Reply {
    status: u16,
    next: Option<String>,
    text: String,
}

impl Run {
    async fn start() -> Self {
        let system = System::start().await.expect("the system starts");
        let partner = system.admin(AdminCommand::CreatePartner { name: "Listing Partner".into() }).await;
        let key = partner["apiKey"].as_str().unwrap().to_string();
        let file = slice();
        let report = system.import_candles("SIM_BTC_USDT_", "1m", &file).await;
        std::fs::remove_file(file).ok();
        assert_eq!(report["inserted"], CANDLES, "{report}");
        Self { system, key }
    }

    async fn get(&self, path: &str) -> Reply {
        let response = test_support::http_client()
            .get(self.system.url(path))
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let next = response.headers().get("x-next-page-id").map(|value| value.to_str().unwrap().to_string());
        Reply { status, next, text: response.text().await.expect("the whole body") }
    }

    /// Starts a backtest over the imported candles and waits until it completed; its id.
    async fn backtest(&self, script_type: &str, settings: &str) -> String {
        let settings: Value = serde_json::from_str(settings).unwrap();
        let body = json!({"type": script_type, "exchangeId": "SIM", "settings": settings,
            "startUnix": FIRST, "endUnix": FIRST + CANDLES * 60});
        let response = test_support::http_client()
            .post(self.system.url("/partner/v1/bots/backtest"))
            .header("x-api-key", &self.key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let started: Value = response.json().await.unwrap();
        let id = started["data"]["backtestId"].as_str().unwrap_or_else(|| panic!("{started}")).to_string();
        let done = test_support::eventually("the backtest finishes", Duration::from_secs(180), || async {
            let reply = self.get(&format!("/partner/v1/bots/backtest/{id}/status")).await;
            let status: Value = serde_json::from_str(&reply.text).unwrap();
            (!["loading_script", "loading_data", "executing"].contains(&status["data"]["state"].as_str().unwrap()))
                .then_some(status)
        })
        .await;
        assert_eq!(done["data"]["state"], "completed", "{done}");
        id
    }

    /// Walks `path` with `limit`, checking the header on every page; the items in order.
    async fn walk(&self, path: &str, limit: usize) -> Vec<Value> {
        let (mut items, mut token) = (Vec::new(), None::<String>);
        loop {
            let query = token.map_or(format!("?limit={limit}"), |token| format!("?limit={limit}&nextPageId={token}"));
            let reply = self.get(&format!("{path}{query}")).await;
            let body: Value = serde_json::from_str(&reply.text).unwrap_or_else(|e| panic!("{e}: {}", reply.text));
            assert_eq!(reply.status, 200, "{body}");
            let page = body["data"].as_array().unwrap_or_else(|| panic!("data is the array: {body}"));
            assert!(page.len() <= limit);
            items.extend(page.iter().cloned());
            match reply.next {
                Some(next) => {
                    assert!(!page.is_empty(), "a page with a next one holds items");
                    token = Some(next);
                }
                None => return items,
            }
        }
    }

    async fn svg(&self, id: &str) -> svg_geometry::Picture {
        let reply = self.get(&format!("/partner/v1/bots/backtest/{id}/equity.svg")).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        // To look at a picture: E2E_KEEP_SVG=<dir> keeps each one as <dir>/<id>.svg.
        if let Some(dir) = std::env::var_os("E2E_KEEP_SVG") {
            std::fs::write(Path::new(&dir).join(format!("{id}.svg")), &reply.text).unwrap();
        }
        svg_geometry::check(&reply.text)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_log_comes_back_whole_without_parameters_and_page_by_page_with_limit() {
    let run = Run::start().await;
    let id = run.backtest("spot_grid", DENSE_GRID).await;
    let logs = format!("/partner/v1/bots/backtest/{id}/logs");

    let whole = run.get(&logs).await;
    assert_eq!((whole.status, whole.next.as_deref()), (200, None), "{}", &whole.text[..whole.text.len().min(500)]);
    assert!(whole.text.len() > PAGE_BYTES, "more than one executor page: {} bytes", whole.text.len());
    let body: Value = serde_json::from_str(&whole.text).expect("the streamed body is one JSON document");
    assert_eq!((body["isSuccess"].clone(), body["code"].clone()), (json!(true), json!(0)));
    let lines = body["data"].as_array().expect("data is the array");
    let numbers: Vec<u64> = lines.iter().map(|line| line["lineNumber"].as_u64().unwrap()).collect();
    assert_eq!(numbers, (0..lines.len() as u64).collect::<Vec<_>>(), "every line, in order");
    for key in ["timestamp", "severity", "color", "message"] {
        assert!(lines.iter().all(|line| !line[key].is_null()), "{key}");
    }
    assert!(lines.iter().any(|line| line["severity"] == "trade"));

    // The same lines page by page.
    assert_eq!(&run.walk(&logs, 1_000).await, lines);
    let last = run.get(&format!("{logs}?limit=10&nextPageId={}", numbers.len() - 3)).await;
    assert_eq!((last.status, last.next), (200, None), "the last page has no header");
    assert_eq!(serde_json::from_str::<Value>(&last.text).unwrap()["data"].as_array().unwrap().len(), 2);

    // Positions: the whole array equals the paged walk.
    let positions = format!("/partner/v1/bots/backtest/{id}/positions");
    let whole = run.get(&positions).await;
    assert_eq!(whole.status, 200);
    let all: Value = serde_json::from_str(&whole.text).unwrap();
    let all = all["data"].as_array().expect("data is the array").clone();
    assert!(!all.is_empty());
    assert!(all.iter().all(|position| position["eno"].is_array() && position["pg"].is_string()), "{all:?}");
    assert_eq!(run.walk(&positions, 7).await, all);

    for (query, named) in [("limit=0", "limit"), ("limit=10001", "limit"), ("limit=5&nextPageId=x", "nextPageId")] {
        let reply = run.get(&format!("{logs}?{query}")).await;
        let body: Value = serde_json::from_str(&reply.text).unwrap();
        assert_eq!((reply.status, body["code"].clone()), (400, json!(1000)), "{query}: {body}");
        assert!(body["message"].as_str().unwrap().contains(named), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_equity_picture_stays_inside_its_panels_for_grid_dca_and_flat_runs() {
    let run = Run::start().await;
    let grid = run.backtest("spot_grid", DENSE_GRID).await;
    let dca = run.backtest("spot_dollar_cost_averaging", DCA).await;
    let idle = run.backtest("spot_grid", IDLE_GRID).await;

    for id in [&grid, &dca] {
        let picture = run.svg(id).await;
        let drawdown = picture.panel_texts("drawdown-panel");
        assert!(drawdown.contains(&"Drawdown (USDT)"), "{drawdown:?}");
        assert!(drawdown.iter().any(|text| text.starts_with("max drawdown \u{2212}")), "{drawdown:?}");
        assert!(drawdown.iter().any(|text| text.starts_with('\u{2212}')), "a value below zero: {drawdown:?}");
        assert!(picture.panel_texts("equity-panel").contains(&"Equity (USDT)"));
    }
    let picture = run.svg(&idle).await;
    let drawdown = picture.panel_texts("drawdown-panel");
    assert!(drawdown.contains(&"no drawdown"), "{drawdown:?}");
}
