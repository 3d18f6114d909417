//! The fencing token a claim hands out.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;
use std::fmt;

/// The token of one claim of a row: the next value of the table's token sequence, so it is
/// larger than the token of every earlier claim. Stored in the row while the claim holds it
/// (null once nobody does), and named by every write of the holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = BigInt)]
pub struct Token(i64);

impl Token {
    /// The token as stored.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for Token {
    fn from(value: i64) -> Self {
        Self(value)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromSql<BigInt, Pg> for Token {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        <i64 as FromSql<BigInt, Pg>>::from_sql(bytes).map(Self)
    }
}

impl ToSql<BigInt, Pg> for Token {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, out)
    }
}
