//! The client API driver: axum routes for REST under `/api/v1/`, the
//! WebSocket `/api/v1/ws`, `/healthz`, `/metrics` and the peer endpoint.

pub mod limits;
pub mod listener;
mod rest;
mod ws;

use crate::config::RelayConfig;
use crate::faucet::Faucet;
use crate::metrics::Metrics;
use crate::node::ConsensusNode;
use crate::peer::{PeerConfig, PeerNetwork, MAX_PEER_WIRE_FRAME, PEER_READ_BUFFER};
use crate::service::RelayState;
use crate::storage::Storage;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use listener::{ClientAddr, LimitedListener};
use ruv_consensus::checkpoint::CheckpointTiming;
use ruv_consensus::{CheckpointConfig, EngineConfig, Tuning, Vertex};
use ruv_protocol::api::{codes, ApiError, ErrorBody};
use ruv_protocol::Genesis;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

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
    /// The database could not be opened or written.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// The stored consensus state does not restore.
    #[error("stored consensus state does not restore: {0}")]
    Restore(#[from] ruv_consensus::RestoreError),
    /// The stored checkpoints do not restore.
    #[error("stored checkpoints do not restore: {0}")]
    Checkpoints(#[from] ruv_consensus::checkpoint::CheckpointError),
    /// The stored state (snapshot, log, checkpoints) does not restore.
    #[error(transparent)]
    Restart(#[from] crate::node::restart::RestartError),
    /// The follower's HTTP client could not be built.
    #[error("HTTP client: {0}")]
    HttpClient(reqwest::Error),
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
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<()>,
    driver: tokio::task::JoinHandle<()>,
}

impl RunningRelay {
    /// Stops serving, stops consensus and closes the database.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        let _ = self.server.await;
        let _ = self.driver.await;
    }

    /// A token cancelled when the relay stops for any reason.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Waits until the relay stops (on shutdown, or when consensus stops after a storage failure).
    pub async fn wait(self) {
        let _ = self.driver.await;
        self.shutdown.cancel();
        let _ = self.server.await;
    }
}

/// Loads genesis, keys and database, restores consensus, connects to peers,
/// and starts serving.
pub async fn start(config: RelayConfig) -> Result<RunningRelay, StartError> {
    let genesis_err = |reason: String| StartError::Genesis {
        path: config.genesis.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&config.genesis).map_err(|e| genesis_err(e.to_string()))?;
    let genesis = Genesis::from_json(&text).map_err(|e| genesis_err(e.to_string()))?;
    crate::chain_id::check(&genesis).map_err(|e| genesis_err(e.to_string()))?;
    let Some(key_file) = &config.key_file else {
        return start_follower(config, genesis).await;
    };
    let key = Arc::new(crate::keys::load(key_file)?);
    let validators: Vec<_> = genesis
        .validator_keys()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let validator = validators
        .iter()
        .position(|k| k == key.public_key())
        .ok_or(StartError::NotAValidator)? as u16;
    let faucet = match &config.faucet_key_file {
        Some(path) => Some(Faucet::new(
            crate::keys::load(path)?,
            config.faucet_pow_bits,
        )),
        None => None,
    };

    let storage = Storage::open(&config.data_dir, genesis.hash())?;
    let engine_config = EngineConfig {
        genesis: genesis.clone(),
        signing_key: key.clone(),
        rng_seed: *crate::keys::random_seed(),
        tuning: Tuning {
            tx_retry_ttl_ms: config.tx_retry_ttl_ms,
            max_pending_txs: config.max_pending_txs,
            ..Tuning::default()
        },
    };
    let checkpoint_config = CheckpointConfig {
        genesis: genesis.clone(),
        signing_key: key.clone(),
        rng_seed: *crate::keys::random_seed(),
        timing: CheckpointTiming::default(),
        keep_certified: ruv_consensus::CERTIFIED_IN_MEMORY,
    };
    let restored = crate::node::restart::restore(&storage, engine_config, checkpoint_config)?;
    tracing::info!(
        name = %config.name,
        validator,
        certified_checkpoints = restored.certified,
        accepted_vertices = restored.accepted,
        undecided_vertices = restored.processing,
        state_checkpoint = restored.snapshot_checkpoint,
        restore_ms = restored.elapsed.as_millis() as u64,
        "consensus state restored"
    );
    let (engine, checkpoints) = (restored.engine, restored.checkpoints);

    let shutdown = CancellationToken::new();
    let (peers, inbound) = PeerNetwork::new(PeerConfig {
        key,
        validator,
        genesis_hash: genesis.hash(),
        validators,
        dial: config.peers.clone(),
        shutdown: shutdown.clone(),
    });
    let metrics = Arc::new(Metrics::new());
    let events = tokio::sync::broadcast::channel(crate::service::EVENT_BUFFER).0;
    let (mut node, handle, inputs) = ConsensusNode::new(
        engine,
        checkpoints,
        storage,
        peers.clone(),
        events.clone(),
        metrics.clone(),
    );
    node.set_keep_checkpoints(config.keep_checkpoints);
    let driver = tokio::spawn(node.run(inbound, inputs, shutdown.clone()));
    peers.spawn_dialers();
    let state = Arc::new(
        RelayState::new(
            config.name.clone(),
            genesis,
            handle,
            events,
            faucet,
            metrics,
            shutdown.clone(),
        )
        .with_limits(&config.client_limits),
    );

    serve(&config, state, Some(peers), shutdown, driver).await
}

/// Starts a follower relay: restores what it adopted, then follows its
/// upstreams (see [`crate::follower`]).
async fn start_follower(config: RelayConfig, genesis: Genesis) -> Result<RunningRelay, StartError> {
    let started = std::time::Instant::now();
    let storage = Storage::open(&config.data_dir, genesis.hash())?;
    let stored = storage.load_checkpoints()?;
    let vertices: Vec<Arc<Vertex>> = storage
        .load()?
        .accepted
        .iter()
        .map(|bytes| Vertex::decode(bytes).map(Arc::new))
        .collect::<Result<_, _>>()
        .map_err(|_| crate::storage::StorageError::Corrupt("accepted vertex"))?;
    let certified_count = stored.certified.len();
    let snapshot = storage.load_snapshot()?;
    let synced = if certified_count == 0
        && snapshot.is_none()
        && config.sync == crate::config::StateSync::Snapshot
    {
        let client = reqwest::Client::builder()
            .timeout(crate::follower::REQUEST_TIMEOUT)
            .build()
            .map_err(StartError::HttpClient)?;
        crate::follower::sync::sync_from_state(&client, &config.upstreams, &genesis, &storage)
            .await?
    } else {
        None
    };
    let state_checkpoint = synced.as_ref().map_or_else(
        || snapshot.as_ref().map_or(0, |s| s.checkpoint),
        |core| core.history_from() - 1,
    );
    let core = match (synced, snapshot) {
        (Some(core), _) => core,
        (None, Some(snapshot)) => crate::follower::core::FollowerCore::restore_from_snapshot(
            &genesis,
            &snapshot,
            stored.certified,
            vertices,
        )?,
        (None, None) => {
            let mut core =
                crate::follower::core::FollowerCore::restore(&genesis, stored.certified, vertices)?;
            // A first start, or a database from before states were stored:
            // store the latest state (the replay's changes are in it).
            storage.write_snapshot(&core.state_snapshot())?;
            core.take_state_delta(0);
            core
        }
    };
    tracing::info!(
        name = %config.name,
        upstreams = ?config.upstreams,
        certified_checkpoints = certified_count,
        state_checkpoint,
        restore_ms = started.elapsed().as_millis() as u64,
        "follower state restored"
    );
    let shutdown = CancellationToken::new();
    let metrics = Arc::new(Metrics::new());
    let events = tokio::sync::broadcast::channel(crate::service::EVENT_BUFFER).0;
    let (mut node, handle, inputs) = crate::follower::FollowerNode::new(
        core,
        storage,
        config.upstreams.clone(),
        events.clone(),
        metrics.clone(),
    )
    .map_err(StartError::HttpClient)?;
    node.set_keep_checkpoints(config.keep_checkpoints);
    let driver = tokio::spawn(node.run(inputs, shutdown.clone()));
    let faucet = match &config.faucet_key_file {
        Some(path) => Some(Faucet::new(
            crate::keys::load(path)?,
            config.faucet_pow_bits,
        )),
        None => None,
    };
    let state = Arc::new(
        RelayState::new(
            config.name.clone(),
            genesis,
            handle,
            events,
            faucet,
            metrics,
            shutdown.clone(),
        )
        .with_limits(&config.client_limits)
        .following(config.upstreams.clone()),
    );
    serve(&config, state, None, shutdown, driver).await
}

/// Binds the client API and serves it until `shutdown`.
async fn serve(
    config: &RelayConfig,
    state: Arc<RelayState>,
    peers: Option<Arc<PeerNetwork>>,
    shutdown: CancellationToken,
    driver: tokio::task::JoinHandle<()>,
) -> Result<RunningRelay, StartError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::Listen(config.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Listen(config.listen, e))?;
    let listener = LimitedListener::new(
        listener,
        config.client_limits.max_connections_per_ip,
        config.client_limits.idle_timeout,
    );
    let app = router(state.clone(), peers, config);
    let stop = shutdown.clone();
    let server = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<ClientAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned());
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "server stopped");
        }
    });
    tracing::info!(%addr, "client API and peer endpoint listening");
    Ok(RunningRelay {
        addr,
        state,
        shutdown,
        server,
        driver,
    })
}

