//! Tradier's documented example orders, verbatim (`fixtures/README.md` names the page each
//! one comes from). Each constant is one order object as Tradier prints it; [`envelope`] wraps
//! it the way `GET /v1/accounts/{account_id}/orders/{id}` answers.

use serde::{Deserialize, Serialize};

/// Order 228175: an equity limit buy of AAPL, `expired`.
pub const EQUITY_ORDER: &str = include_str!("../fixtures/equity_order.json");

/// Order 228749: a single-leg option market order (`buy_to_open`, `option_symbol`), `expired`.
pub const OPTION_ORDER: &str = include_str!("../fixtures/option_order.json");

/// Order 229063: a `combo` covered call, two legs (equity + option) in `leg`, `canceled`.
pub const COMBO_ORDER: &str = include_str!("../fixtures/combo_order.json");

/// Order 229123: a four-leg `multileg` condor in `leg`, `expired`.
pub const MULTILEG_ORDER: &str = include_str!("../fixtures/multileg_order.json");

/// One of the verbatim fixtures, by name (`"equity"`, `"option"`, `"combo"`, `"multileg"` on
/// the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fixture {
    /// [`EQUITY_ORDER`].
    Equity,
    /// [`OPTION_ORDER`].
    Option,
    /// [`COMBO_ORDER`].
    Combo,
    /// [`MULTILEG_ORDER`].
    Multileg,
}

impl Fixture {
    /// Every fixture, for tests that walk them all.
    pub const ALL: [Fixture; 4] = [Fixture::Equity, Fixture::Option, Fixture::Combo, Fixture::Multileg];

    /// The order object's text, as documented.
    pub fn order_json(self) -> &'static str {
        match self {
            Fixture::Equity => EQUITY_ORDER,
            Fixture::Option => OPTION_ORDER,
            Fixture::Combo => COMBO_ORDER,
            Fixture::Multileg => MULTILEG_ORDER,
        }
    }

    /// The full response body the simulator serves for it: [`envelope`] of [`Self::order_json`].
    pub fn response_body(self) -> String {
        envelope(self.order_json())
    }
}

/// Wraps an order object's text in the single-order envelope, `{"order": <text>}`, without
/// touching the text itself.
pub fn envelope(order_json: &str) -> String {
    format!("{{\"order\": {}}}", order_json.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_is_valid_json_in_its_envelope() {
        for fixture in Fixture::ALL {
            let value: serde_json::Value = serde_json::from_str(&fixture.response_body()).unwrap();
            assert!(value["order"]["id"].is_u64(), "{fixture:?}");
        }
    }
}
