//! State sync: a follower with an empty database starts from an upstream's
//! stored state at a certified checkpoint `m` instead of replaying every
//! checkpoint from genesis.
//!
//! 1. `GET /api/v1/state/snapshot`: the checkpoint `m`, its header id and
//!    the account count of the state the upstream stores.
//! 2. `GET /api/v1/checkpoints/{m}/vertices?start=` past the end: the
//!    certificate and anchor of `m` without its vertices; its header must
//!    have the announced id.
//! 3. `GET /api/v1/state/snapshot/{m}/accounts?after=A`, page after page
//!    ([`StatePage`], each above the last address held): every account of
//!    the announced state, no more.
//! 4. [`FollowerCore::from_synced`]: the certificate against the genesis
//!    validator set, the anchor against the header, and
//!    [`StateSnapshot::verify`] (state root, supply, number, id) against
//!    the certified header. Only then is anything stored
//!    ([`Storage::adopt_synced`], one commit), and the follower goes on
//!    with `m + 1` as before.
//!
//! An upstream that fails, lies (a page that does not decode, is out of
//! order, too long or for another state; a certificate or state that does
//! not verify) or moves its state on mid-way is left for the next one,
//! with the follower's doubling backoff. After [`SYNC_ROUNDS`] rounds
//! without a verified state, or when an upstream holds only the state of
//! checkpoint 0 or 1, the follower replays from genesis instead: slower,
//! never less safe.

use super::core::{FollowerCore, Refusal};
use super::{wire, MAX_BACKOFF, MIN_BACKOFF};
use crate::storage::{Storage, StorageError};
use ruv_consensus::StoredCheckpoint;
use ruv_protocol::api::StateSnapshotInfo;
use ruv_protocol::snapshot::{StatePage, StateSnapshot, MAX_STATE_PAGE_LEN};
use ruv_protocol::{Address, Genesis};

/// Rounds over every upstream before a follower gives up on state sync and
/// replays from genesis.
pub const SYNC_ROUNDS: u32 = 3;
/// `GET /api/v1/state/snapshot` answers a few hundred bytes; more is refused.
const MAX_INFO_LEN: usize = 4096;

