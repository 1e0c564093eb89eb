//! The client API's per-IP limits, each attacked on loopback against a real
//! relay whose limits are lowered (so the attack is small): the connection
//! cap, the idle timeout, the REST and WebSocket request budgets (spent
//! before parsing), the faucet budget, CORS (no cross-origin access unless
//! configured) and the security headers.

use ruv_integration_tests::{
    address, error_code, json_response, key, solved_faucet_request, Devnet, WsClient,
};
use ruv_relay::http::limits::ClientLimits;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The defaults with `change` applied.
fn limits(change: impl FnOnce(&mut ClientLimits)) -> ClientLimits {
    let mut limits = ClientLimits::default();
    change(&mut limits);
    limits
}

/// Whether the relay closed `stream` (EOF or reset) within 10 s.
async fn closed_by_relay(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_ip_are_capped_and_idle_ones_closed() {
    let devnet = Devnet::start_with(1, |c| {
        c.client_limits = limits(|l| {
            l.max_connections_per_ip = 4;
            l.idle_timeout = Duration::from_secs(1);
        })
    })
    .await;
    let addr = devnet.relays[0].addr;

    // Four connections are taken; the fifth is closed before it is read.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    let mut fifth = TcpStream::connect(addr).await.unwrap();
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    assert!(
        closed_by_relay(&mut fifth).await,
        "a fifth connection was served"
    );

    // The held ones send nothing: the idle timeout closes them, which frees
    // their slots for a connection that does talk.
    for stream in &mut held {
        assert!(
            closed_by_relay(stream).await,
            "an idle connection stayed open"
        );
    }
    let mut talker = TcpStream::connect(addr).await.unwrap();
    talker
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    talker.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rest_budget_is_spent_before_parsing() {
    let devnet = Devnet::start_with(1, |c| {
        c.client_limits = limits(|l| {
            l.rest_per_second = 1;
            l.rest_burst = 8;
        })
    })
    .await;
    let http = reqwest::Client::new();
    // The burst is served, then `429 rate_limited` — for a body that is not
    // JSON at all: the budget is spent before anything is parsed.
    let mut codes = Vec::new();
    for _ in 0..20 {
        let (status, body) = json_response(
            http.post(format!("{}/api/v1/transactions", devnet.url(0)))
                .body("{not json")
                .send()
                .await
                .unwrap(),
        )
        .await;
        codes.push((status, error_code(&body).to_owned()));
    }
    let limited = codes
        .iter()
        .filter(|(s, c)| *s == 429 && c == "rate_limited")
        .count();
    let parsed = codes
        .iter()
        .filter(|(s, c)| *s == 400 && c == "malformed_json")
        .count();
    assert_eq!(limited + parsed, 20, "{codes:?}");
    assert!((8..20).contains(&parsed), "{codes:?}");
    assert!(limited >= 1, "{codes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_and_faucet_budgets_are_per_ip() {
    let devnet = Devnet::start_with(1, |c| {
        c.client_limits = limits(|l| {
            l.ws_per_second = 1;
            l.ws_burst = 3;
            l.faucet_burst = 2;
            l.faucet_seconds_per_request = 3600;
        })
    })
    .await;
    let url = devnet.url(0);

    // Two connections from one IP share its budget, although each stays far
    // below the per-connection rate. Refused before parsing: no request id.
    let mut first = WsClient::connect(&url).await;
    let mut second = WsClient::connect(&url).await;
    let mut answers = Vec::new();
    for n in 0..8 {
        let client = if n % 2 == 0 { &mut first } else { &mut second };
        client
            .send_text(json!({"id": n, "method": "network_status", "params": {}}).to_string())
            .await;
        answers.push(client.recv().await);
    }
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a["error"]["code"] == "rate_limited")
        .collect();
    assert!(refused.len() >= 3, "{answers:?}");
    assert!(refused.iter().all(|a| a["id"].is_null()), "{refused:?}");
    assert!(
        answers[..3].iter().all(|a| a.get("result").is_some()),
        "{answers:?}"
    );

    // Faucet: two payments per IP, then `rate_limited` (to distinct
    // addresses, so the per-address cooldown is not what refuses).
    let http = reqwest::Client::new();
    let mut faucet_codes = Vec::new();
    for n in 0..3u8 {
        let (status, body) = json_response(
            http.post(format!("{url}/api/v1/faucet"))
                .json(&solved_faucet_request(&url, address(&key(200 + n))).await)
                .send()
                .await
                .unwrap(),
        )
        .await;
        faucet_codes.push((status, error_code(&body).to_owned()));
    }
    assert!(
        faucet_codes[..2].iter().all(|(s, _)| *s == 202),
        "{faucet_codes:?}"
    );
    assert_eq!(
        faucet_codes[2],
        (429, "rate_limited".to_owned()),
        "{faucet_codes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_reads_only_for_configured_origins_and_security_headers() {
    let wallet = "http://127.0.0.1:5173";
    let devnet = Devnet::start_with(2, |c| {
        if c.name == "relay-1" {
            c.cors_origins = vec![wallet.to_owned()];
        }
    })
    .await;
    let http = reqwest::Client::new();
    let allowed = |i: usize, origin: &'static str| {
        let request = http
            .get(format!("{}/api/v1/network/status", devnet.url(i)))
            .header("origin", origin);
        async move {
            let response = request.send().await.unwrap();
            let headers = response.headers().clone();
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(headers["x-frame-options"], "DENY");
            assert_eq!(headers["referrer-policy"], "no-referrer");
            assert!(headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'"));
            headers
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap().to_owned())
        }
    };
    // By default no origin may read; once configured, only that origin.
    assert_eq!(allowed(0, wallet).await, None);
    assert_eq!(allowed(1, wallet).await.as_deref(), Some(wallet));
    assert_eq!(allowed(1, "http://evil.example").await, None);
    // A preflight for the configured origin is answered; for another, not.
    let preflight = |origin: &'static str| {
        http.request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/transactions", devnet.url(1)),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
    };
    let ok = preflight(wallet).await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], wallet);
    let refused = preflight("http://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
