//! The durable JetStream consumers of the platform, one value each.
//!
//! A consumer's durable name, the stream it lives in and the subject it filters on must agree
//! in every place that names them: the topology a service ensures at start-up
//! ([`crate::jetstream::topology`]), the bus permissions ([`crate::permissions`]), the
//! catalogue in `proto/` ([`crate::catalogue`]) and the service that runs the consumer. All of
//! them read the [`ConsumerDef`] below, and its filter is built from the event's own
//! definition ([`crate::subjects::EventName`]), so each is spelled once.
//!
//! ```text
//! LEDGER_FETCH_OUTCOMES          trade-ledger  ◄── <prefix>_fetcher_events  <prefix>.evt.fetcher.>
//! FETCHER_PARTICIPATION_CREATED  fetcher       ◄── <prefix>_ledger_events   participation_created
//! EXECUTOR_BACKTEST_QUEUED       executor      ◄── <prefix>_backtest_events backtest_queued
//! FETCHER_USER_DELETED           fetcher       ◄── <prefix>_ledger_events   user_deleted
//! LIVE_HOSTED_BOTS               runner        ◄── <prefix>_ledger_events   hosted_bot_changed
//! LEDGER_LIVE_EVENTS             trade-ledger  ◄── <prefix>_live_events     <prefix>.evt.live.>
//! ```

use crate::jetstream::ConsumerSpec;
use crate::subjects::{self, EventName, Subjects};
use domain::ServiceName;
use std::time::Duration;

/// Deliveries before the server gives up on a message: never (`-1`). The events carry money
/// (a fill, a fetched order), and a consumer whose database is down for a while must still get
/// every one of them once it is back: the server keeps redelivering, and the consumer spaces
/// its retries out (`outbox::consumer`, doubling up to a minute), so an outage costs a retry a
/// minute per waiting event rather than lost events. An event no handler can ever apply keeps
/// coming back with a warning that counts its deliveries; one that cannot even be decoded is
/// acknowledged and dropped by the consumer.
pub const MAX_DELIVER: i64 = -1;

/// How long a delivery may stay unacknowledged before it is redelivered.
pub const ACK_WAIT: Duration = Duration::from_secs(30);

/// What a consumer reads from its producer's stream. NATS 2.9 has one filter subject per
/// consumer, so a consumer of two events of a stream reads all of its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// One event subject.
    Event(EventName),
    /// Every event of one service's stream, in the order it published them.
    AllEventsOf(ServiceName),
}

impl Filter {
    /// The service whose stream holds what the filter reads.
    pub const fn producer(self) -> ServiceName {
        match self {
            Filter::Event(event) => event.producer,
            Filter::AllEventsOf(producer) => producer,
        }
    }

    /// The filter subject under `subjects`' prefix.
    pub fn subject(self, subjects: &Subjects) -> String {
        match self {
            Filter::Event(event) => subjects.event(event),
            Filter::AllEventsOf(producer) => subjects.events_of(producer),
        }
    }

    /// Whether a message published on `event` reaches this filter.
    pub fn reads(self, event: EventName) -> bool {
        match self {
            Filter::Event(wanted) => wanted == event,
            Filter::AllEventsOf(producer) => producer == event.producer,
        }
    }
}

/// One durable pull consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsumerDef {
    /// Its durable name, `<consumer context>_<what it consumes>`, without the prefix (the
    /// stream it lives in carries it). The consumer's processed-messages (inbox) rows are kept
    /// under the same name.
    pub durable: &'static str,
    /// The service that runs it.
    pub consumer: ServiceName,
    /// What it reads.
    pub filter: Filter,
    /// What it is for, as the catalogue in `proto/` says it.
    pub description: &'static str,
}

impl ConsumerDef {
    /// The stream it reads: its producer's event stream.
    pub fn stream(&self, subjects: &Subjects) -> String {
        subjects.stream_name(self.filter.producer())
    }

    /// What the server is asked to create, under `subjects`' prefix.
    pub fn spec(&self, subjects: &Subjects) -> ConsumerSpec {
        ConsumerSpec {
            stream: self.stream(subjects),
            durable: self.durable.to_string(),
            filter_subject: self.filter.subject(subjects),
            max_deliver: MAX_DELIVER,
            ack_wait: ACK_WAIT,
        }
    }
}

/// The ledger applies both fetch outcomes (`order_fetched`, `order_fetch_failed`), in the
/// order the fetcher published them.
pub const LEDGER_FETCH_OUTCOMES: ConsumerDef = ConsumerDef {
    durable: "ledger_fetch_outcomes",
    consumer: ServiceName::TradeLedger,
    filter: Filter::AllEventsOf(ServiceName::OutboxBrokerFetcher),
    description: "Applies the fetcher's outcomes to participations (each once, only when newer).",
};

/// The fetcher turns each `participation created` into a fetch job.
pub const FETCHER_PARTICIPATION_CREATED: ConsumerDef = ConsumerDef {
    durable: "fetcher_participation_created",
    consumer: ServiceName::OutboxBrokerFetcher,
    filter: Filter::Event(subjects::PARTICIPATION_CREATED),
    description: "Turns each participation into a fetch job (a request seen before publishes its outcome again).",
};

