//! Prints the failure-probability table of docs/consensus.md ("Safety as a
//! failure probability"): how likely one honest relay is to decide a
//! transfer the adversary chose, as a function of the Byzantine stake `f`,
//! the sample size `k`, `alpha`, `beta`, the poll rate and the duration, with
//! and without a partition.
//!
//! ```text
//! cargo run -p ruv-consensus --example safety_table
//! ```
//!
//! Model (stated in the doc): a poll draws `k` validators with replacement
//! by stake; a coalition holding stake share `c` answers for the adversary's
//! transfer, everyone else for the other one or not at all. One poll
//! succeeds for the adversary with `p = P[Binomial(k, c) >= alpha]`; a relay
//! decides once `beta` polls in a row succeed (sticky): `beta_rogue` when it
//! knows both transfers, `beta_virtuous` when a partition hides the other
//! one (each side then thinks its transfer has no conflict). Polls are taken as
//! independent, `rate` per second per relay; the chance that `n = rate * T`
//! polls hold a run of `beta` successes is computed exactly (a Markov chain
//! over the current run length). Without a partition the coalition is the
//! Byzantine stake, `c = f`. Under the worst partition the adversary splits
//! the honest stake in two and shows each side a different transfer, so on
//! each side `c = (1 - f) / 2 + f`; a double spend is accepted on both sides
//! only if a relay on each side decides, about the square of one side's
//! probability (a union over relays multiplies by their count).

/// Probability that `Binomial(k, c) >= alpha`.
fn poll_success(k: u32, alpha: u32, c: f64) -> f64 {
    let mut total = 0.0;
    for i in alpha..=k {
        total += binomial(k, i) * c.powi(i as i32) * (1.0 - c).powi((k - i) as i32);
    }
    total.min(1.0)
}

fn binomial(n: u32, r: u32) -> f64 {
    (0..r).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// Probability that `polls` independent polls, each a success with
/// probability `p`, contain `beta` successes in a row.
fn run_within(p: f64, beta: u32, polls: u64) -> f64 {
    // state[j]: probability that the current run has length j (< beta) and
    // no run of beta happened yet.
    let beta = beta as usize;
    let mut state = vec![0.0f64; beta];
    state[0] = 1.0;
    let mut done = 0.0;
    for _ in 0..polls {
        let alive: f64 = state.iter().sum();
        if alive < 1e-300 {
            break;
        }
        done += state[beta - 1] * p;
        // Shift the runs up by one success; a failure restarts every run.
        for j in (1..beta).rev() {
            state[j] = state[j - 1] * p;
        }
        state[0] = alive * (1.0 - p);
    }
    done.min(1.0)
}

struct Params {
    label: &'static str,
    k: u32,
    alpha: u32,
    beta_virtuous: u32,
    beta_rogue: u32,
}

fn main() {
    let rate_per_s = 10u64;
    let durations: [(&str, u64); 3] = [("1 min", 60), ("1 h", 3_600), ("1 day", 86_400)];
    let params = [
        Params {
            label: "k=4 (4 relays, old default)",
            k: 4,
            alpha: 3,
            beta_virtuous: 15,
            beta_rogue: 20,
        },
        Params {
            label: "k=5 (5 relays, old default)",
            k: 5,
            alpha: 4,
            beta_virtuous: 15,
            beta_rogue: 20,
        },
        Params {
            label: "k=20 (avalanchego)",
            k: 20,
            alpha: 15,
            beta_virtuous: 15,
            beta_rogue: 20,
        },
    ];
    println!(
        "poll rate {rate_per_s} polls/s per relay; beta_virtuous 15 under a partition, beta_rogue 20 without; one relay per side"
    );
    println!(
        "{:<24} {:>5} {:>10} {:>11} {:>11} {:>11} {:>11}",
        "parameters", "f", "case", "p (1 poll)", "1 min", "1 h", "1 day"
    );
    for p in &params {
        for f in [0.0, 0.1, 0.19, 0.25, 0.33] {
            let cases = [
                ("no split", f, p.beta_rogue),
                ("partition", (1.0 - f) / 2.0 + f, p.beta_virtuous),
            ];
            for (case, c, beta) in cases {
                let success = poll_success(p.k, p.alpha, c);
                let mut row = format!("{:<24} {:>5.2} {:>10} {:>11.3e}", p.label, f, case, success);
                for (_, seconds) in durations {
                    let one_side = run_within(success, beta, rate_per_s * seconds);
                    let shown = if case == "partition" {
                        one_side * one_side
                    } else {
                        one_side
                    };
                    row.push_str(&format!(" {shown:>11.3e}"));
                }
                println!("{row}");
            }
        }
    }
    println!(
        "\n'no split': the relay decides the Byzantine transfer against an honest network that prefers the other.\n\
         'partition': worst split of the honest stake; both sides decide conflicting transfers (one relay each)."
    );
}
