//! Which columns of a table are sealed, declared next to the entity: key rotation
//! (`bedside keys rotate`) walks every table that implements [`SealedRow`] and re-encrypts
//! each declared column, so a new sealed column is rotated as soon as its entity says so.

use sea_orm::{DatabaseConnection, DbErr, EntityTrait, ModelTrait};
use std::future::Future;

/// One sealed column and the name its values are bound to ([`super::FieldContext::column`]).
pub struct SealedColumn<C> {
    pub column: C,
    pub bound_as: &'static str,
}

/// A row with sealed columns. Values are bound to the table's name, their
/// [`SealedColumn::bound_as`] and the row's [`SealedRow::bound_to`].
pub trait SealedRow: ModelTrait + Clone + Send + Sync {
    /// The sealed columns.
    fn sealed_columns() -> Vec<SealedColumn<<Self::Entity as EntityTrait>::Column>>;

    /// The row reference every sealed value of this row is bound to (usually its public id;
    /// a child row is bound to its owner's).
    fn bound_to(
        &self,
        db: &DatabaseConnection,
    ) -> impl Future<Output = Result<String, DbErr>> + Send;
}

/// The columns of a declaration: `sealed![Column::Phone => "phone", …]`.
#[macro_export]
macro_rules! sealed {
    ($($column:expr => $bound_as:literal),+ $(,)?) => {
        vec![$($crate::crypto::SealedColumn { column: $column, bound_as: $bound_as }),+]
    };
}

/// The whole declaration for a row bound to one of its own fields (`public_id`, or `id` for
/// rows without one): `sealed_row!(public_id; Column::Phone => "phone", …)`; or to its owner's
/// public id, found through a foreign key:
/// `sealed_row!(owner patient::Entity, patient_id; Column::Address => "address", …)`.
#[macro_export]
macro_rules! sealed_row {
    (owner $owner:path, $key:ident; $($column:expr => $bound_as:literal),+ $(,)?) => {
        /// What key rotation re-encrypts.
        impl $crate::crypto::SealedRow for Model {
            fn sealed_columns() -> Vec<$crate::crypto::SealedColumn<Column>> {
                $crate::sealed![$($column => $bound_as),+]
            }

            /// Bound to the owner's public id.
            async fn bound_to(
                &self,
                db: &sea_orm::DatabaseConnection,
            ) -> Result<String, sea_orm::DbErr> {
                use sea_orm::EntityTrait;
                <$owner>::find_by_id(self.$key)
                    .one(db)
                    .await?
                    .map(|owner| owner.public_id)
                    .ok_or_else(|| {
                        sea_orm::DbErr::RecordNotFound(format!(
                            "the owner of {} row {}",
                            stringify!($key),
                            self.id
                        ))
                    })
            }
        }
    };
    ($field:ident; $($column:expr => $bound_as:literal),+ $(,)?) => {
        /// What key rotation re-encrypts.
        impl $crate::crypto::SealedRow for Model {
            fn sealed_columns() -> Vec<$crate::crypto::SealedColumn<Column>> {
                $crate::sealed![$($column => $bound_as),+]
            }

            async fn bound_to(
                &self,
                _: &sea_orm::DatabaseConnection,
            ) -> Result<String, sea_orm::DbErr> {
                Ok(self.$field.to_string())
            }
        }
    };
}
