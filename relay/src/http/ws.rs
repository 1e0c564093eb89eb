//! The WebSocket `/api/v1/ws`: JSON request/response with ids, and
//! subscriptions that push account, transaction and checkpoint events
//! (account subscriptions also get an `account_proof` event whenever a
//! certified checkpoint changes the account).
//!
//! Limits (see `ruv_protocol::api::limits`): messages over
//! `MAX_WS_FRAME_BYTES` get a `frame_too_large` error and the connection
//! stays open (the transport drops connections sending more than
//! [`TRANSPORT_MAX_MESSAGE`]); requests above the rate get `rate_limited`;
//! a connection holds at most `MAX_SUBSCRIPTIONS_PER_CONNECTION`; a client
//! that lets `WS_SEND_QUEUE` messages pile up is disconnected, not buffered.

use super::limits::{rate_limited, WS_PING_INTERVAL};
use super::listener::ClientAddr;
use super::rest::{parse_address, parse_transaction, parse_tx_id};
use crate::node::NodeEvent;
use crate::service::RelayState;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use ruv_protocol::api::{
    codes, limits, ws_methods, AddressParams, ApiError, SubscriptionParams, TxIdParams, TxState,
    WsEvent, WsRequest, WsServerMessage,
};
use ruv_protocol::api::{CheckpointParams, HistoryParams, NonceParams, SubscribeAccountParams};
use ruv_protocol::{Address, TxId};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, mpsc};

/// Messages larger than this close the connection (WebSocket close code 1009).
pub const TRANSPORT_MAX_MESSAGE: usize = 1024 * 1024;
/// Bytes a client connection reads at once, and allocates up front: client
/// requests are small, and the WebSocket library's default (128 KiB,
/// zero-filled before each read) cost every connection that much memory.
pub const CLIENT_READ_BUFFER: usize = 4 * 1024;

