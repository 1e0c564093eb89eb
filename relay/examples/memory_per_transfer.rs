//! Prints how many heap bytes a validator relay holds per accepted transfer,
//! by owner, on a stopped relay's database: the accepted log is replayed
//! from genesis into an engine and a checkpointer exactly as a relay that
//! ran the whole history holds them (every accepted vertex in the DAG, every
//! certified checkpoint re-derived with its transaction tree, history and
//! proof indexes), then the vertices the certified checkpoints cover are
//! settled as the relay's driver settles them (`Input::Covered`: their
//! transfers leave memory), with a counting global allocator measuring each
//! step.
//!
//!   cargo run --release -p ruv-relay --example memory_per_transfer -- \
//!       <genesis.json> <data-dir> <relay key file>
//!
//! Owners, in the order they are measured:
//! - vertices: the `Arc<Vertex>` objects (decoded transfers, parents,
//!   signature), decoded once, for comparison: what the engine's DAG held
//!   per accepted vertex before settling;
//! - engine indexes: the DAG nodes, accepted tips, the accepted-transaction
//!   index and everything else the engine keeps beside the vertices;
//! - engine after settling: all the engine holds once the covered vertices
//!   are settled (uncovered vertices whole, covered ones as skeletons);
//! - checkpointer: the certified state (transaction trees per checkpoint,
//!   inclusion-proof and history indexes, per-nonce index, account tree) and
//!   its map of accepted vertices (sharing the vertices above);
//! - database cache: what redb keeps on the heap after reading the log.
//!
//! Not counted: the reader snapshot (accounts and pending senders: per
//! account, not per transfer), undecided transfers and peer queues (bounded,
//! and empty on a stopped relay).

mod common;

use common::{open_stopped_relay, StoppedRelay};
use ruv_consensus::{Checkpointer, Engine, Input, Vertex};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; the counter
// is only arithmetic on the sizes it was asked for.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() -> anyhow::Result<()> {
    // From here the heap counts (the genesis and key read with the command
    // line add a few KB in all, well under a byte per transfer).
    let start = live();
    let StoppedRelay {
        engine_config,
        checkpoint_config,
        storage,
    } = open_stopped_relay("memory_per_transfer")?;
    let persisted = storage.load()?;
    let stored = storage.load_checkpoints()?;
    let certified = stored.certified.len();

    // The vertices alone, decoded once (what the engine and the checkpointer share).
    let before_vertices = live();
    let vertices: Vec<Arc<Vertex>> = persisted
        .accepted
        .iter()
        .map(|bytes| Vertex::decode(bytes).map(Arc::new))
        .collect::<Result<_, _>>()?;
    let vertex_bytes = live() - before_vertices;
    let transfers: usize = vertices.iter().map(|v| v.txs().len()).sum();
    let accepted_transfers = vertices
        .iter()
        .flat_map(|v| v.tx_ids().iter().copied())
        .collect::<HashSet<_>>()
        .len()
        .max(1);
    drop(vertices);

    // The engine decodes its own copies: its total less the vertices is its indexes.
    let before_engine = live();
    let engine = Engine::restore(engine_config, &persisted, &mut Vec::new())?;
    let engine_bytes = live() - before_engine;
    let shared: Vec<Arc<Vertex>> = persisted
        .accepted
        .iter()
        .filter_map(|bytes| engine.vertex(&Vertex::id_of(bytes)).cloned())
        .collect();

    let ids: Vec<_> = shared.iter().map(|v| v.id()).collect();
    let before_checkpointer = live();
    let checkpointer =
        Checkpointer::restore(checkpoint_config, shared, stored.certified, stored.signed)?;
    let checkpointer_bytes = live() - before_checkpointer;

    // What the running relay's driver does after each certified checkpoint.
    let mut engine = engine;
    let covered: Vec<_> = ids
        .into_iter()
        .filter(|id| checkpointer.is_covered(id))
        .collect();
    let settled_count = covered.len();
    let before_settling = live();
    engine.handle(Input::Covered { vertices: covered }, &mut Vec::new());
    let settled_bytes = engine_bytes + (live() - before_settling);

    let persisted_vertices = persisted.accepted.len();
    drop(persisted);
    let cache_bytes = live() - start - settled_bytes - checkpointer_bytes;
    let total = live() - start;

    let per = |bytes: isize| bytes as f64 / accepted_transfers as f64;
    println!(
        "accepted vertices {}, transfers in them {transfers}, accepted transfers {accepted_transfers}, certified checkpoints {certified}, settled vertices {settled_count}",
        persisted_vertices
    );
    println!("bytes per accepted transfer, by owner:");
    println!(
        "  vertices (shared Arc<Vertex>)   {:>8.0}",
        per(vertex_bytes)
    );
    println!(
        "  engine indexes                  {:>8.0}",
        per(engine_bytes - vertex_bytes)
    );
    println!(
        "  engine after settling           {:>8.0}",
        per(settled_bytes)
    );
    println!(
        "  checkpointer (certified state)  {:>8.0}",
        per(checkpointer_bytes)
    );
    println!(
        "  database cache (redb)           {:>8.0}",
        per(cache_bytes)
    );
    println!("  total                           {:>8.0}", per(total));
    drop((checkpointer, engine, storage));
    Ok(())
}
