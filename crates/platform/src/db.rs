//! The diesel-async pool and the migration runner.

use crate::settings::DatabaseSettings;
use diesel::ConnectionError;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{BuildError, Pool, PoolError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use futures::FutureExt;
use futures::future::BoxFuture;
use std::time::Duration;

/// A pool of connections to the service's own database.
pub type PgPool = Pool<AsyncPgConnection>;

/// Builds the pool. Connections open lazily, so a service starts (and reports not ready)
/// while its database is down, instead of crash-looping.
///
/// Its three timeouts (waiting for a free connection, opening one, `statement_timeout` on
/// each) bound one database step of a request; their sum stays below the gateway's backend
/// timeout, so a stuck step fails here and the service still answers (see
/// [`DatabaseSettings::max_step_ms`]).
pub fn pool(settings: &DatabaseSettings) -> Result<PgPool, BuildError> {
    let statement_timeout_ms = settings.statement_timeout_ms;
    let connect_timeout = Duration::from_millis(settings.connect_timeout_ms);
    let mut manager_config = ManagerConfig::default();
    manager_config.custom_setup =
        Box::new(move |url| establish_with_timeouts(url.to_string(), connect_timeout, statement_timeout_ms));
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(&settings.url, manager_config);
    Pool::builder(manager)
        .max_size(settings.max_connections)
        .wait_timeout(Some(Duration::from_millis(settings.acquire_timeout_ms)))
        .create_timeout(Some(connect_timeout))
        .recycle_timeout(Some(connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
}

fn establish_with_timeouts(
    url: String,
    connect_timeout: Duration,
    statement_timeout_ms: u64,
) -> BoxFuture<'static, diesel::ConnectionResult<AsyncPgConnection>> {
    async move {
        let mut connection = tokio::time::timeout(connect_timeout, AsyncPgConnection::establish(&url))
            .await
            .map_err(|_| ConnectionError::BadConnection("connect timed out".to_string()))??;
        diesel::sql_query(format!("SET statement_timeout = {statement_timeout_ms}"))
            .execute(&mut connection)
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(connection)
    }
    .boxed()
}

/// Why the database did not answer.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    /// No connection could be had from the pool.
    #[error("no database connection: {0}")]
    Pool(#[from] PoolError),
    /// The connection failed the query.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// The query took too long.
    #[error("database did not answer within {0:?}")]
    Timeout(Duration),
}

/// Runs `SELECT 1` on a pooled connection, within `timeout`.
pub async fn ping(pool: &PgPool, timeout: Duration) -> Result<(), PingError> {
    let check = async {
        let mut connection = pool.get().await?;
        diesel::sql_query("SELECT 1").execute(&mut connection).await?;
        Ok(())
    };
    tokio::time::timeout(timeout, check).await.map_err(|_| PingError::Timeout(timeout))?
}

/// Why migrations failed.
#[derive(Debug, thiserror::Error)]
#[error("migrations failed: {0}")]
pub struct MigrationError(String);

/// Applies every pending migration; returns the versions applied.
///
/// diesel's migration harness is synchronous: it runs on a blocking thread through
/// [`AsyncConnectionWrapper`], which works under any tokio runtime flavour.
pub async fn run_pending(url: &str, migrations: EmbeddedMigrations) -> Result<Vec<String>, MigrationError> {
    with_harness(url, move |connection| {
        connection.run_pending_migrations(migrations).map(|versions| versions.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Reverts every applied migration; returns the versions reverted. For tests and recovery.
pub async fn revert_all(url: &str, migrations: EmbeddedMigrations) -> Result<Vec<String>, MigrationError> {
    with_harness(url, move |connection| {
        connection.revert_all_migrations(migrations).map(|versions| versions.iter().map(ToString::to_string).collect())
    })
    .await
}

type SyncPg = AsyncConnectionWrapper<AsyncPgConnection>;
type HarnessResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn with_harness<T, F>(url: &str, work: F) -> Result<T, MigrationError>
where
    T: Send + 'static,
    F: FnOnce(&mut SyncPg) -> HarnessResult<T> + Send + 'static,
{
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut connection =
            <SyncPg as diesel::Connection>::establish(&url).map_err(|error| MigrationError(error.to_string()))?;
        work(&mut connection).map_err(|error| MigrationError(error.to_string()))
    })
    .await
    .map_err(|error| MigrationError(format!("migration task failed: {error}")))?
}

/// JSON text bound to a `jsonb` column as it is, byte for byte: Postgres's binary `jsonb`
/// format is a version byte (1) followed by the JSON text. Going through `serde_json::Value`
/// instead would turn numbers into `f64` (`1.10` → `1.1`, big values rounded).
#[derive(Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Jsonb)]
pub struct JsonText(pub String);

impl diesel::serialize::ToSql<diesel::sql_types::Jsonb, diesel::pg::Pg> for JsonText {
    fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
        use std::io::Write;
        out.write_all(&[1])?;
        out.write_all(self.0.as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Jsonb, diesel::pg::Pg> for JsonText {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        match value.as_bytes().split_first() {
            Some((1, text)) => Ok(JsonText(String::from_utf8(text.to_vec())?)),
            _ => Err("unsupported jsonb binary format".into()),
        }
    }
}
