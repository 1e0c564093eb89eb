//! A lying relay (`ruv_integration_tests::liar`) in front of an honest one:
//! the light-client verifier rejects every lie it tells (a stale relay is
//! caught by the client's freshness policy instead, and an equivocating
//! supermajority leaves exportable evidence), and a client that drops the
//! liar and asks an honest relay gets the truth.

use ruv_integration_tests::liar::{self, Colluders, LiarConfig, LieMode, RunningLiar};
use ruv_integration_tests::reader::{self, ReadError, Source};
use ruv_integration_tests::{address, key, post, Devnet, WsClient};
use ruv_protocol::checkpoint::CheckpointError;
use ruv_protocol::light::{
    AccountProof, TrustAnchor, VerifiedAccount, VerifiedCheckpoint, VerifiedInclusion, VerifyError,
};
use ruv_protocol::smt::SmtError;
use ruv_protocol::{Address, TxId};
use serde_json::{json, Value};
use std::fmt::Debug;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncBufReadExt;

/// Per-request timeout of the reads that expect an answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The client's freshness policy: a "latest" checkpoint older than this
/// (than the newest one seen, or than the client's clock) is stale.
const FRESHNESS_MS: u64 = 2_000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Polls a read until it succeeds (fails after 30 s).
macro_rules! eventually {
    ($what:expr, $read:expr) => {{
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match $read {
                Ok(value) => break value,
                Err(e) => assert!(Instant::now() < deadline, "{}: {e}", $what),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }};
}

async fn start_liar(
    devnet: &Devnet,
    mode: LieMode,
    other: Option<&std::path::Path>,
) -> RunningLiar {
    let mut config = LiarConfig::new(devnet.url(0), mode);
    if mode == LieMode::ReplayOtherNetwork {
        config.other_checkpoint = Some(liar::load_checkpoint(other.unwrap()).unwrap());
    }
    if mode == LieMode::Equivocate {
        config.colluders = Some(Colluders::load(devnet.dir.path()).unwrap());
    }
    liar::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

/// What a client reads from one relay, each piece verified (or not).
#[derive(Debug)]
struct View {
    latest: Result<VerifiedCheckpoint, ReadError>,
    account: Result<(VerifiedCheckpoint, VerifiedAccount), ReadError>,
    transaction: Result<(VerifiedCheckpoint, VerifiedInclusion), ReadError>,
}

impl View {
    async fn read(source: &mut Source, anchor: &TrustAnchor, who: Address, tx: TxId) -> View {
        View {
            latest: reader::latest(source, anchor).await,
            account: reader::account(source, anchor, who).await,
            transaction: reader::transaction(source, anchor, tx).await,
        }
    }

    /// The same from WebSocket subscriptions: the first `checkpoint` event,
    /// the first `account_proof` event (checked against its checkpoint,
    /// fetched on the same WebSocket); no transaction.
    async fn from_events(url: &str, anchor: &TrustAnchor, who: Address) -> View {
        let mut ws = WsClient::connect(url).await;
        ws.request("subscribe_checkpoints", json!({})).await;
        let checkpoint = next_event(&mut ws, "checkpoint").await;
        ws.request(
            "subscribe_account",
            json!({"address": who.to_string(), "proofs": true}),
        )
        .await;
        let proof: AccountProof =
            serde_json::from_value(next_event(&mut ws, "account_proof").await)
                .expect("an account proof event");
        let mut source = Source::ws(url, TIMEOUT).await;
        View {
            latest: reader::check_checkpoint(anchor, checkpoint),
            account: reader::check_account_proof(&mut source, anchor, &proof).await,
            transaction: Err(ReadError::Unavailable("not read from events".into())),
        }
    }
}

/// The payload of the next event of type `kind` (without its `type`).
async fn next_event(ws: &mut WsClient, kind: &str) -> Value {
    loop {
        let mut message = ws.recv().await;
        if message["event"]["type"] == kind {
            let event = message["event"].as_object_mut().unwrap();
            event.remove("type");
            return Value::Object(event.clone());
        }
    }
}

fn verified<'a, T: Debug>(mode: LieMode, what: &str, read: &'a Result<T, ReadError>) -> &'a T {
    match read {
        Ok(value) => value,
        Err(e) => panic!("{mode}: {what} should verify: {e}"),
    }
}

