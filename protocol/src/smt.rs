//! A compacted binary sparse Merkle tree with membership and non-membership
//! proofs: the commitment behind the state root (accounts keyed by address
//! hash) and the transaction tree (transactions keyed by id).
//!
//! # Overview
//!
//! The tree maps 32-byte keys to short byte-string values. Conceptually it is
//! a complete binary tree of depth [`KEY_BITS`] = 256 with one slot per
//! possible key; the path to a key's slot is the key's bits read from the
//! most significant bit of byte 0 onwards (bit `i` is bit `7 - i % 8` of byte
//! `i / 8`; bit 0 picks the root's child, 0 = left, 1 = right). Keys are
//! expected to be uniform hashes already (an address hash, a transaction id),
//! so the occupied slots are spread evenly and an attacker cannot cheaply make
//! paths long.
//!
//! A full depth-256 tree would need 256 hashes per proof. The tree is
//! *compacted* instead (the shape used by Jellyfish Merkle trees and
//! EIP-7864): the hash of a subtree depends on how many leaves it holds.
//!
//! | leaves in the subtree | its hash |
//! | --- | --- |
//! | 0 | [`EMPTY_ROOT`] (32 zero bytes) |
//! | 1 | the leaf hash `H_leaf(key, value)`, wherever the subtree sits |
//! | 2 or more | `H_node(hash(left child), hash(right child))` |
//!
//! with, for a tree of kind [`TreeKind`]:
//!
//! * `H_leaf(key, value) = BLAKE3-derive-key(leaf context, key || len(value) as u8 || value)`,
//!   where `value` is at most [`MAX_VALUE_LEN`] bytes;
//! * `H_node(left, right) = BLAKE3-derive-key(node context, left || right)`.
//!
//! The contexts are [`hash_context::STATE_LEAF`] / [`hash_context::STATE_NODE`]
//! for [`TreeKind::State`] and [`hash_context::TX_LEAF`] /
//! [`hash_context::TX_NODE`] for [`TreeKind::Transactions`]. The root is the
//! hash of the whole tree; the empty tree's root is [`EMPTY_ROOT`], a tree with
//! one leaf has that leaf's hash as its root. A single leaf therefore "floats
//! up" to the shallowest depth at which it is alone, and an inner node exists
//! exactly where two or more keys share a prefix, so with `n` random keys a
//! path has about `log2(n)` inner nodes. [`naive_root`] is the reference
//! definition (a from-scratch recursive rebuild); [`SparseMerkleTree`]
//! computes the same root incrementally.
//!
//! # Incremental hashing
//!
//! [`SparseMerkleTree`] keeps the leaves in a `BTreeMap` (sorted by key, which
//! is the same as left-to-right order in the tree) and caches the hash of
//! every inner node (subtree with 2 or more leaves) under `(depth, prefix)`.
//! Whether a subtree holds 0, 1 or more leaves is a range query over the map
//! (`range(lowest..=highest key with that prefix).take(2)`). Inserting,
//! replacing or removing a key drops exactly the cached nodes on that key's
//! path that hold 2 or more leaves (depths `0..=L`, where `L` is the longest
//! common prefix of the key with its neighbours in key order), so the next
//! [`SparseMerkleTree::root`] or [`SparseMerkleTree::prove`] rehashes only
//! the dirty paths, about `log2(n)` hashes per changed key. Both methods take
//! `&mut self` because they fill that cache.
//!
//! # Proofs
//!
//! A proof for key `k` ([`SmtProof`]) is the list of sibling hashes along
//! `k`'s path, from the root downwards (sibling at depth 0 first), down to the
//! first subtree on the path that holds at most one leaf. That subtree, at
//! depth `siblings.len()`, is the [`Terminal`]:
//!
//! * [`Terminal::Empty`]: nothing is stored under `k`'s prefix, so `k` is
//!   absent (non-membership);
//! * [`Terminal::Leaf`] with key `k`: membership, and the proof carries the
//!   value;
//! * [`Terminal::Leaf`] with another key `k'` that shares `k`'s first
//!   `siblings.len()` bits: `k'` is the only key under that prefix, so `k` is
//!   absent (non-membership).
//!
//! [`SmtProof::verify`] hashes the terminal, folds the siblings back up
//! (the key's bit at each depth says whether the running hash is the left or
//! the right child) and compares with the trusted root.
//!
//! # Binary proof encoding
//!
//! [`SmtProof::encode`] / [`SmtProof::decode`]; this is what travels to the
//! browser. One proof has exactly one encoding, and decoding is total.
//!
//! | field | encoding |
//! | --- | --- |
//! | sibling count `c` | u16 little-endian, at most [`MAX_PROOF_SIBLINGS`] |
//! | empty-sibling bitmap | `ceil(c / 8)` bytes; bit `i` (bit `7 - i % 8` of byte `i / 8`) is set iff sibling `i` is [`EMPTY_ROOT`]; unused low bits of the last byte are zero |
//! | siblings | the siblings whose bitmap bit is clear, in order, 32 bytes each; none of them may be all zero |
//! | terminal tag | u8: 0 = [`Terminal::Empty`], 1 = [`Terminal::Leaf`] |
//! | leaf key | 32 bytes (leaf only) |
//! | leaf value | u8 length (at most [`MAX_VALUE_LEN`]) + bytes (leaf only) |
//!
//! Empty siblings are common (where two keys share a long prefix the path
//! has a chain of nodes whose other child is empty) and cost one bit instead
//! of 32 bytes. The decoder rejects trailing bytes, unknown tags, set padding
//! bits and an all-zero sibling sent explicitly (it must be a bitmap bit), so
//! the encoding is canonical. The longest encoding is [`MAX_PROOF_LEN`] bytes;
//! with 100 000 random keys a state proof (16-byte value) is about 600 bytes
//! on average (about 18 siblings) and at most about 730.
//!
//! # Why it is sound
//!
//! Assume BLAKE3 is collision resistant and the verifier holds the root of a
//! tree built by these rules (e.g. from a certified checkpoint).
//!
//! * Leaf and node hashes use different derive-key contexts, so no leaf hash
//!   equals any node hash: a leaf cannot pose as an inner node or the other
//!   way round. No hash output is all zero in practice, so nothing but an
//!   empty subtree hashes to [`EMPTY_ROOT`].
//! * If a proof folds up to the root, then by collision resistance every
//!   step matches the real tree: at each depth along the path the real tree
//!   has an inner node whose children are the running hash and the sibling,
//!   and the real subtree at depth `siblings.len()` hashes to the terminal's
//!   hash, so it is empty, or exactly that one leaf (key and value).
//! * The compacted shape is canonical (a subtree's hash is a function of its
//!   leaf set alone), so there is only one valid proof per key. A proof that
//!   stops early at a leaf where the real tree has an inner node, or runs
//!   deeper than the real tree (pretending a lone leaf is an inner node with
//!   an empty sibling), computes a different root and fails.
//! * A terminal leaf must share the first `siblings.len()` bits with the
//!   queried key ([`SmtError::PathMismatch`] otherwise), so a leaf from
//!   elsewhere in the tree cannot be presented as "the only key under this
//!   prefix" (such a proof could not fold to an honest root anyway; the check
//!   makes the failure explicit and cheap).
//! * The leaf hash covers the value's length and bytes, so a proof pins the
//!   exact value; values longer than [`MAX_VALUE_LEN`] are rejected.
//!
//! # Limits
//!
//! * Keys must be uniform (hashes). Keys chosen to share long prefixes make
//!   paths long (up to 256 siblings, [`MAX_PROOF_LEN`] bytes), which costs
//!   proof size but never correctness.
//! * Values are at most [`MAX_VALUE_LEN`] bytes.
//! * The whole tree lives in memory: the leaves plus one cached hash per inner
//!   node (fewer than one inner node per leaf).
//! * A proof is only as good as the root it is checked against; the root's
//!   authenticity comes from elsewhere (checkpoint certificates).

