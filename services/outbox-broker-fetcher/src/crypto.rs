//! Broker credentials at rest: XChaCha20-Poly1305 with a random 24-byte nonce per write (large
//! enough that random nonces never repeat in practice).
//!
//! Keys rotate: every sealed value names the key that sealed it (its key id), and a cipher
//! holds the current key plus the previous keys that must stay readable. A value is always
//! sealed with the current key and opened with the key its id names.
//!
//! The associated data binds a value to its row, so a ciphertext copied elsewhere fails to
//! open:
//!
//! - [`Aad::AccountAndEnvironment`], for everything sealed now: the broker account id (16
//!   bytes) followed by the environment (`live` / `sandbox`). A row whose environment is
//!   flipped would send the token to the other Tradier base URL; it does not open.
//! - [`Aad::Account`], for rows sealed before the environment was bound: the account id only.
//!   They still open, until `admin rotate-keys` re-seals them.

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
    /// The stored value does not open with its key, account and environment (wrong key
    /// behind the id, tampered, moved to another row, or environment flipped).
    #[error("the stored credential does not decrypt with its key for this account and environment")]
    Undecryptable,
}

/// What a sealed value is bound to, besides its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aad {
    /// The broker account id (rows sealed before the environment was bound). Version 1.
    Account,
    /// The broker account id followed by the environment. Version 2, what is sealed now.
    AccountAndEnvironment,
}

impl Aad {
    /// The scheme every seal uses now.
    pub const CURRENT: Aad = Aad::AccountAndEnvironment;

    /// The stored version number.
    pub fn version(self) -> i16 {
        match self {
            Aad::Account => 1,
            Aad::AccountAndEnvironment => 2,
        }
    }

    /// The scheme for a stored version number.
    pub fn from_version(version: i16) -> Result<Self, CipherError> {
        match version {
            1 => Ok(Aad::Account),
            2 => Ok(Aad::AccountAndEnvironment),
            other => Err(CipherError::UnknownAad(other)),
        }
    }

    /// The associated data for a row. The account id has a fixed length, so the environment
    /// that follows it needs no separator.
    fn bytes(self, account: BrokerAccountId, environment: TradierEnvironment) -> Vec<u8> {
        let mut aad = account.as_uuid().as_bytes().to_vec();
        if self == Aad::AccountAndEnvironment {
            aad.extend_from_slice(environment.as_str().as_bytes());
        }
        aad
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

    /// Whether `sealed` is what a seal now would produce: the current key and the current
    /// associated data (else `admin rotate-keys` re-seals it).
    pub fn is_current(&self, sealed: &Sealed) -> bool {
        self.current.as_deref() == Some(sealed.key_id.as_str()) && sealed.aad == Aad::CURRENT
    }

    /// Encrypts `token` for `account` in `environment`, with the current key.
    pub fn seal(
        &self,
        account: BrokerAccountId,
        environment: TradierEnvironment,
        token: &Secret,
    ) -> Result<Sealed, CipherError> {
        let key_id = self.current.as_ref().ok_or(CipherError::NoKey)?;
        let cipher = self.keys.get(key_id).ok_or(CipherError::NoKey)?;
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = Aad::CURRENT.bytes(account, environment);
        let payload = Payload { msg: token.expose().as_bytes(), aad: &aad };
        // Encryption of an in-memory buffer only fails on absurd lengths.
        let ciphertext = cipher.encrypt(XNonce::from_slice(&nonce), payload).map_err(|_| CipherError::Undecryptable)?;
        Ok(Sealed { nonce: nonce.to_vec(), ciphertext, key_id: key_id.clone(), aad: Aad::CURRENT })
    }

    /// Decrypts the credential stored for `account` in `environment`, with the key its id
    /// names.
    pub fn open(
        &self,
        account: BrokerAccountId,
        environment: TradierEnvironment,
        sealed: &Sealed,
    ) -> Result<Secret, CipherError> {
        if self.keys.is_empty() {
            return Err(CipherError::NoKey);
        }
        let cipher =
            self.keys.get(&sealed.key_id).ok_or_else(|| CipherError::UnknownKey { key_id: sealed.key_id.clone() })?;
        if sealed.nonce.len() != NONCE_LEN {
            return Err(CipherError::Undecryptable);
        }
        let aad = sealed.aad.bytes(account, environment);
        let payload = Payload { msg: &sealed.ciphertext, aad: &aad };
        let plain =
            cipher.decrypt(XNonce::from_slice(&sealed.nonce), payload).map_err(|_| CipherError::Undecryptable)?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| CipherError::Undecryptable)
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
        for aad in [Aad::Account, Aad::AccountAndEnvironment] {
            assert_eq!(Aad::from_version(aad.version()), Ok(aad));
        }
        assert_eq!(Aad::from_version(3), Err(CipherError::UnknownAad(3)));
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
    }

    #[test]
    fn debug_output_names_key_ids_and_never_keys() {
        let cipher = CredentialCipher::with_keys(Some(key("b", 0x41)), vec![key("a", 0x42)]);
        let debug = format!("{cipher:?} {:?}", key("a", 0x42));
        assert!(debug.contains("\"a\"") && debug.contains("\"b\""), "{debug}");
        assert!(!debug.contains("65") && !debug.contains("66"), "{debug}");
    }
}
