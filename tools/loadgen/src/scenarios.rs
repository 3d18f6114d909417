//! The three ingest scenarios, each as the request a client sends through the gateway and
//! the same write done directly on Postgres. Client `c` at sequence `n` sends the same
//! content on both paths (its own accounts or trade, a fresh broker order id per request).

use crate::direct::{self, NewParticipation, PgPool, StateWrite};
use crate::fixtures::{self, STATES_PER_REQUEST};
use crate::gateway::{self, Gateway};
use crate::runner::{self, Measurement, Window};
use crate::seed::Seed;
use anyhow::{Result, bail};
use bus::messages::trades::NewTransaction as TransactionInput;
use chrono::Utc;
use clap::ValueEnum;
use domain::trade::{TransactionGroup, TransactionStatus};
use domain::{BrokerAccountId, TickerId, TradeId};
use rust_decimal::Decimal;
use serde_json::json;
use std::sync::Arc;

/// A Bot API ingest route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// `POST /api/bots/{slug}/state`, 10 states per request.
    State,
    /// `POST /api/bots/{slug}/participations`, one new participation per request.
    Participations,
    /// `POST /api/bots/{slug}/trades/{tradeId}/transactions`, one filled entry per request.
    Transactions,
}

impl Scenario {
    /// Every scenario, in the order `all` runs them.
    pub const ALL: [Scenario; 3] = [Scenario::State, Scenario::Participations, Scenario::Transactions];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::State => "state x10",
            Scenario::Participations => "participations",
            Scenario::Transactions => "transactions",
        }
    }

    /// The route it drives.
    pub fn route(self) -> &'static str {
        match self {
            Scenario::State => "POST /api/bots/{slug}/state (10 states per request)",
            Scenario::Participations => "POST /api/bots/{slug}/participations (1 new participation per request)",
            Scenario::Transactions => {
                "POST /api/bots/{slug}/trades/{tradeId}/transactions (1 filled entry per request)"
            }
        }
    }
}

/// Which way the requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// HTTP through the gateway, NATS, the ledger.
    Gateway,
    /// The ledger's SQL on a pool of its own.
    Direct,
}

impl Path {
    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Path::Gateway => "gateway",
            Path::Direct => "direct",
        }
    }
}

/// Everything a run needs, shared by the clients.
pub struct Bench {
    /// The seeded bot and user.
    pub seed: Seed,
    /// The HTTP client.
    pub gateway: Gateway,
    /// The direct path's pool (also used for fixtures).
    pub pool: PgPool,
    /// Tags the rows of this run.
    pub run_id: String,
    /// Concurrent clients.
    pub concurrency: usize,
    /// The recorded window.
    pub window: Window,
    /// The subject the ledger's participation events go to (`<prefix>.evt.ledger.participation_created.v1`).
    pub subjects: bus::Subjects,
    /// The ticker every state names.
    pub ticker_id: TickerId,
    /// `VACUUM (ANALYZE)` the written tables before each run.
    pub vacuum: bool,
}

/// The outcome of one (scenario, path) run.
pub enum Outcome {
    /// Measured.
    Measured(Measurement),
    /// Not run, with the reason.
    Skipped(String),
}

impl Bench {
    /// Runs `scenario` on `path` for the window.
    pub async fn run(self: &Arc<Self>, scenario: Scenario, path: Path) -> Result<Outcome> {
        match scenario {
            Scenario::State => self.state(path).await,
            Scenario::Participations => self.participations(path).await,
            Scenario::Transactions => self.transactions(path).await,
        }
    }

    fn state_object(client: usize, sequence: u64) -> serde_json::Value {
        json!({
            "client": client,
            "sequence": sequence,
            "position": "long",
            "quantity": 10,
            "entryPrice": "190.12",
            "trailingStop": "185.50",
            "updatedAt": Utc::now(),
        })
    }

