//! Which client serves a broker account, from the broker name the ledger stores.

/// The brokers the fetcher can read orders from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerKind {
    /// Tradier's REST API (needs the account's access token).
    Tradier,
    /// The platform's paper exchange (no credentials).
    Sim,
}

impl BrokerKind {
    /// The kind for a stored broker name, case-insensitively; `None` for a broker we have no
    /// client for.
    pub fn parse(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("tradier") {
            Some(Self::Tradier)
        } else if name.eq_ignore_ascii_case("sim") {
            Some(Self::Sim)
        } else {
            None
        }
    }

    /// Whether fetching needs a stored credential.
    pub fn needs_credentials(self) -> bool {
        matches!(self, Self::Tradier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_case_insensitively() {
        assert_eq!(BrokerKind::parse("Tradier"), Some(BrokerKind::Tradier));
        assert_eq!(BrokerKind::parse("SIM"), Some(BrokerKind::Sim));
        assert_eq!(BrokerKind::parse("ibkr"), None);
        assert!(BrokerKind::Tradier.needs_credentials());
        assert!(!BrokerKind::Sim.needs_credentials());
    }
}
