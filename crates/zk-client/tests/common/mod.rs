//! Helpers shared by the tests that need a running server: the address, fresh test roots,
//! bounded waits, session expiry, and a cuttable TCP proxy for fault injection.

#![allow(dead_code, unreachable_pub)]

pub mod fake;
pub mod proxy;

use std::future::Future;
use std::time::Duration;

use zk_client::{Client, CreateMode, CreateOptions, Error};

/// The session timeout the tests ask for (Apache's default minimum is 4 s).
pub const TIMEOUT: Duration = Duration::from_secs(6);

/// A generous bound for anything the tests wait for.
pub const WAIT: Duration = Duration::from_secs(60);

/// The server under test.
pub fn zk_addr() -> String {
    std::env::var("ZK_ADDR").unwrap_or_else(|_| "127.0.0.1:42182".to_owned())
}

/// A client of the server under test with the test session timeout.
pub async fn connect() -> Client {
    connect_to(zk_addr()).await
}

/// A client of `connect_string` (the server, or a proxy in front of it) with the test session
/// timeout.
pub async fn connect_to(connect_string: impl Into<String>) -> Client {
    init_tracing();
    Client::builder(connect_string)
        .session_timeout(TIMEOUT)
        .connect()
        .await
        .expect("connect to the server under test")
}

/// Awaits `future` within [`WAIT`], panicking otherwise.
pub async fn wait<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .expect("event did not arrive in time")
}

/// Creates `/zk-client-tests/<name>-<unique>` (and its parent) and returns it.
pub async fn fresh_root(client: &Client, name: &str) -> String {
    let persistent = CreateOptions::new(CreateMode::Persistent);
    match client.create("/zk-client-tests", b"", &persistent).await {
        Ok(_) | Err(Error::NodeExists) => {}
        Err(e) => panic!("create /zk-client-tests: {e}"),
    }
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let root = format!("/zk-client-tests/{name}-{unique:x}");
    client.create(&root, b"", &persistent).await.unwrap();
    root
}

/// Expires the session of a client connected through `proxy`: the proxy goes silent so that
/// the client cannot take its session back, a second connection attaches to the session and
/// closes it, then the proxy lets the client reconnect (to hear that its session expired).
pub async fn expire_through(proxy: &proxy::Proxy, client: &Client) {
    proxy.set_blackhole(true);
    expire(client).await;
    proxy.set_blackhole(false);
    proxy.cut();
}

/// Expires the client's session from outside: a second connection attaches to the same
/// session and closes it. The client may race to re-attach; see [`expire_through`].
pub async fn expire(client: &Client) {
    let session = client.session();
    let killer = Client::builder(zk_addr())
        .session_timeout(TIMEOUT)
        .session(session.id, session.password)
        .connect()
        .await
        .expect("attach to the session");
    killer.close().await.unwrap();
}

/// Sends the client's tracing to the test output when `RUST_LOG` is set.
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}
