//! Why a fetch attempt failed, and the code a client is told.
//!
//! The fetcher tells many failures apart (it needs to, to decide retries and to help whoever
//! reads `admin dead-letters`); a client is told one of six fixed codes
//! ([`FetchErrorCode`]) and nothing else. [`FailureCause::code`] is the one place where the
//! first become the second: a new cause does not compile until it is given a code.

use bus::messages::fetch::FetchErrorCode;

/// Every way a fetch attempt can fail, as the fetcher tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureCause {
    /// The ledger named a broker the fetcher has no client for.
    UnknownBroker,
    /// No credential is stored for the broker account.
    NoCredentials,
    /// A credential is stored but cannot be opened: no key configured, a key id this process
    /// does not hold, the wrong key, a tampered or moved row, an unknown environment.
    CredentialUnreadable,
    /// The fetcher's own database could not be read (retried; says nothing of the order).
    CredentialStoreUnavailable,
    /// No answer from the broker: connection failed or reset, or the request timed out.
    BrokerUnreachable,
    /// The broker's rate limit for the account (a 429, or waiting for one to reset).
    RateLimited,
    /// The broker answered a server error (5xx).
    BrokerServerError,
    /// The broker does not show the order (404 or "order not found").
    OrderNotVisible,
    /// The broker refused the credential (401 / 403).
    CredentialsRefused,
    /// The broker refused the request as such (another 4xx, an `errors` payload).
    RequestRefused,
    /// The broker's answer could not be read (invalid JSON, missing or mistyped fields).
    MalformedAnswer,
    /// The broker's answer was read but our database refused to store it.
    UnstorableAnswer,
    /// The attempt panicked: a bug met something in this job or its broker's answer. It
    /// counts toward `max_failures`, so a job that crashes every attempt ends parked.
    AttemptPanicked,
    /// Transport errors or rate limits went on past the job's time budget
    /// (`fetch.give_up_after`).
    TimedOut,
}

impl FailureCause {
    /// The code clients see for this cause.
    ///
    /// `fetch_timed_out` is giving up when the job's time budget has run out; a single broker
    /// request timing out is the broker being unreachable, and is retried.
    pub fn code(self) -> FetchErrorCode {
        match self {
            // Nothing a client can tell apart: there is no usable credential for the account,
            // and storing it (again) is the fix. Blaming the broker would be wrong: it never
            // saw a request. An unknown broker is the same for the client: we hold no
            // credential we could use with it.
            Self::UnknownBroker | Self::NoCredentials | Self::CredentialUnreadable => FetchErrorCode::NoCredentials,
            Self::CredentialsRefused | Self::RequestRefused => FetchErrorCode::BrokerRefused,
            Self::OrderNotVisible => FetchErrorCode::OrderNotFound,
            // Our own database failing is retried like a transport error; should such a
            // job ever be given up, "could not be reached" is what the client needs to know.
            Self::BrokerUnreachable
            | Self::RateLimited
            | Self::BrokerServerError
            | Self::CredentialStoreUnavailable => FetchErrorCode::BrokerUnavailable,
            // A crash is ours, but it met this order: to the client, its answer could not be read.
            Self::MalformedAnswer | Self::UnstorableAnswer | Self::AttemptPanicked => FetchErrorCode::UnstorableAnswer,
            Self::TimedOut => FetchErrorCode::FetchTimedOut,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_unusable_credentials_are_no_credentials() {
        assert_eq!(FailureCause::NoCredentials.code(), FetchErrorCode::NoCredentials);
        assert_eq!(FailureCause::CredentialUnreadable.code(), FetchErrorCode::NoCredentials);
        assert_eq!(FailureCause::UnknownBroker.code(), FetchErrorCode::NoCredentials);
    }

    #[test]
    fn refusals_by_the_broker_are_broker_refused() {
        assert_eq!(FailureCause::CredentialsRefused.code(), FetchErrorCode::BrokerRefused);
        assert_eq!(FailureCause::RequestRefused.code(), FetchErrorCode::BrokerRefused);
    }

    #[test]
    fn an_order_the_broker_does_not_show_is_order_not_found() {
        assert_eq!(FailureCause::OrderNotVisible.code(), FetchErrorCode::OrderNotFound);
    }

    #[test]
    fn outages_and_rate_limits_are_broker_unavailable() {
        assert_eq!(FailureCause::BrokerUnreachable.code(), FetchErrorCode::BrokerUnavailable);
        assert_eq!(FailureCause::RateLimited.code(), FetchErrorCode::BrokerUnavailable);
        assert_eq!(FailureCause::BrokerServerError.code(), FetchErrorCode::BrokerUnavailable);
        assert_eq!(FailureCause::CredentialStoreUnavailable.code(), FetchErrorCode::BrokerUnavailable);
    }

    #[test]
    fn answers_that_cannot_be_read_or_stored_are_unstorable_answer() {
        assert_eq!(FailureCause::MalformedAnswer.code(), FetchErrorCode::UnstorableAnswer);
        assert_eq!(FailureCause::UnstorableAnswer.code(), FetchErrorCode::UnstorableAnswer);
    }

    #[test]
    fn only_a_spent_time_budget_is_fetch_timed_out() {
        use FailureCause::*;
        let every = [
            UnknownBroker,
            NoCredentials,
            CredentialUnreadable,
            CredentialStoreUnavailable,
            BrokerUnreachable,
            RateLimited,
            BrokerServerError,
            OrderNotVisible,
            CredentialsRefused,
            RequestRefused,
            MalformedAnswer,
            UnstorableAnswer,
            AttemptPanicked,
            TimedOut,
        ];
        let timed_out: Vec<_> = every.iter().filter(|cause| cause.code() == FetchErrorCode::FetchTimedOut).collect();
        assert_eq!(timed_out, [&TimedOut]);
    }
}
