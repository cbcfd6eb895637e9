//! Writing a message's row (server only): the conversation's next number, and the body sealed
//! to the conversation and itself. What `service` (a person's message) and `auto_reply` (the
//! practice's) share.

use super::entity::{conversation, message};
use crate::crypto::{Encrypted, FieldContext, Keyring};
use crate::AppError;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

pub(super) fn subject_context(conversation: &str) -> FieldContext<'_> {
    FieldContext {
        table: "conversation",
        column: "subject",
        row: conversation,
    }
}

pub(super) fn body_context(bound: &str) -> FieldContext<'_> {
    FieldContext {
        table: "message",
        column: "body",
        row: bound,
    }
}

fn sealing(e: crate::crypto::CryptoError) -> AppError {
    AppError::internal(format_args!("sealing a message: {e}"))
}

/// The conversation's next number, its row held until `txn` ends.
pub(super) async fn next_seq(
    txn: &DatabaseTransaction,
    conversation_id: i32,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq).add(1),
        )
        .col_expr(conversation::Column::LastMessageAt, Expr::val(now))
        .col_expr(
            conversation::Column::DoneAt,
            Expr::val(Option::<DateTime<Utc>>::None),
        )
        .filter(conversation::Column::Id.eq(conversation_id))
        .exec(txn)
        .await?;
    let row = conversation::Entity::find_by_id(conversation_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("a conversation vanished while written to"))?;
    Ok(row.last_seq)
}

/// One message row, its body sealed to the conversation and itself. Returns its row id.
#[allow(clippy::too_many_arguments)]
pub(super) async fn write_message(
    txn: &DatabaseTransaction,
    keyring: &Keyring,
    conversation: &conversation::Model,
    sender: i32,
    seq: i64,
    body: &str,
    automatic: bool,
    now: DateTime<Utc>,
) -> Result<i32, AppError> {
    let public_id = uuid::Uuid::new_v4().simple().to_string();
    let bound = message::bound_to(&conversation.public_id, &public_id);
    let sealed =
        Encrypted::seal(keyring, &body_context(&bound), &body.to_owned()).map_err(sealing)?;
    let inserted = message::Entity::insert(message::ActiveModel {
        public_id: Set(public_id),
        conversation_id: Set(conversation.id),
        seq: Set(seq),
        sender_id: Set(sender),
        body: Set(sealed),
        automatic: Set(automatic),
        created_at: Set(now),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(inserted.last_insert_id)
}

#[cfg(test)]
mod tests {
    use super::body_context;
    use crate::crypto::{Encrypted, Keyring, MasterKey};
    use crate::messages::entity::message::bound_to;
    use proptest::prelude::*;

    fn ring() -> Keyring {
        Keyring::new(vec![MasterKey::new(1, [4; 32])], 1).expect("ring")
    }

    proptest! {
        /// P6 for message bodies as messaging seals them: the words come back exactly; the same
        /// words seal differently each time; a changed byte, or the body moved to another
        /// message or conversation, does not open.
        #[test]
        fn p6_a_message_body_round_trips_seals_differently_and_refuses_tampering_and_moves(
            body in ".{0,400}",
            conversation in "[0-9a-f]{32}",
            message in "[0-9a-f]{32}",
            other in "[0-9a-f]{32}",
            byte in any::<prop::sample::Index>(),
        ) {
            prop_assume!(message != other && conversation != other);
            let ring = ring();
            let here = bound_to(&conversation, &message);
            let sealed = Encrypted::seal(&ring, &body_context(&here), &body).expect("seal");
            prop_assert_eq!(sealed.open(&ring, &body_context(&here)).expect("open"), body.clone());
            let again = Encrypted::seal(&ring, &body_context(&here), &body).expect("seal");
            prop_assert_ne!(sealed.clone().into_bytes(), again.into_bytes());
            let elsewhere = bound_to(&conversation, &other);
            prop_assert!(sealed.open(&ring, &body_context(&elsewhere)).is_err());
            let moved = bound_to(&other, &message);
            prop_assert!(sealed.open(&ring, &body_context(&moved)).is_err());
            let mut bytes = sealed.into_bytes();
            let i = byte.index(bytes.len());
            bytes[i] ^= 0x01;
            let changed: Encrypted<String> = Encrypted::from_bytes(bytes);
            prop_assert!(changed.open(&ring, &body_context(&here)).is_err());
        }
    }
}