use crate::codec::{DecodeError, Reader, Writer};
use crate::crypto::{hash, hash_context};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

/// Which tree: fixes the leaf and node hash contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeKind {
    /// The account state tree (keys: address hashes; values: balance u64 LE
    /// followed by nonce u64 LE). Contexts [`hash_context::STATE_LEAF`] and
    /// [`hash_context::STATE_NODE`].
    State,
    /// The transaction tree (keys: transaction ids). Contexts
    /// [`hash_context::TX_LEAF`] and [`hash_context::TX_NODE`].
    Transactions,
}

impl TreeKind {
    fn leaf_context(self) -> &'static str {
        match self {
            TreeKind::State => hash_context::STATE_LEAF,
            TreeKind::Transactions => hash_context::TX_LEAF,
        }
    }

    fn node_context(self) -> &'static str {
        match self {
            TreeKind::State => hash_context::STATE_NODE,
            TreeKind::Transactions => hash_context::TX_NODE,
        }
    }
}

/// The hash of an empty subtree, and the root of the empty tree.
pub const EMPTY_ROOT: [u8; 32] = [0; 32];
/// Bits in a key: the depth of the uncompacted tree.
pub const KEY_BITS: usize = 256;
/// Longest leaf value, in bytes.
pub const MAX_VALUE_LEN: usize = 64;
/// Most siblings a proof can have (two keys differing only in their last bit
/// are split at depth 255, so their proofs have 256 siblings).
pub const MAX_PROOF_SIBLINGS: usize = KEY_BITS;
/// Longest possible proof encoding, in bytes: count, full bitmap, 256
/// non-empty siblings and a leaf terminal with a [`MAX_VALUE_LEN`]-byte value.
pub const MAX_PROOF_LEN: usize =
    2 + MAX_PROOF_SIBLINGS / 8 + MAX_PROOF_SIBLINGS * 32 + 1 + 32 + 1 + MAX_VALUE_LEN;

/// Terminal tag: empty subtree.
const TAG_EMPTY: u8 = 0;
/// Terminal tag: single leaf.
const TAG_LEAF: u8 = 1;

/// Why a tree operation or a proof failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtError {
    /// A leaf value longer than [`MAX_VALUE_LEN`].
    #[error("leaf value is {len} bytes, limit is {MAX_VALUE_LEN}")]
    ValueTooLong {
        /// Its length.
        len: usize,
    },
    /// A proof with more than [`MAX_PROOF_SIBLINGS`] siblings.
    #[error("proof has {count} siblings, limit is {MAX_PROOF_SIBLINGS}")]
    TooManySiblings {
        /// How many it has (or declares).
        count: usize,
    },
    /// The proof's terminal leaf does not lie on the queried key's path.
    #[error("the proof's terminal leaf is not on the key's path")]
    PathMismatch,
    /// The proof does not hash to the expected root.
    #[error("the proof does not hash to the expected root")]
    RootMismatch,
    /// The proof's binary encoding is malformed.
    #[error("malformed proof encoding: {0}")]
    Decode(#[from] DecodeError),
}

/// The subtree at the end of a key's path in a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Terminal {
    /// The subtree is empty: the key is absent.
    Empty,
    /// The subtree holds exactly this one leaf: the queried key itself
    /// (membership) or another key sharing the path so far (non-membership).
    Leaf {
        /// The leaf's key.
        key: [u8; 32],
        /// The leaf's value, at most [`MAX_VALUE_LEN`] bytes.
        value: Vec<u8>,
    },
}

/// A membership or non-membership proof for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtProof {
    /// Sibling hashes along the key's path, from the root downwards (the
    /// sibling at depth 0 first).
    pub siblings: Vec<[u8; 32]>,
    /// The subtree at depth `siblings.len()` on the key's path.
    pub terminal: Terminal,
}

/// Bit `i` of a key, most significant bit of byte 0 first. `false` past the end.
fn bit(key: &[u8; 32], i: usize) -> bool {
    key.get(i / 8)
        .is_some_and(|byte| (byte >> (7 - i % 8)) & 1 == 1)
}

/// Sets bit `i` of `key` (no effect past the end).
fn set_bit(key: &mut [u8; 32], i: usize) {
    if let Some(byte) = key.get_mut(i / 8) {
        *byte |= 1 << (7 - i % 8);
    }
}

/// The key with bits `depth..` cleared: the smallest key under that prefix.
fn lowest(key: &[u8; 32], depth: usize) -> [u8; 32] {
    let mut out = *key;
    for (i, byte) in out.iter_mut().enumerate() {
        let start = i * 8;
        if start >= depth {
            *byte = 0;
        } else if depth - start < 8 {
            *byte &= 0xFF << (8 - (depth - start));
        }
    }
    out
}

/// The key with bits `depth..` set: the largest key under that prefix.
fn highest(key: &[u8; 32], depth: usize) -> [u8; 32] {
    let mut out = *key;
    for (i, byte) in out.iter_mut().enumerate() {
        let start = i * 8;
        if start >= depth {
            *byte = 0xFF;
        } else if depth - start < 8 {
            *byte |= 0xFF >> (depth - start);
        }
    }
    out
}

/// Number of leading bits `a` and `b` share (256 if equal).
fn common_prefix_bits(a: &[u8; 32], b: &[u8; 32]) -> usize {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let diff = x ^ y;
        if diff != 0 {
            return i * 8 + diff.leading_zeros() as usize;
        }
    }
    KEY_BITS
}

/// `H_leaf`. Lengths above 255 (never valid) saturate the length byte; the
/// whole value is still hashed.
fn leaf_hash(kind: TreeKind, key: &[u8; 32], value: &[u8]) -> [u8; 32] {
    let len = u8::try_from(value.len()).unwrap_or(u8::MAX);
    hash(kind.leaf_context(), &[key, &[len], value])
}

