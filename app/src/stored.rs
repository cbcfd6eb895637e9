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

/// The stored words of an enum declared next to it: `ALL`, `as_str`, `parse`, and through
/// [`stored_as_text!`](crate::stored_as_text) `Display` and `FromStr`, so that
/// `#[derive(DeriveValueType)] #[sea_orm(value_type = "String")]` makes it a column's type.
/// One list of words per enum: the two directions cannot disagree.
#[macro_export]
macro_rules! stored_words {
    ($enum:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $enum {
            /// Every value, in declaration order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),+];

            /// The word stored for it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $text),+
                }
            }

            /// The value a stored word names, if any.
            pub fn parse(text: &str) -> Option<$enum> {
                match text {
                    $($text => Some($enum::$variant),)+
                    _ => None,
                }
            }
        }

        $crate::stored_as_text!($enum, $kind);
    };
}

#[cfg(test)]
mod tests {
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Weather {
        Sun,
        Rain,
    }

    crate::stored_words!(Weather, "weather", { Sun => "sun", Rain => "rain" });

    #[test]
    fn every_stored_word_reads_back_as_its_value_and_an_unknown_word_is_an_error() {
        for value in Weather::ALL {
            assert_eq!(value.as_str().parse::<Weather>(), Ok(*value));
            assert_eq!(value.to_string(), value.as_str());
        }
        let unknown = "snow".parse::<Weather>().expect_err("not a weather");
        assert_eq!(
            unknown.to_string(),
            "unknown weather \"snow\" in the database"
        );
    }
}
