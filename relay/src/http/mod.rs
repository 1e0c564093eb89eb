//! The client API driver: axum routes for REST under `/api/v1/`, the
//! WebSocket `/api/v1/ws`, `/healthz`, and the wallet's static files.

mod rest;
mod ws;

use crate::config::RelayConfig;
use crate::faucet::Faucet;
use crate::node::Node;
use crate::service::RelayState;
use crate::storage::Storage;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use ruv_protocol::api::{codes, ApiError, ErrorBody};
use ruv_protocol::Genesis;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Why a relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The genesis file is unreadable or invalid.
    #[error("genesis {path}: {reason}")]
    Genesis {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A key file is unusable.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyFileError),
    /// The relay's key is not a validator in genesis.
    #[error("this relay's key is not a validator in genesis")]
    NotAValidator,
    /// The database could not be opened or replayed.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// A stored transaction does not apply on replay.
    #[error("stored transaction {0} does not apply on replay: {1}")]
    Replay(String, ruv_protocol::TxRejection),
    /// The listen address is unavailable.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// A relay serving on a socket.
pub struct RunningRelay {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Shared state (for tests and the binary).
    pub state: Arc<RelayState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningRelay {
    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }

    /// Waits until the server stops (it stops only on shutdown or a fatal error).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Loads genesis, keys and database, restores state, and starts serving.
pub async fn start(config: RelayConfig) -> Result<RunningRelay, StartError> {
    let genesis_err = |reason: String| StartError::Genesis {
        path: config.genesis.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&config.genesis).map_err(|e| genesis_err(e.to_string()))?;
    let genesis = Genesis::from_json(&text).map_err(|e| genesis_err(e.to_string()))?;
    let key = crate::keys::load(&config.key_file)?;
    if !genesis
        .validator_keys()
        .iter()
        .any(|(k, _)| k == key.public_key())
    {
        return Err(StartError::NotAValidator);
    }
    let faucet = match &config.faucet_key_file {
        Some(path) => Some(Faucet::new(crate::keys::load(path)?)),
        None => None,
    };
    let storage = Storage::open(&config.data_dir, genesis.hash())?;
    let accepted = storage.accepted_transactions()?;
    let node = Node::restore(&genesis, &accepted)
        .map_err(|(id, rejection)| StartError::Replay(id.to_string(), rejection))?;
    tracing::info!(name = %config.name, accepted = accepted.len(), "state restored");
    let state = Arc::new(RelayState::new(
        config.name.clone(),
        genesis,
        node,
        storage,
        faucet,
    ));

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::Listen(config.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Listen(config.listen, e))?;
    let app = router(state.clone(), config.wallet_dir.as_deref());
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = shutdown_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    tracing::info!(%addr, "client API listening");
    Ok(RunningRelay {
        addr,
        state,
        shutdown: Some(shutdown_tx),
        task,
    })
}

fn router(state: Arc<RelayState>, wallet_dir: Option<&std::path::Path>) -> axum::Router {
    let api = rest::routes()
        .route("/ws", axum::routing::get(ws::upgrade))
        .fallback(|| async { ApiFailure(ApiError::new(codes::NOT_FOUND, "no such API endpoint")) });
    let mut app = axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route("/metrics", axum::routing::get(metrics))
        .nest("/api/v1", api)
        .with_state(state);
    if let Some(dir) = wallet_dir {
        app = app.fallback_service(tower_http::services::ServeDir::new(dir));
    }
    app.layer(tower_http::cors::CorsLayer::permissive())
}

async fn metrics(
    axum::extract::State(state): axum::extract::State<Arc<RelayState>>,
) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// An [`ApiError`] as an HTTP response with the right status code.
pub struct ApiFailure(pub ApiError);

impl From<ApiError> for ApiFailure {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

/// HTTP status for each error code.
pub fn http_status(code: &str) -> StatusCode {
    match code {
        codes::NOT_FOUND => StatusCode::NOT_FOUND,
        codes::PAYLOAD_TOO_LARGE | codes::FRAME_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        codes::FAUCET_DISABLED => StatusCode::FORBIDDEN,
        codes::FAUCET_COOLDOWN | codes::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        codes::MEMPOOL_FULL => StatusCode::SERVICE_UNAVAILABLE,
        codes::INTERNAL => StatusCode::INTERNAL_SERVER_ERROR,
        "stale_nonce" | "nonce_gap" | "conflict" => StatusCode::CONFLICT,
        "insufficient_funds" | "overflow" => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        (http_status(&self.0.code), Json(ErrorBody { error: self.0 })).into_response()
    }
}
