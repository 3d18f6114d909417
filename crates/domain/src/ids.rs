//! Typed identifiers. Each record kind has its own newtype over [`Uuid`], so the compiler
//! refuses a `UserId` where a `BotId` is expected. New ids are UUID v7: time-ordered, so
//! B-tree indexes on them stay append-mostly.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID, e.g. one read from the database.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

typed_id!(
    /// The id of an event: also its `Nats-Msg-Id` and the key of consumers' dedupe tables.
    EventId
);
typed_id!(
    /// A white-label partner (tenant).
    PartnerId
);
typed_id!(
    /// A user of a partner.
    UserId
);
typed_id!(
    /// A bot of any kind (external, grid, DCA, webhook, strategy).
    BotId
);
typed_id!(
    /// A user's account at a broker.
    BrokerAccountId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings_and_json() {
        let id = BotId::new();
        let parsed: BotId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<BotId>(&json).unwrap(), id);
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let first = EventId::new();
        let second = EventId::new();
        assert!(first < second);
        assert_eq!(first.as_uuid().get_version_num(), 7);
    }

    #[test]
    fn a_malformed_id_is_refused() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
