//! Signature checks for a batch of gossiped transfers, spread over the
//! machine's cores before the engine sees them: the engine runs on one
//! thread, and ML-DSA-65 verification is most of what a transfer costs it.

use ruv_protocol::{CheckedTransfer, SignedTransfer};
use std::sync::Arc;

/// Checks every transfer's signature on up to `threads` threads; the
/// answers come in the order of `txs`: the checked transfer, or the one
/// whose signature does not verify.
pub fn check_signatures(
    txs: Vec<Arc<SignedTransfer>>,
    threads: usize,
) -> Vec<Result<CheckedTransfer, Arc<SignedTransfer>>> {
    let check = |tx: Arc<SignedTransfer>| tx.clone().check_signature().map_err(|_| tx);
    let threads = threads.clamp(1, txs.len().max(1));
    if threads == 1 {
        return txs.into_iter().map(check).collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = txs
            .chunks(txs.len().div_ceil(threads))
            .map(|chunk| scope.spawn(move || chunk.iter().cloned().map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("a signature check does not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruv_protocol::{Address, SigningKey, Transfer};

    fn signed(nonce: u64) -> Arc<SignedTransfer> {
        let key = SigningKey::from_seed(&[9; 32]);
        let transfer = Transfer {
            chain_id: "ruv-verify".into(),
            from: Address::from_public_key(key.public_key()),
            to: Address::from_bytes([2; 32]),
            amount: 5,
            fee: 1,
            nonce,
            memo: String::new(),
            public_key: key.public_key().clone(),
        };
        Arc::new(transfer.sign(&key, [0; 32]).unwrap())
    }

    #[test]
    fn answers_keep_the_order_and_name_the_bad_signatures() {
        let txs: Vec<_> = (1..=7)
            .map(|nonce| {
                let tx = signed(nonce);
                if nonce % 3 == 0 {
                    let mut tampered = (*tx).clone();
                    tampered.transfer.amount += 1;
                    Arc::new(tampered)
                } else {
                    tx
                }
            })
            .collect();
        for threads in [0, 1, 2, 3, 16] {
            let answers = check_signatures(txs.clone(), threads);
            assert_eq!(answers.len(), txs.len());
            for (answer, tx) in answers.iter().zip(&txs) {
                match answer {
                    Ok(checked) => {
                        assert!(tx.transfer.nonce % 3 != 0);
                        assert!(Arc::ptr_eq(checked.shared(), tx));
                    }
                    Err(bad) => {
                        assert_eq!(tx.transfer.nonce % 3, 0);
                        assert!(Arc::ptr_eq(bad, tx));
                    }
                }
            }
        }
        assert!(check_signatures(Vec::new(), 2).is_empty());
    }
}
