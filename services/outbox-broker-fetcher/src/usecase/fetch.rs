//! One attempt at a leased job: read the credential, ask the broker for the parent and every
//! child order (no transaction is open while we wait for the broker), then record the
//! outcome in one transaction: snapshots + job state + the outcome event in the outbox.

use crate::broker::{
    Broker, BrokerError, BrokerOrder, BrokerToken, OrderRef, SimBroker, TradierClient, TradierEnvironment,
};
use crate::crypto::{CipherError, CredentialCipher};
use crate::domain::broker_kind::BrokerKind;
use crate::domain::failure::FailureCause;
use crate::domain::retry::{Decision, FailureKind, RetryPolicy};
use crate::store::credentials;
use crate::store::jobs::{self, ClaimedJob, JobError};
use crate::store::snapshots::Snapshot;
use crate::usecase::credential_cache::CredentialCache;
use crate::usecase::rate_gate::RateGate;
use crate::usecase::recorder::{Effect, Recorder, Recording};
use bus::Subjects;
use bus::messages::fetch::{FetchedOrder, OrderFetchFailed, OrderFetched};
use chrono::Utc;
use domain::BrokerAccountId;
use futures::StreamExt;
use platform::db::PgPool;
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

/// How many orders of one participation (parent and children) are asked for at once.
pub const ORDERS_AT_ONCE: usize = 4;

/// Everything an attempt needs; shared by every worker of the process.
pub struct Fetcher {
    /// The fetcher's database.
    pub pool: PgPool,
    /// Where outcome events go.
    pub subjects: Subjects,
    /// Opens stored credentials.
    pub cipher: CredentialCipher,
    /// Tradier accounts.
    pub tradier: TradierClient,
    /// SIM accounts.
    pub sim: SimBroker,
    /// Backoff and limits.
    pub policy: RetryPolicy,
    /// Accounts that are rate limited until a known time.
    pub rate_gate: RateGate,
    /// Decrypted credentials, kept briefly.
    pub credentials: CredentialCache,
    /// Where outcomes are written, in batches.
    pub recorder: Recorder,
}

/// Why an attempt failed: what the retry policy needs, what the client is told (through the
/// cause's code) and the detailed reason the fetcher keeps for itself.
#[derive(Debug)]
struct Failure {
    kind: FailureKind,
    cause: FailureCause,
    reason: String,
}

impl Failure {
    fn permanent(cause: FailureCause, reason: impl Into<String>) -> Self {
        Self { kind: FailureKind::Permanent, cause, reason: reason.into() }
    }

    fn from_broker(order_id: &str, error: &BrokerError) -> Self {
        let kind = match error {
            BrokerError::Transport(_) | BrokerError::Timeout => FailureKind::Transport,
            BrokerError::RateLimited { retry_after } => FailureKind::RateLimited(*retry_after),
            BrokerError::Server { .. } | BrokerError::NotVisible => FailureKind::Transient,
            _ => FailureKind::Permanent,
        };
        Self { kind, cause: error.cause(), reason: format!("order {order_id}: {error}") }
    }

    /// Why a stored credential cannot be used. Every case is "no usable credential" for the
    /// client (see [`FailureCause::code`]); the reason says which.
    fn unreadable_credential(account: BrokerAccountId, error: &CipherError) -> Self {
        Self::permanent(FailureCause::CredentialUnreadable, format!("credentials of broker account {account}: {error}"))
    }

    /// The error as stored with the job.
    fn job_error(&self) -> JobError<'_> {
        JobError { code: self.cause.code(), reason: &self.reason }
    }

    /// Which of two failures decides: permanent over transient over rate limit over transport.
    fn rank(&self) -> u8 {
        match self.kind {
            FailureKind::Permanent => 3,
            FailureKind::Transient => 2,
            FailureKind::RateLimited(_) => 1,
            FailureKind::Transport => 0,
        }
    }
}

/// What an attempt ended with (for logs and tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Every order was fetched and the outcome published.
    Fetched,
    /// Scheduled for another attempt.
    Retrying,
    /// Parked as a dead letter.
    Parked,
    /// Another worker holds the job now (our lease ran out); nothing was recorded.
    LeaseLost,
}

impl Fetcher {
    /// Runs one attempt of `job` and records its outcome.
    pub async fn attempt(&self, job: &ClaimedJob) -> anyhow::Result<AttemptOutcome> {
        let (calls, result) = self.fetch_all(job).await;
        match result {
            Ok(orders) => self.record_fetched(job, calls, orders).await,
            Err(failure) => self.record_failure(job, calls, failure).await,
        }
    }

