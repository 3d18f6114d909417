//! An exchange's API keys in memory, and the JSON object they are sealed as:
//! `{"publicKey": ..., "secretKey": ..., "extraKey": ... | null}`. One object, so the keys of
//! an account are sealed, opened and replaced together.

use domain::Secret;
use serde::Deserialize;
use std::fmt;

/// A user's API keys for one exchange. `Debug` shows nothing of them; there is deliberately no
/// `Serialize`, so they cannot end up in a reply or a log as JSON by accident (the one JSON
/// they become is the plaintext that is sealed).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExchangeKeys {
    /// The exchange API public key.
    pub public_key: Secret,
    /// The exchange API secret key.
    pub secret_key: Secret,
    /// The passphrase some exchanges require.
    pub extra_key: Option<Secret>,
}

impl fmt::Debug for ExchangeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExchangeKeys(***)")
    }
}

impl ExchangeKeys {
    /// The plaintext that is sealed.
    pub(super) fn to_json(&self) -> Vec<u8> {
        // Through a `Value`, whose encoding cannot fail, rather than a `Serialize` impl.
        serde_json::json!({
            "publicKey": self.public_key.expose(),
            "secretKey": self.secret_key.expose(),
            "extraKey": self.extra_key.as_ref().map(Secret::expose),
        })
        .to_string()
        .into_bytes()
    }

    /// The keys from an opened plaintext; `None` if it is not the object [`Self::to_json`]
    /// writes.
    pub(super) fn from_json(plain: &[u8]) -> Option<Self> {
        serde_json::from_slice(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(extra: Option<&str>) -> ExchangeKeys {
        ExchangeKeys {
            public_key: Secret::new("pub-7a1"),
            secret_key: Secret::new("sec-\"quoted\"-b2"),
            extra_key: extra.map(Secret::new),
        }
    }

    #[test]
    fn the_plaintext_is_one_json_object_with_extra_key_null_when_absent() {
        let json: serde_json::Value = serde_json::from_slice(&keys(None).to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"publicKey": "pub-7a1", "secretKey": "sec-\"quoted\"-b2", "extraKey": null})
        );
        for value in [keys(None), keys(Some("pass-c3"))] {
            assert_eq!(ExchangeKeys::from_json(&value.to_json()), Some(value));
        }
        assert_eq!(ExchangeKeys::from_json(b"tok-abc"), None, "a Tradier token is not exchange keys");
        assert_eq!(ExchangeKeys::from_json(br#"{"publicKey":"a","secretKey":"b","extraKey":null,"x":1}"#), None);
    }

    #[test]
    fn debug_output_shows_no_key() {
        let debug = format!("{:?}", keys(Some("pass-c3")));
        assert_eq!(debug, "ExchangeKeys(***)");
    }
}
