//! Who may publish and subscribe what: one NATS user per service, its permissions derived from
//! the subject [`catalogue`](crate::catalogue::catalogue) and the JetStream
//! [`topology`](crate::jetstream::topology) (whose durable consumers are the definitions of
//! [`crate::consumers`]), rendered as a `nats-server` authorization block.
//!
//! ```text
//! gateway ──pub cmd/qry──► ledger, fetcher, executor, runner   (each subscribes only its own)
//!    ▲                          │ pub _INBOX.gateway.>: a reply goes only to a requester's inbox
//!    └── sub _INBOX.gateway.> ◄─┘
//! services ──pub <prefix>.evt.<own context>.>──► own stream
//!          ──$JS.API on their own streams and durables, $JS.ACK of their own durables
//! market-feed ──pub <prefix>.md.>──► live-session-runner
//! ```
//!
//! Every client's replies come to `_INBOX.<user>.…` ([`inbox_prefix`]), and only that user may
//! subscribe there, so no service can read another's replies.
//!
//! Responders get an explicit publish grant on their requesters' inboxes rather than NATS's
//! `allow_responses`: that option lets a responder publish to *any* reply subject a request
//! names, so whoever may send a request could make a service "reply" into `$JS.API.…` (e.g.
//! purge another service's stream) or into another service's event subjects.

use crate::catalogue::catalogue;
use crate::jetstream::topology;
use crate::subjects::{Kind, Subjects};
use domain::ServiceName;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The gateway's user on the bus.
pub const GATEWAY_USER: &str = "gateway";
/// The market feed's user: it publishes quotes and nothing else.
pub const MARKET_FEED_USER: &str = "market-feed";
/// The local Tradier-compatible server's user. It talks HTTP only today; it gets a user of its
/// own (with nothing but its inbox) so that it never borrows a service's credentials.
pub const TRADIER_SIM_USER: &str = "tradier-sim";

/// The inbox prefix of a client connecting as `user`: its request replies, JetStream acks and
/// pull deliveries all arrive under it.
pub fn inbox_prefix(user: &str) -> String {
    format!("_INBOX.{user}")
}

/// One user's permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPermissions {
    /// The user name (a service name, `gateway`, `market-feed`, ...).
    pub user: String,
    /// Subjects it may publish to.
    pub publish: BTreeSet<String>,
    /// Subjects it may subscribe to.
    pub subscribe: BTreeSet<String>,
}

impl UserPermissions {
    fn new(user: &str) -> Self {
        Self {
            user: user.to_string(),
            publish: BTreeSet::new(),
            subscribe: BTreeSet::from([format!("{}.>", inbox_prefix(user))]),
        }
    }
}

/// The users of the bus under `subjects`' prefix: the gateway, the four services, the market
/// feed and the local Tradier server.
pub fn permissions(subjects: &Subjects) -> Vec<UserPermissions> {
    let mut gateway = UserPermissions::new(GATEWAY_USER);
    let mut services: Vec<(ServiceName, UserPermissions)> =
        ServiceName::ALL.iter().map(|service| (*service, UserPermissions::new(service.as_str()))).collect();
    let real = |subject: &str| subject.replace("{prefix}", subjects.prefix());

    for entry in catalogue().subjects {
        let subject = real(&entry.subject);
        if entry.kind == Kind::MarketData.token() {
            // Quotes are granted as a whole below.
            continue;
        }
        if entry.kind == Kind::Event.token() {
            // Events go through the producer's stream; consumers read them with JetStream's API
            // (below), never with a plain subscription.
            if let Some((_, producer)) = services.iter_mut().find(|(service, _)| service.as_str() == entry.producer) {
                producer.publish.insert(subject);
            }
            continue;
        }
        if entry.producer == GATEWAY_USER {
            gateway.publish.insert(subject.clone());
        } else if let Some((_, requester)) = services.iter_mut().find(|(service, _)| service.as_str() == entry.producer)
        {
            // A service asking another (the runner reconciling against the ledger).
            requester.publish.insert(subject.clone());
        }
        for (service, user) in &mut services {
            if entry.consumers.iter().any(|consumer| consumer == service.as_str()) {
                user.subscribe.insert(subject.clone());
                // Its replies go to the requester's inbox and nowhere else.
                user.publish.insert(format!("{}.>", inbox_prefix(&entry.producer)));
            }
        }
    }
    for (service, user) in &mut services {
        jetstream_permissions(subjects, *service, user);
    }
    // Quotes: core NATS, the feed publishes and the runner listens.
    let quotes = format!("{}.{}.>", subjects.prefix(), Kind::MarketData.token());
    let mut market_feed = UserPermissions::new(MARKET_FEED_USER);
    market_feed.publish.insert(quotes.clone());
    if let Some((_, runner)) = services.iter_mut().find(|(service, _)| *service == ServiceName::LiveSessionRunner) {
        runner.subscribe.insert(quotes);
    }

    let mut users = vec![gateway];
    users.extend(services.into_iter().map(|(_, user)| user));
    users.push(market_feed);
    users.push(UserPermissions::new(TRADIER_SIM_USER));
    users
}

