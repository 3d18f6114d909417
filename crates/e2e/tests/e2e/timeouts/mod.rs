//! Ambiguous timeouts: a write whose request deadline passes before its commit rolls back, so
//! a client told "504" can retry without duplicating it; and every backend's database steps
//! fail before the gateway stops waiting.

mod budget;
mod commit;
mod gateway;
