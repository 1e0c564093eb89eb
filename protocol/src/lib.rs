//! `ruv-protocol`: the one crate the browser client and the relays share.
//!
//! Everything that both sides must agree on byte for byte lives here: the
//! ML-DSA-65 signature suite, BLAKE3 hashing with domain separation,
//! addresses, the canonical transaction encoding, the genesis file, the
//! ledger state transition and the JSON shapes of the client API.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod address;
pub mod api;
pub mod checkpoint;
pub mod codec;
pub mod crypto;
pub mod faucet_pow;
pub mod genesis;
pub mod ledger;
pub mod light;
pub mod serde_bytes;
pub mod smt;
pub mod snapshot;
pub mod tx;

pub use address::{Address, AddressError};
pub use crypto::{PublicKey, Signature, SigningKey};
pub use genesis::{FeeSchedule, Genesis, GenesisError};
pub use ledger::{Account, Ledger, TxRejection};
pub use tx::{CheckedTransfer, SignedTransfer, Transfer, TxId};

/// Smallest units per whole rUv: amounts are integers of micro-rUv (6 decimals).
pub const UNITS_PER_RUV: u64 = 1_000_000;
