//! Credential keys: rows sealed under an old key stay readable while the key is listed in
//! `credentials.previous_keys`, `admin rotate-keys` re-seals them under the current key with
//! the account and environment as associated data, and a re-sealed row opens only where it
//! belongs.

use crate::harness::{Harness, TOKEN, encode_key};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::{BrokerAccountId, Secret};
use outbox_broker_fetcher::admin::AdminCommand;
use outbox_broker_fetcher::broker::TradierEnvironment;
use outbox_broker_fetcher::crypto::{Aad, CipherError, CredentialCipher, DataKey, NONCE_LEN, Sealed};
use outbox_broker_fetcher::settings::{PreviousKey, Settings};
use outbox_broker_fetcher::store::credentials::{self, Reseal};
use outbox_broker_fetcher::store::schema::broker_credentials;
use serde_json::json;

const KEY_A: [u8; 32] = [0xA1; 32];
const KEY_B: [u8; 32] = [0xB2; 32];
const KEY_C: [u8; 32] = [0xC3; 32];

pub fn key_a_current(settings: &mut Settings) {
    settings.credentials.encryption_key = encode_key(&KEY_A);
    settings.credentials.key_id = "key-a".into();
    settings.credentials.previous_keys = Vec::new();
}

pub fn key_b_current_a_previous(settings: &mut Settings) {
    settings.credentials.encryption_key = encode_key(&KEY_B);
    settings.credentials.key_id = "key-b".into();
    settings.credentials.previous_keys = vec![PreviousKey { id: "key-a".into(), key: encode_key(&KEY_A) }];
}

fn key_b_alone(settings: &mut Settings) {
    settings.credentials.encryption_key = encode_key(&KEY_B);
    settings.credentials.key_id = "key-b".into();
    settings.credentials.previous_keys = Vec::new();
}

pub fn rotate(batch_size: i64) -> AdminCommand {
    AdminCommand::RotateKeys { batch_size }
}

/// Stores `token` for `account` as the code before key ids sealed it: with `key`, the account
/// id alone as associated data, and the id the migration gave such rows.
async fn store_legacy(harness: &Harness, account: BrokerAccountId, key: [u8; 32], key_id: &str, token: &str) {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let payload = Payload { msg: token.as_bytes(), aad: account.as_uuid().as_bytes() };
    let ciphertext = XChaCha20Poly1305::new(&key.into()).encrypt(XNonce::from_slice(&nonce), payload).unwrap();
    let sealed = Sealed { nonce: nonce.to_vec(), ciphertext, key_id: key_id.into(), aad: Aad::Account };
    let mut connection = harness.db.connect().await;
    credentials::upsert(&mut connection, account, "live", &sealed).await.unwrap();
}

/// `(key id, associated-data version)` of an account's row.
pub async fn seal_of(harness: &Harness, account: BrokerAccountId) -> (String, i16) {
    let mut connection = harness.db.connect().await;
    broker_credentials::table
        .filter(broker_credentials::broker_account_id.eq(account))
        .select((broker_credentials::key_id, broker_credentials::aad_version))
        .first(&mut connection)
        .await
        .unwrap()
}

/// Opens an account's stored credential as the fetcher would: its stored environment, the
/// key its id names.
async fn open(harness: &Harness, cipher: &CredentialCipher, account: BrokerAccountId) -> Result<Secret, CipherError> {
    let mut connection = harness.db.connect().await;
    let stored = credentials::find(&mut connection, account).await.unwrap().unwrap();
    let environment: TradierEnvironment = stored.environment.parse().unwrap();
    cipher.open(account, environment, &stored.sealed()?)
}

pub fn cipher_b_alone() -> CredentialCipher {
    CredentialCipher::with_keys(Some(DataKey { id: "key-b".into(), key: KEY_B }), Vec::new())
}

/// Changes a row's environment behind the fetcher's back, as a database edit would.
async fn set_environment(harness: &Harness, account: BrokerAccountId, environment: &str) {
    execute(
        harness,
        &format!("UPDATE broker_credentials SET environment = '{environment}' WHERE broker_account_id = '{account}'"),
    )
    .await;
}

