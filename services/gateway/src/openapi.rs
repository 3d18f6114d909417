//! The OpenAPI document. Every route registered in [`crate::api::register`] must be listed
//! here; a test compares the two.

use crate::api::bot::docs::TransactionRules;
use crate::api::common_responses::CommonResponses;
use crate::api::partner::docs::bots::LogsBodyRules;
use crate::api::{bot, common_responses, docs, ops, partner};
use utoipa::openapi::path::{HttpMethod, OperationBuilder};
use utoipa::openapi::{Content, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The gateway's API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Trading-bot platform gateway",
        description = "Bot API (`/api/bots/{slug}/...`), Partner API (`/partner/v1/...`) and User API \
                       (root paths) over one set of records. Errors keep each family's shape: \
                       Bot API `{error, code}`, Partner API `{isSuccess, code, message, data}`, \
                       User API `{error, message}`. A backend that does not answer gives 503; a body \
                       above 512 KiB gives 413; a method a path does not have gives 405 with `Allow`; \
                       a key (or, without one, a client IP) over its family's rate limit gives 429 \
                       with `Retry-After`."
    ),
    paths(
        ops::health,
        ops::ready,
        ops::status,
        docs::openapi_json,
        docs::docs_redirect,
        bot::get_bot,
        bot::create_participations,
        bot::upsert_states,
        bot::list_states,
        bot::trades::create_trade,
        bot::trades::list_trades,
        bot::trades::get_trade,
        bot::trades::update_trade,
        bot::trades::add_transactions,
        bot::trades::update_transaction,
        bot::trades::trade_participations,
        bot::trades::list_transactions,
        partner::backtest::start,
        partner::backtest::status,
        partner::backtest::results,
        partner::backtest::logs,
        partner::backtest::positions,
        partner::backtest::cancel,
        partner::backtest::equity_svg,
        partner::bots::list,
        partner::bots::user,
        partner::bots::get,
        partner::bots::create,
        partner::bots::edit,
        partner::bots::copy,
        partner::bots::start,
        partner::bots::stop,
        partner::bots::delete,
        partner::bots::preview::preview,
        partner::bots::runtime::orders,
        partner::bots::runtime::logs,
        partner::bots::runtime::open_positions,
        partner::bots::runtime::closed_positions,
        partner::bots::runtime::position_orders,
        partner::reference::exchanges,
        partner::reference::markets,
        partner::reference::scripts,
        partner::reference::script,
        partner::users::list,
        partner::users::get,
        partner::users::create,
        partner::users::delete,
        partner::signals::send,
        partner::signals::get
    ),
    components(schemas(
        ops::SimpleStatus,
        ops::StatusReport,
        ops::ServiceStatus,
        bot::docs::ErrorBody,
        bot::docs::MessageBody,
        common_responses::UserErrorBody,
        partner::docs::PartnerErrorEnvelope,
        partner::docs::StartBacktestBody,
        partner::docs::BacktestStartedData,
        partner::docs::StartedEnvelope,
        partner::docs::BacktestStatusData,
        partner::docs::StatusEnvelope,
        partner::docs::ResultsEnvelope,
        partner::backtest::schemas::LogsEnvelope,
        partner::backtest::schemas::BacktestLogLine,
        partner::backtest::schemas::LogSeverity,
        partner::backtest::schemas::PositionsEnvelope,
        partner::backtest::schemas::BacktestPosition,
        partner::backtest::schemas::BacktestPositionOrder,
        partner::docs::BoolEnvelope,
        partner::docs::reference::PartnerExchange,
        partner::docs::reference::ExchangesEnvelope,
        partner::docs::reference::PartnerMarket,
        partner::docs::reference::MarketsEnvelope,
        partner::docs::reference::ScriptBody,
        partner::docs::reference::SettingType,
        partner::docs::reference::PartnerScriptSetting,
        partner::docs::reference::PartnerScript,
        partner::docs::reference::ScriptsEnvelope,
        partner::docs::reference::ScriptEnvelope,
        partner::docs::users::ListUsersBody,
        partner::docs::users::PartnerUserData,
        partner::docs::users::PartnerUsersPage,
        partner::docs::users::UsersPageEnvelope,
        partner::docs::users::UserEnvelope,
        partner::docs::users::UserIdBody,
        partner::docs::users::CreateUserBody,
        partner::docs::users::UserIdEnvelope,
        partner::docs::bots::ListBotsBody,
        partner::docs::bots::UserBotsBody,
        partner::docs::bots::BotRefBody,
        partner::docs::bots::CreateBotBody,
        partner::docs::bots::EditBotBody,
        partner::docs::bots::CopyBotBody,
        partner::docs::bots::BotIdBody,
        partner::docs::bots::BotStatus,
        partner::docs::bots::PartnerHostedBot,
        partner::docs::bots::PartnerHostedBotsPage,
        partner::docs::bots::BotsPageEnvelope,
        partner::docs::bots::BotEnvelope,
        partner::docs::bots::BotLogsBody,
        partner::docs::bots::PartnerBotOrder,
        partner::docs::bots::BotOrdersEnvelope,
        partner::docs::bots::PartnerBotLogLine,
        partner::docs::bots::PartnerBotLogsPage,
        partner::docs::bots::BotLogsEnvelope,
        partner::docs::bots::ClosedPositionsBody,
        partner::docs::bots::PositionOrdersBody,
        partner::docs::bots::PartnerBotPosition,
        partner::docs::bots::OpenPositionsEnvelope,
        partner::docs::bots::PartnerClosedPositionsPage,
        partner::docs::bots::ClosedPositionsEnvelope,
        partner::docs::bots::PartnerPositionOrder,
        partner::docs::bots::PartnerPositionOrders,
        partner::docs::bots::PositionOrdersEnvelope,
        partner::docs::bots::PreviewBotBody,
        partner::docs::bots::GridScriptType,
        partner::docs::bots::PartnerGridPreviewOrder,
        partner::docs::bots::PartnerProfitRange,
        partner::docs::bots::PartnerGridPreview,
        partner::docs::bots::GridPreviewEnvelope
    )),
    modifiers(&DocsAssets, &CommonResponses, &TransactionRules, &LogsBodyRules),
    tags(
        (name = "operations", description = "Health, readiness, service status and documentation"),
        (name = "bot-api", description = "External bots report trades, participations and state (`x-api-key`: the bot's key)"),
        (name = "partner-api", description = "White-label partners: users, hosted bots, exchanges, markets, scripts and backtests (`x-api-key`: the partner's key; envelope `{isSuccess, code, message, data}`)")
    )
)]
pub struct ApiDoc;

/// The document as `/openapi.json` serves it: built and serialized once, at start.
pub fn document_json() -> serde_json::Result<String> {
    serde_json::to_string(&ApiDoc::openapi())
}

/// Documents the Swagger UI asset route, which is served by a ready-made service rather than
/// an annotated handler.
struct DocsAssets;

impl Modify for DocsAssets {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operation = OperationBuilder::new()
            .tag("operations")
            .summary(Some("Swagger UI page and assets"))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("An HTML, JavaScript or CSS file of the docs UI")
                    .content("text/html", Content::default()),
            )
            .build();
        openapi.paths.add_path_operation("/docs/{file}", vec![HttpMethod::Get], operation);
    }
}