/// The relay's API and peer endpoint only: the wallet is served from an
/// origin of its own (`scripts/serve-wallet.mjs`), never by a relay.
fn router(
    state: Arc<RelayState>,
    peers: Option<Arc<PeerNetwork>>,
    config: &RelayConfig,
) -> axum::Router {
    // A follower has no peer endpoint: it never joins the validators' links.
    let peer_route = match peers {
        None => axum::Router::new(),
        Some(peers) => axum::Router::new().route(
            "/peer/v1",
            axum::routing::get(move |ws: axum::extract::ws::WebSocketUpgrade| {
                let peers = peers.clone();
                async move {
                    let Some(slot) = peers.handshake_slot() else {
                        return (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "too many peer handshakes under way",
                        )
                            .into_response();
                    };
                    ws.max_message_size(MAX_PEER_WIRE_FRAME)
                        .max_frame_size(MAX_PEER_WIRE_FRAME)
                        .read_buffer_size(PEER_READ_BUFFER)
                        .on_upgrade(move |socket| peers.accept(socket, slot))
                }
            }),
        ),
    };
    let api = rest::routes()
        .route("/ws", axum::routing::get(ws::upgrade))
        .fallback(|| async { ApiFailure(ApiError::new(codes::NOT_FOUND, "no such API endpoint")) })
        // JSON answers never render as a page, embed anything or get framed.
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ));
    let rest_budget = Arc::new(limits::IpLimiter::per_second(
        config.client_limits.rest_per_second,
        config.client_limits.rest_burst,
    ));
    let app = axum::Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .route("/metrics", axum::routing::get(metrics))
        .nest("/api/v1", api)
        .with_state(state)
        .merge(peer_route);
    // Layers run bottom-up on a request: the budget is spent before
    // anything else, including CORS preflights.
    let app = app
        .layer(cors(&config.cors_origins))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
    app.layer(axum::middleware::from_fn_with_state(
        rest_budget,
        limits::rest_budget,
    ))
}

/// CORS: only the configured origins (none by default, so browsers refuse
/// cross-origin reads); GET and POST with a JSON body.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        // The config checked every origin; one a header cannot carry is skipped.
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<Arc<RelayState>>,
) -> impl IntoResponse {
    if state.node().is_healthy() {
        (StatusCode::OK, "ok")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "storage failed; not deciding",
        )
    }
}

async fn metrics(
    axum::extract::State(state): axum::extract::State<Arc<RelayState>>,
) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        // Never touches the engine: the driver updates its gauges after
        // every batch; the peer links' counters are read here.
        {
            state.node().refresh_gauges(&state.metrics);
            state.metrics.render()
        },
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
        codes::NOT_FOUND | codes::NOT_CERTIFIED => StatusCode::NOT_FOUND,
        codes::PRUNED | codes::STATE_UNAVAILABLE => StatusCode::GONE,
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
