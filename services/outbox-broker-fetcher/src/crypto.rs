//! Broker credentials at rest: XChaCha20-Poly1305 with a random 24-byte nonce per write (large
//! enough that random nonces never repeat in practice).
//!
//! Keys rotate: every sealed value names the key that sealed it (its key id), and a cipher
//! holds the current key plus the previous keys that must stay readable. A value is always
//! sealed with the current key and opened with the key its id names.
//!
//! The associated data binds a value to its row (its account and what the row says the value
//! is, a [`Binding`]), so a ciphertext copied elsewhere fails to open:
//!
//! - [`Aad::AccountAndEnvironment`], for every Tradier token sealed now: the broker account id
//!   (16 bytes) followed by the environment (`live` / `sandbox`). A row whose environment is
//!   flipped would send the token to the other Tradier base URL; it does not open.
//! - [`Aad::Account`], for Tradier tokens sealed before the environment was bound: the account
//!   id only. They still open, until `admin rotate-keys` re-seals them.
//! - [`Aad::AccountAndExchange`], for exchange API keys ([`ExchangeKeys`]): the account id
//!   followed by a tag and the exchange id. Keys moved to another row, or whose row is
//!   relabelled to another exchange, do not open.

mod exchange_keys;

pub use exchange_keys::ExchangeKeys;

use crate::broker::TradierEnvironment;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use domain::{BrokerAccountId, Secret};
use std::collections::HashMap;
use std::fmt;

/// Length of the random nonce stored beside each ciphertext.
pub const NONCE_LEN: usize = 24;

/// The id of the key every credential was sealed with before keys had ids; also the default
/// `credentials.key_id`, so a deployment that never rotated keeps working unchanged.
pub const INITIAL_KEY_ID: &str = "initial";

/// Why a credential could not be sealed or opened. Carries no secret material (a key id is a
/// name, not a secret).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    /// No `credentials.encryption_key` is configured.
    #[error("no credentials.encryption_key is configured")]
    NoKey,
    /// The value was sealed with a key this process does not hold.
    #[error(
        "the stored credential is sealed with key id `{key_id}`, which is neither credentials.key_id nor one of \
         credentials.previous_keys"
    )]
    UnknownKey {
        /// The id stored with the value.
        key_id: String,
    },
    /// The stored associated-data version is not one this code knows.
    #[error("the stored credential names an unknown associated-data version {0}")]
    UnknownAad(i16),
    /// The stored value does not open with its key, account and binding (wrong key behind the
    /// id, tampered, moved to another row, environment flipped, relabelled to another exchange
    /// or to another kind of credential).
    #[error("the stored credential does not decrypt with its key for this account and environment")]
    Undecryptable,
}

/// What a credential is, as its row says, and so what its seal is bound to besides the
/// account: opening with another binding than the one it was sealed with fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding<'a> {
    /// A Tradier access token, bound to the environment its requests go to.
    Tradier(TradierEnvironment),
    /// An exchange's API keys, bound to the exchange they are for.
    ExchangeKeys {
        /// The exchange, as stored with the row.
        exchange_id: &'a str,
    },
}

impl Binding<'_> {
    /// The scheme a seal of this kind of credential uses now.
    pub fn current_aad(self) -> Aad {
        match self {
            Binding::Tradier(_) => Aad::AccountAndEnvironment,
            Binding::ExchangeKeys { .. } => Aad::AccountAndExchange,
        }
    }
}

/// What a sealed value is bound to, besides its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aad {
    /// The broker account id (Tradier tokens sealed before the environment was bound).
    /// Version 1.
    Account,
    /// The broker account id followed by the environment. Version 2, what Tradier tokens are
    /// sealed with now.
    AccountAndEnvironment,
    /// The broker account id followed by the tag `exchange_keys:` and the exchange id.
    /// Version 3, what exchange keys are sealed with.
    AccountAndExchange,
}

/// Separates version 3's associated data from version 2's: without it, keys for an exchange
/// named `live` would carry the same associated data as a live Tradier token of the account,
/// and one could be relabelled as the other. Version 2 only ever appends `live` or `sandbox`.
const EXCHANGE_TAG: &[u8] = b"exchange_keys:";

