//! `LightClient`: a relay pool whose every answer is verified before the
//! caller sees it. The verification is [`core::LightCore`] (pure, tested
//! natively); this file is the browser driver: it asks relays through a
//! [`crate::relay::PoolHandle`], hands answers to the core, drops a relay that
//! lies and asks the next one.
//!
//! What a caller gets is true or an error, never an unchecked number:
//! - `account(address)` resolves only with a balance and nonce proven
//!   against a checkpoint that validators holding more than 2/3 of the
//!   stake signed, with that checkpoint's number and age;
//! - `waitForFinal(id)` resolves only with a verified inclusion proof, or a
//!   verified proof that another transaction used the same nonce;
//! - `submit(tx)` returns the relay's first status, which is *not* verified
//!   (a relay can always claim "pending"): use `waitForFinal`;
//! - `history(address)` resolves only with entries whose inclusion proofs
//!   verified against certified checkpoints of any age (see
//!   [`core`]'s History section); a page with one bad entry is a lie.

pub mod core;

use crate::error::{codes, ClientError};
use crate::keys::SignedTransaction;
use crate::relay::core::{Reply, Request, Target};
use crate::relay::{connect_pool, now_ms, PoolHandle, Timeouts, Timer};
use crate::transfer::parse_address;
use core::{CheckpointNews, LightCore, Verdict, DEFAULT_STALE_AFTER_MS};
use js_sys::{Function, Promise};
use ruv_protocol::api::{self, WsEvent};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::light::{TrustAnchor, VerifyError};
use ruv_protocol::TxId;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};

/// Default time `LightClient.connect` waits for the first verified checkpoint.
pub const DEFAULT_READY_TIMEOUT_MS: u64 = 15_000;
/// Default time `waitForFinal` waits.
pub const DEFAULT_FINAL_TIMEOUT_MS: u64 = 60_000;
/// Without a new checkpoint event, `waitForFinal` asks again after this long.
const FINAL_POLL_MS: u64 = 1_000;
/// `connect` waits this long for the checkpoint the subscription pushes
/// before asking for one.
const PUSHED_CHECKPOINT_WAIT_MS: u64 = 1_000;
/// `waitForFinal` looks for a proof that another transaction took the nonce
/// only after this long (most transactions are simply final by then).
const REJECTION_CHECK_AFTER_MS: u64 = 1_500;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LightOptions {
    /// The network's genesis file as text: the trust anchor.
    genesis: String,
    /// A certified checkpoint stored earlier (verified again before use).
    #[serde(default)]
    checkpoint: Option<CertifiedCheckpoint>,
    #[serde(default)]
    stale_after_ms: Option<f64>,
    #[serde(default)]
    request_timeout_ms: Option<f64>,
    #[serde(default)]
    connect_timeout_ms: Option<f64>,
    #[serde(default)]
    ready_timeout_ms: Option<f64>,
}

fn verification_failed(error: &VerifyError) -> ClientError {
    ClientError::new(api::codes::VERIFICATION_FAILED, error.to_string())
}

fn millis(value: Option<f64>, default: u64, what: &str) -> Result<u64, ClientError> {
    match value {
        None => Ok(default),
        Some(v) if (1.0..=86_400_000.0).contains(&v) => Ok(v as u64),
        Some(_) => Err(ClientError::new(
            codes::INVALID_PARAMS,
            format!("{what} must be 1 to 86400000 ms"),
        )),
    }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, ClientError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ClientError::new(codes::INVALID_PARAMS, e.to_string()))?;
    js_sys::JSON::parse(&text)
        .map_err(|_| ClientError::new(codes::INVALID_PARAMS, "cannot convert to JavaScript"))
}

/// Resolves after `ms` milliseconds, or earlier when `wake` fires.
async fn sleep_or_wake(state: &State, ms: u64) {
    let (tx, rx) = crate::relay::oneshot_channel::<()>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let timer_tx = tx.clone();
    let _timer = Timer::new(ms, move || {
        if let Some(tx) = timer_tx.borrow_mut().take() {
            tx.send(());
        }
    });
    state.borrow_mut().wakers.push(tx);
    let _ = rx.await;
}

