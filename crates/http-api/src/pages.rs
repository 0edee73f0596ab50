//! The built-in pages of the public listener: server-rendered HTML, no script, no external
//! assets. Every value is escaped; errors are announced and tied to their field.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};

use crate::wait::Wait;

/// `text` with the five HTML-special characters escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;background:#f4f5f7}
main{max-width:26rem;margin:3rem auto;padding:2rem 1.5rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin:0 0 1rem}
p{margin:0 0 1rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{width:100%;font:inherit;padding:.625rem .75rem;border:1px solid #8a8f98;border-radius:.375rem}
input[inputmode=numeric]{font-size:1.5rem;letter-spacing:.3em;font-variant-numeric:tabular-nums}
input[aria-invalid=true]{border-color:#b3261e}
button{margin-top:1.25rem;width:100%;font:inherit;font-weight:600;padding:.75rem;border:0;border-radius:.375rem;background:#1f4fd1;color:#fff;cursor:pointer}
button.secondary{background:#e6e8ec;color:#1a1a1a}
:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}
.error{color:#b3261e;font-weight:600}
.info{color:#1b5e20}
.hint{color:#555;font-size:.9375rem}
a{color:#1f4fd1}
@media (max-width:30rem){main{margin:0;border-radius:0;min-height:100vh}}
";

/// A whole page around `body`, which must already be escaped.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        title = escape(title),
    );
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

/// A message at the top of a form: errors are announced at once.
fn notice(message: Option<(&str, bool)>) -> String {
    match message {
        Some((text, true)) => format!(
            "<p id=\"form-error\" class=\"error\" role=\"alert\">{}</p>",
            escape(text)
        ),
        Some((text, false)) => format!("<p class=\"info\" role=\"status\">{}</p>", escape(text)),
        None => String::new(),
    }
}

/// The attributes that tie a field to its hint (if it has one) and to the form's error.
fn described(hint: Option<&str>, error: bool) -> String {
    let ids: Vec<&str> = hint
        .into_iter()
        .chain(error.then_some("form-error"))
        .collect();
    let mut attributes = String::new();
    if error {
        attributes.push_str(" aria-invalid=\"true\"");
    }
    if !ids.is_empty() {
        attributes.push_str(&format!(" aria-describedby=\"{}\"", ids.join(" ")));
    }
    attributes
}

/// The code-entry page of a recovery flow.
pub(crate) fn recovery_form(action: &str, code_length: usize, error: Option<&str>) -> HttpResponse {
    let body = format!(
        "<h1>Recover your account</h1>\
         <p>Enter the recovery code you were given.</p>{notice}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"method\" value=\"code\">\
         <label for=\"code\">Recovery code</label>\
         <input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" pattern=\"[0-9]*\" \
         autocomplete=\"one-time-code\" maxlength=\"{code_length}\" required autofocus{described}>\
         <p id=\"code-hint\" class=\"hint\">{code_length} digits.</p>\
         <button type=\"submit\">Continue</button></form>",
        notice = notice(error.map(|e| (e, true))),
        action = escape(action),
        described = described(Some("code-hint"), error.is_some()),
    );
    page(StatusCode::OK, "Recover your account", &body)
}

/// A recovery flow that can no longer be used, with what to do next.
pub(crate) fn recovery_dead_end(
    status: StatusCode,
    headline: &str,
    next_step: &str,
) -> HttpResponse {
    let body = format!(
        "<h1>{}</h1><p role=\"alert\">{}</p>",
        escape(headline),
        escape(next_step)
    );
    page(status, headline, &body)
}

/// The new-password page of a settings flow.
pub(crate) fn settings_form(
    action: &str,
    email: Option<&str>,
    message: Option<(&str, bool)>,
) -> HttpResponse {
    let who = email.map_or_else(String::new, |email| {
        format!("<p>Signed in as <strong>{}</strong>.</p>", escape(email))
    });
    let error = message.is_some_and(|(_, is_error)| is_error);
    let body = format!(
        "<h1>Set a new password</h1>{who}{notice}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"method\" value=\"password\">\
         <label for=\"password\">New password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         minlength=\"8\" maxlength=\"1024\" required autofocus{described}>\
         <p id=\"password-hint\" class=\"hint\">At least 8 characters, and not your email address.</p>\
         <button type=\"submit\">Save password</button></form>",
        notice = notice(message),
        action = escape(action),
        described = described(Some("password-hint"), error),
    );
    page(StatusCode::OK, "Set a new password", &body)
}

/// The sign-in page of a login flow.
pub(crate) fn login_form(
    action: &str,
    identifier: &str,
    message: Option<(&str, bool)>,
) -> HttpResponse {
    let error = message.is_some_and(|(_, is_error)| is_error);
    let body = format!(
        "<h1>Sign in</h1>{notice}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"method\" value=\"password\">\
         <label for=\"identifier\">Email address</label>\
         <input id=\"identifier\" name=\"identifier\" type=\"email\" autocomplete=\"username\" \
         value=\"{identifier}\" required autofocus{described}>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" \
         required{described}>\
         <button type=\"submit\">Sign in</button></form>",
        notice = notice(message),
        action = escape(action),
        identifier = escape(identifier),
        described = described(None, error),
    );
    page(StatusCode::OK, "Sign in", &body)
}

/// The answer to a person sending too much: how long to `wait` (in words), and the same as
/// `Retry-After`.
pub(crate) fn too_many_requests(wait: Wait) -> HttpResponse {
    let body = format!(
        "<h1>Too many attempts</h1><p role=\"alert\">There were too many attempts from your \
         network. Wait {}, then try again.</p>",
        escape(&wait.in_words())
    );
    let mut res = page(StatusCode::TOO_MANY_REQUESTS, "Too many attempts", &body);
    let (name, value) = wait.header();
    res.headers_mut().insert(name, value);
    res
}

/// The landing page: who is signed in, and the way out.
pub(crate) fn home(email: Option<&str>, logout_action: &str, login_url: &str) -> HttpResponse {
    let body = match email {
        Some(email) => format!(
            "<h1>You are signed in</h1><p>Signed in as <strong>{}</strong>.</p>\
             <form method=\"post\" action=\"{}\"><button type=\"submit\" class=\"secondary\">Sign out</button></form>",
            escape(email),
            escape(logout_action)
        ),
        None => format!(
            "<h1>You are not signed in</h1><p><a href=\"{}\">Sign in</a></p>",
            escape(login_url)
        ),
    };
    page(StatusCode::OK, "Account", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
