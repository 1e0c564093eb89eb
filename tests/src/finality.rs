//! Honest finality under abuse (issue 9): an honest account keeps paying
//! while a test attacks the relays, and each payment is timed from submit
//! until it is accepted on every relay. The figures are printed, never
//! asserted (`--nocapture` shows them): one line per attack, quiet run
//! against attacked run, in a common format.
//!
//! On loopback every client is 127.0.0.1, and the relays key their limits
//! by client IP: attackers therefore connect from [`ATTACKER_IP`] (Linux
//! routes all of 127.0.0.0/8 to loopback), so a per-IP limit that stops
//! the attacker does not also stop the honest client, as it would not on
//! a real network.

use crate::{address, json_response, key, Devnet};
use ruv_protocol::crypto::SigningKey;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// The loopback address attackers connect from (honest clients and the
/// relays' own peer links use 127.0.0.1).
pub const ATTACKER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// How often the honest client polls a transaction's status.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Honest transfers a finality run makes by default.
pub const HONEST_TRANSFERS: u64 = 20;

/// An HTTP client whose connections come from `ip`.
pub fn http_client_from(ip: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip)
        .build()
        .expect("HTTP client")
}

/// A TCP connection to `to` from `ip`.
pub async fn connect_from(ip: IpAddr, to: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let socket = match ip {
        IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(ip, 0))?;
    socket.connect(to).await
}

/// Submit-to-final-everywhere times of honest transfers.
#[derive(Debug, Clone, Default)]
pub struct Finality {
    ms: Vec<f64>,
}

impl Finality {
    /// Adds the samples of `other`.
    pub fn extend(&mut self, other: Finality) {
        self.ms.extend(other.ms);
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.ms.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.ms.is_empty()
    }

    /// The `p`-th percentile in ms (nearest rank; with fewer than 100
    /// samples the 99th is the maximum). NaN without samples.
    pub fn percentile(&self, p: f64) -> f64 {
        let mut ms = self.ms.clone();
        ms.sort_by(f64::total_cmp);
        if ms.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
        ms[rank.clamp(1, ms.len()) - 1]
    }

    /// Median, in ms.
    pub fn p50(&self) -> f64 {
        self.percentile(50.0)
    }

    /// 99th percentile, in ms.
    pub fn p99(&self) -> f64 {
        self.percentile(99.0)
    }

    /// The slowest, in ms.
    pub fn max(&self) -> f64 {
        self.percentile(100.0)
    }
}

/// The line printed for one attack: quiet and attacked percentiles and the
/// p99 ratio against the 2x target of issue 9.
pub fn finality_line(attack: &str, quiet: &Finality, attacked: &Finality) -> String {
    format!(
        "honest finality under {attack}: quiet p50 {:.0} ms p99 {:.0} ms (n={}); \
         attacked p50 {:.0} ms p99 {:.0} ms max {:.0} ms (n={}); p99 ratio {:.1}x (target <= 2x)",
        quiet.p50(),
        quiet.p99(),
        quiet.len(),
        attacked.p50(),
        attacked.p99(),
        attacked.max(),
        attacked.len(),
        attacked.p99() / quiet.p99(),
    )
}

/// Prints [`finality_line`].
pub fn print_finality(attack: &str, quiet: &Finality, attacked: &Finality) {
    println!("{}", finality_line(attack, quiet, attacked));
}

impl Devnet {
    /// Pays `amount` from the faucet key (at `faucet_nonce`) to `to` and
    /// waits until it is accepted on every relay.
    pub async fn fund(&self, to: &SigningKey, amount: u64, faucet_nonce: u64) {
        let funding = self.transfer(&self.faucet_key(), address(to), amount, faucet_nonce);
        let (status, body) =
            crate::post(format!("{}/api/v1/transactions", self.url(0)), &funding).await;
        assert_eq!(status, 202, "funding refused: {body}");
        for i in 0..self.relays.len() {
            let verdict = self.wait_final(i, &funding.id().to_string()).await;
            assert_eq!(verdict["status"], "accepted", "relay {i}: {verdict}");
        }
    }

    /// Sends `count` transfers from `honest` through `http`, one after
    /// another (transfer `n` to relay `n % relays`), each accepted on every
    /// relay before the next; `nonce` is the next nonce and is advanced.
    /// Fails if one is refused or not accepted everywhere within 60 s.
    pub async fn honest_finality(
        &self,
        http: &reqwest::Client,
        honest: &SigningKey,
        nonce: &mut u64,
        count: u64,
    ) -> Finality {
        let mut finality = Finality::default();
        for n in 0..count {
            let relay = (n as usize) % self.relays.len();
            let tx = self.transfer(honest, address(&key(60)), 1_000, *nonce);
            *nonce += 1;
            let id = tx.id().to_string();
            let started = Instant::now();
            let (status, body) = json_response(
                http.post(format!("{}/api/v1/transactions", self.url(relay)))
                    .json(&tx)
                    .send()
                    .await
                    .expect("honest submission"),
            )
            .await;
            assert_eq!(
                status, 202,
                "honest transfer refused by relay {relay}: {body}"
            );
            for i in 0..self.relays.len() {
                self.wait_accepted(http, i, &id).await;
            }
            finality.ms.push(started.elapsed().as_secs_f64() * 1e3);
        }
        finality
    }

    /// Polls relay `i` through `http` until transaction `id` is accepted.
    async fn wait_accepted(&self, http: &reqwest::Client, i: usize, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("{}/api/v1/transactions/{id}", self.url(i));
        loop {
            let (_, body) = match http.get(&url).send().await {
                Ok(response) => json_response(response).await,
                // A connection the relay closed as idle just as it was reused.
                Err(_) => (0, serde_json::Value::Null),
            };
            match body["status"].as_str() {
                Some("accepted") => return,
                Some("rejected" | "expired") => panic!("honest transfer {id} on relay {i}: {body}"),
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "honest transfer {id} not accepted on relay {i} within 60 s: {body}"
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let finality = Finality {
            ms: (1..=200).rev().map(f64::from).collect(),
        };
        assert_eq!(finality.p50(), 100.0);
        assert_eq!(finality.p99(), 198.0);
        assert_eq!(finality.max(), 200.0);
        let few = Finality {
            ms: vec![30.0, 10.0, 20.0],
        };
        assert_eq!(few.p50(), 20.0);
        assert_eq!(few.p99(), 30.0);
        assert!(Finality::default().p99().is_nan());
    }
}
