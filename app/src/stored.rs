//! Enums kept in text columns. Each such enum names its stored words (`as_str`) and reads them
//! back (`parse`); [`stored_as_text!`](crate::stored_as_text) turns those into `Display` and
//! `FromStr`, and on the server sea-orm's `DeriveValueType` makes the enum the column's type.
//! A word the code does not know is then an error when the row is read (logged with the
//! column's type, answered as an internal error), never quietly some default.

/// A stored word no variant of the enum has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?} in the database")]
pub struct UnknownStoredValue {
    pub kind: &'static str,
    pub value: String,
}

/// `Display` and `FromStr` for an enum with `as_str(self) -> &'static str` and
/// `parse(&str) -> Option<Self>`.
#[macro_export]
macro_rules! stored_as_text {
    ($enum:ty, $kind:literal) => {
        impl std::fmt::Display for $enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $enum {
            type Err = $crate::stored::UnknownStoredValue;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text).ok_or_else(|| $crate::stored::UnknownStoredValue {
                    kind: $kind,
                    value: text.to_owned(),
                })
            }
        }
    };
}
