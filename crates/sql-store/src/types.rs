//! Column types with one meaning and a native representation on each backend.
//!
//! On SQLite, ids are hyphenated UUID text and instants are fixed-width RFC 3339 text
//! (`2026-11-25T10:30:00.123Z`), so text order is time order and comparisons in SQL hold.

use chrono::{DateTime, Utc};
use diesel::{AsExpression, FromSqlRow};
use uuid::Uuid;

/// The SQL types of the schema.
pub mod sql {
    use diesel::query_builder::QueryId;
    use diesel::sql_types::SqlType;

    /// An identifier: `uuid` on PostgreSQL.
    #[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
    #[diesel(postgres_type(oid = 2950, array_oid = 2951))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Id;

    /// A JSON document: `jsonb` on PostgreSQL.
    #[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
    #[diesel(postgres_type(oid = 3802, array_oid = 3807))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Document;

    /// An instant in UTC: `timestamptz` on PostgreSQL.
    #[derive(Debug, Clone, Copy, Default, QueryId, SqlType)]
    #[diesel(postgres_type(oid = 1184, array_oid = 1185))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Instant;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::Id)]
pub struct DbId(pub Uuid);

/// A JSON document as written.
#[derive(Debug, Clone, PartialEq, AsExpression)]
#[diesel(sql_type = sql::Document)]
pub struct DbDocument(pub serde_json::Value);

/// A JSON document as read: its text, not yet parsed. Parsing happens in the row's conversion,
/// so a document that does not parse (a `jsonb` number no `f64` holds, text edited by hand)
/// fails its row alone, never the whole query.
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub struct DbDocumentText(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::Instant)]
pub struct DbInstant(pub DateTime<Utc>);

#[cfg(feature = "postgres")]
mod postgres {
    use chrono::{DateTime, Utc};
    use diesel::deserialize::{self, FromSql};
    use diesel::pg::{Pg, PgValue};
    use diesel::serialize::{self, Output, ToSql};
    use diesel::sql_types;
    use uuid::Uuid;

    use super::{DbDocument, DbDocumentText, DbId, DbInstant, sql};

    impl ToSql<sql::Id, Pg> for DbId {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <Uuid as ToSql<sql_types::Uuid, Pg>>::to_sql(&self.0, out)
        }
    }

    impl FromSql<sql::Id, Pg> for DbId {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            <Uuid as FromSql<sql_types::Uuid, Pg>>::from_sql(value).map(Self)
        }
    }

    impl ToSql<sql::Document, Pg> for DbDocument {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <serde_json::Value as ToSql<sql_types::Jsonb, Pg>>::to_sql(&self.0, out)
        }
    }

    /// `jsonb`'s binary form is a version byte, 1, then the document's text.
    impl FromSql<sql::Document, Pg> for DbDocumentText {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            match value.as_bytes().split_first() {
                Some((1, text)) => Ok(Self(std::str::from_utf8(text)?.to_owned())),
                _ => Err("unsupported jsonb encoding version".into()),
            }
        }
    }

    impl ToSql<sql::Instant, Pg> for DbInstant {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <DateTime<Utc> as ToSql<sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
        }
    }

    impl FromSql<sql::Instant, Pg> for DbInstant {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            <DateTime<Utc> as FromSql<sql_types::Timestamptz, Pg>>::from_sql(value).map(Self)
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use chrono::{DateTime, SecondsFormat, Utc};
    use diesel::deserialize::{self, FromSql};
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sqlite::{Sqlite, SqliteValue};
    use uuid::Uuid;

    use super::{DbDocument, DbDocumentText, DbId, DbInstant, sql};

    impl ToSql<sql::Id, Sqlite> for DbId {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.0.hyphenated().to_string());
            Ok(IsNull::No)
        }
    }

    impl FromSql<sql::Id, Sqlite> for DbId {
        fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            Ok(Self(Uuid::try_parse(value.read_text())?))
        }
    }

    impl ToSql<sql::Document, Sqlite> for DbDocument {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(serde_json::to_string(&self.0)?);
            Ok(IsNull::No)
        }
    }

    impl FromSql<sql::Document, Sqlite> for DbDocumentText {
        fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            Ok(Self(value.read_text().to_owned()))
        }
    }

    impl ToSql<sql::Instant, Sqlite> for DbInstant {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.0.to_rfc3339_opts(SecondsFormat::Millis, true));
            Ok(IsNull::No)
        }
    }

    impl FromSql<sql::Instant, Sqlite> for DbInstant {
        fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            Ok(Self(
                DateTime::parse_from_rfc3339(value.read_text())?.with_timezone(&Utc),
            ))
        }
    }
}
