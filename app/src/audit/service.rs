//! Writing, reading and verifying the audit log.
//!
//! Each row carries `hash = SHA-256(prev_hash ‖ every field, length-prefixed)`. Writers first
//! take `audit_chain_head` (its row lock on PostgreSQL, the write lock on SQLite), so rows get
//! consecutive sequence numbers in one order and the chain never forks. [`record`] takes
//! the transaction of the access it describes: if the audit row cannot be written, the access
//! rolls back with it.

use super::entity::{audit_chain_head, audit_event, audit_seal};
use super::model::{AuditEntry, AuditFilter, Outcome};
use crate::auth::Role;
use crate::crypto::AuditSeal;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use sha2::{Digest, Sha256};

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditActor {
    pub user_id: i32,
    pub role: Role,
    pub session_ref: Option<String>,
}

/// One thing that happened.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor: Option<AuditActor>,
    /// Dotted verb, e.g. `patient_profile.read`, `session.sign_in`.
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    /// The patient whose data was concerned (their public id), for "who looked at my record".
    pub patient_id: Option<String>,
    pub outcome: Outcome,
    pub detail: Option<String>,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One field of the hash's input: absent (`0`), or present (`1`), its length in bytes (8, big
/// endian) and its UTF-8 bytes.
fn put(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.push(0),
        Some(text) => {
            out.push(1);
            out.extend_from_slice(&(text.len() as u64).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
}

const CHAIN_VERSION: &str = "bedside/audit/v1";

/// The hash's input after the sequence number: the row's own fields.
fn fields_after_seq(row: &audit_event::Model) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let at = row.at.timestamp_micros().to_string();
    let actor = row.actor_user_id.map(|id| id.to_string());
    put(&mut out, Some(&at));
    put(&mut out, actor.as_deref());
    put(&mut out, row.actor_role.as_deref());
    put(&mut out, row.session_ref.as_deref());
    put(&mut out, Some(&row.action));
    put(&mut out, Some(&row.resource_type));
    put(&mut out, row.resource_id.as_deref());
    put(&mut out, row.patient_id.as_deref());
    put(&mut out, row.ip.as_deref());
    put(&mut out, row.user_agent.as_deref());
    put(&mut out, Some(&row.outcome));
    put(&mut out, row.detail.as_deref());
    out
}

/// The chain hash of `row` (public: the algorithm is no secret; the seals are what a database
/// writer cannot make).
pub fn chain_hash(row: &audit_event::Model) -> String {
    let mut input = Vec::with_capacity(512);
    put(&mut input, Some(CHAIN_VERSION));
    put(&mut input, Some(&row.prev_hash));
    put(&mut input, Some(&row.seq.to_string()));
    input.extend_from_slice(&fields_after_seq(row));
    hex::encode(Sha256::digest(&input))
}

/// Truncates to microseconds: what PostgreSQL keeps, so the hash survives the round trip.
fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn clip(text: Option<&str>, max: usize) -> Option<String> {
    text.map(|t| t.chars().take(max).collect())
}

/// What an entry's seal signs: its chain hash, which covers its number, the entry before it
/// and every field.
fn seal_message(hash: &str) -> Vec<u8> {
    let mut message = b"bedside/audit-seal/v1\0".to_vec();
    message.extend_from_slice(hash.as_bytes());
    message
}

/// Seals entry `seq` (its `hash`) in `txn`.
async fn seal_entry(
    txn: &DatabaseTransaction,
    seal: &AuditSeal,
    seq: i64,
    hash: &str,
) -> Result<(), DbErr> {
    audit_seal::Entity::insert(audit_seal::ActiveModel {
        seq: sea_orm::Set(seq),
        seal: sea_orm::Set(seal.sign(&seal_message(hash))),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// `event`'s row, not yet in the chain (no number, no hashes).
fn row_of(at: DateTime<Utc>, client: &ClientInfo, event: &AuditEvent) -> audit_event::Model {
    audit_event::Model {
        seq: 0,
        at: to_micros(at),
        actor_user_id: event.actor.as_ref().map(|a| a.user_id),
        actor_role: event.actor.as_ref().map(|a| a.role.as_str().to_owned()),
        session_ref: event.actor.as_ref().and_then(|a| a.session_ref.clone()),
        action: event.action.clone(),
        resource_type: event.resource_type.clone(),
        resource_id: event.resource_id.clone(),
        patient_id: event.patient_id.clone(),
        ip: clip(client.ip.as_deref(), 64),
        user_agent: clip(client.user_agent.as_deref(), 255),
        outcome: event.outcome.as_str().to_owned(),
        detail: clip(event.detail.as_deref(), 255),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// Appends `event` inside `txn`, sealed with `seal`; returns its sequence number.
pub async fn record(
    txn: &DatabaseTransaction,
    seal: &AuditSeal,
    at: DateTime<Utc>,
    client: &ClientInfo,
    event: &AuditEvent,
) -> Result<i64, DbErr> {
    let mut row = row_of(at, client, event);
    if txn.get_database_backend() == DbBackend::Postgres {
        let (seq, hash) = append_in_one_statement(txn, &row).await?;
        seal_entry(txn, seal, seq, &hash).await?;
        return Ok(seq);
    }
    // Bump first: this takes the write lock that orders concurrent writers (SQLite).
    let missing = || DbErr::Custom("the audit chain head is missing".into());
    let bumped = audit_chain_head::Entity::update_many()
        .col_expr(
            audit_chain_head::Column::Seq,
            Expr::col(audit_chain_head::Column::Seq).add(1),
        )
        .filter(audit_chain_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    if bumped.rows_affected != 1 {
        return Err(missing());
    }
    let head = audit_chain_head::Entity::find_by_id(1)
        .one(txn)
        .await?
        .ok_or_else(missing)?;
    row.seq = head.seq;
    row.prev_hash = head.hash;
    row.hash = chain_hash(&row);
    audit_chain_head::Entity::update_many()
        .col_expr(
            audit_chain_head::Column::Hash,
            Expr::value(row.hash.clone()),
        )
        .filter(audit_chain_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    let (seq, hash) = (row.seq, row.hash.clone());
    audit_event::Entity::insert(audit_event::ActiveModel::from(row))
        .exec_without_returning(txn)
        .await?;
    seal_entry(txn, seal, seq, &hash).await?;
    Ok(seq)
}

/// PostgreSQL appends in one statement, so the chain's lock is held for that statement and the
/// commit only: it locks the head, moves it on (the new hash computed by the database from the
/// old hash, the new number and the fields hashed here, the same bytes [`chain_hash`] hashes)
/// and inserts the row.
async fn append_in_one_statement(
    txn: &DatabaseTransaction,
    row: &audit_event::Model,
) -> Result<(i64, String), DbErr> {
    const APPEND: &str = r"
        WITH old AS (
            SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE
        ), new AS (
            UPDATE audit_chain_head AS head
            SET seq = old.seq + 1,
                hash = encode(sha256(
                    $1::bytea
                    || ''::bytea || int8send(octet_length(old.hash)::bigint)
                    || convert_to(old.hash, 'UTF8')
                    || ''::bytea || int8send(octet_length((old.seq + 1)::text)::bigint)
                    || convert_to((old.seq + 1)::text, 'UTF8')
                    || $2::bytea
                ), 'hex')
            FROM old
            WHERE head.id = 1
            RETURNING head.seq, head.hash, old.hash AS prev_hash
        )
        INSERT INTO audit_event (seq, at, actor_user_id, actor_role, session_ref, action,
            resource_type, resource_id, patient_id, ip, user_agent, outcome, detail, prev_hash, hash)
        SELECT new.seq, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, new.prev_hash, new.hash
        FROM new
        RETURNING seq, hash";
    let mut version = Vec::new();
    put(&mut version, Some(CHAIN_VERSION));
    let values: Vec<sea_orm::Value> = vec![
        version.into(),
        fields_after_seq(row).into(),
        row.at.into(),
        row.actor_user_id.into(),
        row.actor_role.clone().into(),
        row.session_ref.clone().into(),
        row.action.clone().into(),
        row.resource_type.clone().into(),
        row.resource_id.clone().into(),
        row.patient_id.clone().into(),
        row.ip.clone().into(),
        row.user_agent.clone().into(),
        row.outcome.clone().into(),
        row.detail.clone().into(),
    ];
    let appended = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            APPEND,
            values,
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the audit chain head is missing".into()))?;
    Ok((
        appended.try_get_by_index::<i64>(0)?,
        appended.try_get_by_index::<String>(1)?,
    ))
}

/// Appends `events` (each with its seal, time and client) in `txn`, in order, in a few
/// statements whatever their number: the head locked and read once, the chain computed here
/// ([`chain_hash`], as [`verify`] checks it), the rows and their seals inserted many at a time,
/// the head moved on. Reads' rows are written so, many reads' at once (`audit::group`).
pub async fn record_many(
    txn: &DatabaseTransaction,
    events: &[(&AuditSeal, DateTime<Utc>, &ClientInfo, &AuditEvent)],
) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    let missing = || DbErr::Custom("the audit chain head is missing".into());
    let head = match txn.get_database_backend() {
        DbBackend::Postgres => audit_chain_head::Entity::find_by_id(1)
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(missing)?,
        _ => {
            // SQLite: a write first takes the one write lock, so no other writer moves the head
            // between the read and the update.
            audit_chain_head::Entity::update_many()
                .col_expr(
                    audit_chain_head::Column::Seq,
                    Expr::col(audit_chain_head::Column::Seq),
                )
                .filter(audit_chain_head::Column::Id.eq(1))
                .exec(txn)
                .await?;
            audit_chain_head::Entity::find_by_id(1)
                .one(txn)
                .await?
                .ok_or_else(missing)?
        }
    };
    let (mut seq, mut prev) = (head.seq, head.hash);
    let mut rows = Vec::with_capacity(events.len());
    let mut seals = Vec::with_capacity(events.len());
    for (seal, at, client, event) in events {
        seq += 1;
        let mut row = row_of(*at, client, event);
        row.seq = seq;
        row.prev_hash = prev;
        row.hash = chain_hash(&row);
        prev = row.hash.clone();
        seals.push(audit_seal::ActiveModel {
            seq: sea_orm::Set(seq),
            seal: sea_orm::Set(seal.sign(&seal_message(&row.hash))),
        });
        rows.push(audit_event::ActiveModel::from(row));
    }
    // SQLite takes at most 32,766 values in one statement: 15 per row.
    for chunk in rows.chunks(1000) {
        audit_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in seals.chunks(1000) {
        audit_seal::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::Seq, Expr::value(seq))
        .col_expr(audit_chain_head::Column::Hash, Expr::value(prev))
        .filter(audit_chain_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    Ok(())
}

/// Records an event that goes with no other write (a sign-in, a denied attempt).
pub async fn record_alone(
    db: &DatabaseConnection,
    seal: &AuditSeal,
    at: DateTime<Utc>,
    client: &ClientInfo,
    event: &AuditEvent,
) -> Result<i64, DbErr> {
    let txn = db.begin().await?;
    let seq = record(&txn, seal, at, client, event).await?;
    txn.commit().await?;
    Ok(seq)
}

/// What `bedside audit verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub rows: u64,
    pub problems: Vec<String>,
    /// The sequence number of the first entry that is missing, edited, out of place or
    /// unsealed: where the log stops being trustworthy.
    pub first_bad: Option<i64>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, seq: i64, text: String) {
        self.problems.push(text);
        self.first_bad = Some(self.first_bad.map_or(seq, |first| Ord::min(first, seq)));
    }
}

/// Walks the whole chain and reports every edited, missing, reordered or unsealed row. With
/// `seal`, each entry's seal is checked too (`None`: the chain only, as before the log had
/// seals).
pub async fn verify(
    db: &impl ConnectionTrait,
    seal: Option<&AuditSeal>,
) -> Result<VerifyReport, DbErr> {
    let mut report = VerifyReport::default();
    let mut expected_seq = 1i64;
    let mut expected_prev = GENESIS.to_owned();
    let mut after = 0i64;
    loop {
        let page = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.gt(after))
            .order_by_asc(audit_event::Column::Seq)
            .limit(1000)
            .all(db)
            .await?;
        let (Some(first), Some(last)) = (page.first(), page.last()) else {
            break;
        };
        let seals: std::collections::HashMap<i64, String> = match seal {
            Some(_) => audit_seal::Entity::find()
                .filter(audit_seal::Column::Seq.between(first.seq, last.seq))
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.seq, s.seal))
                .collect(),
            None => Default::default(),
        };
        after = last.seq;
        for row in page {
            report.rows += 1;
            if row.seq != expected_seq {
                report.problem(
                    expected_seq,
                    format!("rows {expected_seq}..{} are missing (deleted)", row.seq - 1),
                );
            }
            if row.prev_hash != expected_prev {
                report.problem(
                    row.seq,
                    format!(
                        "row {} does not follow the row before it (a row was deleted, reordered or replaced)",
                        row.seq
                    ),
                );
            }
            if chain_hash(&row) != row.hash {
                report.problem(
                    row.seq,
                    format!("row {} was edited after it was written", row.seq),
                );
            }
            if let Some(seal) = seal {
                match seals.get(&row.seq) {
                    None => report.problem(row.seq, format!("row {} has no seal", row.seq)),
                    Some(stored) => match seal.verify(&seal_message(&row.hash), stored) {
                        Ok(true) => {}
                        Ok(false) => report.problem(
                            row.seq,
                            format!(
                                "row {}'s seal does not match: it was changed and its hash made again",
                                row.seq
                            ),
                        ),
                        Err(error) => report.problem(row.seq, format!("row {}: {error}", row.seq)),
                    },
                }
            }
            expected_seq = row.seq + 1;
            expected_prev = row.hash;
        }
    }
    let head = audit_chain_head::Entity::find_by_id(1).one(db).await?;
    match head {
        None => report.problem(expected_seq, "the chain head is missing".into()),
        Some(head) => {
            if head.seq != expected_seq - 1 || head.hash != expected_prev {
                report.problem(
                    expected_seq,
                    format!(
                        "the newest rows are missing: the chain ends at row {} but {} were written",
                        expected_seq - 1,
                        head.seq
                    ),
                );
            }
        }
    }
    Ok(report)
}

/// Seals the entries written before the log had seals (migration 25), once: only while no
/// entry has a seal yet, and only when the chain is intact (sealing a broken chain would vouch
/// for it). Returns how many it sealed.
pub async fn seal_history(db: &DatabaseConnection, seal: &AuditSeal) -> Result<u64, DbErr> {
    if audit_seal::Entity::find().one(db).await?.is_some()
        || audit_event::Entity::find().one(db).await?.is_none()
    {
        return Ok(0);
    }
    let chain = verify(db, None).await?;
    if !chain.is_intact() {
        return Err(DbErr::Custom(format!(
            "the audit log was altered before it could be sealed: {}",
            chain.problems.join("; ")
        )));
    }
    let txn = db.begin().await?;
    let mut sealed = 0;
    let mut after = 0i64;
    loop {
        let page = audit_event::Entity::find()
            .filter(audit_event::Column::Seq.gt(after))
            .order_by_asc(audit_event::Column::Seq)
            .limit(1000)
            .all(&txn)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for row in &page {
            seal_entry(&txn, seal, row.seq, &row.hash).await?;
            sealed += 1;
        }
    }
    txn.commit().await?;
    Ok(sealed)
}

/// The newest entry's number and hash, with a seal over both: a line to keep outside the
/// database (`bedside audit anchor`), so that deleting the newest entries and moving the
/// chain's head back shows (`bedside audit verify --anchor`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    pub at: DateTime<Utc>,
    pub seal: String,
}

fn anchor_message(seq: i64, hash: &str, at: DateTime<Utc>) -> Vec<u8> {
    format!(
        "bedside/audit-anchor/v1\0{seq}\0{hash}\0{}",
        at.timestamp_micros()
    )
    .into_bytes()
}

/// The chain's head now, sealed.
pub async fn anchor(
    db: &impl ConnectionTrait,
    seal: &AuditSeal,
    now: DateTime<Utc>,
) -> Result<Anchor, DbErr> {
    let head = audit_chain_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom("the audit chain head is missing".into()))?;
    let at = to_micros(now);
    Ok(Anchor {
        seal: seal.sign(&anchor_message(head.seq, &head.hash, at)),
        seq: head.seq,
        hash: head.hash,
        at,
    })
}

/// What checking the log against an anchor found: `None` when the log still holds the
/// anchored entry unchanged; otherwise why not.
pub async fn check_anchor(
    db: &impl ConnectionTrait,
    seal: &AuditSeal,
    anchor: &Anchor,
) -> Result<Option<String>, DbErr> {
    match seal.verify(
        &anchor_message(anchor.seq, &anchor.hash, anchor.at),
        &anchor.seal,
    ) {
        Ok(true) => {}
        Ok(false) => {
            return Ok(Some(
                "the anchor's own seal does not match: it was altered".into(),
            ))
        }
        Err(error) => return Ok(Some(format!("the anchor cannot be checked: {error}"))),
    }
    if anchor.seq == 0 {
        return Ok(None);
    }
    let row = audit_event::Entity::find_by_id(anchor.seq).one(db).await?;
    Ok(match row {
        None => Some(format!(
            "row {} was in the log when the anchor was taken ({}) and is gone: the newest rows were removed",
            anchor.seq, anchor.at
        )),
        Some(row) if row.hash != anchor.hash => Some(format!(
            "row {} is not the row anchored at {}: the log was rewritten from there",
            anchor.seq, anchor.at
        )),
        Some(_) => None,
    })
}

fn day_start(text: &str) -> Option<DateTime<Utc>> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// A page of entries, newest first, narrowed by `filter`. Actor and patient are matched by
/// the ids the caller resolved (an email typed by the admin is looked up by the caller).
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    actor_user_id: Option<Option<i32>>,
    patient_id: Option<String>,
    page_size: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let mut query = audit_event::Entity::find().order_by_desc(audit_event::Column::Seq);
    match actor_user_id {
        Some(Some(id)) => query = query.filter(audit_event::Column::ActorUserId.eq(id)),
        // An actor was asked for but no such account exists: nothing matches.
        Some(None) => query = query.filter(audit_event::Column::Seq.lt(0)),
        None => {}
    }
    if let Some(patient) = patient_id {
        query = query.filter(audit_event::Column::PatientId.eq(patient));
    }
    if !filter.action.trim().is_empty() {
        query = query.filter(audit_event::Column::Action.starts_with(filter.action.trim()));
    }
    if let Some(outcome) = Outcome::parse(filter.outcome.trim()) {
        query = query.filter(audit_event::Column::Outcome.eq(outcome.as_str()));
    }
    if let Some(from) = day_start(&filter.from) {
        query = query.filter(audit_event::Column::At.gte(from));
    }
    if let Some(to) = day_start(&filter.to) {
        query = query.filter(audit_event::Column::At.lt(to + chrono::Duration::days(1)));
    }
    if let Some(before) = filter.before {
        query = query.filter(audit_event::Column::Seq.lt(before));
    }
    query.limit(page_size).all(db).await
}

impl AuditEntry {
    /// The wire form of a row; `actor` is the actor's display (their email), resolved by the caller.
    pub fn from_row(row: audit_event::Model, actor: Option<String>) -> Self {
        AuditEntry {
            seq: row.seq,
            at: row.at,
            actor,
            actor_role: row.actor_role,
            session_ref: row.session_ref,
            action: row.action,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            patient_id: row.patient_id,
            ip: row.ip,
            user_agent: row.user_agent,
            outcome: row.outcome,
            detail: row.detail,
        }
    }
}

/// Shorthand for the common case of an event by a signed-in person.
pub fn event(
    actor: Option<AuditActor>,
    action: &str,
    resource_type: &str,
    resource_id: Option<String>,
    patient_id: Option<String>,
    outcome: Outcome,
) -> AuditEvent {
    AuditEvent {
        actor,
        action: action.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_id,
        patient_id,
        outcome,
        detail: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> audit_event::Model {
        audit_event::Model {
            seq: 1,
            at: crate::clock::test_start(),
            actor_user_id: Some(2),
            actor_role: Some("physician".into()),
            session_ref: Some("abcd".into()),
            action: "patient_profile.read".into(),
            resource_type: "patient_profile".into(),
            resource_id: Some("p1".into()),
            patient_id: Some("p1".into()),
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            outcome: "allowed".into(),
            detail: None,
            prev_hash: GENESIS.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = chain_hash(&row());
        type Edit = Box<dyn Fn(&mut audit_event::Model)>;
        let edits: Vec<Edit> = vec![
            Box::new(|r| r.seq = 2),
            Box::new(|r| r.at += chrono::Duration::microseconds(1)),
            Box::new(|r| r.actor_user_id = Some(3)),
            Box::new(|r| r.actor_role = Some("admin".into())),
            Box::new(|r| r.session_ref = None),
            Box::new(|r| r.action = "patient_profile.write".into()),
            Box::new(|r| r.resource_type = "patient_chart".into()),
            Box::new(|r| r.resource_id = Some("p2".into())),
            Box::new(|r| r.patient_id = None),
            Box::new(|r| r.ip = Some("10.0.0.1".into())),
            Box::new(|r| r.user_agent = Some("x".into())),
            Box::new(|r| r.outcome = "denied".into()),
            Box::new(|r| r.detail = Some("".into())),
            Box::new(|r| r.prev_hash = "1".repeat(64)),
        ];
        for edit in edits {
            let mut edited = row();
            edit(&mut edited);
            assert_ne!(chain_hash(&edited), base);
        }
    }
}
