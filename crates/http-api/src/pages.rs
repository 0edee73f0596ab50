//! The built-in pages of the public listener: server-rendered HTML from the templates in
//! `templates/`, no script, no external assets. Every value a template prints is escaped;
//! errors are announced and tied to their field.

mod form;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use askama::Template;

use crate::wait::Wait;
use crate::wire::identifier::IdentifierField;
use form::{Aria, Notice};

/// `template` rendered, with the headers of every page.
fn respond(status: StatusCode, template: &impl Template) -> HttpResponse {
    let html = match template.render() {
        Ok(html) => html,
        Err(error) => {
            // Only a value whose `Display` fails gets here, and the pages print none.
            tracing::error!(%error, "a page could not be rendered");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut res = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ))
        .body(html);
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

#[derive(Template)]
#[template(path = "recovery_form.html")]
struct RecoveryForm<'a> {
    action: &'a str,
    code_length: usize,
    notice: Option<Notice<'a>>,
    code: Aria,
}

/// The code-entry page of a recovery flow.
pub(crate) fn recovery_form(action: &str, code_length: usize, error: Option<&str>) -> HttpResponse {
    let notice = error.map(Notice::Error);
    let code = Aria::new(Some("code-hint"), notice.as_ref());
    respond(
        StatusCode::OK,
        &RecoveryForm {
            action,
            code_length,
            notice,
            code,
        },
    )
}

#[derive(Template)]
#[template(path = "recovery_dead_end.html")]
struct RecoveryDeadEnd<'a> {
    headline: &'a str,
    next_step: &'a str,
}

/// A recovery flow that can no longer be used, with what to do next.
pub(crate) fn recovery_dead_end(
    status: StatusCode,
    headline: &str,
    next_step: &str,
) -> HttpResponse {
    respond(
        status,
        &RecoveryDeadEnd {
            headline,
            next_step,
        },
    )
}

#[derive(Template)]
#[template(path = "settings_form.html")]
struct SettingsForm<'a> {
    action: &'a str,
    /// What the person signs in with, when they have an identifier.
    identifier: Option<&'a str>,
    /// What the identifier is called, lower-cased: the password must not be it.
    identifier_label: String,
    notice: Option<Notice<'a>>,
    password: Aria,
}

/// The new-password page of a settings flow.
pub(crate) fn settings_form(
    action: &str,
    identifier: Option<&str>,
    field: &IdentifierField,
    message: Option<(&str, bool)>,
) -> HttpResponse {
    let notice = message.map(Notice::new);
    let password = Aria::new(Some("password-hint"), notice.as_ref());
    respond(
        StatusCode::OK,
        &SettingsForm {
            action,
            identifier,
            identifier_label: field.label().to_lowercase(),
            notice,
            password,
        },
    )
}

#[derive(Template)]
#[template(path = "login_form.html")]
struct LoginForm<'a> {
    action: &'a str,
    /// The label and kind of the identifier input.
    field: &'a IdentifierField,
    identifier: &'a str,
    notice: Option<Notice<'a>>,
    /// Both fields: neither has a hint, and an error is about the pair.
    fields: Aria,
}

/// The sign-in page of a login flow.
pub(crate) fn login_form(
    action: &str,
    field: &IdentifierField,
    identifier: &str,
    message: Option<(&str, bool)>,
) -> HttpResponse {
    let notice = message.map(Notice::new);
    let fields = Aria::new(None, notice.as_ref());
    respond(
        StatusCode::OK,
        &LoginForm {
            action,
            field,
            identifier,
            notice,
            fields,
        },
    )
}

#[derive(Template)]
#[template(path = "too_many_requests.html")]
struct TooManyRequests {
    wait: String,
}

/// The answer to a person sending too much: how long to `wait` (in words), and the same as
/// `Retry-After`.
pub(crate) fn too_many_requests(wait: Wait) -> HttpResponse {
    let mut res = respond(
        StatusCode::TOO_MANY_REQUESTS,
        &TooManyRequests {
            wait: wait.in_words(),
        },
    );
    let (name, value) = wait.header();
    res.headers_mut().insert(name, value);
    res
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home<'a> {
    /// What the signed-in person signs in with; `None` when nobody is signed in.
    identifier: Option<&'a str>,
    logout_action: &'a str,
    login_url: &'a str,
}

