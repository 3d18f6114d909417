//! What a request to store exchange keys must satisfy before anything is sealed or written.
//! A refusal names the field (as the request spells it) and the rule, never the value: the
//! value may be a key.

use domain::Secret;

/// The longest exchange id, in characters (all ASCII).
pub const MAX_EXCHANGE_ID_LEN: usize = 64;

/// The longest key, in bytes. Real exchange keys are far shorter; the limit keeps a row, and
/// what a rotation holds in memory, small.
pub const MAX_KEY_BYTES: usize = 1024;

/// Why a request is refused: a field and the rule it breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} {rule}")]
pub struct Invalid {
    /// The request's name of the field (`exchangeId`, `publicKey`, ...).
    pub field: &'static str,
    /// What the field must be.
    pub rule: &'static str,
}

/// Checks every field, in the request's order; the first one broken is the answer.
pub fn check(
    exchange_id: &str,
    public_key: &Secret,
    secret_key: &Secret,
    extra_key: Option<&Secret>,
) -> Result<(), Invalid> {
    check_exchange_id(exchange_id)?;
    check_key("publicKey", public_key)?;
    check_key("secretKey", secret_key)?;
    if let Some(extra_key) = extra_key.filter(|key| !key.expose().is_empty()) {
        check_key("extraKey", extra_key)?;
    }
    Ok(())
}

/// An empty `extraKey` is no passphrase: it is stored as absent rather than refused, so a
/// client that sends `""` for "none" is not turned away.
pub fn extra_key(extra_key: Option<Secret>) -> Option<Secret> {
    extra_key.filter(|key| !key.expose().is_empty())
}

/// 1 to [`MAX_EXCHANGE_ID_LEN`] visible ASCII characters: it is bound into the seal and
/// written to logs, so no spaces, control characters or look-alike letters.
fn check_exchange_id(exchange_id: &str) -> Result<(), Invalid> {
    let valid =
        (1..=MAX_EXCHANGE_ID_LEN).contains(&exchange_id.len()) && exchange_id.bytes().all(|b| b.is_ascii_graphic());
    if valid { Ok(()) } else { Err(Invalid { field: "exchangeId", rule: "must be 1 to 64 visible ASCII characters" }) }
}

fn check_key(field: &'static str, key: &Secret) -> Result<(), Invalid> {
    match key.expose().len() {
        0 => Err(Invalid { field, rule: "must not be empty" }),
        length if length > MAX_KEY_BYTES => Err(Invalid { field, rule: "must be at most 1024 bytes" }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: &str) -> Secret {
        Secret::new(value)
    }

    fn refused(exchange_id: &str, public: &str, secret_key: &str, extra: Option<&str>) -> Option<String> {
        let extra = extra.map(Secret::new);
        check(exchange_id, &secret(public), &secret(secret_key), extra.as_ref()).err().map(|error| error.to_string())
    }

    #[test]
    fn a_complete_request_passes() {
        assert_eq!(refused("binance", "pub", "sec", None), None);
        assert_eq!(refused("coinbase-pro_2.v1", "pub", "sec", Some("pass")), None);
        assert_eq!(refused(&"x".repeat(64), &"p".repeat(1024), &"s".repeat(1024), Some(&"e".repeat(1024))), None);
    }

    #[test]
    fn the_exchange_id_is_short_visible_ascii() {
        let rule = "exchangeId must be 1 to 64 visible ASCII characters";
        for bad in ["", " binance", "bin ance", "binance\n", "bïnance", &"x".repeat(65)] {
            assert_eq!(refused(bad, "pub", "sec", None).as_deref(), Some(rule), "{bad:?}");
        }
    }

    #[test]
    fn keys_are_present_and_bounded_and_never_repeated() {
        let long = "k".repeat(1025);
        assert_eq!(refused("okx", "", "sec", None).as_deref(), Some("publicKey must not be empty"));
        assert_eq!(refused("okx", "pub", "", None).as_deref(), Some("secretKey must not be empty"));
        assert_eq!(refused("okx", &long, "sec", None).as_deref(), Some("publicKey must be at most 1024 bytes"));
        assert_eq!(refused("okx", "pub", &long, None).as_deref(), Some("secretKey must be at most 1024 bytes"));
        assert_eq!(refused("okx", "pub", "sec", Some(&long)).as_deref(), Some("extraKey must be at most 1024 bytes"));
        // 1024 bytes, 512 characters: the limit is in bytes.
        assert_eq!(
            refused("okx", &"é".repeat(513), "sec", None).as_deref(),
            Some("publicKey must be at most 1024 bytes")
        );
    }

    #[test]
    fn an_empty_extra_key_is_no_extra_key() {
        assert_eq!(refused("okx", "pub", "sec", Some("")), None);
        assert_eq!(extra_key(Some(secret(""))), None);
        assert_eq!(extra_key(Some(secret("pass"))), Some(secret("pass")));
        assert_eq!(extra_key(None), None);
    }
}
