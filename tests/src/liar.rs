//! A lying relay for tests: an HTTP and WebSocket proxy in front of one
//! honest relay that rewrites checkpoints and proofs according to a
//! [`LieMode`], so tests (native ones here, Playwright through the
//! `ruv-liar` binary) can check that the light client catches every lie,
//! and that a client that drops the liar gets the truth.
//!
//! Every request is forwarded to the upstream relay. The answers a liar
//! rewrites are the successful ones to `GET /api/v1/checkpoints/{latest|n}`,
//! `GET /api/v1/accounts/{address}/proof`,
//! `GET /api/v1/accounts/{address}/history` and
//! `GET /api/v1/transactions/{id}/proof`, the WebSocket results of
//! `get_checkpoint`, `get_account_proof`, `get_history` and
//! `get_transaction_proof`, and the
//! WebSocket events `checkpoint` and `account_proof`. Everything else
//! (POSTs, other GETs, other WebSocket frames) passes unchanged.

use anyhow::{bail, Context};
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message as ClientFrame, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use ruv_protocol::api::{ws_methods, AccountHistory};
use ruv_protocol::checkpoint::{CertifiedCheckpoint, CheckpointHeader, ValidatorSet};
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::light::AccountProof;
use ruv_protocol::serde_bytes::{from_base64url, to_base64url};
use ruv_protocol::smt::{SmtProof, Terminal, EMPTY_ROOT};
use ruv_protocol::Genesis;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use tokio_tungstenite::tungstenite::Message as UpstreamFrame;

/// How a liar lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LieMode {
    /// Pass everything through.
    Honest,
    /// Change the state root of every checkpoint (the header id recomputed,
    /// the honest signatures kept).
    ForgeCheckpoint,
    /// Keep signatures of at most 2/3 of the validators (2 of 4): with
    /// equal stake, no quorum.
    TruncateCertificate,
    /// Flip one byte of one signature.
    BadSignature,
    /// Serve another network's certified checkpoint instead of this one's.
    ReplayOtherNetwork,
    /// Serve the first checkpoint seen as "latest" forever, and the first
    /// account proof seen per address.
    Stale,
    /// Account proofs claim 1 rUv more than proven.
    ChangeBalance,
    /// Account and transaction proofs get one sibling hash changed.
    ChangeSibling,
    /// Checkpoints are replaced by a conflicting header for the same number
    /// (state root changed), validly certified by colluding validators
    /// holding more than 2/3 of the stake.
    Equivocate,
    /// Never answer checkpoint or proof requests.
    Withhold,
    /// History pages: the newest entry pays 1 rUv more than its proven
    /// transfer (the proof kept), and the next entry's proof is dropped.
    ForgeHistory,
}

impl LieMode {
    /// Every mode.
    pub const ALL: [LieMode; 11] = [
        LieMode::Honest,
        LieMode::ForgeCheckpoint,
        LieMode::TruncateCertificate,
        LieMode::BadSignature,
        LieMode::ReplayOtherNetwork,
        LieMode::Stale,
        LieMode::ChangeBalance,
        LieMode::ChangeSibling,
        LieMode::Equivocate,
        LieMode::Withhold,
        LieMode::ForgeHistory,
    ];

    /// The kebab-case name (the CLI's `--mode`).
    pub fn name(self) -> &'static str {
        match self {
            LieMode::Honest => "honest",
            LieMode::ForgeCheckpoint => "forge-checkpoint",
            LieMode::TruncateCertificate => "truncate-certificate",
            LieMode::BadSignature => "bad-signature",
            LieMode::ReplayOtherNetwork => "replay-other-network",
            LieMode::Stale => "stale",
            LieMode::ChangeBalance => "change-balance",
            LieMode::ChangeSibling => "change-sibling",
            LieMode::Equivocate => "equivocate",
            LieMode::Withhold => "withhold",
            LieMode::ForgeHistory => "forge-history",
        }
    }
}

impl fmt::Display for LieMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LieMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        LieMode::ALL
            .into_iter()
            .find(|mode| mode.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = LieMode::ALL.iter().map(|m| m.name()).collect();
                format!("unknown mode {text:?}; one of {}", names.join(", "))
            })
    }
}

/// Validators that collude: enough keys to certify any header.
pub struct Colluders {
    validator_count: u16,
    /// Validator index and key, ascending by index.
    signers: Vec<(u16, SigningKey)>,
}

