//! Follower relays: a relay without a validator key. It fetches certified
//! checkpoints with the signed vertices each adds from one or several
//! validators (`GET /api/v1/checkpoints/{n}/vertices`, see [`wire`]),
//! verifies them ([`core`]: the certificate against the genesis validator
//! set, every vertex signature, the anchor's closure, and the derived
//! header against the certified one), stores what it adopted, and serves
//! clients over the same API with the same proofs. It never votes or signs
//! and has no peer links; submissions are forwarded to an upstream
//! validator, whose answer is the client's answer.
//!
//! The driver answers the same [`NodeHandle`] protocol as the validator's
//! consensus driver and publishes the same [`Snapshot`], so the HTTP and
//! WebSocket layers do not know which one they talk to. One task owns the
//! [`FollowerCore`] and the database; a fetch task does the HTTP and hands
//! it offers, one checkpoint at a time.
//!
//! A follower with an empty database starts from an upstream's stored
//! state at a certified checkpoint ([`sync`], `--sync snapshot`, the
//! default) or replays every certified checkpoint from genesis
//! (`--sync genesis`); either way it then follows checkpoint by checkpoint.

pub mod core;
pub mod sync;
pub mod wire;

use crate::metrics::Metrics;
use crate::node::handle::Query;
use crate::node::{NodeEvent, NodeHandle, NodeInputs, Snapshot, Submission};
use crate::storage::Storage;
use core::{FollowerCore, Refusal};
use ruv_consensus::StoredCheckpoint;
use ruv_protocol::api::{codes, AccountInfo, ApiError, ErrorBody, TxState, TxStatus};
use ruv_protocol::TxId;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

/// How often an upstream is asked again for a checkpoint it does not hold yet.
pub const POLL: Duration = Duration::from_millis(200);
/// First wait after an upstream failed or lied; doubles up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// One request to an upstream, at most.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// After this many "not certified yet" answers in a row, try another
/// upstream (the current one may be stuck or cut off).
pub const STALE_POLLS: u32 = 25;
/// Forwarded, not yet included transactions remembered for status queries.
pub const REMEMBERED_FORWARDS: usize = 100_000;

/// A checkpoint fetched from an upstream, waiting for the driver's verdict.
struct Offer {
    checkpoint: StoredCheckpoint,
    vertices: Vec<Arc<[u8]>>,
    upstream: String,
    reply: oneshot::Sender<Result<u64, Refusal>>,
}

/// The upstream's verdict on a forwarded submission, back to the driver.
struct Forwarded {
    id: TxId,
    taken: bool,
}

/// The follower driver; [`FollowerNode::run`] consumes it.
pub struct FollowerNode {
    core: FollowerCore,
    storage: Storage,
    events: broadcast::Sender<NodeEvent>,
    metrics: Arc<Metrics>,
    upstreams: Arc<[String]>,
    /// The upstream that answered last (submissions go there first).
    preferred: Arc<AtomicUsize>,
    client: reqwest::Client,
    forwarded: HashSet<TxId>,
    forwarded_order: VecDeque<TxId>,
    view: Snapshot,
    publish: watch::Sender<Arc<Snapshot>>,
    /// Checkpoints the stored state lags the latest one.
    keep_checkpoints: u64,
}

