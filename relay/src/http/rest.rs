//! REST handlers under `/api/v1/`.

use super::limits::rate_limited;
use super::listener::ClientAddr;
use super::ApiFailure;
use crate::service::RelayState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ruv_protocol::api::{
    codes, limits, AccountHistory, AccountInfo, ApiError, FaucetChallenge, FaucetRequest,
    FeeEstimate, HistoryParams, NetworkStatus, StateSnapshotInfo, TxStatus,
};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::light::{AccountProof, TransactionProof};
use ruv_protocol::{Address, SignedTransfer, TxId};
use serde::Deserialize;
use std::sync::Arc;

type Shared = State<Arc<RelayState>>;
type ApiResult<T> = Result<T, ApiFailure>;

/// The OpenAPI document describing this API.
pub const OPENAPI: &str = include_str!("../../openapi.json");

pub(super) fn routes() -> Router<Arc<RelayState>> {
    Router::new()
        .route("/network/status", get(network_status))
        .route("/accounts/{address}", get(account))
        .route("/accounts/{address}/proof", get(account_proof))
        .route("/accounts/{address}/nonces/{nonce}/proof", get(nonce_proof))
        .route("/accounts/{address}/history", get(history))
        .route("/checkpoints/latest", get(latest_checkpoint))
        .route("/checkpoints/{number}", get(checkpoint))
        .route("/checkpoints/{number}/vertices", get(checkpoint_vertices))
        .route("/state/snapshot", get(state_snapshot))
        .route("/state/snapshot/{number}/accounts", get(state_accounts))
        .route("/transactions/{id}/proof", get(transaction_proof))
        .route("/transactions", post(submit))
        .route("/transactions/{id}", get(transaction))
        .route("/fees/estimate", get(fee_estimate))
        .route("/faucet", post(faucet))
        .route("/faucet/challenge", get(faucet_challenge))
        .route(
            "/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    OPENAPI,
                )
            }),
        )
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
}

/// Parses an address path or field into the API's typed error.
pub(super) fn parse_address(text: &str) -> Result<Address, ApiError> {
    text.parse().map_err(|e: ruv_protocol::AddressError| {
        ApiError::new(codes::INVALID_ADDRESS, format!("{text:?}: {e}"))
    })
}

/// Parses a transaction id into the API's typed error.
pub(super) fn parse_tx_id(text: &str) -> Result<TxId, ApiError> {
    text.parse().map_err(|e: ruv_protocol::tx::TxIdParseError| {
        ApiError::new(codes::INVALID_TRANSACTION_ID, e.to_string())
    })
}

/// Reads a signed transfer from JSON, telling malformed JSON, bad addresses
/// and otherwise invalid transactions apart.
pub(super) fn parse_transaction(value: serde_json::Value) -> Result<SignedTransfer, ApiError> {
    for field in ["from", "to"] {
        if let Some(serde_json::Value::String(text)) = value.get(field) {
            parse_address(text)?;
        }
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(codes::INVALID_TRANSACTION, e.to_string()))
}

fn json_body(body: Result<Bytes, BytesRejection>) -> Result<serde_json::Value, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                codes::PAYLOAD_TOO_LARGE,
                format!(
                    "request body is larger than {} bytes",
                    limits::MAX_BODY_BYTES
                ),
            )
        } else {
            ApiError::new(codes::MALFORMED_JSON, rejection.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::new(codes::MALFORMED_JSON, e.to_string()))
}

async fn network_status(State(state): Shared) -> Json<NetworkStatus> {
    Json(state.network_status())
}

async fn account(
    State(state): Shared,
    Path(address): Path<String>,
) -> ApiResult<Json<AccountInfo>> {
    Ok(Json(state.account(parse_address(&address)?)))
}

async fn account_proof(
    State(state): Shared,
    Path(address): Path<String>,
) -> ApiResult<Json<AccountProof>> {
    Ok(Json(state.account_proof(parse_address(&address)?).await?))
}

async fn nonce_proof(
    State(state): Shared,
    Path((address, nonce)): Path<(String, String)>,
) -> ApiResult<Json<TransactionProof>> {
    let nonce = ruv_protocol::serde_bytes::u64_string::parse(&nonce)
        .map_err(|e| ApiError::new(codes::NOT_FOUND, format!("{nonce:?} is not a nonce: {e}")))?;
    Ok(Json(
        state.nonce_proof(parse_address(&address)?, nonce).await?,
    ))
}

/// The query of `GET /accounts/{address}/history`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    before: Option<String>,
    limit: Option<String>,
}

