//! `trade-ledger admin ...`: create the records a demo or a test needs, and revoke keys. Each
//! command runs in one transaction and prints one JSON object, so scripts (`just seed`) can
//! read it. Keys are printed once and never stored in clear; a key is named afterwards only by
//! its public lookup prefix. `outbox-dead` and `outbox-retry` look after the outbox rows the
//! relay gave up on.

use crate::domain::{catalogue, keys};
use crate::store::catalogue::Exchange;
use crate::store::records::{self, KeyOwner, Ticker};
use crate::store::{self, is_unique_violation};
use anyhow::{Context, bail};
use clap::Subcommand;
use diesel::result::DatabaseErrorKind;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::calendar::Calendar;
use domain::{BotId, BrokerAccountId, EventId, PartnerId, TickerId, UserId};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// The admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a partner and its API key → `{partnerId, apiKey}`.
    CreatePartner {
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// Create a user and their API token → `{userId, token}`.
    CreateUser {
        /// The partner the user belongs to (omit for a direct user).
        #[arg(long)]
        partner: Option<PartnerId>,
        /// E-mail, unique per partner.
        #[arg(long)]
        email: String,
    },
    /// Register a user's broker account → `{brokerAccountId}`. Credentials go to the fetcher.
    CreateBrokerAccount {
        /// The owner.
        #[arg(long)]
        user: UserId,
        /// Broker code (`TRADIER`, `SIM`).
        #[arg(long)]
        broker: String,
        /// The account number at the broker.
        #[arg(long)]
        account_number: String,
    },
    /// Add an exchange to the market catalogue → `{exchangeId}`. Its markets are listed by
    /// `GET /partner/v1/markets` while it is enabled, open by its calendar.
    CreateExchange {
        /// Its id (`BITMEX`): 1 to 64 letters, digits, `_` or `-`.
        #[arg(long)]
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// It trades spot markets.
        #[arg(long)]
        spot: bool,
        /// It trades leveraged markets.
        #[arg(long)]
        leverage: bool,
        /// When its markets trade: `{"kind":"always_open"}` (the default) or
        /// `{"kind":"weekly","tz":"America/New_York","open":"09:30","close":"16:00","days":[1,2,3,4,5]}`.
        #[arg(long)]
        calendar: Option<String>,
        /// Not listed, and no new users on it.
        #[arg(long)]
        disabled: bool,
        /// Bots can trade on it.
        #[arg(long)]
        has_adapter: bool,
    },
    /// Add a ticker to the market catalogue → `{tickerId}`. Its currencies come from the symbol
    /// (`<EXCHANGE>_<BASE>_<QUOTE>_<CONTRACT>`; any other symbol is its own base, in USD), its
    /// spot and leverage flags from its exchange.
    CreateTicker {
        /// Unique symbol (`AAPL`, `SIM_BTC_USDT_`).
        #[arg(long)]
        symbol: String,
        /// `stock`, `option`, `crypto`, ...
        #[arg(long)]
        asset_type: String,
        /// Exchange id.
        #[arg(long)]
        exchange: Option<String>,
        /// Decimals of prices.
        #[arg(long, default_value_t = 2)]
        price_decimals: i16,
        /// Decimals of amounts.
        #[arg(long, default_value_t = 8)]
        amount_decimals: i16,
        /// Smallest order amount.
        #[arg(long)]
        min_amount: Option<Decimal>,
    },
    /// Create an external bot and its API key → `{botId, slug, apiKey}`.
    CreateBot {
        /// Unique slug (`/^[a-zA-Z0-9_-]+$/`).
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The owning user.
        #[arg(long)]
        owner: Option<UserId>,
    },
    /// Make a broker account follow a bot for a ticker → `{}`.
    Follow {
        /// The bot's id or slug.
        #[arg(long)]
        bot: String,
        /// The broker account's id.
        #[arg(long)]
        broker_account: BrokerAccountId,
        /// The ticker's id or symbol.
        #[arg(long)]
        ticker: String,
        /// Units per signal.
        #[arg(long, default_value = "1")]
        quantity: Decimal,
    },
    /// Print every ledger trade of a bot (hosted bots have no Bot API key), newest first, each
    /// with its transactions → `{botId, trades: [...]}` in the Bot API's trade shape.
    BotTrades {
        /// The bot's id (32 hex digits or dashed) or an external bot's slug.
        #[arg(long)]
        bot: String,
    },
    /// Revoke an API key or token at once and for good →
    /// `{lookupPrefix, ownerKind, ownerId, revokedAt, alreadyRevoked}`. Revoking a revoked key
    /// changes nothing and says so.
    RevokeKey {
        /// The key's lookup prefix: the 12 hex digits after `tb_` (never the whole key).
        #[arg(long)]
        lookup: String,
    },
    /// List the outbox rows the relay parked as dead after `outbox.max_attempts` claims →
    /// `{dead: [{id, seq, subject, attempts, lastError, createdAt, deadAt}]}`.
    OutboxDead,
    /// Queue dead outbox rows again, with a fresh allowance of attempts → `{requeued: [id]}`.
    OutboxRetry {
        /// A dead row's event id (repeat the flag for several).
        #[arg(long = "id", required_unless_present = "all", conflicts_with = "all")]
        ids: Vec<EventId>,
        /// Every dead row.
        #[arg(long)]
        all: bool,
    },
}

