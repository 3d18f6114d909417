//! Pure rules of the ledger: no I/O, unit-tested.

pub mod catalogue;
pub mod hosted_settings;
pub mod keys;
pub mod live_fills;
