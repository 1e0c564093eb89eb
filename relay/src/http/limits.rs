//! Client API limits, per client IP address: the one home of their
//! defaults ([`ClientLimits::default`]), the keyed token buckets that
//! enforce request budgets, and the middleware that spends them *before*
//! a request is parsed. Documented in `docs/relay.md` (Limits).

use super::listener::ClientAddr;
use super::ApiFailure;
use crate::rate::TokenBucket;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ruv_protocol::api::{codes, ApiError};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Open TCP connections one IP address may hold (client API and peer links share the listener).
pub const MAX_CONNECTIONS_PER_IP: usize = 256;
/// A connection that sends nothing for this long is closed (WebSocket
/// clients answer the relay's pings, so an open subscription stays up).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the relay pings a client WebSocket.
pub const WS_PING_INTERVAL: Duration = Duration::from_secs(30);
/// HTTP requests (REST, WebSocket upgrades, `/metrics`, `/healthz`) per
/// second per IP, sustained.
pub const REST_REQUESTS_PER_SECOND_PER_IP: u32 = 1_000;
/// Burst allowance above [`REST_REQUESTS_PER_SECOND_PER_IP`].
pub const REST_REQUEST_BURST_PER_IP: u32 = 2_000;
/// WebSocket requests per second per IP over all its connections, sustained
/// (each connection also has its own `limits::WS_REQUESTS_PER_SECOND`).
pub const WS_REQUESTS_PER_SECOND_PER_IP: u32 = 500;
/// Burst allowance above [`WS_REQUESTS_PER_SECOND_PER_IP`].
pub const WS_REQUEST_BURST_PER_IP: u32 = 1_000;
/// Faucet payments one IP may ask for: a burst of this many…
pub const FAUCET_BURST_PER_IP: u32 = 20;
/// …then one every this many seconds.
pub const FAUCET_SECONDS_PER_REQUEST_PER_IP: u32 = 6;
/// IP addresses remembered per limiter before idle (full-bucket) ones are forgotten.
const REMEMBERED_IPS: usize = 100_000;

/// The client API's per-IP limits (tests lower them; a relay runs the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLimits {
    /// See [`MAX_CONNECTIONS_PER_IP`].
    pub max_connections_per_ip: usize,
    /// See [`IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// See [`REST_REQUESTS_PER_SECOND_PER_IP`] and the burst.
    pub rest_per_second: u32,
    /// Burst of REST requests.
    pub rest_burst: u32,
    /// See [`WS_REQUESTS_PER_SECOND_PER_IP`].
    pub ws_per_second: u32,
    /// Burst of WebSocket requests.
    pub ws_burst: u32,
    /// Faucet requests one IP may make at once.
    pub faucet_burst: u32,
    /// Seconds between faucet requests after the burst.
    pub faucet_seconds_per_request: u32,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            max_connections_per_ip: MAX_CONNECTIONS_PER_IP,
            idle_timeout: IDLE_TIMEOUT,
            rest_per_second: REST_REQUESTS_PER_SECOND_PER_IP,
            rest_burst: REST_REQUEST_BURST_PER_IP,
            ws_per_second: WS_REQUESTS_PER_SECOND_PER_IP,
            ws_burst: WS_REQUEST_BURST_PER_IP,
            faucet_burst: FAUCET_BURST_PER_IP,
            faucet_seconds_per_request: FAUCET_SECONDS_PER_REQUEST_PER_IP,
        }
    }
}

/// Token buckets keyed by client IP. Limiter state only (a short lock per
/// request), never core state.
#[derive(Debug)]
pub struct IpLimiter {
    buckets: Mutex<HashMap<IpAddr, TokenBucket>>,
    per_second: f64,
    burst: u32,
}

impl IpLimiter {
    /// `per_second` sustained, `burst` at once, per IP.
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        Self {
            buckets: Mutex::default(),
            per_second: per_second as f64,
            burst,
        }
    }

    /// One request every `seconds`, `burst` at once, per IP.
    pub fn every_seconds(seconds: u32, burst: u32) -> Self {
        Self {
            buckets: Mutex::default(),
            per_second: 1.0 / f64::from(seconds.max(1)),
            burst,
        }
    }

    /// Whether `ip` may make one more request now.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= REMEMBERED_IPS && !buckets.contains_key(&ip) {
            buckets.retain(|_, bucket| !bucket.is_full(now));
        }
        buckets
            .entry(ip)
            .or_insert_with(|| TokenBucket::with_rate(self.per_second, self.burst, now))
            .take(now)
    }
}

/// The answer to a client over its budget.
pub fn rate_limited(what: &str) -> ApiError {
    ApiError::new(
        codes::RATE_LIMITED,
        format!("too many {what} from your address; slow down"),
    )
}

/// Middleware: spends one REST token of the client's IP before the request
/// is routed or its body read; over budget, `429 rate_limited`.
pub async fn rest_budget(
    State(limiter): State<Arc<IpLimiter>>,
    ConnectInfo(ClientAddr(addr)): ConnectInfo<ClientAddr>,
    request: Request,
    next: Next,
) -> Response {
    if limiter.allow(addr.ip()) {
        next.run(request).await
    } else {
        ApiFailure(rate_limited("requests")).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_per_ip() {
        let limiter = IpLimiter::per_second(1, 3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!((0..10).filter(|_| limiter.allow(a)).count(), 3);
        assert!(limiter.allow(b));
        let faucet = IpLimiter::every_seconds(60, 2);
        assert_eq!((0..5).filter(|_| faucet.allow(a)).count(), 2);
    }
}
