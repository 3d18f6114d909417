//! A grid's preview (`bots/preview`) against an in-test ledger and runner: the body's shape is
//! checked first, then its type (only grids have a preview: the others are refused before
//! anybody is asked), then the ledger checks the would-be bot as a create would (user,
//! exchange, settings) and the runner previews the canonical settings at its latest quote;
//! what each refusal maps to, in that order; the runner's answer forwarded digit for digit;
//! the key first and a missing backend 9503.

use crate::partner_backtest::{fake_ledger, partner, serve};
use crate::partner_runtime_fakes::{decimal, refusal, sorted_keys, success};
use crate::support::{self, Gateway};
use bus::BusError;
use bus::messages::hosted::{CheckHostedBot, CheckedHostedBot, MarketSpecMsg};
use bus::messages::live::{GridPreview, GridPreviewOrder, PreviewGrid, ProfitRangeMsg};
use domain::UserId;
use gateway::api::partner::reference::TYPE_MESSAGE;
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;

/// The partner's user, on `SIM` only.
const OWNER: &str = "f873b314-f165-45a0-b658-d15ff37d529a";
/// A market the runner has heard no quote of.
const QUIET: &str = "SIM_QUIET_USDT_";
/// The settings as the client sends them (numbers as written).
const SENT: &str = r#"{"symbol": "SIM_BTC_USDT_", "lowerLimit": 100.0, "upperLimit": 140, "gridCount": 4, "investmentAsset": "Quote", "investmentAmount": 1e3, "tradeToFillGrid": true}"#;
/// The settings as the ledger makes them canonical: every default filled in, numbers normalised.
const CANONICAL: &str = r#"{"symbol":"SIM_BTC_USDT_","lowerLimit":100,"upperLimit":140,"gridMode":"Arithmetic","gridCount":4,"investmentAsset":"Quote","investmentAmount":1000,"tradeToFillGrid":true,"startCondition":"Instant","startType":"Above value","startValue":0,"stopCondition":"Manual","stopType":"Above value","stopValue":0,"stopExit":false}"#;

fn owner() -> UserId {
    OWNER.parse().unwrap()
}

/// A body of `bots/preview` (`settings` is JSON text).
fn body_of(user: &str, exchange: &str, script_type: &str, settings: &str) -> String {
    format!(r#"{{"userId": "{user}", "exchangeId": "{exchange}", "type": "{script_type}", "settings": {settings}}}"#)
}

/// A body of `bots/preview` for `OWNER` on `SIM`.
fn body(script_type: &str, settings: &str) -> String {
    body_of(OWNER, "SIM", script_type, settings)
}

fn market(symbol: &str) -> MarketSpecMsg {
    MarketSpecMsg {
        symbol: symbol.into(),
        base_currency: "BTC".into(),
        quote_currency: "USDT".into(),
        price_decimals: 2,
        amount_decimals: 5,
        minimum_trade_amount: Decimal::new(1, 5),
    }
}

/// The runner's preview of `SENT` at 125 (crates/engine's preview test works it by hand).
fn grid_preview() -> GridPreview {
    let order = |level, direction: &str, price, amount| GridPreviewOrder {
        level,
        direction: direction.into(),
        price: decimal(price),
        amount: decimal(amount),
    };
    GridPreview {
        price: decimal("125"),
        orders: vec![
            order(3, "SELL", "140", "1.92307"),
            order(2, "BUY", "120", "2.08333"),
            order(1, "BUY", "110", "2.27272"),
            order(0, "BUY", "100", "2.5"),
        ],
        amount_per_grid: decimal("250"),
        profit_per_grid: ProfitRangeMsg { min: decimal("7.4846"), max: decimal("9.79") },
        required_quote: decimal("991.37293255"),
        required_base: decimal("1.92307"),
        estimated_fees: decimal("1.0192286"),
        warnings: vec![],
    }
}

/// What the ledger and the runner were asked.
#[derive(Default)]
struct Seen {
    checks: Vec<CheckHostedBot>,
    previews: Vec<PreviewGrid>,
}

impl Seen {
    fn asked(&self) -> usize {
        self.checks.len() + self.previews.len()
    }
}

type Fakes = support::Fakes<Seen>;

/// The ledger's `check_hosted_bot` in its order: the user (only `OWNER`), then the exchange
/// (only `SIM` is the user's), then the settings (`orderSize` is no grid setting); a symbol
/// of `QUIET` names that market, any other `SIM_BTC_USDT_`.
async fn serve_ledger(gateway: &Gateway, fakes: &Fakes) {
    let seen = fakes.seen.clone();
    serve(gateway, &fakes.shutdown, gateway.nats.subjects().check_hosted_bot(), move |check: CheckHostedBot| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().checks.push(check.clone());
            if check.partner_id != partner() || check.user_id != owner() {
                return Err(BusError::not_found(format!("User '{}' not found", check.user_id)));
            }
            if check.exchange_id != "SIM" {
                return Err(BusError::Forbidden {
                    message: format!(
                        "exchangeId '{}' is not an exchange user '{}' has an account on (the user's: SIM)",
                        check.exchange_id, check.user_id
                    ),
                });
            }
            let sent = check.settings.get();
            if sent.contains("orderSize") {
                return Err(BusError::invalid("Unknown field 'settings.orderSize'"));
            }
            let symbol = if sent.contains(QUIET) { QUIET } else { "SIM_BTC_USDT_" };
            let settings = RawValue::from_string(CANONICAL.replace("SIM_BTC_USDT_", symbol)).unwrap();
            Ok(CheckedHostedBot { settings, market: market(symbol) })
        }
    })
    .await;
}

