//! Shapes of the hosted bot routes (`bots/list`, `bots/user`, `bots/get`, `bots/create`,
//! `bots/edit`, `bots/copy`, `bots/start`, `bots/stop`, `bots/delete`, `bots/preview`,
//! `bots/orders`, `bots/logs`, `bots/positions/open`, `bots/positions/closed`,
//! `bots/positions/orders`) for the OpenAPI document. Requests are parsed field by field
//! (`bots::parse`), the ledger writes the bots and the runner their orders, positions, logs and
//! previews, so these types only describe them.

use super::{ScriptType, described, errors};
use std::collections::BTreeMap;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, Modify, ToSchema};

/// `POST /bots/list` (reference 003). The body may be empty (or `null`): the first page of
/// 10,000.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListBotsBody {
    /// Bots in one page: -1 (the default) means 10,000, else 1 to 10,000 (0 is refused). A
    /// page also ends near 256 KiB, so it may hold fewer.
    #[schema(schema_with = page_limit)]
    limit: Option<i32>,
    /// The `nextPageId` of the previous page, as it came; absent, null or empty for the first.
    next_page_id: Option<String>,
}

/// `POST /bots/user` (reference 003): one user's bots.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserBotsBody {
    /// One of the partner's users (an id that is not answers 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// Bots in one page: -1 (the default) means 10,000, else 1 to 10,000 (0 is refused). A
    /// page also ends near 256 KiB, so it may hold fewer.
    #[schema(schema_with = page_limit)]
    limit: Option<i32>,
    /// The `nextPageId` of the previous page, as it came; absent, null or empty for the first.
    next_page_id: Option<String>,
}

/// `limit` of a partner list: -1, or 1 to 10,000 (a range with a hole at 0, so two schemas).
fn page_limit() -> Schema {
    let one_of = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some([-1])))
        .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(10_000)))
        .description(Some("-1 (the default) means 10,000; else 1 to 10,000"));
    Schema::OneOf(one_of.build())
}

/// `POST /bots/get` (reference 003). The user is checked before the bot.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BotRefBody {
    /// The bot's owner, one of the partner's users (else 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot: 32 hex digits (dashed accepted); a malformed or unknown id, or a bot that is
    /// not this user's, answers 404, code 1002.
    #[schema(min_length = 1)]
    bot_id: String,
}

/// `POST /bots/create` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBotBody {
    /// The owner, one of the partner's users (else 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot type.
    #[serde(rename = "type")]
    script_type: ScriptType,
    /// The bot's settings, as `GET /scripts` describes them for the type (`symbol` a market of
    /// `GET /markets` on the user's exchange). Omitted settings take their defaults; an unknown
    /// key answers `Unknown field 'settings.<key>'`, a bad value `settings.<key>: <reason>`,
    /// the webhook's backtest-only `signals` `settings.signals: a backtest-only setting` (400,
    /// code 1000).
    #[schema(value_type = Object)]
    settings: String,
    /// A bot to follow: the new bot follows its root master (same type required, else
    /// `masterBotId: type differs`); null or `""` for none. An unknown one answers 404, code
    /// 1002.
    master_bot_id: Option<String>,
}

/// `POST /bots/preview` (reference 003): a would-be grid bot, checked as `bots/create` checks
/// one (the user, then the exchange, then the settings) and stored nowhere.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewBotBody {
    /// The would-be owner, one of the partner's users (else 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// The exchange the bot would run on: one the user has an account on (else 400, code 1004),
    /// and the exchange of `settings.symbol`'s market (else 400, code 1000).
    #[schema(min_length = 1)]
    exchange_id: String,
    /// The bot type: only grids have a preview. The reference's other types
    /// (`spot_dollar_cost_averaging`, `futures_dollar_cost_averaging`, `webhook`) answer 400,
    /// code 1005, `Preview is only available for grid bots (spot_grid, futures_grid), not
    /// <type>`, before the user is looked at; any other value 400, code 1000.
    #[serde(rename = "type")]
    script_type: GridScriptType,
    /// The grid's settings, as `GET /scripts` describes them for the type and checked as on a
    /// create: omitted settings take their defaults; an unknown key answers `Unknown field
    /// 'settings.<key>'`, a bad value `settings.<key>: <reason>` (400, code 1000).
    #[schema(value_type = Object)]
    settings: String,
}

/// The bot types that have a preview.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GridScriptType {
    /// Spot grid.
    SpotGrid,
    /// Futures grid.
    FuturesGrid,
}

/// An order a grid's start would place (`bots/preview`).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerGridPreviewOrder {
    /// The grid level, 0 the lowest (as in the order's note, `Grid buy #<level>`). A sell
    /// belongs to the level below its price.
    #[schema(minimum = 0)]
    level: u32,
    /// `BUY` (a level below the price) or `SELL` (a level at or above the price that
    /// `tradeToFillGrid` buys at market now, selling one level up).
    #[schema(pattern = "^(BUY|SELL)$")]
    direction: String,
    /// The limit price, quote.
    price: f64,
    /// The amount, base.
    amount: f64,
}

