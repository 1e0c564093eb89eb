#!/usr/bin/env bash
# Runs every test: formatting, clippy, Rust unit/property/integration tests,
# wasm tests in headless Chromium and in Node, and Playwright against a real
# devnet. Installs what is missing first (quick when it is there).
#
#   scripts/test.sh
source "$(dirname "$0")/lib.sh"

ensure_tools

step "rustfmt"
cargo fmt --all -- --check

step "clippy (native)"
cargo clippy --workspace --all-targets -- -D warnings

step "clippy (wasm32)"
cargo clippy -p ruv-client --target wasm32-unknown-unknown --all-targets -- -D warnings

step "Rust tests (unit, property, vectors, integration with real relays)"
cargo test --workspace

step "wasm tests in headless Chromium (vectors, signing, vault on real IndexedDB)"
rm -rf "$TMPDIR"/* 2>/dev/null || true
(cd client-wasm && wasm-pack test --headless --chrome --mode no-install -- --test browser --test vault_browser)
rm -rf "$TMPDIR"/* 2>/dev/null || true

step "wasm tests in Node"
(cd client-wasm && wasm-pack test --node --mode no-install -- --test node)

build_wallet
step "type-checking the wallet"
npm run typecheck --workspace web
build_extension
build_relay
build_liar
build_example

step "Playwright (real headless Chromium against a real devnet; the extension loaded unpacked)"
(cd playwright && npx playwright test)

step "all tests passed"