    /// Records that an attempt of `job` panicked: a failure that counts toward the limit, so
    /// a job that crashes every attempt is parked instead of retried forever.
    pub async fn record_panic(&self, job: &ClaimedJob, panic: &str) -> anyhow::Result<AttemptOutcome> {
        let reason = format!("the fetch attempt crashed: {panic}");
        let failure = Failure { kind: FailureKind::Transient, cause: FailureCause::AttemptPanicked, reason };
        self.record_failure(job, 0, failure).await
    }

    /// The number of broker calls made, and the parent and children (parent first).
    async fn fetch_all(&self, job: &ClaimedJob) -> (i32, Result<Vec<BrokerOrder>, Failure>) {
        let Some(kind) = BrokerKind::parse(&job.broker) else {
            let reason = format!("no client for broker '{}'", job.broker);
            return (0, Err(Failure::permanent(FailureCause::UnknownBroker, reason)));
        };
        if let Some(wait) = self.rate_gate.wait(job.broker_account_id) {
            let reason = "the broker account is rate limited; waiting for the limit to reset".to_string();
            let failure = Failure { kind: FailureKind::RateLimited(wait), cause: FailureCause::RateLimited, reason };
            return (0, Err(failure));
        }
        let (token, cached) = match kind.needs_credentials() {
            true => match self.token(job.broker_account_id).await {
                Ok((token, cached)) => (Some(token), cached),
                Err(failure) => return (0, Err(failure)),
            },
            false => (None, false),
        };
        let order_ids: Vec<&str> = std::iter::once(job.broker_order_id.as_str()).chain(job.child_orders()).collect();
        let calls = i32::try_from(order_ids.len()).unwrap_or(i32::MAX);
        let token = token.as_ref();
        // Built up front (not lazily inside the stream), which keeps the stream's type free of
        // the closure's borrows.
        let fetches: Vec<_> = order_ids
            .iter()
            .map(|order_id| {
                let order = OrderRef { account_number: &job.broker_account_number, order_id };
                async move {
                    match kind {
                        BrokerKind::Tradier => self.tradier.fetch_order(token, order).await,
                        BrokerKind::Sim => self.sim.fetch_order(None, order).await,
                    }
                }
            })
            .collect();
        // A bounded number at once: a participation with many child orders must not open as
        // many connections to the broker (and use up its rate limit) in one burst.
        let results: Vec<_> = futures::stream::iter(fetches).buffered(ORDERS_AT_ONCE).collect().await;
        let mut orders = Vec::with_capacity(results.len());
        let mut worst: Option<Failure> = None;
        for (order_id, result) in order_ids.iter().zip(results) {
            match result {
                Ok(order) => orders.push(order),
                Err(error) => {
                    if let BrokerError::RateLimited { retry_after } = &error {
                        self.rate_gate.block(job.broker_account_id, *retry_after);
                    }
                    let mut failure = Failure::from_broker(order_id, &error);
                    if cached && error == BrokerError::Unauthorized {
                        // The token may have been replaced since we cached it: read it again.
                        self.credentials.evict(job.broker_account_id);
                        failure.kind = FailureKind::Transport;
                    }
                    if worst.as_ref().is_none_or(|worst| failure.rank() > worst.rank()) {
                        worst = Some(failure);
                    }
                }
            }
        }
        match worst {
            Some(failure) => (calls, Err(failure)),
            None => (calls, Ok(orders)),
        }
    }