/// The smallest and the largest of a preview's profits per grid, in percent.
#[derive(ToSchema)]
pub struct PartnerProfitRange {
    /// The smallest, in percent.
    min: f64,
    /// The largest, in percent.
    max: f64,
}

/// `data` of `bots/preview`: what a grid bot would do if started now.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerGridPreview {
    /// The price used: the live-session-runner's latest quote of the market (its last price,
    /// rounded to the tick).
    price: f64,
    /// The resting orders a start would place, in the order it places them: the sells
    /// `tradeToFillGrid` would rest, then a buy at each level below the price, nearest first.
    /// Levels below the market's minimum trade amount are left out.
    orders: Vec<PartnerGridPreviewOrder>,
    /// `investmentAmount / gridCount`: quote per grid (base with `investmentAsset` `Base`).
    amount_per_grid: f64,
    /// Over the levels that trade, the % a round trip (a buy, then its sell one level up) earns
    /// net of two fees: `(p_{i+1}·(1 − fee) / p_i − (1 + fee)) × 100`, to 4 decimals.
    profit_per_grid: PartnerProfitRange,
    /// The quote the start needs: what the listed buys hold (notional and fee; on futures,
    /// margin and fee) and the market buys of `tradeToFillGrid` at the price (notional and fee).
    required_quote: f64,
    /// The base the listed sells hold (bought by those market buys).
    required_base: f64,
    /// The fees of filling every listed order once, quote.
    estimated_fees: f64,
    /// What to know before starting: `<n> grid levels trade less than the minimum trade amount
    /// <min> <BASE>`, `price is outside the grid range`, `requiredQuote exceeds the paper
    /// balance 10000 <QUOTE>` (a hosted bot trades a paper balance of 10,000 of the quote
    /// currency); first, when the latest quote is more than 10 s old, `The price is from a
    /// quote <n> s old: market data for <SYMBOL> is stale`. `[]` for none.
    warnings: Vec<String>,
}

/// Success envelope of `bots/preview`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct GridPreviewEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The preview.
    data: PartnerGridPreview,
}

/// `POST /bots/edit` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditBotBody {
    /// The bot's owner (else 404, code 1001).
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot (else 404, code 1002).
    #[schema(min_length = 1)]
    bot_id: String,
    /// The settings to change, merged into the stored ones. A key the script does not mark
    /// `canBeEdited` answers `settings.<key> cannot be edited` when it changes (400, code 1000).
    #[schema(value_type = Object)]
    settings: String,
}

/// `POST /bots/copy` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CopyBotBody {
    /// The user who receives the copy, on the same exchange as the bot (else 400, code 1004).
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot to copy (any of the partner's users' bots; else 404, code 1002).
    #[schema(min_length = 1)]
    bot_id: String,
    /// Make the copy a follower of the bot's root master: the master's edits reach it.
    follow_updates: bool,
    /// Settings merged over the bot's, checked like a create's; `{}` or null for none. The
    /// reference's example override `orderSize` is no spot grid setting and answers 400, code
    /// 1000, `Unknown field 'settings.orderSize'`.
    #[schema(value_type = Option<Object>, required = true)]
    settings: Option<String>,
}

/// `POST /bots/start`, `POST /bots/stop`, `POST /bots/delete`, `POST /bots/orders` and
/// `POST /bots/positions/open` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BotIdBody {
    /// One of the partner's bots: 32 hex digits (dashed accepted); a malformed or unknown id
    /// answers 404, code 1002.
    #[schema(min_length = 1)]
    bot_id: String,
}

/// `POST /bots/logs` (reference 003). Without `nextPageId` the page starts at line
/// `offset + 1`; with one, after the last line of the page it came with, and `offset` must then
/// be 0 (else 400, code 1000, `offset must be 0 when nextPageId is given`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BotLogsBody {
    /// One of the partner's bots: 32 hex digits (dashed accepted); a malformed or unknown id
    /// answers 404, code 1002.
    #[schema(min_length = 1)]
    bot_id: String,
    /// Lines in one page: -1 (the default) means 10,000, else 1 to 10,000 (0 is refused). A
    /// page also ends near 256 KiB, so it may hold fewer.
    #[schema(schema_with = page_limit)]
    limit: Option<i32>,
    /// The `nextPageId` of the previous page, as it came; absent, null or empty for the first.
    next_page_id: Option<String>,
    /// Lines to skip from the first (the page starts at line `offset + 1`; 0 when absent); 0
    /// when `nextPageId` is given.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2147483647, format = Int32)]
    offset: i32,
}

