//! Reference 000: link bot trades to users' broker orders. Each new participation writes a
//! `participation created` event to the outbox in the same transaction.
//!
//! A bot reaches only its followers: the broker account must be the user's and must have an
//! `active` follow link to the bot (any ticker). Without the second check any bot key could
//! make the fetcher read the broker orders of any account on the platform.

use super::storage_error;
use crate::store::participations::{self, AccountOwner, NewParticipation, ParticipationKey};
use bus::BusError;
use bus::Subjects;
use bus::messages::ParticipationCreated;
use bus::messages::bot_api::{
    CreateParticipations, ParticipationInput, ParticipationRef, ParticipationResult, ParticipationsReply, Summary,
};
use diesel_async::AsyncConnection;
use diesel_async::AsyncPgConnection;
use domain::{BotId, BrokerAccountId, EventId, ParticipationId, TradeId, UserId};
use std::collections::{HashMap, HashSet};

/// Validates each item against the database, inserts the new ones and their outbox events
/// in one transaction, and returns existing ones unchanged (same id, no second event).
pub async fn create(
    connection: &mut AsyncPgConnection,
    subjects: &Subjects,
    request: CreateParticipations,
) -> Result<ParticipationsReply, BusError> {
    let trade_ids: Vec<TradeId> = request.participations.iter().map(|p| p.bot_trade_id).collect();
    let account_ids: Vec<BrokerAccountId> = request.participations.iter().map(|p| p.broker_account_id).collect();
    let trade_bots: HashMap<TradeId, BotId> =
        participations::trade_owners(connection, &trade_ids).await.map_err(storage_error)?.into_iter().collect();
    let accounts: HashMap<BrokerAccountId, AccountOwner> = participations::account_owners(connection, &account_ids)
        .await
        .map_err(storage_error)?
        .into_iter()
        .map(|account| (account.id, account))
        .collect();
    // One query for the whole batch, like the two above.
    let followers: HashSet<BrokerAccountId> =
        participations::following_accounts(connection, request.bot_id, &account_ids)
            .await
            .map_err(storage_error)?
            .into_iter()
            .collect();

    let refusal = |item: &ParticipationInput| -> Option<String> {
        match trade_bots.get(&item.bot_trade_id) {
            None => return Some(format!("Bot trade '{}' not found", item.bot_trade_id)),
            Some(bot) if *bot != request.bot_id => {
                return Some(format!("Bot trade '{}' does not belong to bot '{}'", item.bot_trade_id, request.slug));
            }
            Some(_) => {}
        }
        if accounts.get(&item.broker_account_id).map(|account| account.user_id) != Some(item.user_id) {
            return Some(format!(
                "User broker account '{}' not found for user '{}'",
                item.broker_account_id, item.user_id
            ));
        }
        if !followers.contains(&item.broker_account_id) {
            return Some(format!(
                "User broker account '{}' does not follow bot '{}'",
                item.broker_account_id, request.slug
            ));
        }
        None
    };
    let mut accepted: Vec<NewParticipation> = request
        .participations
        .iter()
        .filter(|item| refusal(item).is_none())
        .map(|item| NewParticipation {
            id: ParticipationId::new(),
            bot_trade_id: item.bot_trade_id,
            user_id: item.user_id,
            broker_account_id: item.broker_account_id,
            broker_order_id: item.broker_order_id.clone(),
            child_order_ids: item.child_order_ids.clone(),
            units: item.units,
            fetch_event_id: Some(EventId::new()),
        })
        .collect();
    // One insertion order for every batch: concurrent batches with overlapping natural keys
    // then wait for each other instead of deadlocking.
    accepted.sort_by(|a, b| {
        (a.bot_trade_id, a.user_id, &a.broker_order_id).cmp(&(b.bot_trade_id, b.user_id, &b.broker_order_id))
    });

    let stored = if accepted.is_empty() {
        Vec::new()
    } else {
        let topic = subjects.participation_created();
        let bot_id = request.bot_id;
        connection
            .transaction::<_, diesel::result::Error, _>(async |tx| {
                let inserted = participations::insert_new(tx, &accepted).await?;
                let by_id: HashMap<ParticipationId, &NewParticipation> =
                    accepted.iter().map(|row| (row.id, row)).collect();
                let events: Vec<(EventId, ParticipationCreated)> = inserted
                    .iter()
                    .filter_map(|key| by_id.get(&key.id))
                    .filter_map(|row| {
                        let account = accounts.get(&row.broker_account_id)?;
                        let event = ParticipationCreated {
                            participation_id: row.id,
                            bot_id,
                            bot_trade_id: row.bot_trade_id,
                            user_id: row.user_id,
                            broker_account_id: row.broker_account_id,
                            broker: account.broker.clone(),
                            broker_account_number: account.account_number.clone(),
                            broker_order_id: row.broker_order_id.clone(),
                            child_order_ids: row.child_order_ids.clone(),
                            units: row.units,
                        };
                        Some((row.fetch_event_id?, event))
                    })
                    .collect();
                let events: Vec<(EventId, &ParticipationCreated)> = events.iter().map(|(id, e)| (*id, e)).collect();
                outbox::enqueue_with_ids(tx, &topic, &events).await?;
                let trade_ids: Vec<TradeId> = accepted.iter().map(|row| row.bot_trade_id).collect();
                let order_ids: Vec<String> = accepted.iter().map(|row| row.broker_order_id.clone()).collect();
                participations::find_by_keys(tx, &trade_ids, &order_ids).await
            })
            .await
            .map_err(storage_error)?
    };
    let ids: HashMap<(TradeId, UserId, &str), ParticipationId> = stored
        .iter()
        .map(|key: &ParticipationKey| ((key.bot_trade_id, key.user_id, key.broker_order_id.as_str()), key.id))
        .collect();
    let id_of =
        |item: &ParticipationInput| ids.get(&(item.bot_trade_id, item.user_id, item.broker_order_id.as_str())).copied();

    let results: Vec<ParticipationResult> = request
        .participations
        .iter()
        .map(|item| match (refusal(item), id_of(item)) {
            (None, Some(participation_id)) => ParticipationResult::Success {
                data: ParticipationRef { participation_id, user_id: item.user_id, bot_trade_id: item.bot_trade_id },
            },
            (refused, _) => ParticipationResult::Error {
                error: refused.unwrap_or_else(|| "Participation could not be stored".to_string()),
            },
        })
        .collect();
    let summary = Summary::of(&results, |r| matches!(r, ParticipationResult::Success { .. }));
    Ok(ParticipationsReply { success: true, summary, results })
}