/// `H_node`.
fn node_hash(kind: TreeKind, left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    hash(kind.node_context(), &[left, right])
}

/// The reference definition of the root: a from-scratch recursive rebuild
/// over the whole leaf set, with no caching. [`SparseMerkleTree::root`] must
/// always agree with it; tests use it as the oracle.
///
/// Values longer than [`MAX_VALUE_LEN`] cannot be in a [`SparseMerkleTree`];
/// if `leaves` holds one, the result is not the root of any valid tree.
pub fn naive_root(kind: TreeKind, leaves: &BTreeMap<[u8; 32], Vec<u8>>) -> [u8; 32] {
    let entries: Vec<(&[u8; 32], &Vec<u8>)> = leaves.iter().collect();
    naive_subtree(kind, &entries, 0)
}

/// Hash of the subtree holding `entries` (sorted, all sharing `depth` bits).
fn naive_subtree(kind: TreeKind, entries: &[(&[u8; 32], &Vec<u8>)], depth: usize) -> [u8; 32] {
    match entries {
        [] => EMPTY_ROOT,
        [(key, value)] => leaf_hash(kind, key, value),
        _ => {
            // Sorted keys with a common prefix: those with bit `depth` = 0 come first.
            let split = entries.partition_point(|(key, _)| !bit(key, depth));
            let (left, right) = entries.split_at(split);
            node_hash(
                kind,
                &naive_subtree(kind, left, depth + 1),
                &naive_subtree(kind, right, depth + 1),
            )
        }
    }
}

/// A stored leaf with its hash, computed once at insertion.
#[derive(Debug, Clone)]
struct Leaf {
    value: Vec<u8>,
    hash: [u8; 32],
}

/// How many leaves a subtree holds.
enum Occupancy<'a> {
    Empty,
    One(&'a [u8; 32], &'a Leaf),
    Many,
}

/// A compacted sparse Merkle tree in memory, with incremental hashing.
///
/// [`root`](Self::root) and [`prove`](Self::prove) take `&mut self`: they
/// rehash the paths dirtied since the last call and cache the inner-node
/// hashes they compute. Everything else is plain map access.
#[derive(Debug, Clone)]
pub struct SparseMerkleTree {
    kind: TreeKind,
    leaves: BTreeMap<[u8; 32], Leaf>,
    /// Hashes of subtrees with 2 or more leaves, keyed by (depth, lowest key
    /// under the prefix). Every entry is current; changes remove entries.
    nodes: HashMap<(u16, [u8; 32]), [u8; 32]>,
}

impl SparseMerkleTree {
    /// An empty tree of the given kind.
    pub fn new(kind: TreeKind) -> Self {
        Self {
            kind,
            leaves: BTreeMap::new(),
            nodes: HashMap::new(),
        }
    }

    /// Which tree this is.
    pub fn kind(&self) -> TreeKind {
        self.kind
    }

    /// Inserts `key` with `value`, replacing any previous value.
    /// Fails, changing nothing, if `value` is longer than [`MAX_VALUE_LEN`].
    pub fn insert(&mut self, key: [u8; 32], value: &[u8]) -> Result<(), SmtError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(SmtError::ValueTooLong { len: value.len() });
        }
        self.invalidate(&key);
        let hash = leaf_hash(self.kind, &key, value);
        self.leaves.insert(
            key,
            Leaf {
                value: value.to_vec(),
                hash,
            },
        );
        Ok(())
    }

    /// Removes `key`, returning its value if it was present.
    pub fn remove(&mut self, key: &[u8; 32]) -> Option<Vec<u8>> {
        if !self.leaves.contains_key(key) {
            return None;
        }
        self.invalidate(key);
        self.leaves.remove(key).map(|leaf| leaf.value)
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8; 32]) -> Option<&[u8]> {
        self.leaves.get(key).map(|leaf| leaf.value.as_slice())
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The root hash ([`EMPTY_ROOT`] for the empty tree). Rehashes only the
    /// paths changed since the last call.
    pub fn root(&mut self) -> [u8; 32] {
        self.subtree_hash(0, &[0; 32])
    }

    /// A proof for `key`: membership if it is present, non-membership
    /// otherwise. Verify it with [`SmtProof::verify`] against [`root`](Self::root).
    pub fn prove(&mut self, key: &[u8; 32]) -> SmtProof {
        let mut siblings = Vec::new();
        for depth in 0..=KEY_BITS {
            let low = lowest(key, depth);
            let terminal = match self.occupancy(depth, &low) {
                Occupancy::Empty => Terminal::Empty,
                Occupancy::One(leaf_key, leaf) => Terminal::Leaf {
                    key: *leaf_key,
                    value: leaf.value.clone(),
                },
                Occupancy::Many => {
                    // The sibling subtree: same prefix, opposite bit at `depth`.
                    let mut sibling = low;
                    if !bit(key, depth) {
                        set_bit(&mut sibling, depth);
                    }
                    let hash = self.subtree_hash(depth + 1, &sibling);
                    siblings.push(hash);
                    continue;
                }
            };
            return SmtProof { siblings, terminal };
        }
        // Unreachable: at depth 256 the range is the single key `key`, so the
        // loop always returns. Kept total rather than panicking.
        SmtProof {
            siblings,
            terminal: Terminal::Empty,
        }
    }

    /// Counts the leaves under the `depth`-bit prefix of `low` (0, 1 or more).
    fn occupancy(&self, depth: usize, low: &[u8; 32]) -> Occupancy<'_> {
        let high = highest(low, depth);
        let mut range = self.leaves.range(*low..=high);
        match (range.next(), range.next()) {
            (None, _) => Occupancy::Empty,
            (Some((key, leaf)), None) => Occupancy::One(key, leaf),
            (Some(_), Some(_)) => Occupancy::Many,
        }
    }

    /// Hash of the subtree under the `depth`-bit prefix of `prefix`, using and
    /// filling the node cache.
    fn subtree_hash(&mut self, depth: usize, prefix: &[u8; 32]) -> [u8; 32] {
        let low = lowest(prefix, depth);
        match self.occupancy(depth, &low) {
            Occupancy::Empty => EMPTY_ROOT,
            Occupancy::One(_, leaf) => leaf.hash,
            Occupancy::Many => {
                // Two distinct keys differ within 256 bits, so depth <= 255 here.
                let cache_key = (u16::try_from(depth).unwrap_or(u16::MAX), low);
                if let Some(hash) = self.nodes.get(&cache_key) {
                    return *hash;
                }
                let mut right_prefix = low;
                set_bit(&mut right_prefix, depth);
                let left = self.subtree_hash(depth + 1, &low);
                let right = self.subtree_hash(depth + 1, &right_prefix);
                let hash = node_hash(self.kind, &left, &right);
                self.nodes.insert(cache_key, hash);
                hash
            }
        }
    }

    /// Drops the cached nodes on `key`'s path whose leaf set includes `key`
    /// and at least one other leaf: depths `0..=L`, `L` being the longest
    /// common prefix of `key` with its neighbours in key order. Call before
    /// `key` is inserted, replaced or removed. Deeper nodes on the path hold
    /// only `key` (or nothing), so they are never cached.
    fn invalidate(&mut self, key: &[u8; 32]) {
        let before = self.leaves.range(..*key).next_back().map(|(k, _)| k);
        let after = self
            .leaves
            .range((Bound::Excluded(*key), Bound::Unbounded))
            .next()
            .map(|(k, _)| k);
        let shared = [before, after]
            .into_iter()
            .flatten()
            .map(|neighbour| common_prefix_bits(key, neighbour))
            .max();
        let Some(shared) = shared else {
            return;
        };
        for depth in 0..=shared.min(KEY_BITS - 1) {
            let cache_key = (u16::try_from(depth).unwrap_or(u16::MAX), lowest(key, depth));
            self.nodes.remove(&cache_key);
        }
    }
}