type Waker = Rc<RefCell<Option<crate::relay::OneshotSender<()>>>>;

struct Inner {
    core: LightCore,
    pool: PoolHandle,
    checkpoint_callbacks: Vec<Function>,
    /// Relays dropped for a defective answer, with why (newest last).
    dropped: Vec<(String, String)>,
    /// Woken when a new checkpoint is verified.
    wakers: Vec<Waker>,
    stale_after_ms: u64,
    closed: bool,
    /// A relay's checkpoint verified since `connect` (not just a stored one).
    heard: bool,
}

type State = Rc<RefCell<Inner>>;

/// Why the current relay is being dropped.
fn drop_relay(state: &State, why: &str) {
    let pool = state.borrow().pool.clone();
    let url = pool.url().unwrap_or_default();
    web_sys::console::warn_1(&format!("ruv-client: dropping relay {url}: {why}").into());
    {
        let mut s = state.borrow_mut();
        s.dropped.push((url, why.to_owned()));
        if s.dropped.len() > 64 {
            s.dropped.remove(0);
        }
    }
    pool.skip_current();
}

/// Hands a certified checkpoint to the core; tells listeners about a new one.
fn accept_checkpoint(state: &State, certified: &CertifiedCheckpoint) -> Result<(), VerifyError> {
    let relay = state.borrow().pool.url().unwrap_or_default();
    let news = state.borrow_mut().core.on_checkpoint(&relay, certified)?;
    state.borrow_mut().heard = true;
    match news {
        CheckpointNews::Newer => {
            let (callbacks, wakers, freshness) = {
                let mut s = state.borrow_mut();
                (
                    s.checkpoint_callbacks.clone(),
                    std::mem::take(&mut s.wakers),
                    s.core.freshness(now_ms()),
                )
            };
            for waker in wakers {
                if let Some(tx) = waker.borrow_mut().take() {
                    tx.send(());
                }
            }
            if let Some(Ok(value)) = freshness.map(|f| to_js(&f)) {
                for f in callbacks {
                    if let Err(e) = f.call1(&JsValue::NULL, &value) {
                        web_sys::console::error_2(
                            &"ruv-client: onCheckpoint callback threw".into(),
                            &e,
                        );
                    }
                }
            }
        }
        CheckpointNews::Equivocation => {
            web_sys::console::error_1(
                &format!(
                    "ruv-client: two certified checkpoints with number {} (equivocation evidence kept)",
                    certified.header.number
                )
                .into(),
            );
        }
        CheckpointNews::NotNewer => {
            // `connect` may be waiting for any verified checkpoint.
            let wakers = std::mem::take(&mut state.borrow_mut().wakers);
            for waker in wakers {
                if let Some(tx) = waker.borrow_mut().take() {
                    tx.send(());
                }
            }
        }
    }
    Ok(())
}

/// Asks relays (dropping liars) until one answers `request` with something
/// `check` accepts; fetches and verifies checkpoints proofs refer to.
async fn verified<T>(
    state: &State,
    request: Request,
    check: impl Fn(&LightCore, Reply) -> Result<T, Verdict>,
) -> Result<T, ClientError> {
    verified_against(state, request, check, Needed::Recent).await
}

/// Where a checkpoint a proof names goes once verified.
#[derive(Clone, Copy)]
enum Needed {
    /// The window of recent checkpoints (state proofs).
    Recent,
    /// The historic store when older than the newest verified checkpoint
    /// (inclusion and history proofs, of any age); the window when newer.
    Historic,
}

