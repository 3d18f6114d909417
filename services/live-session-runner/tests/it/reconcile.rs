//! Reconciliation against a fake ledger answering `hosted_bot_revisions` and
//! `hosted_bot_definitions` as the real one does (live bots listed by id a page at a time,
//! deleted ones answered as `deleted`): start-up fetches what is missing or outdated and leaves
//! newer local runs alone; a bot the ledger stops listing becomes `deleted`; a ledger that does
//! not answer stops nothing, and a later round catches up.

use crate::harness::{Harness, PATIENCE, grid};
use bus::messages::PingRequest;
use bus::messages::hosted::{
    Desired, GetHostedBotDefinitions, HostedBotChanged, HostedBotRevision, HostedBotRevisionsPage,
    ListHostedBotRevisions, MAX_DEFINITIONS,
};
use domain::{BotId, ServiceName, UserId};
use futures::StreamExt;
use live_session_runner::usecase::reconcile::REVISIONS_PAGE;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_support::TestNats;
use tokio_util::sync::CancellationToken;

/// What the fake ledger holds and what it was asked.
#[derive(Default)]
struct Books {
    /// Every bot's current definition (deleted ones too).
    bots: BTreeMap<BotId, HostedBotChanged>,
    /// The most revisions one page holds (the real ledger may end a page early too).
    page_size: usize,
    /// The `limit` of every revisions request.
    limits: Vec<u32>,
    /// The ids of every definitions request, request by request.
    asked: Vec<Vec<BotId>>,
}

struct FakeLedger {
    books: Arc<Mutex<Books>>,
    shutdown: CancellationToken,
}

impl FakeLedger {
    fn new(page_size: usize) -> Self {
        let books = Books { page_size, ..Books::default() };
        Self { books: Arc::new(Mutex::new(books)), shutdown: CancellationToken::new() }
    }

    fn set(&self, changed: HostedBotChanged) {
        self.books.lock().unwrap().bots.insert(changed.bot_id, changed);
    }

    /// Every bot id asked for so far.
    fn asked(&self) -> BTreeSet<BotId> {
        self.books.lock().unwrap().asked.iter().flatten().copied().collect()
    }

    /// Answers both requests until dropped.
    async fn serve(&self, nats: &TestNats) {
        let client = nats.client().await;
        let subjects = nats.subjects();
        let books = self.books.clone();
        tokio::spawn(bus::serve(
            client.clone(),
            subjects.hosted_bot_revisions(),
            self.shutdown.clone(),
            move |request: ListHostedBotRevisions| {
                let books = books.clone();
                async move {
                    let mut books = books.lock().unwrap();
                    books.limits.push(request.limit);
                    let size = books.page_size.min(request.limit as usize);
                    let live = books.bots.values().filter(|bot| bot.desired != Desired::Deleted);
                    let mut rows: Vec<_> = live
                        .filter(|bot| request.after.is_none_or(|after| bot.bot_id > after))
                        .map(|bot| HostedBotRevision { bot_id: bot.bot_id, revision: bot.revision })
                        .take(size + 1)
                        .collect();
                    let more = rows.len() > size;
                    rows.truncate(size);
                    let next = more.then(|| rows.last().map(|row| row.bot_id)).flatten();
                    Ok(HostedBotRevisionsPage { items: rows, next })
                }
            },
        ));
        let books = self.books.clone();
        tokio::spawn(bus::serve(
            client.clone(),
            subjects.hosted_bot_definitions(),
            self.shutdown.clone(),
            move |request: GetHostedBotDefinitions| {
                let books = books.clone();
                async move {
                    let mut books = books.lock().unwrap();
                    books.asked.push(request.bot_ids.clone());
                    Ok(request.bot_ids.iter().filter_map(|bot| books.bots.get(bot).cloned()).collect::<Vec<_>>())
                }
            },
        ));
        for subject in [subjects.hosted_bot_revisions().subject(), subjects.hosted_bot_definitions().subject()] {
            let subject = subject.to_string();
            test_support::eventually("the fake ledger answers", Duration::from_secs(5), || {
                let (client, subject) = (client.clone(), subject.clone());
                async move { client.request(subject, "null".into()).await.ok().map(|_| ()) }
            })
            .await;
        }
    }
}

