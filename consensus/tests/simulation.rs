//! The deterministic simulation over a few hundred seeds: every scenario
//! within the claimed fault bound must keep safety, agreement, supply
//! conservation and liveness (see `ruv_consensus::sim`). A failure prints
//! the seed and the command that replays it; the `ruv-sim` binary runs
//! thousands of seeds.

use ruv_consensus::sim::{self, Scenario};

/// Seeds per scenario in the normal test suite.
const SEEDS: u64 = 40;

fn run_seeds(name: &str, seeds: u64) {
    let scenario = Scenario::by_name(name).expect("scenario exists");
    let failures: Vec<String> = (0..seeds)
        .filter_map(|seed| sim::run(&scenario, seed).err())
        .map(|failure| failure.to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {seeds} seeds of scenario {name} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn calm() {
    run_seeds("calm", 60);
}

#[test]
fn lossy_network_with_duplicates_and_reordering() {
    run_seeds("lossy", SEEDS);
}

#[test]
fn partition_heals() {
    run_seeds("partition", SEEDS);
}

#[test]
fn crash_and_restart_from_persisted_state() {
    run_seeds("crash", SEEDS);
}

#[test]
fn double_spends_by_clients() {
    run_seeds("double-spend", SEEDS);
}

#[test]
fn one_byzantine_relay() {
    run_seeds("byzantine", SEEDS);
}

#[test]
fn byzantine_stake_at_the_edge_of_the_bound() {
    run_seeds("byzantine-edge", 30);
}

#[test]
fn everything_at_once() {
    run_seeds("chaos", SEEDS);
}

#[test]
fn scenarios_stay_within_the_claimed_bound() {
    for scenario in Scenario::all() {
        assert!(
            scenario.byzantine_stake_fraction() < scenario.fault_bound(),
            "{}: Byzantine stake {} is not below the bound {}",
            scenario.name,
            scenario.byzantine_stake_fraction(),
            scenario.fault_bound()
        );
    }
    let edge = Scenario::by_name("byzantine-edge").expect("scenario exists");
    assert!(
        edge.fault_bound() - edge.byzantine_stake_fraction() <= 0.011,
        "the edge scenario sits just below the bound"
    );
    for scenario in Scenario::beyond_bound() {
        assert!(scenario.byzantine_stake_fraction() >= scenario.fault_bound());
    }
}

#[test]
fn same_seed_same_run_and_different_seeds_differ() {
    for name in ["chaos", "byzantine"] {
        let scenario = Scenario::by_name(name).expect("scenario exists");
        let first = sim::run(&scenario, 7).expect("seed 7 passes");
        let again = sim::run(&scenario, 7).expect("seed 7 passes");
        assert_eq!(first, again, "{name}: the same seed must replay exactly");
        let other = sim::run(&scenario, 8).expect("seed 8 passes");
        assert_ne!(first.trace_digest, other.trace_digest);
    }
}