impl Aad {
    /// The scheme every Tradier token is sealed with now (exchange keys: see
    /// [`Binding::current_aad`]).
    pub const CURRENT: Aad = Aad::AccountAndEnvironment;

    /// The stored version number.
    pub fn version(self) -> i16 {
        match self {
            Aad::Account => 1,
            Aad::AccountAndEnvironment => 2,
            Aad::AccountAndExchange => 3,
        }
    }

    /// The scheme for a stored version number.
    pub fn from_version(version: i16) -> Result<Self, CipherError> {
        match version {
            1 => Ok(Aad::Account),
            2 => Ok(Aad::AccountAndEnvironment),
            3 => Ok(Aad::AccountAndExchange),
            other => Err(CipherError::UnknownAad(other)),
        }
    }

    /// What each kind of credential is sealed with now: a value sealed otherwise, or with
    /// another key than the current one, is re-sealed by `admin rotate-keys`.
    pub const LATEST: [Aad; 2] = [Aad::AccountAndEnvironment, Aad::AccountAndExchange];

    /// Whether this is what its kind of credential is sealed with now ([`Aad::LATEST`]).
    pub fn is_latest(self) -> bool {
        Self::LATEST.contains(&self)
    }

    /// The associated data for a row. The account id has a fixed length, so what follows it
    /// needs no separator. A scheme of one kind of credential asked to bind another kind (a
    /// row relabelled from exchange keys to a Tradier token, or back) does not open.
    fn bytes(self, account: BrokerAccountId, binding: Binding<'_>) -> Result<Vec<u8>, CipherError> {
        let mut aad = account.as_uuid().as_bytes().to_vec();
        match (self, binding) {
            (Aad::Account, Binding::Tradier(_)) => {}
            (Aad::AccountAndEnvironment, Binding::Tradier(environment)) => {
                aad.extend_from_slice(environment.as_str().as_bytes());
            }
            (Aad::AccountAndExchange, Binding::ExchangeKeys { exchange_id }) => {
                aad.extend_from_slice(EXCHANGE_TAG);
                aad.extend_from_slice(exchange_id.as_bytes());
            }
            (Aad::Account | Aad::AccountAndEnvironment, Binding::ExchangeKeys { .. })
            | (Aad::AccountAndExchange, Binding::Tradier(_)) => return Err(CipherError::Undecryptable),
        }
        Ok(aad)
    }
}

/// A sealed credential as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The random nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext with its authentication tag.
    pub ciphertext: Vec<u8>,
    /// The id of the key that sealed it.
    pub key_id: String,
    /// What it is bound to.
    pub aad: Aad,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("key_id", &self.key_id)
            .field("aad", &self.aad)
            .finish()
    }
}

/// A key and its id. `Debug` shows the id only.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey {
    /// The name rows sealed with it carry.
    pub id: String,
    /// The 32-byte key.
    pub key: [u8; 32],
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("id", &self.id).field("key", &"<redacted>").finish()
    }
}

/// Seals with the current key and opens with any key it holds.
#[derive(Clone)]
pub struct CredentialCipher {
    /// The id of the key every seal uses.
    current: Option<String>,
    /// Every key by id: the current one and the previous ones.
    keys: HashMap<String, XChaCha20Poly1305>,
}

impl fmt::Debug for CredentialCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("CredentialCipher").field("current", &self.current).field("key_ids", &ids).finish()
    }
}

impl CredentialCipher {
    /// A cipher with one key, named [`INITIAL_KEY_ID`] (`None`: every seal and open fails with
    /// [`CipherError::NoKey`]).
    pub fn new(key: Option<[u8; 32]>) -> Self {
        Self::with_keys(key.map(|key| DataKey { id: INITIAL_KEY_ID.to_string(), key }), Vec::new())
    }

