//! Helpers shared by the tests that drive relays through the real command
//! line (`operator.rs`, `followers.rs`): each includes this module, and
//! uses only part of it.
#![allow(dead_code)]

use ruv_integration_tests::address;
use ruv_integration_tests::reader::{self, Source};
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::light::TrustAnchor;
use ruv_protocol::tx::{SignedTransfer, Transfer, SIGNED_TRANSFER_FIXED_LEN};
use ruv_protocol::{Address, Genesis};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

pub const CLI: &str = env!("CARGO_BIN_EXE_ruv-relay-cli");
pub const OPERATORS: usize = 4;
/// The funded account's genesis balance, micro-rUv.
pub const SUPPLY: u64 = 1_000_000_000_000;
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the command line to completion.
pub fn cli(args: &[&str]) -> Output {
    std::process::Command::new(CLI)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("running ruv-relay")
}

/// Runs it and expects success; its standard output.
pub fn cli_ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success(),
        "ruv-relay {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs it and expects failure; its standard error.
pub fn cli_fails(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        !out.status.success(),
        "ruv-relay {args:?} should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// The value of a `label: value` line of a command's output.
pub fn field<'a>(output: &'a str, label: &str) -> &'a str {
    output
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{label}: ")))
        .unwrap_or_else(|| panic!("no {label:?} in {output}"))
}

pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub use ruv_integration_tests::free_port;

/// One operator's machine: a folder of its own, and its relay once running.
pub struct Operator {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub relay: Option<tokio::process::Child>,
}

impl Operator {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("relay.toml")
    }

    /// `ruv-relay run --config relay.toml`, started from another folder so
    /// that the file's relative paths must resolve against its own folder.
    pub fn start(&mut self, elsewhere: &Path) {
        let child = tokio::process::Command::new(CLI)
            .args(["run", "--config", path(&self.config())])
            .current_dir(elsewhere)
            .kill_on_drop(true)
            .spawn()
            .expect("starting the relay");
        self.relay = Some(child);
    }

    /// Sends SIGTERM and waits for the relay to exit; its exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.relay.take().expect("relay running");
        let pid = child.id().expect("relay has a pid").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("the relay did not exit within 60 s of SIGTERM")
            .unwrap()
    }
}

/// Waits until every relay in `operators` is healthy and linked to all the
/// others (fails after 60 s, or at once, saying so, if one of them exited).
pub async fn wait_for_mesh(operators: &mut [Operator]) {
    let urls: Vec<String> = operators.iter().map(Operator::url).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut waiting = 0;
    while waiting < urls.len() {
        for op in operators.iter_mut() {
            if let Some(exit) = op.relay.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "relay {} exited with {exit} while the mesh formed",
                    op.url()
                );
            }
        }
        let url = &urls[waiting];
        let linked = healthy(url).await
            && status(url)["network"]["peers_connected"] == urls.len() as u64 - 1;
        if linked {
            waiting += 1;
            continue;
        }
        assert!(
            Instant::now() < deadline,
            "{url}: not linked to {} peers within 60 s",
            urls.len() - 1
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Like [`eventually`]; on failure the message also holds what each relay
/// of `urls` says of itself (`status --json`: its latest checkpoint, its
/// peers), so that a stall shows which relay lagged.
pub async fn eventually_explained<T, F, Fut>(what: &str, urls: &[String], mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() >= deadline {
            let mut states = String::new();
            for url in urls {
                let out = cli(&["status", "--url", url, "--json"]);
                let said = match serde_json::from_slice::<Value>(&out.stdout) {
                    Ok(view) => format!(
                        "{}: latest checkpoint {}, {} peers, {} transactions pending",
                        view["network"]["relay"],
                        view["latest_checkpoint"]["number"],
                        view["network"]["peers_connected"],
                        view["network"]["pending_transactions"]
                    ),
                    Err(_) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                };
                states.push_str(&format!("\n  {url}: {said}"));
            }
            panic!("{what}: not within 60 s{states}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls until `check` returns `Some` (fails after 60 s).
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_explained(what, &[], check).await
}

pub async fn healthy(url: &str) -> bool {
    matches!(
        reqwest::get(format!("{url}/healthz")).await,
        Ok(r) if r.status().is_success()
    )
}

/// `ruv-relay status --json` of a relay.
pub fn status(url: &str) -> Value {
    serde_json::from_str(&cli_ok(&["status", "--url", url, "--json"])).unwrap()
}

pub fn transfer(
    genesis: &Genesis,
    from: &SigningKey,
    to: Address,
    amount: u64,
    nonce: u64,
) -> SignedTransfer {
    let size = SIGNED_TRANSFER_FIXED_LEN + genesis.chain_id.len();
    Transfer {
        chain_id: genesis.chain_id.clone(),
        from: address(from),
        to,
        amount,
        fee: genesis.fees.minimum_fee(size).unwrap(),
        nonce,
        memo: String::new(),
        public_key: from.public_key().clone(),
    }
    .sign(from, [0; 32])
    .unwrap()
}

/// Waits until `relay` proves `tx` final and `to` holding `balance`, both
/// verified against the genesis.
pub async fn proven_final(
    anchor: &TrustAnchor,
    relay: &str,
    tx: &SignedTransfer,
    to: Address,
    balance: u64,
) {
    eventually(&format!("{relay}: transfer proven final"), || async {
        let mut source = Source::rest(relay, TIMEOUT);
        reader::transaction(&mut source, anchor, tx.id()).await.ok()
    })
    .await;
    eventually(
        &format!("{relay}: recipient proven to hold {balance}"),
        || async {
            let mut source = Source::rest(relay, TIMEOUT);
            let (_, account) = reader::account(&mut source, anchor, to).await.ok()?;
            (account.balance == balance).then_some(())
        },
    )
    .await;
}
