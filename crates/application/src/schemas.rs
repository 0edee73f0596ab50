//! Listing the identity schemas (`GET /schemas`), in the order they are configured.

use domain::identity_schema::IdentitySchema;

use crate::Service;
use crate::ports::Store;

/// The page size bounds of the listing (as Kratos: default 250, at most 500).
pub const DEFAULT_SCHEMA_PAGE_SIZE: usize = 250;
pub const MAX_SCHEMA_PAGE_SIZE: usize = 500;

#[derive(Debug)]
pub struct SchemaPage<'a> {
    pub schemas: Vec<&'a IdentitySchema>,
    pub page_size: usize,
    /// The token of the next page: the id of this page's last schema.
    pub next_page_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ListSchemasError {
    #[error("\"page_size\" must be between 1 and {MAX_SCHEMA_PAGE_SIZE}, not {0}")]
    InvalidPageSize(usize),
    #[error("\"page_token\" \"{0}\" is not a token this service returned")]
    InvalidPageToken(String),
}

impl<S: Store> Service<S> {
    /// One page of the configured identity schemas.
    ///
    /// # Errors
    /// [`ListSchemasError`] for a page size out of range or a token naming no schema.
    pub fn list_identity_schemas(
        &self,
        page_size: Option<usize>,
        page_token: Option<String>,
    ) -> Result<SchemaPage<'_>, ListSchemasError> {
        let page_size = page_size.unwrap_or(DEFAULT_SCHEMA_PAGE_SIZE);
        if !(1..=MAX_SCHEMA_PAGE_SIZE).contains(&page_size) {
            return Err(ListSchemasError::InvalidPageSize(page_size));
        }
        let all: Vec<&IdentitySchema> = self.schemas.iter().collect();
        let start = match page_token {
            None => 0,
            Some(token) => {
                all.iter()
                    .position(|schema| schema.id() == token)
                    .ok_or(ListSchemasError::InvalidPageToken(token))?
                    + 1
            }
        };
        let total = all.len();
        let schemas: Vec<&IdentitySchema> = all.into_iter().skip(start).take(page_size).collect();
        let more = start + schemas.len() < total;
        let next_page_token = more
            .then(|| schemas.last().map(|last| last.id().to_owned()))
            .flatten();
        Ok(SchemaPage {
            schemas,
            page_size,
            next_page_token,
        })
    }
}
