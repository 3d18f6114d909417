//! Broker credentials at rest: XChaCha20-Poly1305 with a random 24-byte nonce per write (large
//! enough that random nonces never repeat in practice) and the broker account id as
//! associated data, so a ciphertext moved to another account's row fails to open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use domain::Secret;
use std::fmt;
use uuid::Uuid;

/// Length of the random nonce stored beside each ciphertext.
pub const NONCE_LEN: usize = 24;

/// Why a credential could not be sealed or opened. Carries no secret material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    /// No `credentials.encryption_key` is configured.
    #[error("no credentials.encryption_key is configured")]
    NoKey,
    /// The stored value does not open with this key and account (wrong key, tampered or
    /// moved row).
    #[error("the stored credential does not decrypt with the configured key")]
    Undecryptable,
}

/// A sealed credential as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The random nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext with its authentication tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed").field("ciphertext_len", &self.ciphertext.len()).finish()
    }
}

/// Seals and opens credentials with the configured key.
#[derive(Clone)]
pub struct CredentialCipher {
    cipher: Option<XChaCha20Poly1305>,
}

impl fmt::Debug for CredentialCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialCipher").field("configured", &self.cipher.is_some()).finish()
    }
}

impl CredentialCipher {
    /// A cipher for `key` (`None`: every seal and open fails with [`CipherError::NoKey`]).
    pub fn new(key: Option<[u8; 32]>) -> Self {
        Self { cipher: key.map(|key| XChaCha20Poly1305::new(&key.into())) }
    }

    /// Encrypts `token` for `account`.
    pub fn seal(&self, account: Uuid, token: &Secret) -> Result<Sealed, CipherError> {
        let cipher = self.cipher.as_ref().ok_or(CipherError::NoKey)?;
        let nonce: [u8; NONCE_LEN] = rand::random();
        let payload = Payload { msg: token.expose().as_bytes(), aad: account.as_bytes() };
        // Encryption of an in-memory buffer only fails on absurd lengths.
        let ciphertext = cipher.encrypt(XNonce::from_slice(&nonce), payload).map_err(|_| CipherError::Undecryptable)?;
        Ok(Sealed { nonce: nonce.to_vec(), ciphertext })
    }

    /// Decrypts the credential stored for `account`.
    pub fn open(&self, account: Uuid, sealed: &Sealed) -> Result<Secret, CipherError> {
        let cipher = self.cipher.as_ref().ok_or(CipherError::NoKey)?;
        if sealed.nonce.len() != NONCE_LEN {
            return Err(CipherError::Undecryptable);
        }
        let payload = Payload { msg: &sealed.ciphertext, aad: account.as_bytes() };
        let plain =
            cipher.decrypt(XNonce::from_slice(&sealed.nonce), payload).map_err(|_| CipherError::Undecryptable)?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| CipherError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_token_opens_only_for_its_account_and_key() {
        let cipher = CredentialCipher::new(Some([7; 32]));
        let account = Uuid::now_v7();
        let sealed = cipher.seal(account, &Secret::new("tok-abc")).unwrap();
        assert!(!sealed.ciphertext.windows(7).any(|w| w == b"tok-abc"), "stored encrypted");
        assert_eq!(cipher.open(account, &sealed).unwrap().expose(), "tok-abc");
        assert_eq!(cipher.open(Uuid::now_v7(), &sealed).unwrap_err(), CipherError::Undecryptable);
        let other_key = CredentialCipher::new(Some([8; 32]));
        assert_eq!(other_key.open(account, &sealed).unwrap_err(), CipherError::Undecryptable);
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(cipher.open(account, &tampered).unwrap_err(), CipherError::Undecryptable);
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let cipher = CredentialCipher::new(Some([7; 32]));
        let account = Uuid::now_v7();
        let a = cipher.seal(account, &Secret::new("same")).unwrap();
        let b = cipher.seal(account, &Secret::new("same")).unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn without_a_key_nothing_is_sealed() {
        let cipher = CredentialCipher::new(None);
        assert_eq!(cipher.seal(Uuid::now_v7(), &Secret::new("x")).unwrap_err(), CipherError::NoKey);
    }
}
