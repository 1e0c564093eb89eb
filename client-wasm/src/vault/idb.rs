//! IndexedDB backend (browsers). One database per vault, one object store,
//! one key. Compare-and-swap is a single readwrite transaction with strict
//! durability: the check and the write commit together or not at all.

use super::codes;
use super::storage::{check_expected, RecordTag, VaultStorage};
use crate::error::ClientError;
use indexed_db_futures::database::Database;
use indexed_db_futures::error::{Error as IdbError, OpenDbError};
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{TransactionDurability, TransactionMode, TransactionOptions};
use wasm_bindgen::{JsCast, JsValue};

/// Database name `Vault.open()` uses by default.
pub const DEFAULT_DATABASE: &str = "ruv-vault";
/// Object store holding the record.
pub const STORE: &str = "vault";
/// Key of the record in the store.
pub const RECORD_KEY: &str = "record";
/// Schema version of the database.
pub const DB_VERSION: u32 = 1;

fn dom_name(e: &IdbError) -> Option<String> {
    match e {
        IdbError::DomException(d) => {
            let sys: &JsValue = d.as_ref();
            sys.dyn_ref::<web_sys::DomException>()
                .map(web_sys::DomException::name)
        }
        _ => None,
    }
}

/// Every IndexedDB failure is `storage_unavailable`, with the browser's
/// reason (quota, private mode, blocked, …) in the message.
pub fn storage_error(context: &str, e: &IdbError) -> ClientError {
    let detail = match dom_name(e).as_deref() {
        Some("QuotaExceededError") => "the browser's storage quota is exhausted".to_owned(),
        Some(name) => format!("{name}: {e}"),
        None => e.to_string(),
    };
    ClientError::new(
        codes::STORAGE_UNAVAILABLE,
        format!("IndexedDB {context} failed: {detail}"),
    )
}

fn open_error(name: &str, e: OpenDbError) -> ClientError {
    let detail = match e {
        OpenDbError::UnsupportedEnvironment | OpenDbError::NullFactory => {
            "IndexedDB is not available here (Node, or a private or restricted browsing mode)"
                .to_owned()
        }
        OpenDbError::VersionZero => "the browser refused to open the database".to_owned(),
        OpenDbError::Base(e) => return storage_error(&format!("opening database {name:?}"), &e),
    };
    ClientError::new(
        codes::STORAGE_UNAVAILABLE,
        format!("cannot open vault database {name:?}: {detail}"),
    )
}

/// Stored values are `Uint8Array`s; anything else in the slot is handed
/// back as empty bytes, which decode as a damaged record (and can be
/// deleted or replaced deliberately).
fn value_to_bytes(value: JsValue) -> Vec<u8> {
    match value.dyn_into::<js_sys::Uint8Array>() {
        Ok(array) => array.to_vec(),
        Err(_) => Vec::new(),
    }
}

/// A vault record in an IndexedDB database.
#[derive(Debug)]
pub struct IdbStorage {
    db: Database,
}

impl IdbStorage {
    /// Opens (creating if needed) the database `name`.
    pub async fn open(name: &str) -> Result<Self, ClientError> {
        let db = Database::open(name)
            .with_version(DB_VERSION)
            .with_on_upgrade_needed(|event, db| {
                if event.old_version() < 1.0 {
                    db.create_object_store(STORE).build()?;
                }
                Ok(())
            })
            .await
            .map_err(|e| open_error(name, e))?;
        Ok(Self { db })
    }

    /// The database name.
    pub fn name(&self) -> String {
        self.db.name()
    }
}

impl VaultStorage for IdbStorage {
    async fn load(&self) -> Result<Option<Vec<u8>>, ClientError> {
        let err = |e: IdbError| storage_error("read", &e);
        let tx = self.db.transaction(STORE).build().map_err(err)?;
        let store = tx.object_store(STORE).map_err(err)?;
        let value: Option<JsValue> = store
            .get(RECORD_KEY)
            .primitive()
            .map_err(err)?
            .await
            .map_err(err)?;
        Ok(value.filter(|v| !v.is_undefined()).map(value_to_bytes))
    }

    async fn compare_and_swap(
        &self,
        expected: Option<RecordTag>,
        new: Option<&[u8]>,
    ) -> Result<(), ClientError> {
        let err = |e: IdbError| storage_error("write", &e);
        let tx = self
            .db
            .transaction(STORE)
            .with_mode(TransactionMode::Readwrite)
            .with_options(TransactionOptions::new().with_durability(TransactionDurability::Strict))
            .build()
            .map_err(err)?;
        let store = tx.object_store(STORE).map_err(err)?;
        let current: Option<JsValue> = store
            .get(RECORD_KEY)
            .primitive()
            .map_err(err)?
            .await
            .map_err(err)?;
        let current = current.filter(|v| !v.is_undefined()).map(value_to_bytes);
        // Dropping `tx` on this error path aborts the transaction.
        check_expected(current.as_deref(), expected)?;
        match new {
            Some(bytes) => {
                let value: JsValue = js_sys::Uint8Array::from(bytes).into();
                store
                    .put(value)
                    .with_key(RECORD_KEY)
                    .without_key_type()
                    .primitive()
                    .map_err(err)?
                    .await
                    .map_err(err)?;
            }
            None => {
                store
                    .delete(RECORD_KEY)
                    .primitive()
                    .map_err(err)?
                    .await
                    .map_err(err)?;
            }
        }
        tx.commit().await.map_err(err)
    }
}