impl SmtProof {
    /// Checks the proof for `key` against `root` in a tree of `kind`.
    ///
    /// Returns `Ok(Some(value))` if `key` is in the tree with `value`,
    /// `Ok(None)` if it provably is not, and an error if the proof is
    /// malformed ([`SmtError::TooManySiblings`], [`SmtError::ValueTooLong`],
    /// [`SmtError::PathMismatch`]) or does not hash to `root`
    /// ([`SmtError::RootMismatch`]).
    pub fn verify(
        &self,
        kind: TreeKind,
        root: &[u8; 32],
        key: &[u8; 32],
    ) -> Result<Option<Vec<u8>>, SmtError> {
        let depth = self.siblings.len();
        if depth > MAX_PROOF_SIBLINGS {
            return Err(SmtError::TooManySiblings { count: depth });
        }
        let (mut running, answer) = match &self.terminal {
            Terminal::Empty => (EMPTY_ROOT, None),
            Terminal::Leaf {
                key: leaf_key,
                value,
            } => {
                if value.len() > MAX_VALUE_LEN {
                    return Err(SmtError::ValueTooLong { len: value.len() });
                }
                if common_prefix_bits(leaf_key, key) < depth {
                    return Err(SmtError::PathMismatch);
                }
                let answer = (leaf_key == key).then(|| value.clone());
                (leaf_hash(kind, leaf_key, value), answer)
            }
        };
        for (d, sibling) in self.siblings.iter().enumerate().rev() {
            running = if bit(key, d) {
                node_hash(kind, sibling, &running)
            } else {
                node_hash(kind, &running, sibling)
            };
        }
        if &running != root {
            return Err(SmtError::RootMismatch);
        }
        Ok(answer)
    }

    /// The canonical binary encoding (layout in the [module docs](self)).
    ///
    /// A proof that breaks the limits (more than [`MAX_PROOF_SIBLINGS`]
    /// siblings, a value longer than [`MAX_VALUE_LEN`]) still encodes, to
    /// bytes that [`decode`](Self::decode) rejects.
    pub fn encode(&self) -> Vec<u8> {
        let count = self.siblings.len();
        let mut w = Writer::with_capacity(
            MAX_PROOF_LEN.min(2 + count.div_ceil(8) + count * 32 + 1 + 32 + 1 + MAX_VALUE_LEN),
        );
        w.u16(u16::try_from(count).unwrap_or(u16::MAX));
        let mut bitmap = vec![0u8; count.div_ceil(8)];
        for (i, sibling) in self.siblings.iter().enumerate() {
            if *sibling == EMPTY_ROOT {
                if let Some(byte) = bitmap.get_mut(i / 8) {
                    *byte |= 1 << (7 - i % 8);
                }
            }
        }
        w.fixed(&bitmap);
        for sibling in self.siblings.iter().filter(|s| **s != EMPTY_ROOT) {
            w.fixed(sibling);
        }
        match &self.terminal {
            Terminal::Empty => {
                w.u8(TAG_EMPTY);
            }
            Terminal::Leaf { key, value } => {
                w.u8(TAG_LEAF)
                    .fixed(key)
                    .u8(u8::try_from(value.len()).unwrap_or(u8::MAX))
                    .fixed(value);
            }
        }
        w.finish()
    }

