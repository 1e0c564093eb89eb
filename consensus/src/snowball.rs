//! Snowball over the transactions of one conflict set, as in avalanchego's
//! n-ary snowball: a poll that gives a choice at least `alpha_preference`
//! votes strengthens it (the strongest choice is preferred); a poll that gives
//! the snowflake preference at least `alpha_confidence` votes raises the
//! confidence, any other poll resets it. Acceptance needs `beta` consecutive
//! successful polls for one choice.

use ruv_protocol::TxId;
use std::collections::BTreeMap;

/// Snowball state of one conflict set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snowball {
    /// The preference: the choice with the most successful polls (first seen wins ties).
    preference: TxId,
    /// Successful (>= alpha_preference) polls per choice.
    strength: BTreeMap<TxId, u32>,
    max_strength: u32,
    /// The snowflake preference whose consecutive successes `confidence` counts.
    flake_preference: TxId,
    confidence: u32,
}

impl Snowball {
    /// A new instance preferring its first choice.
    pub(crate) fn new(first: TxId) -> Self {
        Self {
            preference: first,
            strength: BTreeMap::new(),
            max_strength: 0,
            flake_preference: first,
            confidence: 0,
        }
    }

    /// The preferred choice.
    pub(crate) fn preference(&self) -> TxId {
        self.preference
    }

    /// Consecutive successful polls for `choice` (0 unless it is the
    /// snowflake preference).
    pub(crate) fn confidence_in(&self, choice: &TxId) -> u32 {
        if self.flake_preference == *choice {
            self.confidence
        } else {
            0
        }
    }

    /// Records a poll in which `choice` got the most votes, `votes` of them.
    pub(crate) fn record(
        &mut self,
        choice: TxId,
        votes: u32,
        alpha_preference: u32,
        alpha_confidence: u32,
    ) {
        if votes < alpha_preference {
            self.record_unsuccessful();
            return;
        }
        let strength = self.strength.entry(choice).or_insert(0);
        *strength += 1;
        if *strength > self.max_strength {
            self.max_strength = *strength;
            self.preference = choice;
        }
        if votes < alpha_confidence {
            self.flake_preference = choice;
            self.confidence = 0;
            return;
        }
        if self.flake_preference == choice {
            self.confidence = self.confidence.saturating_add(1);
        } else {
            self.flake_preference = choice;
            self.confidence = 1;
        }
    }

    /// Records a poll in which no choice reached `alpha_preference`.
    pub(crate) fn record_unsuccessful(&mut self) {
        self.confidence = 0;
    }

    /// Forgets a choice that left the conflict set; `remaining` are the
    /// choices still in it (the new preference is the strongest of them).
    pub(crate) fn remove_choice(&mut self, gone: &TxId, remaining: impl Iterator<Item = TxId>) {
        self.strength.remove(gone);
        if self.flake_preference == *gone {
            self.confidence = 0;
        }
        if self.preference == *gone {
            let mut best: Option<(u32, TxId)> = None;
            for choice in remaining {
                let s = self.strength.get(&choice).copied().unwrap_or(0);
                if best.is_none_or(|(bs, _)| s > bs) {
                    best = Some((s, choice));
                }
            }
            if let Some((s, choice)) = best {
                self.preference = choice;
                self.max_strength = s;
                if self.flake_preference == *gone {
                    self.flake_preference = choice;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> TxId {
        TxId([b; 32])
    }

    #[test]
    fn confidence_grows_with_consecutive_successes_and_resets() {
        let mut s = Snowball::new(id(1));
        s.record(id(1), 4, 3, 4);
        s.record(id(1), 4, 3, 4);
        assert_eq!(s.confidence_in(&id(1)), 2);
        s.record_unsuccessful();
        assert_eq!(s.confidence_in(&id(1)), 0);
        s.record(id(1), 3, 3, 4); // preference-strength success, not confidence
        assert_eq!(s.confidence_in(&id(1)), 0);
        assert_eq!(s.preference(), id(1));
    }

    #[test]
    fn preference_follows_the_strongest_choice() {
        let mut s = Snowball::new(id(1));
        s.record(id(2), 4, 3, 4);
        assert_eq!(s.preference(), id(2));
        assert_eq!(s.confidence_in(&id(2)), 1);
        s.record(id(1), 4, 3, 4);
        // Equal strength: the earlier strongest keeps the preference, but the
        // snowflake confidence moved to choice 1.
        assert_eq!(s.preference(), id(2));
        assert_eq!(s.confidence_in(&id(1)), 1);
        assert_eq!(s.confidence_in(&id(2)), 0);
        s.record(id(1), 4, 3, 4);
        assert_eq!(s.preference(), id(1));
        s.remove_choice(&id(1), [id(2)].into_iter());
        assert_eq!(s.preference(), id(2));
        assert_eq!(s.confidence_in(&id(2)), 0);
    }
}
