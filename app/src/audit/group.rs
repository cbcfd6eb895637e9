//! Group commit of reads' audit rows (server only). A read's rows must be durable before its
//! data is handed back (P9), and every row extends the one hash chain, whose head each writer
//! holds locked until its commit. One row per transaction, the chain takes one durable commit
//! at a time: about 1,200 a second on the 2-core development machine, however many readers wait
//! (pgbench on the same database, README *Records*). So the rows of reads that finish together
//! are written together: the first to take the database's turn writes every row waiting, in one
//! transaction (one lock on the head, one commit), on a task of its own so that a request
//! dropped meanwhile cannot cut it short; each reader gets the outcome of the commit that
//! carried its rows. On SQLite, the turn also orders these short writes before SQLite's own
//! write lock, whose waiters poll unfairly (DECISIONS #60).
//!
//! Writes keep their rows in their own transaction (`guard::Permit`): a change and its entry
//! commit together or not at all.

use super::service::{record_many, AuditEvent, ClientInfo};
use crate::crypto::AuditSeal;
use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, TransactionTrait};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::oneshot;

/// One audit row to write.
struct Row {
    event: AuditEvent,
    seal: AuditSeal,
    at: DateTime<Utc>,
    client: ClientInfo,
}

/// One read's rows, and where to say how their commit went.
struct Waiting {
    rows: Vec<Row>,
    done: oneshot::Sender<Result<(), String>>,
}

/// One database's rows waiting, and whose turn it is to write them.
#[derive(Default)]
struct Turn {
    waiting: Mutex<Vec<Waiting>>,
    turn: tokio::sync::Mutex<()>,
}

/// The turn of `db`'s pool (one per pool: the pool's connection options are one allocation
/// for its life, so their address names it), or `None` for a connection without one.
fn turn_of(db: &DatabaseConnection) -> Option<Arc<Turn>> {
    let key = match db.get_database_backend() {
        DbBackend::Postgres => {
            Arc::as_ptr(&db.get_postgres_connection_pool().connect_options()) as usize
        }
        DbBackend::Sqlite => {
            Arc::as_ptr(&db.get_sqlite_connection_pool().connect_options()) as usize
        }
        _ => return None,
    };
    static TURNS: OnceLock<Mutex<HashMap<usize, Arc<Turn>>>> = OnceLock::new();
    let mut turns = TURNS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Some(turns.entry(key).or_default().clone())
}

/// Appends `events` to `db`'s audit log, durably, with whatever other reads' rows are waiting;
/// returns once the commit that carried them is done (or failed).
pub async fn append(
    db: &DatabaseConnection,
    seal: AuditSeal,
    at: DateTime<Utc>,
    client: ClientInfo,
    events: Vec<AuditEvent>,
) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<Row> = events
        .into_iter()
        .map(|event| Row {
            event,
            seal: seal.clone(),
            at,
            client: client.clone(),
        })
        .collect();
    let Some(turn) = turn_of(db) else {
        return write(db, &rows).await;
    };
    let (done, mut outcome) = oneshot::channel();
    turn.waiting
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Waiting { rows, done });
    let _turn = turn.turn.lock().await;
    // While this read waited for the turn, the one before may have written its rows.
    match outcome.try_recv() {
        Ok(result) => return result.map_err(DbErr::Custom),
        Err(oneshot::error::TryRecvError::Closed) => {
            return Err(DbErr::Custom("the audit rows' commit was lost".into()))
        }
        Err(oneshot::error::TryRecvError::Empty) => {}
    }
    let batch = std::mem::take(&mut *turn.waiting.lock().unwrap_or_else(PoisonError::into_inner));
    let db = db.clone();
    let flush = tokio::spawn(async move {
        let rows: Vec<&Row> = batch.iter().flat_map(|w| &w.rows).collect();
        let result = write_all(&db, &rows).await.map_err(|e| e.to_string());
        for waiting in batch {
            let _ = waiting.done.send(result.clone());
        }
    });
    let _ = flush.await;
    match outcome.await {
        Ok(result) => result.map_err(DbErr::Custom),
        Err(_) => Err(DbErr::Custom("the audit rows' commit was lost".into())),
    }
}

async fn write(db: &DatabaseConnection, rows: &[Row]) -> Result<(), DbErr> {
    write_all(db, &rows.iter().collect::<Vec<_>>()).await
}

/// `rows`, in order, in one transaction.
async fn write_all(db: &DatabaseConnection, rows: &[&Row]) -> Result<(), DbErr> {
    let events: Vec<_> = rows
        .iter()
        .map(|r| (&r.seal, r.at, &r.client, &r.event))
        .collect();
    let txn = db.begin().await?;
    record_many(&txn, &events).await?;
    txn.commit().await
}
