#![doc = include_str!("../README.md")]

pub mod catalogue;
pub mod consumers;
pub mod deadline;
pub mod envelope;
pub mod error;
pub mod jetstream;
pub mod messages;
pub mod permissions;
pub mod request;
pub mod responder;
pub mod subjects;

pub use envelope::Event;
pub use error::{BusError, RequestError};
pub use permissions::{GATEWAY_USER, inbox_prefix};
pub use request::{request, request_raw};
pub use responder::serve;
pub use subjects::{Endpoint, Subjects, Topic};
