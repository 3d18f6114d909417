//! Pure rules of the ledger: no I/O, unit-tested.

pub mod catalogue;
pub mod keys;
