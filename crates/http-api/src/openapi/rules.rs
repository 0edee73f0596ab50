//! What whole classes of operations share, added to a generated document from the code that
//! enforces it: who may call the admin listener, its `/iam` aliases, the public rate limits,
//! the body limit and the internal error.

use std::collections::BTreeMap;

use actix_web::http::Method;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Components, OpenApi, Ref, RefOr};
use utoipa::{Modify, ToResponse};

use crate::openapi::responses::{
    self, HTML, InternalError, MethodNotAllowed, Misdirected, PayloadTooLarge, TooManyRequests,
    Unauthorized,
};
use crate::{admin_auth, rate_limit, routes};

/// The name of the admin key's security scheme.
const ADMIN_KEY: &str = "adminApiKey";

/// The admin listener: every operation may be refused for its `Host` (421), and every one but
/// the open ones needs the key (401); each `/admin` path is also served under `/iam`.
pub(crate) struct AdminRules;

impl Modify for AdminRules {
    fn modify(&self, openapi: &mut OpenApi) {
        add_iam_aliases(openapi);
        let components = openapi.components.get_or_insert_default();
        components.add_security_scheme(
            ADMIN_KEY,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "One of the keys configured in serve.admin.api_keys, as \
                         `Authorization: Bearer <key>` (the bare key is accepted too, as \
                         Kratos's SDKs send it). Without configured keys the admin listener \
                         only starts on a loopback address, or behind a gateway that \
                         authenticates (serve.admin.allow_unauthenticated).",
                    ))
                    .build(),
            ),
        );
        for (path, _, operation) in operations(&mut openapi.paths.paths) {
            add::<Misdirected>(components, operation, "421");
            if !admin_auth::is_open(path) {
                operation.security = Some(vec![SecurityRequirement::new(
                    ADMIN_KEY,
                    Vec::<String>::new(),
                )]);
                add::<Unauthorized>(components, operation, "401");
            }
        }
        add_shared(openapi);
    }
}

/// The public listener: the rate-limited operations may answer 429, and an operation that
/// takes a browser form answers the form with pages.
pub(crate) struct PublicRules;

impl Modify for PublicRules {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_default();
        for (path, method, operation) in operations(&mut openapi.paths.paths) {
            if rate_limit::is_limited(&method, path) {
                add::<TooManyRequests>(components, operation, "429");
            }
            if takes_forms(operation) {
                answer_with_pages(operation, components);
            }
        }
        add_shared(openapi);
    }
}

/// Whether `operation` takes a browser form (`application/x-www-form-urlencoded`).
fn takes_forms(operation: &Operation) -> bool {
    matches!(
        &operation.request_body,
        Some(RefOr::T(body)) if body.content.contains_key("application/x-www-form-urlencoded")
    )
}

/// A form is answered with a page wherever JSON would get a body (see `Reply` in
/// `routes::self_service`): each such response may also be HTML. A shared response is copied
/// into the operation for that, as only the form-taking operations answer pages.
fn answer_with_pages(operation: &mut Operation, components: &Components) {
    for response in operation.responses.responses.values_mut() {
        if let RefOr::Ref(shared) = response {
            let name = shared
                .ref_location
                .trim_start_matches("#/components/responses/");
            if let Some(RefOr::T(shared)) = components.responses.get(name) {
                *response = RefOr::T(shared.clone());
            }
        }
        if let RefOr::T(response) = response
            && !response.content.is_empty()
        {
            response
                .content
                .entry(HTML.to_owned())
                .or_insert_with(|| responses::page().into());
        }
    }
}

/// What every operation shares: a body may be too large (413), another method is refused
/// (405), and anything may fail (500).
fn add_shared(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_default();
    for (_, _, operation) in operations(&mut openapi.paths.paths) {
        if operation.request_body.is_some() {
            add::<PayloadTooLarge>(components, operation, "413");
        }
        add::<MethodNotAllowed>(components, operation, "405");
        add::<InternalError>(components, operation, "500");
    }
}

/// Adds the shared response `R` to `operation` as `status`, and `R` to the components.
fn add<'r, R: ToResponse<'r>>(
    components: &mut Components,
    operation: &mut Operation,
    status: &str,
) {
    let (name, response) = R::response();
    components
        .responses
        .entry(name.to_owned())
        .or_insert(response);
    operation
        .responses
        .responses
        .insert(status.to_owned(), Ref::from_response_name(name).into());
}

/// Every operation of `paths`, with its path and method.
fn operations(
    paths: &mut BTreeMap<String, PathItem>,
) -> impl Iterator<Item = (&str, Method, &mut Operation)> {
    paths.iter_mut().flat_map(|(path, item)| {
        [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
            (Method::HEAD, &mut item.head),
            (Method::OPTIONS, &mut item.options),
        ]
        .into_iter()
        .filter_map(move |(method, operation)| {
            operation
                .as_mut()
                .map(|operation| (path.as_str(), method, operation))
        })
    })
}

/// The `/iam` alias of each `/admin` path, its operations named after Kratos's
/// (`createIdentity` becomes `iamCreateIdentity`), since operation ids are unique.
fn add_iam_aliases(openapi: &mut OpenApi) {
    let mut aliases: BTreeMap<String, PathItem> = openapi
        .paths
        .paths
        .iter()
        .filter_map(|(path, item)| Some((routes::iam_alias(path)?, item.clone())))
        .collect();
    for (_, _, operation) in operations(&mut aliases) {
        operation.operation_id = operation.operation_id.as_deref().map(iam_operation_id);
        // An alias leads on to aliases: every link of an admin operation is to another.
        for response in operation.responses.responses.values_mut() {
            let RefOr::T(response) = response else {
                continue;
            };
            for link in response.links.values_mut() {
                if let RefOr::T(link) = link {
                    link.operation_id = iam_operation_id(&link.operation_id);
                }
            }
        }
    }
    openapi.paths.paths.extend(aliases);
}

fn iam_operation_id(kratos: &str) -> String {
    let mut chars = kratos.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase());
    format!(
        "iam{}{}",
        first.map(String::from).unwrap_or_default(),
        chars.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_operation_ids_are_kratos_ids_under_iam() {
        assert_eq!(iam_operation_id("createIdentity"), "iamCreateIdentity");
        assert_eq!(
            iam_operation_id("createRecoveryCodeForIdentity"),
            "iamCreateRecoveryCodeForIdentity"
        );
    }
}
