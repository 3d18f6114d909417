//! Exchange keys: stored on request, sealed to their account and exchange, never in a reply, a
//! row's bytes or a log line; refused whole when malformed; erased when the ledger says their
//! user was deleted (once per event); re-sealed by a key rotation like Tradier tokens.

use crate::credentials::{cipher_b_alone, execute, key_a_current, key_b_current_a_previous, rotate, seal_of};
use crate::harness::Harness;
use bus::BusError;
use bus::RequestError;
use bus::messages::credentials::StoreExchangeCredentials;
use bus::messages::partner::UserDeleted;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::{BrokerAccountId, EventId, Secret, UserId};
use outbox_broker_fetcher::crypto::{Aad, CipherError, CredentialCipher, ExchangeKeys};
use outbox_broker_fetcher::settings::Settings;
use outbox_broker_fetcher::store::credentials;
use outbox_broker_fetcher::store::schema::broker_credentials;
use outbox_broker_fetcher::usecase::exchange_credentials;
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

    // Keys stored again for one of the accounts, then the same event delivered again (a
    // deliberate re-publish, fresh message id): it has had its effect and has no other.
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
    let requests = [
        (&cipher, store_request(account, "binance", [PUBLIC, SECRET], Some(EXTRA))),
        (&cipher, store_request(harness.account, "binance", [PUBLIC, SECRET], Some(EXTRA))),
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
    assert_no_key_in(&logs, "the logs");
    assert_no_key_in(&replies.join(" "), "the replies");
    assert_no_key_in(&format!("{:?}", store_request(account, "binance", [PUBLIC, SECRET], Some(EXTRA))), "Debug");
}
