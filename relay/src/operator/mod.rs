//! The operator's commands besides `run`: make a validator key (`keygen`),
//! build a network's genesis from public keys (`genesis`), write a commented
//! config folder (`init`), and ask a running relay for its view (`status`).
//! Each returns a typed result; `crate::cli` prints it.

pub mod genesis;
pub mod init;
pub mod keygen;
pub mod status;
