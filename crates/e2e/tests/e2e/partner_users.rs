//! A partner's users through the gateway, the ledger and the fetcher: paper users, users with
//! exchange keys that only the fetcher ever holds (sealed), paging, deletion, idempotency, and
//! every refusal in the envelope.

use crate::leaks;
use crate::partner::{call, exchange, partner_key, send};
use crate::system::System;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use domain::ServiceName;
use serde_json::{Value, json};
use std::time::Duration;

const PUBLIC_KEY: &str = "pk-e2e-never-stored-7c1f90";
const SECRET_KEY: &str = "sk-e2e-never-stored-3a8e41";
const EXTRA_KEY: &str = "xk-e2e-never-stored-55d0b2";

async fn started() -> (System, String) {
    let system = System::start().await.expect("the system starts");
    let key = partner_key(&system, "Users Partner").await;
    test_support::eventually("the ledger answers", Duration::from_secs(10), || async {
        (call(&system, &key, "POST", "/partner/v1/users/list", Some(json!({}))).await.0 == 200).then_some(())
    })
    .await;
    (system, key)
}

async fn create(system: &System, key: &str, body: Value) -> String {
    let (status, created) = call(system, key, "POST", "/partner/v1/users/create", Some(body)).await;
    assert_eq!(status, 200, "{created}");
    created["data"].as_str().expect("the bare userId").to_string()
}

async fn sim_user(system: &System, key: &str) -> String {
    create(system, key, json!({"exchangeId": "SIM", "publicKey": "sim", "secretKey": "x"})).await
}

async fn get(system: &System, key: &str, user: &str) -> (u16, Value) {
    call(system, key, "POST", "/partner/v1/users/get", Some(json!({"userId": user}))).await
}

fn assert_refused(reply: &(u16, Value), status: u16, code: u16, message: &str) {
    assert_eq!((reply.0, reply.1["code"].clone()), (status, json!(code)), "{}", reply.1);
    assert_eq!(reply.1["isSuccess"], false);
    assert!(reply.1["data"].is_null());
    assert_eq!(reply.1["message"], message);
}

/// How many sealed credentials the fetcher holds for `account`.
async fn sealed_rows(system: &System, account: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let mut connection = system.db(ServiceName::OutboxBrokerFetcher).connect().await;
    let count: Count = diesel::sql_query(format!(
        "SELECT count(*) AS count FROM broker_credentials WHERE broker_account_id = '{account}' \
           AND kind = 'exchange_keys'"
    ))
    .get_result(&mut connection)
    .await
    .unwrap();
    count.count
}

