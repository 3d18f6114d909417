//! `credentials.*`: the keys that seal broker credentials at rest.
//!
//! ```toml
//! [credentials]
//! encryption_key = "<base64 of 32 bytes>"   # seals every credential written from now on
//! key_id = "2027-01"                        # stored with each row it seals
//! previous_keys = [{ id = "initial", key = "<base64 of 32 bytes>" }]   # still opened
//! ```
//!
//! `previous_keys` can also be one string, `<id>:<base64 key>[,<id>:<base64 key>...]`, which
//! is what an environment variable (`APP_CREDENTIALS__PREVIOUS_KEYS`) can carry.

use crate::crypto::{CredentialCipher, DataKey, INITIAL_KEY_ID};
use base64::Engine;
use platform::settings::SettingsError;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

/// The fixed development key of `config/local.toml` (base64 of these 32 ASCII bytes). It is in
/// the repository for anyone to read, so it protects nothing: only `APP_ENVIRONMENT=local`
/// accepts it.
pub const DEVELOPMENT_KEY: [u8; 32] = *b"local-development-key-not-secret";

/// The only environment that accepts [`DEVELOPMENT_KEY`].
pub const LOCAL_ENVIRONMENT: &str = "local";

/// The keys that encrypt broker credentials at rest.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSettings {
    /// Base64 of 32 random bytes (`head -c 32 /dev/urandom | base64`); empty means no
    /// credential can be stored or read. In Kubernetes it comes from the service's Secret.
    pub encryption_key: String,
    /// The name of `encryption_key`, stored with every credential it seals so that the right
    /// key opens it after a rotation. Letters, digits, `.`, `_`, `-`.
    pub key_id: String,
    /// Keys that sealed credentials before the current one, still used to open them until
    /// `admin rotate-keys` has re-sealed every row.
    #[serde(default, deserialize_with = "previous_keys")]
    pub previous_keys: Vec<PreviousKey>,
}

impl Default for CredentialsSettings {
    fn default() -> Self {
        Self { encryption_key: String::new(), key_id: INITIAL_KEY_ID.to_string(), previous_keys: Vec::new() }
    }
}

impl fmt::Debug for CredentialsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.encryption_key.is_empty() { "<unset>" } else { "<redacted>" };
        f.debug_struct("CredentialsSettings")
            .field("encryption_key", &state)
            .field("key_id", &self.key_id)
            .field("previous_keys", &self.previous_keys)
            .finish()
    }
}

/// A key that still opens what it sealed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousKey {
    /// The id rows sealed with it carry.
    pub id: String,
    /// Base64 of its 32 bytes.
    pub key: String,
}

impl fmt::Debug for PreviousKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreviousKey").field("id", &self.id).field("key", &"<redacted>").finish()
    }
}

impl CredentialsSettings {
    /// The decoded 32-byte current key, if one is configured.
    pub fn key(&self) -> Result<Option<[u8; 32]>, SettingsError> {
        if self.encryption_key.is_empty() {
            return Ok(None);
        }
        decode_key(&self.encryption_key)
            .map(Some)
            .map_err(|reason| SettingsError::invalid("credentials.encryption_key", reason))
    }

