//! API keys and user tokens as they travel: the gateway turns a presented key into a
//! [`KeyProof`] (its public lookup prefix and its SHA-256) and sends only that to the ledger,
//! so the key itself never crosses the bus.
//!
//! A key reads `tb_<lookup>_<secret>`: `lookup` is 12 hex digits stored in clear (the row is
//! found by it), `secret` is random. The ledger stores only the SHA-256 of the whole key.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The lookup prefix of a presented key, or `None` when it cannot be one of ours.
pub fn lookup_prefix(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix("tb_")?;
    let (lookup, secret) = rest.split_once('_')?;
    (is_lookup(lookup) && !secret.is_empty()).then_some(lookup)
}

/// Whether `text` has the form of a lookup prefix: 12 hex digits.
pub fn is_lookup(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// SHA-256 of a key's text.
pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// What identifies a presented key without being it: the lookup prefix (empty when the key is
/// malformed, so it matches no row) and the SHA-256 of the whole key in lowercase hex.
///
/// The digest is what the ledger compares with the stored one; it is still a credential on the
/// bus (whoever can publish on the ledger's authenticate subject could replay it), which is
/// why the bus itself is authenticated and `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyProof {
    /// The key's public lookup prefix; empty for a key that cannot be ours.
    pub lookup: String,
    /// SHA-256 of the whole presented key, 64 lowercase hex digits.
    pub sha256: String,
}

impl KeyProof {
    /// The proof of `presented`.
    pub fn of(presented: &str) -> Self {
        let lookup = lookup_prefix(presented).unwrap_or_default().to_string();
        let sha256 = digest(presented).iter().map(|byte| format!("{byte:02x}")).collect();
        Self { lookup, sha256 }
    }

    /// The digest as bytes, or `None` when it is not 64 hex digits.
    pub fn digest_bytes(&self) -> Option<[u8; 32]> {
        let hex = self.sha256.as_bytes();
        // `from_str_radix` alone would also take a sign ("+f").
        if hex.len() != 64 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let text = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(text, 16).ok()?;
        }
        Some(bytes)
    }
}

impl fmt::Debug for KeyProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyProof").field("lookup", &self.lookup).field("sha256", &"***").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "tb_0123456789ab_c2VjcmV0LXBhcnQtb2YtdGhlLWtleQ";

    #[test]
    fn a_proof_carries_the_prefix_and_digest_but_not_the_key() {
        let proof = KeyProof::of(KEY);
        assert_eq!(proof.lookup, "0123456789ab");
        assert_eq!(proof.digest_bytes(), Some(digest(KEY)));
        let wire = serde_json::to_string(&proof).unwrap();
        assert!(!wire.contains("c2VjcmV0"), "{wire}");
        assert!(!format!("{proof:?}").contains(&proof.sha256));
    }

    #[test]
    fn a_malformed_key_has_an_empty_lookup() {
        for bad in ["", "tb_", "tb_abc_def", "xx_0123456789ab_secret", "tb_0123456789ag_secret", "tb_0123456789ab_"] {
            assert_eq!(lookup_prefix(bad), None, "{bad:?}");
            assert_eq!(KeyProof::of(bad).lookup, "", "{bad:?}");
        }
    }

    #[test]
    fn a_digest_that_is_not_hex_reads_as_none() {
        let short = KeyProof { lookup: String::new(), sha256: "ab".into() };
        let not_hex = KeyProof { lookup: String::new(), sha256: "zz".repeat(32) };
        let signed = KeyProof { lookup: String::new(), sha256: "+f".repeat(32) };
        assert_eq!(short.digest_bytes(), None);
        assert_eq!(not_hex.digest_bytes(), None);
        assert_eq!(signed.digest_bytes(), None);
    }
}