    /// Decodes [`encode`](Self::encode)'s output. Total (never panics);
    /// rejects anything that is not the canonical encoding of a proof within
    /// the limits: trailing bytes, unknown tags, set bitmap padding bits, an
    /// all-zero sibling sent explicitly, too many siblings, a value that is
    /// too long.
    pub fn decode(bytes: &[u8]) -> Result<Self, SmtError> {
        if bytes.len() > MAX_PROOF_LEN {
            return Err(DecodeError::TooLong {
                field: "sparse Merkle proof",
                len: bytes.len(),
                max: MAX_PROOF_LEN,
            }
            .into());
        }
        let mut r = Reader::new(bytes);
        let count = usize::from(r.u16()?);
        if count > MAX_PROOF_SIBLINGS {
            return Err(SmtError::TooManySiblings { count });
        }
        let bitmap = r.take(count.div_ceil(8))?;
        if count % 8 != 0 {
            let padding = 0xFFu8 >> (count % 8);
            if bitmap.last().is_some_and(|last| last & padding != 0) {
                return Err(DecodeError::Invalid {
                    field: "proof bitmap",
                    reason: "padding bits set",
                }
                .into());
            }
        }
        let mut siblings = Vec::with_capacity(count);
        for i in 0..count {
            let empty = bitmap
                .get(i / 8)
                .is_some_and(|byte| (byte >> (7 - i % 8)) & 1 == 1);
            if empty {
                siblings.push(EMPTY_ROOT);
            } else {
                let sibling: [u8; 32] = r.array()?;
                if sibling == EMPTY_ROOT {
                    return Err(DecodeError::Invalid {
                        field: "proof sibling",
                        reason: "empty sibling sent explicitly instead of as a bitmap bit",
                    }
                    .into());
                }
                siblings.push(sibling);
            }
        }
        let terminal = match r.u8()? {
            TAG_EMPTY => Terminal::Empty,
            TAG_LEAF => {
                let key: [u8; 32] = r.array()?;
                let len = usize::from(r.u8()?);
                if len > MAX_VALUE_LEN {
                    return Err(SmtError::ValueTooLong { len });
                }
                let value = r.take(len)?.to_vec();
                Terminal::Leaf { key, value }
            }
            tag => {
                return Err(DecodeError::UnknownTag {
                    field: "proof terminal",
                    tag,
                }
                .into())
            }
        };
        r.finish()?;
        Ok(Self { siblings, terminal })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KINDS: [TreeKind; 2] = [TreeKind::State, TreeKind::Transactions];

    fn tree_of(kind: TreeKind, leaves: &BTreeMap<[u8; 32], Vec<u8>>) -> SparseMerkleTree {
        let mut tree = SparseMerkleTree::new(kind);
        for (key, value) in leaves {
            tree.insert(*key, value).unwrap();
        }
        tree
    }

    fn key_with(byte0: u8, last: u8) -> [u8; 32] {
        let mut key = [0u8; 32];
        key[0] = byte0;
        key[31] = last;
        key
    }

    #[test]
    fn bit_helpers() {
        let key = key_with(0b1010_0000, 0b0000_0001);
        assert!(bit(&key, 0));
        assert!(!bit(&key, 1));
        assert!(bit(&key, 2));
        assert!(bit(&key, 255));
        assert!(!bit(&key, 254));
        assert!(!bit(&key, 256));
        assert_eq!(lowest(&[0xFF; 32], 0), [0; 32]);
        assert_eq!(lowest(&[0xFF; 32], 256), [0xFF; 32]);
        assert_eq!(lowest(&[0xFF; 32], 3)[0], 0b1110_0000);
        assert_eq!(lowest(&[0xFF; 32], 3)[1], 0);
        assert_eq!(highest(&[0; 32], 3)[0], 0b0001_1111);
        assert_eq!(highest(&[0; 32], 256), [0; 32]);
        assert_eq!(highest(&[0; 32], 8)[1], 0xFF);
        assert_eq!(common_prefix_bits(&[0; 32], &[0; 32]), 256);
        assert_eq!(common_prefix_bits(&[0; 32], &key_with(0, 1)), 255);
        assert_eq!(common_prefix_bits(&[0; 32], &key_with(0x80, 0)), 0);
    }

    #[test]
    fn empty_and_single_leaf_trees() {
        for kind in KINDS {
            let mut tree = SparseMerkleTree::new(kind);
            assert!(tree.is_empty());
            assert_eq!(tree.root(), EMPTY_ROOT);
            let proof = tree.prove(&[7; 32]);
            assert_eq!(
                proof,
                SmtProof {
                    siblings: vec![],
                    terminal: Terminal::Empty
                }
            );
            assert_eq!(proof.verify(kind, &EMPTY_ROOT, &[7; 32]), Ok(None));
            assert_eq!(proof.encode(), vec![0, 0, TAG_EMPTY]);

            tree.insert([7; 32], b"seven").unwrap();
            assert_eq!(tree.len(), 1);
            let root = tree.root();
            assert_eq!(root, leaf_hash(kind, &[7; 32], b"seven"));
            let proof = tree.prove(&[7; 32]);
            assert!(proof.siblings.is_empty());
            assert_eq!(
                proof.verify(kind, &root, &[7; 32]),
                Ok(Some(b"seven".to_vec()))
            );
            // Any other key: the lone leaf is the non-membership witness.
            let other = tree.prove(&[8; 32]);
            assert_eq!(other, proof);
            assert_eq!(other.verify(kind, &root, &[8; 32]), Ok(None));

            assert_eq!(tree.remove(&[7; 32]), Some(b"seven".to_vec()));
            assert_eq!(tree.remove(&[7; 32]), None);
            assert_eq!(tree.root(), EMPTY_ROOT);
        }
    }

    /// Pins the definition: three keys, root computed by hand.
    #[test]
    fn hand_computed_root() {
        // k1 = 00..., k2 = 01..., k3 = 1...: k3 is alone on the right at depth
        // 1; k1 and k2 split at depth 2.
        let k1 = key_with(0x00, 0x11);
        let k2 = key_with(0x40, 0x22);
        let k3 = key_with(0x80, 0x33);
        let mut tree = SparseMerkleTree::new(TreeKind::State);
        tree.insert(k2, b"two").unwrap();
        tree.insert(k3, b"").unwrap();
        tree.insert(k1, &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
            .unwrap();

        let l1 = hash(
            "rUv 2026-11 state leaf v1",
            &[
                &k1,
                &[16],
                &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0],
            ],
        );
        let l2 = hash("rUv 2026-11 state leaf v1", &[&k2, &[3], b"two"]);
        let l3 = hash("rUv 2026-11 state leaf v1", &[&k3, &[0]]);
        let n12 = hash("rUv 2026-11 state node v1", &[&l1, &l2]);
        let root = hash("rUv 2026-11 state node v1", &[&n12, &l3]);
        assert_eq!(tree.root(), root);

        let proof = tree.prove(&k2);
        assert_eq!(proof.siblings, vec![l3, l1]);
        assert_eq!(
            proof.verify(TreeKind::State, &root, &k2),
            Ok(Some(b"two".to_vec()))
        );
        // 0b0010_0000...: under k1/k2's left subtree, bit 1 = 0, so it ends at k1.
        let absent = key_with(0x20, 0);
        let proof = tree.prove(&absent);
        assert_eq!(proof.siblings, vec![l3, l2]);
        assert!(matches!(proof.terminal, Terminal::Leaf { key, .. } if key == k1));
        assert_eq!(proof.verify(TreeKind::State, &root, &absent), Ok(None));

        // The transaction tree uses its own contexts.
        let mut tx_tree = tree_of(
            TreeKind::Transactions,
            &tree
                .leaves
                .iter()
                .map(|(k, l)| (*k, l.value.clone()))
                .collect(),
        );
        let t1 = hash(
            "rUv 2026-11 transaction leaf v1",
            &[
                &k1,
                &[16],
                &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0],
            ],
        );
        let t2 = hash("rUv 2026-11 transaction leaf v1", &[&k2, &[3], b"two"]);
        let t3 = hash("rUv 2026-11 transaction leaf v1", &[&k3, &[0]]);
        let t12 = hash("rUv 2026-11 transaction node v1", &[&t1, &t2]);
        let tx_root = hash("rUv 2026-11 transaction node v1", &[&t12, &t3]);
        assert_eq!(tx_tree.root(), tx_root);
        assert_ne!(tx_root, root);
    }