    /// Checks the key, its id and the previous keys (ids unique, none named like the current
    /// key, every key 32 bytes of base64). Messages name keys by id, never by value.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let current = self.key()?;
        check_key_id("credentials.key_id", &self.key_id)?;
        if current.is_none() && !self.previous_keys.is_empty() {
            return Err(SettingsError::invalid(
                "credentials.encryption_key",
                "must be set when credentials.previous_keys lists keys (every write seals with it)",
            ));
        }
        self.previous()?;
        Ok(())
    }

    /// Refuses [`DEVELOPMENT_KEY`] as the current key anywhere but `environment = local`: a key
    /// anyone can read from the repository must never seal a real credential. It may stay in
    /// `previous_keys`, so a deployment that ran with it can rotate away from it.
    pub fn check_environment(&self, environment: &str) -> Result<(), SettingsError> {
        if environment != LOCAL_ENVIRONMENT && self.key()? == Some(DEVELOPMENT_KEY) {
            return Err(SettingsError::invalid(
                "credentials.encryption_key",
                format!(
                    "is the development key of config/local.toml, accepted only with APP_ENVIRONMENT=local \
                     (this is {environment:?}); generate a key with `head -c 32 /dev/urandom | base64`"
                ),
            ));
        }
        Ok(())
    }

    /// The cipher these keys make: it seals with the current key and opens with any of them.
    pub fn cipher(&self) -> Result<CredentialCipher, SettingsError> {
        let current = self.key()?.map(|key| DataKey { id: self.key_id.clone(), key });
        Ok(CredentialCipher::with_keys(current, self.previous()?))
    }

    /// The decoded previous keys, checked.
    fn previous(&self) -> Result<Vec<DataKey>, SettingsError> {
        const KEY: &str = "credentials.previous_keys";
        let mut seen = HashSet::from([self.key_id.as_str()]);
        let mut keys = Vec::with_capacity(self.previous_keys.len());
        for previous in &self.previous_keys {
            check_key_id(KEY, &previous.id)?;
            if !seen.insert(previous.id.as_str()) {
                let reason = format!("key id `{}` is listed twice (or is also credentials.key_id)", previous.id);
                return Err(SettingsError::invalid(KEY, reason));
            }
            let key = decode_key(&previous.key)
                .map_err(|reason| SettingsError::invalid(KEY, format!("the key of `{}` {reason}", previous.id)))?;
            keys.push(DataKey { id: previous.id.clone(), key });
        }
        Ok(keys)
    }
}

/// A key id: short, and nothing that could confuse the `<id>:<key>,...` form.
fn check_key_id(setting: &str, id: &str) -> Result<(), SettingsError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(SettingsError::invalid(setting, "a key id is 1 to 64 letters, digits, `.`, `_` or `-`"))
    }
}

/// 32 bytes from base64; the error says what is wrong without repeating the value.
fn decode_key(text: &str) -> Result<[u8; 32], &'static str> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| "must be base64")?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "must decode to exactly 32 bytes")
}

/// Reads `previous_keys` from a list of `{id, key}` tables (files) or from one
/// `<id>:<key>,<id>:<key>` string (an environment variable).
fn previous_keys<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<PreviousKey>, D::Error> {
    struct Keys;

    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<PreviousKey>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of {id, key} or a string `<id>:<base64 key>[,<id>:<base64 key>...]`")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = seq.next_element()? {
                keys.push(key);
            }
            Ok(keys)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            parse_previous_keys(text).map_err(E::custom)
        }
    }

    deserializer.deserialize_any(Keys)
}

