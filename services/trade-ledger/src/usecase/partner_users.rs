//! A partner's users (docs/api/partner.md#users): another partner's user, a deleted one or an
//! unknown one is not found. Credentials never reach the ledger: the gateway stored them in
//! the fetcher under the broker account id it sends here.

use super::hosted_bots::writes::delete_bot;
use super::storage_error;
use crate::store::partner_users::{self, NewPartnerUser, UserRow};
use crate::store::{catalogue, hosted_bots, is_unique_violation, records};
use bus::BusError;
use bus::messages::bot_api::paging::{self, TimeCursor};
use bus::messages::partner::{
    CreatePartnerUser, DeletePartnerUser, GetPartnerUser, ListPartnerUsers, MAX_PAGE_LIMIT, PAGE_BUDGET_BYTES,
    PartnerUser, PartnerUserView, PartnerUsersPage, UserDeleted,
};
use bus::subjects::Subjects;
use diesel_async::AsyncPgConnection;
use domain::UserId;
use platform::db::PgPool;

/// The most users one page reads: more never fit [`PAGE_BUDGET_BYTES`].
const MAX_ROWS_READ: u32 = 2_000;

fn not_found(user: UserId) -> BusError {
    BusError::not_found(format!("User '{user}' not found"))
}

/// The user object of reference 003.
fn view(row: UserRow) -> PartnerUserView {
    PartnerUserView {
        user_id: row.id,
        exchange_id: row.exchange_id,
        exchange_user_id: row.exchange_user_id,
        created_at: row.created_at.timestamp(),
        bots_started: i64::from(row.bots_started),
        bots_active: row.bots_active,
    }
}

/// One of the partner's users with the brokers of their accounts.
pub async fn get(pool: &PgPool, request: GetPartnerUser) -> Result<PartnerUser, BusError> {
    let mut connection = pool.get().await.map_err(storage_error)?;
    let row = partner_users::find(&mut connection, request.partner_id, request.user_id)
        .await
        .map_err(storage_error)?
        .ok_or_else(|| not_found(request.user_id))?;
    let exchanges = records::user_brokers(&mut connection, request.user_id).await.map_err(storage_error)?;
    Ok(PartnerUser { user: view(row), exchanges })
}

/// A page of the partner's users, newest first: at most `limit`, and no more than fit the
/// page budget.
pub async fn list(pool: &PgPool, request: ListPartnerUsers) -> Result<PartnerUsersPage, BusError> {
    // No more rows are read than can fit the page budget (a user is at least ~150 bytes).
    let limit = request.limit.clamp(1, MAX_PAGE_LIMIT).min(MAX_ROWS_READ) as usize;
    let mut connection = pool.get().await.map_err(storage_error)?;
    let after = request.after.map(|cursor| (cursor.created_at, cursor.id));
    // One past the limit tells whether more follow.
    let rows = partner_users::page(&mut connection, request.partner_id, after, limit as i64 + 1)
        .await
        .map_err(storage_error)?;
    let created: Vec<_> = rows.iter().map(|row| (row.created_at, row.id)).collect();
    let (items, more) = paging::page(rows.into_iter().map(view).collect::<Vec<_>>(), limit, PAGE_BUDGET_BYTES);
    let next_page_id = more
        .then(|| created.get(items.len().wrapping_sub(1)))
        .flatten()
        .map(|(created_at, id)| TimeCursor { created_at: *created_at, id: (*id).into() }.encode());
    Ok(PartnerUsersPage { items, next_page_id })
}

/// Creates the user and its broker account, on an enabled exchange; answers the user's id.
pub async fn create(tx: &mut AsyncPgConnection, request: CreatePartnerUser) -> Result<UserId, BusError> {
    if !catalogue::exchange_enabled(tx, &request.exchange_id).await.map_err(storage_error)? {
        return Err(BusError::invalid(format!("exchangeId: unknown exchange '{}'", request.exchange_id)));
    }
    let user = NewPartnerUser {
        id: UserId::new(),
        partner_id: request.partner_id,
        exchange_id: &request.exchange_id,
        exchange_user_id: request.exchange_user_id.as_deref().filter(|id| !id.is_empty()),
        broker_account_id: request.broker_account_id,
        paper: request.paper,
    };
    partner_users::insert(tx, &user).await.map_err(|error| {
        if is_unique_violation(&error) {
            // Only a broker account id can repeat, and the gateway derives one per request.
            BusError::Conflict { message: "This broker account is already registered".to_string() }
        } else {
            storage_error(error)
        }
    })?;
    Ok(user.id)
}

/// Refuses a user with a running hosted bot (1003); otherwise deletes the user's (stopped)
/// bots, soft-deletes the user and tells the fetcher, through the outbox in the same
/// transaction, to erase the credentials of every broker account of the user.
pub async fn delete(
    tx: &mut AsyncPgConnection,
    subjects: &Subjects,
    request: DeletePartnerUser,
) -> Result<bool, BusError> {
    if !partner_users::lock_live(tx, request.partner_id, request.user_id).await.map_err(storage_error)? {
        return Err(not_found(request.user_id));
    }
    // The user's bots (and their followers) are locked before their state is read: a start
    // cannot slip in between.
    let locked = hosted_bots::of_user_with_followers(tx, request.user_id).await.map_err(storage_error)?;
    let mut own: Vec<_> = locked.into_iter().filter(|bot| bot.owner_user_id == request.user_id).collect();
    if own.iter().any(|bot| bot.status == "running") {
        return Err(BusError::Conflict {
            message: format!("User '{}' has running bots: stop or delete them first", request.user_id),
        });
    }
    // Followers first: a master deleted after them has none of them left to set free, so each
    // bot gets one event.
    own.sort_by_key(|bot| bot.master_bot_id.is_none());
    for bot in own {
        delete_bot(tx, subjects, bot.id).await?;
    }
    partner_users::soft_delete(tx, request.user_id).await.map_err(storage_error)?;
    let broker_account_ids = partner_users::accounts_of(tx, request.user_id).await.map_err(storage_error)?;
    let event = UserDeleted { user_id: request.user_id, broker_account_ids };
    outbox::enqueue(tx, &subjects.user_deleted(), &event).await.map_err(storage_error)?;
    Ok(true)
}