    /// Two keys differing only in the last bit: a chain of 255 inner nodes
    /// with empty siblings, and 256-sibling proofs.
    #[test]
    fn deepest_split() {
        let a = [0u8; 32];
        let b = key_with(0, 1);
        let c = key_with(0x80, 0);
        let mut tree = SparseMerkleTree::new(TreeKind::Transactions);
        for key in [a, b, c] {
            tree.insert(key, &key[31..]).unwrap();
        }
        let kind = TreeKind::Transactions;
        let la = leaf_hash(kind, &a, &[0]);
        let lb = leaf_hash(kind, &b, &[1]);
        let lc = leaf_hash(kind, &c, &[0]);
        let mut running = node_hash(kind, &la, &lb); // depth 255
        for _ in 1..255 {
            running = node_hash(kind, &running, &EMPTY_ROOT);
        }
        let root = node_hash(kind, &running, &lc);
        assert_eq!(tree.root(), root);

        let proof = tree.prove(&a);
        assert_eq!(proof.siblings.len(), MAX_PROOF_SIBLINGS);
        assert_eq!(proof.siblings[0], lc);
        assert_eq!(proof.siblings[255], lb);
        assert!(proof.siblings[1..255].iter().all(|s| *s == EMPTY_ROOT));
        assert_eq!(proof.verify(kind, &root, &a), Ok(Some(vec![0])));
        let bytes = proof.encode();
        assert_eq!(bytes.len(), 2 + 32 + 2 * 32 + 1 + 32 + 1 + 1);
        assert_eq!(SmtProof::decode(&bytes), Ok(proof.clone()));

        // An absent key on that chain ends at an empty subtree.
        let absent = key_with(0x01, 0);
        let proof = tree.prove(&absent);
        assert_eq!(proof.siblings.len(), 8);
        assert_eq!(proof.terminal, Terminal::Empty);
        assert_eq!(proof.verify(kind, &root, &absent), Ok(None));

        // Removing b collapses the chain: a floats up next to c.
        tree.remove(&b);
        assert_eq!(tree.root(), node_hash(kind, &la, &lc));
    }

    #[test]
    fn values_too_long_are_rejected() {
        let mut tree = SparseMerkleTree::new(TreeKind::State);
        assert_eq!(
            tree.insert([1; 32], &[0; MAX_VALUE_LEN + 1]),
            Err(SmtError::ValueTooLong {
                len: MAX_VALUE_LEN + 1
            })
        );
        assert!(tree.is_empty());
        tree.insert([1; 32], &[0; MAX_VALUE_LEN]).unwrap();
        let root = tree.root();

        let long = SmtProof {
            siblings: vec![],
            terminal: Terminal::Leaf {
                key: [1; 32],
                value: vec![0; MAX_VALUE_LEN + 1],
            },
        };
        assert_eq!(
            long.verify(TreeKind::State, &root, &[1; 32]),
            Err(SmtError::ValueTooLong {
                len: MAX_VALUE_LEN + 1
            })
        );
        assert_eq!(
            SmtProof::decode(&long.encode()),
            Err(SmtError::ValueTooLong {
                len: MAX_VALUE_LEN + 1
            })
        );
        // Even a value too long for the u8 length byte encodes to rejected bytes.
        let huge = SmtProof {
            siblings: vec![],
            terminal: Terminal::Leaf {
                key: [1; 32],
                value: vec![0; 300],
            },
        };
        assert!(SmtProof::decode(&huge.encode()).is_err());

        let deep = SmtProof {
            siblings: vec![[1; 32]; MAX_PROOF_SIBLINGS + 1],
            terminal: Terminal::Empty,
        };
        assert_eq!(
            deep.verify(TreeKind::State, &root, &[1; 32]),
            Err(SmtError::TooManySiblings {
                count: MAX_PROOF_SIBLINGS + 1
            })
        );
        assert!(SmtProof::decode(&deep.encode()).is_err());
    }

