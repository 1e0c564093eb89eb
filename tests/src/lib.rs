//! Harness for cross-component tests: a devnet of real relays on loopback
//! (ephemeral ports, temporary data folders) and a native client built on
//! `ruv-protocol`.
#![forbid(unsafe_code)]

pub mod finality;
pub mod liar;
pub mod reader;
pub mod validator;

use futures_util::{SinkExt, StreamExt};
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::tx::{SignedTransfer, Transfer};
use ruv_protocol::{Address, Genesis};
use ruv_relay::devnet::{self, DevnetFiles};
use ruv_relay::{RelayConfig, RunningRelay};
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A devnet on loopback. Relays stop when it is dropped with the runtime.
pub struct Devnet {
    /// Keeps the temporary folder alive.
    pub dir: tempfile::TempDir,
    /// Generated keys and genesis.
    pub files: DevnetFiles,
    /// The genesis.
    pub genesis: Genesis,
    /// Running relays.
    pub relays: Vec<RunningRelay>,
}

/// How long a transaction that cannot be issued yet waits before it expires, in tests.
pub const TEST_TX_RETRY_TTL_MS: u64 = 1_500;

/// Proof-of-work bits a test devnet's faucet asks (low: tests stay quick,
/// yet every faucet request in the tests solves a real challenge).
pub const TEST_FAUCET_POW_BITS: u8 = 4;

/// Prints the relays' logs when `RUST_LOG` is set (for example
/// `RUST_LOG=ruv_relay=debug,ruv_consensus=debug cargo test -p
/// ruv-integration-tests --test peer_encryption -- --nocapture`); tests are
/// quiet otherwise. Called by [`relay_config`], so by every test relay.
pub fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// A loopback port for a relay that binds it later: a child process, or a
/// relay restarted on its old address.
///
/// Taken below the kernels' ephemeral ranges (Linux hands out 32768-60999
/// as source ports of outgoing connections, macOS and Windows 49152-65535).
/// A port from `bind(0)` lies in that range, and between its release and
/// the relay's bind any outgoing connection may take it as its source
/// port, or a peer redialing it may connect to itself (TCP simultaneous
/// open on loopback); the relay then fails to bind. No connection takes a
/// port from this range on its own. The process id spreads test processes
/// apart; a port another program holds is skipped.
pub fn free_port() -> u16 {
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000;
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let spread = std::process::id().wrapping_mul(7_919) % COUNT;
    for _ in 0..COUNT {
        let taken = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = (FIRST + (spread + taken) % COUNT) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {FIRST}..{}", FIRST + COUNT);
}

/// Configuration of relay `i` of a devnet, dialing `peers` (`ws://…/peer/v1`).
pub fn relay_config(
    files: &DevnetFiles,
    dir: &std::path::Path,
    i: usize,
    faucet: bool,
    peers: Vec<String>,
) -> RelayConfig {
    init_logs();
    RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        peers,
        tx_retry_ttl_ms: TEST_TX_RETRY_TTL_MS,
        max_pending_txs: ruv_consensus::Tuning::default().max_pending_txs,
        genesis: files.genesis.clone(),
        data_dir: dir.join(format!("data-{i}")),
        key_file: Some(files.relay_keys[i].clone()),
        upstreams: Vec::new(),
        name: format!("relay-{i}"),
        faucet_key_file: faucet.then(|| files.faucet_key.clone()),
        faucet_pow_bits: TEST_FAUCET_POW_BITS,
        cors_origins: Vec::new(),
        keep_checkpoints: ruv_relay::config::DEFAULT_KEEP_CHECKPOINTS,
        sync: Default::default(),
        client_limits: Default::default(),
    }
}

impl Devnet {
    /// What a wallet trusts: this devnet's genesis file, read as the light
    /// client reads it.
    pub fn trust_anchor(&self) -> ruv_protocol::light::TrustAnchor {
        let genesis = std::fs::read_to_string(&self.files.genesis).expect("genesis file");
        ruv_protocol::light::TrustAnchor::from_genesis_json(&genesis).expect("valid genesis")
    }