async fn history(
    State(state): Shared,
    Path(address): Path<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<AccountHistory>> {
    let Query(query) = query.map_err(|e| ApiError::new(codes::MALFORMED_JSON, e.body_text()))?;
    let number = |name: &str, text: &str| {
        ruv_protocol::serde_bytes::u64_string::parse(text).map_err(|e| {
            ApiError::new(
                codes::MALFORMED_JSON,
                format!("{name} {text:?} is not a decimal number: {e}"),
            )
        })
    };
    let before = query
        .before
        .as_deref()
        .map(|t| number("before", t))
        .transpose()?;
    let limit = match query.limit.as_deref() {
        Some(text) => Some(usize::try_from(number("limit", text)?).unwrap_or(usize::MAX)),
        None => None,
    };
    let params = HistoryParams {
        address: parse_address(&address)?,
        before,
        limit,
    };
    Ok(Json(state.history(params).await?))
}

async fn latest_checkpoint(State(state): Shared) -> ApiResult<Json<CertifiedCheckpoint>> {
    Ok(Json(state.latest_checkpoint()?))
}

/// Parses a checkpoint number (a canonical decimal u64) into the API's typed error.
pub(super) fn parse_checkpoint_number(text: &str) -> Result<u64, ApiError> {
    ruv_protocol::serde_bytes::u64_string::parse(text).map_err(|e| {
        ApiError::new(
            codes::NOT_FOUND,
            format!("{text:?} is not a checkpoint number: {e}"),
        )
    })
}

async fn checkpoint(
    State(state): Shared,
    Path(number): Path<String>,
) -> ApiResult<Json<CertifiedCheckpoint>> {
    Ok(Json(
        state.checkpoint(parse_checkpoint_number(&number)?).await?,
    ))
}

#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    start: u32,
}

/// The signed vertices a checkpoint added, for follower relays (binary:
/// `crate::follower::wire`).
async fn checkpoint_vertices(
    State(state): Shared,
    Path(number): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<([(axum::http::header::HeaderName, &'static str); 1], Vec<u8>)> {
    let Query(query) = query.map_err(|e| ApiError::new(codes::NOT_FOUND, e.body_text()))?;
    let number = parse_checkpoint_number(&number)?;
    let page = state
        .node()
        .checkpoint_vertices(number, query.start as usize)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                codes::NOT_FOUND,
                format!("this relay holds no certified checkpoint {number}"),
            )
        })?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
        page,
    ))
}

/// Which stored state this relay serves for state sync.
async fn state_snapshot(State(state): Shared) -> ApiResult<Json<StateSnapshotInfo>> {
    let page = state
        .node()
        .state_page(None, None)
        .await?
        .ok_or_else(|| ApiError::new(codes::STATE_UNAVAILABLE, "this relay stores no state"))?;
    Ok(Json(StateSnapshotInfo {
        checkpoint: page.checkpoint,
        header_id: page.header_id,
        accounts: page.total,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatePageQuery {
    after: Option<String>,
}

/// A page of the stored state at checkpoint `number` (binary
/// `ruv_protocol::snapshot::StatePage`), the accounts above `after`.
async fn state_accounts(
    State(state): Shared,
    Path(number): Path<String>,
    query: Result<Query<StatePageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<([(axum::http::header::HeaderName, &'static str); 1], Vec<u8>)> {
    let Query(query) = query.map_err(|e| ApiError::new(codes::MALFORMED_JSON, e.body_text()))?;
    let number = parse_checkpoint_number(&number)?;
    let after = query.after.as_deref().map(parse_address).transpose()?;
    let page = state
        .node()
        .state_page(Some(number), after)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                codes::STATE_UNAVAILABLE,
                format!(
                    "this relay does not hold the state of checkpoint {number}; \
                     GET /api/v1/state/snapshot names the one it holds"
                ),
            )
        })?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
        page.encode(),
    ))
}

async fn transaction_proof(
    State(state): Shared,
    Path(id): Path<String>,
) -> ApiResult<Json<TransactionProof>> {
    Ok(Json(state.transaction_proof(parse_tx_id(&id)?).await?))
}

async fn transaction(State(state): Shared, Path(id): Path<String>) -> ApiResult<Json<TxStatus>> {
    Ok(Json(state.tx_status(parse_tx_id(&id)?).await?))
}

async fn submit(
    State(state): Shared,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<TxStatus>)> {
    let tx = parse_transaction(json_body(body)?)?;
    let status = state.submit(tx).await?;
    Ok((StatusCode::ACCEPTED, Json(status)))
}

#[derive(Deserialize)]
struct FeeQuery {
    #[serde(default)]
    memo_bytes: usize,
}

async fn fee_estimate(
    State(state): Shared,
    query: Result<Query<FeeQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<FeeEstimate>> {
    let Query(query) = query.map_err(|e| ApiError::new(codes::MALFORMED_JSON, e.body_text()))?;
    Ok(Json(state.fee_estimate(query.memo_bytes)?))
}

async fn faucet(
    State(state): Shared,
    ConnectInfo(ClientAddr(addr)): ConnectInfo<ClientAddr>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<TxStatus>)> {
    if !state.faucet_budget.allow(addr.ip()) {
        return Err(rate_limited("faucet requests").into());
    }
    let value = json_body(body)?;
    if let Some(serde_json::Value::String(text)) = value.get("address") {
        parse_address(text)?;
    }
    let request: FaucetRequest = serde_json::from_value(value)
        .map_err(|e| ApiError::new(codes::MALFORMED_JSON, e.to_string()))?;
    let status = state.faucet(request.address, request.proof).await?;
    Ok((StatusCode::ACCEPTED, Json(status)))
}

/// Issuing is stateless and cheap: only the REST budget applies, so a
/// challenge does not spend one of the IP's faucet requests.
async fn faucet_challenge(State(state): Shared) -> ApiResult<Json<FaucetChallenge>> {
    Ok(Json(state.faucet_challenge().await?))
}
