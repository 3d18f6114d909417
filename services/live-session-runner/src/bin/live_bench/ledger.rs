//! The real `trade-ledger` beside the runner (`--ledger`): its release binary as a child
//! process, on a scratch database of its own and the bench's NATS prefix. The runner and the
//! ledger are separate services, so the bench shares no code path with the ledger at run time:
//!
//! ```text
//!  <ledger> migrate, <ledger> admin create-partner ─► <ledger> serve (child, killed at the end)
//!  cmd.ledger.create_partner_user, create_hosted_bot (as the gateway sends them)
//!      ─► the ledger's outbox ─► hosted_bot_changed ─► the runner's consumer ─► runs
//!  the runner's fills ─► its outbox ─► ledger_live_events ─► bot trades, transactions
//! ```

use crate::fixture;
use anyhow::Context as _;
use bus::RequestError;
use bus::Subjects;
use bus::messages::hosted::CreateHostedBot;
use bus::messages::idempotency::{Command, Replayable};
use bus::messages::partner::CreatePartnerUser;
use bus::messages::partner::reference::ListExchanges;
use domain::{BrokerAccountId, PartnerId, UserId};
use futures::{StreamExt as _, TryStreamExt as _};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The ledger's config folder (`default.toml`), as `deploy/local/bench.sh` gives it to the
/// services it starts.
const CONFIG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../trade-ledger/config");
/// How long the ledger may take to answer after `serve` started.
const START_PATIENCE: Duration = Duration::from_secs(60);
/// How long one command to the ledger may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Commands in flight at once while the bots are made, as concurrent partners' requests.
const CONCURRENT_CREATES: usize = 16;
/// Bots per partner user: each create locks its owner, so bots spread over users are created
/// in parallel (a user would take them one by one).
const BOTS_PER_USER: usize = 10;
/// The ledger's last log lines kept, for the error when it dies.
const TAIL_LINES: usize = 20;

/// The running ledger and the partner the bots belong to.
pub struct Ledger {
    serving: Serving,
    logs: Arc<ChildLogs>,
    client: async_nats::Client,
    subjects: Subjects,
    partner: PartnerId,
}

impl Ledger {
    /// Migrates the ledger's empty scratch database, makes a partner there, starts `serve` on
    /// a free port and waits until it answers on NATS.
    pub async fn start(binary: &Path, database_url: &str, nats_url: &str, prefix: &str) -> anyhow::Result<Self> {
        let launch = Launch {
            binary: binary.to_path_buf(),
            database_url: database_url.to_string(),
            nats_url: nats_url.to_string(),
            prefix: prefix.to_string(),
        };
        launch.output(&["migrate"]).await.context("migrating the ledger's database")?;
        let partner = launch.create_partner().await?;
        let logs = Arc::new(ChildLogs::default());
        let serving = launch.serve(free_port()?, logs.clone())?;
        let client = async_nats::connect(nats_url).await.context("connecting to NATS")?;
        let mut ledger = Self { serving, logs, client, subjects: Subjects::new(prefix)?, partner };
        ledger.wait_ready().await?;
        Ok(ledger)
    }

    /// The child's process id (its CPU is read from `/proc`).
    pub fn pid(&self) -> u32 {
        self.serving.child.id()
    }

    /// Kills the ledger; answers the warnings and errors it logged.
    pub fn stop(self) -> (usize, usize) {
        drop(self.serving);
        (self.logs.warnings.load(Ordering::Relaxed), self.logs.errors.load(Ordering::Relaxed))
    }

    /// Creates `count` hosted bots ([`fixture::spec`]) through the ledger's commands, as the
    /// gateway sends them, over one paper user per [`BOTS_PER_USER`] bots; answers how many
    /// users. The ledger publishes each bot's `hosted_bot_changed`, which makes its run.
    pub async fn create_bots(&self, count: usize) -> anyhow::Result<usize> {
        let users: Vec<UserId> = futures::stream::iter(0..count.div_ceil(BOTS_PER_USER).max(1))
            .map(|_| self.create_user())
            .buffer_unordered(CONCURRENT_CREATES)
            .try_collect()
            .await?;
        futures::stream::iter(0..count)
            .map(|index| self.create_bot(index, users[index % users.len()]))
            .buffer_unordered(CONCURRENT_CREATES)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(users.len())
    }

    /// `users/create` with a paper (`SIM`) account.
    async fn create_user(&self) -> anyhow::Result<UserId> {
        let command = Command::new(CreatePartnerUser {
            partner_id: self.partner,
            exchange_id: "SIM".to_string(),
            exchange_user_id: None,
            broker_account_id: BrokerAccountId::new(),
            paper: true,
        });
        let reply = bus::request(&self.client, &self.subjects.create_partner_user(), &command, REQUEST_TIMEOUT)
            .await
            .context("creating a partner user through the ledger")?;
        fresh(reply)
    }

    /// `bots/create` of bot number `index`, owned by `user`.
    async fn create_bot(&self, index: usize, user: UserId) -> anyhow::Result<()> {
        let spec = fixture::spec(index);
        let command = Command::new(CreateHostedBot {
            partner_id: self.partner,
            user_id: user,
            script_type: spec.script_type.to_string(),
            settings: RawValue::from_string(spec.settings)?,
            master_bot_id: None,
        });
        // Raw, as the gateway asks it: the view holds raw JSON (`settings`), which the untagged
        // `Replayable` cannot decode; only the answer's success matters here.
        let _view = bus::request_raw(&self.client, &self.subjects.create_hosted_bot(), &command, REQUEST_TIMEOUT)
            .await
            .with_context(|| format!("creating hosted bot {index} ({}) through the ledger", spec.script_type))?;
        Ok(())
    }

