//! A random subject prefix per test, so tests share one NATS server without seeing each other;
//! or, for tests of the bus's own security, a private `nats-server` with the generated
//! per-service users and permissions.

use bus::permissions::{UserAuth, UserPermissions};
use domain::Secret;
use futures::StreamExt;
use platform::settings::NatsSettings;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The private server's user with every permission, for the test's own probes.
pub const TEST_USER: &str = "test";

fn shared_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_string())
}

/// A test's private corner of NATS; its streams (or its private server) are gone on drop.
pub struct TestNats {
    prefix: String,
    url: String,
    secured: Option<Secured>,
}

/// A private server and the password of each of its users.
struct Secured {
    /// The server; it lives as long as the test's `TestNats`.
    server: PrivateNats,
    passwords: BTreeMap<String, String>,
}

impl TestNats {
    /// A fresh random prefix (`t` and 12 hex digits) on the shared server, without
    /// authentication.
    pub fn new() -> Self {
        Self { prefix: random_prefix(), url: shared_url(), secured: None }
    }

    /// A private `nats-server` (the machine's binary, a free port, JetStream in a scratch
    /// folder) whose users and permissions are the generated ones for a fresh prefix, each
    /// with a random password, plus [`TEST_USER`] with every permission.
    pub async fn secured() -> Self {
        let prefix = random_prefix();
        let subjects = bus::Subjects::new(prefix.clone()).expect("a valid prefix");
        let mut users = bus::permissions::permissions(&subjects);
        users.push(UserPermissions {
            user: TEST_USER.to_string(),
            publish: BTreeSet::from([">".to_string()]),
            subscribe: BTreeSet::from([">".to_string()]),
        });
        let passwords: BTreeMap<String, String> =
            users.iter().map(|user| (user.user.clone(), uuid::Uuid::new_v4().simple().to_string())).collect();
        let authorization =
            bus::permissions::render(&prefix, &users, |user| UserAuth::Password(passwords[user].clone()));
        let server = PrivateNats::start(&authorization);
        let nats = Self { prefix, url: server.url.clone(), secured: Some(Secured { server, passwords }) };
        let client = nats.client().await;
        crate::eventually("the private nats-server has JetStream", Duration::from_secs(10), || {
            let client = client.clone();
            async move { bus::jetstream::check_enabled(&client).await.ok() }
        })
        .await;
        nats
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// NATS settings using the prefix, with short timeouts fit for tests (on a private server,
    /// as [`TEST_USER`]).
    pub fn settings(&self) -> NatsSettings {
        self.settings_as(TEST_USER)
    }

    /// Settings that connect as `user` on a private server (on the shared server every user is
    /// anonymous).
    pub fn settings_as(&self, user: &str) -> NatsSettings {
        let (user, password) = match self.password(user) {
            Some(password) => (Some(user.to_string()), Some(Secret::new(password))),
            None => (None, None),
        };
        NatsSettings {
            url: self.url.clone(),
            prefix: self.prefix.clone(),
            request_timeout_ms: 2_000,
            connect_timeout_ms: 2_000,
            user,
            password,
            ..NatsSettings::default()
        }
    }

    /// Connect options for `user` (its credentials and inbox) on a private server.
    pub fn options_as(&self, user: &str) -> async_nats::ConnectOptions {
        let options = async_nats::ConnectOptions::new().custom_inbox_prefix(bus::inbox_prefix(user));
        match self.password(user) {
            Some(password) => options.user_and_password(user.to_string(), password),
            None => options,
        }
    }

    /// The subject builder for the prefix.
    pub fn subjects(&self) -> bus::Subjects {
        bus::Subjects::new(self.prefix.clone()).expect("a valid prefix")
    }

    /// A client with every permission.
    pub async fn client(&self) -> async_nats::Client {
        self.options_as(TEST_USER).connect(self.url.as_str()).await.expect("connection to NATS")
    }

    /// What the private server has logged so far (`None` on the shared server).
    pub fn server_log(&self) -> Option<String> {
        let secured = self.secured.as_ref()?;
        Some(std::fs::read_to_string(secured.server.dir().join("nats.log")).unwrap_or_default())
    }

    fn password(&self, user: &str) -> Option<String> {
        let secured = self.secured.as_ref()?;
        Some(secured.passwords.get(user).unwrap_or_else(|| panic!("no NATS user {user:?}")).clone())
    }
}

impl Default for TestNats {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestNats {
    fn drop(&mut self) {
        if self.secured.is_some() {
            // The private server and its folder go with it.
            return;
        }
        let prefix = format!("{}_", self.prefix);
        let url = self.url.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async move {
                let client = async_nats::connect(url).await.ok()?;
                let js = async_nats::jetstream::new(client);
                let names: Vec<String> = js.stream_names().filter_map(|name| async move { name.ok() }).collect().await;
                for name in names.into_iter().filter(|name| name.starts_with(&prefix)) {
                    let _ = js.delete_stream(&name).await;
                }
                Some(())
            })
        })
        .join();
    }
}