    /// The account's decrypted credential, and whether it came from the cache; a missing or
    /// unreadable one parks the job.
    async fn token(&self, account: BrokerAccountId) -> Result<(BrokerToken, bool), Failure> {
        if let Some(token) = self.credentials.get(account) {
            return Ok((token, true));
        }
        let stored = async {
            let mut connection = self.pool.get().await?;
            anyhow::Ok(credentials::find(&mut connection, account).await?)
        };
        let stored = match stored.await {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                let reason = format!("no credentials stored for broker account {account}");
                return Err(Failure::permanent(FailureCause::NoCredentials, reason));
            }
            Err(error) => {
                // Our own database failing says nothing about the order: retry like a transport error.
                let reason = format!("credential store unavailable: {error:#}");
                return Err(Failure {
                    kind: FailureKind::Transport,
                    cause: FailureCause::CredentialStoreUnavailable,
                    reason,
                });
            }
        };
        let environment: TradierEnvironment = stored.environment.parse().map_err(|_| {
            let reason = format!("unknown credential environment '{}'", stored.environment);
            Failure::permanent(FailureCause::CredentialUnreadable, reason)
        })?;
        // The environment is part of what the credential is bound to: a row whose environment
        // was changed does not open, so a token is never sent to the other base URL.
        let token = stored
            .sealed()
            .and_then(|sealed| self.cipher.open(account, environment, &sealed))
            .map_err(|error| Failure::unreadable_credential(account, &error))?;
        let token = BrokerToken { token, environment };
        self.credentials.put(account, token.clone());
        Ok((token, false))
    }

    async fn record_fetched(
        &self,
        job: &ClaimedJob,
        calls: i32,
        orders: Vec<BrokerOrder>,
    ) -> anyhow::Result<AttemptOutcome> {
        let fetched_at = Utc::now();
        let rows: Vec<Snapshot> = orders
            .iter()
            .enumerate()
            .map(|(index, order)| Snapshot {
                participation_id: job.participation_id,
                order_id: order.id.clone(),
                is_parent: index == 0,
                status: order.status.as_str().to_string(),
                broker_status: order.broker_status.clone(),
                quantity: order.quantity,
                filled_quantity: order.filled_quantity,
                avg_fill_price: order.avg_fill_price,
                raw: order.raw.clone(),
                fetched_at,
            })
            .collect();
        let mut fetched: Vec<FetchedOrder> = orders.iter().map(fetched_order).collect();
        let parent = fetched.remove(0);
        let event = OrderFetched {
            participation_id: job.participation_id,
            revision: 0,
            fetched_at,
            order: parent,
            children: fetched,
        };
        let recorded = self.record(job, calls, Effect::Fetched { snapshots: rows, event }).await?;
        if recorded {
            debug!(participation.id = %job.participation_id, orders = orders.len(), "orders fetched");
            Ok(AttemptOutcome::Fetched)
        } else {
            Ok(AttemptOutcome::LeaseLost)
        }
    }

    async fn record_failure(
        &self,
        job: &ClaimedJob,
        calls: i32,
        mut failure: Failure,
    ) -> anyhow::Result<AttemptOutcome> {
        let retrying_for = (Utc::now() - job.retrying_since).to_std().unwrap_or_default();
        let mut decision =
            self.policy.decide(failure.kind, job.attempts, job.failures, retrying_for, rand::random::<f64>());
        if decision == Decision::TimedOut {
            let budget = self.policy.give_up_after.as_secs();
            failure.reason = format!("still failing after the {budget} s time budget; last: {}", failure.reason);
            failure.cause = FailureCause::TimedOut;
            decision = Decision::Park;
        }
        match decision {
            Decision::Retry { delay, counts } => {
                let mut connection = self.pool.get().await?;
                let kept = jobs::reschedule(&mut connection, job, calls, counts, delay, failure.job_error()).await?;
                debug!(
                    participation.id = %job.participation_id,
                    retry_in_ms = delay.as_millis() as u64,
                    counts,
                    reason = %failure.reason,
                    "fetch attempt failed; retrying"
                );
                Ok(if kept { AttemptOutcome::Retrying } else { AttemptOutcome::LeaseLost })
            }
            Decision::Park | Decision::TimedOut => {
                let code = failure.cause.code();
                // The event carries the code only; the reason stays in the job's row.
                let event = OrderFetchFailed {
                    participation_id: job.participation_id,
                    revision: 0,
                    failed_at: Utc::now(),
                    code,
                    attempts: job.attempts + calls,
                };
                let effect = Effect::Parked { event, reason: failure.reason.clone() };
                let recorded = self.record(job, calls, effect).await?;
                let (reason, code) = (failure.reason.as_str(), code.as_str());
                if recorded {
                    warn!(participation.id = %job.participation_id, code, reason, "fetch parked as a dead letter");
                    Ok(AttemptOutcome::Parked)
                } else {
                    Ok(AttemptOutcome::LeaseLost)
                }
            }
        }
    }

    /// Hands the outcome to the recorder and waits until it is committed: true, or false when
    /// our lease was lost (another worker holds the job now and nothing was written).
    async fn record(&self, job: &ClaimedJob, calls: i32, effect: Effect) -> anyhow::Result<bool> {
        let (done, recorded) = oneshot::channel();
        let recording = Recording { job: job.clone(), calls, effect, done };
        self.recorder.send(recording).await.map_err(|_| anyhow::anyhow!("the outcome recorder has stopped"))?;
        let recorded = recorded.await.map_err(|_| anyhow::anyhow!("the outcome could not be recorded"))?;
        if !recorded {
            info!(participation.id = %job.participation_id, "lease lost before the outcome was recorded; dropped");
        }
        Ok(recorded)
    }
}

fn fetched_order(order: &BrokerOrder) -> FetchedOrder {
    FetchedOrder {
        order_id: order.id.clone(),
        status: order.status,
        broker_status: order.broker_status.clone(),
        quantity: order.quantity,
        filled_quantity: order.filled_quantity,
        avg_fill_price: order.avg_fill_price,
    }
}