    async fn state(self: &Arc<Self>, path: Path) -> Result<Outcome> {
        let accounts = Arc::new(fixtures::state_accounts(&self.pool, self.seed.user_id, self.concurrency).await?);
        let bench = Arc::clone(self);
        let measurement = match path {
            Path::Gateway => {
                let url = format!("/api/bots/{}/state", self.seed.bot_slug);
                runner::drive(self.concurrency, self.window, move |client, sequence| {
                    let bench = Arc::clone(&bench);
                    let accounts = Arc::clone(&accounts);
                    let url = url.clone();
                    async move {
                        let states: Vec<_> = client_accounts(&accounts, client)?
                            .iter()
                            .map(|account| {
                                json!({
                                    "accountId": account,
                                    "tickerId": bench.ticker_id,
                                    "state": Self::state_object(client, sequence),
                                })
                            })
                            .collect();
                        let body = serde_json::to_vec(&json!({ "states": states })).map_err(|e| e.to_string())?;
                        bench.gateway.post_ok(&url, body).await
                    }
                })
                .await
            }
            Path::Direct => {
                runner::drive(self.concurrency, self.window, move |client, sequence| {
                    let bench = Arc::clone(&bench);
                    let accounts = Arc::clone(&accounts);
                    async move {
                        let writes: Vec<StateWrite> = client_accounts(&accounts, client)?
                            .iter()
                            .map(|account| StateWrite {
                                broker_account_id: *account,
                                ticker_id: bench.ticker_id,
                                state: Self::state_object(client, sequence).to_string(),
                            })
                            .collect();
                        direct::upsert_states(&bench.pool, bench.seed.bot_id, &writes).await
                    }
                })
                .await
            }
        };
        Ok(Outcome::Measured(measurement))
    }

    fn broker_order_id(&self, path: Path, client: usize, sequence: u64) -> String {
        format!("lg-{}-{}-{client}-{sequence}", self.run_id, path.name())
    }

    async fn participations(self: &Arc<Self>, path: Path) -> Result<Outcome> {
        let trades = Arc::new(
            fixtures::new_trades(
                &self.pool,
                self.seed.bot_id,
                self.concurrency * TRADES_PER_CLIENT,
                &self.run_id,
                path.name(),
            )
            .await?,
        );
        let bench = Arc::clone(self);
        let measurement = match path {
            Path::Gateway => {
                let url = format!("/api/bots/{}/participations", self.seed.bot_slug);
                runner::drive(self.concurrency, self.window, move |client, sequence| {
                    let bench = Arc::clone(&bench);
                    let trades = Arc::clone(&trades);
                    let url = url.clone();
                    async move {
                        let body = json!({ "participations": [{
                            "botTradeId": client_trade(&trades, client, sequence)?,
                            "userId": bench.seed.user_id,
                            "brokerAccountId": bench.seed.broker_account_id,
                            "brokerOrderId": bench.broker_order_id(path, client, sequence),
                            "childOrderIds": [],
                            "units": 1,
                        }]});
                        bench.gateway.post_ok(&url, serde_json::to_vec(&body).map_err(|e| e.to_string())?).await
                    }
                })
                .await
            }
            Path::Direct => {
                runner::drive(self.concurrency, self.window, move |client, sequence| {
                    let bench = Arc::clone(&bench);
                    let trades = Arc::clone(&trades);
                    async move {
                        let item = NewParticipation {
                            bot_trade_id: client_trade(&trades, client, sequence)?,
                            user_id: bench.seed.user_id,
                            broker_account_id: bench.seed.broker_account_id,
                            broker_order_id: bench.broker_order_id(path, client, sequence),
                            child_order_ids: Vec::new(),
                            units: Decimal::ONE,
                        };
                        direct::create_participation(&bench.pool, &bench.subjects, bench.seed.bot_id, item).await
                    }
                })
                .await
            }
        };
        Ok(Outcome::Measured(measurement))
    }

    fn transaction_body(&self, path: Path, client: usize, sequence: u64) -> serde_json::Value {
        let now = Utc::now();
        json!({ "transactions": [{
            "transactionGroup": "entry",
            "symbol": "AAPL",
            "assetType": "stock",
            "side": "buy",
            "type": "market",
            "quantity": 1,
            "transactionDate": now,
            "status": "filled",
            "filledAt": now,
            "filledPrice": "190.12",
            "filledQuantity": "1",
            "brokerOrderId": self.broker_order_id(path, client, sequence),
        }]})
    }

