//! The chart's rules and database work (server only). Every read and every change goes through
//! the guard and is audited exactly once (P9); every change is a new version, kept with who made
//! it and when, and a change made from an older version than the one stored is refused rather
//! than written over it.

use super::entity::{chart_entry, chart_entry_version, version_binding};
use super::model::{Chart, ChartChange, ChartEntry, ChartItem, ChartSection, ChartVersion};
use super::refusal::ChartRefusal;
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::{Action, Resource};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::patients::service::{open_patient, OpenPatient};
use crate::{AppError, Refusal};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;

/// The resource a change to `section` of patient `patient_id`'s chart is: the parts a patient
/// keeps themselves, or the clinical chart.
fn resource_for(section: ChartSection, patient_id: i32) -> Resource {
    if section.kept_by_patient() {
        Resource::PatientHistory { patient_id }
    } else {
        Resource::PatientChart { patient_id }
    }
}

fn entry_context(public_id: &str) -> FieldContext<'_> {
    FieldContext {
        table: "chart_entry",
        column: "content",
        row: public_id,
    }
}

/// What an entry says now.
fn open_entry(keyring: &Keyring, entry: &chart_entry::Model) -> Result<ChartItem, AppError> {
    entry
        .content
        .open(keyring, &entry_context(&entry.public_id))
        .map_err(|e| AppError::internal(format_args!("opening chart entry {}: {e}", entry.id)))
}

fn seal_entry(
    keyring: &Keyring,
    public_id: &str,
    item: &ChartItem,
) -> Result<Encrypted<ChartItem>, AppError> {
    Encrypted::seal(keyring, &entry_context(public_id), item)
        .map_err(|e| AppError::internal(format_args!("sealing a chart entry: {e}")))
}

fn seal_version(
    keyring: &Keyring,
    entry_public_id: &str,
    version: i32,
    item: &ChartItem,
) -> Result<Encrypted<ChartItem>, AppError> {
    let row = version_binding(entry_public_id, version);
    let context = FieldContext {
        table: "chart_entry_version",
        column: "content",
        row: &row,
    };
    Encrypted::seal(keyring, &context, item)
        .map_err(|e| AppError::internal(format_args!("sealing a chart version: {e}")))
}

/// The names of the accounts `ids`, for "changed by".
pub(crate) async fn names_of(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, String>, AppError> {
    let ids: Vec<i32> = ids.into_iter().collect();
    let mut names = HashMap::new();
    for user in user_account::Entity::find()
        .filter(user_account::Column::Id.is_in(ids))
        .all(conn)
        .await?
    {
        names.insert(user.id, crate::auth::service::display_name(keyring, &user)?);
    }
    Ok(names)
}

/// Patient `patient_id`'s allergies in a line each ("Penicillin (hives, severe)"), inside an
/// access already permitted and audited (the visit note's page shows them above the note).
pub(crate) async fn allergies(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    patient_id: i32,
) -> Result<Vec<String>, AppError> {
    let rows = chart_entry::Entity::find()
        .filter(chart_entry::Column::PatientId.eq(patient_id))
        .filter(chart_entry::Column::Section.eq(ChartSection::Allergy))
        .filter(chart_entry::Column::RemovedAt.is_null())
        .order_by_asc(chart_entry::Column::Id)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for entry in &rows {
        let item = open_entry(keyring, entry)?;
        let details = item.details();
        out.push(if details.is_empty() {
            item.headline()
        } else {
            format!("{} ({details})", item.headline())
        });
    }
    Ok(out)
}

/// Patient `patient_id`'s chart entries as they stand (removed ones left out), inside an access
/// already permitted (the chart, the exported record).
pub(crate) async fn current_entries(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    patient_id: i32,
) -> Result<Vec<ChartEntry>, AppError> {
    let rows = chart_entry::Entity::find()
        .filter(chart_entry::Column::PatientId.eq(patient_id))
        .filter(chart_entry::Column::RemovedAt.is_null())
        .order_by_asc(chart_entry::Column::Id)
        .all(conn)
        .await?;
    let names = names_of(conn, keyring, rows.iter().map(|r| r.updated_by)).await?;
    let mut entries = Vec::with_capacity(rows.len());
    for entry in rows {
        let item = open_entry(keyring, &entry)?;
        entries.push(ChartEntry {
            version: entry.version,
            item,
            updated_by: names.get(&entry.updated_by).cloned().unwrap_or_default(),
            updated_at: entry.updated_at,
            public_id: entry.public_id,
        });
    }
    Ok(entries)
}

/// Patient `patient`'s chart as it stands (removed entries left out), with the sections the
/// reader may change. One audited read.
pub async fn chart(me: &SignedIn, patient: &str) -> Result<Chart, AppError> {
    let OpenPatient { row, permit } = open_patient(
        me,
        patient,
        Action::Read,
        |patient_id| Resource::PatientChart { patient_id },
        "chart.read",
    )
    .await?;
    let keyring = me.keyring();
    let entries = current_entries(permit.txn(), keyring, row.id).await?;
    let patient_name = crate::patients::service::legal_name(keyring, &row)?;
    permit.commit().await?;
    // A staff member the physician let in keeps the history too.
    let grant = match me.auth.role {
        crate::auth::Role::Staff => {
            crate::grants::lookup::active(me.db(), me.auth.user_id, row.id, me.now())
                .await?
                .map(|(grant, _)| grant)
        }
        _ => None,
    };
    let can_edit = ChartSection::ALL
        .iter()
        .copied()
        .filter(|s| {
            crate::auth::can_with(
                &me.caller.actor,
                Action::Write,
                &resource_for(*s, row.id),
                grant,
            )
        })
        .collect();
    Ok(Chart {
        patient: row.public_id,
        patient_name,
        entries,
        can_edit,
    })
}

/// Which entry a change is to, and the version it was made from.
pub struct EntryAt<'a> {
    pub public_id: &'a str,
    pub version: i32,
}

