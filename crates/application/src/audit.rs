//! Reading the audit trail (`GET /admin/audit-events`). Events are written by the use cases
//! that change something, with the change itself.

use domain::audit::Event;
use domain::id::{AuditEventId, IdentityId};

use crate::ports::{AuditQuery, Store, StoreError};
use crate::{Service, paging};

/// The page size bounds of the trail (as Kratos's listings: default 250, at most 1000).
pub const DEFAULT_AUDIT_PAGE_SIZE: usize = 250;
pub const MAX_AUDIT_PAGE_SIZE: usize = 1000;

#[derive(Debug, Clone, Default)]
pub struct AuditPageRequest {
    /// Only the events naming this identity.
    pub identity_id: Option<IdentityId>,
    pub page_size: Option<usize>,
    /// The token of the previous page's `next`, as returned by this use case.
    pub page_token: Option<String>,
}

#[derive(Debug)]
pub struct AuditPage {
    /// Oldest first.
    pub events: Vec<Event>,
    pub page_size: usize,
    pub next_page_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditTrailError {
    #[error("\"page_size\" must be between 1 and {MAX_AUDIT_PAGE_SIZE}, not {0}")]
    InvalidPageSize(usize),
    #[error("\"page_token\" \"{0}\" is not a token this service returned")]
    InvalidPageToken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: Store> Service<S> {
    /// One page of the audit trail, oldest first, optionally of one identity only (also one
    /// deleted since).
    ///
    /// # Errors
    /// [`AuditTrailError`] for a page size out of range, a token this service did not return,
    /// or a store failure.
    pub async fn audit_events(
        &self,
        request: AuditPageRequest,
    ) -> Result<AuditPage, AuditTrailError> {
        let page_size = request.page_size.unwrap_or(DEFAULT_AUDIT_PAGE_SIZE);
        if !(1..=MAX_AUDIT_PAGE_SIZE).contains(&page_size) {
            return Err(AuditTrailError::InvalidPageSize(page_size));
        }
        let after = paging::cursor::<AuditEventId>(request.page_token)
            .map_err(AuditTrailError::InvalidPageToken)?;
        // One more than asked tells whether another page follows.
        let mut events = self
            .store
            .audit_events(AuditQuery {
                identity_id: request.identity_id,
                after,
                limit: page_size + 1,
            })
            .await?;
        let next_page_token = paging::next_page(&mut events, page_size, |event| event.id);
        Ok(AuditPage {
            events,
            page_size,
            next_page_token,
        })
    }
}
