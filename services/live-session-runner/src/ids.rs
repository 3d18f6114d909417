//! The ids a hosted bot's orders and positions are shown with (`orderId`, `positionId`):
//! opaque 32 lowercase hex digits, the same on every read, unique across bots. The engine
//! numbers orders and positions per bot from 0 and never reuses a number.

use domain::BotId;
use sha2::{Digest, Sha256};

/// What a runtime id names: an order or a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeKind {
    /// An order.
    Order,
    /// A position.
    Position,
}

/// The id a hosted bot's order or position is shown with: 32 lowercase hex digits, opaque,
/// derived from the bot, the kind and the engine's number (never reused within a bot), so it
/// is the same on every read and unique across bots (the first 128 bits of a SHA-256).
pub fn runtime_id(bot: BotId, kind: RuntimeKind, number: u32) -> String {
    let kind = match kind {
        RuntimeKind::Order => "order",
        RuntimeKind::Position => "position",
    };
    let digest = Sha256::digest(format!("{}:{kind}:{number}", bot.as_uuid().simple()));
    digest[..16].iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_ids_are_32_hex_stable_and_distinct_per_bot_kind_and_number() {
        let (bot, other) = (BotId::new(), BotId::new());
        let id = runtime_id(bot, RuntimeKind::Order, 7);
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
        assert_eq!(id, runtime_id(bot, RuntimeKind::Order, 7), "the same on every read");
        for different in [
            runtime_id(bot, RuntimeKind::Order, 8),
            runtime_id(bot, RuntimeKind::Position, 7),
            runtime_id(other, RuntimeKind::Order, 7),
        ] {
            assert_ne!(id, different);
        }
    }
}
