// The newest verified checkpoint, kept in IndexedDB so a reload shows the
// last verified state (marked stale until a relay proves a newer one) and
// the light client starts warm. It is verified again when loaded: storage
// is not trusted either.
const DB = "ruv-wallet-light";
const STORE = "checkpoints";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** The stored checkpoint of network `chainId`, if any. */
export async function loadCheckpoint(chainId: string): Promise<unknown | null> {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const request = db.transaction(STORE, "readonly").objectStore(STORE).get(chainId);
      request.onsuccess = () => resolve(request.result ?? null);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

/** Stores the newest verified checkpoint of network `chainId`. */
export async function saveCheckpoint(chainId: string, checkpoint: unknown): Promise<void> {
  const db = await open();
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      tx.objectStore(STORE).put(checkpoint, chainId);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}