    /// Asks the ledger a harmless query until it answers: its responders subscribe a moment
    /// after the process starts. Fails at once, with its last log lines, if it exits.
    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_PATIENCE;
        loop {
            if let Some(status) = self.serving.child.try_wait().context("watching the ledger")? {
                anyhow::bail!("the ledger exited ({status}) before it answered; its last lines:\n{}", self.logs.tail());
            }
            let asked =
                bus::request(&self.client, &self.subjects.exchanges(), &ListExchanges {}, REQUEST_TIMEOUT).await;
            match asked {
                Ok(_) => return Ok(()),
                Err(RequestError::NoResponders { .. } | RequestError::Timeout { .. }) => {}
                Err(error) => return Err(error).context("asking the ledger for its exchanges"),
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the ledger did not answer within {START_PATIENCE:?}; its last lines:\n{}",
                self.logs.tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A command's reply value: without an idempotency key it is always computed now, but a
/// replayed one decodes the same.
fn fresh<T: DeserializeOwned>(reply: Replayable<T>) -> anyhow::Result<T> {
    match reply {
        Replayable::Fresh(value) => Ok(value),
        Replayable::Replayed(raw) => serde_json::from_str(raw.get()).context("decoding a replayed reply"),
    }
}

/// A port free now on 127.0.0.1 (bound, read, released): the ledger's `/health` listener
/// there stays clear of a `just up` ledger on 8081.
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// How the ledger's binary is run: its settings come from `APP_*` variables, as
/// `deploy/local/bench.sh` gives them to the services it starts.
struct Launch {
    binary: PathBuf,
    database_url: String,
    nats_url: String,
    prefix: String,
}

impl Launch {
    /// `<ledger> <args>` with the bench's settings and none of the caller's own `APP_*` or
    /// `RUST_LOG` (a `just up` shell's `APP_HTTP__PORT` must not leak in).
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(&self.binary);
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(|key| key.starts_with("APP_") || key == "RUST_LOG") {
                command.env_remove(key);
            }
        }
        command
            .args(args)
            .env("APP_CONFIG_DIR", CONFIG_DIR)
            .env("APP_DATABASE__URL", &self.database_url)
            .env("APP_NATS__URL", &self.nats_url)
            .env("APP_NATS__PREFIX", &self.prefix)
            .env("APP_LOG__LEVEL", "warn")
            .stdin(Stdio::null());
        command
    }

    /// Runs `<ledger> <args>` to its end; answers its standard output.
    async fn output(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut command = self.command(args);
        let what = format!("{} {}", self.binary.display(), args.join(" "));
        let output = tokio::task::spawn_blocking(move || command.output())
            .await?
            .with_context(|| format!("running {what} (build it: cargo build --release -p trade-ledger)"))?;
        anyhow::ensure!(
            output.status.success(),
            "{what}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `admin create-partner`: the partner whose users and bots the bench creates.
    async fn create_partner(&self) -> anyhow::Result<PartnerId> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            partner_id: PartnerId,
        }
        let printed = self.output(&["admin", "create-partner", "--name", "Live bench"]).await?;
        let created: Created = serde_json::from_str(printed.trim())
            .with_context(|| format!("reading the partner the ledger made: {printed:?}"))?;
        Ok(created.partner_id)
    }

    /// Starts `<ledger> serve` with `/health` on `port`; its log lines go to `logs`.
    fn serve(&self, port: u16, logs: Arc<ChildLogs>) -> anyhow::Result<Serving> {
        let mut command = self.command(&["serve"]);
        command.env("APP_HTTP__PORT", port.to_string()).stdout(Stdio::null()).stderr(Stdio::piped());
        let child = command.spawn().with_context(|| format!("starting {} serve", self.binary.display()))?;
        let mut serving = Serving { child };
        if let Some(stderr) = serving.child.stderr.take() {
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                    logs.push(line);
                }
            });
        }
        Ok(serving)
    }
}

/// The `serve` child: killed and reaped when dropped, however the bench ends (the runner is
/// stopped before; the ledger's scratch database is dropped after).
struct Serving {
    child: Child,
}

impl Drop for Serving {
    fn drop(&mut self) {
        // It may have exited already: nothing to kill then.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ledger's log lines (`warn` and above): passed on to stderr, the last few kept, warnings
/// and errors counted.
#[derive(Default)]
struct ChildLogs {
    tail: Mutex<VecDeque<String>>,
    warnings: AtomicUsize,
    errors: AtomicUsize,
}

impl ChildLogs {
    /// Takes one line of the child's stderr (compact format: time, level, target, message).
    fn push(&self, line: String) {
        eprintln!("ledger: {line}");
        match line.split_whitespace().nth(1) {
            Some("WARN") => self.warnings.fetch_add(1, Ordering::Relaxed),
            Some("ERROR") => self.errors.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        let mut tail = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }

    /// The kept lines, one per line (or a note that there were none).
    fn tail(&self) -> String {
        let tail = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
        if tail.is_empty() { "(it wrote nothing)".to_string() } else { Vec::from(tail.clone()).join("\n") }
    }
}
