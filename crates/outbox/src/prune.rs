//! Pruning the outbox and the inbox, which every service with events has (see
//! `platform::prune` for how a round runs: batches of at most 1,000 rows, one replica at a
//! time).
//!
//! - **Outbox**: a row is deleted once it has been published and acknowledged longer ago than
//!   the retention. An unpublished row (waiting, retrying, or given up on) is never deleted:
//!   it is an event nobody has received yet.
//! - **Inbox** (`processed_messages`): a row is deleted once the retention has passed since
//!   the effect committed. The streams' `max_age` is below the retention (settings refuse
//!   otherwise), so no stream can still deliver an event whose row is gone.

use platform::prune::PruneJob;
use platform::settings::RetentionSettings;

/// The outbox rows published before `$1`, oldest first, at most `$2`.
const OUTBOX: &str = "DELETE FROM outbox WHERE id IN \
     (SELECT id FROM outbox WHERE published_at < $1 ORDER BY published_at LIMIT $2 FOR UPDATE SKIP LOCKED)";

/// The processed-message rows written before `$1`, oldest first, at most `$2`.
const PROCESSED_MESSAGES: &str = "DELETE FROM processed_messages WHERE (consumer, event_id) IN \
     (SELECT consumer, event_id FROM processed_messages WHERE processed_at < $1 \
      ORDER BY processed_at LIMIT $2 FOR UPDATE SKIP LOCKED)";

/// The jobs that prune the outbox and the inbox after `retention.keep_secs`.
pub fn jobs(retention: &RetentionSettings) -> Vec<PruneJob> {
    vec![
        PruneJob { name: "outbox", delete_batch: OUTBOX, keep: retention.keep() },
        PruneJob { name: "processed_messages", delete_batch: PROCESSED_MESSAGES, keep: retention.keep() },
    ]
}