/// Waits until the server has processed everything `client` sent before, e.g. a
/// subscription that must be in place before another connection publishes.
///
/// `flush()` only writes to the socket: the server may still read another connection's
/// publish first. A request to a subject nobody serves comes back as "no responders" only
/// after the server has handled every earlier operation of this connection. The client must
/// be allowed to publish anywhere (the shared server's anonymous user, or [`TEST_USER`]).
pub async fn sync(client: &async_nats::Client) {
    let subject = format!("_tb_sync.{}", uuid::Uuid::new_v4().simple());
    let answer = client.request(subject, "".into()).await;
    assert!(
        matches!(&answer, Err(error) if error.kind() == async_nats::client::RequestErrorKind::NoResponders),
        "a request nobody serves should answer no responders: {answer:?}"
    );
}

fn random_prefix() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A `nats-server` process of the test's own, killed (and its folder removed) on drop.
pub struct PrivateNats {
    child: Child,
    dir: PathBuf,
    /// `nats://127.0.0.1:<port>`.
    pub url: String,
}

impl PrivateNats {
    /// Starts the machine's `nats-server` (`TEST_NATS_SERVER`, else `/usr/sbin/nats-server`,
    /// else the one on `PATH`) with JetStream and `config` (an authorization block, TLS, ...)
    /// on a free port, and waits until it accepts connections.
    pub fn start(config: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tb-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let port = free_port();
        let file = dir.join("nats.conf");
        let full = format!(
            "listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: {:?} }}\n{config}",
            dir.join("js").display().to_string()
        );
        std::fs::write(&file, full).expect("the server's configuration");
        let log = std::fs::File::create(dir.join("nats.log")).expect("a log file");
        let child = Command::new(server_binary())
            .arg("-c")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts (install it with `just infra`)");
        let server = Self { child, dir, url: format!("nats://127.0.0.1:{port}") };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = std::fs::read_to_string(server.dir.join("nats.log")).unwrap_or_default();
            assert!(std::time::Instant::now() < deadline, "nats-server did not start:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// The folder holding its configuration, log and JetStream data.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TEST_NATS_SERVER") {
        return PathBuf::from(path);
    }
    let debian = PathBuf::from("/usr/sbin/nats-server");
    if debian.exists() { debian } else { PathBuf::from("nats-server") }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// Publishes `data` as an event of `topic`, in its envelope, the way the producer's outbox
/// relay does: on the producer's stream, with message id `<event id>[.n]` (`republish` = n),
/// and waits for the stream's acknowledgement.
pub async fn publish_event<T: serde::Serialize>(
    js: &async_nats::jetstream::Context,
    topic: &bus::Topic<T>,
    event_id: domain::EventId,
    data: &T,
    republish: u32,
) {
    let event =
        bus::Event { id: event_id, event_type: topic.event_type().to_string(), occurred_at: chrono::Utc::now(), data };
    let publish = async_nats::jetstream::message::PublishMessage::build()
        .payload(serde_json::to_vec(&event).expect("an event serialises").into())
        .message_id(bus::envelope::message_id(event_id, republish));
    js.send_publish(topic.subject().to_string(), publish)
        .await
        .expect("the publish is sent")
        .await
        .expect("the stream acknowledges the event");
}