    async fn transactions(self: &Arc<Self>, path: Path) -> Result<Outcome> {
        let trades = Arc::new(
            fixtures::new_trades(
                &self.pool,
                self.seed.bot_id,
                self.concurrency * TRADES_PER_CLIENT,
                &self.run_id,
                path.name(),
            )
            .await?,
        );
        let Some(first_trade) = trades.first().copied() else { bail!("no trade was created") };
        let bench = Arc::clone(self);
        let measurement = match path {
            Path::Gateway => {
                let url = |trade: TradeId| format!("/api/bots/{}/trades/{trade}/transactions", bench.seed.bot_slug);
                // One request first: a bare 404 means the route is not deployed yet.
                let probe = serde_json::to_vec(&self.transaction_body(path, 0, u64::MAX))?;
                let (status, body) = self.gateway.post(&url(first_trade), probe).await?;
                if gateway::is_missing_route(status, &body) {
                    return Ok(Outcome::Skipped(format!(
                        "POST {} answered 404 with no Bot API error body: the transactions route is not deployed yet",
                        self.gateway.url(&url(first_trade)),
                    )));
                }
                if !status.is_success() {
                    crate::say(&format!(
                        "  probe request failed ({}); running anyway",
                        gateway::describe(status, &body)
                    ));
                }
                let slug = self.seed.bot_slug.clone();
                runner::drive(self.concurrency, self.window, move |client, sequence| {
                    let bench = Arc::clone(&bench);
                    let trades = Arc::clone(&trades);
                    let slug = slug.clone();
                    async move {
                        let trade = client_trade(&trades, client, sequence)?;
                        let body = serde_json::to_vec(&bench.transaction_body(path, client, sequence))
                            .map_err(|e| e.to_string())?;
                        bench.gateway.post_ok(&format!("/api/bots/{slug}/trades/{trade}/transactions"), body).await
                    }
                })
                .await
            }
            Path::Direct => {
                runner::drive(self.concurrency, self.window, move |client, sequence| {
                    let bench = Arc::clone(&bench);
                    let trades = Arc::clone(&trades);
                    async move {
                        let now = Utc::now();
                        let trade_id = client_trade(&trades, client, sequence)?;
                        let transaction = TransactionInput {
                            transaction_group: TransactionGroup::Entry,
                            exit_type: None,
                            trim_level: None,
                            symbol: "AAPL".to_string(),
                            asset_type: "stock".to_string(),
                            side: "buy".to_string(),
                            order_type: "market".to_string(),
                            quantity: Decimal::ONE,
                            transaction_date: now,
                            stop_price: None,
                            price: None,
                            option_type: None,
                            strike_price: None,
                            expiration_date: None,
                            status: TransactionStatus::Filled,
                            filled_at: Some(now),
                            filled_price: Some(Decimal::new(19012, 2)),
                            filled_quantity: Some(Decimal::ONE),
                            avg_fill_price: None,
                            broker: None,
                            broker_account_number: None,
                            broker_order_id: Some(bench.broker_order_id(path, client, sequence)),
                            broker_parent_order_id: None,
                            notes: None,
                            metadata: direct::empty_object()?,
                        };
                        direct::add_transaction(&bench.pool, bench.seed.bot_id, trade_id, transaction).await
                    }
                })
                .await
            }
        };
        Ok(Outcome::Measured(measurement))
    }
}

fn client_accounts(accounts: &[Vec<BrokerAccountId>], client: usize) -> Result<&[BrokerAccountId], String> {
    accounts
        .get(client)
        .map(Vec::as_slice)
        .filter(|accounts| accounts.len() == STATES_PER_REQUEST)
        .ok_or_else(|| format!("no accounts for client {client}"))
}

/// Trades created per client and run: each takes [`ITEMS_PER_TRADE`] participations or
/// transactions in turn, then the next; after the last the first takes more.
const TRADES_PER_CLIENT: usize = 32;
/// Participations or transactions per trade, about what a trade of a bot with a few followers
/// gets (and the ledger rereads a trade's transactions on each write, so this bounds that).
const ITEMS_PER_TRADE: u64 = 10;

fn client_trade(trades: &[TradeId], client: usize, sequence: u64) -> Result<TradeId, String> {
    let turn = (sequence / ITEMS_PER_TRADE) as usize % TRADES_PER_CLIENT;
    trades.get(client * TRADES_PER_CLIENT + turn).copied().ok_or_else(|| format!("no trade for client {client}"))
}