impl Drop for FakeLedger {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Reconciling every second.
fn every_second(settings: &mut live_session_runner::Settings) {
    settings.live.reconcile_secs = 1;
}

#[tokio::test(flavor = "multi_thread")]
async fn start_up_fetches_what_is_missing_or_outdated_and_leaves_newer_runs_alone() {
    let mut harness = Harness::new().await;
    let user = UserId::new();
    let mut ids: Vec<BotId> = (0..6).map(|_| BotId::new()).collect();
    ids.sort();
    let [outdated, missing, newer, gone, deleted_since, current] = ids[..] else { unreachable!() };
    let ledger = FakeLedger::new(2);
    // The runner holds revision 1, the ledger 2.
    harness.seed(&grid(outdated, user, 1, Desired::Running, "31000")).await;
    ledger.set(grid(outdated, user, 2, Desired::Running, "32000"));
    // The runner never heard of it.
    ledger.set(grid(missing, user, 1, Desired::Running, "31000"));
    // The runner holds a newer revision than the ledger lists (its event came first).
    harness.seed(&grid(newer, user, 5, Desired::Stopped, "35000")).await;
    ledger.set(grid(newer, user, 4, Desired::Running, "34000"));
    // Deleted on both sides: not listed, not asked for.
    harness.seed(&grid(gone, user, 2, Desired::Deleted, "31000")).await;
    ledger.set(grid(gone, user, 2, Desired::Deleted, "31000"));
    // Deleted while its event was lost: no longer listed, fetched, deleted.
    harness.seed(&grid(deleted_since, user, 1, Desired::Running, "31000")).await;
    ledger.set(grid(deleted_since, user, 2, Desired::Deleted, "31000"));
    // Current on both sides.
    harness.seed(&grid(current, user, 3, Desired::Stopped, "31000")).await;
    ledger.set(grid(current, user, 3, Desired::Stopped, "31000"));
    let held_newer = harness.run(newer).await.unwrap();
    let held_current = harness.run(current).await.unwrap();

    ledger.serve(&harness.nats).await;
    harness.start(every_second).await;

    let run = harness.wait_revision(outdated, 2).await;
    assert_eq!(run.settings["upperLimit"], 32000);
    assert_eq!(harness.wait_revision(missing, 1).await.desired, "running");
    assert_eq!(harness.wait_revision(deleted_since, 2).await.desired, "deleted");
    assert_eq!(ledger.asked(), BTreeSet::from([outdated, missing, deleted_since]), "only what was missing or outdated");
    assert_eq!(harness.run(newer).await.unwrap(), held_newer, "a newer local run is left alone");
    assert_eq!(harness.run(current).await.unwrap(), held_current);
    let books = ledger.books.lock().unwrap();
    assert!(
        !books.limits.is_empty() && books.limits.iter().all(|limit| *limit == REVISIONS_PAGE),
        "{:?}",
        books.limits
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bot_the_ledger_stops_listing_is_fetched_and_becomes_deleted() {
    let mut harness = Harness::new().await;
    let (bot, kept, user) = (BotId::new(), BotId::new(), UserId::new());
    let ledger = FakeLedger::new(REVISIONS_PAGE as usize);
    ledger.set(grid(bot, user, 1, Desired::Running, "31000"));
    ledger.set(grid(kept, user, 1, Desired::Running, "31000"));
    ledger.serve(&harness.nats).await;
    harness.start(every_second).await;
    harness.wait_revision(bot, 1).await;
    harness.wait_revision(kept, 1).await;

    // Deleted in the ledger, and its event lost: a later round finds it unlisted.
    ledger.set(grid(bot, user, 2, Desired::Deleted, "31000"));
    // Stopped, its event lost too: a later round finds the newer revision.
    ledger.set(grid(kept, user, 2, Desired::Stopped, "31000"));
    assert_eq!(harness.wait_revision(bot, 2).await.desired, "deleted");
    assert_eq!(harness.wait_revision(kept, 2).await.desired, "stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn revisions_are_paged_and_definitions_fetched_in_chunks() {
    let mut harness = Harness::new().await;
    let user = UserId::new();
    let ledger = FakeLedger::new(50);
    let bots: Vec<BotId> = (0..2 * MAX_DEFINITIONS + 5).map(|_| BotId::new()).collect();
    for bot in &bots {
        ledger.set(grid(*bot, user, 1, Desired::Running, "31000"));
    }
    ledger.serve(&harness.nats).await;
    harness.start(|_| {}).await;
    for bot in &bots {
        harness.wait_revision(*bot, 1).await;
    }
    let books = ledger.books.lock().unwrap();
    let sizes: Vec<usize> = books.asked.iter().map(Vec::len).collect();
    assert_eq!(sizes, [MAX_DEFINITIONS, MAX_DEFINITIONS, 5], "chunks of MAX_DEFINITIONS");
    assert_eq!(books.limits.len(), bots.len().div_ceil(50), "every page, once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ledger_that_does_not_answer_stops_nothing_and_a_later_round_catches_up() {
    let mut harness = Harness::new().await;
    let user = UserId::new();
    let (bot, heard) = (BotId::new(), BotId::new());
    // Nobody answers at all, then a ledger that takes requests and never replies.
    harness
        .start(|settings| {
            every_second(settings);
            settings.nats.request_timeout_ms = 300;
        })
        .await;
    let client = harness.nats.client().await;
    let subjects = harness.nats.subjects();
    let mut silent = client.subscribe(subjects.hosted_bot_revisions().subject().to_string()).await.unwrap();
    client.flush().await.unwrap();
    for round in 0..2 {
        tokio::time::timeout(PATIENCE, silent.next()).await.unwrap_or_else(|_| panic!("round {round} asks"));
    }
    silent.unsubscribe().await.unwrap();

    // The runner kept running: it answers its ping and applies events.
    let ping = subjects.ping(ServiceName::LiveSessionRunner);
    bus::request(&client, &ping, &PingRequest {}, Duration::from_secs(5)).await.expect("the runner answers");
    harness.publish(domain::EventId::new(), &grid(heard, user, 1, Desired::Running, "31000"), 0).await;
    harness.wait_revision(heard, 1).await;

    // The ledger answers again: the next round catches up.
    let ledger = FakeLedger::new(REVISIONS_PAGE as usize);
    ledger.set(grid(bot, user, 3, Desired::Stopped, "31000"));
    ledger.set(grid(heard, user, 2, Desired::Stopped, "31000"));
    ledger.serve(&harness.nats).await;
    assert_eq!(harness.wait_revision(bot, 3).await.desired, "stopped");
    assert_eq!(harness.wait_revision(heard, 2).await.desired, "stopped");
}
