//! Payments this vault signed that are not yet proven final or rejected:
//! kept inside the encrypted record (the metadata), so a reload or a crash
//! between signing and finality loses nothing, and nobody reading the
//! browser's storage learns what is in flight. The wallet adds one before
//! it submits and removes it once a proof settles it.

use super::codes;
use crate::error::ClientError;
use serde::{Deserialize, Serialize};

/// Most pending payments a vault keeps (the wallet sends one at a time per
/// account; this bounds the record whatever a caller does).
pub const MAX_PENDING_TRANSFERS: usize = 64;
/// Longest site origin kept with a payment a site asked for.
pub const MAX_ORIGIN_LEN: usize = 256;
/// Longest recipient address accepted (a bech32m rUv address is 62).
pub const MAX_RECIPIENT_LEN: usize = 100;

/// One signed payment waiting for its proof. Amounts are decimal strings
/// (micro-rUv) so JavaScript reads them without losing precision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PendingTransfer {
    /// Transaction id, 64 lowercase hex characters.
    pub id: String,
    /// The sending account's derivation index.
    pub account: u32,
    /// Recipient address.
    pub to: String,
    /// Amount, micro-rUv, decimal.
    pub amount: String,
    /// Fee, micro-rUv, decimal.
    pub fee: String,
    /// Nonce, decimal.
    pub nonce: String,
    /// When it was signed (ms since the epoch).
    pub at: u64,
    /// The site that asked for it (extension), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

fn invalid(why: impl Into<String>) -> ClientError {
    ClientError::new(codes::INVALID_PENDING_TRANSFER, why)
}

fn decimal_u64(field: &str, text: &str) -> Result<(), ClientError> {
    let ok = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u64>().is_ok();
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field} must be a decimal u64, got {text:?}"
        )))
    }
}

impl PendingTransfer {
    /// Checks every field (`invalid_pending_transfer`).
    pub fn validate(&self) -> Result<(), ClientError> {
        if self.id.len() != 64
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(invalid("id must be 64 lowercase hex characters"));
        }
        if self.to.is_empty()
            || self.to.len() > MAX_RECIPIENT_LEN
            || !self.to.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(invalid(format!(
                "recipient must be 1 to {MAX_RECIPIENT_LEN} letters and digits"
            )));
        }
        decimal_u64("amount", &self.amount)?;
        decimal_u64("fee", &self.fee)?;
        decimal_u64("nonce", &self.nonce)?;
        if let Some(origin) = &self.origin {
            if origin.is_empty()
                || origin.len() > MAX_ORIGIN_LEN
                || origin.chars().any(char::is_control)
            {
                return Err(invalid(format!(
                    "origin must be 1 to {MAX_ORIGIN_LEN} bytes without control characters"
                )));
            }
        }
        Ok(())
    }
}

/// `list` with `transfer` added (replacing one with the same id);
/// `invalid_pending_transfer` when full.
pub fn with_added(
    list: &[PendingTransfer],
    transfer: PendingTransfer,
) -> Result<Vec<PendingTransfer>, ClientError> {
    transfer.validate()?;
    let mut next: Vec<PendingTransfer> = list
        .iter()
        .filter(|p| p.id != transfer.id)
        .cloned()
        .collect();
    if next.len() >= MAX_PENDING_TRANSFERS {
        return Err(invalid(format!(
            "a vault keeps at most {MAX_PENDING_TRANSFERS} pending payments"
        )));
    }
    next.push(transfer);
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(id_byte: char) -> PendingTransfer {
        PendingTransfer {
            id: id_byte.to_string().repeat(64),
            account: 0,
            to: "ruv1qqqq".into(),
            amount: "1000000".into(),
            fee: "6326".into(),
            nonce: "1".into(),
            at: 1,
            origin: None,
        }
    }

    #[test]
    fn fields_are_checked() {
        sample('a').validate().unwrap();
        let bad = [
            PendingTransfer {
                id: "A".repeat(64),
                ..sample('a')
            },
            PendingTransfer {
                id: "a".repeat(63),
                ..sample('a')
            },
            PendingTransfer {
                to: "ruv1 x".into(),
                ..sample('a')
            },
            PendingTransfer {
                amount: "18446744073709551616".into(),
                ..sample('a')
            },
            PendingTransfer {
                fee: "-1".into(),
                ..sample('a')
            },
            PendingTransfer {
                nonce: String::new(),
                ..sample('a')
            },
            PendingTransfer {
                origin: Some("https://x\n".into()),
                ..sample('a')
            },
        ];
        for p in bad {
            assert_eq!(
                p.validate().unwrap_err().code,
                codes::INVALID_PENDING_TRANSFER,
                "{p:?}"
            );
        }
    }

    #[test]
    fn adding_replaces_the_same_id_and_is_bounded() {
        let list = with_added(&[], sample('a')).unwrap();
        let list = with_added(
            &list,
            PendingTransfer {
                nonce: "2".into(),
                ..sample('a')
            },
        )
        .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].nonce, "2");
        let mut full = Vec::new();
        for i in 0..MAX_PENDING_TRANSFERS {
            full.push(PendingTransfer {
                id: format!("{i:064x}"),
                ..sample('a')
            });
        }
        assert_eq!(
            with_added(&full, sample('b')).unwrap_err().code,
            codes::INVALID_PENDING_TRANSFER
        );
        // Replacing one that is there still works when full.
        assert!(with_added(&full, full[3].clone()).is_ok());
    }
}