/// An open order of a hosted bot (reference 003).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerBotOrder {
    /// The runner's id of the order.
    order_id: String,
    /// The exchange's id (on `SIM`, the same as `orderId`).
    exchange_order_id: String,
    /// The position a closing order closes; `""` for an opening order.
    position_id: String,
    /// `OPEN`.
    #[schema(pattern = "^OPEN$")]
    status: String,
    /// When it was placed, unix seconds.
    timestamp: i64,
    /// `BUY` or `SELL`.
    #[schema(pattern = "^(BUY|SELL)$")]
    direction: String,
    /// `Limit` or `Market`.
    #[schema(pattern = "^(Limit|Market)$")]
    order_type: String,
    /// The order's price, quote.
    price: f64,
    /// 0 (no stop orders).
    trigger_price: f64,
    /// The average fill price if any, else `price`.
    trade_price: f64,
    /// The amount ordered, base.
    amount: f64,
    /// The amount filled, base: 0 while open (fills are whole).
    amount_filled: f64,
    /// Fees paid so far, in `feeCurrency`.
    fee_costs: f64,
    /// The quote currency.
    fee_currency: String,
    /// 0 for an open order.
    gross_profit: f64,
    /// 0 for an open order.
    roi: f64,
    /// The market's symbol.
    market: String,
    /// 1 on spot.
    leverage: u32,
    /// What the order is for: `Grid buy #5`, `Grid sell #5`, `Take profit`, `Signal #3`, ...
    note: String,
}

/// Success envelope of `bots/orders`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BotOrdersEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The open orders, oldest first.
    data: Vec<PartnerBotOrder>,
}

/// One line of a hosted bot's log (reference 003).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerBotLogLine {
    /// 1, 2, 3, ... per bot, without gaps.
    #[schema(minimum = 1)]
    line_number: i64,
    /// When it was written, unix seconds.
    timestamp: i64,
    /// The level.
    severity: crate::api::partner::backtest::schemas::LogSeverity,
    /// `rgba(r, g, b, a)` for a `custom` line, else null.
    #[schema(example = "rgba(128, 128, 128, 1.00)")]
    color: Option<String>,
    /// The text.
    message: String,
}

/// `data` of `bots/logs`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerBotLogsPage {
    /// The lines, oldest first.
    items: Vec<PartnerBotLogLine>,
    /// The token of the next page, to pass back as `nextPageId`; null on the last page.
    next_page_id: Option<String>,
}

/// Success envelope of `bots/logs`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BotLogsEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// One page.
    data: PartnerBotLogsPage,
}

/// The rule of `bots/logs` that ties two fields, which the derive cannot write: with a
/// non-empty `nextPageId`, `offset` is absent or 0.
pub struct LogsBodyRules;

impl Modify for LogsBodyRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(schemas) = openapi.components.as_mut().map(|components| &mut components.schemas) else { return };
        let Some(RefOr::T(Schema::Object(mut body))) = schemas.get("BotLogsBody").cloned() else { return };
        let rule = serde_json::json!({
            "if": {"properties": {"nextPageId": {"type": "string", "minLength": 1}}, "required": ["nextPageId"]},
            "then": {"properties": {"offset": {"const": 0}}}
        });
        // `if` / `then` are keywords utoipa's model has no field for (as in `TransactionRules`).
        body.extensions.get_or_insert_with(Default::default).insert("allOf".into(), serde_json::json!([rule]));
        schemas.insert("BotLogsBody".into(), RefOr::T(Schema::Object(body)));
    }
}

/// `POST /bots/positions/closed` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClosedPositionsBody {
    /// One of the partner's bots: 32 hex digits (dashed accepted); a malformed or unknown id
    /// answers 404, code 1002.
    #[schema(min_length = 1)]
    bot_id: String,
    /// Positions in one page: -1 (the default) means 10,000, else 1 to 10,000 (0 is refused). A
    /// page also ends near 256 KiB, so it may hold fewer.
    #[schema(schema_with = page_limit)]
    limit: Option<i32>,
    /// The `nextPageId` of the previous page, as it came; absent, null or empty for the first.
    next_page_id: Option<String>,
}

/// `POST /bots/positions/orders` (reference 003).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PositionOrdersBody {
    /// One of the partner's bots: 32 hex digits (dashed accepted); a malformed or unknown id
    /// answers 404, code 1002.
    #[schema(min_length = 1)]
    bot_id: String,
    /// One of the bot's positions, as `bots/positions/open` or `.../closed` show it (32 hex
    /// digits); an id that names none of the bot's positions, a malformed one too, answers 404,
    /// code 1012.
    #[schema(min_length = 1)]
    position_id: String,
}

/// A position of a hosted bot (reference 003), open or closed.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerBotPosition {
    /// The position's id: 32 hex digits, opaque.
    position_id: String,
    /// `OPEN` or `CLOSED`.
    #[schema(pattern = "^(OPEN|CLOSED)$")]
    status: String,
    /// When it was opened, unix seconds (as `openTime`).
    timestamp: i64,
    /// `LONG` or `SHORT` (on spot, `LONG`).
    #[schema(pattern = "^(LONG|SHORT)$")]
    direction: String,
    /// The average entry price, quote.
    enter_price: f64,
    /// The average exit price, quote; null before any exit.
    #[schema(required = true)]
    exit_price: Option<f64>,
    /// While open, the amount still open; once closed, the amount entered (base).
    amount: f64,
    /// `amount` and the base currency: `0.05 BTC`.
    amount_label: String,
    /// The profit of the open amount at the runner's latest price, quote; 0 once closed.
    unrealized_profit: f64,
    /// GROSS realized profit, quote: `(exit − entry) × amount exited` (the opposite for a
    /// short), before fees, which are in `feeCosts`. Unlike the bot's `profit` (net of fees) and
    /// a backtest position's `rp`.
    realized_profit: f64,
    /// `realizedProfit` at the quote currency's display decimals and the quote: `50.00 USDT`,
    /// `0.00 USDT` before any exit.
    profit_label: String,
    /// `realizedProfit` over the entry notional / leverage, in percent, 2 decimals.
    roi: f64,
    /// The fees of the position's fills, quote.
    fee_costs: f64,
    /// The market's symbol.
    market: String,
    /// 1 on spot.
    leverage: u32,
    /// When it was opened, unix seconds.
    open_time: i64,
    /// When it was closed, unix seconds; 0 while open.
    close_time: i64,
    /// Its filled orders.
    order_count: u32,
}

