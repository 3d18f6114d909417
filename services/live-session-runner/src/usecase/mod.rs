//! Orchestration: the ledger's hosted bot changes become runs, and runs are reconciled with
//! the ledger's revisions; the runtime queries read what the runs did.

pub mod hosted_bots;
pub mod positions;
pub mod preview;
pub mod queries;
pub mod reconcile;
pub mod signals;
