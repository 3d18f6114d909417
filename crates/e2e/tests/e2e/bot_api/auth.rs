//! The ledger authenticates partner keys and user tokens for the gateway, like bot keys.

use super::fixture::Fixture;
use bus::BusError;
use bus::messages::ledger_auth::{Credential, Principal};
use domain::Secret;
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

    let partner_key = Secret::new(partner["apiKey"].as_str().unwrap());
    match ask(Credential::Partner { api_key: partner_key.clone() }).await.unwrap() {
        Principal::Partner { partner_id } => assert_eq!(partner_id.to_string(), partner["partnerId"].as_str().unwrap()),
        other => panic!("{other:?}"),
    }
    let token = Secret::new(user["token"].as_str().unwrap());
    match ask(Credential::User { token: token.clone() }).await.unwrap() {
        Principal::User { user_id } => assert_eq!(user_id.to_string(), user["userId"].as_str().unwrap()),
        other => panic!("{other:?}"),
    }
    // A key of one kind is not a credential of another, and a forged key is nothing.
    let refused = |result: Result<Principal, bus::RequestError>| {
        matches!(result, Err(bus::RequestError::Rejected(BusError::Forbidden { .. })))
    };
    assert!(refused(ask(Credential::User { token: partner_key }).await));
    assert!(refused(ask(Credential::Partner { api_key: token }).await));
    let bot_key = Secret::new(fixture.bot.key.clone());
    assert!(refused(ask(Credential::Partner { api_key: bot_key }).await));
    assert!(refused(ask(Credential::Partner { api_key: Secret::new("tb_0123456789ab_forged") }).await));
}