/// Success envelope of `bots/positions/open`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OpenPositionsEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The open positions, oldest first.
    data: Vec<PartnerBotPosition>,
}

/// `data` of `bots/positions/closed`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerClosedPositionsPage {
    /// The closed positions, newest first.
    items: Vec<PartnerBotPosition>,
    /// The token of the next page, to pass back as `nextPageId`; null on the last page.
    next_page_id: Option<String>,
}

/// Success envelope of `bots/positions/closed`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClosedPositionsEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// One page.
    data: PartnerClosedPositionsPage,
}

/// A fill of a position (reference 003): an entry or an exit.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerPositionOrder {
    /// The order's id (as `bots/orders` showed it while open).
    order_id: String,
    /// When it was filled, unix seconds.
    timestamp: i64,
    /// `BUY` or `SELL`.
    #[schema(pattern = "^(BUY|SELL)$")]
    direction: String,
    /// `Limit` or `Market`.
    #[schema(pattern = "^(Limit|Market)$")]
    order_type: String,
    /// The fill price, quote.
    price: f64,
    /// The amount that went to this position, base.
    amount: f64,
    /// Its fee, in `feeCurrency`.
    fee_costs: f64,
    /// The quote currency.
    fee_currency: String,
    /// 0 on an entry; on an exit, the GROSS profit of its share (before fees), quote.
    profit: f64,
    /// 0 on an entry; on an exit, `profit` over its share's entry notional, in percent.
    roi: f64,
    /// What the order was for: `Grid buy #5`, `Grid sell #5`, `Take profit`, `Signal #3`, ...
    note: String,
}

/// `data` of `bots/positions/orders`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerPositionOrders {
    /// The position.
    position_id: String,
    /// Its entry fills, in order.
    enter_orders: Vec<PartnerPositionOrder>,
    /// Its exit fills, in order (`[]` before any exit).
    exit_orders: Vec<PartnerPositionOrder>,
}

/// Success envelope of `bots/positions/orders`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PositionOrdersEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The position's fills.
    data: PartnerPositionOrders,
}

/// A hosted bot's desired state.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BotStatus {
    /// Trading.
    Running,
    /// Not trading; positions and history kept.
    Stopped,
}

/// A hosted bot (reference 003).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerHostedBot {
    /// The owner.
    #[schema(format = Uuid)]
    user_id: String,
    /// The bot's id: 32 lowercase hex digits.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    bot_id: String,
    /// `running` or `stopped`.
    status: BotStatus,
    /// The root master's `botId` when the bot follows one, else `""`.
    #[schema(pattern = "^([0-9a-f]{32})?$")]
    master_bot_id: String,
    /// When it was created, unix seconds.
    created_at: i64,
    /// The bot type.
    #[serde(rename = "type")]
    script_type: ScriptType,
    /// The exchange of `settings.symbol`'s market.
    exchange_id: String,
    /// Every setting of the type, defaults filled in, numbers as JSON numbers.
    #[schema(value_type = Object)]
    settings: String,
    /// Realized profit net of fees, in the quote currency (0 until live trading lands).
    profit: f64,
    /// `profit` over the starting equity, in percent (0 until live trading lands).
    roi: f64,
    /// Copies ever made of it.
    cloned: i64,
    /// Live bots that follow it.
    followers: i64,
}

/// `data` of `bots/list` and `bots/user`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerHostedBotsPage {
    /// The bots, newest first.
    items: Vec<PartnerHostedBot>,
    /// The token of the next page, to pass back as `nextPageId`; null on the last page.
    next_page_id: Option<String>,
}

/// Success envelope of `bots/list` and `bots/user`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BotsPageEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// One page.
    data: PartnerHostedBotsPage,
}

/// Success envelope of `bots/get`, `bots/create` and `bots/copy`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BotEnvelope {
    /// `true`.
    is_success: bool,
    /// 0.
    code: u16,
    /// Empty.
    message: String,
    /// The bot.
    data: PartnerHostedBot,
}

/// The example bot's settings, as the ledger fills them in.
fn settings() -> serde_json::Value {
    serde_json::json!({
        "symbol": "SIM_BTC_USDT_", "lowerLimit": 28000, "upperLimit": 31000, "gridMode": "Arithmetic",
        "gridCount": 30, "investmentAsset": "Quote", "investmentAmount": 9900, "tradeToFillGrid": false,
        "startCondition": "Instant", "startType": "Above value", "startValue": 0, "stopCondition": "Manual",
        "stopType": "Above value", "stopValue": 0, "stopExit": false
    })
}

