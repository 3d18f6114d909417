#![doc = include_str!("../README.md")]

mod table;
mod timer;
mod token;

pub use table::{Claim, Claiming, LeaseTable, expiry_after};
pub use timer::LeaseTimer;
pub use token::Token;
