//! A system with two bots, a user with a broker account that follows the first bot, another
//! user with an account that follows nothing, a ticker and a trade per bot.

use crate::system::System;
use diesel_async::RunQueryDsl;
use domain::ServiceName;
use serde_json::Value;
use trade_ledger::admin::AdminCommand;
use uuid::Uuid;

pub struct Bot {
    pub id: String,
    pub slug: String,
    pub key: String,
    pub trade_id: Uuid,
}

pub struct Fixture {
    pub system: System,
    pub bot: Bot,
    pub other: Bot,
    pub user_id: String,
    pub account_id: String,
    pub _other_user_id: String,
    pub other_account_id: String,
    pub ticker_id: String,
    http: reqwest::Client,
}

/// A string field of an admin command's output.
pub fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_else(|| panic!("{field} in {value}")).to_string()
}

impl Fixture {
    pub async fn start() -> Self {
        let system = System::start().await.expect("the system starts");
        let user = system.admin(AdminCommand::CreateUser { partner: None, email: "ann@example.com".into() }).await;
        let user_id = text(&user, "userId");
        let other_user =
            system.admin(AdminCommand::CreateUser { partner: None, email: "bob@example.com".into() }).await;
        let other_user_id = text(&other_user, "userId");
        let account = system
            .admin(AdminCommand::CreateBrokerAccount {
                user: user_id.parse().unwrap(),
                broker: "TRADIER".into(),
                account_number: "VA0001".into(),
            })
            .await;
        let other_account = system
            .admin(AdminCommand::CreateBrokerAccount {
                user: other_user_id.parse().unwrap(),
                broker: "TRADIER".into(),
                account_number: "VA0002".into(),
            })
            .await;
        let ticker = system
            .admin(AdminCommand::CreateTicker {
                symbol: "AAPL".into(),
                asset_type: "stock".into(),
                exchange: Some("NASDAQ".into()),
                price_decimals: 2,
                amount_decimals: 0,
                min_amount: None,
            })
            .await;
        let bot = Self::bot(&system, "alpha-bot", None).await;
        let other = Self::bot(&system, "beta-bot", None).await;
        let account_id = text(&account, "brokerAccountId");
        // A bot reaches only its followers: the user's account follows alpha-bot.
        system
            .admin(AdminCommand::Follow {
                bot: bot.slug.clone(),
                broker_account: account_id.parse().unwrap(),
                ticker: "AAPL".into(),
                quantity: "1".parse().unwrap(),
            })
            .await;
        Self {
            system,
            bot,
            other,
            user_id,
            account_id,
            _other_user_id: other_user_id,
            other_account_id: text(&other_account, "brokerAccountId"),
            ticker_id: text(&ticker, "tickerId"),
            http: test_support::http_client(),
        }
    }

    /// Another external bot owned by `owner`, with its key and a pending AAPL trade.
    pub async fn add_bot(&self, slug: &str, owner: Option<Uuid>) -> Bot {
        Self::bot(&self.system, slug, owner).await
    }

    async fn bot(system: &System, slug: &str, owner: Option<Uuid>) -> Bot {
        let owner = owner.map(domain::UserId::from_uuid);
        let created = system.admin(AdminCommand::CreateBot { slug: slug.into(), name: slug.into(), owner }).await;
        let id = text(&created, "botId");
        let trade_id = Uuid::now_v7();
        let mut connection = system.db(ServiceName::TradeLedger).connect().await;
        diesel::sql_query(format!(
            "INSERT INTO bot_trades (id, bot_id, symbol, trade_type, status, signal_at) \
             VALUES ('{trade_id}', '{id}', 'AAPL', 'long', 'pending', now())"
        ))
        .execute(&mut connection)
        .await
        .unwrap();
        Bot { id, slug: slug.into(), key: text(&created, "apiKey"), trade_id }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<String>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.system.url(path));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// POSTs `body` to the bot's `path` with its own key.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let path = format!("/api/bots/{}{path}", self.bot.slug);
        self.send(reqwest::Method::POST, &path, Some(&self.bot.key.clone()), Some(body.to_string())).await
    }

    /// GETs the bot's `path` with its own key.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let path = format!("/api/bots/{}{path}", self.bot.slug);
        self.send(reqwest::Method::GET, &path, Some(&self.bot.key.clone()), None).await
    }

    /// Runs one SQL statement on the ledger's database (e.g. pausing a follow link, which no
    /// admin command does).
    pub async fn execute(&self, sql: &str) {
        let mut connection = self.system.db(ServiceName::TradeLedger).connect().await;
        diesel::sql_query(sql).execute(&mut connection).await.unwrap();
    }

    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
        }
        let mut connection = self.system.db(ServiceName::TradeLedger).connect().await;
        diesel::sql_query(sql).get_result::<Count>(&mut connection).await.unwrap().count
    }
}