fn rejected<'a, T: Debug>(
    mode: LieMode,
    what: &str,
    read: &'a Result<T, ReadError>,
) -> &'a VerifyError {
    match read {
        Err(ReadError::Rejected(e)) => e,
        other => panic!("{mode}: {what} should fail verification, got {other:?}"),
    }
}

/// The reason every piece read through a liar that lies about checkpoints
/// fails (a proof is only checked against a verified checkpoint, and the
/// proof's checkpoint comes from the same liar).
fn checkpoint_lie_caught(mode: LieMode, error: &VerifyError) -> bool {
    match mode {
        LieMode::ForgeCheckpoint | LieMode::BadSignature => matches!(
            error,
            VerifyError::Certificate(CheckpointError::BadSignature { .. })
        ),
        LieMode::TruncateCertificate => matches!(
            error,
            VerifyError::Certificate(CheckpointError::BelowQuorum { .. })
        ),
        // Chain ids are bound to their genesis, so another network's
        // checkpoint already fails on its chain id (a changed genesis hash
        // alone is covered by the light-client vectors).
        LieMode::ReplayOtherNetwork => {
            matches!(error, VerifyError::Checkpoint(why) if why.contains("another chain id"))
        }
        _ => false,
    }
}

/// What the honest relay says, for comparison.
struct Truth {
    latest: VerifiedCheckpoint,
    account: VerifiedAccount,
}

