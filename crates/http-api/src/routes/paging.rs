//! Kratos's paging of listings: a JSON array, and the first and next pages in `Link`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::envelope::no_store;
use crate::routes::external_url;

/// Where the next page is, and what the listing was filtered by.
pub(crate) struct Page<'a> {
    pub(crate) page_size: usize,
    pub(crate) next_page_token: Option<&'a str>,
    pub(crate) filters: &'a [(&'a str, String)],
}

/// A page of a listing: `items` as a JSON array, never cached, with its `Link` header.
pub(crate) fn respond(
    base_url: &url::Url,
    req: &HttpRequest,
    page: &Page<'_>,
    items: &impl Serialize,
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::LINK,
            links(
                base_url,
                req,
                page.page_size,
                page.next_page_token,
                page.filters,
            ),
        ))
        .insert_header(no_store())
        .json(items)
}

/// The `Link` header of a page: the first page (`rel="first"`) and, when there is one, the
/// next (`rel="next"`), as absolute URLs under `base_url`, keeping the query's `filters`.
fn links(
    base_url: &url::Url,
    req: &HttpRequest,
    page_size: usize,
    next_page_token: Option<&str>,
    filters: &[(&str, String)],
) -> String {
    let page_link = |token: Option<&str>, rel: &str| {
        let mut link =
            url::Url::parse(&external_url(base_url, req)).unwrap_or_else(|_| base_url.clone());
        link.set_query(None);
        {
            let mut query = link.query_pairs_mut();
            query.append_pair("page_size", &page_size.to_string());
            for (name, value) in filters {
                query.append_pair(name, value);
            }
            if let Some(token) = token {
                query.append_pair("page_token", token);
            }
        }
        format!("<{link}>; rel=\"{rel}\"")
    };
    let mut links = vec![page_link(None, "first")];
    if let Some(next) = next_page_token {
        links.push(page_link(Some(next), "next"));
    }
    links.join(",")
}