impl Colluders {
    /// From the keys at hand: the first validators (in genesis order) whose
    /// keys are among `keys` until they hold more than 2/3 of the stake.
    pub fn new(genesis: &Genesis, keys: Vec<SigningKey>) -> anyhow::Result<Self> {
        let set = ValidatorSet::from_genesis(genesis)?;
        let mut signers = Vec::new();
        let mut stake: u128 = 0;
        for index in 0..set.len() {
            let Some((public, weight)) = set.get(index) else {
                break;
            };
            if let Some(at) = keys.iter().position(|k| k.public_key() == public) {
                signers.push((index as u16, SigningKey::from_seed(keys[at].seed())));
                stake += *weight as u128;
                if set.is_quorum(stake) {
                    return Ok(Self {
                        validator_count: set.len() as u16,
                        signers,
                    });
                }
            }
        }
        bail!(
            "the keys hold {stake} of {} stake: not more than 2/3",
            set.total_stake()
        )
    }

    /// From a devnet folder: its `genesis.json` and every `*.key` file.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("genesis.json");
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        let genesis = Genesis::from_json(&text)?;
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "key") {
                keys.push(ruv_relay::keys::load(&path)?);
            }
        }
        Self::new(&genesis, keys)
    }

    /// A certificate on `header` precommitted in round 0 by every colluder.
    pub fn certify(&self, header: &CheckpointHeader) -> CertifiedCheckpoint {
        let signatures = self
            .signers
            .iter()
            .map(|(_, key)| {
                // Signing fails only when rejection sampling runs out: retry
                // with other randomness.
                (0..=u8::MAX)
                    .find_map(|r| header.sign_precommit(0, key, [r; 32]).ok())
                    .expect("ML-DSA signing failed 256 times")
                    .as_bytes()
                    .to_vec()
            })
            .collect();
        CertifiedCheckpoint {
            header: header.clone(),
            header_id: header.id(),
            round: 0,
            validator_count: self.validator_count,
            signers: self.signers.iter().map(|(i, _)| *i).collect(),
            signatures,
        }
    }
}

/// Reads a certified checkpoint (JSON) from a file, for `replay-other-network`.
pub fn load_checkpoint(path: &Path) -> anyhow::Result<CertifiedCheckpoint> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a checkpoint", path.display()))
}

/// What a liar needs.
pub struct LiarConfig {
    /// The honest relay, `http://host:port`.
    pub upstream: String,
    /// How to lie.
    pub mode: LieMode,
    /// `replay-other-network`: the checkpoint to serve.
    pub other_checkpoint: Option<CertifiedCheckpoint>,
    /// `equivocate`: who signs the conflicting headers.
    pub colluders: Option<Colluders>,
}

impl LiarConfig {
    /// A liar in front of `upstream`, with nothing to replay or sign with.
    pub fn new(upstream: impl Into<String>, mode: LieMode) -> Self {
        Self {
            upstream: upstream.into(),
            mode,
            other_checkpoint: None,
            colluders: None,
        }
    }
}

/// A liar serving on a socket; it stops when dropped.
pub struct RunningLiar {
    /// Where it listens.
    pub addr: SocketAddr,
    /// How it lies.
    pub mode: LieMode,
    server: tokio::task::JoinHandle<()>,
}

impl RunningLiar {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningLiar {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts a liar listening on `listen` (port 0: any free port).
pub async fn start(listen: SocketAddr, config: LiarConfig) -> anyhow::Result<RunningLiar> {
    let mode = config.mode;
    let replay = match (mode, config.other_checkpoint) {
        (LieMode::ReplayOtherNetwork, None) => {
            bail!("replay-other-network needs another network's checkpoint")
        }
        (_, checkpoint) => checkpoint.map(serde_json::to_value).transpose()?,
    };
    if mode == LieMode::Equivocate && config.colluders.is_none() {
        bail!("equivocate needs the keys of validators holding more than 2/3 of the stake");
    }
    let liar = Arc::new(Liar {
        mode,
        upstream: config.upstream.trim_end_matches('/').to_owned(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        replay,
        colluders: config.colluders,
        stale: Mutex::new(StaleMemory::default()),
    });
    let app = Router::new()
        .route("/api/v1/ws", get(websocket))
        .fallback(forward)
        .with_state(liar);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(RunningLiar { addr, mode, server })
}

struct Liar {
    mode: LieMode,
    upstream: String,
    http: reqwest::Client,
    replay: Option<Value>,
    colluders: Option<Colluders>,
    stale: Mutex<StaleMemory>,
}

#[derive(Default)]
struct StaleMemory {
    checkpoint: Option<Value>,
    proofs: HashMap<String, Value>,
}

/// An answer a liar may rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Checkpoint { latest: bool },
    AccountProof,
    TransactionProof,
    History,
}

impl Answer {
    /// The answer to a REST GET of `path`.
    fn of_path(path: &str) -> Option<Self> {
        let parts: Vec<&str> = path.strip_prefix("/api/v1/")?.split('/').collect();
        match parts.as_slice() {
            ["checkpoints", "latest"] => Some(Answer::Checkpoint { latest: true }),
            ["checkpoints", _] => Some(Answer::Checkpoint { latest: false }),
            ["accounts", _, "proof"] => Some(Answer::AccountProof),
            ["accounts", _, "history"] => Some(Answer::History),
            ["transactions", _, "proof"] => Some(Answer::TransactionProof),
            _ => None,
        }
    }