/// The landing page: who is signed in, and the way out.
pub(crate) fn home(identifier: Option<&str>, logout_action: &str, login_url: &str) -> HttpResponse {
    respond(
        StatusCode::OK,
        &Home {
            identifier,
            logout_action,
            login_url,
        },
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::body::MessageBody;

    use super::*;

    /// All five HTML-special characters, in a value that would run as a script if printed raw.
    const HOSTILE: &str = "<script>alert(\"1\" + '2')</script> & co";
    const ESCAPED: &str =
        "&#60;script&#62;alert(&#34;1&#34; + &#39;2&#39;)&#60;/script&#62; &#38; co";

    fn header(res: &HttpResponse, name: header::HeaderName) -> &str {
        res.headers().get(name).unwrap().to_str().unwrap()
    }

    fn html(res: HttpResponse) -> String {
        let bytes = res.into_body().try_into_bytes().unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// `res` printed `fields` hostile values, each escaped, and nothing raw.
    fn assert_escaped(res: HttpResponse, fields: usize) -> String {
        let html = html(res);
        assert_eq!(html.matches(ESCAPED).count(), fields, "{html}");
        assert!(!html.contains("<script"), "{html}");
        html
    }

    #[test]
    fn every_page_is_html_that_no_cache_keeps_no_frame_shows_and_no_script_runs_in() {
        let res = recovery_dead_end(StatusCode::GONE, "Gone", "Ask for a new code.");
        assert_eq!(res.status(), StatusCode::GONE);
        assert_eq!(
            header(&res, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&res, header::CACHE_CONTROL), "no-store");
        assert_eq!(header(&res, header::X_FRAME_OPTIONS), "DENY");
        assert_eq!(header(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(header(&res, header::REFERRER_POLICY), "same-origin");
        let csp = header(&res, header::CONTENT_SECURITY_POLICY);
        assert!(csp.starts_with("default-src 'none'; style-src 'unsafe-inline';"));
        let html = html(res);
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{html}"
        );
        assert!(html.contains("<meta name=\"viewport\""), "{html}");
        assert!(html.contains("<title>Gone</title>"), "{html}");
    }

    #[test]
    fn recovery_form_escapes_its_values() {
        let html = assert_escaped(recovery_form(HOSTILE, 6, Some(HOSTILE)), 2);
        assert!(html.contains(&format!("action=\"{ESCAPED}\"")), "{html}");
        assert!(html.contains("maxlength=\"6\""), "{html}");
        assert!(html.contains("6 digits."), "{html}");
    }

    #[test]
    fn recovery_form_in_error_announces_it_and_marks_the_code_invalid() {
        let html = html(recovery_form("/r", 8, Some("That code is not valid.")));
        assert!(
            html.contains(
                "<p id=\"form-error\" class=\"error\" role=\"alert\">That code is not valid.</p>"
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "maxlength=\"8\" required autofocus aria-invalid=\"true\" \
                 aria-describedby=\"code-hint form-error\">"
            ),
            "{html}"
        );
    }

    #[test]
    fn recovery_form_without_error_points_at_the_hint_only() {
        let html = html(recovery_form("/r", 6, None));
        assert!(!html.contains("role=\"alert\""), "{html}");
        assert!(!html.contains("aria-invalid=\""), "{html}");
        assert!(
            html.contains("required autofocus aria-describedby=\"code-hint\">"),
            "{html}"
        );
        assert!(
            html.contains("<p id=\"code-hint\" class=\"hint\">"),
            "{html}"
        );
        assert!(
            html.contains("<input type=\"hidden\" name=\"method\" value=\"code\">"),
            "{html}"
        );
    }

    #[test]
    fn recovery_dead_end_escapes_its_values_and_keeps_its_status() {
        let res = recovery_dead_end(StatusCode::FORBIDDEN, HOSTILE, HOSTILE);
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // The headline is the title too.
        let html = assert_escaped(res, 3);
        assert!(html.contains(&format!("<h1>{ESCAPED}</h1>")), "{html}");
        assert!(
            html.contains(&format!("<p role=\"alert\">{ESCAPED}</p>")),
            "{html}"
        );
        assert!(!html.contains("<form"), "{html}");
    }

    #[test]
    fn settings_form_escapes_its_values() {
        let html = assert_escaped(
            settings_form(HOSTILE, Some(HOSTILE), &email(), Some((HOSTILE, true))),
            3,
        );
        assert!(
            html.contains(&format!("<strong>{ESCAPED}</strong>")),
            "{html}"
        );
    }

    #[test]
    fn settings_form_in_error_announces_it_and_marks_the_password_invalid() {
        let html = html(settings_form(
            "/s",
            None,
            &email(),
            Some(("Too short.", true)),
        ));
        assert!(
            html.contains("<p id=\"form-error\" class=\"error\" role=\"alert\">Too short.</p>"),
            "{html}"
        );
        assert!(
            html.contains(
                "autocomplete=\"new-password\" minlength=\"8\" maxlength=\"1024\" required \
                 autofocus aria-invalid=\"true\" aria-describedby=\"password-hint form-error\">"
            ),
            "{html}"
        );
        assert!(!html.contains("Signed in as"), "{html}");
    }

    #[test]
    fn settings_form_with_information_tells_without_alarm() {
        let html = html(settings_form(
            "/s",
            Some("ada@example.com"),
            &email(),
            Some(("Saved.", false)),
        ));
        assert!(
            html.contains("<p class=\"info\" role=\"status\">Saved.</p>"),
            "{html}"
        );
        assert!(!html.contains("role=\"alert\""), "{html}");
        assert!(!html.contains("aria-invalid=\""), "{html}");
        assert!(
            html.contains("autofocus aria-describedby=\"password-hint\">"),
            "{html}"
        );
        assert!(
            html.contains("<p>Signed in as <strong>ada@example.com</strong>.</p>"),
            "{html}"
        );
    }

    /// The built-in schema's identifier: an email address.
    fn email() -> IdentifierField {
        IdentifierField::of(&domain::identity_schema::IdentitySchemas::built_in())
    }

    #[test]
    fn the_identifier_input_follows_the_schema() {
        let page = html(login_form("/l", &email(), "", None));
        assert!(
            page.contains("<label for=\"identifier\">Email address</label>"),
            "{page}"
        );
        assert!(page.contains("type=\"email\""), "{page}");
        let username = r#"{"properties": {"traits": {"properties": {"handle": {
            "type": "string", "title": "Handle",
            "ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}}}}}}"#;
        let schema = domain::identity_schema::IdentitySchema::parse("x", username).unwrap();
        let schemas = domain::identity_schema::IdentitySchemas::new(vec![schema], "x").unwrap();
        let field = IdentifierField::of(&schemas);
        let page = html(login_form("/l", &field, "", None));
        assert!(
            page.contains("<label for=\"identifier\">Handle</label>"),
            "{page}"
        );
        assert!(page.contains("name=\"identifier\" type=\"text\""), "{page}");
        let page = html(settings_form("/s", Some("ada"), &field, None));
        assert!(page.contains("not your handle."), "{page}");
    }

    #[test]
    fn login_form_escapes_its_values() {
        let html = assert_escaped(
            login_form(HOSTILE, &email(), HOSTILE, Some((HOSTILE, false))),
            3,
        );
        assert!(html.contains(&format!("value=\"{ESCAPED}\"")), "{html}");
    }

    #[test]
    fn login_form_in_error_announces_it_and_marks_both_fields_invalid() {
        let html = html(login_form(
            "/l",
            &email(),
            "ada@example.com",
            Some(("Wrong.", true)),
        ));
        assert!(
            html.contains("<p id=\"form-error\" class=\"error\" role=\"alert\">Wrong.</p>"),
            "{html}"
        );
        let invalid = " aria-invalid=\"true\" aria-describedby=\"form-error\">";
        assert!(
            html.contains(&format!(
                "value=\"ada@example.com\" required autofocus{invalid}"
            )),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                "autocomplete=\"current-password\" required{invalid}"
            )),
            "{html}"
        );
    }

    #[test]
    fn login_form_without_message_describes_nothing() {
        let html = html(login_form("/l", &email(), "", None));
        assert!(!html.contains("aria-invalid=\""), "{html}");
        assert!(!html.contains("aria-describedby"), "{html}");
        assert!(!html.contains("role="), "{html}");
        assert!(html.contains("value=\"\" required autofocus>"), "{html}");
    }

    #[test]
    fn too_many_requests_says_how_long_and_sets_retry_after() {
        let res = too_many_requests(Wait::new(Duration::from_secs(90)));
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&res, header::RETRY_AFTER), "90");
        let html = html(res);
        assert!(
            html.contains(
                "<p role=\"alert\">There were too many attempts from your network. \
                 Wait 90 seconds, then try again.</p>"
            ),
            "{html}"
        );
    }

    #[test]
    fn home_escapes_its_values_when_signed_in() {
        let html = assert_escaped(home(Some(HOSTILE), HOSTILE, HOSTILE), 2);
        assert!(html.contains("<h1>You are signed in</h1>"), "{html}");
        assert!(
            html.contains(&format!("<strong>{ESCAPED}</strong>")),
            "{html}"
        );
        assert!(html.contains(&format!("action=\"{ESCAPED}\"")), "{html}");
    }

    #[test]
    fn home_escapes_its_values_when_signed_out() {
        let html = assert_escaped(home(None, HOSTILE, HOSTILE), 1);
        assert!(html.contains("<h1>You are not signed in</h1>"), "{html}");
        assert!(
            html.contains(&format!("<a href=\"{ESCAPED}\">Sign in</a>")),
            "{html}"
        );
    }
}
