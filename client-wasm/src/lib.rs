//! `ruv-client`: the rUv wallet core for browsers and Node, compiled to
//! WebAssembly. Keys are generated and used inside wasm memory; everything a
//! relay says is treated as untrusted input.
#![forbid(unsafe_code)]

pub mod error;
pub mod faucet;
pub mod keys;
pub mod light;
pub mod relay;
pub mod transfer;
pub mod typescript;
pub mod vault;
pub mod verify;

pub use error::ClientError;
pub use keys::{Keypair, SignedTransaction};
pub use vault::Vault;
pub use verify::{TrustAnchor, VerifiedCheckpoint};