/// What `service`'s JetStream set-up and consumers need: the account check, its streams (info
/// and create; update only for its own, so no service can reshape, seal or shrink another's),
/// and its durable consumers (info, create with exactly its filter, next batch, ack). No
/// delete, purge or listing anywhere.
fn jetstream_permissions(subjects: &Subjects, service: ServiceName, user: &mut UserPermissions) {
    let topology = topology(subjects, service);
    let own_stream = subjects.stream_name(service);
    user.publish.insert("$JS.API.INFO".to_string());
    for stream in &topology.streams {
        user.publish.insert(format!("$JS.API.STREAM.INFO.{}", stream.name));
        // A consumer creates its producer's stream too, so start-up order does not matter; a
        // create that differs from an existing stream is refused by the server.
        user.publish.insert(format!("$JS.API.STREAM.CREATE.{}", stream.name));
        if stream.name == own_stream {
            user.publish.insert(format!("$JS.API.STREAM.UPDATE.{}", stream.name));
        }
    }
    for consumer in &topology.consumers {
        let (stream, durable, filter) = (&consumer.stream, &consumer.durable, &consumer.filter_subject);
        user.publish.insert(format!("$JS.API.CONSUMER.INFO.{stream}.{durable}"));
        // The create request names the filter subject as its last tokens: granting exactly it
        // keeps a service from redefining its durable onto other subjects.
        user.publish.insert(format!("$JS.API.CONSUMER.CREATE.{stream}.{durable}.{filter}"));
        user.publish.insert(format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"));
        user.publish.insert(format!("$JS.ACK.{stream}.{durable}.>"));
    }
}

/// The environment variable holding `user`'s password in the rendered configuration:
/// `trade-ledger` → `NATS_PASSWORD_TRADE_LEDGER`.
pub fn password_variable(user: &str) -> String {
    format!("NATS_PASSWORD_{}", user.to_uppercase().replace('-', "_"))
}

/// How a user proves who it is in the rendered configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAuth {
    /// `password: $NATS_PASSWORD_<USER>`, read by `nats-server` from its environment.
    PasswordFromEnvironment,
    /// A literal password (tests).
    Password(String),
    /// An nkey public key (`U...`); the client holds the seed.
    Nkey(String),
}

/// Renders `users` as a `nats-server` `authorization` block, each authenticated as `auth`
/// says.
pub fn render(prefix: &str, users: &[UserPermissions], auth: impl Fn(&str) -> UserAuth) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Generated by `just nats-config` from crates/bus (subject prefix `{prefix}`).");
    let _ = writeln!(out, "# Do not edit by hand: a test fails when this file and the code differ.");
    let _ = writeln!(out, "authorization {{");
    let _ = writeln!(out, "  users = [");
    for user in users {
        let _ = writeln!(out, "    {{");
        match auth(&user.user) {
            UserAuth::PasswordFromEnvironment => {
                let _ = writeln!(out, "      user: {:?}", user.user);
                let _ = writeln!(out, "      password: ${}", password_variable(&user.user));
            }
            UserAuth::Password(password) => {
                let _ = writeln!(out, "      user: {:?}", user.user);
                let _ = writeln!(out, "      password: {password:?}");
            }
            UserAuth::Nkey(public_key) => {
                let _ = writeln!(out, "      # {}", user.user);
                let _ = writeln!(out, "      nkey: {public_key:?}");
            }
        }
        let _ = writeln!(out, "      permissions: {{");
        let _ = writeln!(out, "        publish: {{ allow: {} }}", list(&user.publish, "        "));
        let _ = writeln!(out, "        subscribe: {{ allow: {} }}", list(&user.subscribe, "        "));
        let _ = writeln!(out, "      }}");
        let _ = writeln!(out, "    }}");
    }
    let _ = writeln!(out, "  ]");
    let _ = writeln!(out, "}}");
    out
}

