//! `RelayPool`: one connection at a time to one of several relays, driven by
//! [`PoolCore`]. When the connection is lost it moves on to the next relay
//! (backoff with jitter once every relay has failed in a row), subscribes
//! again, and retries the request that was cut off.

use super::backoff::Backoff;
use super::client::{
    add_close_hook, close_connection, connect_to, connection_lost, is_open, is_subscribed,
    parse_options, parse_timeout, parse_tx_id, reply_to_js, request, submit_request, subscribe,
    subscription_id, to_js, url_of, wait_for_final, CloseHook, ConnectOptionsJs, Connection, Sink,
    Timeouts, Timer, DEFAULT_FINAL_TIMEOUT_MS,
};
use super::core::{Reply, Request, Target};
use super::oneshot;
use super::pool::PoolCore;
use crate::error::{codes, ClientError};
use crate::keys::SignedTransaction;
use crate::transfer::parse_address;
use js_sys::{Function, Promise};
use ruv_protocol::api::{self, WsEvent};
use ruv_protocol::TxId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};

type ConnSlot = Rc<RefCell<Option<oneshot::Sender<Result<Connection, ClientError>>>>>;

struct PoolState {
    core: PoolCore,
    timeouts: Timeouts,
    current: Option<Connection>,
    /// Counts connections, so a late close hook of an old one is ignored.
    generation: u64,
    /// Pool subscription id -> the relay's id for it on the current connection.
    relay_subs: HashMap<u64, u64>,
    callbacks: HashMap<u64, Callback>,
    /// Requests waiting for a connection.
    waiters: Vec<ConnSlot>,
    status_callbacks: Vec<Function>,
    retry: Option<Timer>,
    /// An attempt to connect is under way (at most one at a time).
    connecting: bool,
    closed: bool,
}

type Pool = Rc<RefCell<PoolState>>;

/// Who hears a pool subscription's events.
#[derive(Clone)]
enum Callback {
    /// A JavaScript callback (`subscribeAccount` and friends).
    Js(Function),
    /// Rust code inside this crate (the light client).
    Rust(Rc<dyn Fn(&WsEvent)>),
}

impl Drop for PoolState {
    fn drop(&mut self) {
        if let Some(conn) = self.current.take() {
            close_connection(&conn, "relay pool dropped");
        }
    }
}

