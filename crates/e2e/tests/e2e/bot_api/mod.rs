//! The Bot API through the gateway, against the real ledger, Postgres and NATS.

mod auth;
mod fetch;
mod fixture;
mod idempotency;
mod participations;
mod revocation;
mod state;
mod trades;
