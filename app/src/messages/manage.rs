//! The practice looks after its conversations (issue 15 §4, server only): gives one to a
//! colleague, marks it done (a new message opens it again). Each is one audited write on the
//! patient's messages; patients cannot (refused and audited like any other refusal).

use super::entity::conversation;
use super::service::{find, messages};
use crate::auth::context::SignedIn;
use crate::auth::entity::user_account;
use crate::auth::{can, guard, Action, Resource};
use crate::live::model::LiveKind;
use crate::patients::service::{open_patient_by_id, OpenPatient};
use crate::AppError;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// What to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// To the colleague with this public id; nobody when empty.
    Assign(String),
    Done(bool),
}

pub async fn manage(me: &SignedIn, public_id: &str, change: Change) -> Result<(), AppError> {
    let verb = match change {
        Change::Assign(_) => "message.assign",
        Change::Done(_) => "message.done",
    };
    // The practice's work: for anyone outside it, refused (and audited) as the inbox would be.
    if !can(&me.caller.actor, Action::Read, &Resource::Inbox) {
        guard::permit(
            me.db(),
            me.now(),
            &me.caller,
            Action::Write,
            Resource::Inbox,
            None,
            verb,
        )
        .await?;
        return Err(AppError::Forbidden);
    }
    let row = find(me, public_id, verb).await?;
    let OpenPatient {
        row: patient,
        permit,
    } = open_patient_by_id(me, row.patient_id, Action::Write, messages, verb).await?;
    let txn = permit.txn();
    let now = me.now();
    let update = conversation::Entity::update_many().filter(conversation::Column::Id.eq(row.id));
    match change {
        Change::Assign(to) if to.is_empty() => {
            update
                .col_expr(
                    conversation::Column::AssignedTo,
                    Expr::value(Option::<i32>::None),
                )
                .exec(txn)
                .await?;
        }
        Change::Assign(to) => {
            let people = super::people::practice_side(txn, patient.id, now).await?;
            let colleague = user_account::Entity::find()
                .filter(user_account::Column::PublicId.eq(to.as_str()))
                .one(txn)
                .await?
                .filter(|u| people.contains(&u.id))
                .ok_or_else(|| {
                    AppError::field("to", "Choose someone who can read this patient's messages.")
                })?;
            update
                .col_expr(
                    conversation::Column::AssignedTo,
                    Expr::value(Some(colleague.id)),
                )
                .exec(txn)
                .await?;
        }
        Change::Done(done) => {
            update
                .col_expr(
                    conversation::Column::DoneAt,
                    Expr::value(done.then_some(now)),
                )
                .exec(txn)
                .await?;
        }
    }
    // The practice's open inboxes and this thread follow.
    let people = super::people::practice_side(txn, patient.id, now).await?;
    crate::live::service::publish_to(txn, &people, LiveKind::MessagesRead, Some(public_id), now)
        .await?;
    permit.commit().await
}