fn random_u32() -> u32 {
    // Jitter only: a failed random source just means no jitter.
    crate::error::random_bytes::<4>()
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

fn take_slot(slot: &ConnSlot, value: Result<Connection, ClientError>) {
    let sender = slot.borrow_mut().take();
    if let Some(tx) = sender {
        tx.send(value);
    }
}

/// Tells `onStatus` callbacks about a connection change.
fn notify(pool: &Pool, connected: bool, url: &str, error: Option<ClientError>) {
    let callbacks = pool.borrow().status_callbacks.clone();
    if callbacks.is_empty() {
        return;
    }
    let status = js_sys::Object::new();
    // Setting properties on a fresh plain object cannot fail.
    let _ = js_sys::Reflect::set(&status, &"connected".into(), &connected.into());
    let _ = js_sys::Reflect::set(&status, &"url".into(), &url.into());
    if let Some(e) = error {
        let _ = js_sys::Reflect::set(&status, &"error".into(), &e.into());
    }
    for f in callbacks {
        if let Err(e) = f.call1(&JsValue::NULL, &status) {
            web_sys::console::error_2(&"ruv-client: onStatus callback threw".into(), &e);
        }
    }
}

/// Tries the current candidate relay once.
async fn attempt(pool: Pool) {
    let (url, timeouts) = {
        let mut p = pool.borrow_mut();
        if p.closed || p.current.is_some() || p.connecting {
            return;
        }
        p.connecting = true;
        p.retry = None;
        (p.core.candidate().to_owned(), p.timeouts)
    };
    let result = connect_to(&url, timeouts).await;
    pool.borrow_mut().connecting = false;
    match result {
        Ok(conn) => install(&pool, conn).await,
        Err(e) => {
            let delay = pool.borrow_mut().core.failed(random_u32());
            notify(&pool, false, &url, Some(e));
            schedule(&pool, delay);
        }
    }
}

fn schedule(pool: &Pool, delay_ms: u64) {
    if pool.borrow().closed {
        return;
    }
    let weak = Rc::downgrade(pool);
    let timer = Timer::new(delay_ms, move || {
        if let Some(pool) = weak.upgrade() {
            spawn_local(attempt(pool));
        }
    });
    pool.borrow_mut().retry = Some(timer);
}

/// Makes `conn` the pool's connection: wakes waiting requests, then
/// subscribes again to everything the pool follows.
async fn install(pool: &Pool, conn: Connection) {
    let generation = {
        let mut p = pool.borrow_mut();
        if p.closed {
            drop(p);
            close_connection(&conn, "relay pool closed");
            return;
        }
        p.core.connected();
        p.current = Some(conn.clone());
        p.generation += 1;
        p.relay_subs.clear();
        p.generation
    };
    let weak = Rc::downgrade(pool);
    add_close_hook(
        &conn,
        CloseHook::Rust(Box::new(move |error| lost(&weak, generation, error))),
    );
    let waiters = std::mem::take(&mut pool.borrow_mut().waiters);
    for slot in waiters {
        take_slot(&slot, Ok(conn.clone()));
    }
    notify(pool, true, &url_of(&conn), None);
    let targets: Vec<(u64, Target)> = pool
        .borrow()
        .core
        .subscriptions()
        .map(|(id, s)| (id, s.target))
        .collect();
    for (id, target) in targets {
        if let Err(e) = follow(pool, &conn, id, target).await {
            web_sys::console::warn_1(
                &format!("ruv-client: resubscribing {id}: {} ({})", e.message, e.code).into(),
            );
        }
    }
}

/// The connection of generation `generation` ended.
fn lost(weak: &Weak<RefCell<PoolState>>, generation: u64, error: ClientError) {
    let Some(pool) = weak.upgrade() else { return };
    let (url, delay) = {
        let mut p = pool.borrow_mut();
        if p.closed || p.generation != generation {
            return;
        }
        p.current = None;
        p.relay_subs.clear();
        let url = p.core.candidate().to_owned();
        (url, p.core.failed(random_u32()))
    };
    notify(&pool, false, &url, Some(error));
    schedule(&pool, delay);
}

/// Subscribes pool subscription `id` on `conn`.
async fn follow(
    pool: &Pool,
    conn: &Connection,
    id: u64,
    target: Target,
) -> Result<(), ClientError> {
    let weak = Rc::downgrade(pool);
    let sink = Sink::Rust(Rc::new(move |event: WsEvent| route(&weak, id, event)));
    let relay_sub = subscribe(conn.clone(), target, sink).await?;
    let mut p = pool.borrow_mut();
    let same_connection = p.current.as_ref().is_some_and(|c| Rc::ptr_eq(c, conn));
    if p.core.is_subscribed(id) && same_connection {
        p.relay_subs.insert(id, relay_sub);
    } else if is_subscribed(conn, relay_sub) {
        // Unsubscribed (or ended) while the relay was answering: release its slot.
        let conn = conn.clone();
        spawn_local(async move {
            let _ = request(conn, Request::Unsubscribe(relay_sub), None).await;
        });
    }
    Ok(())
}

/// Delivers an event to pool subscription `id`'s callback.
fn route(weak: &Weak<RefCell<PoolState>>, id: u64, event: WsEvent) {
    let Some(pool) = weak.upgrade() else { return };
    let callback = {
        let mut p = pool.borrow_mut();
        if !p.core.on_event(id, &event) {
            return;
        }
        let callback = p.callbacks.get(&id).cloned();
        if !p.core.is_subscribed(id) {
            p.callbacks.remove(&id);
            p.relay_subs.remove(&id);
        }
        callback
    };
    match callback {
        Some(Callback::Js(f)) => {
            if let Ok(value) = to_js(&event) {
                if let Err(e) = f.call1(&JsValue::NULL, &value) {
                    web_sys::console::error_2(
                        &"ruv-client: subscription callback threw".into(),
                        &e,
                    );
                }
            }
        }
        Some(Callback::Rust(f)) => f(&event),
        None => {}
    }
}

/// The open connection, waiting (at most the request timeout) for one.
async fn current(pool: &Pool) -> Result<Connection, ClientError> {
    let (waiting, timeout) = {
        let mut p = pool.borrow_mut();
        if p.closed {
            return Err(ClientError::new(
                codes::CONNECTION,
                "the relay pool is closed",
            ));
        }
        if let Some(conn) = p.current.as_ref().filter(|c| is_open(c)) {
            return Ok(conn.clone());
        }
        let (tx, rx) = oneshot::channel();
        let slot: ConnSlot = Rc::new(RefCell::new(Some(tx)));
        p.waiters.push(slot.clone());
        ((slot, rx), p.timeouts.request_ms)
    };
    let (slot, rx) = waiting;
    let _timer = Timer::new(timeout, move || {
        let error = ClientError::new(
            codes::CONNECTION,
            format!("no relay reachable within {timeout} ms"),
        );
        take_slot(&slot, Err(error));
    });
    rx.await.unwrap_or_else(|| Err(connection_lost()))
}

/// A request, retried once on a new connection if the first one was lost.
async fn call(pool: &Pool, req: Request) -> Result<Reply, ClientError> {
    let mut last = connection_lost();
    for _ in 0..2 {
        let conn = current(pool).await?;
        match request(conn.clone(), req.clone(), None).await {
            Err(e) if e.code == codes::CONNECTION => last = e,
            // A retried submission the relay already has: report its status.
            Err(e) if e.code == api::codes::DUPLICATE_TRANSACTION => {
                let Request::Submit(tx) = &req else {
                    return Err(e);
                };
                return request(conn, Request::GetTransaction(tx.id()), None).await;
            }
            other => return other,
        }
    }
    Err(last)
}

async fn add_subscription(
    pool: Pool,
    target: Target,
    callback: Callback,
) -> Result<u64, ClientError> {
    let (id, conn) = {
        let mut p = pool.borrow_mut();
        if p.closed {
            return Err(ClientError::new(
                codes::CONNECTION,
                "the relay pool is closed",
            ));
        }
        if p.core.subscriptions().count() >= api::limits::MAX_SUBSCRIPTIONS_PER_CONNECTION {
            return Err(ClientError::new(
                api::codes::TOO_MANY_SUBSCRIPTIONS,
                format!(
                    "a relay pool holds at most {} subscriptions",
                    api::limits::MAX_SUBSCRIPTIONS_PER_CONNECTION
                ),
            ));
        }
        let id = p.core.subscribe(target);
        p.callbacks.insert(id, callback);
        (id, p.current.clone())
    };
    if let Some(conn) = conn {
        match follow(&pool, &conn, id, target).await {
            // Lost connection: the next one subscribes again.
            Err(e) if e.code != codes::CONNECTION && e.code != codes::TIMEOUT => {
                let mut p = pool.borrow_mut();
                p.core.unsubscribe(id);
                p.callbacks.remove(&id);
                return Err(e);
            }
            _ => {}
        }
    }
    Ok(id)
}

/// Connects to the first reachable relay of `urls` (tried in order).
pub(crate) async fn connect_pool(
    urls: &[String],
    timeouts: Timeouts,
) -> Result<PoolHandle, ClientError> {
    let core = PoolCore::new(urls, Backoff::default())?;
    let relays = core.urls().len();
    let pool: Pool = Rc::new(RefCell::new(PoolState {
        core,
        timeouts,
        current: None,
        generation: 0,
        relay_subs: HashMap::new(),
        callbacks: HashMap::new(),
        waiters: Vec::new(),
        status_callbacks: Vec::new(),
        retry: None,
        connecting: false,
        closed: false,
    }));
    let mut errors = Vec::new();
    for _ in 0..relays {
        let url = pool.borrow().core.candidate().to_owned();
        match connect_to(&url, timeouts).await {
            Ok(conn) => {
                install(&pool, conn).await;
                return Ok(PoolHandle(pool));
            }
            Err(e) => {
                pool.borrow_mut().core.failed(random_u32());
                errors.push(format!("{url}: {}", e.message));
            }
        }
    }
    pool.borrow_mut().closed = true;
    Err(ClientError::new(
        codes::CONNECTION,
        format!("no relay reachable ({})", errors.join("; ")),
    ))
}

/// The pool as Rust code inside this crate uses it (the light client):
/// typed requests and replies, Rust callbacks.
#[derive(Clone)]
pub(crate) struct PoolHandle(Pool);

impl PoolHandle {
    /// A request on the current relay (retried once on a new connection if
    /// the first one was lost).
    pub(crate) async fn call(&self, request: Request) -> Result<Reply, ClientError> {
        call(&self.0, request).await
    }

    /// A pool subscription whose events go to `callback`.
    pub(crate) async fn subscribe(
        &self,
        target: Target,
        callback: Rc<dyn Fn(&WsEvent)>,
    ) -> Result<u64, ClientError> {
        add_subscription(self.0.clone(), target, Callback::Rust(callback)).await
    }

    /// The relay in use, if connected.
    pub(crate) fn url(&self) -> Option<String> {
        self.0
            .borrow()
            .current
            .as_ref()
            .filter(|c| is_open(c))
            .map(url_of)
    }

    /// The relays, in rotation order.
    pub(crate) fn relays(&self) -> Vec<String> {
        self.0.borrow().core.urls().to_vec()
    }

    /// Drops the current relay (it lied, or stalls) and moves on to the next.
    pub(crate) fn skip_current(&self) {
        RelayPool {
            pool: self.0.clone(),
        }
        .reconnect_inner();
    }

    /// Closes the pool for good.
    pub(crate) fn close(&self) {
        RelayPool {
            pool: self.0.clone(),
        }
        .close_inner();
    }
}

/// Connections to several relays, one at a time, with failover.
///
/// Same calls as `RelayClient`, but a lost connection is not the end: the
/// pool moves to the next relay (immediately while untried relays remain,
/// then with growing jittered delays), subscribes again to everything it
/// follows (callbacks see the relay's current state, repeats dropped), and
/// retries a request once if its connection was lost. Requests made while no
/// relay is reachable wait up to the request timeout, then fail with
/// `connection`.
#[wasm_bindgen]
pub struct RelayPool {
    pool: Pool,
}

#[wasm_bindgen]
impl RelayPool {
    /// Connects to the first reachable relay of `urls` (tried in order);
    /// rejects with `connection` if none answers.
    #[wasm_bindgen(unchecked_return_type = "Promise<RelayPool>")]
    pub fn connect(urls: Vec<String>, options: Option<ConnectOptionsJs>) -> Promise {
        let options = options.map_or(JsValue::UNDEFINED, JsValue::from);
        future_to_promise(async move {
            let timeouts = parse_options(options)?;
            let pool = connect_pool(&urls, timeouts).await?;
            Ok(RelayPool { pool: pool.0 }.into())
        })
    }

    /// The relays, normalized, in rotation order.
    #[wasm_bindgen(getter)]
    pub fn relays(&self) -> Vec<String> {
        self.pool.borrow().core.urls().to_vec()
    }

    /// The relay in use, if connected.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> Option<String> {
        self.pool
            .borrow()
            .current
            .as_ref()
            .filter(|c| is_open(c))
            .map(url_of)
    }

    /// Whether a relay connection is open.
    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.url().is_some()
    }

    /// See `RelayClient.networkStatus`.
    #[wasm_bindgen(js_name = networkStatus, unchecked_return_type = "Promise<NetworkStatus>")]
    pub fn network_status(&self) -> Promise {
        self.call(Ok(Request::NetworkStatus))
    }

    /// See `RelayClient.getAccount`.
    #[wasm_bindgen(js_name = getAccount, unchecked_return_type = "Promise<AccountInfo>")]
    pub fn get_account(&self, address: String) -> Promise {
        self.call(parse_address(&address).map(Request::GetAccount))
    }

    /// See `RelayClient.submit`. Retried on the next relay if the connection
    /// is lost before the answer (the relay reports a known transaction's status).
    #[wasm_bindgen(unchecked_return_type = "Promise<TxStatus>")]
    pub fn submit(&self, tx: &SignedTransaction) -> Promise {
        self.call(submit_request(tx))
    }

    /// See `RelayClient.getTransaction`.
    #[wasm_bindgen(js_name = getTransaction, unchecked_return_type = "Promise<TxStatus>")]
    pub fn get_transaction(&self, id: String) -> Promise {
        self.call(parse_tx_id(&id).map(Request::GetTransaction))
    }

    /// See `RelayClient.waitForFinal`; keeps waiting across relay changes.
    #[wasm_bindgen(js_name = waitForFinal, unchecked_return_type = "Promise<TxStatus>")]
    pub fn wait_for_final(
        &self,
        id: String,
        #[wasm_bindgen(js_name = "timeoutMs")] timeout_ms: Option<f64>,
    ) -> Promise {
        let pool = self.pool.clone();
        future_to_promise(async move {
            let id: TxId = parse_tx_id(&id)?;
            let timeout = parse_timeout(timeout_ms, DEFAULT_FINAL_TIMEOUT_MS)?;
            let deadline = super::client::now_ms() + timeout;
            loop {
                let conn = current(&pool).await?;
                let remaining = deadline.saturating_sub(super::client::now_ms());
                if remaining == 0 {
                    return Err(ClientError::new(
                        codes::TIMEOUT,
                        format!("transaction {id} was not final within {timeout} ms"),
                    )
                    .into());
                }
                match wait_for_final(conn, id, remaining).await {
                    Err(e) if e.code == codes::CONNECTION => continue,
                    result => return Ok(to_js(&result?)?),
                }
            }
        })
    }

    /// See `RelayClient.subscribeAccount`; the subscription survives relay
    /// changes. Resolves to the pool's subscription id.
    #[wasm_bindgen(js_name = subscribeAccount, unchecked_return_type = "Promise<number>")]
    pub fn subscribe_account(
        &self,
        address: String,
        #[wasm_bindgen(unchecked_param_type = "(event: AccountEvent) => void")] callback: Function,
    ) -> Promise {
        let pool = self.pool.clone();
        future_to_promise(async move {
            let target = Target::Account(parse_address(&address)?);
            Ok(JsValue::from_f64(
                add_subscription(pool, target, Callback::Js(callback)).await? as f64,
            ))
        })
    }

    /// See `RelayClient.subscribeTransaction`; survives relay changes and
    /// ends at the final status.
    #[wasm_bindgen(js_name = subscribeTransaction, unchecked_return_type = "Promise<number>")]
    pub fn subscribe_transaction(
        &self,
        id: String,
        #[wasm_bindgen(unchecked_param_type = "(event: TransactionEvent) => void")]
        callback: Function,
    ) -> Promise {
        let pool = self.pool.clone();
        future_to_promise(async move {
            let target = Target::Transaction(parse_tx_id(&id)?);
            Ok(JsValue::from_f64(
                add_subscription(pool, target, Callback::Js(callback)).await? as f64,
            ))
        })
    }

    /// Ends a pool subscription; no event reaches its callback after this call.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn unsubscribe(&self, subscription: f64) -> Promise {
        let pool = self.pool.clone();
        future_to_promise(async move {
            let id = subscription_id(subscription)?;
            let relay = {
                let mut p = pool.borrow_mut();
                if !p.core.unsubscribe(id) {
                    return Err(ClientError::new(
                        codes::INVALID_PARAMS,
                        format!("no subscription {id} in this pool"),
                    )
                    .into());
                }
                p.callbacks.remove(&id);
                p.relay_subs.remove(&id).zip(p.current.clone())
            };
            if let Some((relay_sub, conn)) = relay {
                if is_subscribed(&conn, relay_sub) {
                    // Best effort: the pool already forgot it; the relay's slot is what is freed here.
                    let _ = request(conn, Request::Unsubscribe(relay_sub), None).await;
                }
            }
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Calls `callback({connected, url, error?})` on every connection change.
    #[wasm_bindgen(js_name = onStatus)]
    pub fn on_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: PoolStatus) => void")] callback: Function,
    ) {
        self.pool.borrow_mut().status_callbacks.push(callback);
    }

    /// Drops the current connection and moves on to the next relay.
    pub fn reconnect(&self) {
        self.reconnect_inner();
    }

    /// Closes the pool for good; waiting and later calls fail with `connection`.
    pub fn close(&self) {
        self.close_inner();
    }
}

impl RelayPool {
    fn reconnect_inner(&self) {
        let conn = self.pool.borrow().current.clone();
        match conn {
            Some(conn) => close_connection(&conn, "switching relay"),
            None => {
                let pool = self.pool.clone();
                spawn_local(attempt(pool));
            }
        }
    }

    fn close_inner(&self) {
        let (conn, waiters) = {
            let mut p = self.pool.borrow_mut();
            p.closed = true;
            p.retry = None;
            (p.current.take(), std::mem::take(&mut p.waiters))
        };
        for slot in waiters {
            take_slot(
                &slot,
                Err(ClientError::new(
                    codes::CONNECTION,
                    "the relay pool is closed",
                )),
            );
        }
        if let Some(conn) = conn {
            close_connection(&conn, "closed by the client");
        }
    }
}

impl RelayPool {
    fn call(&self, request: Result<Request, ClientError>) -> Promise {
        let pool = self.pool.clone();
        future_to_promise(async move {
            let reply = call(&pool, request?).await?;
            Ok(reply_to_js(reply)?)
        })
    }
}