    #[test]
    fn largest_encoding_is_max_proof_len() {
        let proof = SmtProof {
            siblings: vec![[0xAB; 32]; MAX_PROOF_SIBLINGS],
            terminal: Terminal::Leaf {
                key: [3; 32],
                value: vec![9; MAX_VALUE_LEN],
            },
        };
        let bytes = proof.encode();
        assert_eq!(bytes.len(), MAX_PROOF_LEN);
        assert_eq!(SmtProof::decode(&bytes), Ok(proof));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            SmtProof::decode(&longer),
            Err(SmtError::Decode(DecodeError::TooLong { .. }))
        ));
    }

    #[test]
    fn decode_rejects_non_canonical_bytes() {
        let proof = SmtProof {
            siblings: vec![[5; 32], EMPTY_ROOT, [6; 32]],
            terminal: Terminal::Leaf {
                key: [7; 32],
                value: b"v".to_vec(),
            },
        };
        let bytes = proof.encode();
        // count 3, bitmap 0b0100_0000, two siblings, leaf.
        assert_eq!(&bytes[..3], &[3, 0, 0b0100_0000]);
        assert_eq!(bytes.len(), 3 + 64 + 1 + 32 + 1 + 1);
        assert_eq!(SmtProof::decode(&bytes), Ok(proof));

        // Trailing byte.
        let mut b = bytes.clone();
        b.push(0);
        assert_eq!(
            SmtProof::decode(&b),
            Err(SmtError::Decode(DecodeError::TrailingBytes(1)))
        );
        // Truncated anywhere.
        for cut in 0..bytes.len() {
            assert!(matches!(
                SmtProof::decode(&bytes[..cut]),
                Err(SmtError::Decode(DecodeError::UnexpectedEnd { .. }))
            ));
        }
        // Padding bit set.
        let mut b = bytes.clone();
        b[2] |= 0b0000_0001;
        assert!(matches!(
            SmtProof::decode(&b),
            Err(SmtError::Decode(DecodeError::Invalid {
                field: "proof bitmap",
                ..
            }))
        ));
        // Unknown terminal tag.
        let mut b = bytes.clone();
        b[3 + 64] = 2;
        assert!(matches!(
            SmtProof::decode(&b),
            Err(SmtError::Decode(DecodeError::UnknownTag { tag: 2, .. }))
        ));
        // An empty sibling sent explicitly.
        let mut w = Writer::default();
        w.u16(1).u8(0).fixed(&EMPTY_ROOT).u8(TAG_EMPTY);
        assert!(matches!(
            SmtProof::decode(&w.finish()),
            Err(SmtError::Decode(DecodeError::Invalid {
                field: "proof sibling",
                ..
            }))
        ));
        // Too many siblings declared.
        assert_eq!(
            SmtProof::decode(&[1, 1]),
            Err(SmtError::TooManySiblings { count: 257 })
        );
        // Value length over the limit.
        let mut w = Writer::default();
        w.u16(0).u8(TAG_LEAF).fixed(&[0; 32]).u8(65).fixed(&[0; 65]);
        assert_eq!(
            SmtProof::decode(&w.finish()),
            Err(SmtError::ValueTooLong { len: 65 })
        );
        assert!(SmtProof::decode(&[]).is_err());
    }

    /// A tree of 64 random keys plus a few close neighbours, for tamper tests.
    fn sample_tree(kind: TreeKind) -> SparseMerkleTree {
        let mut tree = SparseMerkleTree::new(kind);
        for i in 0u32..64 {
            let key = hash("smt test key", &[&i.to_le_bytes()]);
            tree.insert(key, &i.to_le_bytes()).unwrap();
        }
        tree.insert(key_with(0x55, 1), b"a").unwrap();
        tree.insert(key_with(0x55, 3), b"b").unwrap();
        tree
    }

    #[test]
    fn tampered_proofs_fail() {
        let kind = TreeKind::State;
        let mut tree = sample_tree(kind);
        let root = tree.root();
        let present = hash("smt test key", &[&5u32.to_le_bytes()]);
        let proof = tree.prove(&present);
        assert_eq!(
            proof.verify(kind, &root, &present),
            Ok(Some(5u32.to_le_bytes().to_vec()))
        );
        assert!(!proof.siblings.is_empty());

        // Wrong kind.
        assert_eq!(
            proof.verify(TreeKind::Transactions, &root, &present),
            Err(SmtError::RootMismatch)
        );
        // Wrong root.
        let mut other_root = root;
        other_root[0] ^= 1;
        assert_eq!(
            proof.verify(kind, &other_root, &present),
            Err(SmtError::RootMismatch)
        );
        // Value changed.
        let mut p = proof.clone();
        if let Terminal::Leaf { value, .. } = &mut p.terminal {
            value[0] ^= 1;
        }
        assert_eq!(p.verify(kind, &root, &present), Err(SmtError::RootMismatch));
        // Each sibling changed.
        for i in 0..proof.siblings.len() {
            let mut p = proof.clone();
            p.siblings[i][31] ^= 0x80;
            assert_eq!(p.verify(kind, &root, &present), Err(SmtError::RootMismatch));
        }
        // Last sibling dropped; first sibling dropped.
        let mut p = proof.clone();
        p.siblings.pop();
        assert!(p.verify(kind, &root, &present).is_err());
        let mut p = proof.clone();
        p.siblings.remove(0);
        assert!(p.verify(kind, &root, &present).is_err());
        // An extra empty sibling (pretending the leaf sits deeper).
        let mut p = proof.clone();
        p.siblings.push(EMPTY_ROOT);
        assert_eq!(p.verify(kind, &root, &present), Err(SmtError::RootMismatch));
        // Claiming absence with an empty terminal.
        let mut p = proof.clone();
        p.terminal = Terminal::Empty;
        assert_eq!(p.verify(kind, &root, &present), Err(SmtError::RootMismatch));
        // The proof is for `present`, not for a key on another path.
        let mut elsewhere = present;
        elsewhere[0] ^= 0x80;
        assert_eq!(
            proof.verify(kind, &root, &elsewhere),
            Err(SmtError::PathMismatch)
        );

        // Non-membership with a terminal leaf, then moved off the path.
        let absent = key_with(0x55, 2);
        let proof = tree.prove(&absent);
        assert!(matches!(proof.terminal, Terminal::Leaf { .. }));
        assert_eq!(proof.verify(kind, &root, &absent), Ok(None));
        let mut p = proof.clone();
        if let Terminal::Leaf { key, .. } = &mut p.terminal {
            key[0] ^= 0x80;
        }
        assert_eq!(p.verify(kind, &root, &absent), Err(SmtError::PathMismatch));
        // The same proof is the witness key's membership proof.
        let witness = key_with(0x55, 3);
        assert_eq!(proof.verify(kind, &root, &witness), Ok(Some(b"b".to_vec())));

        // Non-membership with an empty terminal, turned into a fake leaf.
        let mut found_empty = false;
        for i in 0u32..200 {
            let absent = hash("smt absent key", &[&i.to_le_bytes()]);
            let proof = tree.prove(&absent);
            if proof.terminal == Terminal::Empty {
                found_empty = true;
                assert_eq!(proof.verify(kind, &root, &absent), Ok(None));
                let mut p = proof.clone();
                p.terminal = Terminal::Leaf {
                    key: absent,
                    value: vec![],
                };
                assert_eq!(p.verify(kind, &root, &absent), Err(SmtError::RootMismatch));
                break;
            }
        }
        assert!(found_empty);
    }

    #[test]
    fn replace_and_remove_update_the_root() {
        let mut tree = sample_tree(TreeKind::Transactions);
        let before = tree.root();
        let key = hash("smt test key", &[&9u32.to_le_bytes()]);
        tree.insert(key, b"new").unwrap();
        let replaced = tree.root();
        assert_ne!(replaced, before);
        assert_eq!(tree.get(&key), Some(&b"new"[..]));
        tree.insert(key, &9u32.to_le_bytes()).unwrap();
        assert_eq!(tree.root(), before);
        tree.remove(&key);
        assert_ne!(tree.root(), before);
        assert_eq!(tree.get(&key), None);
        tree.insert(key, &9u32.to_le_bytes()).unwrap();
        assert_eq!(tree.root(), before);
    }

    /// 100 000 random keys with state-sized values (16 bytes): proof sizes.
    /// Run with `--nocapture` to see the figures.
    #[test]
    fn proof_sizes_at_scale() {
        const N: u32 = 100_000;
        const SAMPLES: u32 = 5_000;
        let kind = TreeKind::State;
        let mut tree = SparseMerkleTree::new(kind);
        for i in 0..N {
            let key = hash("smt scale key", &[&i.to_le_bytes()]);
            let mut value = [0u8; 16];
            value[..8].copy_from_slice(&u64::from(i).to_le_bytes());
            tree.insert(key, &value).unwrap();
        }
        let root = tree.root();
        let (mut total, mut max, mut siblings) = (0usize, 0usize, 0usize);
        for i in (0..N).step_by((N / SAMPLES) as usize) {
            let key = hash("smt scale key", &[&i.to_le_bytes()]);
            let proof = tree.prove(&key);
            let len = proof.encode().len();
            assert!(proof.verify(kind, &root, &key).unwrap().is_some());
            total += len;
            siblings += proof.siblings.len();
            max = max.max(len);
        }
        let mean = total as f64 / f64::from(SAMPLES);
        let (mut absent_total, mut absent_max, mut empty, mut leaf) = (0usize, 0usize, 0, 0);
        for i in 0..SAMPLES / 5 {
            let key = hash("smt scale absent key", &[&i.to_le_bytes()]);
            let proof = tree.prove(&key);
            assert_eq!(proof.verify(kind, &root, &key), Ok(None));
            match proof.terminal {
                Terminal::Empty => empty += 1,
                Terminal::Leaf { .. } => leaf += 1,
            }
            let len = proof.encode().len();
            absent_total += len;
            absent_max = absent_max.max(len);
        }
        println!(
            "smt proof sizes at {N} keys: membership mean {mean:.1} bytes, max {max} bytes, \
             mean siblings {:.2} ({SAMPLES} samples); non-membership mean {:.1} bytes, max {absent_max} \
             bytes ({empty} empty / {leaf} leaf terminals)",
            siblings as f64 / f64::from(SAMPLES),
            absent_total as f64 / f64::from(SAMPLES / 5),
        );
        assert!(mean < 1_000.0, "mean proof length {mean}");
        assert!(empty > 0 && leaf > 0);

        // One change dirties one path; the incremental root stays right.
        let key = hash("smt scale key", &[&7u32.to_le_bytes()]);
        tree.insert(key, b"changed").unwrap();
        let new_root = tree.root();
        assert_ne!(new_root, root);
        assert_eq!(
            tree.prove(&key).verify(kind, &new_root, &key),
            Ok(Some(b"changed".to_vec()))
        );
    }

    // ---- property tests ----

    const BASES: [[u8; 32]; 4] = [[0; 32], [0xFF; 32], [0x5A; 32], [0x11; 32]];

    /// Random keys, keys that differ from a base only in the last byte, and
    /// keys that differ from a base in one bit anywhere (deep splits).
    fn key_strategy() -> impl Strategy<Value = [u8; 32]> {
        prop_oneof![
            any::<[u8; 32]>(),
            (0usize..4, any::<u8>()).prop_map(|(b, last)| {
                let mut key = BASES[b];
                key[31] = last;
                key
            }),
            (0usize..4, 0usize..256).prop_map(|(b, i)| {
                let mut key = BASES[b];
                key[i / 8] ^= 1 << (7 - i % 8);
                key
            }),
            (0usize..4, 248usize..256).prop_map(|(b, i)| {
                let mut key = BASES[b];
                key[i / 8] ^= 1 << (7 - i % 8);
                key
            }),
        ]
    }

    fn leaves_strategy() -> impl Strategy<Value = BTreeMap<[u8; 32], Vec<u8>>> {
        proptest::collection::btree_map(
            key_strategy(),
            proptest::collection::vec(any::<u8>(), 0..=MAX_VALUE_LEN),
            0..120,
        )
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(prop::sample::Index, Vec<u8>),
        Remove(prop::sample::Index),
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<prop::sample::Index>(), proptest::collection::vec(any::<u8>(), 0..=MAX_VALUE_LEN))
                .prop_map(|(i, v)| Op::Insert(i, v)),
            1 => any::<prop::sample::Index>().prop_map(Op::Remove),
        ]
    }

    fn proof_strategy() -> impl Strategy<Value = SmtProof> {
        let sibling = prop_oneof![Just(EMPTY_ROOT), any::<[u8; 32]>()];
        let terminal = prop_oneof![
            Just(Terminal::Empty),
            (
                any::<[u8; 32]>(),
                proptest::collection::vec(any::<u8>(), 0..=MAX_VALUE_LEN)
            )
                .prop_map(|(key, value)| Terminal::Leaf { key, value }),
        ];
        (
            proptest::collection::vec(sibling, 0..=MAX_PROOF_SIBLINGS),
            terminal,
        )
            .prop_map(|(siblings, terminal)| SmtProof { siblings, terminal })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn incremental_root_matches_naive(
            pool in proptest::collection::vec(key_strategy(), 1..200),
            ops in proptest::collection::vec(op_strategy(), 1..300),
            kind_is_state: bool,
        ) {
            let kind = if kind_is_state { TreeKind::State } else { TreeKind::Transactions };
            let mut tree = SparseMerkleTree::new(kind);
            let mut model: BTreeMap<[u8; 32], Vec<u8>> = BTreeMap::new();
            for (step, op) in ops.iter().enumerate() {
                match op {
                    Op::Insert(i, value) => {
                        let key = pool[i.index(pool.len())];
                        tree.insert(key, value).unwrap();
                        model.insert(key, value.clone());
                    }
                    Op::Remove(i) => {
                        let key = pool[i.index(pool.len())];
                        prop_assert_eq!(tree.remove(&key), model.remove(&key));
                    }
                }
                if step % 7 == 0 {
                    prop_assert_eq!(tree.root(), naive_root(kind, &model));
                }
            }
            prop_assert_eq!(tree.len(), model.len());
            prop_assert_eq!(tree.root(), naive_root(kind, &model));
            for (key, value) in &model {
                prop_assert_eq!(tree.get(key), Some(value.as_slice()));
            }
            // A fresh tree built from the final leaf set agrees too.
            prop_assert_eq!(tree_of(kind, &model).root(), naive_root(kind, &model));
        }

        #[test]
        fn proofs_verify(
            leaves in leaves_strategy(),
            absent in proptest::collection::vec(key_strategy(), 1..40),
        ) {
            let kind = TreeKind::State;
            let mut tree = tree_of(kind, &leaves);
            let root = tree.root();
            prop_assert_eq!(root, naive_root(kind, &leaves));
            for (key, value) in &leaves {
                let proof = tree.prove(key);
                prop_assert_eq!(proof.verify(kind, &root, key), Ok(Some(value.clone())));
                prop_assert_eq!(SmtProof::decode(&proof.encode()), Ok(proof));
            }
            for key in absent.iter().filter(|k| !leaves.contains_key(*k)) {
                let proof = tree.prove(key);
                prop_assert_eq!(proof.verify(kind, &root, key), Ok(None));
                prop_assert_eq!(SmtProof::decode(&proof.encode()), Ok(proof));
            }
        }

        #[test]
        fn encoding_round_trips(proof in proof_strategy()) {
            let bytes = proof.encode();
            prop_assert!(bytes.len() <= MAX_PROOF_LEN);
            prop_assert_eq!(SmtProof::decode(&bytes), Ok(proof));
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..MAX_PROOF_LEN + 10),
            count in 0u16..300,
        ) {
            let _ = SmtProof::decode(&bytes);
            // Also with a plausible header in front.
            let mut framed = count.to_le_bytes().to_vec();
            framed.extend_from_slice(&bytes);
            let _ = SmtProof::decode(&framed);
        }

        #[test]
        fn single_byte_mutations_never_verify(
            leaves in leaves_strategy(),
            extra in key_strategy(),
            pick in any::<prop::sample::Index>(),
            position in any::<prop::sample::Index>(),
            delta in 1u8..=255,
        ) {
            let kind = TreeKind::Transactions;
            let mut tree = tree_of(kind, &leaves);
            let root = tree.root();
            // A present key (if any) or an absent one.
            let key = leaves.keys().nth(pick.index(leaves.len() + 1)).copied().unwrap_or(extra);
            let proof = tree.prove(&key);
            let expected = leaves.get(&key).cloned();
            prop_assert_eq!(proof.verify(kind, &root, &key), Ok(expected));
            let mut bytes = proof.encode();
            let i = position.index(bytes.len());
            bytes[i] ^= delta;
            if let Ok(mutated) = SmtProof::decode(&bytes) {
                // Canonical: different bytes never decode to the same proof.
                prop_assert_ne!(&mutated, &proof);
                // And a different proof never verifies (for any answer).
                prop_assert!(mutated.verify(kind, &root, &key).is_err());
            }
        }
    }
}