    /// A cipher that seals with `current` and also opens what `previous` keys sealed. The
    /// current key wins over a previous key of the same id.
    pub fn with_keys(current: Option<DataKey>, previous: Vec<DataKey>) -> Self {
        let mut keys: HashMap<String, XChaCha20Poly1305> =
            previous.into_iter().map(|key| (key.id, XChaCha20Poly1305::new(&key.key.into()))).collect();
        let current = current.map(|key| {
            keys.insert(key.id.clone(), XChaCha20Poly1305::new(&key.key.into()));
            key.id
        });
        Self { current, keys }
    }

    /// The id every seal uses, if a key is configured.
    pub fn current_key_id(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// Whether `sealed` is what a seal now would produce: the current key and the latest
    /// associated data of its kind (else `admin rotate-keys` re-seals it).
    pub fn is_current(&self, sealed: &Sealed) -> bool {
        self.current.as_deref() == Some(sealed.key_id.as_str()) && sealed.aad.is_latest()
    }

    /// Encrypts `token` for `account` in `environment`, with the current key.
    pub fn seal(
        &self,
        account: BrokerAccountId,
        environment: TradierEnvironment,
        token: &Secret,
    ) -> Result<Sealed, CipherError> {
        self.seal_bytes(account, Binding::Tradier(environment), token.expose().as_bytes())
    }

    /// Decrypts the credential stored for `account` in `environment`, with the key its id
    /// names.
    pub fn open(
        &self,
        account: BrokerAccountId,
        environment: TradierEnvironment,
        sealed: &Sealed,
    ) -> Result<Secret, CipherError> {
        let plain = self.open_bytes(account, Binding::Tradier(environment), sealed)?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| CipherError::Undecryptable)
    }

    /// Encrypts an exchange's API keys for `account`, bound to `exchange_id`, with the current
    /// key.
    pub fn seal_exchange_keys(
        &self,
        account: BrokerAccountId,
        exchange_id: &str,
        keys: &ExchangeKeys,
    ) -> Result<Sealed, CipherError> {
        self.seal_bytes(account, Binding::ExchangeKeys { exchange_id }, &keys.to_json())
    }

    /// Decrypts the exchange keys stored for `account` and `exchange_id`, with the key its id
    /// names.
    pub fn open_exchange_keys(
        &self,
        account: BrokerAccountId,
        exchange_id: &str,
        sealed: &Sealed,
    ) -> Result<ExchangeKeys, CipherError> {
        let plain = self.open_bytes(account, Binding::ExchangeKeys { exchange_id }, sealed)?;
        // Authenticated plaintext that is not our JSON cannot come from a seal of ours.
        ExchangeKeys::from_json(&plain).ok_or(CipherError::Undecryptable)
    }

    /// Opens `sealed` with whichever key sealed it and seals the same plaintext with the
    /// current key and the latest associated data of its kind: what `admin rotate-keys` does
    /// to each row, without knowing what the plaintext is.
    pub fn reseal(
        &self,
        account: BrokerAccountId,
        binding: Binding<'_>,
        sealed: &Sealed,
    ) -> Result<Sealed, CipherError> {
        let plain = self.open_bytes(account, binding, sealed)?;
        self.seal_bytes(account, binding, &plain)
    }

    /// Encrypts `plain` with the current key and the current associated data of `binding`.
    fn seal_bytes(&self, account: BrokerAccountId, binding: Binding<'_>, plain: &[u8]) -> Result<Sealed, CipherError> {
        let key_id = self.current.as_ref().ok_or(CipherError::NoKey)?;
        let cipher = self.keys.get(key_id).ok_or(CipherError::NoKey)?;
        let nonce: [u8; NONCE_LEN] = rand::random();
        let scheme = binding.current_aad();
        let aad = scheme.bytes(account, binding)?;
        let payload = Payload { msg: plain, aad: &aad };
        // Encryption of an in-memory buffer only fails on absurd lengths.
        let ciphertext = cipher.encrypt(XNonce::from_slice(&nonce), payload).map_err(|_| CipherError::Undecryptable)?;
        Ok(Sealed { nonce: nonce.to_vec(), ciphertext, key_id: key_id.clone(), aad: scheme })
    }

