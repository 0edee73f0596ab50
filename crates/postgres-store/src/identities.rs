//! [`IdentityRepository`] with the shared queries.

use application::ports::{IdentityQuery, IdentityRepository, InsertIdentityError, StoreError};
use domain::identity::{Identity, NewIdentity};
use sql_store::{is_unique_violation, queries, store_error};
use uuid::Uuid;

use crate::PgStore;

impl IdentityRepository for PgStore {
    async fn insert_identity(&self, new: NewIdentity) -> Result<Identity, InsertIdentityError> {
        self.run(move |conn| {
            let identity = new.identity.clone();
            queries::insert_identity(conn, new.into()).map_err(|error| {
                if is_unique_violation(&error, "identities", "identifier") {
                    InsertIdentityError::DuplicateIdentifier
                } else {
                    store_error(error).into()
                }
            })?;
            Ok(identity)
        })
        .await
    }

    async fn find_identity(&self, id: Uuid) -> Result<Option<Identity>, StoreError> {
        self.run(move |conn| {
            queries::find_identity(conn, id)
                .map_err(store_error)?
                .map(Identity::try_from)
                .transpose()
        })
        .await
    }

    async fn list_identities(&self, query: IdentityQuery) -> Result<Vec<Identity>, StoreError> {
        self.run(move |conn| {
            queries::list_identities(conn, query.after, query.limit, query.identifier)
                .map_err(store_error)?
                .into_iter()
                .map(Identity::try_from)
                .collect()
        })
        .await
    }

    async fn delete_identity(&self, id: Uuid) -> Result<bool, StoreError> {
        // Flows and codes go with it: their foreign keys cascade.
        self.run(move |conn| Ok(queries::delete_identity(conn, id).map_err(store_error)? > 0))
            .await
    }
}
