//! Reads a run's candles ahead of the engine: a task fetches chunk rows, decodes them, cuts
//! them to the range and into batches of `worker.chunk_size` engine candles, and hands the
//! batches over a bounded channel, so the next batch is ready while the engine runs this one.
//!
//! ```text
//!  reader task (one connection, one REPEATABLE READ snapshot for the whole run):
//!    SELECT 4 chunks after the last period ──► decode ──► [start, end) ──► batches ──┐
//!  worker: recv batch ◄── channel (READ_AHEAD batches) ◄──────────────────────────────┘
//!          └─► engine on a blocking thread ─► checkpoint ─► recv ...
//! ```
//!
//! The snapshot keeps a run's candles those of one moment even while an import rewrites the
//! range. When the worker stops listening (cancelled, lease lost, failed), the next send
//! fails and the task ends, rolling its read-only transaction back.

use crate::store::candles;
use crate::store::chunk;
use engine::Candle;
use platform::db::PgPool;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Batches decoded ahead of the one the engine runs.
pub const READ_AHEAD: usize = 2;

/// Chunk rows fetched per query (40,000 one-minute candles, about 400 KB).
const CHUNKS_PER_QUERY: i64 = 4;

/// Which candles to read.
#[derive(Clone, Debug)]
pub struct ReadPlan {
    /// Market symbol.
    pub market: String,
    /// The timeframe.
    pub timeframe_secs: i32,
    /// First open time (inclusive).
    pub start: i64,
    /// End of the range (exclusive).
    pub end: i64,
    /// The market's price decimals: candles are in ticks of it.
    pub price_decimals: u32,
    /// Candles per batch (the last one may be shorter).
    pub batch: usize,
}

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database failed or a chunk did not decode.
    #[error("reading candles: {0:#}")]
    Storage(#[from] anyhow::Error),
    /// A stored candle the engine refuses (e.g. a low above its open): the run fails.
    #[error("Bad candle at {open_time}: {reason}")]
    BadCandle {
        /// Its open time.
        open_time: i64,
        /// Why.
        reason: String,
    },
    /// The worker stopped listening.
    #[error("the run no longer reads")]
    Closed,
}

impl From<diesel::result::Error> for ReadError {
    fn from(error: diesel::result::Error) -> Self {
        ReadError::Storage(error.into())
    }
}

/// A batch of candles, or why there are no more.
pub type Batch = Result<Vec<Candle>, ReadError>;

/// The worker's end of a reader.
pub struct Reader {
    batches: mpsc::Receiver<Batch>,
    /// Time the reader task spent fetching and decoding, shared when it ends.
    busy: tokio::sync::oneshot::Receiver<Duration>,
}

impl Reader {
    /// Starts reading `plan` on a task of its own, with a connection from `pool`.
    pub fn start(pool: PgPool, plan: ReadPlan) -> Self {
        let (sender, batches) = mpsc::channel(READ_AHEAD);
        let (report, busy) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut spent = Duration::ZERO;
            if let Err(error) = read(&pool, &plan, &sender, &mut spent).await
                && !matches!(error, ReadError::Closed)
            {
                let _ = sender.send(Err(error)).await;
            }
            let _ = report.send(spent);
        });
        Self { batches, busy }
    }

    /// The next batch; `None` once every candle was handed over.
    pub async fn next(&mut self) -> Option<Batch> {
        self.batches.recv().await
    }

    /// How long the reader task fetched and decoded, once it has ended (after [`Self::next`]
    /// returned `None`).
    pub async fn busy(self) -> Duration {
        self.busy.await.unwrap_or_default()
    }
}

async fn read(
    pool: &PgPool,
    plan: &ReadPlan,
    sender: &mpsc::Sender<Batch>,
    spent: &mut Duration,
) -> Result<(), ReadError> {
    // Busy time: everything but waiting for the worker to take a batch.
    let mut clock = Instant::now();
    let mut connection = pool.get().await.map_err(|error| ReadError::Storage(error.into()))?;
    let done = connection
        .build_transaction()
        .repeatable_read()
        .read_only()
        .run(async |tx| {
            let mut hand_over = async |batch: Vec<Candle>| {
                *spent += clock.elapsed();
                let sent = sender.send(Ok(batch)).await.map_err(|_| ReadError::Closed);
                clock = Instant::now();
                sent
            };
            let mut after = chunk::period_start(plan.start, plan.timeframe_secs) - 1;
            let mut batch = Vec::with_capacity(plan.batch);
            loop {
                let rows =
                    candles::next_chunks(tx, &plan.market, plan.timeframe_secs, (after, plan.end), CHUNKS_PER_QUERY)
                        .await?;
                let Some(last) = rows.last() else { break };
                after = last.period_start;
                for row in &rows {
                    let series = row.decode().map_err(|error| ReadError::Storage(error.into()))?;
                    let mut range = series.range(plan.start, plan.end);
                    while !range.is_empty() {
                        let take = range.len().min(plan.batch - batch.len());
                        series
                            .append_candles(range.start..range.start + take, plan.price_decimals, &mut batch)
                            .map_err(|bad| ReadError::BadCandle { open_time: bad.open_time, reason: bad.reason })?;
                        range.start += take;
                        if batch.len() == plan.batch {
                            hand_over(std::mem::replace(&mut batch, Vec::with_capacity(plan.batch))).await?;
                        }
                    }
                }
                if rows.len() < CHUNKS_PER_QUERY as usize {
                    break;
                }
            }
            if !batch.is_empty() {
                hand_over(batch).await?;
            }
            Ok::<_, ReadError>(())
        })
        .await;
    *spent += clock.elapsed();
    done
}
