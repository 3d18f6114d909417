//! The typed handles [`Subjects`](super::Subjects) hands out: a subject together with the types
//! that travel on it, so that a caller cannot pair a subject with the wrong message.

use domain::ServiceName;
use std::marker::PhantomData;

/// A request/reply subject with the request and reply types that travel on it.
#[derive(Debug)]
pub struct Endpoint<Req, Resp> {
    pub(super) subject: String,
    pub(super) service: ServiceName,
    pub(super) _types: PhantomData<fn(Req) -> Resp>,
}

impl<Req, Resp> Endpoint<Req, Resp> {
    /// The full subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The service that answers on this subject.
    pub fn service(&self) -> ServiceName {
        self.service
    }

    /// The queue group its responders join, so replicas of a service share requests.
    pub fn queue_group(&self) -> &'static str {
        self.service.context()
    }
}

impl<Req, Resp> Clone for Endpoint<Req, Resp> {
    fn clone(&self) -> Self {
        Self { subject: self.subject.clone(), service: self.service, _types: PhantomData }
    }
}

/// An event subject with the payload type its [`crate::Event`] envelope carries.
#[derive(Debug)]
pub struct Topic<T> {
    pub(super) subject: String,
    pub(super) producer: ServiceName,
    pub(super) _type: PhantomData<fn() -> T>,
}

impl<T> Topic<T> {
    /// The full subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The service whose stream holds this topic.
    pub fn producer(&self) -> ServiceName {
        self.producer
    }

    /// The event type written in the envelope: the subject without prefix, kind and context,
    /// e.g. `participation_created.v1`.
    pub fn event_type(&self) -> &str {
        let mut tokens = self.subject.splitn(4, '.');
        tokens.nth(3).unwrap_or(&self.subject)
    }
}

impl<T> Clone for Topic<T> {
    fn clone(&self) -> Self {
        Self { subject: self.subject.clone(), producer: self.producer, _type: PhantomData }
    }
}

/// A market-data subject on core NATS (no stream, no envelope) with the message type that is
/// published on it as plain JSON.
#[derive(Debug)]
pub struct MarketData<T> {
    pub(super) subject: String,
    pub(super) _type: PhantomData<fn() -> T>,
}

impl<T> MarketData<T> {
    /// The full subject; for a wildcard (see [`Subjects::quotes`](super::Subjects::quotes)) only fit to
    /// subscribe.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl<T> Clone for MarketData<T> {
    fn clone(&self) -> Self {
        Self { subject: self.subject.clone(), _type: PhantomData }
    }
}