/// A subject list: inline when it has one entry, else one subject a line (reviewable diffs).
fn list(subjects: &BTreeSet<String>, indent: &str) -> String {
    let quoted: Vec<String> = subjects.iter().map(|subject| format!("{subject:?}")).collect();
    match quoted.as_slice() {
        // An empty allow list would allow everything; an impossible subject allows nothing.
        [] => "[\"_NOTHING_\"]".to_string(),
        [one] => format!("[{one}]"),
        many => format!("[\n{indent}  {}\n{indent}]", many.join(&format!(",\n{indent}  "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<UserPermissions> {
        permissions(&Subjects::new("tb").unwrap())
    }

    fn user(name: &str) -> UserPermissions {
        users().into_iter().find(|user| user.user == name).unwrap()
    }

    #[test]
    fn the_gateway_publishes_only_requests_and_reads_only_its_inbox() {
        let gateway = user(GATEWAY_USER);
        assert!(gateway.publish.iter().all(|s| s.starts_with("tb.cmd.") || s.starts_with("tb.qry.")), "{gateway:?}");
        assert!(gateway.publish.contains("tb.qry.ledger.authenticate.v1"));
        assert_eq!(gateway.subscribe, BTreeSet::from(["_INBOX.gateway.>".to_string()]));
    }

    #[test]
    fn only_the_ledger_subscribes_to_the_ledgers_requests() {
        for user in users() {
            let reads_ledger =
                user.subscribe.iter().any(|s| s.starts_with("tb.qry.ledger.") || s.starts_with("tb.cmd.ledger."));
            assert_eq!(reads_ledger, user.user == "trade-ledger", "{user:?}");
        }
        let ledger = user("trade-ledger");
        assert!(ledger.publish.contains("_INBOX.gateway.>"));
        assert!(ledger.subscribe.contains("tb.cmd.ledger.create_participations.v1"));
        assert!(ledger.publish.contains("tb.evt.ledger.participation_created.v1"));
        assert!(!ledger.publish.iter().any(|s| s.starts_with("tb.evt.fetcher.")));
    }

    #[test]
    fn a_consumer_may_read_only_its_own_durables() {
        let fetcher = user("outbox-broker-fetcher");
        assert!(fetcher.publish.contains("$JS.API.CONSUMER.MSG.NEXT.tb_ledger_events.fetcher_participation_created"));
        assert!(fetcher.publish.contains("$JS.ACK.tb_ledger_events.fetcher_participation_created.>"));
        let ledger = user("trade-ledger");
        assert!(!ledger.publish.iter().any(|s| s.contains("fetcher_participation_created")), "{ledger:?}");
    }

    #[test]
    fn nobody_may_delete_purge_list_or_reshape_another_services_stream() {
        for user in users() {
            for subject in &user.publish {
                for forbidden in ["DELETE", "PURGE", "NAMES", "LIST", "MSG.GET", "MSG.DELETE"] {
                    assert!(!subject.contains(&format!("STREAM.{forbidden}")), "{user:?}");
                    assert!(!subject.contains(&format!("CONSUMER.{forbidden}")), "{user:?}");
                }
                assert!(!subject.starts_with("$JS.API.DIRECT"), "{user:?}");
            }
        }
        for service in ServiceName::ALL {
            let updates: Vec<_> = user(service.as_str())
                .publish
                .into_iter()
                .filter(|s| s.starts_with("$JS.API.STREAM.UPDATE."))
                .collect();
            assert_eq!(updates, [format!("$JS.API.STREAM.UPDATE.tb_{}_events", service.context())]);
        }
        assert!(user("trade-ledger").publish.contains("$JS.API.STREAM.CREATE.tb_fetcher_events"));
    }

    #[test]
    fn a_responder_may_reply_only_into_its_requesters_inbox() {
        // The ledger also answers the runner (hosted bot revisions); no one else asks a service.
        let requesters = [
            ("trade-ledger", vec!["_INBOX.gateway.>", "_INBOX.live-session-runner.>"]),
            ("outbox-broker-fetcher", vec!["_INBOX.gateway.>"]),
            ("backtest-executor", vec!["_INBOX.gateway.>"]),
            ("live-session-runner", vec!["_INBOX.gateway.>"]),
        ];
        for (name, expected) in requesters {
            let service = user(name);
            let inboxes: Vec<_> = service.publish.iter().filter(|s| s.starts_with("_INBOX")).collect();
            assert_eq!(inboxes, expected, "{service:?}");
            assert!(!service.publish.iter().any(|s| s == ">" || s.starts_with("$JS.API.STREAM.PURGE")));
        }
    }

    #[test]
    fn a_service_may_send_only_the_requests_the_catalogue_says_it_sends() {
        let runner = user("live-session-runner");
        let requests: Vec<_> =
            runner.publish.iter().filter(|s| s.starts_with("tb.qry.") || s.starts_with("tb.cmd.")).collect();
        assert_eq!(requests, ["tb.qry.ledger.hosted_bot_definitions.v1", "tb.qry.ledger.hosted_bot_revisions.v1"]);
        assert!(!user("trade-ledger").publish.iter().any(|s| s.starts_with("tb.qry.") || s.starts_with("tb.cmd.")));
    }

    #[test]
    fn no_two_users_share_an_inbox() {
        let inboxes: BTreeSet<String> = users()
            .iter()
            .flat_map(|user| user.subscribe.iter().filter(|s| s.starts_with("_INBOX")).cloned())
            .collect();
        assert_eq!(inboxes.len(), users().len());
    }

    #[test]
    fn the_rendering_names_a_password_variable_per_user() {
        let text = render("tb", &users(), |_| UserAuth::PasswordFromEnvironment);
        assert!(text.contains("password: $NATS_PASSWORD_OUTBOX_BROKER_FETCHER"));
        assert!(text.contains("user: \"market-feed\""));
        assert!(text.contains(r#"subscribe: { allow: ["_INBOX.tradier-sim.>"] }"#));
        assert!(text.contains(r#"publish: { allow: ["_NOTHING_"] }"#));
    }
}