pub(super) async fn upgrade(
    State(state): State<Arc<RelayState>>,
    ConnectInfo(ClientAddr(addr)): ConnectInfo<ClientAddr>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(TRANSPORT_MAX_MESSAGE)
        .max_frame_size(TRANSPORT_MAX_MESSAGE)
        .read_buffer_size(CLIENT_READ_BUFFER)
        .on_upgrade(move |socket| run(state, socket, addr.ip()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// An account; with proofs (`account_proof` events) or not.
    Account(Address, bool),
    Transaction(TxId),
    Checkpoints,
}

/// A token bucket: `WS_REQUESTS_PER_SECOND` sustained, `WS_REQUEST_BURST` burst.
struct RateLimit {
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    fn new() -> Self {
        Self {
            tokens: limits::WS_REQUEST_BURST as f64,
            last: Instant::now(),
        }
    }

    fn allow(&mut self, now: Instant) -> bool {
        let refill =
            now.duration_since(self.last).as_secs_f64() * limits::WS_REQUESTS_PER_SECOND as f64;
        self.tokens = (self.tokens + refill).min(limits::WS_REQUEST_BURST as f64);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Session {
    state: Arc<RelayState>,
    /// The client's IP: its requests also spend the per-IP budget.
    ip: IpAddr,
    subscriptions: HashMap<u64, Filter>,
    next_subscription: u64,
    rate: RateLimit,
}

/// Why a session ends early.
enum Disconnect {
    SlowConsumer,
    Gone,
}

fn to_text(message: &WsServerMessage) -> Message {
    // Serializing our own enum of plain data cannot fail.
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

fn enqueue(out: &mpsc::Sender<Message>, message: &WsServerMessage) -> Result<(), Disconnect> {
    out.try_send(to_text(message)).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => Disconnect::SlowConsumer,
        mpsc::error::TrySendError::Closed(_) => Disconnect::Gone,
    })
}

async fn run(state: Arc<RelayState>, socket: WebSocket, ip: IpAddr) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut out_rx) = mpsc::channel::<Message>(limits::WS_SEND_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(message) = out_rx.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    let mut events = state.subscribe();
    state.metrics.websocket_connections.inc();
    let connection_gauge = state.clone();
    let mut session = Session {
        state,
        ip,
        subscriptions: HashMap::new(),
        next_subscription: 1,
        rate: RateLimit::new(),
    };

    // Pings keep a quiet subscription's connection from counting as idle
    // (the client's pong is traffic).
    let mut ping = tokio::time::interval_at(
        tokio::time::Instant::now() + WS_PING_INTERVAL,
        WS_PING_INTERVAL,
    );
    let outcome: Result<(), Disconnect> = async {
        loop {
            tokio::select! {
                _ = session.state.shutdown.cancelled() => return Ok(()),
                _ = ping.tick() => {
                    out.try_send(Message::Ping(Default::default())).map_err(|e| match e {
                        mpsc::error::TrySendError::Full(_) => Disconnect::SlowConsumer,
                        mpsc::error::TrySendError::Closed(_) => Disconnect::Gone,
                    })?;
                }
                incoming = stream.next() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                    Some(Ok(Message::Text(text))) => {
                        for reply in session.handle_text(text.as_str()).await {
                            enqueue(&out, &reply)?;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => enqueue(&out, &WsServerMessage::Error {
                        id: None,
                        error: ApiError::new(codes::MALFORMED_JSON, "send requests as JSON text frames"),
                    })?,
                    Some(Ok(_)) => {} // ping/pong: answered by the transport
                },
                event = events.recv() => match event {
                    Ok(event) => {
                        for message in session.matching(&event).await {
                            enqueue(&out, &message)?;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => return Err(Disconnect::SlowConsumer),
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
            }
        }
    }
    .await;

    if let Err(Disconnect::SlowConsumer) = outcome {
        tracing::info!("disconnecting a WebSocket client that does not keep up");
        // The queue is full; the close frame may not fit, which is fine: dropping closes the socket.
        let _ = out.try_send(Message::Close(Some(CloseFrame {
            code: 1008,
            reason: "too slow".into(),
        })));
    }
    drop(out);
    let _ = writer.await;
    connection_gauge.metrics.websocket_connections.dec();
}

fn params<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    // Address and id fields get their own codes; the rest is a shape error.
    if let Some(serde_json::Value::String(text)) = value.get("address") {
        parse_address(text)?;
    }
    if let Some(serde_json::Value::String(text)) = value.get("id") {
        parse_tx_id(text)?;
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(codes::MALFORMED_JSON, format!("invalid params: {e}")))
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

impl Session {
    async fn handle_text(&mut self, text: &str) -> Vec<WsServerMessage> {
        // The per-IP budget is spent before the message is even parsed (so
        // the error cannot name the request's id).
        if !self.state.ws_budget.allow(self.ip) {
            return vec![WsServerMessage::Error {
                id: None,
                error: rate_limited("WebSocket requests"),
            }];
        }
        if text.len() > limits::MAX_WS_FRAME_BYTES {
            return vec![WsServerMessage::Error {
                id: None,
                error: ApiError::new(
                    codes::FRAME_TOO_LARGE,
                    format!(
                        "message is {} bytes; the limit is {}",
                        text.len(),
                        limits::MAX_WS_FRAME_BYTES
                    ),
                ),
            }];
        }
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return vec![WsServerMessage::Error {
                    id: None,
                    error: ApiError::new(codes::MALFORMED_JSON, e.to_string()),
                }]
            }
        };
        let id = value.get("id").and_then(serde_json::Value::as_u64);
        let request: WsRequest = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) => {
                return vec![WsServerMessage::Error {
                    id,
                    error: ApiError::new(
                        codes::MALFORMED_JSON,
                        format!("expected {{id, method, params}}: {e}"),
                    ),
                }]
            }
        };
        if !self.rate.allow(Instant::now()) {
            return vec![WsServerMessage::Error {
                id: Some(request.id),
                error: ApiError::new(
                    codes::RATE_LIMITED,
                    format!(
                        "more than {} requests per second",
                        limits::WS_REQUESTS_PER_SECOND
                    ),
                ),
            }];
        }
        let id = request.id;
        match self.dispatch(request).await {
            Ok((result, mut follow_up)) => {
                follow_up.insert(0, WsServerMessage::Response { id, result });
                follow_up
            }
            Err(error) => vec![WsServerMessage::Error {
                id: Some(id),
                error,
            }],
        }
    }

    /// Runs one request; returns its result and any events to push right after it.
    async fn dispatch(
        &mut self,
        request: WsRequest,
    ) -> Result<(serde_json::Value, Vec<WsServerMessage>), ApiError> {
        let state = self.state.clone();
        let none = Vec::new();
        match request.method.as_str() {
            ws_methods::NETWORK_STATUS => Ok((json(&state.network_status()), none)),
            ws_methods::GET_ACCOUNT => {
                let p: AddressParams = params(request.params)?;
                Ok((json(&state.account(p.address)), none))
            }
            ws_methods::GET_TRANSACTION => {
                let p: TxIdParams = params(request.params)?;
                Ok((json(&state.tx_status(p.id).await?), none))
            }
            ws_methods::SUBMIT_TRANSACTION => {
                let transaction = request.params.get("transaction").cloned().ok_or_else(|| {
                    ApiError::new(codes::MALFORMED_JSON, "params.transaction is required")
                })?;
                let tx = parse_transaction(transaction)?;
                let status = state.submit(tx).await?;
                Ok((json(&status), none))
            }
            ws_methods::SUBSCRIBE_ACCOUNT => {
                let p: SubscribeAccountParams = params(request.params)?;
                let subscription = self.add_subscription(Filter::Account(p.address, p.proofs))?;
                // Snapshot first, then deltas: the client never misses a change.
                let mut follow_up = vec![WsServerMessage::Event {
                    subscription,
                    event: WsEvent::Account(state.account(p.address)),
                }];
                let proof = match p.proofs {
                    true => state.account_proof(p.address).await.ok(),
                    false => None,
                };
                if let Some(proof) = proof {
                    follow_up.push(WsServerMessage::Event {
                        subscription,
                        event: WsEvent::AccountProof(proof),
                    });
                }
                Ok((json(&SubscriptionParams { subscription }), follow_up))
            }
            ws_methods::SUBSCRIBE_TRANSACTION => {
                let p: TxIdParams = params(request.params)?;
                let subscription = self.add_subscription(Filter::Transaction(p.id))?;
                let mut follow_up = Vec::new();
                if let Ok(status) = state.tx_status(p.id).await {
                    if status.status != TxState::Pending {
                        self.subscriptions.remove(&subscription);
                    }
                    follow_up.push(WsServerMessage::Event {
                        subscription,
                        event: WsEvent::Transaction(status),
                    });
                }
                Ok((json(&SubscriptionParams { subscription }), follow_up))
            }
            ws_methods::GET_CHECKPOINT => {
                let p: CheckpointParams = params(request.params)?;
                let checkpoint = match p.number {
                    Some(number) => state.checkpoint(number).await?,
                    None => state.latest_checkpoint()?,
                };
                Ok((json(&checkpoint), none))
            }
            ws_methods::GET_ACCOUNT_PROOF => {
                let p: AddressParams = params(request.params)?;
                Ok((json(&state.account_proof(p.address).await?), none))
            }
            ws_methods::GET_TRANSACTION_PROOF => {
                let p: TxIdParams = params(request.params)?;
                Ok((json(&state.transaction_proof(p.id).await?), none))
            }
            ws_methods::GET_NONCE_PROOF => {
                let p: NonceParams = params(request.params)?;
                Ok((json(&state.nonce_proof(p.address, p.nonce).await?), none))
            }
            ws_methods::GET_HISTORY => {
                let p: HistoryParams = params(request.params)?;
                Ok((json(&state.history(p).await?), none))
            }
            ws_methods::SUBSCRIBE_CHECKPOINTS => {
                let _: serde_json::Map<String, serde_json::Value> = match request.params {
                    serde_json::Value::Null => serde_json::Map::new(),
                    other => params(other)?,
                };
                let subscription = self.add_subscription(Filter::Checkpoints)?;
                let follow_up = state
                    .latest_checkpoint()
                    .ok()
                    .map(|checkpoint| WsServerMessage::Event {
                        subscription,
                        event: WsEvent::Checkpoint(Box::new(checkpoint)),
                    })
                    .into_iter()
                    .collect();
                Ok((json(&SubscriptionParams { subscription }), follow_up))
            }
            ws_methods::UNSUBSCRIBE => {
                let p: SubscriptionParams = params(request.params)?;
                match self.subscriptions.remove(&p.subscription) {
                    Some(_) => Ok((serde_json::json!({}), none)),
                    None => Err(ApiError::new(
                        codes::NOT_FOUND,
                        format!("no subscription {}", p.subscription),
                    )),
                }
            }
            other => Err(ApiError::new(
                codes::UNKNOWN_METHOD,
                format!("unknown method {other:?}"),
            )),
        }
    }

    fn add_subscription(&mut self, filter: Filter) -> Result<u64, ApiError> {
        if self.subscriptions.len() >= limits::MAX_SUBSCRIPTIONS_PER_CONNECTION {
            return Err(ApiError::new(
                codes::TOO_MANY_SUBSCRIPTIONS,
                format!(
                    "at most {} subscriptions per connection",
                    limits::MAX_SUBSCRIPTIONS_PER_CONNECTION
                ),
            ));
        }
        let id = self.next_subscription;
        self.next_subscription += 1;
        self.subscriptions.insert(id, filter);
        Ok(id)
    }

    /// Events for this connection's subscriptions; final transaction
    /// subscriptions end after their last event.
    async fn matching(&mut self, event: &NodeEvent) -> Vec<WsServerMessage> {
        let mut out = Vec::new();
        let mut finished = Vec::new();
        for (&subscription, filter) in &self.subscriptions {
            match (filter, event) {
                (Filter::Account(a, _), NodeEvent::Account(info)) if *a == info.address => {
                    out.push(WsServerMessage::Event {
                        subscription,
                        event: WsEvent::Account(info.clone()),
                    });
                }
                (Filter::Transaction(id), NodeEvent::Transaction(status)) if *id == status.id => {
                    if status.status != TxState::Pending {
                        finished.push(subscription);
                    }
                    out.push(WsServerMessage::Event {
                        subscription,
                        event: WsEvent::Transaction(status.clone()),
                    });
                }
                (Filter::Checkpoints, NodeEvent::Checkpoint(checkpoint, _)) => {
                    out.push(WsServerMessage::Event {
                        subscription,
                        event: WsEvent::Checkpoint(Box::new((**checkpoint).clone())),
                    });
                }
                (Filter::Account(a, true), NodeEvent::Checkpoint(_, changed))
                    if changed.contains(a) =>
                {
                    if let Ok(proof) = self.state.account_proof(*a).await {
                        out.push(WsServerMessage::Event {
                            subscription,
                            event: WsEvent::AccountProof(proof),
                        });
                    }
                }
                _ => {}
            }
        }
        for s in finished {
            self.subscriptions.remove(&s);
        }
        out
    }
}