    /// The result of a WebSocket request.
    fn of_request(method: &str, params: &Value) -> Option<Self> {
        match method {
            ws_methods::GET_CHECKPOINT => Some(Answer::Checkpoint {
                latest: params.get("number").is_none_or(Value::is_null),
            }),
            ws_methods::GET_ACCOUNT_PROOF => Some(Answer::AccountProof),
            ws_methods::GET_TRANSACTION_PROOF => Some(Answer::TransactionProof),
            ws_methods::GET_HISTORY => Some(Answer::History),
            _ => None,
        }
    }

    /// A WebSocket event (by its `type`).
    fn of_event(kind: &str) -> Option<Self> {
        match kind {
            "checkpoint" => Some(Answer::Checkpoint { latest: true }),
            "account_proof" => Some(Answer::AccountProof),
            _ => None,
        }
    }
}

/// WebSocket methods `withhold` never answers.
const WITHHELD_METHODS: [&str; 4] = [
    ws_methods::GET_CHECKPOINT,
    ws_methods::GET_ACCOUNT_PROOF,
    ws_methods::GET_TRANSACTION_PROOF,
    ws_methods::SUBSCRIBE_CHECKPOINTS,
];

impl Liar {
    /// Rewrites one answer (a checkpoint or proof as JSON) the way the mode lies.
    fn rewrite(&self, answer: Answer, value: &mut Value) {
        use Answer::{AccountProof, Checkpoint, TransactionProof};
        match (self.mode, answer) {
            (LieMode::ForgeCheckpoint, Checkpoint { .. }) => forge_checkpoint(value),
            (LieMode::TruncateCertificate, Checkpoint { .. }) => truncate_certificate(value),
            (LieMode::BadSignature, Checkpoint { .. }) => bad_signature(value),
            (LieMode::ReplayOtherNetwork, Checkpoint { .. }) => {
                replay_other_network(value, self.replay.as_ref())
            }
            (LieMode::Stale, _) => self.stale(answer, value),
            (LieMode::ChangeBalance, AccountProof) => change_balance(value),
            (LieMode::ChangeSibling, AccountProof | TransactionProof) => change_sibling(value),
            (LieMode::ForgeHistory, Answer::History) => forge_history(value),
            (LieMode::Equivocate, Checkpoint { .. }) => {
                if let Some(colluders) = &self.colluders {
                    equivocate(value, colluders)
                }
            }
            _ => {}
        }
    }