/// The runner's `preview_grid`: no quote of `QUIET` yet, else [`grid_preview`].
async fn serve_runner(gateway: &Gateway, fakes: &Fakes) {
    let seen = fakes.seen.clone();
    serve(gateway, &fakes.shutdown, gateway.nats.subjects().preview_grid(), move |question: PreviewGrid| {
        let seen = seen.clone();
        async move {
            let symbol = question.market.symbol.clone();
            seen.lock().unwrap().previews.push(question);
            if symbol == QUIET {
                return Err(BusError::not_found(format!("No current price for {symbol}")));
            }
            Ok(grid_preview())
        }
    })
    .await;
}

/// The ledger (`authenticate` and `check_hosted_bot`) and the runner.
async fn fakes(gateway: &Gateway) -> Fakes {
    let fakes = Fakes::default();
    fake_ledger(gateway, &fakes.shutdown).await;
    serve_ledger(gateway, &fakes).await;
    serve_runner(gateway, &fakes).await;
    fakes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grid_is_checked_by_the_ledger_then_previewed_by_the_runner_and_forwarded_as_sent() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;

    let (text, data) = success(&gateway, "preview", &body("spot_grid", SENT)).await;
    assert_eq!(data, serde_json::to_value(grid_preview()).unwrap());
    assert!(
        text.contains(r#""requiredQuote":991.37293255,"requiredBase":1.92307,"estimatedFees":1.0192286,"warnings":[]"#),
        "digit for digit: {text}"
    );
    assert!(text.contains(r#"{"level":3,"direction":"SELL","price":140,"amount":1.92307}"#), "{text}");
    {
        let seen = fakes.seen.lock().unwrap();
        let [check] = seen.checks.as_slice() else { panic!("one check: {}", seen.checks.len()) };
        assert_eq!((check.partner_id, check.user_id), (partner(), owner()));
        assert_eq!((check.exchange_id.as_str(), check.script_type.as_str()), ("SIM", "spot_grid"));
        assert_eq!(check.settings.get(), SENT, "the settings byte for byte");
        let [question] = seen.previews.as_slice() else { panic!("one preview: {}", seen.previews.len()) };
        assert_eq!(question.script_type, "spot_grid");
        assert_eq!(question.settings.get(), CANONICAL, "the ledger's canonical settings");
        assert_eq!(question.market, market("SIM_BTC_USDT_"), "the ledger's market");
    }

    // A futures grid too: the type travels to both.
    success(&gateway, "preview", &body("futures_grid", SENT)).await;
    let seen = fakes.seen.lock().unwrap();
    assert_eq!(
        (seen.checks[1].script_type.as_str(), seen.previews[1].script_type.as_str()),
        ("futures_grid", "futures_grid")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_or_a_type_is_refused_before_anybody_is_asked() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    let exchange = "exchangeId is required and must be a non-empty string";
    let settings = "settings is required and must be an object";
    let base: Value = serde_json::from_str(&body("spot_grid", SENT)).unwrap();
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body.to_string()
    };
    let without = |field: &str| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(field);
        body.to_string()
    };
    for (body, message) in [
        ("{".to_string(), "Invalid JSON in request body"),
        (String::new(), "Invalid JSON in request body"),
        ("[]".into(), "The request body must be a JSON object"),
        (with("masterBotId", Value::Null), "Unknown field 'masterBotId'"),
        ("{}".into(), "userId is required and must be a non-empty string"),
        (with("userId", json!("")), "userId is required and must be a non-empty string"),
        (without("exchangeId"), exchange),
        (with("exchangeId", json!(7)), exchange),
        (without("type"), TYPE_MESSAGE),
        (with("type", json!("grid")), TYPE_MESSAGE),
        (with("type", json!("SPOT_GRID")), TYPE_MESSAGE),
        (without("settings"), settings),
        (with("settings", json!([])), settings),
        (with("settings", json!(null)), settings),
        // The shape comes first: a DCA without settings is refused for them.
        (without("settings").replace("spot_grid", "webhook"), settings),
    ] {
        assert_eq!(refusal(&gateway, "preview", &body).await, (400, json!(1000), json!(message)), "{body}");
    }

    // Only grids have a preview: the others are refused before the user is looked at.
    for script_type in ["spot_dollar_cost_averaging", "futures_dollar_cost_averaging", "webhook"] {
        let message = format!("Preview is only available for grid bots (spot_grid, futures_grid), not {script_type}");
        let unknown_user = body_of("u-1", "BITMEX", script_type, r#"{"signalToken": "t"}"#);
        for body in [body(script_type, "{}"), unknown_user] {
            assert_eq!(refusal(&gateway, "preview", &body).await, (400, json!(1005), json!(message)), "{body}");
        }
    }
    // A user id that is not a UUID names no user: the ledger is not asked.
    let expected = (404, json!(1001), json!("User 'u-1' not found"));
    assert_eq!(refusal(&gateway, "preview", &body("spot_grid", SENT).replace(OWNER, "u-1")).await, expected);
    assert_eq!(fakes.seen.lock().unwrap().asked(), 0, "refused before any request but the key's");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledgers_refusals_then_the_runners_map_to_their_codes_in_order() {
    let gateway = Gateway::start().await;
    let fakes = fakes(&gateway).await;
    let unknown = UserId::new().to_string();
    // Each body fails every check from its own on: the user is checked before the exchange,
    // the exchange before the settings, the settings before the price.
    let bad = format!(r#"{{"symbol": "{QUIET}", "orderSize": 100}}"#);
    let quiet = SENT.replace("SIM_BTC_USDT_", QUIET);
    let mismatch = format!("exchangeId 'BITMEX' is not an exchange user '{OWNER}' has an account on (the user's: SIM)");
    for (body, status, code, message) in [
        (body_of(&unknown, "BITMEX", "spot_grid", &bad), 404, 1001, format!("User '{unknown}' not found")),
        (body_of(OWNER, "BITMEX", "spot_grid", &bad), 400, 1004, mismatch),
        (body_of(OWNER, "SIM", "spot_grid", &bad), 400, 1000, "Unknown field 'settings.orderSize'".into()),
        (body_of(OWNER, "SIM", "spot_grid", &quiet), 422, 1007, format!("No current price for {QUIET}")),
    ] {
        assert_eq!(refusal(&gateway, "preview", &body).await, (status, json!(code), json!(message)), "{body}");
    }
    let seen = fakes.seen.lock().unwrap();
    assert_eq!(seen.checks.len(), 4, "the ledger checks every one");
    let [question] = seen.previews.as_slice() else { panic!("the runner only once: {}", seen.previews.len()) };
    assert_eq!(question.market, market(QUIET), "asked about the checked market");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_comes_first_and_a_missing_backend_is_9503() {
    let gateway = Gateway::start().await;
    let fakes = Fakes::default();
    fake_ledger(&gateway, &fakes.shutdown).await;
    serve_ledger(&gateway, &fakes).await;
    let client = test_support::http_client();
    let path = gateway.url("/partner/v1/bots/preview");
    let no_key = client.post(&path).body(body("spot_grid", SENT)).send().await.unwrap();
    assert_eq!(no_key.status(), 401);
    let answer: Value = no_key.json().await.unwrap();
    assert_eq!(
        (answer["code"].clone(), answer["message"].clone()),
        (json!(1401), json!("Partner API key required. Include x-api-key header."))
    );
    let wrong = client.post(&path).header("x-api-key", "wrong").body("{").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.json::<Value>().await.unwrap()["code"], 1401);
    assert_eq!(fakes.seen.lock().unwrap().asked(), 0);

    // The ledger checks the bot; no runner answers.
    let answer = refusal(&gateway, "preview", &body("spot_grid", SENT)).await;
    assert_eq!((answer.0, answer.1), (503, json!(9503)));
    assert_eq!(fakes.seen.lock().unwrap().checks.len(), 1);
    drop(fakes);

    // Only `authenticate` answers: the ledger's check has no responder.
    let gateway = Gateway::start().await;
    let shutdown = CancellationToken::new();
    fake_ledger(&gateway, &shutdown).await;
    let answer = refusal(&gateway, "preview", &body("spot_grid", SENT)).await;
    assert_eq!((answer.0, answer.1), (503, json!(9503)));
    shutdown.cancel();
}

#[test]
fn the_document_states_the_body_and_its_example_is_the_engines_preview() {
    let document = serde_json::to_value(gateway::openapi::ApiDoc::openapi()).unwrap();
    let schemas = &document["components"]["schemas"];
    let body = &schemas["PreviewBotBody"];
    assert_eq!(body["required"], json!(["userId", "exchangeId", "type", "settings"]));
    assert_eq!(body["additionalProperties"], json!(false));
    assert_eq!(schemas["GridScriptType"]["enum"], json!(["spot_grid", "futures_grid"]), "the types with a preview");
    let operation = &document["paths"]["/partner/v1/bots/preview"]["post"];
    let request = &operation["requestBody"]["content"]["application/json"];
    assert_eq!(request["schema"]["$ref"], "#/components/schemas/PreviewBotBody");
    let responses = &operation["responses"];
    let codes = |status: &str| {
        responses[status]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"].clone()
    };
    for (status, expected) in [
        ("400", json!([1000, 1004, 1005])),
        ("401", json!([1401])),
        ("404", json!([1001])),
        ("422", json!([1007])),
        ("503", json!([9503])),
        ("504", json!([9504])),
    ] {
        assert_eq!(codes(status), expected, "{status}");
    }

    // The example has the schema's fields and the wire's, and is the runner's answer above.
    let example = responses["200"]["content"]["application/json"]["example"]["data"].clone();
    let fields = |schema: &str| sorted_keys(&schemas[schema]["properties"]);
    let wire = serde_json::to_value(grid_preview()).unwrap();
    assert_eq!(sorted_keys(&example), fields("PartnerGridPreview"));
    assert_eq!(sorted_keys(&example), sorted_keys(&wire), "the wire shape");
    assert_eq!(sorted_keys(&example["orders"][0]), fields("PartnerGridPreviewOrder"));
    assert_eq!(sorted_keys(&example["profitPerGrid"]), fields("PartnerProfitRange"));
    assert_eq!(example, wire);

    // And the engine's preview of the example's body at 125, fees 0.1 %, paper balance 10,000.
    let sent = &request["example"];
    let tagged = json!({"type": sent["type"], "settings": sent["settings"]});
    let settings: engine::BotSettings = serde_json::from_str(&tagged.to_string()).unwrap();
    let spec = engine::MarketSpec::sim_btc_usdt();
    assert_eq!(sent["settings"]["symbol"], json!(spec.symbol));
    let fee_rate = engine::RunConfig::default().fee_rate;
    let preview = engine::preview(&settings, &spec, Decimal::from(125), fee_rate, Decimal::from(10_000)).unwrap();
    let number = |value: &Value| value.to_string().parse::<Decimal>().unwrap();
    assert_eq!(number(&example["price"]), preview.price);
    assert_eq!(example["orders"].as_array().unwrap().len(), preview.orders.len());
    for (shown, order) in example["orders"].as_array().unwrap().iter().zip(&preview.orders) {
        assert_eq!(shown["level"], json!(order.level));
        assert_eq!(shown["direction"], serde_json::to_value(order.direction).unwrap());
        assert_eq!((number(&shown["price"]), number(&shown["amount"])), (order.price, order.amount));
    }
    assert_eq!(number(&example["amountPerGrid"]), preview.amount_per_grid);
    let range = &example["profitPerGrid"];
    assert_eq!(
        (number(&range["min"]), number(&range["max"])),
        (preview.profit_per_grid.min, preview.profit_per_grid.max)
    );
    assert_eq!(number(&example["requiredQuote"]), preview.required_quote);
    assert_eq!(number(&example["requiredBase"]), preview.required_base);
    assert_eq!(number(&example["estimatedFees"]), preview.estimated_fees);
    assert_eq!(example["warnings"], json!(preview.warnings));
}
