//! Follower relays, the operator way: four validators and two followers,
//! all started from config files with `run --config` (followers have no
//! `key-file`, only `upstreams`). A transfer submitted to a follower is
//! forwarded, becomes final and is proven (verified against genesis) on
//! every relay, followers included; a follower stopped while the network
//! moves on by many checkpoints catches up after a restart and proves the
//! new state, while the other one fails over when its first upstream
//! validator goes away (and keeps following once it is back); a follower whose only upstream lies (a forged certificate, a
//! tampered vertex) adopts nothing from it and keeps serving its last
//! verified state, then catches up once the upstream is honest again; a
//! new follower syncs from a certified state (refusing a tampered balance
//! or a missing account) and follows on from there.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use common::*;
use ruv_integration_tests::reader::{self, Source};
use ruv_integration_tests::{address, get, key, post};
use ruv_protocol::light::TrustAnchor;
use ruv_protocol::Genesis;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

/// Four validators formed from `keygen` keys and one `genesis`, not started.
struct Network {
    coordinator: tempfile::TempDir,
    validators: Vec<Operator>,
    genesis: Genesis,
    genesis_file: PathBuf,
    anchor: TrustAnchor,
}

impl Network {
    fn form(chain: &str) -> Self {
        let mut validators: Vec<Operator> = (0..OPERATORS).map(|_| operator()).collect();
        let coordinator = tempfile::tempdir().unwrap();
        let mut args = vec![
            "genesis".to_owned(),
            "--chain-id".into(),
            chain.into(),
            "--balance".into(),
            format!("{}={SUPPLY}", address(&key(1))),
        ];
        for (i, op) in validators.iter().enumerate() {
            let key_file = op.dir.path().join("validator.key");
            cli_ok(&["keygen", "--out", path(&key_file)]);
            args.push("--validator".into());
            args.push(format!("op-{i}={}.pub", key_file.display()));
        }
        let genesis_file = coordinator.path().join("genesis.json");
        args.extend(["--out".into(), genesis_file.display().to_string()]);
        cli_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let text = std::fs::read_to_string(&genesis_file).unwrap();
        let genesis = Genesis::from_json(&text).unwrap();
        let anchor = TrustAnchor::from_genesis_json(&text).unwrap();
        let ports: Vec<u16> = validators.iter().map(|op| op.port).collect();
        for (i, op) in validators.iter_mut().enumerate() {
            std::fs::copy(&genesis_file, op.dir.path().join("genesis.json")).unwrap();
            let peers: Vec<String> = (0..OPERATORS)
                .filter(|&j| j != i)
                .map(|j| format!("\"ws://127.0.0.1:{}/peer/v1\"", ports[j]))
                .collect();
            let config = format!(
                "genesis = \"genesis.json\"\nkey-file = \"validator.key\"\ndata-dir = \"data\"\n\
                 listen = \"127.0.0.1:{}\"\nname = \"op-{i}\"\ntx-retry-ttl-ms = 1500\n\
                 peers = [{}]\n",
                op.port,
                peers.join(", ")
            );
            std::fs::write(op.config(), config).unwrap();
        }
        Self {
            coordinator,
            validators,
            genesis,
            genesis_file,
            anchor,
        }
    }

    fn urls(&self) -> Vec<String> {
        self.validators.iter().map(Operator::url).collect()
    }

    /// Starts every validator and waits for the full mesh.
    async fn start(&mut self) {
        for op in &mut self.validators {
            op.start(self.coordinator.path());
        }
        wait_for_mesh(&mut self.validators).await;
    }

    /// A follower of `upstreams`, configured (no key) but not started.
    fn follower(&self, name: &str, upstreams: &[String]) -> Operator {
        let op = operator();
        std::fs::copy(&self.genesis_file, op.dir.path().join("genesis.json")).unwrap();
        let upstreams: Vec<String> = upstreams.iter().map(|u| format!("\"{u}\"")).collect();
        let config = format!(
            "genesis = \"genesis.json\"\ndata-dir = \"data\"\nlisten = \"127.0.0.1:{}\"\n\
             name = \"{name}\"\nupstreams = [{}]\n",
            op.port,
            upstreams.join(", ")
        );
        std::fs::write(op.config(), config).unwrap();
        op
    }

