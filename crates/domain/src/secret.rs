//! Secrets (API keys, tokens, broker credentials) in memory: never printed by `Debug`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret string. `Debug` shows `Secret(***)`, so logging a request never leaks it; only
/// [`Secret::expose`] gives the text, at the one place that needs it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secret() {
        let secret = Secret::new("tb_0123456789ab_hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "tb_0123456789ab_hunter2");
    }
}