/// The example bot.
fn bot() -> serde_json::Value {
    serde_json::json!({
        "userId": "f873b314-f165-45a0-b658-d15ff37d529a", "botId": "7d7e643ac399492c8adf1add09316abb",
        "status": "running", "masterBotId": "", "createdAt": 1766070000, "type": "spot_grid", "exchangeId": "SIM",
        "settings": settings(), "profit": 0, "roi": 0, "cloned": 1, "followers": 1
    })
}

/// The body of the `bots/create` example (the reference's).
pub fn create_body_example() -> serde_json::Value {
    serde_json::json!({"userId": "f873b314-f165-45a0-b658-d15ff37d529a", "type": "spot_grid", "settings": settings(),
        "masterBotId": null})
}

/// A reply of `bots/get` and `bots/create`.
pub fn bot_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": bot()})
}

/// A reply of `bots/copy` with `followUpdates` and `{"investmentAmount": 5000}`.
pub fn copy_example() -> serde_json::Value {
    let mut copy = bot();
    copy["userId"] = "696c712e-346b-4631-9df8-38fe59211493".into();
    copy["botId"] = "0c5b9a4e1f2d4c3b8a7e6d5c4b3a2910".into();
    copy["masterBotId"] = "7d7e643ac399492c8adf1add09316abb".into();
    copy["createdAt"] = 1766070600.into();
    copy["settings"]["investmentAmount"] = 5000.into();
    copy["cloned"] = 0.into();
    copy["followers"] = 0.into();
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": copy})
}

/// A reply of `bots/list`.
pub fn bots_page_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "",
        "data": {"items": [bot()], "nextPageId": "MTc2NjA3MDAwMDAwMDAwMF83ZDdlNjQzYS1jMzk5LTQ5MmMtOGFkZi0xYWRkMDkzMTZhYmI"}})
}

/// The body of the `bots/preview` example: a spot grid 100–140 in 4 grids with 1,000 USDT.
pub fn preview_body_example() -> serde_json::Value {
    serde_json::json!({"userId": "f873b314-f165-45a0-b658-d15ff37d529a", "exchangeId": "SIM", "type": "spot_grid",
        "settings": {"symbol": "SIM_BTC_USDT_", "lowerLimit": 100, "upperLimit": 140, "gridCount": 4,
            "investmentAsset": "Quote", "investmentAmount": 1000, "tradeToFillGrid": true}})
}

/// The reply to the `bots/preview` example at a latest price of 125 (2 price and 5 amount
/// decimals, fees 0.1 %): levels 100, 110, 120, 130, 140, 250 USDT each. Level 3 (130 ≥ 125)
/// is bought at market, 1.92307 at 125, and rests its sell at 140; the levels below get buys,
/// nearest first. crates/engine's preview test works the figures by hand.
pub fn preview_example() -> serde_json::Value {
    use serde_json::{Value, json};
    // Numbers as the runner writes them: `140`, never `140.0`.
    fn order(level: u32, direction: &str, price: Value, amount: Value) -> Value {
        json!({"level": level, "direction": direction, "price": price, "amount": amount})
    }
    json!({"isSuccess": true, "code": 0, "message": "", "data": {
        "price": 125,
        "orders": [
            order(3, "SELL", json!(140), json!(1.92307)),
            order(2, "BUY", json!(120), json!(2.08333)),
            order(1, "BUY", json!(110), json!(2.27272)),
            order(0, "BUY", json!(100), json!(2.5)),
        ],
        "amountPerGrid": 250,
        "profitPerGrid": {"min": 7.4846, "max": 9.79},
        "requiredQuote": 991.37293255,
        "requiredBase": 1.92307,
        "estimatedFees": 1.0192286,
        "warnings": []
    }})
}

/// A reply of `bots/orders`: a grid's buy below the price and, for a filled one, its sell.
pub fn orders_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": [
        {"orderId": "0190d5f0a1b27c3d8e4f5a6b7c8d9e0f", "exchangeOrderId": "0190d5f0a1b27c3d8e4f5a6b7c8d9e0f",
         "positionId": "", "status": "OPEN", "timestamp": 1766070000, "direction": "BUY", "orderType": "Limit",
         "price": 42500.5, "triggerPrice": 0, "tradePrice": 42500.5, "amount": 0.1, "amountFilled": 0,
         "feeCosts": 0, "feeCurrency": "USDT", "grossProfit": 0, "roi": 0, "market": "SIM_BTC_USDT_", "leverage": 1,
         "note": "Grid buy #5"},
        {"orderId": "0190d5f8c3e47a1b9c2d3e4f5a6b7c8d", "exchangeOrderId": "0190d5f8c3e47a1b9c2d3e4f5a6b7c8d",
         "positionId": "0190d5f4b2c36d7e8f9a0b1c2d3e4f5a", "status": "OPEN", "timestamp": 1766073600,
         "direction": "SELL", "orderType": "Limit", "price": 43000, "triggerPrice": 0, "tradePrice": 43000,
         "amount": 0.05, "amountFilled": 0, "feeCosts": 0, "feeCurrency": "USDT", "grossProfit": 0, "roi": 0,
         "market": "SIM_BTC_USDT_", "leverage": 1, "note": "Grid sell #5"}
    ]})
}

