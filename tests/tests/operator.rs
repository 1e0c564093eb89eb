//! A network formed the operator way, with the real command line: four
//! operators each make a key with `keygen` in their own folder and share only
//! the public key; one `genesis` is built from those (and rebuilt by another
//! operator to the same hash); four validators start from config files with
//! `run --config`. A transfer submitted to one relay is proven final on every
//! relay; a relay stopped with SIGTERM exits cleanly, keeps its state and
//! catches up. Bad inputs (a readable seed file, an existing key file, bad
//! genesis arguments, an unknown config key) are refused with their error.

use ruv_integration_tests::{address, get, key, post};
use ruv_protocol::light::TrustAnchor;
use ruv_protocol::Genesis;
use std::path::{Path, PathBuf};

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_operators_form_a_network_from_public_keys_and_config_files() {
    // Each operator makes a key on their own machine (folder).
    let mut operators: Vec<Operator> = (0..OPERATORS)
        .map(|_| Operator {
            dir: tempfile::tempdir().unwrap(),
            port: free_port(),
            relay: None,
        })
        .collect();
    let coordinator = tempfile::tempdir().unwrap();
    let mut validator_args = Vec::new();
    for (i, op) in operators.iter().enumerate() {
        let key_file = op.dir.path().join("validator.key");
        let made = cli_ok(&["keygen", "--out", path(&key_file)]);
        let public_key = field(&made, "public key");
        assert_eq!(field(&made, "fingerprint").len(), 19, "{made}");
        // Only the public key travels: the coordinator gets the .pub file.
        let public_file = PathBuf::from(format!("{}.pub", key_file.display()));
        assert_eq!(
            std::fs::read_to_string(&public_file).unwrap().trim(),
            public_key
        );
        let shared = coordinator.path().join(format!("op-{i}.pub"));
        std::fs::copy(&public_file, &shared).unwrap();
        validator_args.push(format!("op-{i}={}", shared.display()));
    }

    // One genesis from the public keys, with an account whose key the test holds.
    let alice = key(1);
    let balance = format!("{}={SUPPLY}", address(&alice));
    let build = |validators: &[String], out: &Path| {
        let mut args = vec!["genesis", "--chain-id", "optest"];
        for v in validators {
            args.extend(["--validator", v]);
        }
        args.extend(["--balance", &balance, "--out", path(out)]);
        cli_ok(&args)
    };
    let genesis_file = coordinator.path().join("genesis.json");
    let made = build(&validator_args, &genesis_file);
    let genesis_hash = field(&made, "genesis hash").to_owned();
    let genesis = Genesis::from_json(&std::fs::read_to_string(&genesis_file).unwrap()).unwrap();
    assert_eq!(field(&made, "chain id"), genesis.chain_id);
    assert!(
        genesis.chain_id.starts_with("optest-"),
        "{}",
        genesis.chain_id
    );
    assert_eq!(genesis.validators.len(), OPERATORS);
    // Another operator rebuilds it from the same inputs (in another order)
    // and compares the hash out of band.
    let reversed: Vec<String> = validator_args.iter().rev().cloned().collect();
    let rebuilt = build(&reversed, &coordinator.path().join("rebuilt.json"));
    assert_eq!(field(&rebuilt, "genesis hash"), genesis_hash);

    // Each operator gets the genesis and writes a config; relays start from it.
    let urls: Vec<String> = operators.iter().map(Operator::url).collect();
    for (i, op) in operators.iter().enumerate() {
        std::fs::copy(&genesis_file, op.dir.path().join("genesis.json")).unwrap();
        let peers: Vec<String> = (0..OPERATORS)
            .filter(|&j| j != i)
            .map(|j| format!("\"ws://127.0.0.1:{}/peer/v1\"", operators[j].port))
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
    for op in &mut operators {
        op.start(coordinator.path());
    }
    wait_for_mesh(&mut operators).await;
    // Every relay sees the three others, on the same genesis (`status`).
    for url in &urls {
        let view = status(url);
        assert_eq!(
            view["network"]["genesis_hash"],
            genesis_hash.as_str(),
            "{view}"
        );
        assert_eq!(view["network"]["chain_id"], genesis.chain_id.as_str());
    }

    // A transfer submitted to one relay is proven final on every relay.
    let anchor =
        TrustAnchor::from_genesis_json(&std::fs::read_to_string(&genesis_file).unwrap()).unwrap();
    let bob = address(&key(2));
    let first = transfer(&genesis, &alice, bob, 5_000_000, 1);
    let (code, body) = post(format!("{}/api/v1/transactions", urls[0]), &first).await;
    assert_eq!(code, 202, "{body}");
    for url in &urls {
        proven_final(&anchor, url, &first, bob, 5_000_000).await;
    }
    let view = status(&urls[3]);
    assert!(
        view["latest_checkpoint"]["number"].as_u64().unwrap() >= 1,
        "{view}"
    );
    let text = cli_ok(&["status", "--url", &urls[3]]);
    assert!(text.contains("3 connected of 3 other validators"), "{text}");
    assert!(text.contains(&genesis_hash), "{text}");

    // SIGTERM: the relay shuts down cleanly and keeps what it accepted.
    let exit = operators[3].terminate().await;
    assert!(exit.success(), "relay exited with {exit} after SIGTERM");
    // The network goes on without it (3 of 4 validators hold > 2/3 of the stake).
    let second = transfer(&genesis, &alice, bob, 7_000_000, 2);
    let (code, body) = post(format!("{}/api/v1/transactions", urls[1]), &second).await;
    assert_eq!(code, 202, "{body}");
    proven_final(&anchor, &urls[1], &second, bob, 12_000_000).await;
    // Restarted from the same config, it serves its stored state at once...
    operators[3].start(coordinator.path());
    eventually("restarted relay healthy", || async {
        healthy(&urls[3]).await.then_some(())
    })
    .await;
    let stored = get(format!("{}/api/v1/transactions/{}", urls[3], first.id())).await;
    assert_eq!(stored["status"], "accepted", "{stored}");
    // ...and catches up on what was decided while it was away.
    proven_final(&anchor, &urls[3], &second, bob, 12_000_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_refuse_bad_input_with_their_error() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("validator.key");
    let public_file = dir.path().join("validator.key.pub");
    cli_ok(&["keygen", "--out", path(&key_file)]);
    let seed = std::fs::read_to_string(&key_file).unwrap();

    // keygen never overwrites a key.
    let err = cli_fails(&["keygen", "--out", path(&key_file)]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), seed);

    // genesis: bad input gets its typed error, and no file.
    let out = dir.path().join("genesis.json");
    let v = format!("a={}", path(&public_file));
    let alice = address(&key(1));
    let cases: [(Vec<String>, &str); 7] = [
        (
            vec![v.clone(), format!("a={}", path(&public_file))],
            "appears twice",
        ),
        (
            vec![v.clone(), format!("b={}", path(&public_file))],
            "same public key",
        ),
        (
            vec![format!("a={}:0", path(&public_file))],
            "must be a positive integer",
        ),
        (
            vec![format!("a={}", path(&key_file))],
            "holds a secret seed",
        ),
        (
            vec![v.clone(), "--balance".into(), "ruv1notanaddress=5".into()],
            "is not an rUv address",
        ),
        (
            vec![
                v.clone(),
                "--balance".into(),
                format!("{alice}={}", u64::MAX),
                "--balance".into(),
                format!("{}=1", address(&key(2))),
            ],
            "add up to more than",
        ),
        (
            vec![v.clone(), "--fees".into(), "burn-percent=101".into()],
            "--fees",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["genesis", "--chain-id", "bad", "--out", path(&out)];
        let mut expect_value = false;
        for arg in &extra {
            // A bare validator spec follows `--validator`; flags pass as they are.
            if arg.starts_with("--") {
                args.push(arg);
                expect_value = true;
            } else if expect_value {
                args.push(arg);
                expect_value = false;
            } else {
                args.extend(["--validator", arg]);
            }
        }
        let err = cli_fails(&args);
        assert!(
            err.contains(expected),
            "{extra:?}: expected {expected:?} in {err}"
        );
        assert!(!out.exists(), "{extra:?} wrote a genesis");
    }
    let err = cli_fails(&[
        "genesis",
        "--chain-id",
        "Not-Valid",
        "--validator",
        &v,
        "--out",
        path(&out),
    ]);
    assert!(err.contains("network name"), "{err}");

    // A good genesis; then a relay whose seed file others can read is refused.
    cli_ok(&[
        "genesis",
        "--chain-id",
        "bad",
        "--validator",
        &v,
        "--out",
        path(&out),
    ]);
    let err = cli_fails(&[
        "genesis",
        "--chain-id",
        "bad",
        "--validator",
        &v,
        "--out",
        path(&out),
    ]);
    assert!(err.contains("never overwritten"), "{err}");
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        "genesis = \"genesis.json\"\nkey-file = \"validator.key\"\ndata-dir = \"data\"\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let err = cli_fails(&["run", "--config", path(&config)]);
    assert!(
        err.contains(&format!("chmod 600 {}", key_file.display())),
        "{err}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "a refused relay made its database"
    );

    // `init` writes a folder whose config names files beside it, wherever
    // the relay is started from.
    let folder = dir.path().join("fresh");
    let done = cli_ok(&["init", "--dir", path(&folder)]);
    assert!(done.contains("fingerprint: "), "{done}");
    let err = cli_fails(&["run", "--config", path(&folder.join("relay.toml"))]);
    assert!(err.contains(path(&folder.join("genesis.json"))), "{err}");
    let err = cli_fails(&["init", "--dir", path(&folder)]);
    assert!(err.contains("exists"), "{err}");

    // An unknown key in the config file is refused, naming it.
    std::fs::write(
        &config,
        "genesis = \"genesis.json\"\nkey_file = \"validator.key\"\n",
    )
    .unwrap();
    let err = cli_fails(&["run", "--config", path(&config)]);
    assert!(err.contains("key_file"), "{err}");
}
