//! The native driver of the light client: asks the configured relays over
//! REST, one at a time, and hands every answer to the same sans-IO core the
//! browser uses ([`ruv_client::light::core::LightCore`]). A relay whose
//! answer fails verification is dropped for the rest of the command and the
//! next one is asked.
//!
//! Outcomes (docs/cli.md): a verified answer from any relay wins. Failing
//! that, a relay's API answer (e.g. `not_certified`) is reported as such.
//! Failing that, if a relay lied the command fails with exit 3; if no relay
//! could be reached at all, with exit 4.

use crate::error::{CliError, CliResult};
use crate::files;
use crate::home::{Home, Network};
use crate::rest::{RelayError, Rest};
use ruv_client::light::core::{
    CheckpointNews, Freshness, LightCore, Verdict, VerifiedHistoryEntry, DEFAULT_STALE_AFTER_MS,
};
use ruv_protocol::api::{
    codes as api_codes, AccountHistory, ApiError, FaucetChallenge, FaucetProof, FaucetRequest,
    TxStatus,
};
use ruv_protocol::checkpoint::CertifiedCheckpoint;
use ruv_protocol::faucet_pow;
use ruv_protocol::light::{
    AccountProof, TransactionProof, VerifiedAccount, VerifiedInclusion, VerifyError,
};
use ruv_protocol::tx::SignedTransfer;
use ruv_protocol::{Address, TxId};
use serde::de::DeserializeOwned;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Records a relay that did not answer: why, and the first refusal a relay
/// gave (reported if no relay answers).
fn note_failure(
    tried: &mut Vec<(String, String)>,
    refused: &mut Option<ApiError>,
    relay: String,
    error: RelayError,
) {
    match error {
        RelayError::Api(e) => {
            tried.push((relay, e.message.clone()));
            refused.get_or_insert(e);
        }
        e => tried.push((relay, e.to_string())),
    }
}

/// A relay's answer after verification.
enum Answer<T> {
    /// Verified against a certified checkpoint.
    Verified(T),
    /// The relay answered with an API error (not a lie, not proof of anything).
    Refused(ApiError),
}

/// What is proven about a transaction.
#[derive(Debug, Clone)]
pub enum Fate {
    /// A certified checkpoint includes it.
    Final(VerifiedInclusion),
    /// A certified checkpoint includes another transaction with its sender
    /// and nonce: it can never be applied.
    Rejected {
        /// The transaction that took the nonce.
        by: TxId,
        /// The checkpoint that proves it.
        checkpoint: u64,
    },
    /// Nothing proven yet.
    Pending,
}

/// The light client of one command.
pub struct LightClient {
    core: LightCore,
    rest: Rest,
    relays: Vec<String>,
    /// Relays dropped for an answer that failed verification, and why.
    liars: Vec<(String, String)>,
    checkpoint_path: PathBuf,
    stored: Option<u64>,
    /// Submissions handed to the core (replayed into historical cores).
    submissions: Vec<(TxId, Address, u64)>,
}

impl LightClient {
    /// A client for `network`; the newest checkpoint verified by an earlier
    /// command (kept in the home folder) is verified again and used as the
    /// floor: a relay serving older state is caught.
    pub fn new(network: &Network, home: &Home) -> Self {
        let mut core = LightCore::new(network.anchor.clone(), DEFAULT_STALE_AFTER_MS);
        let checkpoint_path = home.file("checkpoint.json");
        let stored = files::read_text(&checkpoint_path)
            .ok()
            .flatten()
            .and_then(|text| serde_json::from_str::<CertifiedCheckpoint>(&text).ok())
            .filter(|c| core.on_checkpoint("stored", c).is_ok())
            .map(|c| c.header.number);
        Self {
            core,
            rest: Rest::new(),
            relays: network.relays.clone(),
            liars: Vec::new(),
            checkpoint_path,
            stored,
            submissions: Vec::new(),
        }
    }

    /// The relays not dropped for lying, in configured order.
    fn usable(&self) -> Vec<String> {
        self.relays
            .iter()
            .filter(|r| !self.liars.iter().any(|(l, _)| l == *r))
            .cloned()
            .collect()
    }

