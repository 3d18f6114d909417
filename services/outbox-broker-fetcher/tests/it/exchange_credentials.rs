//! Exchange keys: stored on request, sealed to their account and exchange, never in a reply, a
//! row's bytes or a log line; refused whole when malformed; erased when the ledger says their
//! user was deleted (once per event), and never stored again for that account; re-sealed by a
//! key rotation like Tradier tokens.

use crate::credentials::{cipher_b_alone, execute, key_a_current, key_b_current_a_previous, rotate, seal_of};
use crate::harness::Harness;
use bus::messages::credentials::StoreExchangeCredentials;
use bus::messages::partner::UserDeleted;
use bus::{BusError, Event, RequestError};
use diesel::prelude::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use domain::{BrokerAccountId, EventId, Secret, UserId};
use outbox::consumer::Delivery;
use outbox_broker_fetcher::crypto::{Aad, CipherError, CredentialCipher, ExchangeKeys};
use outbox_broker_fetcher::settings::Settings;
use outbox_broker_fetcher::store::credentials;
use outbox_broker_fetcher::store::schema::{broker_credentials, erased_broker_accounts};
use outbox_broker_fetcher::usecase::{exchange_credentials, user_deletion};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PUBLIC: &str = "pk-7d41c0e2-public";
const SECRET: &str = "sk-52ab9f17-secret";
const EXTRA: &str = "xk-e3c8-passphrase";

fn store_request(
    account: BrokerAccountId,
    exchange_id: &str,
    keys: [&str; 2],
    extra: Option<&str>,
) -> StoreExchangeCredentials {
    StoreExchangeCredentials {
        broker_account_id: account,
        exchange_id: exchange_id.into(),
        public_key: Secret::new(keys[0]),
        secret_key: Secret::new(keys[1]),
        extra_key: extra.map(Secret::new),
    }
}

fn keys(public: &str, secret: &str, extra: Option<&str>) -> ExchangeKeys {
    ExchangeKeys { public_key: Secret::new(public), secret_key: Secret::new(secret), extra_key: extra.map(Secret::new) }
}

/// Sends a request as the gateway would; returns the reply as raw JSON text.
async fn store(harness: &Harness, request: &StoreExchangeCredentials) -> Result<String, RequestError> {
    let client = harness.nats.client().await;
    let endpoint = harness.nats.subjects().store_exchange_credentials();
    bus::request_raw(&client, &endpoint, request, Duration::from_secs(5)).await.map(|reply| reply.get().to_string())
}

/// Every column of an account's row, as Postgres prints them: what a look at the table shows.
async fn row_text(harness: &Harness, account: BrokerAccountId) -> Option<String> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut connection = harness.db.connect().await;
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT c::text AS row FROM broker_credentials c WHERE broker_account_id = '{account}'"
    ))
    .load(&mut connection)
    .await
    .unwrap();
    rows.into_iter().next().map(|row| row.row)
}

/// `(kind, environment, exchange id)` of an account's row.
async fn label_of(harness: &Harness, account: BrokerAccountId) -> Option<(String, Option<String>, Option<String>)> {
    let mut connection = harness.db.connect().await;
    broker_credentials::table
        .filter(broker_credentials::broker_account_id.eq(account))
        .select((broker_credentials::kind, broker_credentials::environment, broker_credentials::exchange_id))
        .first(&mut connection)
        .await
        .optional()
        .unwrap()
}

/// Opens an account's stored exchange keys with `cipher`, as a future reader would.
async fn open(
    harness: &Harness,
    cipher: &CredentialCipher,
    account: BrokerAccountId,
) -> Result<ExchangeKeys, CipherError> {
    let mut connection = harness.db.connect().await;
    let stored = credentials::find_exchange_keys(&mut connection, account).await.unwrap().unwrap();
    cipher.open_exchange_keys(account, &stored.exchange_id, &stored.sealed()?)
}

/// The hex of `text`, as Postgres prints a bytea that held it.
fn hex(text: &str) -> String {
    text.bytes().map(|byte| format!("{byte:02x}")).collect()
}

