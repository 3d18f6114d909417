//! Replay: candle files become quotes, four per candle, in order, ping-pong past the end.

use crate::support::{DataDir, Received, Running, marketdata, settings, walk};
use bus::messages::market::MarketSymbol;
use market_feed::ReplayedMarket;
use rust_decimal::Decimal;
use rust_decimal::dec;
use test_support::TestNats;

const CANDLES: &[[&str; 4]] = &[
    ["30015.32", "30020", "30015.3", "30016.89"],
    ["30016.89", "30029.84", "30016.88", "30020"],
    ["30020", "30020.21", "30016", "30016.01"],
];

#[tokio::test]
async fn replayed_quotes_follow_the_file_four_per_candle_in_order() {
    let nats = TestNats::new();
    let btc = MarketSymbol::new("SIM_BTC_USDT_").unwrap();
    let data = DataDir::new(&[("btc.csv", CANDLES)]);
    let received = Received::subscribe(&nats.client().await, nats.subjects().quote(&btc).subject()).await;
    let started_ms = now_ms();
    let running = Running::start(settings(&nats, data.path(), &[(&btc, "btc.csv")])).await;

    // Two laps and a bit: forward, reversed, forward again.
    let quotes = received.wait_for(&btc, 28).await;
    let lasts: Vec<Decimal> = quotes.iter().take(28).map(|quote| quote.last).collect();
    assert_eq!(lasts, walk(CANDLES, 28));
    assert_eq!(&lasts[..4], &[dec!(30015.32), dec!(30020), dec!(30015.3), dec!(30016.89)], "open, high, low, close");
    for quote in &quotes {
        // The finest price in the file has two decimals: one tick is 0.01.
        assert_eq!((quote.bid, quote.ask), (quote.last - dec!(0.01), quote.last + dec!(0.01)), "{quote:?}");
        assert_eq!(quote.symbol, btc);
    }
    let times: Vec<i64> = quotes.iter().map(|quote| quote.time_ms).collect();
    assert!(times.windows(2).all(|pair| pair[0] < pair[1]), "timeMs strictly increases: {times:?}");
    assert!(times[0] >= started_ms && *times.last().unwrap() <= now_ms() + 50, "wall-clock times: {times:?}");
    assert!(quotes.iter().all(|quote| quote.time_ms > 1_700_000_000_000), "not the file's 2023 times");

    let entry = running.entry(&btc).await;
    assert_eq!(entry["mode"], "replay");
    assert_eq!(entry["last"]["symbol"], "SIM_BTC_USDT_");
    running.feed.stop().await;
}

#[tokio::test]
async fn the_real_btc_file_replays_its_first_candles() {
    let nats = TestNats::new();
    let btc = MarketSymbol::new("SIM_BTC_USDT_").unwrap();
    let eth = MarketSymbol::new("SIM_ETH_USDT_").unwrap();
    let received = Received::subscribe(&nats.client().await, nats.subjects().quotes().subject()).await;
    let mut settings = settings(&nats, &marketdata(), &[]);
    settings.feed.markets = market_feed::ReplaySettings::default().markets;
    assert_eq!(
        settings.feed.markets,
        [
            ReplayedMarket { symbol: btc.to_string(), file: "BTC_USDT-1m.csv".into() },
            ReplayedMarket { symbol: eth.to_string(), file: "ETH_USDT-5m.csv".into() },
        ]
    );
    let running = Running::start(settings).await;

    let quotes = received.wait_for(&btc, 12).await;
    let file = std::fs::read_to_string(marketdata().join("BTC_USDT-1m.csv")).unwrap();
    let first: Vec<Decimal> = file
        .lines()
        .skip(1)
        .take(3)
        .flat_map(|line| {
            line.split(',').skip(1).take(4).map(|price| price.parse::<Decimal>().unwrap()).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(&first[..4], &[dec!(30015.32), dec!(30020), dec!(30015.32), dec!(30016.89)]);
    let lasts: Vec<Decimal> = quotes.iter().take(12).map(|quote| quote.last).collect();
    assert_eq!(lasts, first);
    assert_eq!((quotes[0].bid, quotes[0].ask), (dec!(30015.31), dec!(30015.33)));

    let eth_quotes = received.wait_for(&eth, 4).await;
    let lasts: Vec<Decimal> = eth_quotes.iter().take(4).map(|quote| quote.last).collect();
    assert_eq!(lasts, [dec!(1793.99), dec!(1799.25), dec!(1782.87), dec!(1798.2)], "ETH_USDT-5m's first candle");
    running.feed.stop().await;
}

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}
