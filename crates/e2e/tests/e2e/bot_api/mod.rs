//! The Bot API through the gateway, against the real ledger, Postgres and NATS.

mod auth;
mod bad_input;
mod fetch;
mod fixture;
mod idempotency;
mod opaque_json;
mod paging;
mod participations;
mod revocation;
mod state;
mod trades;
