//! API keys and tokens: random, shown once, stored as SHA-256 behind a public lookup prefix,
//! and compared in constant time.
//!
//! A key reads `tb_<lookup>_<secret>`: `lookup` is 12 hex digits (stored in clear, unique, so
//! the row is found by an index), `secret` is 32 random bytes in base64url. Only the SHA-256 of
//! the whole key is stored; a leaked database does not leak usable keys.

use base64::Engine;
use domain::api_key::digest;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// A freshly generated key: the text to show once, and what to store.
pub struct NewKey {
    /// The whole key, given to its owner and never stored.
    pub plaintext: String,
    /// The public lookup part.
    pub lookup_prefix: String,
    /// SHA-256 of the whole key.
    pub secret_sha256: [u8; 32],
}

/// Generates a key from the operating system's cryptographic randomness.
pub fn generate() -> NewKey {
    let mut rng = rand::rng();
    let mut lookup = [0u8; 6];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut lookup);
    rng.fill_bytes(&mut secret);
    let lookup_prefix = lookup.iter().map(|byte| format!("{byte:02x}")).collect::<String>();
    let plaintext = format!("tb_{lookup_prefix}_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    NewKey { secret_sha256: digest(&plaintext), lookup_prefix, plaintext }
}

/// Whether a presented key's digest equals the stored one, in time independent of where they
/// differ.
pub fn digest_matches(presented: &[u8; 32], stored: &[u8]) -> bool {
    bool::from(presented.as_slice().ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::api_key::lookup_prefix;

    #[test]
    fn a_generated_key_verifies_and_exposes_only_its_prefix() {
        let key = generate();
        assert_eq!(lookup_prefix(&key.plaintext), Some(key.lookup_prefix.as_str()));
        assert!(digest_matches(&digest(&key.plaintext), &key.secret_sha256));
        assert!(!digest_matches(&digest(&format!("{}x", key.plaintext)), &key.secret_sha256));
        assert_eq!(key.plaintext.len(), 3 + 12 + 1 + 43);
    }

    #[test]
    fn keys_are_unique() {
        let a = generate();
        let b = generate();
        assert_ne!(a.plaintext, b.plaintext);
        assert_ne!(a.lookup_prefix, b.lookup_prefix);
    }
}