/// The broker account the ledger made for `user`.
async fn account_of(system: &System, user: &str) -> String {
    #[derive(QueryableByName)]
    struct Account {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let mut connection = system.db(ServiceName::TradeLedger).connect().await;
    let account: Account =
        diesel::sql_query(format!("SELECT id::text AS id FROM broker_accounts WHERE user_id = '{user}'"))
            .get_result(&mut connection)
            .await
            .unwrap();
    account.id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sim_user_is_created_read_listed_and_deleted() {
    let (system, key) = started().await;
    let user = sim_user(&system, &key).await;
    assert!(user.parse::<uuid::Uuid>().is_ok(), "a UUID: {user}");

    let (status, found) = get(&system, &key, &user).await;
    assert_eq!(status, 200, "{found}");
    let data = &found["data"];
    assert_eq!((data["userId"].as_str(), data["exchangeId"].as_str()), (Some(user.as_str()), Some("SIM")));
    assert!(data["exchangeUserId"].is_null());
    assert_eq!((data["botsStarted"].clone(), data["botsActive"].clone()), (json!(0), json!(0)));
    let created_at = data["createdAt"].as_i64().unwrap();
    assert!((chrono::Utc::now().timestamp() - created_at).abs() < 60, "unix seconds: {created_at}");
    assert_eq!(
        data.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["botsActive", "botsStarted", "createdAt", "exchangeId", "exchangeUserId", "userId"],
        "the reference's fields, no key material"
    );

    // A paper account stores nothing in the fetcher.
    assert_eq!(sealed_rows(&system, &account_of(&system, &user).await).await, 0);

    let (status, deleted) =
        call(&system, &key, "POST", "/partner/v1/users/delete", Some(json!({"userId": user}))).await;
    assert_eq!((status, deleted["data"].clone()), (200, json!(true)), "{deleted}");
    assert_refused(&get(&system, &key, &user).await, 404, 1001, &format!("User '{user}' not found"));
    let again = call(&system, &key, "POST", "/partner/v1/users/delete", Some(json!({"userId": user}))).await;
    assert_refused(&again, 404, 1001, &format!("User '{user}' not found"));
    let (_, listed) = call(&system, &key, "POST", "/partner/v1/users/list", None).await;
    assert_eq!(listed["data"]["items"], json!([]), "a deleted user is not listed");
}

#[tokio::test(flavor = "multi_thread")]
async fn users_page_newest_first_to_the_end() {
    let (system, key) = started().await;
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(sim_user(&system, &key).await);
    }
    let other_key = partner_key(&system, "Other Partner").await;
    sim_user(&system, &other_key).await;

    let mut seen = Vec::new();
    let mut next = json!("");
    loop {
        let body = json!({"limit": 1, "nextPageId": next});
        let (status, page) = call(&system, &key, "POST", "/partner/v1/users/list", Some(body)).await;
        assert_eq!(status, 200, "{page}");
        let items = page["data"]["items"].as_array().unwrap();
        assert!(items.len() <= 1);
        seen.extend(items.iter().map(|user| user["userId"].as_str().unwrap().to_string()));
        next = page["data"]["nextPageId"].clone();
        if next.is_null() {
            break;
        }
        assert!(seen.len() < 10, "paging ends");
    }
    created.reverse();
    assert_eq!(seen, created, "newest first, each once, only this partner's");

    let (_, all) = call(&system, &key, "POST", "/partner/v1/users/list", Some(json!({"limit": -1}))).await;
    assert_eq!(all["data"]["items"].as_array().unwrap().len(), 3);
    assert!(all["data"]["nextPageId"].is_null());

    let bad_limit = "limit must be -1 or between 1 and 10000";
    for limit in [json!(0), json!(10_001), json!(-2), json!(1.5), json!("5")] {
        let reply = call(&system, &key, "POST", "/partner/v1/users/list", Some(json!({"limit": limit}))).await;
        assert_refused(&reply, 400, 1000, bad_limit);
    }
    let reply = call(&system, &key, "POST", "/partner/v1/users/list", Some(json!({"nextPageId": "garbage!"}))).await;
    assert_refused(&reply, 400, 1000, "nextPageId is not a valid page token");
    let reply = call(&system, &key, "POST", "/partner/v1/users/list", Some(json!({"limit": 1, "page": 2}))).await;
    assert_refused(&reply, 400, 1000, "Unknown field 'page'");
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_keys_are_sealed_in_the_fetcher_and_nowhere_else() {
    let logs = leaks::capture_logs_at_trace();
    let (system, key) = started().await;
    system.admin(exchange("KEYX", None, false)).await;
    let body = json!({"exchangeId": "KEYX", "publicKey": PUBLIC_KEY, "secretKey": SECRET_KEY,
        "extraKey": EXTRA_KEY, "exchangeUserId": "partner-user-42"});
    let (status, created) = call(&system, &key, "POST", "/partner/v1/users/create", Some(body)).await;
    assert_eq!(status, 200, "{created}");
    let user = created["data"].as_str().unwrap().to_string();
    let account = account_of(&system, &user).await;
    assert_eq!(sealed_rows(&system, &account).await, 1, "one sealed row in the fetcher");

    let (_, found) = get(&system, &key, &user).await;
    assert_eq!(
        (found["data"]["exchangeId"].clone(), found["data"]["exchangeUserId"].clone()),
        (json!("KEYX"), json!("partner-user-42"))
    );
    let (_, listed) = call(&system, &key, "POST", "/partner/v1/users/list", None).await;

    let (status, deleted) =
        call(&system, &key, "POST", "/partner/v1/users/delete", Some(json!({"userId": user}))).await;
    assert_eq!((status, deleted["data"].clone()), (200, json!(true)));
    test_support::eventually("the fetcher erases the credentials", Duration::from_secs(15), || async {
        (sealed_rows(&system, &account).await == 0).then_some(())
    })
    .await;

    let replies = format!("{created}{found}{listed}{deleted}");
    let ledger = leaks::dump_database(&system, ServiceName::TradeLedger).await;
    assert!(ledger.contains(&user), "the dump reads the data");
    let captured = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(captured.contains("TRACE"), "logs were captured at TRACE ({} bytes)", captured.len());
    for secret in [PUBLIC_KEY, SECRET_KEY, EXTRA_KEY] {
        assert!(!replies.contains(secret), "a reply holds {secret}");
        assert!(!ledger.contains(secret), "the ledger's database holds {secret}");
        let leaked: Vec<&str> = captured.lines().filter(|line| line.contains(secret)).collect();
        assert!(leaked.is_empty(), "a log line holds {secret}:\n{}", leaked.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_create_reaches_the_same_user_and_a_reused_key_is_refused() {
    let (system, key) = started().await;
    system.admin(exchange("KEYX", None, false)).await;
    let body = json!({"exchangeId": "KEYX", "publicKey": PUBLIC_KEY, "secretKey": SECRET_KEY});
    let path = "/partner/v1/users/create";
    let first = send(&system, &key, "POST", path, Some(body.clone()), Some("create-user-1")).await;
    let second = send(&system, &key, "POST", path, Some(body.clone()), Some("create-user-1")).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first, second, "the same userId, replayed");
    let user = first.1["data"].as_str().unwrap();
    assert_eq!(sealed_rows(&system, &account_of(&system, user).await).await, 1, "the replay reached the same row");
    let (_, listed) = call(&system, &key, "POST", "/partner/v1/users/list", None).await;
    assert_eq!(listed["data"]["items"].as_array().unwrap().len(), 1, "one user");

    let other = json!({"exchangeId": "KEYX", "publicKey": "pk-other", "secretKey": SECRET_KEY});
    let reused = send(&system, &key, "POST", path, Some(other), Some("create-user-1")).await;
    assert_eq!((reused.0, reused.1["code"].clone()), (422, json!(1011)), "{}", reused.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_and_other_partners_users_are_refused_in_the_envelope() {
    let (system, key) = started().await;
    let user = sim_user(&system, &key).await;
    let other_key = partner_key(&system, "Other Partner").await;

    assert_refused(&get(&system, &other_key, &user).await, 404, 1001, &format!("User '{user}' not found"));
    let delete = json!({"userId": user});
    let reply = call(&system, &other_key, "POST", "/partner/v1/users/delete", Some(delete)).await;
    assert_refused(&reply, 404, 1001, &format!("User '{user}' not found"));
    assert_eq!(get(&system, &key, &user).await.0, 200, "another partner's delete changed nothing");
    assert_refused(&get(&system, &key, "not-a-uuid").await, 404, 1001, "User 'not-a-uuid' not found");

    let create = "/partner/v1/users/create";
    let unknown = json!({"exchangeId": "NOPE", "publicKey": "sim", "secretKey": "x"});
    assert_refused(
        &call(&system, &key, "POST", create, Some(unknown)).await,
        400,
        1000,
        "exchangeId: unknown exchange 'NOPE'",
    );
    system.admin(exchange("OFFX", None, true)).await;
    let disabled = json!({"exchangeId": "OFFX", "publicKey": "sim", "secretKey": "x"});
    assert_refused(
        &call(&system, &key, "POST", create, Some(disabled)).await,
        400,
        1000,
        "exchangeId: unknown exchange 'OFFX'",
    );
    let missing = json!({"exchangeId": "SIM", "secretKey": "x"});
    let reply = call(&system, &key, "POST", create, Some(missing)).await;
    assert_eq!((reply.0, reply.1["code"].clone()), (400, json!(1000)), "{}", reply.1);
    assert!(reply.1["message"].as_str().unwrap().starts_with("publicKey"), "{}", reply.1);
    let extra = json!({"exchangeId": "SIM", "publicKey": "sim", "secretKey": "x", "email": "a@b.c"});
    assert_refused(&call(&system, &key, "POST", create, Some(extra)).await, 400, 1000, "Unknown field 'email'");

    let client = test_support::http_client();
    let broken = client
        .post(system.url(create))
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body("{\"exchangeId\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status().as_u16(), 400);
    let broken: Value = broken.json().await.unwrap();
    assert_eq!(
        (broken["code"].clone(), broken["message"].clone()),
        (json!(1000), json!("Invalid JSON in request body"))
    );

    for path in ["/partner/v1/users/list", "/partner/v1/users/get", create, "/partner/v1/users/delete"] {
        let (status, refused) = call(&system, "", "POST", path, Some(json!({}))).await;
        assert_eq!((status, refused["code"].clone()), (401, json!(1401)), "{path}");
        let (status, refused) = call(&system, &key, "GET", path, None).await;
        assert_eq!((status, refused["code"].clone()), (405, json!(1405)), "{path}");
    }
    let (_, listed) = call(&system, &key, "POST", "/partner/v1/users/list", None).await;
    assert_eq!(listed["data"]["items"].as_array().unwrap().len(), 1, "no refused request created a user");
}