/// Why a fetch from one upstream failed.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("request: {0}")]
    Http(#[from] reqwest::Error),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("page larger than {} bytes", wire::MAX_PAGE_LEN)]
    TooLarge,
    #[error("checkpoint vertices larger than {} bytes", wire::MAX_CHECKPOINT_BYTES)]
    CheckpointTooLarge,
    #[error("page does not decode: {0}")]
    Decode(#[from] ruv_protocol::codec::DecodeError),
    #[error("inconsistent pages: {0}")]
    Pages(&'static str),
}

impl FollowerNode {
    /// How many checkpoints the stored state lags the latest one: a
    /// restart re-derives that many.
    pub fn set_keep_checkpoints(&mut self, keep: u64) {
        self.keep_checkpoints = keep;
    }

    /// Wraps a restored core; returns the driver, the handle for everyone
    /// else, and the handle's channels for [`FollowerNode::run`].
    pub fn new(
        core: FollowerCore,
        storage: Storage,
        upstreams: Vec<String>,
        events: broadcast::Sender<NodeEvent>,
        metrics: Arc<Metrics>,
    ) -> Result<(Self, NodeHandle, NodeInputs), reqwest::Error> {
        let (submissions, submissions_rx) = mpsc::channel(crate::node::SUBMISSION_QUEUE);
        let (queries, queries_rx) = mpsc::channel(crate::node::QUERY_QUEUE);
        let ledger = core.ledger();
        let view = Snapshot {
            healthy: true,
            accounts: ledger
                .accounts()
                .map(|(address, account)| (*address, *account))
                .collect(),
            accepted_transactions: core.included_count(),
            pending_transactions: 0,
            // A follower sheds nothing itself: the validators it forwards to do.
            pending_limit: 0,
            latest_checkpoint: core.latest().map(|c| Arc::new(c.certificate.to_json())),
            pending_by_sender: Default::default(),
            pending_ids: Default::default(),
            engine_messages_dropped: 0,
        };
        let (publish, snapshot) = watch::channel(Arc::new(view.clone()));
        let handle = NodeHandle {
            submissions,
            queries,
            snapshot,
            peers: None,
        };
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        let node = Self {
            core,
            storage,
            events,
            metrics,
            upstreams: upstreams.into(),
            preferred: Arc::new(AtomicUsize::new(0)),
            client,
            forwarded: HashSet::new(),
            forwarded_order: VecDeque::new(),
            view,
            publish,
            keep_checkpoints: crate::config::DEFAULT_KEEP_CHECKPOINTS,
        };
        let inputs = NodeInputs {
            submissions: submissions_rx,
            queries: queries_rx,
        };
        Ok((node, handle, inputs))
    }

    /// Follows the upstreams and answers the handle until `shutdown`
    /// (or until storage fails).
    pub async fn run(mut self, mut inputs: NodeInputs, shutdown: CancellationToken) {
        let (offers_tx, mut offers) = mpsc::channel::<Offer>(1);
        let (forwarded_tx, mut forwarded) = mpsc::channel::<Forwarded>(1024);
        let fetching = shutdown.child_token();
        let fetcher = tokio::spawn(fetch_loop(
            self.client.clone(),
            self.upstreams.clone(),
            self.preferred.clone(),
            self.core.next_number(),
            offers_tx,
            fetching.clone(),
        ));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(offer) = offers.recv() => {
                    if !self.on_offer(offer) {
                        break;
                    }
                }
                Some(query) = inputs.queries.recv() => self.answer(query),
                Some(submission) = inputs.submissions.recv() => {
                    self.forward(submission, forwarded_tx.clone());
                }
                Some(verdict) = forwarded.recv() => {
                    if !verdict.taken && self.forwarded.remove(&verdict.id) {
                        self.view.pending_transactions = self.forwarded.len() as u64;
                        self.publish.send_replace(Arc::new(self.view.clone()));
                    }
                }
            }
        }
        fetching.cancel();
        let _ = fetcher.await;
    }

    /// Checks and adopts one offer; false if storage failed (stop).
    fn on_offer(&mut self, offer: Offer) -> bool {
        let Offer {
            checkpoint,
            vertices,
            upstream,
            reply,
        } = offer;
        let number = checkpoint.certificate.header.number;
        // ML-DSA checks of the certificate and every vertex: off the
        // async workers' hands.
        let verdict = tokio::task::block_in_place(|| self.core.offer(checkpoint, &vertices));
        let adopted = match verdict {
            Ok(adopted) => adopted,
            Err(refusal) => {
                tracing::warn!(%upstream, number, %refusal, "refused a checkpoint from an upstream");
                let _ = reply.send(Err(refusal));
                return true;
            }
        };
        if let Err(e) = self.storage.adopt_followed(
            &adopted.checkpoint,
            &adopted.vertices,
            self.core.take_state_delta(self.keep_checkpoints).as_ref(),
        ) {
            tracing::error!(error = %e, "storage failed; this follower stops");
            self.view.healthy = false;
            self.publish.send_replace(Arc::new(self.view.clone()));
            return false;
        }
        tracing::debug!(%upstream, number, vertices = adopted.vertices.len(), "adopted checkpoint");
        let _ = reply.send(Ok(self.core.next_number()));

        let ledger = self.core.ledger();
        let mut events = Vec::new();
        for id in &adopted.transactions {
            // (the order queue forgets it when it ages out)
            self.forwarded.remove(id);
            events.push(NodeEvent::Transaction(TxStatus {
                id: *id,
                status: TxState::Accepted,
                reason: None,
            }));
        }
        for address in &adopted.changed {
            let account = ledger.account(address);
            self.view.accounts.insert(*address, account);
            events.push(NodeEvent::Account(AccountInfo::new(*address, account)));
        }
        let certificate = Arc::new(adopted.checkpoint.certificate.to_json());
        events.push(NodeEvent::Checkpoint(
            certificate.clone(),
            adopted.changed.clone().into(),
        ));
        self.view.latest_checkpoint = Some(certificate);
        self.view.accepted_transactions += adopted.transactions.len() as u64;
        self.view.pending_transactions = self.forwarded.len() as u64;
        self.metrics.checkpoints_certified.inc();
        for _ in &adopted.transactions {
            self.metrics.transactions_accepted.inc();
        }
        self.metrics
            .vertices_accepted
            .inc_by(adopted.vertices.len() as u64);
        self.publish.send_replace(Arc::new(self.view.clone()));
        for event in events {
            let _ = self.events.send(event); // no subscribers is fine
        }
        true
    }

    fn answer(&mut self, query: Query) {
        match query {
            Query::TxStatus(id, reply) => {
                let status = if self.core.included_in(&id).is_some() {
                    Some(TxState::Accepted)
                } else if self.forwarded.contains(&id) {
                    Some(TxState::Pending)
                } else {
                    None
                };
                let _ = reply.send(status.map(|status| TxStatus {
                    id,
                    status,
                    reason: None,
                }));
            }
            Query::Checkpoint(number, reply) => {
                let kept = self.core.certified(number);
                let checkpoint = crate::node::certified(kept, &self.storage, number);
                let _ = reply.send(checkpoint.map(|c| c.certificate.to_json()));
            }
            Query::AccountProof(address, reply) => {
                let _ = reply.send(self.core.prove_account(&address));
            }
            Query::TransactionProof(id, reply) => {
                let proof = self.core.prove_transaction(&id);
                let pruned = self.core.proof_pruned(&id);
                let _ = reply.send(crate::node::answer_proof(proof, pruned));
            }
            Query::NonceProof(from, nonce, reply) => {
                let proof = self.core.prove_nonce(&from, nonce);
                let pruned = self.core.nonce_proof_pruned(&from, nonce);
                let _ = reply.send(crate::node::answer_proof(proof, pruned));
            }
            Query::History(params, limit, reply) => {
                let storage = &self.storage;
                let page = self
                    .core
                    .history(&params.address, params.before, limit, |ids| {
                        storage.accepted_transactions(ids)
                    });
                match page {
                    Ok(page) => {
                        let _ = reply.send(page);
                    }
                    Err(error) => tracing::error!(%error, "history: reading bodies failed"),
                }
            }
            Query::CheckpointVertices(number, start, reply) => {
                let page = crate::node::sync_page(
                    &self.storage,
                    number,
                    self.core.certified(number),
                    self.core.covered_vertices(number),
                    start,
                );
                let _ = reply.send(page);
            }
            Query::StatePage(number, after, reply) => {
                let _ = reply.send(crate::node::state_page(&self.storage, number, after));
            }
        }
    }

    /// Hands a submission to an upstream validator; the client gets the
    /// upstream's answer.
    fn forward(&mut self, submission: Submission, verdicts: mpsc::Sender<Forwarded>) {
        let id = submission.tx.id();
        if self.forwarded.insert(id) {
            self.forwarded_order.push_back(id);
            if self.forwarded_order.len() > REMEMBERED_FORWARDS {
                if let Some(old) = self.forwarded_order.pop_front() {
                    self.forwarded.remove(&old);
                }
            }
        }
        let client = self.client.clone();
        let upstreams = self.upstreams.clone();
        let first = self.preferred.load(Ordering::Relaxed);
        tokio::spawn(async move {
            let answer = submit_upstream(&client, &upstreams, first, &submission.tx).await;
            let taken = matches!(&answer, Ok(status) if !status.status.has_reason());
            let _ = verdicts.send(Forwarded { id, taken }).await;
            let _ = submission.reply.send(answer);
        });
    }
}

