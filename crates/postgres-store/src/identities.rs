//! [`IdentityRepository`] over the `identities` table.

use application::ports::{IdentityQuery, IdentityRepository, InsertIdentityError, StoreError};
use diesel::prelude::*;
use domain::identity::{Identity, IdentityState, NewIdentity};
use domain::time::Timestamp;
use uuid::Uuid;

use crate::PgStore;
use crate::errors::{is_unique_violation, store_error};
use crate::schema::identities;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = identities, check_for_backend(diesel::pg::Pg))]
struct IdentityRow {
    id: Uuid,
    schema_id: String,
    state: String,
    traits: serde_json::Value,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<&Identity> for IdentityRow {
    fn from(identity: &Identity) -> Self {
        Self {
            id: identity.id,
            schema_id: identity.schema_id.clone(),
            state: identity.state.as_str().to_owned(),
            traits: identity.traits.clone(),
            created_at: identity.created_at,
            updated_at: identity.updated_at,
        }
    }
}

impl TryFrom<IdentityRow> for Identity {
    type Error = StoreError;

    fn try_from(row: IdentityRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.id,
            schema_id: row.schema_id,
            state: IdentityState::parse(&row.state)
                .map_err(|e| StoreError::Unexpected(Box::new(e)))?,
            traits: row.traits,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl IdentityRepository for PgStore {
    async fn insert_identity(&self, new: NewIdentity) -> Result<Identity, InsertIdentityError> {
        self.run(move |conn| {
            diesel::insert_into(identities::table)
                .values((
                    IdentityRow::from(&new.identity),
                    identities::identifier.eq(&new.identifier),
                    identities::password_hash.eq(new.password.as_ref().map(|p| p.as_str())),
                ))
                .execute(conn)
                .map_err(|error| {
                    if is_unique_violation(&error, "identities_identifier_key") {
                        InsertIdentityError::DuplicateIdentifier
                    } else {
                        store_error(error).into()
                    }
                })?;
            Ok(new.identity)
        })
        .await
    }

    async fn find_identity(&self, id: Uuid) -> Result<Option<Identity>, StoreError> {
        self.run(move |conn| {
            identities::table
                .find(id)
                .select(IdentityRow::as_select())
                .first(conn)
                .optional()
                .map_err(store_error)?
                .map(Identity::try_from)
                .transpose()
        })
        .await
    }

    async fn list_identities(&self, query: IdentityQuery) -> Result<Vec<Identity>, StoreError> {
        self.run(move |conn| {
            let mut select = identities::table
                .select(IdentityRow::as_select())
                .order(identities::id)
                .limit(i64::try_from(query.limit).unwrap_or(i64::MAX))
                .into_boxed();
            if let Some(after) = query.after {
                select = select.filter(identities::id.gt(after));
            }
            if let Some(identifier) = query.identifier {
                select = select.filter(identities::identifier.eq(identifier));
            }
            select
                .load(conn)
                .map_err(store_error)?
                .into_iter()
                .map(Identity::try_from)
                .collect()
        })
        .await
    }

    async fn delete_identity(&self, id: Uuid) -> Result<bool, StoreError> {
        self.run(move |conn| {
            // Flows and codes go with it: their foreign keys cascade.
            let deleted = diesel::delete(identities::table.find(id))
                .execute(conn)
                .map_err(store_error)?;
            Ok(deleted > 0)
        })
        .await
    }
}
