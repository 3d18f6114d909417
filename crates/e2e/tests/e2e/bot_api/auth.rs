//! The ledger authenticates partner keys and user tokens for the gateway, like bot keys.

use super::fixture::Fixture;
use bus::BusError;
use bus::messages::ledger_auth::{Credential, Principal};
use domain::api_key::KeyProof;
use futures::StreamExt;
use reqwest::Method;
use std::time::Duration;
use trade_ledger::admin::AdminCommand;

#[tokio::test(flavor = "multi_thread")]
async fn partner_keys_and_user_tokens_resolve_to_their_owner_and_nothing_else() {
    let fixture = Fixture::start().await;
    let partner = fixture.system.admin(AdminCommand::CreatePartner { name: "Acme".into() }).await;
    let user =
        fixture.system.admin(AdminCommand::CreateUser { partner: None, email: "carol@example.com".into() }).await;
    let client = fixture.system.nats().client().await;
    let endpoint = fixture.system.nats().subjects().authenticate();
    let ask = |credential: Credential| {
        let client = client.clone();
        let endpoint = endpoint.clone();
        async move { bus::request(&client, &endpoint, &credential, Duration::from_secs(5)).await }
    };

    let partner_key = KeyProof::of(partner["apiKey"].as_str().unwrap());
    match ask(Credential::Partner { key: partner_key.clone() }).await.unwrap() {
        Principal::Partner { partner_id } => assert_eq!(partner_id.to_string(), partner["partnerId"].as_str().unwrap()),
        other => panic!("{other:?}"),
    }
    let token = KeyProof::of(user["token"].as_str().unwrap());
    match ask(Credential::User { token: token.clone() }).await.unwrap() {
        Principal::User { user_id } => assert_eq!(user_id.to_string(), user["userId"].as_str().unwrap()),
        other => panic!("{other:?}"),
    }
    // A key of one kind is not a credential of another, and a forged key is nothing.
    let refused = |result: Result<Principal, bus::RequestError>| {
        matches!(result, Err(bus::RequestError::Rejected(BusError::Forbidden { .. })))
    };
    assert!(refused(ask(Credential::User { token: partner_key }).await));
    assert!(refused(ask(Credential::Partner { key: token }).await));
    let bot_key = KeyProof::of(&fixture.bot.key);
    assert!(refused(ask(Credential::Partner { key: bot_key }).await));
    assert!(refused(ask(Credential::Partner { key: KeyProof::of("tb_0123456789ab_forged") }).await));
}

/// Anyone able to listen on the bus must not learn a key: the gateway sends the ledger only
/// the key's lookup prefix and its SHA-256.
#[tokio::test(flavor = "multi_thread")]
async fn keys_never_cross_the_bus() {
    let fixture = Fixture::start().await;
    let partner = fixture.system.admin(AdminCommand::CreatePartner { name: "Acme".into() }).await;
    let partner_key = partner["apiKey"].as_str().unwrap().to_string();
    // A bot of its own, so no earlier request can have put its key in the gateway's cache.
    let bot =
        fixture.system.admin(AdminCommand::CreateBot { slug: "snooped".into(), name: "S".into(), owner: None }).await;
    let bot_key = bot["apiKey"].as_str().unwrap().to_string();
    let client = fixture.system.nats().client().await;
    // A plain subscription (not the ledger's queue group) sees a copy of every request.
    let subject = fixture.system.nats().subjects().authenticate().subject().to_string();
    let mut requests = client.subscribe(subject).await.unwrap();
    test_support::sync(&client).await;

    let (status, _) = fixture.send(Method::GET, "/api/bots/snooped/trades", Some(&bot_key), None).await;
    assert_eq!(status, 200);
    let (status, _) = fixture
        .send(
            Method::GET,
            "/partner/v1/bots/backtest/00000000-0000-0000-0000-000000000000/status",
            Some(&partner_key),
            None,
        )
        .await;
    assert_eq!(status, 404);

    for key in [&bot_key, &partner_key] {
        let proof = KeyProof::of(key);
        let secret_part = key.rsplit('_').next().unwrap().to_string();
        // The request carrying this key's proof (others may pass by on the subject too).
        let payload = loop {
            let message = tokio::time::timeout(Duration::from_secs(20), requests.next()).await.unwrap().unwrap();
            let payload = String::from_utf8(message.payload.to_vec()).unwrap();
            assert!(!payload.contains(&secret_part), "the key crossed the bus: {payload}");
            if payload.contains(&proof.lookup) {
                break payload;
            }
        };
        assert!(payload.contains(&proof.sha256), "{payload}");
    }
}