    /// `stale`: the first checkpoint seen is "latest" forever; the first
    /// account proof seen per address is replayed forever.
    fn stale(&self, answer: Answer, value: &mut Value) {
        let mut memory = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        match answer {
            Answer::Checkpoint { latest } => {
                let first = memory.checkpoint.get_or_insert_with(|| value.clone());
                if latest {
                    *value = first.clone();
                }
            }
            Answer::AccountProof => {
                let Some(address) = value.get("address").and_then(Value::as_str) else {
                    return;
                };
                let address = address.to_owned();
                let first = memory
                    .proofs
                    .entry(address)
                    .or_insert_with(|| value.clone());
                *value = first.clone();
            }
            Answer::TransactionProof | Answer::History => {}
        }
    }
}

/// Edits `value` as a `T`; leaves it alone if it is not one.
fn edit<T: Serialize + DeserializeOwned>(value: &mut Value, change: impl FnOnce(&mut T)) {
    if let Ok(mut typed) = serde_json::from_value::<T>(value.clone()) {
        change(&mut typed);
        if let Ok(changed) = serde_json::to_value(&typed) {
            *value = changed;
        }
    }
}

/// The forged header both `forge-checkpoint` and `equivocate` sign (or not).
fn forge_header(header: &mut CheckpointHeader) {
    header.state_root.0[0] ^= 0xff;
}

/// `forge-checkpoint`: another state root under the honest signatures. The
/// header id is recomputed, so only the signatures can give it away.
fn forge_checkpoint(value: &mut Value) {
    edit(value, |c: &mut CertifiedCheckpoint| {
        forge_header(&mut c.header);
        c.header_id = c.header.id();
    });
}

/// `truncate-certificate`: keep the first `floor(2n/3)` signers of `n`
/// validators (2 of 4): with equal stake, 2/3 or less.
fn truncate_certificate(value: &mut Value) {
    edit(value, |c: &mut CertifiedCheckpoint| {
        let keep = usize::from(c.validator_count) * 2 / 3;
        c.signers.truncate(keep);
        c.signatures.truncate(keep);
    });
}

/// `bad-signature`: flip the first byte of the first signature.
fn bad_signature(value: &mut Value) {
    edit(value, |c: &mut CertifiedCheckpoint| {
        if let Some(byte) = c.signatures.first_mut().and_then(|s| s.first_mut()) {
            *byte ^= 0x01;
        }
    });
}

/// `replay-other-network`: another network's checkpoint instead.
fn replay_other_network(value: &mut Value, other: Option<&Value>) {
    if let Some(other) = other {
        *value = other.clone();
    }
}

/// `change-balance`: claim 1 rUv more than proven.
fn change_balance(value: &mut Value) {
    edit(value, |p: &mut AccountProof| {
        p.balance = p.balance.saturating_add(1_000_000)
    });
}

/// `change-sibling`: flip a byte of the first non-empty sibling of the
/// proof, re-encoded canonically. A proof without one (a tree holding a
/// single leaf has no siblings) gets its first empty sibling made non-empty,
/// or, with no sibling at all, a byte of its leaf value flipped.
fn change_sibling(value: &mut Value) {
    let Some(Value::String(text)) = value.get_mut("proof") else {
        return;
    };
    let Some(mut proof) = from_base64url(text)
        .ok()
        .and_then(|bytes| SmtProof::decode(&bytes).ok())
    else {
        return;
    };
    if let Some(sibling) = proof.siblings.iter_mut().find(|s| **s != EMPTY_ROOT) {
        sibling[0] ^= 0x01;
    } else if let Some(sibling) = proof.siblings.first_mut() {
        sibling[31] = 0x01;
    } else if let Terminal::Leaf { value, .. } = &mut proof.terminal {
        if let Some(byte) = value.first_mut() {
            *byte ^= 0x01;
        }
    }
    *text = to_base64url(&proof.encode());
}

/// `forge-history`: the newest entry claims 1 rUv more than the transfer
/// its proof names; the second entry loses its Merkle proof.
fn forge_history(value: &mut Value) {
    edit(value, |page: &mut AccountHistory| {
        if let Some(first) = page.entries.first_mut() {
            first.transaction.transfer.amount += ruv_protocol::UNITS_PER_RUV;
        }
        if let Some(second) = page.entries.get_mut(1) {
            second.proof.proof.clear();
        }
    });
}

/// `equivocate`: a conflicting header for the same number, certified by
/// the colluders.
fn equivocate(value: &mut Value, colluders: &Colluders) {
    edit(value, |c: &mut CertifiedCheckpoint| {
        forge_header(&mut c.header);
        *c = colluders.certify(&c.header);
    });
}

/// Largest request body forwarded (the relay's own limit is smaller).
const MAX_FORWARDED_BODY: usize = 1024 * 1024;
/// Largest WebSocket message forwarded (the relay's transport limit).
const MAX_WS_MESSAGE: usize = 1024 * 1024;

/// Headers that belong to one connection, not to the message.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in [
        header::HOST,
        header::CONNECTION,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
}

/// Every HTTP request but the WebSocket: forwarded, the answer rewritten.
async fn forward(State(liar): State<Arc<Liar>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = (parts.method == Method::GET)
        .then(|| Answer::of_path(parts.uri.path()))
        .flatten();
    if answer.is_some() && liar.mode == LieMode::Withhold {
        // Keep the connection open and say nothing, until the client gives up.
        std::future::pending::<()>().await;
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_FORWARDED_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    let sent = liar
        .http
        .request(parts.method, format!("{}{target}", liar.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match sent {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("upstream: {e}")).into_response(),
    };
    let status = upstream.status();
    let mut headers = upstream.headers().clone();
    strip_hop_by_hop(&mut headers);
    let Ok(mut bytes) = upstream.bytes().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    if let (Some(answer), StatusCode::OK, false) = (answer, status, liar.mode == LieMode::Honest) {
        if let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) {
            liar.rewrite(answer, &mut value);
            bytes = Bytes::from(value.to_string());
        }
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

async fn websocket(State(liar): State<Arc<Liar>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .on_upgrade(move |client| liar.proxy_websocket(client))
}

/// One frame read by the WebSocket proxy.
enum Frame {
    FromClient(Option<Result<ClientFrame, axum::Error>>),
    FromUpstream(Option<Result<UpstreamFrame, tokio_tungstenite::tungstenite::Error>>),
}

impl Liar {
    /// Relays one client connection to the upstream's `/api/v1/ws`.
    async fn proxy_websocket(self: Arc<Self>, mut client: WebSocket) {
        let url = format!("{}/api/v1/ws", self.upstream.replacen("http", "ws", 1));
        let Ok((mut upstream, _)) = tokio_tungstenite::connect_async(url).await else {
            let _ = client.send(ClientFrame::Close(None)).await;
            return;
        };
        // Request id -> the answer its result is.
        let mut pending: HashMap<u64, Answer> = HashMap::new();
        loop {
            let frame = tokio::select! {
                frame = client.recv() => Frame::FromClient(frame),
                frame = upstream.next() => Frame::FromUpstream(frame),
            };
            let delivered = match frame {
                Frame::FromClient(Some(Ok(ClientFrame::Text(text)))) => {
                    match self.on_client_text(text.as_str(), &mut pending) {
                        Some(text) => upstream.send(UpstreamFrame::text(text)).await.is_ok(),
                        None => true,
                    }
                }
                Frame::FromClient(Some(Ok(ClientFrame::Binary(bytes)))) => {
                    upstream.send(UpstreamFrame::binary(bytes)).await.is_ok()
                }
                Frame::FromClient(Some(Ok(ClientFrame::Ping(_) | ClientFrame::Pong(_)))) => true,
                Frame::FromClient(_) => {
                    let _ = upstream.close(None).await;
                    false
                }
                Frame::FromUpstream(Some(Ok(UpstreamFrame::Text(text)))) => {
                    match self.on_upstream_text(text.as_str(), &mut pending) {
                        Some(text) => client.send(ClientFrame::Text(text.into())).await.is_ok(),
                        None => true,
                    }
                }
                Frame::FromUpstream(Some(Ok(UpstreamFrame::Binary(bytes)))) => {
                    client.send(ClientFrame::Binary(bytes)).await.is_ok()
                }
                Frame::FromUpstream(Some(Ok(
                    UpstreamFrame::Ping(_) | UpstreamFrame::Pong(_) | UpstreamFrame::Frame(_),
                ))) => true,
                Frame::FromUpstream(_) => {
                    let _ = client.send(ClientFrame::Close(None)).await;
                    false
                }
            };
            if !delivered {
                return;
            }
        }
    }

    /// A client's frame: remembered (which answer its result will be), then
    /// forwarded, or swallowed when withheld.
    fn on_client_text(&self, text: &str, pending: &mut HashMap<u64, Answer>) -> Option<String> {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            return Some(text.to_owned());
        };
        let method = request["method"].as_str().unwrap_or_default();
        if self.mode == LieMode::Withhold && WITHHELD_METHODS.contains(&method) {
            return None;
        }
        if let (Some(id), Some(answer)) = (
            request["id"].as_u64(),
            Answer::of_request(method, &request["params"]),
        ) {
            pending.insert(id, answer);
        }
        Some(text.to_owned())
    }

    /// An upstream frame: results and events rewritten, withheld events
    /// swallowed.
    fn on_upstream_text(&self, text: &str, pending: &mut HashMap<u64, Answer>) -> Option<String> {
        let Ok(mut message) = serde_json::from_str::<Value>(text) else {
            return Some(text.to_owned());
        };
        if let Some(id) = message.get("id").and_then(Value::as_u64) {
            let answer = pending.remove(&id);
            match (answer, message.get_mut("result")) {
                (Some(answer), Some(result)) if self.mode != LieMode::Honest => {
                    self.rewrite(answer, result)
                }
                _ => return Some(text.to_owned()),
            }
        } else {
            let event = message.get_mut("event").and_then(Value::as_object_mut);
            let Some(event) = event else {
                return Some(text.to_owned());
            };
            let answer = event
                .get("type")
                .and_then(Value::as_str)
                .and_then(Answer::of_event);
            let (Some(answer), false) = (answer, self.mode == LieMode::Honest) else {
                return Some(text.to_owned());
            };
            if self.mode == LieMode::Withhold {
                return None;
            }
            // An event is the payload's fields plus its `type`.
            let kind = event.remove("type").unwrap_or_default();
            let mut payload = Value::Object(std::mem::take(event));
            self.rewrite(answer, &mut payload);
            if let Value::Object(fields) = payload {
                *event = fields;
            }
            event.insert("type".into(), kind);
        }
        Some(message.to_string())
    }
}