fn assert_no_key_in(text: &str, what: &str) {
    for key in [PUBLIC, SECRET, EXTRA] {
        assert!(!text.contains(key) && !text.contains(&hex(key)), "{what} shows {key}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_keys_are_sealed_in_one_row_bound_to_their_account_and_exchange() {
    let harness = Harness::start(|_| {}).await;
    let cipher = harness.settings().credentials.cipher().unwrap();
    let account = BrokerAccountId::new();

    let reply = store(&harness, &store_request(account, "binance", [PUBLIC, SECRET], Some(EXTRA))).await.unwrap();
    assert_eq!(reply, "true");
    assert_eq!(label_of(&harness, account).await, Some(("exchange_keys".into(), None, Some("binance".into()))));
    assert_eq!(seal_of(&harness, account).await.1, Aad::AccountAndExchange.version());
    assert_no_key_in(&row_text(&harness, account).await.unwrap(), "the row");
    assert_eq!(open(&harness, &cipher, account).await.unwrap(), keys(PUBLIC, SECRET, Some(EXTRA)));

    // A Tradier fetch never gets them: for the fetch path the account has no token.
    let mut connection = harness.db.connect().await;
    assert!(credentials::find(&mut connection, account).await.unwrap().is_none());
    let mut request = harness.request("9301", &[]);
    request.broker_account_id = account;
    let request = harness.send(request).await;
    let (attempts, _) = harness.wait_for(request.participation_id, "dead_letter").await;
    assert_eq!(attempts, 0, "no broker call");
    assert_eq!(harness.error_code(request.participation_id).await.as_deref(), Some("no_credentials"));

    // Relabelled to another exchange, the row does not open.
    execute(
        &harness,
        &format!("UPDATE broker_credentials SET exchange_id = 'kraken' WHERE broker_account_id = '{account}'"),
    )
    .await;
    assert_eq!(open(&harness, &cipher, account).await.unwrap_err(), CipherError::Undecryptable);
    // Copied to another account's row, neither.
    let moved = BrokerAccountId::new();
    execute(
        &harness,
        &format!(
            "INSERT INTO broker_credentials \
                 (broker_account_id, kind, exchange_id, nonce, ciphertext, key_id, aad_version) \
             SELECT '{moved}', kind, 'binance', nonce, ciphertext, key_id, aad_version FROM broker_credentials \
             WHERE broker_account_id = '{account}'"
        ),
    )
    .await;
    assert_eq!(open(&harness, &cipher, moved).await.unwrap_err(), CipherError::Undecryptable);
}

#[tokio::test(flavor = "multi_thread")]
async fn storing_again_replaces_the_keys_in_the_same_row() {
    let harness = Harness::start(|_| {}).await;
    let cipher = harness.settings().credentials.cipher().unwrap();
    let account = BrokerAccountId::new();
    let first = store_request(account, "binance", [PUBLIC, SECRET], Some(EXTRA));
    assert_eq!(store(&harness, &first).await.unwrap(), "true");
    assert_eq!(store(&harness, &first).await.unwrap(), "true", "a replayed request answers the same");
    assert_eq!(open(&harness, &cipher, account).await.unwrap(), keys(PUBLIC, SECRET, Some(EXTRA)));

    let second = store_request(account, "okx", ["pk-second", "sk-second"], None);
    assert_eq!(store(&harness, &second).await.unwrap(), "true");
    let mut connection = harness.db.connect().await;
    let rows: i64 = broker_credentials::table
        .filter(broker_credentials::broker_account_id.eq(account))
        .count()
        .get_result(&mut connection)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(label_of(&harness, account).await.unwrap().2.as_deref(), Some("okx"));
    assert_eq!(open(&harness, &cipher, account).await.unwrap(), keys("pk-second", "sk-second", None));

    // An empty extraKey is no passphrase.
    let empty_extra = store_request(account, "okx", ["pk-third", "sk-third"], Some(""));
    assert_eq!(store(&harness, &empty_extra).await.unwrap(), "true");
    assert_eq!(open(&harness, &cipher, account).await.unwrap(), keys("pk-third", "sk-third", None));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_naming_the_field_and_writes_nothing() {
    let harness = Harness::start(|_| {}).await;
    let account = BrokerAccountId::new();
    let huge = "k".repeat(1025);
    let cases = [
        (store_request(account, "binance", ["", SECRET], None), "publicKey must not be empty"),
        (store_request(account, "binance", [PUBLIC, ""], Some(EXTRA)), "secretKey must not be empty"),
        (store_request(account, "binance", [PUBLIC, &huge], None), "secretKey must be at most 1024 bytes"),
        (store_request(account, "binance", [&huge, SECRET], None), "publicKey must be at most 1024 bytes"),
        (store_request(account, "binance", [PUBLIC, SECRET], Some(&huge)), "extraKey must be at most 1024 bytes"),
        (store_request(account, "", [PUBLIC, SECRET], None), "exchangeId must be 1 to 64 visible ASCII characters"),
        (store_request(account, "bin ance", [PUBLIC, SECRET], None), "exchangeId must be 1 to 64 visible ASCII"),
        (store_request(account, &"x".repeat(65), [PUBLIC, SECRET], None), "exchangeId must be 1 to 64"),
    ];
    for (request, expected) in cases {
        match store(&harness, &request).await {
            Err(RequestError::Rejected(BusError::Invalid { message })) => {
                assert!(message.starts_with(expected), "{message:?} for {expected:?}");
                assert_no_key_in(&message, "the refusal");
            }
            other => panic!("{expected}: {other:?}"),
        }
    }
    assert_eq!(label_of(&harness, account).await, None, "nothing written");

    // The Tradier token an operator stored is not replaced by a request on the bus.
    let refused = store(&harness, &store_request(harness.account, "binance", [PUBLIC, SECRET], None)).await;
    assert!(matches!(refused, Err(RequestError::Rejected(BusError::Conflict { .. }))), "{refused:?}");
    assert_eq!(label_of(&harness, harness.account).await.unwrap().0, "tradier_token");
    let request = harness.send(harness.request("9302", &[])).await;
    harness.wait_for(request.participation_id, "fetched").await;
}

fn no_key(settings: &mut Settings) {
    settings.credentials.encryption_key = String::new();
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_encryption_key_the_request_is_unavailable() {
    let mut harness = Harness::start(|_| {}).await;
    harness.stop().await;
    harness.tweak = no_key;
    harness.start_fetcher().await;
    let account = BrokerAccountId::new();
    let refused = store(&harness, &store_request(account, "binance", [PUBLIC, SECRET], None)).await;
    match refused {
        Err(RequestError::Rejected(error @ BusError::Unavailable { .. })) => assert!(error.is_retryable()),
        other => panic!("{other:?}"),
    }
    assert_eq!(label_of(&harness, account).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_users_credentials_are_erased_once_per_event() {
    let harness = Harness::start(|_| {}).await;
    let (first, second, other_user) = (BrokerAccountId::new(), BrokerAccountId::new(), BrokerAccountId::new());
    for account in [first, second, other_user] {
        assert_eq!(store(&harness, &store_request(account, "binance", [PUBLIC, SECRET], None)).await.unwrap(), "true");
    }
    let topic = harness.nats.subjects().user_deleted();
    let deleted = UserDeleted {
        user_id: UserId::new(),
        // Every kind goes: the user's Tradier token too; an account without credentials is no
        // trouble.
        broker_account_ids: vec![first, second, harness.account, BrokerAccountId::new()],
    };
    let event_id = EventId::new();
    harness.publish_on(&topic, event_id, &deleted, 0).await;
    test_support::eventually("the user's credentials erased", Duration::from_secs(20), || async {
        let mut left = Vec::new();
        for account in [first, second, harness.account] {
            left.extend(label_of(&harness, account).await);
        }
        left.is_empty().then_some(())
    })
    .await;
    assert!(label_of(&harness, other_user).await.is_some(), "another user's keys stay");
    let mut named = deleted.broker_account_ids.clone();
    named.sort_unstable();
    assert_eq!(erased_accounts(&harness).await, named, "every account of the event remembered");

    // With its tombstone removed by hand, keys stored again for one of the accounts; then the
    // same event delivered again (a deliberate re-publish, fresh message id): it has had its
    // effect and has no other, neither erasing them nor remembering the account again.
    execute(&harness, &format!("DELETE FROM erased_broker_accounts WHERE broker_account_id = '{first}'")).await;
    assert_eq!(store(&harness, &store_request(first, "okx", [PUBLIC, SECRET], None)).await.unwrap(), "true");
    harness.publish_on(&topic, event_id, &deleted, 1).await;
    // Events are applied in order: once a later one has been, the redelivery has been too.
    let later = UserDeleted { user_id: UserId::new(), broker_account_ids: vec![other_user] };
    harness.publish_on(&topic, EventId::new(), &later, 0).await;
    test_support::eventually("the later event applied", Duration::from_secs(20), || async {
        label_of(&harness, other_user).await.is_none().then_some(())
    })
    .await;
    assert_eq!(label_of(&harness, first).await.unwrap().2.as_deref(), Some("okx"), "not erased a second time");
    assert!(!erased_accounts(&harness).await.contains(&first), "not remembered a second time");
}

/// The accounts remembered as erased, in account order.
async fn erased_accounts(harness: &Harness) -> Vec<BrokerAccountId> {
    let mut connection = harness.db.connect().await;
    erased_broker_accounts::table
        .select(erased_broker_accounts::broker_account_id)
        .order(erased_broker_accounts::broker_account_id)
        .load(&mut connection)
        .await
        .unwrap()
}

fn refused_as_deleted(reply: Result<String, RequestError>, account: BrokerAccountId) {
    match reply {
        Err(RequestError::Rejected(BusError::NotFound { message })) => {
            assert_eq!(message, format!("The user of broker account {account} was deleted"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_store_after_the_user_was_deleted_is_refused_and_writes_nothing() {
    let harness = Harness::start(|_| {}).await;
    let (account, another) = (BrokerAccountId::new(), BrokerAccountId::new());
    // The gateway replays `users/create` with the same broker account id: the same request.
    let request = store_request(account, "binance", [PUBLIC, SECRET], Some(EXTRA));
    assert_eq!(store(&harness, &request).await.unwrap(), "true");

    let deleted = UserDeleted { user_id: UserId::new(), broker_account_ids: vec![account] };
    harness.publish_on(&harness.nats.subjects().user_deleted(), EventId::new(), &deleted, 0).await;
    test_support::eventually("the user's keys erased", Duration::from_secs(20), || async {
        label_of(&harness, account).await.is_none().then_some(())
    })
    .await;

    // A late replay finds the account erased: refused, nothing stored.
    refused_as_deleted(store(&harness, &request).await, account);
    refused_as_deleted(store(&harness, &store_request(account, "okx", ["pk-other", "sk-other"], None)).await, account);
    assert_eq!(label_of(&harness, account).await, None, "still no row");
    assert_eq!(erased_accounts(&harness).await, vec![account]);

    // Another account is stored as before.
    assert_eq!(store(&harness, &store_request(another, "binance", [PUBLIC, SECRET], None)).await.unwrap(), "true");
    assert!(label_of(&harness, another).await.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_waiting_on_an_erasure_sees_its_tombstone() {
    let harness = Harness::start(|_| {}).await;
    let account = BrokerAccountId::new();
    // An erasure in progress: it holds the account's lock and has remembered the account, but
    // not committed yet.
    let mut erasure = harness.db.connect().await;
    erasure.batch_execute("BEGIN").await.unwrap();
    credentials::lock_accounts(&mut erasure, &[account]).await.unwrap();
    credentials::remember_erased(&mut erasure, &[account]).await.unwrap();

    let pending = tokio::spawn({
        let client = harness.nats.client().await;
        let endpoint = harness.nats.subjects().store_exchange_credentials();
        let request = store_request(account, "binance", [PUBLIC, SECRET], None);
        async move {
            bus::request_raw(&client, &endpoint, &request, Duration::from_secs(15))
                .await
                .map(|reply| reply.get().to_string())
        }
    });
    // The store waits for the account's lock...
    test_support::eventually("the store waiting for the lock", Duration::from_secs(10), || async {
        #[derive(QueryableByName)]
        struct Waiting {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut connection = harness.db.connect().await;
        let waiting: Waiting = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_locks \
             WHERE locktype = 'advisory' AND NOT granted \
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('{account}', 0)"
        ))
        .get_result(&mut connection)
        .await
        .unwrap();
        (waiting.n > 0).then_some(())
    })
    .await;
    // ...and once the erasure commits, reads its tombstone.
    erasure.batch_execute("COMMIT").await.unwrap();
    refused_as_deleted(pending.await.unwrap(), account);
    assert_eq!(label_of(&harness, account).await, None);
}

/// A `user deleted` delivery as the consumer hands it over.
fn delivery(harness: &Harness, event_id: EventId, deleted: &UserDeleted) -> Delivery {
    let topic = harness.nats.subjects().user_deleted();
    let event = Event {
        id: event_id,
        event_type: topic.event_type().to_string(),
        occurred_at: chrono::Utc::now(),
        data: deleted.clone(),
    };
    Delivery { subject: topic.subject().to_string(), payload: serde_json::to_vec(&event).unwrap().into() }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_erasure_remembers_each_account_once_per_event() {
    let harness = Harness::start(|_| {}).await;
    let pool = platform::db::pool(&harness.settings().database).unwrap();
    let (first, second, third) = (BrokerAccountId::new(), BrokerAccountId::new(), BrokerAccountId::new());
    assert_eq!(store(&harness, &store_request(first, "binance", [PUBLIC, SECRET], None)).await.unwrap(), "true");
    // One batch: an event, its redelivery, and another user's event naming an account twice
    // and one of the first's (a partner's mistake, or a reused account).
    let (one, two) = (EventId::new(), EventId::new());
    let first_user = UserDeleted { user_id: UserId::new(), broker_account_ids: vec![first, second] };
    let second_user = UserDeleted { user_id: UserId::new(), broker_account_ids: vec![third, third, second] };
    let batch = vec![
        delivery(&harness, one, &first_user),
        delivery(&harness, one, &first_user),
        delivery(&harness, two, &second_user),
    ];
    user_deletion::erase(&pool, batch.clone()).await.unwrap();
    let mut expected = vec![first, second, third];
    expected.sort_unstable();
    assert_eq!(erased_accounts(&harness).await, expected);
    assert_eq!(label_of(&harness, first).await, None);

    // Delivered again (tombstones removed by hand to see it): nothing is written.
    execute(&harness, "DELETE FROM erased_broker_accounts").await;
    user_deletion::erase(&pool, batch).await.unwrap();
    assert_eq!(erased_accounts(&harness).await, Vec::<BrokerAccountId>::new(), "applied once per event");
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_keys_reseals_exchange_keys_under_the_current_key() {
    let mut harness = Harness::start(key_a_current).await;
    let account = BrokerAccountId::new();
    assert_eq!(
        store(&harness, &store_request(account, "kraken", [PUBLIC, SECRET], Some(EXTRA))).await.unwrap(),
        "true"
    );
    assert_eq!(seal_of(&harness, account).await, ("key-a".to_string(), Aad::AccountAndExchange.version()));

    harness.stop().await;
    harness.tweak = key_b_current_a_previous;
    let report = harness.admin(rotate(1), "").await;
    assert_eq!(report["resealed"], 2, "the Tradier token and the exchange keys: {report}");
    assert_eq!(seal_of(&harness, account).await, ("key-b".to_string(), Aad::AccountAndExchange.version()));
    assert_eq!(label_of(&harness, account).await, Some(("exchange_keys".into(), None, Some("kraken".into()))));
    assert_eq!(open(&harness, &cipher_b_alone(), account).await.unwrap(), keys(PUBLIC, SECRET, Some(EXTRA)));
    assert_no_key_in(&row_text(&harness, account).await.unwrap(), "the re-sealed row");
    assert_eq!(harness.admin(rotate(500), "").await["resealed"], 0, "nothing is left to re-seal");
}

/// Every event and span field, formatted, at every level.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for CapturedLogs {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut Fields(&mut self.0.lock().unwrap()));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut logs = self.0.lock().unwrap();
        event.record(&mut Fields(&mut logs));
        logs.push('\n');
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn no_log_line_carries_a_key() {
    let harness = Harness::start(|_| {}).await;
    let pool = platform::db::pool(&harness.settings().database).unwrap();
    let cipher = harness.settings().credentials.cipher().unwrap();
    let logs = CapturedLogs::default();
    let _guard = tracing::subscriber::set_default(logs.clone());
    let account = BrokerAccountId::new();
    let erased = BrokerAccountId::new();
    credentials::remember_erased(&mut harness.db.connect().await, &[erased]).await.unwrap();
    let requests = [
        (&cipher, store_request(account, "binance", [PUBLIC, SECRET], Some(EXTRA))),
        (&cipher, store_request(harness.account, "binance", [PUBLIC, SECRET], Some(EXTRA))),
        (&cipher, store_request(erased, "kraken", [PUBLIC, SECRET], Some(EXTRA))),
        (&cipher, store_request(account, "bin ance", [PUBLIC, SECRET], Some(EXTRA))),
        (&CredentialCipher::new(None), store_request(account, "binance", [PUBLIC, SECRET], Some(EXTRA))),
    ];
    let mut replies = Vec::new();
    for (cipher, request) in requests {
        // Other threads (the fetcher's) may have hit these callsites first, with no subscriber.
        tracing::callsite::rebuild_interest_cache();
        replies.push(format!("{:?}", exchange_credentials::store(&pool, cipher, request).await));
    }
    let logs = logs.0.lock().unwrap().clone();
    assert!(logs.contains("exchange keys stored") && logs.contains(&account.to_string()), "{logs}");
    assert!(logs.contains("the account holds a Tradier token") && logs.contains("binance"), "{logs}");
    assert!(logs.contains("the account's user was deleted") && logs.contains(&erased.to_string()), "{logs}");
    assert_no_key_in(&logs, "the logs");
    assert_no_key_in(&replies.join(" "), "the replies");
    assert_no_key_in(&format!("{:?}", store_request(account, "binance", [PUBLIC, SECRET], Some(EXTRA))), "Debug");
}
