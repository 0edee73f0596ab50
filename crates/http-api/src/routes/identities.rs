//! Identity management, Kratos shapes: `/admin/identities` (also under `/iam/identities`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use application::Service;
use application::identities::{CreateIdentityRequest, ListIdentitiesRequest};
use application::ports::Store;
use domain::identity::IdentityDraft;
use serde::Deserialize;
use uuid::Uuid;

use crate::envelope::no_store;
use crate::json::JsonObject;
use crate::routes::external_url;
use crate::wire::identity::{CreateIdentityBody, Identity};
use crate::wire::lockout::Lockout;
use crate::{ApiError, HttpSettings};

pub(crate) fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    for prefix in ["/admin/identities", "/iam/identities"] {
        cfg.service(
            web::resource(prefix)
                .route(web::get().to(list::<S>))
                .route(web::post().to(create::<S>)),
        )
        .service(
            web::resource(format!("{prefix}/{{id}}"))
                .route(web::get().to(get::<S>))
                .route(web::delete().to(delete::<S>)),
        )
        .service(
            web::resource(format!("{prefix}/{{id}}/lockout"))
                .route(web::get().to(get_lockout::<S>))
                .route(web::delete().to(clear_lockout::<S>)),
        );
    }
}

async fn create<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    body: JsonObject<CreateIdentityBody>,
) -> Result<HttpResponse, ApiError> {
    let JsonObject(mut body) = body;
    let password = body.password();
    let identity = service
        .create_identity(CreateIdentityRequest {
            draft: IdentityDraft {
                schema_id: body.schema_id,
                state: body.state,
                traits: body.traits,
            },
            password,
        })
        .await?;
    let location = format!("{}/{}", req.path(), identity.id);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header(no_store())
        .json(Identity::new(&identity, &settings.public_base_url)))
}

async fn get<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let identity = service.get_identity(id.into_inner().into()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(Identity::new(&identity, &settings.public_base_url)))
}

async fn delete<S: Store>(
    service: web::Data<Service<S>>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service.delete_identity(id.into_inner().into()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct ListQuery {
    page_size: Option<usize>,
    page_token: Option<String>,
    credentials_identifier: Option<String>,
}

/// A JSON array; the next page, when there is one, is in the `Link` header as Kratos does.
async fn list<S: Store>(
    service: web::Data<Service<S>>,
    settings: web::Data<HttpSettings>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let identifier = query.credentials_identifier;
    let page = service
        .list_identities(ListIdentitiesRequest {
            page_size: query.page_size,
            page_token: query.page_token,
            credentials_identifier: identifier.clone(),
        })
        .await?;
    // As Kratos: the first and next pages as absolute links, keeping the filter.
    let page_link = |token: Option<&str>, rel: &str| {
        let mut link = url::Url::parse(&external_url(&settings.admin_base_url, &req))
            .unwrap_or_else(|_| settings.admin_base_url.clone());
        link.set_query(None);
        {
            let mut query = link.query_pairs_mut();
            query.append_pair("page_size", &page.page_size.to_string());
            if let Some(identifier) = &identifier {
                query.append_pair("credentials_identifier", identifier);
            }
            if let Some(token) = token {
                query.append_pair("page_token", token);
            }
        }
        format!("<{link}>; rel=\"{rel}\"")
    };
    let mut links = vec![page_link(None, "first")];
    if let Some(next) = &page.next_page_token {
        links.push(page_link(Some(next), "next"));
    }
    let mut response = HttpResponse::Ok();
    response.insert_header((header::LINK, links.join(",")));
    response.insert_header(no_store());
    let body: Vec<Identity> = page
        .identities
        .iter()
        .map(|identity| Identity::new(identity, &settings.public_base_url))
        .collect();
    Ok(response.json(body))
}

async fn get_lockout<S: Store>(
    service: web::Data<Service<S>>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let lockout = service.lockout(id.into_inner().into()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .json(Lockout::new(lockout)))
}

/// Lifts the lockout: every count of failed sign-ins on the identity's identifier is forgotten.
async fn clear_lockout<S: Store>(
    service: web::Data<Service<S>>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    service.clear_lockout(id.into_inner().into()).await?;
    Ok(HttpResponse::NoContent().finish())
}