/// A reply of `bots/logs` with `limit` 5, more lines remaining.
pub fn logs_example() -> serde_json::Value {
    let line = |number: i64, timestamp: i64, severity: &str, message: &str| {
        serde_json::json!({"lineNumber": number, "timestamp": timestamp, "severity": severity, "color": null,
            "message": message})
    };
    let mut custom = line(5, 1766070125, "custom", "Round initialized.");
    custom["color"] = "rgba(128, 128, 128, 1.00)".into();
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": {"items": [
        line(1, 1766070000, "info", "Bot created"),
        line(2, 1766070000, "info", "Bot started"),
        line(3, 1766070060, "trade", "Placed BUY order at 42500.50 for 0.1 BTC"),
        line(4, 1766070120, "warning", "No quotes for SIM_BTC_USDT_ for 10 s: market data is stale"),
        custom,
    ], "nextPageId": "NQ"}})
}

/// A reply of `bots/positions/open`: two positions on `SIM_BTC_USDT_` at a latest price of
/// 42800.5 (the first is the one the `bots/orders` example's sell closes; fees 0.1 %).
pub fn open_positions_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": [
        {"positionId": "0190d5f4b2c36d7e8f9a0b1c2d3e4f5a", "status": "OPEN", "timestamp": 1766070000,
         "direction": "LONG", "enterPrice": 42500.5, "exitPrice": null, "amount": 0.05, "amountLabel": "0.05 BTC",
         "unrealizedProfit": 15, "realizedProfit": 0, "profitLabel": "0.00 USDT", "roi": 0, "feeCosts": 2.125025,
         "market": "SIM_BTC_USDT_", "leverage": 1, "openTime": 1766070000, "closeTime": 0, "orderCount": 1},
        {"positionId": "0190d5f6d4e58f9a0b1c2d3e4f5a6b7c", "status": "OPEN", "timestamp": 1766073600,
         "direction": "LONG", "enterPrice": 43000, "exitPrice": null, "amount": 0.03, "amountLabel": "0.03 BTC",
         "unrealizedProfit": -5.985, "realizedProfit": 0, "profitLabel": "0.00 USDT", "roi": 0, "feeCosts": 1.29,
         "market": "SIM_BTC_USDT_", "leverage": 1, "openTime": 1766073600, "closeTime": 0, "orderCount": 1}
    ]})
}

/// A reply of `bots/positions/closed` with `limit` 2, more positions remaining: `nextPageId`
/// points after the last one (closed at 1766024000, the engine's position 3).
pub fn closed_positions_example() -> serde_json::Value {
    let next = crate::api::partner::paging::ClosedPositionCursor { close_time: 1766024000, position: 3 }.encode();
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": {"items": [
        {"positionId": "0190d5e2a1b2c3d4e5f60718293a4b5c", "status": "CLOSED", "timestamp": 1766024000,
         "direction": "LONG", "enterPrice": 42000, "exitPrice": 42500, "amount": 0.1, "amountLabel": "0.1 BTC",
         "unrealizedProfit": 0, "realizedProfit": 50, "profitLabel": "50.00 USDT", "roi": 1.19, "feeCosts": 8.45,
         "market": "SIM_BTC_USDT_", "leverage": 1, "openTime": 1766024000, "closeTime": 1766067200, "orderCount": 2},
        {"positionId": "0190d5d8f0e1d2c3b4a5968778695a4b", "status": "CLOSED", "timestamp": 1765980800,
         "direction": "LONG", "enterPrice": 42700, "exitPrice": 43000, "amount": 0.05, "amountLabel": "0.05 BTC",
         "unrealizedProfit": 0, "realizedProfit": 15, "profitLabel": "15.00 USDT", "roi": 0.7, "feeCosts": 4.285,
         "market": "SIM_BTC_USDT_", "leverage": 1, "openTime": 1765980800, "closeTime": 1766024000, "orderCount": 2}
    ], "nextPageId": next}})
}

/// A reply of `bots/positions/orders` for the first position of the closed example: its gross
/// profit of 50 USDT is the exit's; the fees, 4.2 + 4.25, are the position's `feeCosts`.
pub fn position_orders_example() -> serde_json::Value {
    serde_json::json!({"isSuccess": true, "code": 0, "message": "", "data": {
        "positionId": "0190d5e2a1b2c3d4e5f60718293a4b5c",
        "enterOrders": [
            {"orderId": "0190d5e2a0f1e2d3c4b5a69788796a5b", "timestamp": 1766024000, "direction": "BUY",
             "orderType": "Limit", "price": 42000, "amount": 0.1, "feeCosts": 4.2, "feeCurrency": "USDT", "profit": 0,
             "roi": 0, "note": "Grid buy #3"}
        ],
        "exitOrders": [
            {"orderId": "0190d5e4c3d2e1f0a9b8c7d6e5f4a3b2", "timestamp": 1766067200, "direction": "SELL",
             "orderType": "Limit", "price": 42500, "amount": 0.1, "feeCosts": 4.25, "feeCurrency": "USDT",
             "profit": 50, "roi": 1.19, "note": "Grid sell #3"}
        ]
    }})
}

