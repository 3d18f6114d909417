//! Reference 000's asynchronous enrichment, end to end: a participation through the Bot API,
//! the ledger's outbox, the fetcher, the local Tradier server, and back into the ledger.

use super::fixture::Fixture;
use crate::leaks;
use async_nats::jetstream;
use domain::ServiceName;
use outbox_broker_fetcher::admin::AdminCommand;
use serde_json::{Value, json};
use std::time::Duration;
use tradier_sim::{HeldOrder, SimStatus};

const TOKEN: &str = "tok-e2e-never-logged-4b9d27";

impl Fixture {
    async fn store_credentials(&self) {
        let account = self.account_id.parse().unwrap();
        let command = AdminCommand::SetCredentials { broker_account: account, environment: "sandbox".into() };
        let stored = self.system.fetcher_admin(command, TOKEN).await;
        assert_eq!(stored, json!({"brokerAccountId": self.account_id, "environment": "sandbox"}), "no token echoed");
        self.system.tradier.require_token("VA0001", TOKEN);
    }

    async fn participate(&self, order: &str, children: &[&str]) {
        let body = json!({"participations": [{
            "botTradeId": self.bot.trade_id, "userId": self.user_id,
            "brokerAccountId": self.account_id, "brokerOrderId": order, "childOrderIds": children
        }]});
        let (status, reply) = self.post("/participations", body).await;
        assert_eq!(status, 200, "{reply}");
    }

    /// Waits until the trade's participation for `order` has left `pending_fetch`.
    async fn settled(&self, order: &str) -> Value {
        test_support::eventually(&format!("participation {order} settled"), Duration::from_secs(30), || async {
            let (_, reply) = self.get(&format!("/trades/{}/participations", self.bot.trade_id)).await;
            reply["participations"]
                .as_array()?
                .iter()
                .find(|p| p["brokerOrderId"] == order && p["fetchStatus"] != "pending_fetch")
                .cloned()
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_participation_shows_its_fetched_parent_and_child_orders() {
    let fixture = Fixture::start().await;
    fixture.store_credentials().await;
    fixture.system.tradier.hold("VA0001", "ORD-2", HeldOrder::status(SimStatus::Open));
    fixture.participate("ORD-1", &["ORD-2", "ORD-3"]).await;

    let participation = fixture.settled("ORD-1").await;
    assert_eq!(participation["fetchStatus"], "fetched", "{participation}");
    assert_eq!(participation["brokerOrderStatus"], "filled");
    assert!(participation["filledQuantity"].is_string() && participation["avgFillPrice"].is_string());
    assert!(participation["fetchedAt"].is_string());
    assert_eq!(participation["fetchError"], Value::Null);
    let children = participation["childOrders"].as_array().unwrap();
    let statuses: Vec<_> = children.iter().map(|c| (c["orderId"].clone(), c["status"].clone())).collect();
    assert_eq!(statuses, [(json!("ORD-2"), json!("open")), (json!("ORD-3"), json!("filled"))]);
    let open_filled: f64 = children[0]["filledQuantity"].as_str().unwrap().parse().unwrap();
    assert_eq!(open_filled, 0.0, "an open order has nothing filled");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_without_credentials_shows_fetch_failed_with_a_fixed_code_and_message() {
    let fixture = Fixture::start().await;
    fixture.participate("ORD-9", &[]).await;
    let participation = fixture.settled("ORD-9").await;
    assert_eq!(participation["fetchStatus"], "fetch_failed");
    assert_eq!(
        participation["fetchError"],
        json!({"code": "no_credentials", "message": "No broker credentials are stored for this broker account"})
    );
    // Nothing of the fetcher's own detail reaches a client: no id, account number or broker text.
    let shown = participation["fetchError"].to_string();
    let internals =
        [fixture.account_id.as_str(), fixture.user_id.as_str(), "VA0001", "TRADIER", "ORD-9", "credentials stored"];
    for internal in internals {
        assert!(!shown.contains(internal), "fetchError shows {internal:?}: {shown}");
    }

    // Credentials arrive; an admin retry fetches it and the participation moves on.
    fixture.store_credentials().await;
    fixture.system.fetcher_admin(AdminCommand::Retry { participation: None, all: true }, "").await;
    let participation =
        test_support::eventually("participation fetched after the retry", Duration::from_secs(30), || async {
            let (_, reply) = fixture.get(&format!("/trades/{}/participations", fixture.bot.trade_id)).await;
            let participation = &reply["participations"][0];
            (participation["fetchStatus"] == "fetched").then(|| participation.clone())
        })
        .await;
    assert_eq!(participation["fetchError"], Value::Null, "a fetched participation has no error");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_purged_from_the_stream_is_recovered_by_the_sweep() {
    let mut fixture = Fixture::start().await;
    fixture.store_credentials().await;
    fixture.system.stop(ServiceName::OutboxBrokerFetcher).await;
    fixture.participate("ORD-LOST", &[]).await;

    // The request reaches the stream, then the stream loses it.
    test_support::eventually("the request is published", Duration::from_secs(10), || async {
        let published = fixture.count("SELECT count(*) AS count FROM outbox WHERE published_at IS NOT NULL").await;
        (published == 1).then_some(())
    })
    .await;
    let js = jetstream::new(fixture.system.nats().client().await);
    let stream_name = fixture.system.nats().subjects().stream_name(ServiceName::TradeLedger);
    js.get_stream(&stream_name).await.unwrap().purge().await.unwrap();

    fixture.system.restart_fetcher().await.unwrap();
    let participation = fixture.settled("ORD-LOST").await;
    assert_eq!(participation["fetchStatus"], "fetched");
    let republished = fixture.count("SELECT sum(republish_count)::bigint AS count FROM outbox").await;
    assert!(republished >= 1, "the sweep published it again with a fresh message id");
    assert_eq!(fixture.system.tradier.requests("VA0001", "ORD-LOST"), 1, "fetched once");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_credential_reaches_the_ledger_database_or_any_log_line() {
    let logs = leaks::capture_logs_at_trace();
    let fixture = Fixture::start().await;
    fixture.store_credentials().await;
    fixture.participate("ORD-T", &["ORD-T2"]).await;
    assert_eq!(fixture.settled("ORD-T").await["fetchStatus"], "fetched", "the token was used");

    let captured = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(captured.contains("TRACE"), "logs were captured at TRACE ({} bytes)", captured.len());
    assert!(!captured.contains(TOKEN), "a log line holds the token");

    for service in [ServiceName::TradeLedger, ServiceName::OutboxBrokerFetcher] {
        let dump = leaks::dump_database(&fixture.system, service).await;
        assert!(dump.contains("ORD-T"), "the dump reads the data");
        assert!(!dump.contains(TOKEN), "the {service} database holds the token in clear");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_document_shows_fetch_error_as_a_code_and_message() {
    let fixture = Fixture::start().await;
    let (status, document) = fixture.send(reqwest::Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let schemas = &document["components"]["schemas"];
    let field = schemas["ParticipationView"]["properties"]["fetchError"].to_string();
    assert!(field.contains("#/components/schemas/FetchError\""), "{field}");
    assert_eq!(schemas["FetchError"]["required"], json!(["code", "message"]));
    assert_eq!(
        schemas["FetchErrorCode"]["enum"],
        json!([
            "no_credentials",
            "broker_refused",
            "order_not_found",
            "broker_unavailable",
            "unstorable_answer",
            "fetch_timed_out"
        ])
    );
}
