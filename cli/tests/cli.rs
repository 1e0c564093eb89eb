//! `ruv` against a real devnet on loopback (relays of the integration
//! harness, a lying relay in front of one), through its real command line:
//! exit codes, JSON on stdout, secrets only where they belong.

use assert_cmd::Command;
use ruv_client::vault::driver::VaultDriver;
use ruv_client::vault::storage::MemoryStorage;
use ruv_client::vault::VaultConfig;
use ruv_integration_tests::liar::{self, LiarConfig, LieMode};
use ruv_integration_tests::Devnet;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

/// One `ruv` home with a password file.
struct Home {
    dir: tempfile::TempDir,
    password_file: PathBuf,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let password_file = dir.path().join("password.txt");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        Self { dir, password_file }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("ruv-home")
    }

    /// `ruv --home H --password-file P ARGS`.
    fn ruv(&self, args: &[&str]) -> Run {
        let mut cmd = Command::cargo_bin("ruv").unwrap();
        cmd.env_remove("RUV_HOME")
            .arg("--home")
            .arg(self.home())
            .arg("--password-file")
            .arg(&self.password_file)
            .args(args);
        Run::of(cmd.output().unwrap())
    }

    /// `ruv --json ...`, which must succeed; its JSON.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let run = self.ruv(&all);
        assert_eq!(run.code, 0, "ruv {args:?} failed: {run:?}");
        run.json()
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(output: std::process::Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// Stdout as exactly one JSON object.
    fn json(&self) -> Value {
        let value: Value = serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {self:?}"));
        assert!(value.is_object(), "{value}");
        value
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

fn init(home: &Home, genesis: &Path, relays: &[String]) {
    let mut args = vec!["init", "--genesis", genesis.to_str().unwrap()];
    for relay in relays {
        args.extend(["--relay", relay.as_str()]);
    }
    home.json(&args);
}

/// Retries `ruv --json balance` until the network has certified a
/// checkpoint (fails after 60 s): right after start there is none.
fn first_balance(home: &Home, who: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = home.ruv(&["--json", "balance", who]);
        if run.code == 0 {
            return run.json();
        }
        assert_eq!(run.error_code(), "not_certified", "{run:?}");
        assert!(Instant::now() < deadline, "no certified checkpoint in 60 s");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn micro(value: &Value) -> u64 {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_faucet_transfer_history_and_lies() {
    let devnet = Devnet::start(2).await;
    let relays = vec![devnet.url(0), devnet.url(1)];
    let home = Home::new();
    init(&home, &devnet.files.genesis, &relays);

    // Create: the vault on first use, the phrase once on stderr only.
    let created = home.ruv(&["--json", "account", "create", "--name", "alice"]);
    assert_eq!(created.code, 0, "{created:?}");
    let alice = created.json()["address"].as_str().unwrap().to_owned();
    let phrase_line = created
        .stderr
        .lines()
        .find(|l| l.split_whitespace().count() == 24)
        .expect("the 24-word phrase on stderr")
        .trim()
        .to_owned();
    assert!(!created.stdout.contains(&phrase_line));
    let bob = home.json(&["account", "create", "--name", "bob"])["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = home.ruv(&["account", "create", "--name", "carol"]);
    assert!(
        !second.stderr.contains(&phrase_line),
        "the phrase is shown once"
    );
    let list = home.json(&["account", "list"]);
    let names: Vec<&str> = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob", "carol"]);

    // The phrase restores the same wallet elsewhere.
    let restored = Home::new();
    init(&restored, &devnet.files.genesis, &relays);
    let mut restore = Command::cargo_bin("ruv").unwrap();
    restore
        .env_remove("RUV_HOME")
        .arg("--home")
        .arg(restored.home())
        .arg("--password-file")
        .arg(&restored.password_file)
        .args(["--json", "account", "restore", "--name", "again"])
        .write_stdin(format!("{phrase_line}\n"));
    let run = Run::of(restore.output().unwrap());
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["address"], alice.as_str());

    // Faucet, then a verified balance.
    let empty = first_balance(&home, "bob");
    assert_eq!(empty["balance"], "0");
    // A relay that keeps serving the state it saw first: today it is current.
    let stale = liar::start(
        "127.0.0.1:0".parse().unwrap(),
        LiarConfig::new(devnet.url(0), LieMode::Stale),
    )
    .await
    .unwrap();
    let stale_bob = home.json(&["--relay", &stale.url(), "balance", "bob"]);
    assert_eq!(stale_bob["balance"], "0");
    let paid = home.json(&["faucet", "alice"]);
    assert_eq!(paid["status"], "final", "{paid}");
    let before = home.json(&["balance", "alice"]);
    let funded = micro(&before["balance"]);
    assert!(funded > 0, "{before}");
    assert_eq!(before["address"], alice.as_str());
    assert_eq!(before["nonce"], "0");
    assert!(micro(&before["checkpoint"]) >= 1);

    // Transfer with --json: proven final.
    let sent = home.json(&[
        "transfer", "--from", "alice", "--to", &bob, "--amount", "12.5", "--memo", "lunch", "--yes",
    ]);
    assert_eq!(sent["status"], "final", "{sent}");
    let id = sent["id"].as_str().unwrap().to_owned();
    let fee = devnet
        .genesis
        .fees
        .minimum_fee(
            ruv_protocol::tx::SIGNED_TRANSFER_FIXED_LEN + devnet.genesis.chain_id.len() + 5,
        )
        .unwrap();
    let bob_balance = home.json(&["balance", &bob]);
    assert_eq!(micro(&bob_balance["balance"]), 12_500_000);
    let after = home.json(&["balance", "alice"]);
    assert_eq!(micro(&after["balance"]), funded - 12_500_000 - fee);
    assert_eq!(after["nonce"], "1");

    // tx and history: verified statuses, newest first.
    let tx = home.json(&["tx", &id]);
    assert_eq!(tx["status"], "final");
    assert_eq!(tx["from"], alice.as_str());
    let history = home.json(&["history", "alice"]);
    let items = history["transactions"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{history}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["direction"], "out");
    assert_eq!(items[0]["status"], "final");
    assert_eq!(items[1]["kind"], "faucet");
    assert_eq!(items[1]["status"], "final");
    let newest = home.json(&["history", "alice", "--limit", "1"]);
    assert_eq!(newest["transactions"].as_array().unwrap().len(), 1);
    assert_eq!(newest["transactions"][0]["id"], id.as_str());
    let bob_history = home.json(&["history", "bob"]);
    assert_eq!(bob_history["transactions"][0]["direction"], "in");
    let human = home.ruv(&["history", "alice"]);
    assert!(human.stdout.contains("final @"), "{human:?}");
    assert_eq!(items[0]["source"], "relays");

    // The restored home sent nothing, yet shows both, proven by the relays.
    let elsewhere = restored.json(&["history", "again"]);
    let items = elsewhere["transactions"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{elsewhere}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["direction"], "out");
    assert_eq!(items[0]["memo"], "lunch");
    assert_eq!(items[1]["direction"], "in");
    assert!(items.iter().all(|i| i["status"] == "final"));

    // A relay forging history: exit 3 alone; with an honest relay, the truth.
    let forger = liar::start(
        "127.0.0.1:0".parse().unwrap(),
        LiarConfig::new(devnet.url(0), LieMode::ForgeHistory),
    )
    .await
    .unwrap();
    let lied = restored.ruv(&["--json", "--relay", &forger.url(), "history", "again"]);
    assert_eq!(lied.code, 3, "{lied:?}");
    assert_eq!(lied.error_code(), "verification_failed");
    let rescued = restored.ruv(&[
        "--json",
        "--relay",
        &forger.url(),
        "--relay",
        &devnet.url(1),
        "history",
        "again",
    ]);
    assert_eq!(rescued.code, 0, "{rescued:?}");
    assert_eq!(rescued.json()["transactions"], elsewhere["transactions"]);
    assert!(
        rescued.stderr.contains("failed verification"),
        "{rescued:?}"
    );

    // Insufficient funds, in the words; nothing is signed.
    let broke = home.ruv(&[
        "transfer", "--from", "bob", "--to", &alice, "--amount", "20", "--yes",
    ]);
    assert_eq!(broke.code, 1, "{broke:?}");
    assert!(
        broke.stderr.contains(&format!(
            "insufficient funds: balance 12.5 rUv, needed {} rUv",
            ruv_amount(20_000_000 + devnet.min_fee())
        )),
        "{broke:?}"
    );

    // --no-wait returns at submission; `tx` then proves it final.
    let quick = home.json(&[
        "transfer",
        "--from",
        "bob",
        "--to",
        "alice",
        "--amount",
        "1",
        "--yes",
        "--no-wait",
    ]);
    assert_eq!(quick["status"], "pending", "{quick}");
    let quick_id = quick["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let tx = home.json(&["tx", &quick_id]);
        if tx["status"] == "final" {
            assert_eq!(tx["from"], bob.as_str());
            assert_eq!(tx["nonce"], "1");
            break;
        }
        assert_eq!(tx["status"], "pending", "{tx}");
        assert!(Instant::now() < deadline, "not final in 60 s: {tx}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let after = home.json(&["balance", "alice"]);
    assert_eq!(after["nonce"], "1");

    // A relay that lies about balances: exit 3 alone, the truth with an honest one.
    let liar = liar::start(
        "127.0.0.1:0".parse().unwrap(),
        LiarConfig::new(devnet.url(0), LieMode::ChangeBalance),
    )
    .await
    .unwrap();
    let lied = home.ruv(&["--json", "--relay", &liar.url(), "balance", "alice"]);
    assert_eq!(lied.code, 3, "{lied:?}");
    assert_eq!(lied.error_code(), "verification_failed");
    assert!(lied.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&liar.url()));
    let rescued = home.ruv(&[
        "--json",
        "--relay",
        &liar.url(),
        "--relay",
        &devnet.url(1),
        "balance",
        "alice",
    ]);
    assert_eq!(rescued.code, 0, "{rescued:?}");
    assert_eq!(rescued.json()["balance"], after["balance"]);
    assert!(
        rescued.stderr.contains("failed verification"),
        "{rescued:?}"
    );

    // Later it replays bob's balance from before the payment: the home keeps
    // the newest verified checkpoint, so the old proof is refused.
    let replayed = home.ruv(&["--json", "--relay", &stale.url(), "balance", "bob"]);
    assert_eq!(replayed.code, 3, "{replayed:?}");
    assert_eq!(replayed.error_code(), "verification_failed");

    // node status: both relays verified.
    let status = home.json(&["node", "status"]);
    for relay in status["relays"].as_array().unwrap() {
        assert_eq!(relay["verified"], true, "{status}");
        assert_eq!(relay["peers"], 1, "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_alone_gives_verified_answers() {
    let devnet = Devnet::start(2).await;
    // A follower (no validator key) running the faucet: its payments and
    // transfers are forwarded to the validators; its proofs are its own.
    let follower = devnet.start_follower("follower", true).await;
    let home = Home::new();
    init(
        &home,
        &devnet.files.genesis,
        &[format!("http://{}", follower.addr)],
    );
    let alice = home.json(&["account", "create", "--name", "alice"]);
    let bob = home.json(&["account", "create", "--name", "bob"])["address"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(first_balance(&home, "bob")["balance"], "0");
    let paid = home.json(&["faucet", "alice"]);
    assert_eq!(paid["status"], "final", "{paid}");
    let funded = home.json(&["balance", "alice"]);
    assert_eq!(funded["address"], alice["address"]);
    assert!(micro(&funded["balance"]) > 0, "{funded}");
    let sent = home.json(&[
        "transfer", "--from", "alice", "--to", &bob, "--amount", "3", "--yes",
    ]);
    assert_eq!(sent["status"], "final", "{sent}");
    assert_eq!(micro(&home.json(&["balance", &bob])["balance"]), 3_000_000);
    assert_eq!(
        home.json(&["tx", sent["id"].as_str().unwrap()])["status"],
        "final"
    );
    follower.shutdown().await;
}

fn ruv_amount(micro: u64) -> String {
    let text = format!("{}.{:06}", micro / 1_000_000, micro % 1_000_000);
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_owned()
}

/// A devnet's files (genesis) without running relays.
fn offline_network() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let files = ruv_relay::devnet::init(dir.path(), 1).unwrap();
    (dir, files.genesis)
}

#[test]
fn errors_have_their_exit_codes() {
    let (_net, genesis) = offline_network();
    let home = Home::new();
    // Port 1 on loopback: nothing listens.
    let dead = "http://127.0.0.1:1".to_owned();
    init(&home, &genesis, std::slice::from_ref(&dead));
    let address = home.json(&["account", "create", "--name", "alice"])["address"]
        .as_str()
        .unwrap()
        .to_owned();

    // No relay reachable: exit 4, and the message says what was tried.
    let unreachable = home.ruv(&["--json", "balance", "alice"]);
    assert_eq!(unreachable.code, 4, "{unreachable:?}");
    assert_eq!(unreachable.error_code(), "no_relay_reachable");
    let message = unreachable.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("no relay reachable: tried"),
        "{message}"
    );
    assert!(message.contains(&dead), "{message}");
    let human = home.ruv(&["balance", "alice"]);
    assert_eq!(human.code, 4);
    assert!(human.stdout.is_empty() && human.stderr.contains("no relay reachable"));

    // Wrong password: exit 1, said plainly.
    let wrong = home.dir.path().join("wrong.txt");
    std::fs::write(&wrong, "not the password").unwrap();
    let mut cmd = Command::cargo_bin("ruv").unwrap();
    cmd.env_remove("RUV_HOME")
        .arg("--home")
        .arg(home.home())
        .arg("--password-file")
        .arg(&wrong)
        .args(["--json", "account", "list"]);
    let run = Run::of(cmd.output().unwrap());
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.error_code(), "wrong_password");
    assert_eq!(run.json()["error"]["message"], "wrong password");

    // Usage: exit 2 (bad amount, bad address, unknown option), JSON when asked.
    let bad_amount = home.ruv(&[
        "--json",
        "transfer",
        "--from",
        "alice",
        "--to",
        &address,
        "--amount",
        "1.0000001",
        "--yes",
    ]);
    assert_eq!(bad_amount.code, 2, "{bad_amount:?}");
    assert_eq!(bad_amount.error_code(), "invalid_amount");
    let bad_address = home.ruv(&[
        "transfer", "--from", "alice", "--to", "ruv1nope", "--amount", "1", "--yes",
    ]);
    assert_eq!(bad_address.code, 2, "{bad_address:?}");
    let unknown = home.ruv(&["--json", "balance", "--frobnicate"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(unknown.error_code(), "usage");
    let not_initialized = Home::new().ruv(&["balance", &address]);
    assert_eq!(not_initialized.code, 1);
    assert!(
        not_initialized.stderr.contains("ruv init"),
        "{not_initialized:?}"
    );

    // Help with examples on every command.
    for command in [
        vec![],
        vec!["account"],
        vec!["vault"],
        vec!["node"],
        vec!["init"],
        vec!["account", "create"],
        vec!["account", "restore"],
        vec!["account", "list"],
        vec!["balance"],
        vec!["faucet"],
        vec!["transfer"],
        vec!["tx"],
        vec!["history"],
        vec!["vault", "export"],
        vec!["vault", "import"],
        vec!["vault", "change-password"],
        vec!["node", "status"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let help = home.ruv(&args);
        assert_eq!(help.code, 0, "{command:?}");
        assert!(
            help.stdout.contains("Examples:"),
            "{command:?}: {}",
            help.stdout
        );
    }
}

#[test]
fn backups_move_between_cli_and_web_wallet_both_ways() {
    let (_net, genesis) = offline_network();
    let cli = Home::new();
    init(&cli, &genesis, &["http://127.0.0.1:1".to_owned()]);
    cli.json(&["account", "create", "--name", "alice"]);
    cli.json(&["account", "create", "--name", "bob"]);
    let accounts = cli.json(&["account", "list"])["accounts"].clone();

    // The CLI's vault file is owner-only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.home().join("vault.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // CLI -> web wallet: the wallet's own import code opens it.
    let backup = cli.dir.path().join("backup.json");
    cli.json(&["vault", "export", "--out", backup.to_str().unwrap()]);
    let text = std::fs::read_to_string(&backup).unwrap();
    let wallet = pollster::block_on(VaultDriver::open(
        MemoryStorage::new(),
        VaultConfig::default(),
    ))
    .unwrap();
    pollster::block_on(wallet.import_backup(&text, PASSWORD, false, 0)).unwrap();
    let in_wallet: Vec<(String, String)> = wallet
        .accounts(0)
        .unwrap()
        .into_iter()
        .map(|a| (a.label, a.address))
        .collect();
    let in_cli: Vec<(String, String)> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["address"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(in_wallet, in_cli);
    // Exporting over an existing file is refused.
    let again = cli.ruv(&["vault", "export", "--out", backup.to_str().unwrap()]);
    assert_eq!(again.code, 1);

    // Web wallet -> CLI: a vault made and exported by the wallet's code.
    let made = pollster::block_on(VaultDriver::open(
        MemoryStorage::new(),
        VaultConfig::default(),
    ))
    .unwrap();
    pollster::block_on(made.create(PASSWORD, 0)).unwrap();
    pollster::block_on(made.add_account(Some("savings"), 0)).unwrap();
    let expected: Vec<String> = made
        .accounts(0)
        .unwrap()
        .into_iter()
        .map(|a| a.address)
        .collect();
    let from_wallet = cli.dir.path().join("from-wallet.json");
    std::fs::write(
        &from_wallet,
        pollster::block_on(made.export_backup()).unwrap(),
    )
    .unwrap();
    let other = Home::new();
    init(&other, &genesis, &["http://127.0.0.1:1".to_owned()]);
    let imported = other.json(&["vault", "import", from_wallet.to_str().unwrap()]);
    let addresses: Vec<&str> = imported["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, expected);
    // A second import without --replace is refused; with it, it works.
    let twice = other.ruv(&["vault", "import", from_wallet.to_str().unwrap()]);
    assert_eq!(twice.code, 1, "{twice:?}");
    other.json(&["vault", "import", backup.to_str().unwrap(), "--replace"]);
    assert_eq!(other.json(&["account", "list"])["accounts"], accounts);

    // change-password: the old one stops working.
    let new_file = other.dir.path().join("new.txt");
    std::fs::write(&new_file, "another long password\n").unwrap();
    other.json(&[
        "vault",
        "change-password",
        "--new-password-file",
        new_file.to_str().unwrap(),
    ]);
    let old = other.ruv(&["--json", "account", "list"]);
    assert_eq!(old.error_code(), "wrong_password");
}

#[cfg(unix)]
#[test]
fn prompts_on_a_terminal() {
    let (_net, genesis) = offline_network();
    let home = Home::new();
    init(&home, &genesis, &["http://127.0.0.1:1".to_owned()]);
    let spawn = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ruv"));
        cmd.env_remove("RUV_HOME")
            .arg("--home")
            .arg(home.home())
            .args(args);
        rexpect::session::spawn_command(cmd, Some(30_000)).unwrap()
    };
    let exit_code = |p: &rexpect::session::PtySession| match p.process().wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    };

    // Two different passwords: refused, nothing created.
    let mut p = spawn(&["account", "create", "--name", "alice"]);
    p.exp_string("New vault password: ").unwrap();
    p.send_line(PASSWORD).unwrap();
    p.exp_string("New vault password (again): ").unwrap();
    p.send_line("something else entirely").unwrap();
    let out = p.exp_eof().unwrap();
    assert!(out.contains("the two passwords differ"), "{out}");
    assert_eq!(exit_code(&p), 1);
    assert!(!home.home().join("vault.json").exists());

    // Asked twice, not echoed; the phrase is shown with its warning.
    let mut p = spawn(&["account", "create", "--name", "alice"]);
    p.exp_string("New vault password: ").unwrap();
    p.send_line(PASSWORD).unwrap();
    p.exp_string("New vault password (again): ").unwrap();
    p.send_line(PASSWORD).unwrap();
    let out = p.exp_eof().unwrap();
    assert!(!out.contains(PASSWORD), "the password was echoed: {out}");
    assert!(out.contains("Recovery phrase"), "{out}");
    assert!(
        out.lines().any(|l| l.split_whitespace().count() == 24),
        "{out}"
    );
    assert!(out.contains("Created account alice: ruv1"), "{out}");
    assert_eq!(exit_code(&p), 0);

    // An existing vault: the password once.
    let mut p = spawn(&["account", "list"]);
    p.exp_string("Vault password: ").unwrap();
    p.send_line(PASSWORD).unwrap();
    let out = p.exp_eof().unwrap();
    assert!(out.contains("alice"), "{out}");
    assert_eq!(exit_code(&p), 0);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_asks_before_signing_on_a_terminal() {
    let devnet = Devnet::start(1).await;
    let home = Home::new();
    init(&home, &devnet.files.genesis, &[devnet.url(0)]);
    home.json(&["account", "create", "--name", "alice"]);
    let bob = home.json(&["account", "create", "--name", "bob"])["address"]
        .as_str()
        .unwrap()
        .to_owned();
    first_balance(&home, "alice");
    home.json(&["faucet", "alice"]);

    let spawn = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ruv"));
        cmd.env_remove("RUV_HOME")
            .arg("--home")
            .arg(home.home())
            .args(args);
        rexpect::session::spawn_command(cmd, Some(60_000)).unwrap()
    };
    let transfer = [
        "transfer",
        "--from",
        "alice",
        "--to",
        bob.as_str(),
        "--amount",
        "1.5",
    ];

    // Declined: nothing signed, nothing sent.
    let mut p = spawn(&transfer);
    p.exp_string("Vault password: ").unwrap();
    p.send_line(PASSWORD).unwrap();
    p.exp_string(&format!("To        {bob}")).unwrap();
    p.exp_string("Amount").unwrap();
    p.exp_string("Fee").unwrap();
    p.exp_string("Total").unwrap();
    p.exp_string(&format!("Network   {}", devnet.genesis.chain_id))
        .unwrap();
    p.exp_string("Sign and send this transfer? [y/N] ").unwrap();
    p.send_line("n").unwrap();
    let out = p.exp_eof().unwrap();
    assert!(out.contains("cancelled: nothing was signed"), "{out}");
    assert_eq!(home.json(&["balance", &bob])["balance"], "0");

    // Confirmed: sent and proven final.
    let mut p = spawn(&transfer);
    p.exp_string("Vault password: ").unwrap();
    p.send_line(PASSWORD).unwrap();
    p.exp_string("Sign and send this transfer? [y/N] ").unwrap();
    p.send_line("y").unwrap();
    let out = p.exp_eof().unwrap();
    assert!(out.contains("is final (verified at checkpoint"), "{out}");
    assert_eq!(home.json(&["balance", &bob])["balance"], "1500000");
}