pub async fn execute(harness: &Harness, sql: &str) {
    let mut connection = harness.db.connect().await;
    diesel::sql_query(sql).execute(&mut connection).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_sealed_under_a_previous_key_opens_and_rotate_keys_reseals_it_under_the_current_one() {
    let mut harness = Harness::start(key_a_current).await;
    let second_account = BrokerAccountId::new();
    store_legacy(&harness, harness.account, KEY_A, "key-a", TOKEN).await;
    store_legacy(&harness, second_account, KEY_A, "key-a", "tok-second").await;

    // B is the current key now; A is only listed to read what it sealed.
    harness.stop().await;
    harness.tweak = key_b_current_a_previous;
    harness.start_fetcher().await;
    let before = harness.send(harness.request("9901", &[])).await;
    harness.wait_for(before.participation_id, "fetched").await;

    let report = harness.admin(rotate(1), "").await;
    assert_eq!(report, json!({"resealed": 2, "changedMeanwhile": 0, "unreadable": []}), "two batches of one");
    for account in [harness.account, second_account] {
        assert_eq!(seal_of(&harness, account).await, ("key-b".to_string(), Aad::CURRENT.version()));
    }
    assert_eq!(harness.admin(rotate(500), "").await["resealed"], 0, "nothing is left to re-seal");
    // The running process reads the re-sealed row (or its cached token) as before.
    let during = harness.send(harness.request("9902", &[])).await;
    harness.wait_for(during.participation_id, "fetched").await;

    // A is gone from the settings: the rotated rows open with B alone.
    assert_eq!(open(&harness, &cipher_b_alone(), harness.account).await.unwrap().expose(), TOKEN);
    assert_eq!(open(&harness, &cipher_b_alone(), second_account).await.unwrap().expose(), "tok-second");
    harness.stop().await;
    harness.tweak = key_b_alone;
    harness.start_fetcher().await;
    let after = harness.send(harness.request("9903", &[])).await;
    harness.wait_for(after.participation_id, "fetched").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resealed_credential_opens_only_for_its_account_and_environment() {
    let mut harness = Harness::start(key_a_current).await;
    let account = harness.account;
    store_legacy(&harness, account, KEY_A, "key-a", TOKEN).await;
    let cipher_a = CredentialCipher::with_keys(Some(DataKey { id: "key-a".into(), key: KEY_A }), Vec::new());
    // Before the rotation the environment is not bound: that is what re-sealing fixes.
    set_environment(&harness, account, "sandbox").await;
    assert_eq!(open(&harness, &cipher_a, account).await.unwrap().expose(), TOKEN);
    set_environment(&harness, account, "live").await;

    harness.tweak = key_b_current_a_previous;
    assert_eq!(harness.admin(rotate(500), "").await["resealed"], 1);
    assert_eq!(open(&harness, &cipher_b_alone(), account).await.unwrap().expose(), TOKEN);

    // The sealed value copied to another account's row does not open there.
    let moved = BrokerAccountId::new();
    execute(
        &harness,
        &format!(
            "INSERT INTO broker_credentials (broker_account_id, environment, nonce, ciphertext, key_id, aad_version) \
             SELECT '{moved}', environment, nonce, ciphertext, key_id, aad_version FROM broker_credentials \
             WHERE broker_account_id = '{account}'"
        ),
    )
    .await;
    assert_eq!(open(&harness, &cipher_b_alone(), moved).await.unwrap_err(), CipherError::Undecryptable);
    // Nor does it with its environment flipped.
    set_environment(&harness, account, "sandbox").await;
    assert_eq!(open(&harness, &cipher_b_alone(), account).await.unwrap_err(), CipherError::Undecryptable);

    // The fetcher parks both with `no_credentials` and sends the token nowhere.
    harness.stop().await;
    harness.tweak = key_b_alone;
    harness.start_fetcher().await;
    let flipped = harness.send(harness.request("9911", &[])).await;
    let mut copied = harness.request("9912", &[]);
    copied.broker_account_id = moved;
    let copied = harness.send(copied).await;
    for request in [&flipped, &copied] {
        let (attempts, error) = harness.wait_for(request.participation_id, "dead_letter").await;
        assert_eq!(attempts, 0, "no broker call");
        assert!(error.unwrap().contains("does not decrypt"));
        assert_eq!(harness.error_code(request.participation_id).await.as_deref(), Some("no_credentials"));
    }
    assert_eq!(harness.sim.requests(crate::harness::ACCOUNT, "9911"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_keys_names_the_credentials_it_cannot_open_and_reseals_the_others() {
    let mut harness = Harness::start(key_a_current).await;
    let unknown = BrokerAccountId::new();
    store_legacy(&harness, unknown, KEY_C, "key-c", "tok-c").await;
    harness.tweak = key_b_current_a_previous;

    let error = harness.try_admin(rotate(500), "").await.unwrap_err().to_string();
    assert!(error.contains("re-sealed 1 credential") && error.contains(&unknown.to_string()), "{error}");
    assert!(error.contains("key-c") && !error.contains("tok-c"), "{error}");
    assert_eq!(seal_of(&harness, harness.account).await.0, "key-b");
    assert_eq!(seal_of(&harness, unknown).await, ("key-c".to_string(), Aad::Account.version()), "left as it was");

    // A job for it is parked with `no_credentials`: its key is not one this process holds.
    harness.stop().await;
    harness.start_fetcher().await;
    let mut request = harness.request("9921", &[]);
    request.broker_account_id = unknown;
    let request = harness.send(request).await;
    let (_, error) = harness.wait_for(request.participation_id, "dead_letter").await;
    assert!(error.unwrap().contains("key id `key-c`"));
    assert_eq!(harness.error_code(request.participation_id).await.as_deref(), Some("no_credentials"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_set_again_between_read_and_write_is_not_overwritten() {
    let mut harness = Harness::start(key_a_current).await;
    harness.tweak = key_b_current_a_previous;
    let cipher = harness.settings().credentials.cipher().unwrap();
    let mut connection = harness.db.connect().await;
    let read = credentials::not_current(&mut connection, "key-b", None, 10).await.unwrap();
    assert_eq!(read.len(), 1);
    let (account, stored) = &read[0];
    let stale = Reseal {
        account: *account,
        label: stored.label.clone(),
        read_nonce: stored.nonce.clone(),
        sealed: cipher.seal(*account, TradierEnvironment::Live, &Secret::new("tok-stale")).unwrap(),
    };

    let command = AdminCommand::SetCredentials { broker_account: *account, environment: "live".into() };
    harness.admin(command, "tok-new").await;
    assert_eq!(credentials::reseal_many(&mut connection, &[stale]).await.unwrap(), Vec::<BrokerAccountId>::new());
    assert_eq!(open(&harness, &cipher, *account).await.unwrap().expose(), "tok-new");
}