/// POSTs a transfer to the upstreams in turn from `first`, until one answers.
async fn submit_upstream(
    client: &reqwest::Client,
    upstreams: &[String],
    first: usize,
    tx: &ruv_protocol::SignedTransfer,
) -> Result<TxStatus, ApiError> {
    for k in 0..upstreams.len() {
        let base = &upstreams[(first + k) % upstreams.len()];
        let response = match client
            .post(format!("{base}/api/v1/transactions"))
            .json(tx)
            .send()
            .await
        {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(%base, error = %e, "upstream unreachable for a submission");
                continue;
            }
        };
        let success = response.status().is_success();
        let Ok(body) = response.bytes().await else {
            continue;
        };
        return if success {
            serde_json::from_slice::<TxStatus>(&body).map_err(|_| bad_upstream())
        } else {
            Err(serde_json::from_slice::<ErrorBody>(&body)
                .map(|b| b.error)
                .unwrap_or_else(|_| bad_upstream()))
        };
    }
    Err(ApiError::new(
        codes::INTERNAL,
        "no upstream validator is reachable from this follower; resubmit later",
    ))
}

fn bad_upstream() -> ApiError {
    ApiError::new(codes::INTERNAL, "the upstream validator answered nonsense")
}

/// Fetches checkpoint after checkpoint, from the preferred upstream while
/// it serves, moving to the next one on failure, refusal or staleness, with
/// a doubling backoff.
async fn fetch_loop(
    client: reqwest::Client,
    upstreams: Arc<[String]>,
    preferred: Arc<AtomicUsize>,
    mut next: u64,
    offers: mpsc::Sender<Offer>,
    shutdown: CancellationToken,
) {
    let mut current = preferred.load(Ordering::Relaxed) % upstreams.len().max(1);
    let mut backoff = MIN_BACKOFF;
    let mut stale = 0u32;
    loop {
        let Some(base) = upstreams.get(current) else {
            return;
        };
        let wait = tokio::select! {
            _ = shutdown.cancelled() => return,
            fetched = fetch(&client, base, next) => match fetched {
                Ok(Some((checkpoint, vertices))) => {
                    let (reply, verdict) = oneshot::channel();
                    let offer = Offer { checkpoint, vertices, upstream: base.clone(), reply };
                    if offers.send(offer).await.is_err() {
                        return;
                    }
                    match verdict.await {
                        Ok(Ok(expected)) => {
                            next = expected;
                            preferred.store(current, Ordering::Relaxed);
                            backoff = MIN_BACKOFF;
                            stale = 0;
                            continue;
                        }
                        Ok(Err(_)) => None, // logged by the driver
                        Err(_) => return,
                    }
                }
                Ok(None) => {
                    stale += 1;
                    if stale < STALE_POLLS {
                        Some(POLL)
                    } else {
                        None
                    }
                }
                Err(e) => {
                    tracing::warn!(%base, number = next, error = %e, "upstream failed");
                    None
                }
            }
        };
        let wait = match wait {
            Some(poll) => poll,
            None => {
                // Another upstream next time, after a growing pause.
                current = (current + 1) % upstreams.len();
                stale = 0;
                let this = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                this
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Checkpoint `number` with every vertex it adds, from one upstream (None:
/// it holds no such checkpoint yet).
async fn fetch(
    client: &reqwest::Client,
    base: &str,
    number: u64,
) -> Result<Option<(StoredCheckpoint, Vec<Arc<[u8]>>)>, FetchError> {
    let mut checkpoint: Option<StoredCheckpoint> = None;
    let mut vertices: Vec<Arc<[u8]>> = Vec::new();
    let mut held_bytes = 0usize;
    loop {
        let url = format!(
            "{base}/api/v1/checkpoints/{number}/vertices?start={}",
            vertices.len()
        );
        let mut response = client.get(url).send().await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > wire::MAX_PAGE_LEN {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let page = wire::decode_page(&body)?;
        if page.checkpoint.certificate.header.number != number {
            return Err(FetchError::Pages("another checkpoint number"));
        }
        if page.start as usize != vertices.len() {
            return Err(FetchError::Pages("a page starts elsewhere"));
        }
        match &checkpoint {
            Some(first) if *first != page.checkpoint => {
                return Err(FetchError::Pages("pages of different checkpoints"));
            }
            Some(_) => {}
            None => checkpoint = Some(page.checkpoint.clone()),
        }
        if page.vertices.is_empty() && vertices.len() < page.total as usize {
            return Err(FetchError::Pages("an empty page before the end"));
        }
        held_bytes += page.vertices.iter().map(|v| v.len()).sum::<usize>();
        if held_bytes > wire::MAX_CHECKPOINT_BYTES {
            return Err(FetchError::CheckpointTooLarge);
        }
        vertices.extend(page.vertices);
        if vertices.len() >= page.total as usize {
            return Ok(checkpoint.map(|c| (c, vertices)));
        }
    }
}