/// Adds `item` to patient `patient`'s chart (`at` is `None`), or makes it the next version of
/// the entry `at` names. Audited once; refused (and written nowhere) when the entry changed or
/// was removed since `at.version`.
pub async fn save(
    me: &SignedIn,
    patient: &str,
    at: Option<EntryAt<'_>>,
    item: &ChartItem,
) -> Result<String, AppError> {
    let section = item.section();
    let verb = if at.is_some() {
        "chart.entry.change"
    } else {
        "chart.entry.add"
    };
    let OpenPatient { row, permit } = open_patient(
        me,
        patient,
        Action::Write,
        |patient_id| resource_for(section, patient_id),
        verb,
    )
    .await?;
    let (keyring, now, by) = (me.keyring(), me.now(), me.auth.user_id);
    let Some(at) = at else {
        let public_id = file(permit.txn(), keyring, row.id, by, item, now).await?;
        permit.commit().await?;
        return Ok(public_id);
    };
    let entry = current(permit.txn(), row.id, section, &at).await?;
    let content = seal_entry(keyring, &entry.public_id, item)?;
    let change = Change::Changed(content);
    let entry = advance(permit.txn(), keyring, entry, change, item, by, now).await?;
    permit.commit().await?;
    Ok(entry.public_id)
}

/// Removes the entry `at` names from the chart (its history stays). Audited once; refused when
/// it changed since `at.version`.
pub async fn remove(me: &SignedIn, patient: &str, at: EntryAt<'_>) -> Result<(), AppError> {
    // The section decides who may remove it: read it first (a patient's own entry, or not).
    let section = section_of(me, at.public_id).await?;
    let OpenPatient { row, permit } = open_patient(
        me,
        patient,
        Action::Write,
        |patient_id| resource_for(section, patient_id),
        "chart.entry.remove",
    )
    .await?;
    let (keyring, now) = (me.keyring(), me.now());
    let entry = current(permit.txn(), row.id, section, &at).await?;
    let item = open_entry(keyring, &entry)?;
    advance(
        permit.txn(),
        keyring,
        entry,
        Change::Removed,
        &item,
        me.auth.user_id,
        now,
    )
    .await?;
    permit.commit().await
}

/// What the next version of an entry does.
enum Change {
    /// It says something new (sealed for the entry).
    Changed(Encrypted<ChartItem>),
    /// It leaves the chart.
    Removed,
}