/// The shared part: 401, 413, 500, 503 (the ledger), 504, and the route's own.
fn bot_errors(extra: &[(&str, RefOr<Response>)]) -> BTreeMap<String, RefOr<Response>> {
    let mut responses = errors(&[401, 413, 500]);
    responses.insert("503".into(), described("Code 9503: the ledger is unavailable", &[9503]));
    for (status, response) in extra {
        responses.insert((*status).to_string(), response.clone());
    }
    responses
}

fn shape(fields: &str) -> RefOr<Response> {
    described(
        &format!(
            "Code 1000: invalid JSON, an unknown field, or {fields}; the message names the field (a refusal of the \
             ledger too)"
        ),
        &[1000],
    )
}

fn unknown_user_or_bot() -> RefOr<Response> {
    described(
        "Code 1001: unknown user (another partner's, or an id that is not a UUID, too), checked first; code 1002: \
         unknown bot (another partner's, another user's, or a malformed id, too), `Bot '<id>' not found`",
        &[1001, 1002],
    )
}

fn unknown_bot() -> RefOr<Response> {
    described("Code 1002: unknown bot (another partner's, or a malformed id, too), `Bot '<id>' not found`", &[1002])
}

fn in_progress(what: &str) -> RefOr<Response> {
    described(&format!("Code 1003: {what}a request with this Idempotency-Key is still being processed"), &[1003])
}

fn reused() -> RefOr<Response> {
    described("Code 1011: Idempotency-Key reused with another body", &[1011])
}

/// Errors of `bots/list`.
pub struct ListErrors;

impl IntoResponses for ListErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[(
            "400",
            described(
                "Code 1000: invalid JSON, an unknown field, a `limit` that is not -1 or 1 to 10000, or a \
                 `nextPageId` that is not a token the API handed out",
                &[1000],
            ),
        )])
    }
}

/// Errors of `bots/user`.
pub struct UserListErrors;

impl IntoResponses for UserListErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                described(
                    "Code 1000: invalid JSON, an unknown field, `userId` missing or not a string, a `limit` that \
                     is not -1 or 1 to 10000, or a `nextPageId` that is not a token the API handed out",
                    &[1000],
                ),
            ),
            (
                "404",
                described(
                    "Code 1001: unknown user (another partner's user, or an id that is not a UUID, too)",
                    &[1001],
                ),
            ),
        ])
    }
}

/// Errors of `bots/get`.
pub struct GetErrors;

impl IntoResponses for GetErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[("400", shape("`userId` or `botId` missing or not a string")), ("404", unknown_user_or_bot())])
    }
}

/// Errors of `bots/create`.
pub struct CreateErrors;

impl IntoResponses for CreateErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                described(
                    "Code 1000: validation failed, the message names the field: `type must be one of ...`, \
                     `settings is required and must be an object`, `Unknown field 'settings.x'`, \
                     `settings.<key>: <reason>`, `settings.symbol: unknown market 'X'`, `settings.signalToken is \
                     required`, `settings.signals: a backtest-only setting`, `masterBotId: type differs`, \
                     `exchangeId: bots cannot run on exchange 'X' (no trading adapter)`; code 1004: the market's \
                     exchange is not the user's (`exchangeId '<X>' is not the exchange of user '<id>' ...`)",
                    &[1000, 1004],
                ),
            ),
            (
                "404",
                described(
                    "Code 1001: unknown user (another partner's, or an id that is not a UUID, too); code 1002: an \
                     unknown `masterBotId`",
                    &[1001, 1002],
                ),
            ),
            ("409", in_progress("")),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/edit`.
pub struct EditErrors;

impl IntoResponses for EditErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                shape(
                    "`userId`, `botId` or `settings` missing or of another type; `Unknown field 'settings.x'`, \
                     `settings.<key> cannot be edited`, `settings.<key>: <reason>`",
                ),
            ),
            ("404", unknown_user_or_bot()),
            (
                "409",
                described(
                    "Code 1008: `Bot '<id>' follows a master bot and cannot be edited directly` (edit the master); \
                     code 1003: a request with this Idempotency-Key is still being processed",
                    &[1003, 1008],
                ),
            ),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/copy`.
pub struct CopyErrors;

