//! On a bus with one user per service, the feed publishes as its own user and the runner's
//! user receives its quotes.

use crate::support::{DataDir, Received, Running, own_symbol, settings};
use test_support::TestNats;

const CANDLES: &[[&str; 4]] = &[["10", "12", "9", "11"]];

#[tokio::test]
async fn the_feed_publishes_as_its_own_nats_user_to_the_runner() {
    let nats = TestNats::secured().await;
    let symbol = own_symbol();
    let data = DataDir::new(&[("a.csv", CANDLES)]);
    let runner = nats.options_as("live-session-runner").connect(nats.url()).await.unwrap();
    let received = Received::subscribe(&runner, nats.subjects().quotes().subject()).await;
    let running = Running::start(settings(&nats, data.path(), &[(&symbol, "a.csv")])).await;

    let quotes = received.wait_for(&symbol, 4).await;
    assert_eq!(quotes[0].last.to_string(), "10");
    let pushed = serde_json::json!({"symbol": symbol.as_str(), "bid": "1", "ask": "2", "last": "1.5", "timeMs": 7});
    let (status, body) = running.post("/_feed/quotes", &pushed.to_string()).await;
    assert_eq!(status, 200, "{body}");
    running.feed.stop().await;
}
