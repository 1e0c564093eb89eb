//! `ruv-client`: the rUv wallet core for browsers and Node, compiled to WebAssembly.
#![forbid(unsafe_code)]
