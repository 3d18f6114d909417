//! `user deleted` → the user's credentials erased. The ledger publishes the event when a
//! partner deletes a user, naming every broker account of theirs; each account's credential,
//! of whatever kind, goes.
//!
//! A batch is applied in one transaction with its inbox rows, so each event erases exactly
//! once: a redelivered or re-published event finds its inbox row and does nothing (which also
//! means keys stored again for the same account afterwards are not erased by a late
//! redelivery).

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
            let mut erased = Vec::new();
            for event in &events {
                if outbox::inbox::first_time(tx, CONSUMER, event.id).await? {
                    let rows = credentials::delete_accounts(tx, &event.data.broker_account_ids).await?;
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