    /// Generates a devnet and starts its relays (relay 0 runs the faucet).
    pub async fn start(relays: usize) -> Self {
        Self::start_with(relays, |_| {}).await
    }

    /// Like [`Devnet::start`], with every relay's config passed through `adjust` first.
    pub async fn start_with(relays: usize, adjust: impl Fn(&mut RelayConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = devnet::init(dir.path(), relays).unwrap();
        Self::start_relays(dir, files, relays, adjust).await
    }

    /// Starts relays `0..relays` of the devnet generated in `dir`, with the
    /// genesis as `files.genesis` holds it now (a test may have edited it),
    /// every relay's config passed through `adjust` first.
    pub async fn start_relays(
        dir: tempfile::TempDir,
        files: DevnetFiles,
        relays: usize,
        adjust: impl Fn(&mut RelayConfig),
    ) -> Self {
        let genesis =
            Genesis::from_json(&std::fs::read_to_string(&files.genesis).unwrap()).unwrap();
        let mut running: Vec<RunningRelay> = Vec::new();
        for i in 0..relays {
            // Each relay dials the ones started before it: one link per pair.
            let peers = running.iter().map(|r| peer_url(r.addr)).collect();
            let mut config = relay_config(&files, dir.path(), i, i == 0, peers);
            adjust(&mut config);
            running.push(ruv_relay::start(config).await.unwrap());
        }
        let devnet = Self {
            dir,
            files,
            genesis,
            relays: running,
        };
        devnet.wait_for_mesh().await;
        devnet
    }

    /// Starts a follower relay (no validator key) of every relay here, in
    /// this devnet's folder; with `faucet`, it runs the devnet faucet too
    /// (its payments are forwarded to the validators like any submission).
    pub async fn start_follower(&self, name: &str, faucet: bool) -> RunningRelay {
        let mut config = relay_config(&self.files, self.dir.path(), 0, faucet, Vec::new());
        config.key_file = None;
        config.upstreams = (0..self.relays.len()).map(|i| self.url(i)).collect();
        config.data_dir = self.dir.path().join(format!("data-{name}"));
        config.name = name.to_owned();
        ruv_relay::start(config).await.unwrap()
    }

    /// Waits until every relay has a link to every other (fails after 30 s).
    pub async fn wait_for_mesh(&self) {
        let want = self.relays.len() - 1;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self
            .relays
            .iter()
            .any(|r| r.state.node().peer_count() < want)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "relays did not connect to each other within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls relay `i` until transaction `id` is settled (accepted, rejected
    /// or expired); returns its status JSON (fails after 60 s).
    pub async fn wait_final(&self, i: usize, id: &str) -> Value {
        let http = reqwest::Client::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let url = format!("{}/api/v1/transactions/{id}", self.url(i));
            let (_, body) = json_response(http.get(url).send().await.unwrap()).await;
            if matches!(
                body["status"].as_str(),
                Some("accepted" | "rejected" | "expired")
            ) {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "transaction {id} not final on relay {i} within 60 s: {body}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// `http://addr` of relay `i`.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}", self.relays[i].addr)
    }

    /// The faucet's key (a funded genesis account).
    pub fn faucet_key(&self) -> SigningKey {
        ruv_relay::keys::load(&self.files.faucet_key).unwrap()
    }

    /// The minimum fee for a transfer without memo.
    pub fn min_fee(&self) -> u64 {
        let size = ruv_protocol::tx::SIGNED_TRANSFER_FIXED_LEN + self.genesis.chain_id.len();
        self.genesis.fees.minimum_fee(size).unwrap()
    }

    /// A signed transfer on this devnet, paying the minimum fee.
    pub fn transfer(
        &self,
        from: &SigningKey,
        to: Address,
        amount: u64,
        nonce: u64,
    ) -> SignedTransfer {
        self.transfer_with_fee(from, to, amount, self.min_fee(), nonce)
    }

    /// A signed transfer on this devnet paying `fee`.
    pub fn transfer_with_fee(
        &self,
        from: &SigningKey,
        to: Address,
        amount: u64,
        fee: u64,
        nonce: u64,
    ) -> SignedTransfer {
        Transfer {
            chain_id: self.genesis.chain_id.clone(),
            from: address(from),
            to,
            amount,
            fee,
            nonce,
            memo: String::new(),
            public_key: from.public_key().clone(),
        }
        .sign(from, [0; 32])
        .unwrap()
    }
}

/// The value of the gauge or counter `name` on the relay at `url`'s
/// `/metrics` (0 if it is not there).
pub async fn metric(url: &str, name: &str) -> i64 {
    reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The peer endpoint of a relay listening on `addr`.
pub fn peer_url(addr: std::net::SocketAddr) -> String {
    format!("ws://{addr}/peer/v1")
}

/// The address of a key.
pub fn address(key: &SigningKey) -> Address {
    Address::from_public_key(key.public_key())
}

/// A deterministic test key.
pub fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(&[n; 32])
}

/// `GET url`: the JSON body (`null` if there is none).
pub async fn get(url: String) -> Value {
    json_response(reqwest::Client::new().get(url).send().await.unwrap())
        .await
        .1
}

/// `POST url` with a JSON body: status code and JSON body.
pub async fn post(url: String, body: &impl serde::Serialize) -> (u16, Value) {
    json_response(
        reqwest::Client::new()
            .post(url)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A faucet request body for `to` carrying a solved challenge of the relay
/// at `url` (`http://host:port`).
pub async fn solved_faucet_request(url: &str, to: Address) -> ruv_protocol::api::FaucetRequest {
    let challenge: ruv_protocol::api::FaucetChallenge =
        serde_json::from_value(get(format!("{url}/api/v1/faucet/challenge")).await).unwrap();
    let nonce =
        ruv_protocol::faucet_pow::solve(&challenge.challenge, &to, challenge.difficulty_bits)
            .unwrap();
    ruv_protocol::api::FaucetRequest {
        address: to,
        proof: Some(ruv_protocol::api::FaucetProof {
            challenge: challenge.challenge,
            nonce,
        }),
    }
}

/// Polls `GET url` until it answers 200 and returns the body (fails after
/// `patience`).
pub async fn get_ok(url: &str, patience: std::time::Duration) -> Value {
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + patience;
    loop {
        let (status, body) = json_response(http.get(url).send().await.unwrap()).await;
        if status == 200 {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} never answered 200: {status} {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Status code and JSON body of a response.
pub async fn json_response(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// The `error.code` of an error body.
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// A WebSocket client speaking the relay's JSON protocol.
pub struct WsClient {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

impl WsClient {
    /// Connects to `/api/v1/ws` of the relay at `http_url`.
    pub async fn connect(http_url: &str) -> Self {
        let url = format!("{}/api/v1/ws", http_url.replacen("http", "ws", 1));
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Self { socket, next_id: 1 }
    }

    /// Connects to `/api/v1/ws` of the relay at `http_url` from the local address `ip`.
    pub async fn connect_from(ip: std::net::IpAddr, http_url: &str) -> Self {
        let url = format!("{}/api/v1/ws", http_url.replacen("http", "ws", 1));
        let addr: std::net::SocketAddr = http_url
            .trim_start_matches("http://")
            .parse()
            .expect("http://ip:port");
        let stream = finality::connect_from(ip, addr).await.unwrap();
        let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
        let (socket, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
        Self { socket, next_id: 1 }
    }

    /// Sends a raw text frame.
    pub async fn send_text(&mut self, text: String) {
        self.socket.send(Message::Text(text.into())).await.unwrap();
    }

    /// The next JSON message from the relay (fails after 10 s).
    pub async fn recv(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("no message from the relay within 10 s")
                .expect("socket closed")
                .expect("socket error");
            if let Message::Text(text) = message {
                return serde_json::from_str(&text).unwrap();
            }
        }
    }

    /// Sends a request and returns the message answering it (skipping events).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send_text(
            serde_json::json!({"id": id, "method": method, "params": params}).to_string(),
        )
        .await;
        loop {
            let message = self.recv().await;
            if message.get("id") == Some(&Value::from(id)) {
                return message;
            }
        }
    }
}
