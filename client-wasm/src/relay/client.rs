//! The browser driver: one `web_sys::WebSocket` to one relay, driven by
//! [`ClientCore`], exposed to JavaScript as `RelayClient`.
//!
//! Socket callbacks never call into JavaScript while the shared state is
//! borrowed: they collect [`Effect`]s and run them afterwards, so a user
//! callback may call back into the client.

use super::core::{
    bad_response, ClientCore, Output, Reply, Request, Target, DEFAULT_REQUEST_TIMEOUT_MS,
    MAX_SAFE_INTEGER,
};
use super::oneshot;
use super::url::websocket_url;
use crate::error::{codes, ClientError};
use crate::keys::SignedTransaction;
use crate::transfer::parse_address;
use js_sys::{Function, Promise};
use ruv_protocol::api::{self, TxState, TxStatus, WsEvent};
use ruv_protocol::TxId;
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// Default time to wait for a transaction to become final, in milliseconds.
pub const DEFAULT_FINAL_TIMEOUT_MS: u64 = 60_000;

/// Default time to wait for the WebSocket handshake, in milliseconds.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;

#[wasm_bindgen]
extern "C" {
    // The global timer functions exist in windows, workers and Node alike.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);

    /// The `ConnectOptions` object a caller passes (typed for TypeScript).
    #[wasm_bindgen(typescript_type = "ConnectOptions")]
    pub type ConnectOptionsJs;
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A one-shot timer, cancelled when dropped.
pub(crate) struct Timer {
    handle: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// Runs `f` after `ms` milliseconds unless dropped first.
    pub(crate) fn new(ms: u64, f: impl FnOnce() + 'static) -> Self {
        let callback = Closure::once(f);
        let ms = ms.min(i32::MAX as u64) as f64;
        let handle = set_timeout(callback.as_ref().unchecked_ref(), ms);
        Self {
            handle,
            _callback: callback,
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

/// Options of `RelayClient.connect`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectOptions {
    // Numbers as JS gives them; checked by `parse_timeout`.
    request_timeout_ms: Option<f64>,
    connect_timeout_ms: Option<f64>,
}

type Answer = Result<Reply, ClientError>;
type Final = Result<TxStatus, ClientError>;
/// Shared by a `waitForFinal` subscription, its status check and its timer:
/// whichever finishes first takes the sender.
type FinalSlot = Rc<RefCell<Option<oneshot::Sender<Final>>>>;

/// Where a subscription's events go.
#[derive(Clone)]
pub(super) enum Sink {
    /// A JavaScript callback.
    Js(Function),
    /// A `waitForFinal` in progress.
    Final(FinalSlot),
    /// Rust code (a `RelayPool` routing events to its own subscriptions).
    Rust(Rc<dyn Fn(WsEvent)>),
}

/// Who hears that a connection ended.
pub(super) enum CloseHook {
    /// A JavaScript `onClose` callback.
    Js(Function),
    /// Rust code (a `RelayPool` that reconnects).
    Rust(Box<dyn FnOnce(ClientError)>),
}

enum Phase {
    Connecting(Option<oneshot::Sender<Result<(), ClientError>>>),
    Open,
    Closed,
}

/// Work to do after the shared state is released.
enum Effect {
    Answer(oneshot::Sender<Answer>, Answer),
    Connected(
        oneshot::Sender<Result<(), ClientError>>,
        Result<(), ClientError>,
    ),
    Final(FinalSlot, Final),
    Call(Function, JsValue),
    CallRust(Rc<dyn Fn(WsEvent)>, WsEvent),
    Closed(CloseHook, ClientError),
    Warn(String),
}

fn run(effects: Vec<Effect>) {
    for effect in effects {
        match effect {
            Effect::Answer(tx, answer) => tx.send(answer),
            Effect::Connected(tx, result) => tx.send(result),
            Effect::Final(slot, result) => deliver(&slot, result),
            Effect::Call(f, arg) => {
                // A throwing callback must not break the connection.
                if let Err(e) = f.call1(&JsValue::NULL, &arg) {
                    web_sys::console::error_2(
                        &"ruv-client: subscription callback threw".into(),
                        &e,
                    );
                }
            }
            Effect::CallRust(f, event) => f(event),
            Effect::Closed(CloseHook::Js(f), error) => {
                if let Err(e) = f.call1(&JsValue::NULL, &error.into()) {
                    web_sys::console::error_2(&"ruv-client: onClose callback threw".into(), &e);
                }
            }
            Effect::Closed(CloseHook::Rust(f), error) => f(error),
            Effect::Warn(text) => web_sys::console::warn_1(&text.into()),
        }
    }
}

fn deliver(slot: &FinalSlot, result: Final) {
    let sender = slot.borrow_mut().take();
    if let Some(tx) = sender {
        tx.send(result);
    }
}

/// A value as JSON-shaped JS (u64 stay decimal strings).
pub(super) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, ClientError> {
    let text = serde_json::to_string(value).map_err(|e| bad_response(e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| bad_response("cannot convert to JavaScript"))
}

pub(crate) fn reply_to_js(reply: Reply) -> Result<JsValue, ClientError> {
    match reply {
        Reply::NetworkStatus(s) => to_js(&s),
        Reply::Account(a) => to_js(&a),
        Reply::Transaction(t) => to_js(&t),
        Reply::Subscribed(n) => Ok(JsValue::from_f64(n as f64)),
        Reply::Unsubscribed => Ok(JsValue::UNDEFINED),
        Reply::Checkpoint(c) => to_js(&c),
        Reply::AccountProof(p) => to_js(&p),
        Reply::TransactionProof(p) => to_js(&p),
        Reply::History(h) => to_js(&h),
    }
}

pub(super) fn connection_lost() -> ClientError {
    ClientError::new(codes::CONNECTION, "the relay connection closed")
}

struct Handlers {
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

/// One relay connection's state, shared by the socket callbacks and the
/// futures waiting on it.
pub(super) struct Shared {
    url: String,
    socket: WebSocket,
    core: ClientCore,
    phase: Phase,
    request_timeout_ms: u64,
    waiters: HashMap<u64, oneshot::Sender<Answer>>,
    /// Sinks of subscribe requests still waiting for their answer.
    pending_sinks: HashMap<u64, Sink>,
    sinks: HashMap<u64, Sink>,
    close_callbacks: Vec<CloseHook>,
    timer: Option<(u64, Timer)>,
    /// The timer whose callback is running, kept alive until it returns.
    fired_timer: Option<Timer>,
    handlers: Option<Handlers>,
    me: Weak<RefCell<Shared>>,
}

impl Shared {
    /// Sends what the rate limit allows, expires overdue requests and sets
    /// the timer for the next of either.
    fn flush(&mut self, now: u64) -> Vec<Effect> {
        if !matches!(self.phase, Phase::Open) {
            return Vec::new();
        }
        let mut effects = Vec::new();
        while let Some(text) = self.core.poll_transmit(now) {
            if self.socket.send_with_str(&text).is_err() {
                return self.shutdown(
                    ClientError::new(codes::CONNECTION, "sending to the relay failed"),
                    1000,
                );
            }
        }
        for (id, error) in self.core.poll_timeouts(now) {
            self.pending_sinks.remove(&id);
            if let Some(tx) = self.waiters.remove(&id) {
                effects.push(Effect::Answer(tx, Err(error)));
            }
        }
        self.schedule(now);
        effects
    }

    fn schedule(&mut self, now: u64) {
        let Some(at) = self.core.next_wakeup() else {
            self.timer = None;
            return;
        };
        if matches!(&self.timer, Some((due, _)) if *due == at) {
            return;
        }
        let me = self.me.clone();
        let timer = Timer::new(at.saturating_sub(now), move || {
            if let Some(shared) = me.upgrade() {
                {
                    let mut s = shared.borrow_mut();
                    s.fired_timer = s.timer.take().map(|(_, t)| t);
                }
                pump(&shared);
            }
        });
        self.timer = Some((at, timer));
    }

    fn on_frame(&mut self, text: &str, now: u64) -> Vec<Effect> {
        let output = match self.core.handle_frame(text, now) {
            Ok(Some(output)) => output,
            Ok(None) => return Vec::new(),
            Err(fatal) => return self.shutdown(fatal, 4002),
        };
        match output {
            Output::Reply { id, result } => {
                if let (Ok(Reply::Subscribed(n)), Some(sink)) =
                    (&result, self.pending_sinks.remove(&id))
                {
                    self.sinks.insert(*n, sink);
                }
                match self.waiters.remove(&id) {
                    Some(tx) => vec![Effect::Answer(tx, result)],
                    None => Vec::new(),
                }
            }
            Output::Event {
                subscription,
                event,
                last,
            } => {
                let sink = if last {
                    self.sinks.remove(&subscription)
                } else {
                    self.sinks.get(&subscription).cloned()
                };
                match (sink, event) {
                    (Some(Sink::Js(f)), event) => match to_js(&event) {
                        Ok(value) => vec![Effect::Call(f, value)],
                        Err(e) => vec![Effect::Warn(e.message)],
                    },
                    (Some(Sink::Rust(f)), event) => vec![Effect::CallRust(f, event)],
                    (Some(Sink::Final(slot)), WsEvent::Transaction(status))
                        if status.status != TxState::Pending =>
                    {
                        vec![Effect::Final(slot, Ok(status))]
                    }
                    _ => Vec::new(),
                }
            }
            Output::Unrouted(e) => {
                vec![Effect::Warn(format!(
                    "ruv-client: relay {} reported {}: {}",
                    self.url, e.code, e.message
                ))]
            }
        }
    }

    /// Ends the connection: every waiter fails with `error`, close callbacks
    /// run, the socket is closed with `close_code` if still open.
    fn shutdown(&mut self, error: ClientError, close_code: u16) -> Vec<Effect> {
        let previous = std::mem::replace(&mut self.phase, Phase::Closed);
        let mut effects = Vec::new();
        match previous {
            Phase::Closed => return effects,
            Phase::Connecting(tx) => {
                if let Some(tx) = tx {
                    effects.push(Effect::Connected(tx, Err(error.clone())));
                }
            }
            Phase::Open => {}
        }
        for (id, e) in self.core.fail_all(error.clone()) {
            if let Some(tx) = self.waiters.remove(&id) {
                effects.push(Effect::Answer(tx, Err(e)));
            }
        }
        for (_, tx) in self.waiters.drain() {
            effects.push(Effect::Answer(tx, Err(error.clone())));
        }
        for (_, sink) in self.pending_sinks.drain().chain(self.sinks.drain()) {
            if let Sink::Final(slot) = sink {
                effects.push(Effect::Final(slot, Err(error.clone())));
            }
        }
        for f in self.close_callbacks.drain(..) {
            effects.push(Effect::Closed(f, error.clone()));
        }
        self.timer = None;
        self.detach_socket(close_code);
        effects
    }

    fn detach_socket(&mut self, close_code: u16) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let state = self.socket.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            // Only fails for codes outside 1000 and 3000-4999, which are never used here.
            let _ = self.socket.close_with_code(close_code);
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if !matches!(self.phase, Phase::Closed) {
            self.detach_socket(1000);
        }
    }
}

/// Runs [`Shared::flush`] and its effects.
fn pump(shared: &Connection) {
    let effects = shared.borrow_mut().flush(now_ms());
    run(effects);
}

/// Sends a request and waits for its checked answer. A subscribe request's
/// `sink` is attached as soon as the answer arrives.
pub(super) async fn request(shared: Connection, request: Request, sink: Option<Sink>) -> Answer {
    let rx = {
        let mut s = shared.borrow_mut();
        let unsubscribing = match &request {
            Request::Unsubscribe(n) => Some(*n),
            _ => None,
        };
        let timeout = s.request_timeout_ms;
        let id = s.core.start(request, now_ms(), timeout)?;
        if let Some(n) = unsubscribing {
            s.sinks.remove(&n);
        }
        if let Some(sink) = sink {
            s.pending_sinks.insert(id, sink);
        }
        let (tx, rx) = oneshot::channel();
        s.waiters.insert(id, tx);
        rx
    };
    pump(&shared);
    rx.await.unwrap_or_else(|| Err(connection_lost()))
}

pub(super) async fn subscribe(
    shared: Connection,
    target: Target,
    sink: Sink,
) -> Result<u64, ClientError> {
    match request(shared, Request::Subscribe(target), Some(sink)).await? {
        Reply::Subscribed(n) => Ok(n),
        _ => Err(bad_response("unexpected answer to a subscription")),
    }
}

pub(super) async fn wait_for_final(shared: Connection, id: TxId, timeout_ms: u64) -> Final {
    let (tx, rx) = oneshot::channel();
    let slot: FinalSlot = Rc::new(RefCell::new(Some(tx)));
    let _timer = Timer::new(timeout_ms, {
        let slot = slot.clone();
        move || {
            let error = ClientError::new(
                codes::TIMEOUT,
                format!("transaction {id} was not final within {timeout_ms} ms"),
            );
            deliver(&slot, Err(error));
        }
    });
    let subscribed = subscribe(
        shared.clone(),
        Target::Transaction(id),
        Sink::Final(slot.clone()),
    )
    .await;
    if let Err(e) = &subscribed {
        if e.code == codes::CONNECTION {
            return Err(e.clone());
        }
    }
    // The transaction may have become final before the subscription existed.
    match request(shared.clone(), Request::GetTransaction(id), None).await {
        Ok(Reply::Transaction(status)) if status.status != TxState::Pending => {
            deliver(&slot, Ok(status))
        }
        Ok(_) => {
            if let Err(e) = &subscribed {
                deliver(&slot, Err(e.clone()));
            }
        }
        // A relay that has not heard of it yet (another relay got it) may
        // still report it on the subscription; anything else is an answer.
        Err(e) if subscribed.is_ok() && e.code == api::codes::NOT_FOUND => {}
        Err(e) => deliver(&slot, Err(e)),
    }
    let result = rx.await.unwrap_or_else(|| Err(connection_lost()));
    if let Ok(n) = subscribed {
        if is_subscribed(&shared, n) {
            // Best effort: the answer does not matter to the caller.
            let _ = request(shared, Request::Unsubscribe(n), None).await;
        }
    }
    result
}

/// A live connection.
pub(super) type Connection = Rc<RefCell<Shared>>;

/// Time limits of one connection, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) request_ms: u64,
    pub(crate) connect_ms: u64,
}

/// Reads `ConnectOptions` from JavaScript (`undefined` means the defaults).
pub(crate) fn parse_options(options: JsValue) -> Result<Timeouts, ClientError> {
    let options: ConnectOptions = if options.is_undefined() || options.is_null() {
        ConnectOptions::default()
    } else {
        // Through JSON: serde-wasm-bindgen never sees unknown keys, and a typo
        // in an option name should not pass silently.
        let text = js_sys::JSON::stringify(&options)
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        serde_json::from_str(&text)
            .map_err(|e| ClientError::new(codes::INVALID_PARAMS, format!("connect options: {e}")))?
    };
    Ok(Timeouts {
        request_ms: parse_timeout(options.request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS)?,
        connect_ms: parse_timeout(options.connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS)?,
    })
}

/// Opens a connection to `url` (see [`websocket_url`]).
pub(super) async fn connect_to(url: &str, timeouts: Timeouts) -> Result<Connection, ClientError> {
    let request_timeout_ms = timeouts.request_ms;
    let connect_timeout = timeouts.connect_ms;
    let url = websocket_url(url)?;
    let socket = WebSocket::new(&url).map_err(|e| {
        let why = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_default();
        ClientError::new(codes::CONNECTION, format!("cannot open {url}: {why}"))
    })?;
    socket.set_binary_type(BinaryType::Arraybuffer);
    let (tx, rx) = oneshot::channel();
    let shared = Rc::new_cyclic(|me| {
        RefCell::new(Shared {
            url: url.clone(),
            socket: socket.clone(),
            core: ClientCore::new(now_ms()),
            phase: Phase::Connecting(Some(tx)),
            request_timeout_ms,
            waiters: HashMap::new(),
            pending_sinks: HashMap::new(),
            sinks: HashMap::new(),
            close_callbacks: Vec::new(),
            timer: None,
            fired_timer: None,
            handlers: None,
            me: me.clone(),
        })
    });
    let weak = Rc::downgrade(&shared);
    let on_open = Closure::<dyn FnMut()>::new({
        let weak = weak.clone();
        move || {
            let Some(shared) = weak.upgrade() else { return };
            let effects = {
                let mut s = shared.borrow_mut();
                match std::mem::replace(&mut s.phase, Phase::Open) {
                    Phase::Connecting(Some(tx)) => vec![Effect::Connected(tx, Ok(()))],
                    other => {
                        s.phase = other;
                        Vec::new()
                    }
                }
            };
            run(effects);
        }
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
        let weak = weak.clone();
        move |event: MessageEvent| {
            let Some(shared) = weak.upgrade() else { return };
            let effects = {
                let mut s = shared.borrow_mut();
                let now = now_ms();
                let mut effects = match event.data().as_string() {
                    Some(text) => s.on_frame(&text, now),
                    None => s.shutdown(
                        bad_response("relay sent a binary frame; the protocol is text"),
                        4002,
                    ),
                };
                effects.extend(s.flush(now));
                effects
            };
            run(effects);
        }
    });
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new({
        let weak = weak.clone();
        move |event: CloseEvent| {
            let Some(shared) = weak.upgrade() else { return };
            let effects = {
                let mut s = shared.borrow_mut();
                let reason = event.reason();
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                };
                let error = ClientError::new(
                    codes::CONNECTION,
                    format!(
                        "connection to {} closed (code {}{reason})",
                        s.url,
                        event.code()
                    ),
                );
                s.shutdown(error, 1000)
            };
            run(effects);
        }
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    shared.borrow_mut().handlers = Some(Handlers {
        _open: on_open,
        _message: on_message,
        _close: on_close,
    });

    let _timer = Timer::new(connect_timeout, {
        let weak = weak.clone();
        move || {
            let Some(shared) = weak.upgrade() else { return };
            let error = ClientError::new(
                codes::TIMEOUT,
                format!("no connection within {connect_timeout} ms"),
            );
            let effects = shared.borrow_mut().shutdown(error, 1000);
            run(effects);
        }
    });
    match rx.await {
        Some(Ok(())) => Ok(shared),
        Some(Err(e)) => Err(e),
        None => Err(connection_lost()),
    }
}

/// Runs `hook` once when the connection ends (later, if it already has).
pub(super) fn add_close_hook(conn: &Connection, hook: CloseHook) {
    let mut s = conn.borrow_mut();
    match s.core.closed().cloned() {
        None => s.close_callbacks.push(hook),
        Some(error) => {
            // Later, never inside this call (as for a connection that closes later).
            wasm_bindgen_futures::spawn_local(
                async move { run(vec![Effect::Closed(hook, error)]) },
            );
        }
    }
}

/// Closes the connection; pending requests fail and close hooks run.
pub(super) fn close_connection(conn: &Connection, why: &str) {
    let effects = conn
        .borrow_mut()
        .shutdown(ClientError::new(codes::CONNECTION, why), 1000);
    run(effects);
}

/// Whether `subscription` is live on this connection.
pub(super) fn is_subscribed(conn: &Connection, subscription: u64) -> bool {
    conn.borrow().core.is_subscribed(subscription)
}

/// Whether the connection is open.
pub(super) fn is_open(conn: &Connection) -> bool {
    matches!(conn.borrow().phase, Phase::Open)
}

/// The connection's WebSocket URL.
pub(super) fn url_of(conn: &Connection) -> String {
    conn.borrow().url.clone()
}

/// A submit request for a transaction whose signature verifies: a relay
/// would reject it anyway, and failing here names the real problem.
pub(crate) fn submit_request(tx: &SignedTransaction) -> Result<Request, ClientError> {
    let tx = tx.inner().clone();
    match tx.verify_signature() {
        Ok(()) => Ok(Request::Submit(Box::new(tx))),
        Err(e) => Err(ClientError::new(codes::INVALID_TRANSACTION, e.to_string())),
    }
}

pub(super) fn parse_tx_id(id: &str) -> Result<TxId, ClientError> {
    id.parse().map_err(|e: ruv_protocol::tx::TxIdParseError| {
        ClientError::new(api::codes::INVALID_TRANSACTION_ID, e.to_string())
    })
}

pub(super) fn subscription_id(value: f64) -> Result<u64, ClientError> {
    if value.fract() != 0.0 || !(0.0..=MAX_SAFE_INTEGER as f64).contains(&value) {
        return Err(ClientError::new(
            codes::INVALID_PARAMS,
            "a subscription id is a non-negative integer",
        ));
    }
    Ok(value as u64)
}

pub(super) fn parse_timeout(value: Option<f64>, default: u64) -> Result<u64, ClientError> {
    match value {
        None => Ok(default),
        Some(v) if v.is_finite() && v >= 0.0 => Ok(v as u64),
        Some(_) => Err(ClientError::new(
            codes::INVALID_PARAMS,
            "a timeout must be a non-negative number of milliseconds",
        )),
    }
}

/// A connection to one relay over its WebSocket API.
///
/// Every method returns a Promise; failures are `RuvError`s with a `code`:
/// the relay's own codes pass through, `connection` when the connection is
/// lost, `timeout` when an answer is late, `bad_relay_response` when the
/// relay's answer does not parse or does not match the question (the
/// account asked for, the locally computed transaction id).
#[wasm_bindgen]
pub struct RelayClient {
    shared: Connection,
}

#[wasm_bindgen]
impl RelayClient {
    /// Connects to a relay: a `ws(s)://` URL of `/api/v1/ws`, or an
    /// `http(s)://` base URL from which that is derived.
    #[wasm_bindgen(unchecked_return_type = "Promise<RelayClient>")]
    pub fn connect(url: String, options: Option<ConnectOptionsJs>) -> Promise {
        let options = options.map_or(JsValue::UNDEFINED, JsValue::from);
        future_to_promise(async move {
            let timeouts = parse_options(options)?;
            let shared = connect_to(&url, timeouts).await?;
            Ok(RelayClient { shared }.into())
        })
    }

    /// The WebSocket URL in use.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        url_of(&self.shared)
    }

    /// Whether the connection is open.
    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        is_open(&self.shared)
    }

    /// The relay's network status (chain id, fee schedule, faucet, ...).
    #[wasm_bindgen(js_name = networkStatus, unchecked_return_type = "Promise<NetworkStatus>")]
    pub fn network_status(&self) -> Promise {
        self.call(Ok(Request::NetworkStatus))
    }

    /// Balance and nonce of an account.
    #[wasm_bindgen(js_name = getAccount, unchecked_return_type = "Promise<AccountInfo>")]
    pub fn get_account(&self, address: String) -> Promise {
        self.call(parse_address(&address).map(Request::GetAccount))
    }

    /// Submits a signed transaction. Resolves to its first status (usually
    /// `pending`), whose id the client has checked against the local id.
    #[wasm_bindgen(unchecked_return_type = "Promise<TxStatus>")]
    pub fn submit(&self, tx: &SignedTransaction) -> Promise {
        self.call(submit_request(tx))
    }

    /// The status of a transaction by id (64 hex digits).
    #[wasm_bindgen(js_name = getTransaction, unchecked_return_type = "Promise<TxStatus>")]
    pub fn get_transaction(&self, id: String) -> Promise {
        self.call(parse_tx_id(&id).map(Request::GetTransaction))
    }

    /// Resolves with the transaction's final status (`accepted` or
    /// `rejected`), rejects with `timeout` after `timeoutMs` (default 60 s).
    #[wasm_bindgen(js_name = waitForFinal, unchecked_return_type = "Promise<TxStatus>")]
    pub fn wait_for_final(
        &self,
        id: String,
        #[wasm_bindgen(js_name = "timeoutMs")] timeout_ms: Option<f64>,
    ) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let id = parse_tx_id(&id)?;
            let timeout = parse_timeout(timeout_ms, DEFAULT_FINAL_TIMEOUT_MS)?;
            let status = wait_for_final(shared, id, timeout).await?;
            Ok(to_js(&status)?)
        })
    }

    /// Calls `callback` with every change of the account's balance or nonce.
    /// Resolves to the subscription id.
    #[wasm_bindgen(js_name = subscribeAccount, unchecked_return_type = "Promise<number>")]
    pub fn subscribe_account(
        &self,
        address: String,
        #[wasm_bindgen(unchecked_param_type = "(event: AccountEvent) => void")] callback: Function,
    ) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let target = Target::Account(parse_address(&address)?);
            Ok(JsValue::from_f64(
                subscribe(shared, target, Sink::Js(callback)).await? as f64,
            ))
        })
    }

    /// Calls `callback` with every status change of a transaction until it is
    /// final (the subscription then ends by itself). Resolves to the
    /// subscription id.
    #[wasm_bindgen(js_name = subscribeTransaction, unchecked_return_type = "Promise<number>")]
    pub fn subscribe_transaction(
        &self,
        id: String,
        #[wasm_bindgen(unchecked_param_type = "(event: TransactionEvent) => void")]
        callback: Function,
    ) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let target = Target::Transaction(parse_tx_id(&id)?);
            Ok(JsValue::from_f64(
                subscribe(shared, target, Sink::Js(callback)).await? as f64,
            ))
        })
    }

    /// Ends a subscription; no event reaches its callback after this call.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn unsubscribe(&self, subscription: f64) -> Promise {
        self.call(subscription_id(subscription).map(Request::Unsubscribe))
    }

    /// Registers `callback` to run once when the connection ends, with the
    /// reason as a `RuvError` (at once, asynchronously, if it already has).
    #[wasm_bindgen(js_name = onClose)]
    pub fn on_close(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(error: RuvError) => void")] callback: Function,
    ) {
        add_close_hook(&self.shared, CloseHook::Js(callback));
    }

    /// Closes the connection; pending requests fail with `connection`.
    pub fn close(&self) {
        close_connection(&self.shared, "closed by the client");
    }
}

impl RelayClient {
    /// Sends a request (or rejects with the input error) and answers it as JS.
    fn call(&self, request: Result<Request, ClientError>) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let reply = self::request(shared, request?, None).await?;
            Ok(reply_to_js(reply)?)
        })
    }
}