async fn verified_against<T>(
    state: &State,
    request: Request,
    check: impl Fn(&LightCore, Reply) -> Result<T, Verdict>,
    needed: Needed,
) -> Result<T, ClientError> {
    let attempts = state.borrow().pool.relays().len() * 2 + 2;
    let mut last = ClientError::new(codes::CONNECTION, "no relay answered");
    for _ in 0..attempts {
        let pool = state.borrow().pool.clone();
        let reply = match pool.call(request.clone()).await {
            Ok(reply) => reply,
            Err(e) if e.code == codes::BAD_RELAY_RESPONSE || e.code == codes::TIMEOUT => {
                drop_relay(state, &e.message);
                last = e;
                continue;
            }
            Err(e) => return Err(e),
        };
        let outcome = check(&state.borrow().core, reply);
        match outcome {
            Ok(value) => return Ok(value),
            Err(Verdict::Lie(error)) => {
                drop_relay(state, &error.to_string());
                last = verification_failed(&error);
            }
            Err(Verdict::Halted(why)) => {
                return Err(ClientError::new(api::codes::VERIFICATION_FAILED, why));
            }
            Err(Verdict::NeedCheckpoint(number)) => {
                match pool.call(Request::GetCheckpoint(Some(number))).await {
                    Ok(Reply::Checkpoint(certified)) => {
                        // A checkpoint newer than the newest verified one is news
                        // either way (it also moves freshness and the proof lag).
                        let newer = state
                            .borrow()
                            .core
                            .latest()
                            .is_none_or(|l| certified.header.number > l.checkpoint.number());
                        let accepted = match needed {
                            Needed::Recent => accept_checkpoint(state, &certified),
                            Needed::Historic if newer => accept_checkpoint(state, &certified),
                            Needed::Historic => {
                                let relay = pool.url().unwrap_or_default();
                                let mut s = state.borrow_mut();
                                s.core
                                    .on_historic_checkpoint(&relay, &certified)
                                    .map(|_| ())
                            }
                        };
                        if let Err(error) = accepted {
                            drop_relay(state, &error.to_string());
                            last = verification_failed(&error);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => last = e,
                }
            }
        }
    }
    Err(last)
}

fn unexpected() -> Verdict {
    Verdict::Lie(VerifyError::Proof(
        "the relay answered another request".into(),
    ))
}

/// A light client: several relays, failover, and every answer verified
/// against the network's genesis.
#[wasm_bindgen]
pub struct LightClient {
    state: State,
}

#[wasm_bindgen]
impl LightClient {
    /// Connects to the first reachable relay of `urls`, subscribes to new
    /// checkpoints and resolves once it holds a verified one. Options:
    /// `genesis` (required: the genesis file's text, the trust anchor),
    /// `checkpoint` (a certified checkpoint stored earlier; verified again),
    /// `staleAfterMs` (default 60000), `requestTimeoutMs`, `connectTimeoutMs`,
    /// `readyTimeoutMs` (default 15000).
    #[wasm_bindgen(unchecked_return_type = "Promise<LightClient>")]
    pub fn connect(
        urls: Vec<String>,
        #[wasm_bindgen(unchecked_param_type = "LightClientOptions")] options: JsValue,
    ) -> Promise {
        future_to_promise(async move {
            let text = js_sys::JSON::stringify(&options)
                .ok()
                .and_then(|t| t.as_string())
                .ok_or_else(|| {
                    ClientError::new(
                        codes::INVALID_PARAMS,
                        "options must be an object with genesis",
                    )
                })?;
            let options: LightOptions = serde_json::from_str(&text)
                .map_err(|e| ClientError::new(codes::INVALID_PARAMS, format!("options: {e}")))?;
            let anchor = TrustAnchor::from_genesis_json(&options.genesis)
                .map_err(|e| verification_failed(&e))?;
            let stale_after = millis(
                options.stale_after_ms,
                DEFAULT_STALE_AFTER_MS,
                "staleAfterMs",
            )?;
            let timeouts = Timeouts {
                request_ms: millis(
                    options.request_timeout_ms,
                    crate::relay::core::DEFAULT_REQUEST_TIMEOUT_MS,
                    "requestTimeoutMs",
                )?,
                connect_ms: millis(
                    options.connect_timeout_ms,
                    crate::relay::DEFAULT_CONNECT_TIMEOUT_MS,
                    "connectTimeoutMs",
                )?,
            };
            let ready_ms = millis(
                options.ready_timeout_ms,
                DEFAULT_READY_TIMEOUT_MS,
                "readyTimeoutMs",
            )?;
            let mut core = LightCore::new(anchor, stale_after);
            if let Some(stored) = &options.checkpoint {
                // A stored checkpoint that no longer verifies is simply not used.
                let _ = core.on_checkpoint("stored", stored);
            }
            let pool = connect_pool(&urls, timeouts).await?;
            let state: State = Rc::new(RefCell::new(Inner {
                core,
                pool: pool.clone(),
                checkpoint_callbacks: Vec::new(),
                dropped: Vec::new(),
                wakers: Vec::new(),
                stale_after_ms: stale_after,
                closed: false,
                heard: false,
            }));
            let weak: Weak<RefCell<Inner>> = Rc::downgrade(&state);
            pool.subscribe(
                Target::Checkpoints,
                Rc::new(move |event: &WsEvent| {
                    let Some(state) = weak.upgrade() else { return };
                    if let WsEvent::Checkpoint(certified) = event {
                        if let Err(error) = accept_checkpoint(&state, certified) {
                            drop_relay(&state, &error.to_string());
                        }
                    }
                }),
            )
            .await?;
            // Ready: the newest checkpoint a relay serves, verified. The
            // subscription pushes it at once; ask for it only if that does
            // not arrive (saves a round trip and a copy of the certificate).
            let deadline = now_ms() + ready_ms;
            let pushed_by = now_ms() + PUSHED_CHECKPOINT_WAIT_MS;
            while !state.borrow().heard && now_ms() < pushed_by {
                sleep_or_wake(&state, pushed_by.saturating_sub(now_ms())).await;
            }
            loop {
                if state.borrow().heard {
                    break;
                }
                match fetch_latest(&state).await {
                    Ok(()) => break,
                    Err(e) if e.code == api::codes::NOT_CERTIFIED => {}
                    Err(e) if state.borrow().core.latest().is_some() => {
                        // A stored checkpoint still counts: the wallet shows it as stale.
                        web_sys::console::warn_1(&format!("ruv-client: {}", e.message).into());
                        break;
                    }
                    Err(e) if now_ms() >= deadline => return Err(e.into()),
                    Err(_) => {}
                }
                if now_ms() >= deadline {
                    return Err(ClientError::new(
                        codes::TIMEOUT,
                        format!("no verified checkpoint within {ready_ms} ms"),
                    )
                    .into());
                }
                sleep_or_wake(&state, 250).await;
            }
            spawn_local(watch_freshness(Rc::downgrade(&state)));
            Ok(LightClient { state }.into())
        })
    }

    /// A verified account: `{address, balance, nonce, checkpoint}` (decimal
    /// strings) plus `checkpointTimeMs`, `ageMs`, `stale`, proven against a
    /// certified checkpoint. Throws `verification_failed` only if every
    /// relay lied.
    #[wasm_bindgen(unchecked_return_type = "Promise<VerifiedAccountState>")]
    pub fn account(&self, address: String) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let address = parse_address(&address)?;
            let account =
                verified(
                    &state,
                    Request::GetAccountProof(address),
                    |core, reply| match reply {
                        Reply::AccountProof(proof) => core.check_account(&proof),
                        _ => Err(unexpected()),
                    },
                )
                .await?;
            let core = &state.borrow().core;
            let header = core
                .checkpoint(account.checkpoint)
                .map(|c| c.header().time_ms)
                .unwrap_or_default();
            let age_ms = now_ms().saturating_sub(header);
            let stale = core.freshness(now_ms()).is_some_and(|f| f.stale)
                || age_ms > DEFAULT_STALE_AFTER_MS;
            Ok(to_js(&AccountState {
                address: account.address.to_string(),
                balance: account.balance.to_string(),
                nonce: account.nonce.to_string(),
                checkpoint: account.checkpoint.to_string(),
                checkpoint_time_ms: header,
                age_ms,
                stale,
            })?)
        })
    }

    /// Submits a signed transaction; resolves with the relay's first status
    /// (not verified: use `waitForFinal`). Remembers the sender and nonce so
    /// that a rejection can be proven.
    #[wasm_bindgen(unchecked_return_type = "Promise<TxStatus>")]
    pub fn submit(&self, tx: &SignedTransaction) -> Promise {
        let state = self.state.clone();
        let request = crate::relay::submit_request_of(tx);
        future_to_promise(async move {
            let request = request?;
            if let Request::Submit(signed) = &request {
                state.borrow_mut().core.remember_submission(
                    signed.id(),
                    signed.transfer.from,
                    signed.transfer.nonce,
                );
            }
            let pool = state.borrow().pool.clone();
            let reply = pool.call(request).await?;
            Ok(crate::relay::reply_to_js_value(reply)?)
        })
    }

    /// Resolves with `{id, status: "final", checkpoint, from, nonce}` once a
    /// verified inclusion proof exists, or `{id, status: "rejected", reason:
    /// "nonce_used", by, checkpoint}` once a verified proof shows another
    /// transaction took its nonce (only for transactions submitted through
    /// this client). Rejects with `timeout` after `timeoutMs` (default 60000).
    #[wasm_bindgen(js_name = waitForFinal, unchecked_return_type = "Promise<VerifiedFinality>")]
    pub fn wait_for_final(
        &self,
        id: String,
        #[wasm_bindgen(js_name = "timeoutMs")] timeout_ms: Option<f64>,
    ) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let id: TxId = id.parse().map_err(|_| {
                ClientError::new(
                    codes::INVALID_PARAMS,
                    "transaction id must be 64 lower-case hex digits",
                )
            })?;
            let timeout = millis(timeout_ms, DEFAULT_FINAL_TIMEOUT_MS, "timeoutMs")?;
            let deadline = now_ms() + timeout;
            loop {
                let included = verified_against(
                    &state,
                    Request::GetTransactionProof(id),
                    |core, reply| match reply {
                        Reply::TransactionProof(proof) => core.check_inclusion(&id, &proof),
                        _ => Err(unexpected()),
                    },
                    Needed::Historic,
                )
                .await;
                match included {
                    Ok(inclusion) => {
                        return Ok(to_js(&Finality {
                            id: id.to_string(),
                            status: "final",
                            checkpoint: inclusion.checkpoint.to_string(),
                            from: Some(inclusion.from.to_string()),
                            nonce: Some(inclusion.nonce.to_string()),
                            reason: None,
                            by: None,
                        })?)
                    }
                    Err(e) if e.code == api::codes::NOT_CERTIFIED => {}
                    Err(e) if e.code == api::codes::VERIFICATION_FAILED => return Err(e.into()),
                    Err(_) => {} // unreachable relays: keep trying until the deadline
                }
                if now_ms() + timeout >= deadline + REJECTION_CHECK_AFTER_MS {
                    if let Some(rejected) = proven_rejection(&state, &id).await {
                        return Ok(to_js(&rejected)?);
                    }
                }
                let remaining = deadline.saturating_sub(now_ms());
                if remaining == 0 {
                    return Err(ClientError::new(
                        codes::TIMEOUT,
                        format!("transaction {id} was not proven final within {timeout} ms"),
                    )
                    .into());
                }
                sleep_or_wake(&state, remaining.min(FINAL_POLL_MS)).await;
            }
        })
    }

    /// A page of `address`'s history, newest first: `{address, entries,
    /// next?}` where every entry (`{id, from, to, amount, fee, nonce, memo,
    /// direction, checkpoint, checkpointTimeMs}`) carried an inclusion proof
    /// that verified against its certified checkpoint. Options: `before` (a
    /// previous page's `next`), `limit` (1 to 50, default 20). A relay whose
    /// page holds one entry that does not verify is dropped and the next one
    /// asked. Relays can leave entries out; they cannot invent one.
    #[wasm_bindgen(unchecked_return_type = "Promise<VerifiedHistoryPage>")]
    pub fn history(
        &self,
        address: String,
        #[wasm_bindgen(unchecked_param_type = "HistoryOptions | undefined")] options: JsValue,
    ) -> Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let address = parse_address(&address)?;
            let options: HistoryOptions = if options.is_undefined() || options.is_null() {
                HistoryOptions::default()
            } else {
                let text = js_sys::JSON::stringify(&options)
                    .ok()
                    .and_then(|t| t.as_string())
                    .unwrap_or_default();
                serde_json::from_str(&text).map_err(|e| {
                    ClientError::new(codes::INVALID_PARAMS, format!("history options: {e}"))
                })?
            };
            let before = options
                .before
                .as_deref()
                .map(ruv_protocol::serde_bytes::u64_string::parse)
                .transpose()
                .map_err(|e| ClientError::new(codes::INVALID_PARAMS, format!("before: {e}")))?;
            let limit = match options.limit {
                None => api::limits::DEFAULT_HISTORY_PAGE,
                Some(v)
                    if v >= 1.0
                        && v <= api::limits::MAX_HISTORY_PAGE as f64
                        && v.fract() == 0.0 =>
                {
                    v as usize
                }
                Some(_) => {
                    return Err(ClientError::new(
                        codes::INVALID_PARAMS,
                        format!("limit must be 1 to {}", api::limits::MAX_HISTORY_PAGE),
                    )
                    .into())
                }
            };
            let params = api::HistoryParams {
                address,
                before,
                limit: Some(limit),
            };
            let page = verified_against(
                &state,
                Request::GetHistory(params),
                |core, reply| match reply {
                    Reply::History(page) => core
                        .check_history(&address, before, &page)
                        .map(|entries| (entries, page.next)),
                    _ => Err(unexpected()),
                },
                Needed::Historic,
            )
            .await?;
            Ok(to_js(&HistoryPage {
                address: address.to_string(),
                entries: page.0,
                next: page.1.map(|n| n.to_string()),
            })?)
        })
    }

    /// Calls `callback(freshness)` for every new verified checkpoint:
    /// `{number, headerId, timeMs, ageMs, stale, relay}`.
    #[wasm_bindgen(js_name = onCheckpoint)]
    pub fn on_checkpoint(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(checkpoint: CheckpointFreshness) => void")]
        callback: Function,
    ) {
        self.state.borrow_mut().checkpoint_callbacks.push(callback);
    }

    /// The newest verified checkpoint's freshness, or null.
    #[wasm_bindgen(getter, js_name = latestCheckpoint, unchecked_return_type = "CheckpointFreshness | null")]
    pub fn latest_checkpoint(&self) -> JsValue {
        self.state
            .borrow()
            .core
            .freshness(now_ms())
            .and_then(|f| to_js(&f).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// The newest verified certified checkpoint as JSON, to store (and pass
    /// back as `checkpoint` to `connect` for a warm start), or null.
    #[wasm_bindgen(js_name = checkpointJson, unchecked_return_type = "CertifiedCheckpoint | null")]
    pub fn checkpoint_json(&self) -> JsValue {
        self.state
            .borrow()
            .core
            .latest()
            .and_then(|k| to_js(&k.certified).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// Pairs of validly certified checkpoints with the same number, each with
    /// the relay that sent it: proof that validators equivocated.
    #[wasm_bindgen(js_name = equivocationEvidence, unchecked_return_type = "EquivocationEvidence[]")]
    pub fn equivocation_evidence(&self) -> JsValue {
        to_js(&self.state.borrow().core.evidence()).unwrap_or(JsValue::NULL)
    }

    /// Relays dropped for a defective answer: `[{relay, reason}]`, oldest first.
    #[wasm_bindgen(getter, js_name = droppedRelays, unchecked_return_type = "DroppedRelay[]")]
    pub fn dropped_relays(&self) -> JsValue {
        let dropped: Vec<DroppedRelay> = self
            .state
            .borrow()
            .dropped
            .iter()
            .map(|(relay, reason)| DroppedRelay {
                relay: relay.clone(),
                reason: reason.clone(),
            })
            .collect();
        to_js(&dropped).unwrap_or(JsValue::NULL)
    }

    /// The relay in use, if connected.
    #[wasm_bindgen(getter)]
    pub fn relay(&self) -> Option<String> {
        self.state.borrow().pool.url()
    }

    /// The network's chain id (from the trust anchor, never from a relay).
    #[wasm_bindgen(getter, js_name = chainId)]
    pub fn chain_id(&self) -> String {
        self.state.borrow().core.anchor().genesis().chain_id.clone()
    }

    /// The genesis hash of the trust anchor (hex).
    #[wasm_bindgen(getter, js_name = genesisHash)]
    pub fn genesis_hash(&self) -> String {
        self.state.borrow().core.anchor().genesis_hash().to_string()
    }

    /// Closes every connection; pending calls fail with `connection`.
    pub fn close(&self) {
        self.state.borrow_mut().closed = true;
        let pool = self.state.borrow().pool.clone();
        pool.close();
        let wakers = std::mem::take(&mut self.state.borrow_mut().wakers);
        for waker in wakers {
            if let Some(tx) = waker.borrow_mut().take() {
                tx.send(());
            }
        }
    }
}

/// Asks relays (dropping liars) for their latest certified checkpoint and
/// takes it in.
async fn fetch_latest(state: &State) -> Result<(), ClientError> {
    let certified = verified(
        state,
        Request::GetCheckpoint(None),
        |_, reply| match reply {
            Reply::Checkpoint(c) => Ok(c),
            _ => Err(unexpected()),
        },
    )
    .await?;
    accept_checkpoint(state, &certified).map_err(|error| {
        drop_relay(state, &error.to_string());
        verification_failed(&error)
    })
}

/// Relays certify at least every 30 s: a relay that sends no new checkpoint
/// for the stale limit is withholding (or cut off). Drop it and ask another.
async fn watch_freshness(weak: Weak<RefCell<Inner>>) {
    loop {
        let Some(state) = weak.upgrade() else { return };
        let period = (state.borrow().stale_after_ms / 4).max(1_000);
        sleep_or_wake(&state, period).await;
        if state.borrow().closed {
            return;
        }
        let stale = state
            .borrow()
            .core
            .freshness(now_ms())
            .is_none_or(|f| f.stale);
        if !stale {
            continue;
        }
        drop_relay(&state, "no new certified checkpoint within the stale limit");
        // The next relay's answer is judged like any other.
        let _ = fetch_latest(&state).await;
    }
}

/// For a transaction submitted here: a verified proof that another
/// transaction used its nonce, if the sender's proven nonce is past it.
async fn proven_rejection(state: &State, id: &TxId) -> Option<Finality> {
    let (from, nonce) = state.borrow().core.submission(id)?;
    let account = verified(
        state,
        Request::GetAccountProof(from),
        |core, reply| match reply {
            Reply::AccountProof(proof) => core.check_account(&proof),
            _ => Err(unexpected()),
        },
    )
    .await
    .ok()?;
    if account.nonce < nonce {
        return None;
    }
    let taken = verified(
        state,
        Request::GetNonceProof(from, nonce),
        |core, reply| match reply {
            Reply::TransactionProof(proof) => core.check_nonce_taken(id, &proof),
            _ => Err(unexpected()),
        },
    )
    .await
    .ok()??;
    let (status, reason, by) = if taken.id == *id {
        ("final", None, None)
    } else {
        ("rejected", Some("nonce_used"), Some(taken.id.to_string()))
    };
    Some(Finality {
        id: id.to_string(),
        status,
        checkpoint: taken.checkpoint.to_string(),
        from: Some(from.to_string()),
        nonce: Some(nonce.to_string()),
        reason,
        by,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountState {
    address: String,
    balance: String,
    nonce: String,
    checkpoint: String,
    checkpoint_time_ms: u64,
    age_ms: u64,
    stale: bool,
}

#[derive(Serialize)]
struct Finality {
    id: String,
    status: &'static str,
    checkpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryOptions {
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    limit: Option<f64>,
}

#[derive(Serialize)]
struct HistoryPage {
    address: String,
    entries: Vec<core::VerifiedHistoryEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

#[derive(Serialize)]
struct DroppedRelay {
    relay: String,
    reason: String,
}