/// `backtest queued` only wakes the executor's workers: the job itself lives in Postgres.
pub const EXECUTOR_BACKTEST_QUEUED: ConsumerDef = ConsumerDef {
    durable: "backtest_backtest_queued",
    consumer: ServiceName::BacktestExecutor,
    filter: Filter::Event(subjects::BACKTEST_QUEUED),
    description: "Wakes the backtest workers (they claim the job from Postgres).",
};

/// The fetcher erases a deleted user's exchange credentials.
pub const FETCHER_USER_DELETED: ConsumerDef = ConsumerDef {
    durable: "fetcher_user_deleted",
    consumer: ServiceName::OutboxBrokerFetcher,
    filter: Filter::Event(subjects::USER_DELETED),
    description: "Erases the credentials of a deleted partner user's broker accounts.",
};

/// The runner keeps each hosted bot's definition and desired state (a newer revision wins).
pub const LIVE_HOSTED_BOTS: ConsumerDef = ConsumerDef {
    durable: "live_hosted_bots",
    consumer: ServiceName::LiveSessionRunner,
    filter: Filter::Event(subjects::HOSTED_BOT_CHANGED),
    description: "Keeps each hosted bot's run up to date with its definition and desired state (only a newer revision).",
};

/// The ledger's consumer of the runner's events: fills become bot trades and transactions, a
/// bot the engine stopped becomes `stopped`. One stream, both events, in the runner's order.
/// (LIVE.md calls it `live_events`; durable names start with their consumer's context.)
pub const LEDGER_LIVE_EVENTS: ConsumerDef = ConsumerDef {
    durable: "ledger_live_events",
    consumer: ServiceName::TradeLedger,
    filter: Filter::AllEventsOf(ServiceName::LiveSessionRunner),
    description: "Records each live fill as a transaction of its position's bot trade (with the bot's profit and roi), and sets a bot the engine stopped to stopped.",
};

/// Every durable consumer.
pub const ALL: [ConsumerDef; 6] = [
    LEDGER_FETCH_OUTCOMES,
    FETCHER_PARTICIPATION_CREATED,
    EXECUTOR_BACKTEST_QUEUED,
    FETCHER_USER_DELETED,
    LIVE_HOSTED_BOTS,
    LEDGER_LIVE_EVENTS,
];

/// The consumers `service` runs.
pub fn of(service: ServiceName) -> impl Iterator<Item = &'static ConsumerDef> {
    ALL.iter().filter(move |def| def.consumer == service)
}

/// The consumers that receive `event`.
pub fn reading(event: EventName) -> impl Iterator<Item = &'static ConsumerDef> {
    ALL.iter().filter(move |def| def.filter.reads(event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn durable_names_say_who_consumes_and_are_unique() {
        let mut seen = BTreeSet::new();
        for def in ALL {
            assert!(def.durable.starts_with(&format!("{}_", def.consumer.context())), "{def:?}");
            assert!(seen.insert(def.durable), "{} twice", def.durable);
        }
    }

    #[test]
    fn the_deployed_names_and_filters_stay_as_they_are() {
        // Renaming a durable or changing its filter creates a new consumer on the server and
        // strands the old one with its position: these are pinned.
        let subjects = Subjects::new("tb").unwrap();
        let specs: Vec<_> =
            ALL.iter().map(|def| def.spec(&subjects)).map(|s| (s.stream, s.durable, s.filter_subject)).collect();
        let expected = [
            ("tb_fetcher_events", "ledger_fetch_outcomes", "tb.evt.fetcher.>"),
            ("tb_ledger_events", "fetcher_participation_created", "tb.evt.ledger.participation_created.v1"),
            ("tb_backtest_events", "backtest_backtest_queued", "tb.evt.backtest.backtest_queued.v1"),
            ("tb_ledger_events", "fetcher_user_deleted", "tb.evt.ledger.user_deleted.v1"),
            ("tb_ledger_events", "live_hosted_bots", "tb.evt.ledger.hosted_bot_changed.v1"),
            ("tb_live_events", "ledger_live_events", "tb.evt.live.>"),
        ];
        let expected: Vec<_> = expected.iter().map(|(s, d, f)| (s.to_string(), d.to_string(), f.to_string())).collect();
        assert_eq!(specs, expected);
    }

    #[test]
    fn a_filter_reads_its_event_or_its_producers_whole_stream() {
        assert!(LEDGER_FETCH_OUTCOMES.filter.reads(subjects::ORDER_FETCHED));
        assert!(LEDGER_FETCH_OUTCOMES.filter.reads(subjects::ORDER_FETCH_FAILED));
        assert!(!LEDGER_FETCH_OUTCOMES.filter.reads(subjects::PARTICIPATION_CREATED));
        let readers: Vec<_> = reading(subjects::PARTICIPATION_CREATED).map(|def| def.durable).collect();
        assert_eq!(readers, ["fetcher_participation_created"]);
    }
}