    fn drop_liar(&mut self, relay: &str, why: &str) {
        eprintln!("warning: relay {relay} failed verification and is not used again: {why}");
        self.liars.push((relay.to_owned(), why.to_owned()));
    }

    /// The error when no relay gave a usable answer.
    fn exhausted(&self, tried: &[(String, String)]) -> CliError {
        let list = |items: &[(String, String)]| {
            items
                .iter()
                .map(|(relay, why)| format!("{relay} ({why})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.liars.is_empty() {
            CliError::no_relay(format!(
                "no relay reachable: tried {}; check the relay URLs (`ruv node status`) or pass --relay URL",
                list(tried)
            ))
        } else {
            CliError::verification(format!(
                "verification failed: {} sent answers that do not verify against the genesis; \
                 no relay gave a verified answer (asked: {}). Use other relays (--relay URL).",
                list(&self.liars),
                list(tried)
            ))
        }
    }

    fn accept(&mut self, relay: &str, certified: &CertifiedCheckpoint) -> Result<(), VerifyError> {
        if self.core.on_checkpoint(relay, certified)? == CheckpointNews::Equivocation {
            eprintln!(
                "warning: two different certified checkpoints with number {} (relay {relay}): \
                 the validators equivocated; nothing can be verified on this network",
                certified.header.number
            );
        }
        Ok(())
    }

    /// Asks relays for their newest certified checkpoint until one verifies
    /// and is fresh (a stale one is kept if nothing fresher comes).
    pub fn sync(&mut self) -> CliResult<()> {
        let mut tried = Vec::new();
        let mut refused: Option<ApiError> = None;
        let mut heard = false;
        for relay in self.usable() {
            match self
                .rest
                .get::<CertifiedCheckpoint>(&relay, "/checkpoints/latest")
            {
                Ok(certified) => match self.accept(&relay, &certified) {
                    Ok(()) => {
                        heard = true;
                        if self.freshness().is_some_and(|f| !f.stale) {
                            return Ok(());
                        }
                        tried.push((relay, "no fresh checkpoint".to_owned()));
                    }
                    Err(e) => {
                        self.drop_liar(&relay, &e.to_string());
                        tried.push((relay, "lied".to_owned()));
                    }
                },
                Err(error) => note_failure(&mut tried, &mut refused, relay, error),
            }
        }
        if heard {
            return Ok(());
        }
        match refused {
            Some(e) if e.code == api_codes::NOT_CERTIFIED => Err(CliError::failure(
                api_codes::NOT_CERTIFIED,
                "the network has not certified a checkpoint yet: nothing can be verified; try again in a few seconds",
            )),
            Some(e) => Err(e.into()),
            None => Err(self.exhausted(&tried)),
        }
    }

    /// How fresh the newest verified checkpoint is.
    pub fn freshness(&self) -> Option<Freshness> {
        self.core.freshness(now_ms())
    }

    /// When verified checkpoint `number` was proposed (ms since the epoch).
    pub fn checkpoint_time_ms(&self, number: u64) -> Option<u64> {
        self.core.checkpoint(number).map(|c| c.header().time_ms)
    }

    /// Asks relays for `path` until one answer passes `check`. `permanent`
    /// gives the checkpoint of a proof whose fact never expires (an
    /// inclusion), which may then be older than the recent window.
    fn verified<R: DeserializeOwned, T>(
        &mut self,
        path: &str,
        permanent: impl Fn(&R) -> Option<u64>,
        check: impl Fn(&LightCore, &R) -> Result<T, Verdict>,
    ) -> CliResult<Answer<T>> {
        let mut tried = Vec::new();
        let mut refused: Option<ApiError> = None;
        for relay in self.usable() {
            let reply: R = match self.rest.get(&relay, path) {
                Ok(reply) => reply,
                Err(error) => {
                    note_failure(&mut tried, &mut refused, relay, error);
                    continue;
                }
            };
            let result = match permanent(&reply) {
                Some(number) if self.is_historical(number) => {
                    self.judge_historical(&relay, number, &reply, &check)?
                }
                _ => self.judge(&relay, &reply, &check)?,
            };
            match result {
                Some(value) => return Ok(Answer::Verified(value)),
                None => tried.push((relay, "no verified answer".to_owned())),
            }
        }
        match refused {
            Some(e) => Ok(Answer::Refused(e)),
            None => Err(self.exhausted(&tried)),
        }
    }

    /// Whether checkpoint `number` is older than the newest verified one
    /// and not kept.
    fn is_historical(&self, number: u64) -> bool {
        self.core.checkpoint(number).is_none()
            && self
                .core
                .latest()
                .is_some_and(|l| number < l.checkpoint.number())
    }

    /// Checks a proof of a permanent fact against an older certified
    /// checkpoint. A certified inclusion stays true forever, but the core
    /// keeps only recent checkpoints and refuses older proofs (its rule
    /// against replayed account state), so the checkpoint is verified into
    /// a core of its own, from the same anchor, and the proof checked there.
    fn judge_historical<R, T>(
        &mut self,
        relay: &str,
        number: u64,
        reply: &R,
        check: &impl Fn(&LightCore, &R) -> Result<T, Verdict>,
    ) -> CliResult<Option<T>> {
        if let Some(e) = self.core.evidence().first() {
            return Err(CliError::verification(format!(
                "validators signed two different checkpoints with number {}: nothing can be verified on this network",
                e.number
            )));
        }
        let certified = match self
            .rest
            .get::<CertifiedCheckpoint>(relay, &format!("/checkpoints/{number}"))
        {
            Ok(c) => c,
            Err(RelayError::Unreachable(_)) => return Ok(None),
            Err(e) => {
                self.drop_liar(
                    relay,
                    &format!("its proof names checkpoint {number}, which it does not serve: {e}"),
                );
                return Ok(None);
            }
        };
        let mut old = LightCore::new(self.core.anchor().clone(), DEFAULT_STALE_AFTER_MS);
        for (id, from, nonce) in &self.submissions {
            old.remember_submission(*id, *from, *nonce);
        }
        if let Err(e) = old.on_checkpoint(relay, &certified) {
            self.drop_liar(relay, &e.to_string());
            return Ok(None);
        }
        match check(&old, reply) {
            Ok(value) => Ok(Some(value)),
            Err(Verdict::Lie(e)) => {
                self.drop_liar(relay, &e.to_string());
                Ok(None)
            }
            Err(Verdict::Halted(why)) => Err(CliError::verification(why)),
            Err(Verdict::NeedCheckpoint(_)) => Ok(None),
        }
    }

    /// Checks one reply, fetching (and verifying) the checkpoint it is
    /// proven against when needed. `None`: the relay gave nothing usable.
    fn judge<R, T>(
        &mut self,
        relay: &str,
        reply: &R,
        check: &impl Fn(&LightCore, &R) -> Result<T, Verdict>,
    ) -> CliResult<Option<T>> {
        // A proof names one checkpoint: at most one fetch is ever needed.
        for _ in 0..2 {
            match check(&self.core, reply) {
                Ok(value) => return Ok(Some(value)),
                Err(Verdict::Lie(e)) => {
                    self.drop_liar(relay, &e.to_string());
                    return Ok(None);
                }
                Err(Verdict::Halted(why)) => return Err(CliError::verification(why)),
                Err(Verdict::NeedCheckpoint(number)) => {
                    let fetched = self
                        .rest
                        .get::<CertifiedCheckpoint>(relay, &format!("/checkpoints/{number}"));
                    match fetched {
                        Ok(certified) => {
                            if let Err(e) = self.accept(relay, &certified) {
                                self.drop_liar(relay, &e.to_string());
                                return Ok(None);
                            }
                        }
                        Err(RelayError::Unreachable(_)) => return Ok(None),
                        Err(e) => {
                            self.drop_liar(
                                relay,
                                &format!("its proof names checkpoint {number}, which it does not serve: {e}"),
                            );
                            return Ok(None);
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// The verified balance and nonce of `address`.
    pub fn account(&mut self, address: Address) -> CliResult<VerifiedAccount> {
        let answer = self.verified(
            &format!("/accounts/{address}/proof"),
            |_| None,
            |core, proof: &AccountProof| {
                if proof.address != address {
                    return Err(Verdict::Lie(VerifyError::Proof(format!(
                        "asked about {address}, got a proof about {}",
                        proof.address
                    ))));
                }
                core.check_account(proof)
            },
        )?;
        match answer {
            Answer::Verified(account) => Ok(account),
            Answer::Refused(e) => Err(e.into()),
        }
    }

    /// A page of `address`'s history from the first relay whose every entry
    /// verifies: newest first, at most `limit`, older than cursor `before`;
    /// with the cursor of the next page. The checkpoints the proofs name
    /// (of any age: an inclusion stays true) are fetched and verified into
    /// the core's historic store. A relay with one bad entry is dropped.
    pub fn history(
        &mut self,
        address: Address,
        before: Option<u64>,
        limit: usize,
    ) -> CliResult<(Vec<VerifiedHistoryEntry>, Option<u64>)> {
        let mut path = format!("/accounts/{address}/history?limit={limit}");
        if let Some(before) = before {
            path.push_str(&format!("&before={before}"));
        }
        let mut tried = Vec::new();
        let mut refused: Option<ApiError> = None;
        'relays: for relay in self.usable() {
            let page: AccountHistory = match self.rest.get(&relay, &path) {
                Ok(page) => page,
                Err(error) => {
                    note_failure(&mut tried, &mut refused, relay, error);
                    continue;
                }
            };
            if page.entries.len() > limit {
                self.drop_liar(&relay, "more history entries than asked for");
                continue;
            }
            // Each round verifies one more checkpoint, or ends.
            for _ in 0..=page.entries.len() {
                match self.core.check_history(&address, before, &page) {
                    Ok(entries) => return Ok((entries, page.next)),
                    Err(Verdict::Lie(e)) => {
                        self.drop_liar(&relay, &e.to_string());
                        continue 'relays;
                    }
                    Err(Verdict::Halted(why)) => return Err(CliError::verification(why)),
                    Err(Verdict::NeedCheckpoint(number)) => {
                        let fetched = self
                            .rest
                            .get::<CertifiedCheckpoint>(&relay, &format!("/checkpoints/{number}"));
                        let verified = match fetched {
                            Ok(certified) => self
                                .core
                                .on_historic_checkpoint(&relay, &certified)
                                .map_err(|e| e.to_string()),
                            Err(RelayError::Unreachable(why)) => {
                                tried.push((relay, why));
                                continue 'relays;
                            }
                            Err(e) => Err(format!(
                                "its history names checkpoint {number}, which it does not serve: {e}"
                            )),
                        };
                        if let Err(why) = verified {
                            self.drop_liar(&relay, &why);
                            continue 'relays;
                        }
                    }
                }
            }
            tried.push((relay, "no verified answer".to_owned()));
        }
        match refused {
            Some(e) => Err(e.into()),
            None => Err(self.exhausted(&tried)),
        }
    }

    /// What is proven about transaction `id`. With its sender and nonce
    /// (transactions this CLI submitted), a rejection can be proven too.
    pub fn fate(&mut self, id: TxId, submission: Option<(Address, u64)>) -> CliResult<Fate> {
        let included = self.verified(
            &format!("/transactions/{id}/proof"),
            |proof: &TransactionProof| Some(proof.checkpoint),
            |core, proof: &TransactionProof| core.check_inclusion(&id, proof),
        )?;
        match included {
            Answer::Verified(inclusion) => return Ok(Fate::Final(inclusion)),
            Answer::Refused(e)
                if e.code == api_codes::NOT_CERTIFIED || e.code == api_codes::NOT_FOUND => {}
            Answer::Refused(e) => return Err(e.into()),
        }
        let Some((from, nonce)) = submission else {
            return Ok(Fate::Pending);
        };
        self.core.remember_submission(id, from, nonce);
        self.submissions.push((id, from, nonce));
        if self.account(from)?.nonce < nonce {
            return Ok(Fate::Pending);
        }
        let taken = self.verified(
            &format!("/accounts/{from}/nonces/{nonce}/proof"),
            |proof: &TransactionProof| Some(proof.checkpoint),
            |core, proof: &TransactionProof| core.check_nonce_taken(&id, proof),
        )?;
        Ok(match taken {
            Answer::Verified(Some(taken)) if taken.id == id => Fate::Final(taken),
            Answer::Verified(Some(taken)) => Fate::Rejected {
                by: taken.id,
                checkpoint: taken.checkpoint,
            },
            Answer::Verified(None) | Answer::Refused(_) => Fate::Pending,
        })
    }

    /// What the first relay that answers says about `id`: its word, not
    /// verified (shown as such).
    pub fn relay_claim(&self, id: TxId) -> Option<TxStatus> {
        self.usable()
            .iter()
            .find_map(|relay| self.rest.get(relay, &format!("/transactions/{id}")).ok())
    }

    /// Submits a signed transfer to the first relay that takes it. The
    /// answer is the relay's word (`pending`): finality is proven later.
    pub fn submit(&mut self, signed: &SignedTransfer) -> CliResult<TxStatus> {
        self.post_first(
            "/transactions",
            |_, _| Ok(signed),
            &[api_codes::DUPLICATE_TRANSACTION],
            |_| false,
        )
        .map(|status| {
            status.unwrap_or(TxStatus {
                id: signed.id(),
                status: ruv_protocol::api::TxState::Pending,
                reason: None,
            })
        })
    }

    /// Asks the relays' devnet faucet to pay `address`: fetches each
    /// relay's challenge and solves it ([`ruv_protocol::faucet_pow`]) first.
    pub fn faucet(&mut self, address: Address) -> CliResult<TxStatus> {
        let status = self.post_first(
            "/faucet",
            |rest, relay| {
                let challenge: FaucetChallenge = rest.get(relay, "/faucet/challenge")?;
                let nonce =
                    faucet_pow::solve(&challenge.challenge, &address, challenge.difficulty_bits)
                        .map_err(|e| {
                            RelayError::Api(ApiError::new(
                                api_codes::FAUCET_POW_UNSOLVED,
                                e.to_string(),
                            ))
                        })?;
                let proof = FaucetProof {
                    challenge: challenge.challenge,
                    nonce,
                };
                Ok(FaucetRequest {
                    address,
                    proof: Some(proof),
                })
            },
            &[],
            |e| e.code == api_codes::FAUCET_DISABLED,
        )?;
        status.ok_or_else(|| {
            CliError::failure(
                api_codes::FAUCET_DISABLED,
                "no configured relay runs a faucet (faucets exist on devnets only)",
            )
        })
    }

    /// POSTs to the first relay that takes it. `Ok(None)`: no relay took
    /// it, but one answered with an error in `ok_codes` (for a submission:
    /// the relay has it already) or one `skip` accepts (for the faucet:
    /// none here, try elsewhere).
    fn post_first<B: serde::Serialize>(
        &mut self,
        path: &str,
        body: impl Fn(&Rest, &str) -> Result<B, RelayError>,
        ok_codes: &[&str],
        skip: impl Fn(&ApiError) -> bool,
    ) -> CliResult<Option<TxStatus>> {
        let mut tried = Vec::new();
        let mut refused: Option<ApiError> = None;
        let mut answered = false;
        for relay in self.usable() {
            let answer = body(&self.rest, &relay)
                .and_then(|body| self.rest.post::<TxStatus>(&relay, path, &body));
            match answer {
                Ok(status) => return Ok(Some(status)),
                Err(RelayError::Api(e)) if ok_codes.contains(&e.code.as_str()) || skip(&e) => {
                    answered = true;
                    tried.push((relay, e.message.clone()));
                }
                // Another relay may take what this one refuses.
                Err(error) => note_failure(&mut tried, &mut refused, relay, error),
            }
        }
        match refused {
            Some(e) => Err(e.into()),
            None if answered => Ok(None),
            None => Err(self.exhausted(&tried)),
        }
    }

    /// Keeps the newest verified checkpoint in the home folder for the next
    /// command (best effort: it only raises the floor).
    pub fn save(&self) {
        let Some(latest) = self.core.latest() else {
            return;
        };
        if self.stored.is_some_and(|n| n >= latest.checkpoint.number()) {
            return;
        }
        if let Ok(text) = serde_json::to_string(&latest.certified) {
            let _ = files::write_private(&self.checkpoint_path, text.as_bytes());
        }
    }
}