impl IntoResponses for CopyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                described(
                    "Code 1000: invalid JSON, an unknown field, `userId` or `botId` missing or not a string, \
                     `followUpdates` missing or not a boolean, `settings` missing or neither an object nor null, or \
                     settings the ledger refuses as on a create (`Unknown field 'settings.orderSize'`); code 1004: \
                     the user is not on the bot's exchange",
                    &[1000, 1004],
                ),
            ),
            ("404", unknown_user_or_bot()),
            ("409", in_progress("")),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/start`.
pub struct StartErrors;

impl IntoResponses for StartErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            (
                "400",
                shape(
                    "`botId` missing or not a string; `exchangeId: bots cannot run on exchange 'X' (no trading \
                     adapter)`",
                ),
            ),
            ("404", unknown_bot()),
            ("409", in_progress("`Bot '<id>' is already running`; ")),
            ("422", reused()),
        ])
    }
}

/// Errors of `bots/stop`.
pub struct StopErrors;

impl IntoResponses for StopErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            ("400", shape("`botId` missing or not a string")),
            ("404", unknown_bot()),
            ("409", in_progress("`Bot '<id>' is already stopped`; ")),
            ("422", reused()),
        ])
    }
}

/// The errors of a route that asks the ledger whether the bot is the partner's, then the
/// runner: the shared ones, the route's 400 and 404, and a 503 that names either backend.
fn runtime_errors(bad_request: RefOr<Response>, not_found: RefOr<Response>) -> BTreeMap<String, RefOr<Response>> {
    let unavailable = described("Code 9503: the ledger or the live-session-runner is unavailable", &[9503]);
    bot_errors(&[("400", bad_request), ("404", not_found), ("503", unavailable)])
}

/// The 400 of a paged runtime route, whose body has `botId`, `limit` and `nextPageId`, and
/// maybe more (`rest`, worded from "a `nextPageId` that is not a token ...").
fn paged_shape(rest: &str) -> RefOr<Response> {
    described(
        &format!(
            "Code 1000: invalid JSON, an unknown field, `botId` missing or not a string, a `limit` that is not -1 \
             or 1 to 10000 (`limit must be -1 or between 1 and 10000`), {rest}"
        ),
        &[1000],
    )
}

/// Errors of `bots/orders`.
pub struct OrdersErrors;

impl IntoResponses for OrdersErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        runtime_errors(shape("`botId` missing or not a string"), unknown_bot())
    }
}

/// Errors of `bots/positions/open`: those of `bots/orders`, whose body and questions it shares.
pub type OpenPositionsErrors = OrdersErrors;

/// Errors of `bots/logs`.
pub struct LogsErrors;

impl IntoResponses for LogsErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_request = paged_shape(
            "a `nextPageId` that is not a token the API handed out (`nextPageId is not a valid page token`), an \
             `offset` that is not an integer from 0 (`offset must be an integer between 0 and 2147483647`), or a \
             non-zero `offset` with a `nextPageId` (`offset must be 0 when nextPageId is given`)",
        );
        runtime_errors(bad_request, unknown_bot())
    }
}

/// Errors of `bots/positions/closed`.
pub struct ClosedPositionsErrors;

impl IntoResponses for ClosedPositionsErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_request = paged_shape(
            "or a `nextPageId` that is not a token this route handed out (`nextPageId is not a valid page token`)",
        );
        runtime_errors(bad_request, unknown_bot())
    }
}

/// Errors of `bots/positions/orders`.
pub struct PositionOrdersErrors;

impl IntoResponses for PositionOrdersErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let not_found = described(
            "Code 1002: unknown bot (another partner's, or a malformed id, too), `Bot '<id>' not found`, checked \
             first; code 1012: unknown position (not one of the bot's, or a malformed id, too), `Position '<id>' \
             not found`",
            &[1002, 1012],
        );
        runtime_errors(shape("`botId` or `positionId` missing or not a string"), not_found)
    }
}

/// Errors of `bots/preview`.
pub struct PreviewErrors;

impl IntoResponses for PreviewErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let bad_request = described(
            "Code 1000: invalid JSON, an unknown field, `userId` or `exchangeId` missing or not a string, a `type` \
             that is none of the five script types (`type must be one of ...`), `settings` missing or not an object \
             (`settings is required and must be an object`), or settings the ledger refuses as on a create \
             (`settings.symbol: unknown market 'X'`, `settings.symbol: market 'X' is not on exchange 'Y'`, \
             `Unknown field 'settings.x'`, `settings.<key>: <reason>`, `exchangeId: bots cannot run on exchange \
             'X' (no trading adapter)`); code 1004: `exchangeId` (or the market's exchange) is not an exchange \
             the user has an account on; code 1005: a type without a preview (`spot_dollar_cost_averaging`, \
             `futures_dollar_cost_averaging`, `webhook`), `Preview is only available for grid bots (spot_grid, \
             futures_grid), not <type>`, checked after the body's shape and before the user",
            &[1000, 1004, 1005],
        );
        let not_found =
            described("Code 1001: unknown user (another partner's, or an id that is not a UUID, too)", &[1001]);
        let no_price = described(
            "Code 1007: the live-session-runner has heard no quote of the market yet, `No current price for \
             <SYMBOL>`",
            &[1007],
        );
        let unavailable = described("Code 9503: the ledger or the live-session-runner is unavailable", &[9503]);
        bot_errors(&[("400", bad_request), ("404", not_found), ("422", no_price), ("503", unavailable)])
    }
}

/// Errors of `bots/delete`.
pub struct DeleteErrors;

impl IntoResponses for DeleteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        bot_errors(&[
            ("400", shape("`botId` missing or not a string")),
            ("404", unknown_bot()),
            ("409", in_progress("")),
            ("422", reused()),
        ])
    }
}