/// Why a state sync from one upstream failed (it is then left).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The request failed.
    #[error("request: {0}")]
    Http(#[from] reqwest::Error),
    /// The upstream answered an error status.
    #[error("answered HTTP {0}")]
    Status(u16),
    /// An answer was longer than its limit.
    #[error("answer longer than {0} bytes")]
    TooLarge(usize),
    /// The state description is not JSON of the documented shape.
    #[error("state description: {0}")]
    Info(#[from] serde_json::Error),
    /// A page or the checkpoint does not decode.
    #[error("does not decode: {0}")]
    Decode(#[from] ruv_protocol::codec::DecodeError),
    /// Pages that do not add up to the announced state.
    #[error("inconsistent pages: {0}")]
    Pages(&'static str),
    /// The upstream's stored state moved on while we fetched it.
    #[error("the upstream's state moved on")]
    Moved,
    /// The assembled state or its certificate does not verify.
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
}

/// What one upstream offered, verified.
struct Synced {
    checkpoint: StoredCheckpoint,
    snapshot: StateSnapshot,
    core: FollowerCore,
}

/// Syncs from the first upstream that serves a verifiable state and stores
/// it; None: replay from genesis (an upstream holds no state past
/// checkpoint 1, or none served a state that verifies within
/// [`SYNC_ROUNDS`]).
pub async fn sync_from_state(
    client: &reqwest::Client,
    upstreams: &[String],
    genesis: &Genesis,
    storage: &Storage,
) -> Result<Option<FollowerCore>, StorageError> {
    let mut backoff = MIN_BACKOFF;
    for _ in 0..SYNC_ROUNDS {
        for base in upstreams {
            let started = std::time::Instant::now();
            match sync_one(client, base, genesis).await {
                Ok(Some(synced)) => {
                    storage.adopt_synced(&synced.checkpoint, &synced.snapshot)?;
                    tracing::info!(
                        %base,
                        checkpoint = synced.snapshot.checkpoint,
                        accounts = synced.snapshot.accounts.len(),
                        sync_ms = started.elapsed().as_millis() as u64,
                        "synced the state of a certified checkpoint"
                    );
                    return Ok(Some(synced.core));
                }
                Ok(None) => {
                    tracing::info!(%base, "the upstream stores no state past checkpoint 1; replaying from genesis");
                    return Ok(None);
                }
                Err(e) => {
                    tracing::warn!(%base, error = %e, "state sync from an upstream failed");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
    tracing::warn!("no upstream served a state that verifies; replaying from genesis");
    Ok(None)
}

/// Fetches and verifies the state `base` stores (None: nothing past
/// checkpoint 1 to skip).
async fn sync_one(
    client: &reqwest::Client,
    base: &str,
    genesis: &Genesis,
) -> Result<Option<Synced>, SyncError> {
    let info: StateSnapshotInfo = serde_json::from_slice(
        &get_bounded(
            client,
            &format!("{base}/api/v1/state/snapshot"),
            MAX_INFO_LEN,
        )
        .await?,
    )?;
    let number = info.checkpoint;
    // Replaying one checkpoint costs nothing; and a restart tells a synced
    // history by its first stored checkpoint being above 1.
    if number <= 1 {
        return Ok(None);
    }
    // The certificate and anchor without the vertices (a start past the end).
    let page = wire::decode_page(
        &get_bounded(
            client,
            &format!(
                "{base}/api/v1/checkpoints/{number}/vertices?start={}",
                u32::MAX
            ),
            wire::MAX_PAGE_LEN,
        )
        .await?,
    )?;
    let checkpoint = page.checkpoint;
    if checkpoint.certificate.header.number != number
        || checkpoint.certificate.header.id() != info.header_id
    {
        return Err(SyncError::Pages("the checkpoint is not the announced one"));
    }
    let mut accounts: Vec<(Address, ruv_protocol::Account)> = Vec::new();
    loop {
        let after = accounts.last().map(|(address, _)| *address);
        let mut url = format!("{base}/api/v1/state/snapshot/{number}/accounts");
        if let Some(after) = &after {
            url.push_str(&format!("?after={after}"));
        }
        let page = StatePage::decode(
            &get_bounded(client, &url, MAX_STATE_PAGE_LEN).await?,
            after.as_ref(),
        )?;
        if page.checkpoint != number || page.header_id != info.header_id {
            return Err(SyncError::Moved);
        }
        if page.total != info.accounts {
            return Err(SyncError::Pages("another account count"));
        }
        let total = page.total as usize;
        if page.accounts.is_empty() && accounts.len() < total {
            return Err(SyncError::Pages("an empty page before the end"));
        }
        accounts.extend(page.accounts);
        if accounts.len() > total {
            return Err(SyncError::Pages("more accounts than announced"));
        }
        if accounts.len() == total {
            break;
        }
    }
    let snapshot = StateSnapshot {
        checkpoint: number,
        header_id: info.header_id,
        burned: checkpoint.certificate.header.burned,
        accounts,
    };
    // ML-DSA checks and the state tree: off the async workers' hands.
    let core = tokio::task::block_in_place(|| {
        FollowerCore::from_synced(genesis, checkpoint.clone(), &snapshot)
    })?;
    Ok(Some(Synced {
        checkpoint,
        snapshot,
        core,
    }))
}

/// A GET whose body is at most `max` bytes (410: the state moved on).
async fn get_bounded(
    client: &reqwest::Client,
    url: &str,
    max: usize,
) -> Result<Vec<u8>, SyncError> {
    let mut response = client.get(url).send().await?;
    if response.status() == reqwest::StatusCode::GONE {
        return Err(SyncError::Moved);
    }
    if !response.status().is_success() {
        return Err(SyncError::Status(response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > max {
            return Err(SyncError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