/// Makes `entry` (as read, at the version the change was made from) the next version, by `by`,
/// and keeps that version in the history. Written only if the stored version is still the one
/// the change was made from: two changes from the same version cannot both land (the second
/// changes no row and is refused).
async fn advance(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    entry: chart_entry::Model,
    change: Change,
    item: &ChartItem,
    by: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chart_entry::Model, AppError> {
    let next = entry.version + 1;
    let mut update = chart_entry::Entity::update_many()
        .col_expr(chart_entry::Column::Version, next.into())
        .col_expr(chart_entry::Column::UpdatedBy, by.into())
        .col_expr(chart_entry::Column::UpdatedAt, now.into());
    let kind = match change {
        Change::Changed(content) => {
            update = update.col_expr(
                chart_entry::Column::Content,
                sea_orm::Value::from(content).into(),
            );
            ChartChange::Changed
        }
        Change::Removed => {
            update = update.col_expr(chart_entry::Column::RemovedAt, Some(now).into());
            ChartChange::Removed
        }
    };
    let written = update
        .filter(chart_entry::Column::Id.eq(entry.id))
        .filter(chart_entry::Column::Version.eq(entry.version))
        .filter(chart_entry::Column::RemovedAt.is_null())
        .exec(conn)
        .await?;
    if written.rows_affected != 1 {
        return Err(changed(ChartRefusal::ChangedMeanwhile));
    }
    let entry = chart_entry::Model {
        version: next,
        updated_by: by,
        ..entry
    };
    record_version(conn, keyring, &entry, kind, item, now).await?;
    Ok(entry)
}

/// Every version of the entry `entry` of patient `patient`'s chart, newest first. One audited
/// read of the chart.
pub async fn history(
    me: &SignedIn,
    patient: &str,
    entry: &str,
) -> Result<Vec<ChartVersion>, AppError> {
    let OpenPatient { row, permit } = open_patient(
        me,
        patient,
        Action::Read,
        |patient_id| Resource::PatientChart { patient_id },
        "chart.entry.history",
    )
    .await?;
    let keyring = me.keyring();
    let Some(found) = chart_entry::Entity::find()
        .filter(chart_entry::Column::PublicId.eq(entry))
        .filter(chart_entry::Column::PatientId.eq(row.id))
        .one(permit.txn())
        .await?
    else {
        return Err(AppError::NotFound("That chart entry".into()));
    };
    let versions = chart_entry_version::Entity::find()
        .filter(chart_entry_version::Column::EntryId.eq(found.id))
        .order_by_desc(chart_entry_version::Column::Version)
        .all(permit.txn())
        .await?;
    let names = names_of(permit.txn(), keyring, versions.iter().map(|v| v.changed_by)).await?;
    let mut history = Vec::with_capacity(versions.len());
    for v in versions {
        let bound = version_binding(&found.public_id, v.version);
        let context = FieldContext {
            table: "chart_entry_version",
            column: "content",
            row: &bound,
        };
        let item = v
            .content
            .open(keyring, &context)
            .map_err(|e| AppError::internal(format_args!("opening chart version {}: {e}", v.id)))?;
        history.push(ChartVersion {
            version: v.version,
            change: v.change,
            item,
            by: names.get(&v.changed_by).cloned().unwrap_or_default(),
            at: v.changed_at,
        });
    }
    permit.commit().await?;
    Ok(history)
}

fn changed(refusal: ChartRefusal) -> AppError {
    AppError::Refused(Refusal::Chart(refusal))
}

/// The entry `at` names in patient `patient_id`'s chart and `section`, unless it was removed or
/// changed since `at.version`.
async fn current(
    conn: &impl ConnectionTrait,
    patient_id: i32,
    section: ChartSection,
    at: &EntryAt<'_>,
) -> Result<chart_entry::Model, AppError> {
    let entry = chart_entry::Entity::find()
        .filter(chart_entry::Column::PublicId.eq(at.public_id))
        .filter(chart_entry::Column::PatientId.eq(patient_id))
        .filter(chart_entry::Column::Section.eq(section))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("That chart entry".into()))?;
    if entry.removed_at.is_some() {
        return Err(changed(ChartRefusal::Removed));
    }
    if entry.version != at.version {
        return Err(changed(ChartRefusal::ChangedMeanwhile));
    }
    Ok(entry)
}

/// The section of entry `public_id` (not a read of what it says: only which kind it is).
async fn section_of(me: &SignedIn, public_id: &str) -> Result<ChartSection, AppError> {
    chart_entry::Entity::find()
        .filter(chart_entry::Column::PublicId.eq(public_id))
        .one(me.db())
        .await?
        .map(|entry| entry.section)
        .ok_or_else(|| AppError::NotFound("That chart entry".into()))
}

async fn record_version(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    entry: &chart_entry::Model,
    change: ChartChange,
    item: &ChartItem,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    chart_entry_version::ActiveModel {
        entry_id: Set(entry.id),
        version: Set(entry.version),
        change: Set(change),
        content: Set(seal_version(
            keyring,
            &entry.public_id,
            entry.version,
            item,
        )?),
        changed_by: Set(entry.updated_by),
        changed_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Files `item` in patient `patient_id`'s chart as recorded by account `by`, outside a person's
/// request: the demo practice's charts (and, later, records brought in from elsewhere). Not
/// audited as an access, because nobody read or typed anything; the entry's first version still
/// names who recorded it.
pub async fn file(
    conn: &impl ConnectionTrait,
    keyring: &Keyring,
    patient_id: i32,
    by: i32,
    item: &ChartItem,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, AppError> {
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let entry = chart_entry::ActiveModel {
        public_id: Set(public_id.clone()),
        patient_id: Set(patient_id),
        section: Set(item.section()),
        version: Set(1),
        content: Set(seal_entry(keyring, &public_id, item)?),
        updated_by: Set(by),
        created_at: Set(now),
        updated_at: Set(now),
        removed_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    record_version(conn, keyring, &entry, ChartChange::Added, item, now).await?;
    Ok(public_id)
}
