//! One fresh database per test, cloned from a migrated template.

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::EmbeddedMigrations;
use std::hash::{Hash, Hasher};
use std::path::Path;

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_ADMIN_URL").unwrap_or_else(|_| "postgres://tb:tb@127.0.0.1:5432/postgres".to_string())
}

fn url_for(database: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{database}")
}

/// A database that exists for one test and is dropped with this value.
pub struct TestDb {
    name: String,
    url: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

impl TestDb {
    /// A fresh database for `service` with `migrations` applied. `migrations_dir` is the
    /// folder the migrations were embedded from: its content names the template.
    pub async fn new(service: &str, migrations: EmbeddedMigrations, migrations_dir: &Path) -> Self {
        let template = format!("tpl_{service}_{:016x}", fingerprint(migrations_dir));
        ensure_template(&template, migrations).await;
        let name = format!("t_{service}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = AsyncPgConnection::establish(&admin_url()).await.expect("admin connection to Postgres");
        // A template that was just built can still show its last connection closing; retry.
        let mut attempts = 0;
        loop {
            match diesel::sql_query(format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
                .execute(&mut admin)
                .await
            {
                Ok(_) => break,
                Err(error) if attempts < 50 && error.to_string().contains("being accessed by other users") => {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(error) => panic!("creating test database {name}: {error}"),
            }
        }
        Self { url: url_for(&name), name }
    }

    /// A fresh database with nothing in it (for migration tests).
    pub async fn empty(service: &str) -> Self {
        let name = format!("t_{service}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = AsyncPgConnection::establish(&admin_url()).await.expect("admin connection to Postgres");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create empty database");
        Self { url: url_for(&name), name }
    }

    /// The names of the tables in the `public` schema, sorted.
    pub async fn table_names(&self) -> Vec<String> {
        #[derive(QueryableByName)]
        struct Table {
            #[diesel(sql_type = diesel::sql_types::Text)]
            tablename: String,
        }
        let mut connection = self.connect().await;
        let tables: Vec<Table> = diesel::sql_query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations' ORDER BY tablename",
        )
        .load(&mut connection)
        .await
        .expect("listing tables");
        tables.into_iter().map(|table| table.tablename).collect()
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new connection to it.
    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url).await.expect("connection to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs outside any runtime guarantee (and during unwinding): use a thread with a
        // runtime of its own. FORCE closes connections a service under test still holds.
        let name = self.name.clone();
        let joined = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async move {
                let mut admin = AsyncPgConnection::establish(&admin_url()).await.ok()?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(joined, Ok(Some(_))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}

/// A hash of every file under the migrations folder (names and contents).
fn fingerprint(dir: &Path) -> u64 {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in files {
        file.strip_prefix(dir).unwrap_or(&file).hash(&mut hasher);
        std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|error| panic!("reading {}: {error}", dir.display())).flatten() {
        let path = entry.path();
        if path.is_dir() { collect(&path, out) } else { out.push(path) }
    }
}

/// Builds `template` once across every test process: under an advisory lock, migrate a
/// scratch database and rename it, so no process ever clones a half-migrated template.
async fn ensure_template(template: &str, migrations: EmbeddedMigrations) {
    let mut admin = AsyncPgConnection::establish(&admin_url()).await.expect("admin connection to Postgres");
    let lock_key = i64::from_ne_bytes(fingerprint_str(template).to_ne_bytes());
    diesel::sql_query(format!("SELECT pg_advisory_lock({lock_key})")).execute(&mut admin).await.expect("advisory lock");
    let exists: Count =
        diesel::sql_query(format!("SELECT count(*) AS count FROM pg_database WHERE datname = '{template}'"))
            .get_result(&mut admin)
            .await
            .expect("looking up the template");
    if exists.count == 0 {
        let scratch = format!("{template}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{scratch}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop scratch");
        diesel::sql_query(format!("CREATE DATABASE \"{scratch}\"")).execute(&mut admin).await.expect("create scratch");
        platform::db::run_pending(&url_for(&scratch), migrations).await.expect("migrating the template");
        diesel::sql_query(format!("ALTER DATABASE \"{scratch}\" RENAME TO \"{template}\""))
            .execute(&mut admin)
            .await
            .expect("rename template");
    }
    diesel::sql_query(format!("SELECT pg_advisory_unlock({lock_key})"))
        .execute(&mut admin)
        .await
        .expect("advisory unlock");
}

fn fingerprint_str(value: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}
