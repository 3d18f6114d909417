//! The outbox and inbox tables as every service's migration creates them.

diesel::table! {
    /// Events waiting to be (or already) published.
    outbox (id) {
        /// The event id, also the first `Nats-Msg-Id`.
        id -> Uuid,
        /// Insertion order, which is publish order.
        seq -> Int8,
        /// Where to publish.
        subject -> Text,
        /// The whole `Event` envelope.
        payload -> Jsonb,
        /// When the row was written.
        created_at -> Timestamptz,
        /// When JetStream acknowledged it.
        published_at -> Nullable<Timestamptz>,
        /// A relay's claim; expired leases are claimable again.
        locked_until -> Nullable<Timestamptz>,
        /// How many times a relay has claimed it.
        publish_attempts -> Int4,
        /// How many deliberate re-publishes (each with a fresh message id).
        republish_count -> Int4,
        /// The last publish failure.
        last_error -> Nullable<Text>,
        /// Claims since the row was last published; at the relay's `max_attempts` it is dead.
        attempts -> Int4,
        /// When the relay gave up on it (`admin outbox-retry` queues it again).
        dead_at -> Nullable<Timestamptz>,
        /// The token of the relay's current claim (`lease`); null while no relay holds it.
        lease_token -> Nullable<Int8>,
    }
}

diesel::table! {
    /// Events a consumer has applied.
    processed_messages (consumer, event_id) {
        /// The consumer's durable name.
        consumer -> Text,
        /// The event's id.
        event_id -> Uuid,
        /// When the effect committed.
        processed_at -> Timestamptz,
    }
}
