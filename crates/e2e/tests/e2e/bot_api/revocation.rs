//! `trade-ledger admin revoke-key`: a revoked key stops working at the gateway, a bot key once
//! the gateway's few seconds of cached answers ran out, a partner key at once.

use super::fixture::{Fixture, text};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use trade_ledger::admin::AdminCommand;

/// How long the gateway reuses a positive bot-key answer (`api::bot::auth`).
const GATEWAY_CACHE_TTL: Duration = Duration::from_secs(5);

/// The public lookup prefix of a key `tb_<lookup>_<secret>`.
fn lookup(key: &str) -> String {
    key.split('_').nth(1).unwrap().to_string()
}

async fn revoke(fixture: &Fixture, key: &str) -> Value {
    let revoked = fixture.system.admin(AdminCommand::RevokeKey { lookup: lookup(key) }).await;
    assert!(!revoked.to_string().contains(key), "never the key: {revoked}");
    revoked
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_bot_key_is_refused_once_the_gateway_cache_has_expired() {
    let fixture = Fixture::start().await;
    assert_eq!(fixture.get("").await.0, 200, "the key works (and the gateway caches the answer)");
    let cached_at = Instant::now();

    let revoked = revoke(&fixture, &fixture.bot.key).await;
    assert_eq!(revoked["ownerKind"], "bot");
    assert_eq!(revoked["ownerId"], fixture.bot.id.as_str());
    assert_eq!(revoked["lookupPrefix"], lookup(&fixture.bot.key));
    assert_eq!(revoked["alreadyRevoked"], false);
    assert!(revoked["revokedAt"].is_string());
    // Revoking again changes nothing and says so.
    let again = revoke(&fixture, &fixture.bot.key).await;
    assert_eq!(again["alreadyRevoked"], true);
    assert_eq!(again["revokedAt"], revoked["revokedAt"]);

    // The gateway may keep accepting it while its cached answer lasts...
    let (status, _) = fixture.get("").await;
    if cached_at.elapsed() < GATEWAY_CACHE_TTL - Duration::from_secs(1) {
        assert_eq!(status, 200, "still within the gateway's cache");
    }
    // ...then the ledger's refusal is the Bot API's 403.
    test_support::eventually("the revoked key is refused", GATEWAY_CACHE_TTL + Duration::from_secs(3), || async {
        let reply = fixture.get("").await;
        (reply == (403, json!({"message": "Invalid API key for this bot"}))).then_some(())
    })
    .await;
    let body = json!({"participations": [{
        "botTradeId": fixture.bot.trade_id, "userId": fixture.user_id,
        "brokerAccountId": fixture.account_id, "brokerOrderId": "AFTER-REVOKE"
    }]});
    assert_eq!(fixture.post("/participations", body).await.0, 403, "no write either");
    assert_eq!(fixture.count("SELECT count(*) FROM participations").await, 0);

    // Only that key: the other bot's still works.
    let path = format!("/api/bots/{}", fixture.other.slug);
    assert_eq!(fixture.send(Method::GET, &path, Some(&fixture.other.key), None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_partner_key_is_refused_at_once() {
    let fixture = Fixture::start().await;
    let partner = fixture.system.admin(AdminCommand::CreatePartner { name: "Acme".into() }).await;
    let key = text(&partner, "apiKey");
    // An unknown backtest: 404 when the key is accepted, 401 when it is not.
    let path = format!("/partner/v1/bots/backtest/{}/status", uuid::Uuid::now_v7());
    test_support::eventually("the partner key is accepted", Duration::from_secs(10), || async {
        (fixture.send(Method::GET, &path, Some(&key), None).await.0 == 404).then_some(())
    })
    .await;

    let revoked = revoke(&fixture, &key).await;
    assert_eq!(revoked["ownerKind"], "partner");
    assert_eq!(revoked["ownerId"], partner["partnerId"]);
    assert_eq!(revoked["alreadyRevoked"], false);

    // The Partner API keeps no cache: the very next request is refused.
    let (status, body) = fixture.send(Method::GET, &path, Some(&key), None).await;
    assert_eq!((status, body["code"].clone()), (401, json!(1401)), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_an_unknown_or_malformed_prefix_fails_and_changes_nothing() {
    let fixture = Fixture::start().await;
    let url = fixture.system.db(domain::ServiceName::TradeLedger).url().to_string();
    let run = |lookup: &str| trade_ledger::admin::run(&url, AdminCommand::RevokeKey { lookup: lookup.into() });

    let unknown = run("0123456789ab").await.unwrap_err();
    assert_eq!(unknown.to_string(), "no API key has the lookup prefix 0123456789ab");
    // A whole key pasted by mistake is refused without echoing it.
    let malformed = run(&fixture.bot.key).await.unwrap_err().to_string();
    assert!(malformed.contains("12 hex digits") && !malformed.contains(&fixture.bot.key), "{malformed}");

    assert_eq!(fixture.count("SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL").await, 0);
    assert_eq!(fixture.get("").await.0, 200, "the bot's key still works");
}