/// Runs one admin command against the ledger database; returns the JSON to print.
pub async fn run(database_url: &str, command: AdminCommand) -> anyhow::Result<Value> {
    let mut connection =
        AsyncPgConnection::establish(database_url).await.context("connecting to the ledger database")?;
    connection.transaction(async |tx| execute(tx, command).await).await
}

async fn execute(tx: &mut AsyncPgConnection, command: AdminCommand) -> anyhow::Result<Value> {
    match command {
        AdminCommand::CreatePartner { name } => {
            let id = PartnerId::new();
            records::insert_partner(tx, id, &name).await?;
            let key = keys::generate();
            records::insert_key(tx, KeyOwner::Partner(id), &key).await?;
            Ok(json!({ "partnerId": id, "apiKey": key.plaintext }))
        }
        AdminCommand::CreateUser { partner, email } => {
            if let Some(partner) = partner
                && !records::partner_exists(tx, partner).await?
            {
                bail!("partner {partner} does not exist");
            }
            let id = UserId::new();
            records::insert_user(tx, id, partner, &email)
                .await
                .map_err(|error| duplicate(error, format!("a user with e-mail {email} already exists")))?;
            let key = keys::generate();
            records::insert_key(tx, KeyOwner::User(id), &key).await?;
            Ok(json!({ "userId": id, "token": key.plaintext }))
        }
        AdminCommand::CreateBrokerAccount { user, broker, account_number } => {
            if !records::user_exists(tx, user).await? {
                bail!("user {user} does not exist");
            }
            let id = BrokerAccountId::new();
            records::insert_broker_account(tx, id, user, &broker, &account_number).await.map_err(|error| {
                duplicate(error, format!("{broker} account {account_number} is already registered"))
            })?;
            Ok(json!({ "brokerAccountId": id }))
        }
        AdminCommand::CreateExchange { id, name, spot, leverage, calendar, disabled, has_adapter } => {
            let calendar = match calendar {
                Some(text) => Calendar::parse(&text)?,
                None => Calendar::always_open(),
            };
            let exchange = Exchange {
                id,
                name,
                is_spot: spot,
                is_leverage: leverage,
                enabled: !disabled,
                has_adapter,
                calendar: serde_json::to_value(&calendar)?,
            };
            store::catalogue::insert_exchange(tx, &exchange).await.map_err(|error| match error {
                diesel::result::Error::DatabaseError(DatabaseErrorKind::CheckViolation, _) => {
                    anyhow::anyhow!(
                        "exchange id {:?} must be 1 to 64 letters, digits, '_' or '-', and its name not empty",
                        exchange.id
                    )
                }
                error => duplicate(error, format!("exchange {} already exists", exchange.id)),
            })?;
            Ok(json!({ "exchangeId": exchange.id }))
        }
        AdminCommand::CreateTicker { symbol, asset_type, exchange, price_decimals, amount_decimals, min_amount } => {
            catalogue::check_ticker(&symbol, price_decimals, amount_decimals).map_err(anyhow::Error::msg)?;
            if min_amount.is_some_and(|amount| amount.is_sign_negative()) {
                bail!("min amount must not be negative");
            }
            let listed_on = match &exchange {
                Some(id) => store::catalogue::find_exchange(tx, id).await?,
                None => None,
            };
            let (base_currency, quote_currency, contract) = catalogue::currencies(&symbol);
            let ticker = Ticker {
                id: TickerId::new(),
                symbol,
                asset_type,
                exchange,
                price_decimals,
                amount_decimals,
                min_amount,
                base_currency,
                quote_currency,
                contract,
                is_spot: listed_on.as_ref().is_none_or(|exchange| exchange.is_spot),
                is_leverage: listed_on.as_ref().is_some_and(|exchange| exchange.is_leverage),
            };
            records::insert_ticker(tx, &ticker)
                .await
                .map_err(|error| duplicate(error, format!("ticker {} already exists", ticker.symbol)))?;
            Ok(json!({ "tickerId": ticker.id }))
        }
        AdminCommand::CreateBot { slug, name, owner } => {
            if !domain::bot::is_valid_slug(&slug) {
                bail!("slug {slug:?} must match /^[a-zA-Z0-9_-]+$/");
            }
            if let Some(owner) = owner
                && !records::user_exists(tx, owner).await?
            {
                bail!("user {owner} does not exist");
            }
            let id = BotId::new();
            records::insert_bot(tx, id, &slug, &name, owner)
                .await
                .map_err(|error| duplicate(error, format!("a bot with slug {slug:?} already exists")))?;
            let key = keys::generate();
            records::insert_key(tx, KeyOwner::Bot(id), &key).await?;
            Ok(json!({ "botId": id, "slug": slug, "apiKey": key.plaintext }))
        }
        AdminCommand::Follow { bot, broker_account, ticker, quantity } => {
            if quantity <= Decimal::ZERO {
                bail!("quantity must be positive");
            }
            let bot_id = match bot.parse::<BotId>() {
                Ok(id) => records::find_bot(tx, id).await?,
                Err(_) => records::find_bot_by_slug(tx, &bot).await?,
            }
            .with_context(|| format!("bot {bot} does not exist"))?
            .id;
            let ticker_id =
                records::find_ticker(tx, &ticker).await?.with_context(|| format!("ticker {ticker} does not exist"))?;
            if !records::broker_account_exists(tx, broker_account).await? {
                bail!("broker account {broker_account} does not exist");
            }
            records::upsert_follower(tx, bot_id, broker_account, ticker_id, quantity).await?;
            Ok(json!({}))
        }
        AdminCommand::BotTrades { bot } => {
            let id = match crate::usecase::hosted_bots::parse_bot_id(&bot) {
                Some(id) if records::bot_exists(tx, id).await? => id,
                _ => {
                    records::find_bot_by_slug(tx, &bot).await?.with_context(|| format!("bot {bot} does not exist"))?.id
                }
            };
            let trades = crate::usecase::trades::all_of(tx, id).await?;
            Ok(json!({ "botId": id, "trades": trades }))
        }
        AdminCommand::RevokeKey { lookup } => {
            let lookup = lookup.trim().to_ascii_lowercase();
            // The argument is not echoed when malformed: it may be a whole key pasted by mistake.
            if !domain::api_key::is_lookup(&lookup) {
                bail!("a lookup prefix is the 12 hex digits after `tb_` in the key");
            }
            let key = records::key_status_for_update(tx, &lookup)
                .await?
                .with_context(|| format!("no API key has the lookup prefix {lookup}"))?;
            let (revoked_at, already_revoked) = match key.revoked_at {
                Some(at) => (at, true),
                None => {
                    let at = records::revoke_key(tx, &lookup)
                        .await?
                        .with_context(|| format!("the key with lookup prefix {lookup} could not be revoked"))?;
                    (at, false)
                }
            };
            Ok(json!({
                "lookupPrefix": lookup,
                "ownerKind": key.owner_kind,
                "ownerId": key.owner_id,
                "revokedAt": revoked_at,
                "alreadyRevoked": already_revoked,
            }))
        }
        AdminCommand::OutboxDead => outbox::relay::admin_dead(tx).await,
        AdminCommand::OutboxRetry { ids, all } => outbox::relay::admin_retry(tx, &ids, all).await,
    }
}

fn duplicate(error: diesel::result::Error, message: String) -> anyhow::Error {
    if is_unique_violation(&error) { anyhow::anyhow!(message) } else { error.into() }
}