    fn transfer(&self, to: ruv_protocol::Address, amount: u64, nonce: u64) -> SignedTransferOf {
        transfer(&self.genesis, &key(1), to, amount, nonce)
    }
}

type SignedTransferOf = ruv_protocol::tx::SignedTransfer;

fn operator() -> Operator {
    Operator {
        dir: tempfile::tempdir().unwrap(),
        port: free_port(),
        relay: None,
    }
}

/// The latest checkpoint number a relay proves (certificate verified
/// against genesis).
async fn verified_latest(anchor: &TrustAnchor, url: &str) -> Option<u64> {
    let mut source = Source::rest(url, TIMEOUT);
    let checkpoint = reader::latest(&mut source, anchor).await.ok()?;
    Some(checkpoint.header().number)
}

async fn start_and_wait(op: &mut Operator, elsewhere: &Path) {
    op.start(elsewhere);
    let url = op.url();
    eventually(&format!("{url} healthy"), || async {
        healthy(&url).await.then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_serve_verified_state_forward_submissions_and_catch_up() {
    let mut net = Network::form("followtest");
    net.start().await;
    let urls = net.urls();
    let reversed: Vec<String> = urls.iter().rev().cloned().collect();
    let mut followers = [
        net.follower("follower-a", &urls),
        net.follower("follower-b", &reversed),
    ];
    for f in &mut followers {
        start_and_wait(f, net.coordinator.path()).await;
    }
    let follower_urls: Vec<String> = followers.iter().map(Operator::url).collect();

    // A follower says what it is: no peers, its upstreams, never a validator.
    let view = status(&follower_urls[0]);
    assert_eq!(view["network"]["role"], "follower", "{view}");
    assert_eq!(
        view["network"]["upstreams"],
        serde_json::json!(urls),
        "{view}"
    );
    assert_eq!(view["network"]["peers_connected"], 0, "{view}");
    assert_eq!(status(&urls[0])["network"]["role"], "validator");
    let text = cli_ok(&["status", "--url", &follower_urls[1]]);
    assert!(text.contains("role         follower"), "{text}");
    // It has no peer endpoint: it never links to validators as one.
    let peer = reqwest::get(format!("{}/peer/v1", follower_urls[0]))
        .await
        .unwrap();
    assert_eq!(peer.status(), StatusCode::NOT_FOUND);

    // A transfer submitted to a follower is final and proven everywhere.
    let bob = address(&key(2));
    let first = net.transfer(bob, 5_000_000, 1);
    let (code, body) = post(format!("{}/api/v1/transactions", follower_urls[0]), &first).await;
    assert_eq!(code, 202, "{body}");
    for url in urls.iter().chain(&follower_urls) {
        proven_final(&net.anchor, url, &first, bob, 5_000_000).await;
    }
    let stored = get(format!(
        "{}/api/v1/transactions/{}",
        follower_urls[0],
        first.id()
    ))
    .await;
    assert_eq!(stored["status"], "accepted", "{stored}");

    // Follower b stops, and so does validator 0 (follower a's first
    // upstream); the network moves on by many checkpoints. Follower a fails
    // over to its next upstream, for syncing and for forwarding.
    let exit = followers[1].terminate().await;
    assert!(exit.success(), "follower exited with {exit} after SIGTERM");
    let exit = net.validators[0].terminate().await;
    assert!(exit.success(), "validator exited with {exit} after SIGTERM");
    let stopped_at = verified_latest(&net.anchor, &urls[1]).await.unwrap();
    let mut balance = 5_000_000;
    let mut last = first;
    for nonce in 2..=6 {
        let amount = 1_000_000 * nonce;
        balance += amount;
        last = net.transfer(bob, amount, nonce);
        // Every other transfer through follower a, the rest through validators 1-3.
        let via = if nonce % 2 == 0 {
            &follower_urls[0]
        } else {
            &urls[1 + nonce as usize % 3]
        };
        let (code, body) = post(format!("{via}/api/v1/transactions"), &last).await;
        assert_eq!(code, 202, "{body}");
        proven_final(&net.anchor, &urls[1], &last, bob, balance).await;
    }
    let target = stopped_at + 10;
    eventually_explained(
        &format!("the network reaches checkpoint {target}"),
        &urls[1..],
        || async { (verified_latest(&net.anchor, &urls[1]).await? >= target).then_some(()) },
    )
    .await;
    proven_final(&net.anchor, &follower_urls[0], &last, bob, balance).await;

    // Restarted, it resumes from its database and catches up checkpoint by
    // checkpoint from certified state, proving the new state.
    start_and_wait(&mut followers[1], net.coordinator.path()).await;
    proven_final(&net.anchor, &follower_urls[1], &last, bob, balance).await;
    eventually("the restarted follower passes the target", || async {
        (verified_latest(&net.anchor, &follower_urls[1]).await? >= target).then_some(())
    })
    .await;
    // Validator 0 comes back and catches up; the followers keep following.
    start_and_wait(&mut net.validators[0], net.coordinator.path()).await;
    proven_final(&net.anchor, &urls[0], &last, bob, balance).await;
    let later = verified_latest(&net.anchor, &urls[0]).await.unwrap();
    for url in &follower_urls {
        eventually(&format!("{url} follows past {later}"), || async {
            (verified_latest(&net.anchor, url).await? >= later).then_some(())
        })
        .await;
    }
}

/// How the proxy in front of a validator lies about checkpoint sync pages.
const HONEST: u8 = 0;
/// Flips a bit in the certificate's last signature.
const FORGE_CERTIFICATE: u8 = 1;
/// Flips a bit in the first vertex's signature (pages without vertices pass).
const TAMPER_VERTEX: u8 = 2;
/// Adds one to the first balance of every state page.
const TAMPER_BALANCE: u8 = 3;
/// Leaves the last account out of the state: of every state page, and of
/// the count `GET /state/snapshot` and the pages announce.
const DROP_ACCOUNT: u8 = 4;

/// Offsets in a state page (`ruv_protocol::snapshot::StatePage`).
const STATE_TOTAL_AT: usize = ruv_protocol::snapshot::STATE_PAGE_HEADER_LEN - 8;
const STATE_COUNT_AT: usize = ruv_protocol::snapshot::STATE_PAGE_HEADER_LEN - 4;

/// A proxy in front of one validator's client API that tampers with the
/// sync pages (`/checkpoints/{n}/vertices`) it passes on.
struct LyingUpstream {
    upstream: String,
    mode: AtomicU8,
    /// Pages it tampered with.
    lies: AtomicU64,
    /// Response body bytes it passed on (for the sync cost figures).
    bytes: AtomicU64,
    client: reqwest::Client,
}

async fn proxy(
    State(liar): State<Arc<LyingUpstream>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    let url = format!("{}{}", liar.upstream, uri);
    let request = if method == Method::POST {
        liar.client
            .post(url)
            .body(body.to_vec())
            .header("content-type", "application/json")
    } else {
        liar.client.get(url)
    };
    let Ok(response) = request.send().await else {
        return (StatusCode::BAD_GATEWAY, Vec::new());
    };
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let mut bytes = response.bytes().await.unwrap_or_default().to_vec();
    let mode = liar.mode.load(Ordering::SeqCst);
    if status == StatusCode::OK && uri.path().ends_with("/accounts") {
        lie_about_state(&mut bytes, mode, &liar.lies);
    }
    if status == StatusCode::OK && uri.path().ends_with("/state/snapshot") && mode == DROP_ACCOUNT {
        let mut info: Value = serde_json::from_slice(&bytes).unwrap();
        info["accounts"] = (info["accounts"].as_u64().unwrap() - 1).into();
        bytes = serde_json::to_vec(&info).unwrap();
    }
    liar.bytes.fetch_add(bytes.len() as u64, Ordering::SeqCst);
    if status == StatusCode::OK && uri.path().ends_with("/vertices") {
        let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let stored_len = u32_at(&bytes, 0) as usize;
        let certificate_end = 4 + 4 + u32_at(&bytes, 4) as usize;
        let target = match liar.mode.load(Ordering::SeqCst) {
            FORGE_CERTIFICATE => Some(certificate_end - 1),
            TAMPER_VERTEX => {
                let count_at = 4 + stored_len + 8;
                (u32_at(&bytes, count_at) > 0).then(|| {
                    let len = u32_at(&bytes, count_at + 4) as usize;
                    count_at + 8 + len - 1
                })
            }
            _ => None,
        };
        if let Some(at) = target {
            bytes[at] ^= 0x01;
            liar.lies.fetch_add(1, Ordering::SeqCst);
        }
    }
    (status, bytes)
}

/// Tampers with a state page (`/state/snapshot/{n}/accounts`) as `mode` says.
fn lie_about_state(page: &mut Vec<u8>, mode: u8, lies: &AtomicU64) {
    let header = ruv_protocol::snapshot::STATE_PAGE_HEADER_LEN;
    let record = ruv_protocol::snapshot::SNAPSHOT_ACCOUNT_LEN;
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let count = u32_at(page, STATE_COUNT_AT);
    match mode {
        TAMPER_BALANCE if count > 0 => page[header + 32] ^= 0x01,
        DROP_ACCOUNT if count > 0 => {
            page.truncate(page.len() - record);
            page[STATE_COUNT_AT..header].copy_from_slice(&(count - 1).to_le_bytes());
            let total = u32_at(page, STATE_TOTAL_AT) - 1;
            page[STATE_TOTAL_AT..STATE_COUNT_AT].copy_from_slice(&total.to_le_bytes());
        }
        _ => return,
    }
    lies.fetch_add(1, Ordering::SeqCst);
}

async fn start_liar(upstream: String) -> (String, Arc<LyingUpstream>) {
    let liar = Arc::new(LyingUpstream {
        upstream,
        mode: AtomicU8::new(HONEST),
        lies: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        client: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(proxy).with_state(liar.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, liar)
}

/// Switches the liar's mode and waits until it told `n` more lies.
async fn lie(liar: &LyingUpstream, mode: u8, n: u64) {
    let before = liar.lies.load(Ordering::SeqCst);
    liar.mode.store(mode, Ordering::SeqCst);
    eventually("the follower asked the liar again", || async {
        (liar.lies.load(Ordering::SeqCst) >= before + n).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_refuses_a_lying_upstream_and_keeps_its_verified_state() {
    let mut net = Network::form("liartest");
    net.start().await;
    let urls = net.urls();
    let (liar_url, liar) = start_liar(urls[0].clone()).await;
    let mut follower = net.follower("follower", std::slice::from_ref(&liar_url));
    start_and_wait(&mut follower, net.coordinator.path()).await;
    let f = follower.url();

    // Honest at first: the follower proves a transfer.
    let bob = address(&key(2));
    let first = net.transfer(bob, 5_000_000, 1);
    let (code, body) = post(format!("{}/api/v1/transactions", urls[1]), &first).await;
    assert_eq!(code, 202, "{body}");
    proven_final(&net.anchor, &f, &first, bob, 5_000_000).await;

    // A forged certificate: nothing is adopted, whatever the network does.
    lie(&liar, FORGE_CERTIFICATE, 2).await;
    let held = verified_latest(&net.anchor, &f).await.unwrap();
    let second = net.transfer(bob, 7_000_000, 2);
    let (code, body) = post(format!("{}/api/v1/transactions", urls[1]), &second).await;
    assert_eq!(code, 202, "{body}");
    proven_final(&net.anchor, &urls[0], &second, bob, 12_000_000).await;
    lie(&liar, FORGE_CERTIFICATE, 3).await;
    assert_eq!(verified_latest(&net.anchor, &f).await, Some(held));
    let network_at = verified_latest(&net.anchor, &urls[0]).await.unwrap();
    assert!(
        network_at > held,
        "the network moved on ({network_at} > {held})"
    );

    // A tampered vertex: the checkpoint holding the second transfer is never adopted.
    lie(&liar, TAMPER_VERTEX, 3).await;
    let mut source = Source::rest(&f, TIMEOUT);
    assert!(
        reader::transaction(&mut source, &net.anchor, second.id())
            .await
            .is_err(),
        "a follower proved a transfer it only saw in tampered pages"
    );
    // It keeps serving its last verified state, proofs and all.
    let (_, account) = reader::account(&mut source, &net.anchor, bob)
        .await
        .unwrap();
    assert_eq!(account.balance, 5_000_000);
    let status: Value = get(format!("{f}/api/v1/network/status")).await;
    assert_eq!(status["role"], "follower", "{status}");

    // Honest again: it catches up.
    liar.mode.store(HONEST, Ordering::SeqCst);
    proven_final(&net.anchor, &f, &second, bob, 12_000_000).await;
}

/// The checkpoint of the state a relay stores and serves for state sync.
async fn stored_state_at(url: &str) -> u64 {
    let info: Value = get(format!("{url}/api/v1/state/snapshot")).await;
    info["checkpoint"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_follower_syncs_from_a_certified_state_and_refuses_a_lying_one() {
    let mut net = Network::form("statesync");
    net.start().await;
    let urls = net.urls();
    let payer = address(&key(1));
    let bob = address(&key(2));
    let first = net.transfer(bob, 5_000_000, 1);
    let (code, body) = post(format!("{}/api/v1/transactions", urls[1]), &first).await;
    assert_eq!(code, 202, "{body}");
    proven_final(&net.anchor, &urls[0], &first, bob, 5_000_000).await;
    // The validators' stored state passes the checkpoint that included it.
    let included = verified_latest(&net.anchor, &urls[0]).await.unwrap();
    for url in &urls[..2] {
        eventually(&format!("{url} stores a state past {included}"), || async {
            (stored_state_at(url).await > included).then_some(())
        })
        .await;
    }
    // Its stored state is served in pages: one here, of every account.
    let info: Value = get(format!("{}/api/v1/state/snapshot", urls[0])).await;
    assert!(info["accounts"].as_u64().unwrap() >= 2, "{info}");
    let gone = reqwest::get(format!("{}/api/v1/state/snapshot/0/accounts", urls[0]))
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::GONE);
    let body: Value = gone.json().await.unwrap();
    assert_eq!(body["error"]["code"], "state_unavailable", "{body}");

    // A follower whose first upstream tampers with a balance refuses that
    // state and syncs from the honest one.
    let (liar_url, liar) = start_liar(urls[0].clone()).await;
    liar.mode.store(TAMPER_BALANCE, Ordering::SeqCst);
    let mut synced = net.follower("synced", &[liar_url.clone(), urls[1].clone()]);
    start_and_wait(&mut synced, net.coordinator.path()).await;
    let f = synced.url();
    assert!(liar.lies.load(Ordering::SeqCst) >= 1, "the liar was asked");
    let at = stored_state_at(&f).await;
    assert!(at > included, "synced state at {at}, not past {included}");
    // It holds no history before the synced state: the checkpoint that
    // included the first transfer is not here, and its proof is pruned.
    let early = reqwest::get(format!("{f}/api/v1/checkpoints/{included}"))
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::NOT_FOUND);
    let pruned = reqwest::get(format!("{f}/api/v1/accounts/{payer}/nonces/1/proof"))
        .await
        .unwrap();
    assert_eq!(pruned.status(), StatusCode::GONE);
    let unseen = reqwest::get(format!("{f}/api/v1/transactions/{}/proof", first.id()))
        .await
        .unwrap();
    assert_eq!(unseen.status(), StatusCode::NOT_FOUND);
    // It serves a balance with a state proof that verifies against genesis.
    let mut source = Source::rest(&f, TIMEOUT);
    let (_, account) = reader::account(&mut source, &net.anchor, bob)
        .await
        .unwrap();
    assert_eq!(account.balance, 5_000_000);
    // And follows new payments, submitted through it.
    liar.mode.store(HONEST, Ordering::SeqCst);
    let second = net.transfer(bob, 7_000_000, 2);
    let (code, body) = post(format!("{f}/api/v1/transactions"), &second).await;
    assert_eq!(code, 202, "{body}");
    proven_final(&net.anchor, &f, &second, bob, 12_000_000).await;
    // Restarted, it resumes from its database (history from the synced
    // checkpoint on) and keeps following.
    let exit = synced.terminate().await;
    assert!(exit.success(), "follower exited with {exit} after SIGTERM");
    start_and_wait(&mut synced, net.coordinator.path()).await;
    let third = net.transfer(bob, 1_000_000, 3);
    let (code, body) = post(format!("{}/api/v1/transactions", urls[2]), &third).await;
    assert_eq!(code, 202, "{body}");
    proven_final(&net.anchor, &f, &third, bob, 13_000_000).await;

    // A follower whose only upstream leaves an account out of the state
    // stores nothing from it and replays from genesis instead.
    liar.mode.store(DROP_ACCOUNT, Ordering::SeqCst);
    let lies = liar.lies.load(Ordering::SeqCst);
    let mut replayed = net.follower("replayed", std::slice::from_ref(&liar_url));
    start_and_wait(&mut replayed, net.coordinator.path()).await;
    assert!(
        liar.lies.load(Ordering::SeqCst) >= lies + 3,
        "one lie per round"
    );
    let r = replayed.url();
    proven_final(&net.anchor, &r, &third, bob, 13_000_000).await;
    // With every checkpoint from genesis, the first transfer's proof too.
    let mut source = Source::rest(&r, TIMEOUT);
    reader::transaction(&mut source, &net.anchor, first.id())
        .await
        .unwrap();
}

/// The cost of starting a follower on the same history both ways: from a
/// certified state (`--sync snapshot`) and by replaying every checkpoint
/// (`--sync genesis`). Prints the figures (docs/benchmarks.md); asserts
/// only that both reach the same verified checkpoint. Run with
/// `cargo test -p ruv-integration-tests --test followers state_sync_cost -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: prints the cost of both sync modes"]
async fn state_sync_cost() {
    const TRANSFERS: u64 = 300;
    const RECIPIENTS: u64 = 100;
    let mut net = Network::form("synccost");
    net.start().await;
    let urls = net.urls();
    let mut last = None;
    for nonce in 1..=TRANSFERS {
        let to = address(&key(100 + (nonce % RECIPIENTS) as u8));
        let tx = net.transfer(to, 1_000_000, nonce);
        let (code, body) = post(format!("{}/api/v1/transactions", urls[0]), &tx).await;
        assert_eq!(code, 202, "{body}");
        if nonce % 10 == 0 {
            // At most 16 nonces ahead; spread over many checkpoints.
            let received = 1_000_000 * (nonce / RECIPIENTS + u64::from(nonce % RECIPIENTS != 0));
            proven_final(&net.anchor, &urls[1], &tx, to, received).await;
        }
        last = Some(tx);
    }
    let last = last.unwrap();
    eventually("the last transfer is final", || async {
        let mut source = Source::rest(&urls[0], TIMEOUT);
        reader::transaction(&mut source, &net.anchor, last.id())
            .await
            .ok()
    })
    .await;
    // The validators' stored state passes the last transfer.
    let included = verified_latest(&net.anchor, &urls[0]).await.unwrap();
    eventually("the stored state passes the last transfer", || async {
        (stored_state_at(&urls[0]).await > included).then_some(())
    })
    .await;
    let mut reached = Vec::new();
    for mode in ["snapshot", "genesis"] {
        let (proxy_url, proxy) = start_liar(urls[0].clone()).await;
        let mut follower = net.follower(mode, std::slice::from_ref(&proxy_url));
        let mut config = std::fs::read_to_string(follower.config()).unwrap();
        config.push_str(&format!("sync = \"{mode}\"\n"));
        std::fs::write(follower.config(), config).unwrap();
        let target = verified_latest(&net.anchor, &urls[0]).await.unwrap();
        let started = std::time::Instant::now();
        start_and_wait(&mut follower, net.coordinator.path()).await;
        let f = follower.url();
        eventually(&format!("{mode} follower at {target}"), || async {
            (verified_latest(&net.anchor, &f).await? >= target).then_some(())
        })
        .await;
        let elapsed = started.elapsed();
        let bytes = proxy.bytes.load(Ordering::SeqCst);
        println!(
            "sync={mode}: checkpoint {target} ({TRANSFERS} transfers, {} accounts) in {} ms, {bytes} bytes from the upstream",
            RECIPIENTS + 1,
            elapsed.as_millis()
        );
        reached.push(target);
        follower.terminate().await;
    }
    assert!(reached.iter().all(|n| *n > included));
}