/// Checks one view read through a liar (over `transport`).
async fn judge(
    mode: LieMode,
    transport: &str,
    view: &View,
    truth: &Truth,
    honest: &mut Source,
    anchor: &TrustAnchor,
) {
    let what = |piece: &str| format!("{piece} over {transport}");
    let has_transaction = transport != "events";
    match mode {
        // History lies are judged in tests/tests/history.rs (and the CLI's tests).
        LieMode::Honest | LieMode::ForgeHistory => {
            verified(mode, &what("latest checkpoint"), &view.latest);
            let (_, account) = verified(mode, &what("account"), &view.account);
            assert_eq!(account.balance, truth.account.balance);
            if has_transaction {
                verified(mode, &what("transaction"), &view.transaction);
            }
        }
        LieMode::ForgeCheckpoint
        | LieMode::TruncateCertificate
        | LieMode::BadSignature
        | LieMode::ReplayOtherNetwork => {
            let mut pieces = vec![
                (
                    "latest checkpoint",
                    rejected(mode, &what("latest"), &view.latest),
                ),
                ("account", rejected(mode, &what("account"), &view.account)),
            ];
            if has_transaction {
                pieces.push((
                    "transaction",
                    rejected(mode, &what("transaction"), &view.transaction),
                ));
            }
            for (piece, error) in pieces {
                assert!(
                    checkpoint_lie_caught(mode, error),
                    "{mode}: {piece} over {transport} rejected for the wrong reason: {error}"
                );
            }
        }
        LieMode::ChangeBalance => {
            verified(mode, &what("latest checkpoint"), &view.latest);
            let error = rejected(mode, &what("account"), &view.account);
            assert!(matches!(error, VerifyError::Proof(_)), "{mode}: {error}");
            if has_transaction {
                verified(mode, &what("transaction"), &view.transaction);
            }
        }
        LieMode::ChangeSibling => {
            verified(mode, &what("latest checkpoint"), &view.latest);
            let mut errors = vec![rejected(mode, &what("account"), &view.account)];
            if has_transaction {
                errors.push(rejected(mode, &what("transaction"), &view.transaction));
            }
            for error in errors {
                assert_eq!(
                    *error,
                    VerifyError::Merkle(SmtError::RootMismatch),
                    "{mode}"
                );
            }
        }
        LieMode::Equivocate => {
            // Colluders holding > 2/3 of the stake sign anything: the forged
            // header verifies. What the client can do is notice the
            // conflict: two verified headers, one number, two ids.
            let forged = verified(mode, &what("latest checkpoint"), &view.latest);
            let number = forged.number();
            let real = eventually!(
                format!("honest checkpoint {number}"),
                reader::checkpoint(honest, anchor, number).await
            );
            assert_eq!(real.number(), forged.number());
            assert_ne!(real.id(), forged.id(), "{mode}: no equivocation");
            assert_ne!(real.header().state_root, forged.header().state_root);
            // Honest proofs do not fit the forged state root.
            let error = rejected(mode, &what("account"), &view.account);
            assert_eq!(*error, VerifyError::Merkle(SmtError::RootMismatch));
            if has_transaction {
                verified(mode, &what("transaction"), &view.transaction);
            }
        }
        LieMode::Stale => {
            // Everything verifies: only freshness gives it away.
            let stale = verified(mode, &what("latest checkpoint"), &view.latest);
            let fresh = &truth.latest;
            assert!(
                fresh.number() > stale.number(),
                "{mode}: {} vs {}",
                fresh.number(),
                stale.number()
            );
            assert!(
                fresh.header().time_ms > stale.header().time_ms + FRESHNESS_MS,
                "{mode}: the stale checkpoint is not older than the fresh one by more than {FRESHNESS_MS} ms"
            );
            assert!(now_ms() > stale.header().time_ms + FRESHNESS_MS);
            let (proven_at, account) = verified(mode, &what("account"), &view.account);
            assert!(proven_at.number() < fresh.number());
            assert_ne!(
                account.balance, truth.account.balance,
                "{mode}: the replayed proof shows the current balance"
            );
            if has_transaction {
                verified(mode, &what("transaction"), &view.transaction);
            }
        }
        LieMode::Withhold => unreachable!("withhold has its own test"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lie_is_caught_and_an_honest_relay_tells_the_truth() {
    let started = Instant::now();
    let (devnet, other) = tokio::join!(Devnet::start(4), Devnet::start(1));
    let anchor = devnet.trust_anchor();
    let mut honest = Source::rest(&devnet.url(1), TIMEOUT);
    eventually!(
        "a certified checkpoint on relay 0",
        reader::latest(&mut Source::rest(&devnet.url(0), TIMEOUT), &anchor).await
    );

    // Another network's certified checkpoint, in a file, for the replay.
    let other_anchor = other.trust_anchor();
    let mut other_relay = Source::rest(&other.url(0), TIMEOUT);
    eventually!(
        "a certified checkpoint on the other network",
        reader::latest(&mut other_relay, &other_anchor).await
    );
    let other_file = other.dir.path().join("checkpoint.json");
    let other_checkpoint = other_relay.ask(reader::Query::Latest).await.unwrap();
    std::fs::write(&other_file, other_checkpoint.to_string()).unwrap();

    let modes: Vec<LieMode> = LieMode::ALL
        .into_iter()
        .filter(|m| *m != LieMode::Withhold)
        .collect();
    let mut liars = Vec::new();
    for mode in &modes {
        liars.push(start_liar(&devnet, *mode, Some(&other_file)).await);
    }
    let liar = |mode: LieMode| liars.iter().find(|l| l.mode == mode).unwrap();

    // The stale liar sees its first checkpoint and proof now, before the payment.
    let faucet_key = devnet.faucet_key();
    let faucet = address(&faucet_key);
    let mut stale = Source::rest(&liar(LieMode::Stale).url(), TIMEOUT);
    let pinned = reader::latest(&mut stale, &anchor).await.unwrap();
    reader::account(&mut stale, &anchor, faucet).await.unwrap();

    // A payment (posted through the honest liar: POSTs pass) becomes final
    // and provably so on relay 0 (behind the liars) and relay 1.
    let tx = devnet.transfer(&faucet_key, address(&key(42)), 1_234_567, 1);
    let id = tx.id();
    let (code, body) = post(
        format!("{}/api/v1/transactions", liar(LieMode::Honest).url()),
        &tx,
    )
    .await;
    assert_eq!(code, 202, "{body}");
    devnet.wait_final(0, &id.to_string()).await;
    let mut relay0 = Source::rest(&devnet.url(0), TIMEOUT);
    eventually!(
        "the payment's proof on relay 0",
        reader::transaction(&mut relay0, &anchor, id).await
    );
    eventually!(
        "the payment's proof on relay 1",
        reader::transaction(&mut honest, &anchor, id).await
    );
    // Let the network move on for longer than the freshness policy allows.
    let fresh = eventually!(
        "a checkpoint more than FRESHNESS_MS newer than the stale one",
        reader::latest(&mut honest, &anchor).await.and_then(|c| {
            if c.header().time_ms > pinned.header().time_ms + FRESHNESS_MS {
                Ok(c)
            } else {
                Err(ReadError::Unavailable("not newer yet".into()))
            }
        })
    );

    // The truth, from relay 1.
    let truth = View::read(&mut honest, &anchor, faucet, id).await;
    let (_, account) = verified(LieMode::Honest, "honest account", &truth.account);
    let (_, included) = verified(LieMode::Honest, "honest transaction", &truth.transaction);
    assert_eq!(
        (account.nonce, included.from, included.nonce),
        (1, faucet, 1)
    );
    let truth = Truth {
        latest: verified(LieMode::Honest, "honest latest", &truth.latest).clone(),
        account: *account,
    };
    assert!(truth.latest.number() >= fresh.number());

    for mode in &modes {
        let url = liar(*mode).url();
        let rest = View::read(&mut Source::rest(&url, TIMEOUT), &anchor, faucet, id).await;
        judge(*mode, "REST", &rest, &truth, &mut honest, &anchor).await;
        let ws = View::read(&mut Source::ws(&url, TIMEOUT).await, &anchor, faucet, id).await;
        judge(*mode, "WebSocket", &ws, &truth, &mut honest, &anchor).await;
        let events = View::from_events(&url, &anchor, faucet).await;
        judge(*mode, "events", &events, &truth, &mut honest, &anchor).await;
        // Dropping the liar and asking relay 1 gives the truth.
        let again = View::read(&mut honest, &anchor, faucet, id).await;
        judge(
            LieMode::Honest,
            "REST",
            &again,
            &truth,
            &mut honest,
            &anchor,
        )
        .await;
    }
    eprintln!("lying modes checked in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withholding_relay_times_out_and_failover_drops_liars() {
    let devnet = Devnet::start(4).await;
    let anchor = devnet.trust_anchor();
    let faucet = address(&devnet.faucet_key());
    let genesis_balance = devnet.genesis.balances[0].amount;
    for relay in [0, 1] {
        eventually!(
            format!("a certified checkpoint on relay {relay}"),
            reader::latest(&mut Source::rest(&devnet.url(relay), TIMEOUT), &anchor).await
        );
    }
    let two_seconds = Duration::from_secs(2);

    // Withholding: checkpoint and proof requests time out; others pass.
    let withhold = start_liar(&devnet, LieMode::Withhold, None).await;
    let mut source = Source::rest(&withhold.url(), two_seconds);
    let asked = Instant::now();
    let read = reader::latest(&mut source, &anchor).await;
    assert!(matches!(read, Err(ReadError::Unavailable(_))), "{read:?}");
    assert!(asked.elapsed() >= Duration::from_millis(1_900));
    let read = reader::account(&mut source, &anchor, faucet).await;
    assert!(matches!(read, Err(ReadError::Unavailable(_))), "{read:?}");
    let status =
        ruv_integration_tests::get(format!("{}/api/v1/network/status", withhold.url())).await;
    assert_eq!(status["chain_id"], devnet.genesis.chain_id.as_str());
    let mut ws = Source::ws(&withhold.url(), two_seconds).await;
    let read = reader::latest(&mut ws, &anchor).await;
    assert!(matches!(read, Err(ReadError::Unavailable(_))), "{read:?}");
    let mut ws = WsClient::connect(&withhold.url()).await;
    let reply = ws.request("network_status", json!({})).await;
    assert_eq!(
        reply["result"]["chain_id"],
        devnet.genesis.chain_id.as_str()
    );
    // The same requests to relay 1 succeed.
    let mut relay1 = Source::rest(&devnet.url(1), two_seconds);
    reader::latest(&mut relay1, &anchor).await.unwrap();
    let (_, account) = reader::account(&mut relay1, &anchor, faucet).await.unwrap();
    assert_eq!(account.balance, genesis_balance);

    // Failover: the liar is dropped, relay 1's verified answer is the truth.
    let liar = start_liar(&devnet, LieMode::ChangeBalance, None).await;
    let read =
        reader::read_with_failover(&[liar.url(), devnet.url(1)], &anchor, faucet, two_seconds)
            .await
            .unwrap();
    assert_eq!(read.relay, devnet.url(1));
    assert_eq!(read.account.balance, genesis_balance);
    assert_eq!(read.dropped.len(), 1, "{:?}", read.dropped);
    assert_eq!(read.dropped[0].0, liar.url());
    assert!(
        matches!(
            read.dropped[0].1,
            ReadError::Rejected(VerifyError::Proof(_))
        ),
        "{:?}",
        read.dropped
    );
    // A silent relay is dropped too, after the timeout.
    let relays = [withhold.url(), liar.url(), devnet.url(1)];
    let read = reader::read_with_failover(&relays, &anchor, faucet, two_seconds)
        .await
        .unwrap();
    assert_eq!(read.relay, devnet.url(1));
    assert_eq!(read.account.balance, genesis_balance);
    let dropped: Vec<&str> = read.dropped.iter().map(|(url, _)| url.as_str()).collect();
    assert_eq!(dropped, [withhold.url(), liar.url()]);
    assert!(matches!(read.dropped[0].1, ReadError::Unavailable(_)));
    // With only liars, there is nothing to believe.
    let all = reader::read_with_failover(&[liar.url()], &anchor, faucet, two_seconds).await;
    assert!(all.is_err());

    // The binary (for Playwright) lies the same way.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ruv-liar"))
        .args(["--upstream", &devnet.url(0), "--listen", "127.0.0.1:0"])
        .args(["--mode", "change-balance"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(TIMEOUT, lines.next_line())
        .await
        .expect("ruv-liar did not start within 10 s")
        .unwrap()
        .unwrap();
    let url = line.strip_prefix("listening on ").expect(&line).to_owned();
    let mut source = Source::rest(&url, TIMEOUT);
    reader::latest(&mut source, &anchor).await.unwrap();
    let read = reader::account(&mut source, &anchor, faucet).await;
    assert!(
        matches!(read, Err(ReadError::Rejected(VerifyError::Proof(_)))),
        "{read:?}"
    );
    child.kill().await.unwrap();
}

#[test]
fn lie_modes_have_kebab_case_names() {
    let names: Vec<String> = LieMode::ALL.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        names,
        [
            "honest",
            "forge-checkpoint",
            "truncate-certificate",
            "bad-signature",
            "replay-other-network",
            "stale",
            "change-balance",
            "change-sibling",
            "equivocate",
            "withhold",
            "forge-history"
        ]
    );
    for mode in LieMode::ALL {
        assert_eq!(mode.to_string().parse::<LieMode>(), Ok(mode));
    }
    assert!("Stale".parse::<LieMode>().is_err());
}
