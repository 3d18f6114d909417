//! Orchestration: the ledger's hosted bot changes become runs, and runs are reconciled with
//! the ledger's revisions.

pub mod hosted_bots;
pub mod reconcile;