    /// Decrypts `sealed` with the key its id names and the associated data its version and
    /// `binding` make.
    fn open_bytes(
        &self,
        account: BrokerAccountId,
        binding: Binding<'_>,
        sealed: &Sealed,
    ) -> Result<Vec<u8>, CipherError> {
        if self.keys.is_empty() {
            return Err(CipherError::NoKey);
        }
        let cipher =
            self.keys.get(&sealed.key_id).ok_or_else(|| CipherError::UnknownKey { key_id: sealed.key_id.clone() })?;
        if sealed.nonce.len() != NONCE_LEN {
            return Err(CipherError::Undecryptable);
        }
        let aad = sealed.aad.bytes(account, binding)?;
        let payload = Payload { msg: &sealed.ciphertext, aad: &aad };
        cipher.decrypt(XNonce::from_slice(&sealed.nonce), payload).map_err(|_| CipherError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TradierEnvironment::{Live, Sandbox};

    fn key(id: &str, byte: u8) -> DataKey {
        DataKey { id: id.to_string(), key: [byte; 32] }
    }

    /// What the code before key ids wrote: the account id alone as associated data.
    fn seal_legacy(key: [u8; 32], account: BrokerAccountId, token: &str) -> Sealed {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let payload = Payload { msg: token.as_bytes(), aad: account.as_uuid().as_bytes() };
        let ciphertext = XChaCha20Poly1305::new(&key.into()).encrypt(XNonce::from_slice(&nonce), payload).unwrap();
        Sealed { nonce: nonce.to_vec(), ciphertext, key_id: INITIAL_KEY_ID.to_string(), aad: Aad::Account }
    }

    #[test]
    fn a_sealed_token_opens_only_for_its_account_environment_and_key() {
        let cipher = CredentialCipher::with_keys(Some(key("k1", 7)), Vec::new());
        let account = BrokerAccountId::new();
        let sealed = cipher.seal(account, Live, &Secret::new("tok-abc")).unwrap();
        assert!(!sealed.ciphertext.windows(7).any(|w| w == b"tok-abc"), "stored encrypted");
        assert_eq!((sealed.key_id.as_str(), sealed.aad), ("k1", Aad::AccountAndEnvironment));
        assert_eq!(cipher.open(account, Live, &sealed).unwrap().expose(), "tok-abc");
        assert_eq!(cipher.open(BrokerAccountId::new(), Live, &sealed).unwrap_err(), CipherError::Undecryptable);
        assert_eq!(cipher.open(account, Sandbox, &sealed).unwrap_err(), CipherError::Undecryptable, "env bound");
        let same_id_other_key = CredentialCipher::with_keys(Some(key("k1", 8)), Vec::new());
        assert_eq!(same_id_other_key.open(account, Live, &sealed).unwrap_err(), CipherError::Undecryptable);
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(cipher.open(account, Live, &tampered).unwrap_err(), CipherError::Undecryptable);
        let mut downgraded = sealed.clone();
        downgraded.aad = Aad::Account;
        assert_eq!(cipher.open(account, Live, &downgraded).unwrap_err(), CipherError::Undecryptable);
    }

    #[test]
    fn a_legacy_value_is_bound_to_its_account_only() {
        let cipher = CredentialCipher::new(Some([7; 32]));
        let account = BrokerAccountId::new();
        let legacy = seal_legacy([7; 32], account, "tok-old");
        assert_eq!(cipher.open(account, Live, &legacy).unwrap().expose(), "tok-old");
        assert_eq!(cipher.open(account, Sandbox, &legacy).unwrap().expose(), "tok-old", "until re-sealed");
        assert_eq!(cipher.open(BrokerAccountId::new(), Live, &legacy).unwrap_err(), CipherError::Undecryptable);
        assert!(!cipher.is_current(&legacy), "the old associated data asks for a re-seal");
    }

    #[test]
    fn a_previous_key_opens_what_it_sealed_and_the_current_key_seals() {
        let old = CredentialCipher::with_keys(Some(key("a", 1)), Vec::new());
        let account = BrokerAccountId::new();
        let sealed_with_a = old.seal(account, Sandbox, &Secret::new("tok")).unwrap();

        let rotated = CredentialCipher::with_keys(Some(key("b", 2)), vec![key("a", 1)]);
        assert_eq!(rotated.open(account, Sandbox, &sealed_with_a).unwrap().expose(), "tok");
        assert!(!rotated.is_current(&sealed_with_a));
        let resealed = rotated.seal(account, Sandbox, &Secret::new("tok")).unwrap();
        assert_eq!(resealed.key_id, "b");
        assert!(rotated.is_current(&resealed));

        let b_alone = CredentialCipher::with_keys(Some(key("b", 2)), Vec::new());
        assert_eq!(b_alone.open(account, Sandbox, &resealed).unwrap().expose(), "tok");
        assert_eq!(
            b_alone.open(account, Sandbox, &sealed_with_a).unwrap_err(),
            CipherError::UnknownKey { key_id: "a".into() }
        );
        let message = CipherError::UnknownKey { key_id: "a".into() }.to_string();
        assert!(message.contains("`a`") && message.contains("credentials.previous_keys"), "{message}");
    }

    #[test]
    fn aad_versions_round_trip_and_unknown_ones_are_refused() {
        for aad in [Aad::Account, Aad::AccountAndEnvironment, Aad::AccountAndExchange] {
            assert_eq!(Aad::from_version(aad.version()), Ok(aad));
        }
        assert_eq!(Aad::from_version(4), Err(CipherError::UnknownAad(4)));
    }

    fn exchange_keys(extra: Option<&str>) -> ExchangeKeys {
        ExchangeKeys {
            public_key: Secret::new("pub-key-1f"),
            secret_key: Secret::new("sec-key-2e"),
            extra_key: extra.map(Secret::new),
        }
    }

    #[test]
    fn exchange_keys_open_only_for_their_account_and_exchange() {
        let cipher = CredentialCipher::with_keys(Some(key("k1", 7)), Vec::new());
        let account = BrokerAccountId::new();
        let keys = exchange_keys(Some("pass-3d"));
        let sealed = cipher.seal_exchange_keys(account, "binance", &keys).unwrap();
        assert_eq!((sealed.key_id.as_str(), sealed.aad), ("k1", Aad::AccountAndExchange));
        assert!(cipher.is_current(&sealed));
        for text in ["pub-key-1f", "sec-key-2e", "pass-3d"] {
            assert!(!sealed.ciphertext.windows(text.len()).any(|w| w == text.as_bytes()), "{text} stored encrypted");
        }
        assert_eq!(cipher.open_exchange_keys(account, "binance", &sealed).unwrap(), keys);
        let without_extra = cipher.seal_exchange_keys(account, "kraken", &exchange_keys(None)).unwrap();
        assert_eq!(cipher.open_exchange_keys(account, "kraken", &without_extra).unwrap(), exchange_keys(None));

        let refused = |account, exchange_id, sealed: &Sealed| cipher.open_exchange_keys(account, exchange_id, sealed);
        assert_eq!(refused(BrokerAccountId::new(), "binance", &sealed).unwrap_err(), CipherError::Undecryptable);
        assert_eq!(refused(account, "kraken", &sealed).unwrap_err(), CipherError::Undecryptable, "relabelled");
        assert_eq!(refused(account, "Binance", &sealed).unwrap_err(), CipherError::Undecryptable);
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(refused(account, "binance", &tampered).unwrap_err(), CipherError::Undecryptable);
        let mut other_nonce = sealed.clone();
        other_nonce.nonce[0] ^= 1;
        assert_eq!(refused(account, "binance", &other_nonce).unwrap_err(), CipherError::Undecryptable);
        let other_key = CredentialCipher::with_keys(Some(key("k1", 8)), Vec::new());
        assert_eq!(other_key.open_exchange_keys(account, "binance", &sealed).unwrap_err(), CipherError::Undecryptable);
    }

    #[test]
    fn exchange_keys_and_tradier_tokens_cannot_pass_for_each_other() {
        let cipher = CredentialCipher::new(Some([7; 32]));
        let account = BrokerAccountId::new();
        // An exchange named like an environment: the tag keeps the associated data apart.
        let keys = cipher.seal_exchange_keys(account, "live", &exchange_keys(None)).unwrap();
        assert_eq!(cipher.open(account, Live, &keys).unwrap_err(), CipherError::Undecryptable);
        let mut relabelled = keys.clone();
        relabelled.aad = Aad::AccountAndEnvironment;
        assert_eq!(cipher.open(account, Live, &relabelled).unwrap_err(), CipherError::Undecryptable);
        relabelled.aad = Aad::Account;
        assert_eq!(cipher.open(account, Live, &relabelled).unwrap_err(), CipherError::Undecryptable);

        let token = cipher.seal(account, Live, &Secret::new("tok-abc")).unwrap();
        assert_eq!(cipher.open_exchange_keys(account, "live", &token).unwrap_err(), CipherError::Undecryptable);
        let mut relabelled = token.clone();
        relabelled.aad = Aad::AccountAndExchange;
        assert_eq!(cipher.open_exchange_keys(account, "live", &relabelled).unwrap_err(), CipherError::Undecryptable);
        let legacy = seal_legacy([7; 32], account, "tok-old");
        assert_eq!(cipher.open_exchange_keys(account, "live", &legacy).unwrap_err(), CipherError::Undecryptable);
    }

    #[test]
    fn reseal_keeps_the_plaintext_and_moves_to_the_current_key_and_scheme() {
        let old = CredentialCipher::with_keys(Some(key("a", 1)), Vec::new());
        let rotated = CredentialCipher::with_keys(Some(key("b", 2)), vec![key("a", 1)]);
        let account = BrokerAccountId::new();
        let binding = Binding::ExchangeKeys { exchange_id: "okx" };
        let keys = old.seal_exchange_keys(account, "okx", &exchange_keys(Some("pass"))).unwrap();
        let resealed = rotated.reseal(account, binding, &keys).unwrap();
        assert_eq!((resealed.key_id.as_str(), resealed.aad), ("b", Aad::AccountAndExchange));
        assert_eq!(rotated.open_exchange_keys(account, "okx", &resealed).unwrap(), exchange_keys(Some("pass")));
        let relabelled = Binding::ExchangeKeys { exchange_id: "kraken" };
        assert_eq!(rotated.reseal(account, relabelled, &keys).unwrap_err(), CipherError::Undecryptable);

        // A legacy Tradier token moves to version 2, bound to its environment.
        let legacy = CredentialCipher::new(Some([7; 32]));
        let sealed = seal_legacy([7; 32], account, "tok-old");
        let resealed = legacy.reseal(account, Binding::Tradier(Sandbox), &sealed).unwrap();
        assert_eq!(resealed.aad, Aad::AccountAndEnvironment);
        assert_eq!(legacy.open(account, Sandbox, &resealed).unwrap().expose(), "tok-old");
        assert_eq!(legacy.open(account, Live, &resealed).unwrap_err(), CipherError::Undecryptable);
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let cipher = CredentialCipher::new(Some([7; 32]));
        let account = BrokerAccountId::new();
        let a = cipher.seal(account, Live, &Secret::new("same")).unwrap();
        let b = cipher.seal(account, Live, &Secret::new("same")).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn without_a_key_nothing_is_sealed_or_opened() {
        let cipher = CredentialCipher::new(None);
        assert_eq!(cipher.seal(BrokerAccountId::new(), Live, &Secret::new("x")).unwrap_err(), CipherError::NoKey);
        let legacy = seal_legacy([7; 32], BrokerAccountId::new(), "x");
        assert_eq!(cipher.open(BrokerAccountId::new(), Live, &legacy).unwrap_err(), CipherError::NoKey);
        let keys = exchange_keys(None);
        assert_eq!(cipher.seal_exchange_keys(BrokerAccountId::new(), "okx", &keys).unwrap_err(), CipherError::NoKey);
    }

    #[test]
    fn debug_output_names_key_ids_and_never_keys() {
        let cipher = CredentialCipher::with_keys(Some(key("b", 0x41)), vec![key("a", 0x42)]);
        let debug = format!("{cipher:?} {:?}", key("a", 0x42));
        assert!(debug.contains("\"a\"") && debug.contains("\"b\""), "{debug}");
        assert!(!debug.contains("65") && !debug.contains("66"), "{debug}");
    }
}
