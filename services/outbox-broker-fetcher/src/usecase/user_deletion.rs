//! `user deleted` → the user's credentials erased. The ledger publishes the event when a
//! partner deletes a user, naming every broker account of theirs; each account's credential,
//! of whatever kind, goes, and the account is remembered as erased (`erased_broker_accounts`),
//! so that a late replay of the user's creation cannot store their exchange keys again.
//!
//! A batch is applied in one transaction with its inbox rows, so each event erases exactly
//! once: a redelivered or re-published event finds its inbox row and does nothing. The
//! transaction first takes the advisory lock of every account the batch names, in account
//! order, the lock a store of exchange keys takes too: a store running alongside either
//! committed first (and its keys go) or sees the tombstone and writes nothing.

use crate::store::credentials;
use bus::Event;
use bus::messages::partner::UserDeleted;
use diesel_async::AsyncConnection;
use outbox::consumer::Delivery;
use platform::db::PgPool;
use tracing::info;

/// The inbox name of the fetcher's user-deletion consumer: its durable name.
pub const CONSUMER: &str = bus::consumers::FETCHER_USER_DELETED.durable;

/// Erases the credentials of every user the batch names, once per event.
pub async fn erase(pool: &PgPool, batch: Vec<Delivery>) -> anyhow::Result<()> {
    let events: Vec<Event<UserDeleted>> = batch.iter().filter_map(Delivery::event_or_drop).collect();
    if events.is_empty() {
        return Ok(());
    }
    let mut connection = pool.get().await?;
    let erased = connection
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            // Every lock before any write (an event already applied only locks for nothing).
            let named: Vec<_> = events.iter().flat_map(|event| event.data.broker_account_ids.iter().copied()).collect();
            credentials::lock_accounts(tx, &named).await?;
            let mut erased = Vec::new();
            for event in &events {
                if outbox::inbox::first_time(tx, CONSUMER, event.id).await? {
                    let accounts = &event.data.broker_account_ids;
                    let rows = credentials::delete_accounts(tx, accounts).await?;
                    credentials::remember_erased(tx, accounts).await?;
                    erased.push((event, rows));
                }
            }
            Ok(erased)
        })
        .await?;
    for (event, rows) in erased {
        let accounts = event.data.broker_account_ids.len();
        info!(user.id = %event.data.user_id, accounts, credentials = rows, "deleted user's credentials erased");
    }
    Ok(())
}