/// `<id>:<key>,<id>:<key>` (blank entries ignored). The error never repeats the text, which
/// holds keys.
fn parse_previous_keys(text: &str) -> Result<Vec<PreviousKey>, &'static str> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (id, key) = entry.split_once(':').ok_or("each entry of previous_keys is `<id>:<base64 key>`")?;
            Ok(PreviousKey { id: id.trim().to_string(), key: key.trim().to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(key: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    fn with_key(key: &[u8]) -> CredentialsSettings {
        CredentialsSettings { encryption_key: encode(key), ..CredentialsSettings::default() }
    }

    #[test]
    fn the_development_key_is_refused_outside_local() {
        let development = with_key(&DEVELOPMENT_KEY);
        let error = development.check_environment("production").unwrap_err().to_string();
        assert!(error.contains("credentials.encryption_key"), "{error}");
        assert!(error.contains("APP_CREDENTIALS__ENCRYPTION_KEY") && error.contains("production"), "{error}");
        assert!(!error.contains(&development.encryption_key), "the key is not repeated: {error}");
        assert!(with_key(&DEVELOPMENT_KEY).check_environment("staging").is_err());
    }

    #[test]
    fn the_development_key_is_accepted_locally() {
        assert!(with_key(&DEVELOPMENT_KEY).check_environment("local").is_ok());
    }

    #[test]
    fn a_real_key_or_none_is_accepted_in_production() {
        assert!(with_key(&[7; 32]).check_environment("production").is_ok());
        assert!(CredentialsSettings::default().check_environment("production").is_ok(), "migrate needs no key");
    }

    #[test]
    fn the_development_key_may_stay_readable_as_a_previous_key() {
        let settings = CredentialsSettings {
            key_id: "2027-01".into(),
            previous_keys: vec![PreviousKey { id: INITIAL_KEY_ID.into(), key: encode(&DEVELOPMENT_KEY) }],
            ..with_key(&[7; 32])
        };
        assert!(settings.validate().is_ok());
        assert!(settings.check_environment("production").is_ok());
    }

    #[test]
    fn the_local_config_holds_the_development_key() {
        let local = include_str!("../../config/local.toml");
        assert!(local.contains(&format!("encryption_key = \"{}\"", encode(&DEVELOPMENT_KEY))), "{local}");
    }

    #[test]
    fn previous_keys_are_checked_and_named_by_id() {
        let previous = |id: &str, key: String| PreviousKey { id: id.into(), key };
        let base = CredentialsSettings { key_id: "b".into(), ..with_key(&[2; 32]) };
        let good = CredentialsSettings { previous_keys: vec![previous("a", encode(&[1; 32]))], ..base.clone() };
        assert!(good.validate().is_ok());

        let short = CredentialsSettings { previous_keys: vec![previous("a", encode(&[1; 16]))], ..base.clone() };
        let error = short.validate().unwrap_err().to_string();
        assert!(error.contains("credentials.previous_keys") && error.contains("`a`"), "{error}");
        assert!(!error.contains(&encode(&[1; 16])), "{error}");

        let twice = CredentialsSettings {
            previous_keys: vec![previous("a", encode(&[1; 32])), previous("a", encode(&[3; 32]))],
            ..base.clone()
        };
        assert!(twice.validate().unwrap_err().to_string().contains("listed twice"));
        let current_id = CredentialsSettings { previous_keys: vec![previous("b", encode(&[1; 32]))], ..base.clone() };
        assert!(current_id.validate().is_err(), "the current key's id cannot name an old key");

        let bad_id = CredentialsSettings { previous_keys: vec![previous("a:b", encode(&[1; 32]))], ..base.clone() };
        assert!(bad_id.validate().unwrap_err().to_string().contains("credentials.previous_keys"));
        let no_current = CredentialsSettings { encryption_key: String::new(), ..good };
        assert!(no_current.validate().unwrap_err().to_string().contains("credentials.encryption_key"));
        let bad_key_id = CredentialsSettings { key_id: String::new(), ..base };
        assert!(bad_key_id.validate().unwrap_err().to_string().contains("credentials.key_id"));
    }

    #[test]
    fn the_string_form_lists_ids_and_keys() {
        let keys = parse_previous_keys(" a:QUFB= , initial:QkJC ,").unwrap();
        assert_eq!(
            keys.iter().map(|k| (k.id.as_str(), k.key.as_str())).collect::<Vec<_>>(),
            [("a", "QUFB="), ("initial", "QkJC")]
        );
        assert_eq!(parse_previous_keys("").unwrap(), Vec::new());
        assert!(parse_previous_keys("no-separator").is_err());
    }

    #[test]
    fn debug_output_shows_ids_and_never_keys() {
        let settings = CredentialsSettings {
            key_id: "b".into(),
            previous_keys: vec![PreviousKey { id: "a".into(), key: encode(&[1; 32]) }],
            ..with_key(&[2; 32])
        };
        let debug = format!("{settings:?}");
        assert!(debug.contains("\"a\"") && debug.contains("\"b\""), "{debug}");
        assert!(!debug.contains(&encode(&[1; 32])) && !debug.contains(&encode(&[2; 32])), "{debug}");
    }
}
