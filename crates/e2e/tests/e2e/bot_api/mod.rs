//! The Bot API through the gateway, against the real ledger, Postgres and NATS.

mod fixture;
mod participations;
mod state;
mod trades;
