//! Typed identifiers. Each record kind has its own newtype over [`Uuid`], so the compiler
//! refuses a `UserId` where a `BotId` is expected. New ids are UUID v7: time-ordered, so
//! B-tree indexes on them stay append-mostly.
//!
//! These are the ids of *records*: rows in a service's database and the ids that messages and
//! replies carry. Tokens that only look like UUIDs (lease tokens, idempotency keys, nonces) are
//! not records and stay plain values.
//!
//! The engine keeps its own small internal ids (`u32` order and position numbers, local to
//! one engine instance); the live-session-runner maps them to the record ids [`LiveOrderId`]
//! and [`LivePositionId`] when it persists the engine's effects.
//!
//! With the `diesel` feature each id maps to a Postgres `uuid` column (and `Option<Id>` to a
//! nullable one), so rows can hold typed ids directly. The feature is off by default: crates
//! that do not touch a database stay free of diesel.

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
        #[cfg_attr(
            feature = "diesel",
            derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
            diesel(sql_type = diesel::sql_types::Uuid)
        )]
        pub struct $name(Uuid);

        #[cfg(feature = "diesel")]
        impl diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <Uuid as diesel::serialize::ToSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::to_sql(&self.0, out)
            }
        }

        #[cfg(feature = "diesel")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                <Uuid as diesel::deserialize::FromSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::from_sql(bytes)
                    .map(Self)
            }
        }

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
typed_id!(
    /// A bot's trade (a `bot_trades` row in the ledger): one position from open to close.
    TradeId
);
typed_id!(
    /// A cash-affecting transaction of a trade (a fill, a fee, a settlement).
    TransactionId
);
typed_id!(
    /// A user's participation in a bot's trade on one broker account.
    ParticipationId
);
typed_id!(
    /// A tradable instrument known to the ledger.
    TickerId
);
typed_id!(
    /// A backtest requested through the gateway and run by the backtest-executor.
    BacktestId
);
typed_id!(
    /// A row of the live-session-runner's `runs` table: one hosted bot or one session, with the
    /// lease and checkpoint that keep it running on exactly one replica.
    LiveRunId
);
typed_id!(
    /// A strategy session: one trading day of a strategy bot on the engine's paper simulator.
    SessionId
);
typed_id!(
    /// An order the live-session-runner records for a run (the engine's own `u32` order id
    /// maps to it).
    LiveOrderId
);
typed_id!(
    /// A position the live-session-runner records for a run (the engine's own `u32` position
    /// id maps to it).
    LivePositionId
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
