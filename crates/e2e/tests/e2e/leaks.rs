//! Where a secret could leak: every log line of the process at TRACE, and every row of a
//! service's database. Tests that handle credentials check both.

use crate::system::System;
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use domain::ServiceName;
use tracing_subscriber::layer::SubscriberExt;

/// What the captured log lines are written into.
pub type Buffer = std::sync::Arc<std::sync::Mutex<Vec<u8>>>;

/// Every log line of every service in this process, at TRACE (through the platform's filter). Needs the process to itself
/// (nextest runs each test in its own process).
pub fn capture_logs_at_trace() -> Buffer {
    #[derive(Clone)]
    struct Writer(Buffer);
    impl std::io::Write for Writer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = Writer(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        // What every service would write at TRACE: the platform's own filter at its lowest.
        .with_env_filter(platform::telemetry::filter("trace"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .with(platform::telemetry::no_nats_payloads());
    tracing::subscriber::set_global_default(subscriber)
        .expect("no other subscriber in this process: run the suite with `just test` (nextest)");
    buffer
}

/// Every row of every table of a service's database, as text.
pub async fn dump_database(system: &System, service: ServiceName) -> String {
    #[derive(QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        text: String,
    }
    let mut connection = system.db(service).connect().await;
    let tables: Vec<Text> = diesel::sql_query(
        "SELECT table_name::text AS text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .load(&mut connection)
    .await
    .unwrap();
    let mut dump = String::new();
    for table in tables {
        let rows: Vec<Text> = diesel::sql_query(format!(
            "SELECT coalesce(string_agg(t::text, E'\\n'), '') AS text FROM \"{}\" t",
            table.text
        ))
        .load(&mut connection)
        .await
        .unwrap();
        dump.extend(rows.into_iter().map(|row| row.text));
    }
    dump
}
