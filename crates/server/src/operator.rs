//! The operator commands: a request or two to the admin API of a running service, local or
//! remote, the answer printed as text, or as the API's JSON with `--json`. A refused request
//! prints the envelope's message and reason and exits with 1.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Map, Value, json};
use url::Url;
use uuid::Uuid;

use crate::cli::{AuditQuery, IdentitiesCommand, RecoveryCommand, Remote, Who};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a command could not be done, as the operator reads it.
#[derive(Debug)]
pub enum Failure {
    /// The API answered with an error envelope.
    Refused {
        status: u16,
        message: String,
        reason: Option<String>,
    },
    /// Anything else: the API cannot be reached, the answer cannot be read, bad input.
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused {
                status,
                message,
                reason,
            } => {
                write!(f, "{message} ({status})")?;
                if let Some(reason) = reason {
                    write!(f, "\n{reason}")?;
                }
                Ok(())
            }
            Self::Other(message) => f.write_str(message),
        }
    }
}

/// Runs `command`, printing its outcome: success, or the failure on standard error.
#[must_use]
pub fn identities(remote: &Remote, command: &IdentitiesCommand) -> ExitCode {
    finish(AdminApi::new(remote).and_then(|api| api.identities(command)))
}

/// Runs `command`, printing its outcome: success, or the failure on standard error.
#[must_use]
pub fn recovery(remote: &Remote, command: &RecoveryCommand) -> ExitCode {
    finish(AdminApi::new(remote).and_then(|api| api.recovery(command)))
}

/// Prints one page of the audit trail, or the failure on standard error.
#[must_use]
pub fn audit(remote: &Remote, query: &AuditQuery) -> ExitCode {
    finish(AdminApi::new(remote).and_then(|api| api.audit(query)))
}

fn finish(outcome: Result<String, Failure>) -> ExitCode {
    match outcome {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{output}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("iam-recovery: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// The admin API at one endpoint, with one key.
struct AdminApi {
    client: Client,
    endpoint: Url,
    api_key: Option<String>,
    json: bool,
}

/// A 2xx answer: its body (`null` for none) and the `next` page of a listing.
struct Answer {
    body: Value,
    next_page_token: Option<String>,
}

impl AdminApi {
    fn new(remote: &Remote) -> Result<Self, Failure> {
        let client = Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|error| Failure::Other(format!("cannot build an HTTP client: {error}")))?;
        // A base URL without its final slash would lose its last segment when joined.
        let mut endpoint = remote.endpoint.clone();
        if !endpoint.path().ends_with('/') {
            endpoint.set_path(&format!("{}/", endpoint.path()));
        }
        Ok(Self {
            client,
            endpoint,
            api_key: remote.api_key.clone(),
            json: remote.json,
        })
    }

    fn identities(&self, command: &IdentitiesCommand) -> Result<String, Failure> {
        match command {
            IdentitiesCommand::Create {
                email,
                traits,
                schema_id,
                password_stdin,
            } => {
                let mut body = Map::new();
                body.insert(
                    "traits".into(),
                    Value::Object(traits_of(traits.as_deref(), email.as_deref())?),
                );
                if let Some(schema_id) = schema_id {
                    body.insert("schema_id".into(), json!(schema_id));
                }
                if *password_stdin {
                    let password = read_password()?;
                    body.insert(
                        "credentials".into(),
                        json!({"password": {"config": {"password": password}}}),
                    );
                }
                let answer = self.send(
                    Method::POST,
                    "admin/identities",
                    &[],
                    Some(&Value::Object(body)),
                )?;
                self.show(&answer.body, || {
                    format!("created identity\n{}", identity_text(&answer.body))
                })
            }
            IdentitiesCommand::Get { id } => {
                let answer =
                    self.send(Method::GET, &format!("admin/identities/{id}"), &[], None)?;
                self.show(&answer.body, || identity_text(&answer.body))
            }
            IdentitiesCommand::List {
                identifier,
                page_size,
                page_token,
            } => {
                let mut query = vec![("page_size", page_size.to_string())];
                if let Some(identifier) = identifier {
                    query.push(("credentials_identifier", identifier.clone()));
                }
                if let Some(token) = page_token {
                    query.push(("page_token", token.clone()));
                }
                let answer = self.send(Method::GET, "admin/identities", &query, None)?;
                self.show(&answer.body, || list_text(&answer))
            }
            IdentitiesCommand::Delete { id } => {
                self.send(Method::DELETE, &format!("admin/identities/{id}"), &[], None)?;
                self.show(&json!({"deleted": id}), || format!("deleted identity {id}"))
            }
        }
    }

    fn recovery(&self, command: &RecoveryCommand) -> Result<String, Failure> {
        match command {
            RecoveryCommand::Code {
                who,
                expires_in,
                flow_type,
                mark_address_verified,
                no_qr,
            } => {
                let identity_id = self.identity_of(who)?;
                let mut body = json!({"identity_id": identity_id, "flow_type": flow_type.as_str()});
                if let Some(expires_in) = expires_in {
                    body["expires_in"] = json!(expires_in);
                }
                if *mark_address_verified {
                    body["mark_address_verified"] = json!(true);
                }
                let answer = self.send(Method::POST, "admin/recovery/code", &[], Some(&body))?;
                self.show(&answer.body, || code_text(&answer.body, !no_qr))
            }
            RecoveryCommand::Revoke { who } => {
                let identity_id = self.identity_of(who)?;
                let query = [("identity_id", identity_id.to_string())];
                self.send(Method::DELETE, "admin/recovery/codes", &query, None)?;
                self.show(&json!({"revoked": identity_id}), || {
                    format!(
                        "revoked the outstanding recovery codes of identity {identity_id}, and \
                         ended the sessions they opened"
                    )
                })
            }
        }
    }

    fn audit(&self, query: &AuditQuery) -> Result<String, Failure> {
        let mut params = vec![("page_size", query.page_size.to_string())];
        let who = Who {
            identity: query.identity,
            email: query.email.clone(),
        };
        if who.identity.is_some() || who.email.is_some() {
            params.push(("identity_id", self.identity_of(&who)?.to_string()));
        }
        if let Some(token) = &query.page_token {
            params.push(("page_token", token.clone()));
        }
        let answer = self.send(Method::GET, "admin/audit-events", &params, None)?;
        self.show(&answer.body, || audit_text(&answer))
    }

    /// The id of the identity `who` names: given, or found by its identifier.
    fn identity_of(&self, who: &Who) -> Result<Uuid, Failure> {
        if let Some(id) = who.identity {
            return Ok(id);
        }
        let identifier = who.email.clone().unwrap_or_default();
        let query = [("credentials_identifier", identifier.clone())];
        let answer = self.send(Method::GET, "admin/identities", &query, None)?;
        answer
            .body
            .get(0)
            .and_then(|identity| identity["id"].as_str())
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| Failure::Other(format!("no identity signs in with \"{identifier}\"")))
    }

    /// The JSON as answered with `--json`, else the text.
    fn show(&self, body: &Value, text: impl FnOnce() -> String) -> Result<String, Failure> {
        if self.json {
            serde_json::to_string_pretty(body).map_err(|error| Failure::Other(error.to_string()))
        } else {
            Ok(text())
        }
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, Failure> {
        let url = self
            .endpoint
            .join(path)
            .map_err(|error| Failure::Other(format!("bad endpoint: {error}")))?;
        let mut request: RequestBuilder = self.client.request(method, url).query(query);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().map_err(|error| {
            Failure::Other(format!(
                "cannot reach the admin API at {}: {}",
                self.endpoint,
                error.without_url()
            ))
        })?;
        let status = response.status();
        let next_page_token = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|link| link.to_str().ok())
            .and_then(next_page_token);
        let text = response
            .text()
            .map_err(|error| Failure::Other(format!("the answer cannot be read: {error}")))?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|_| {
                Failure::Other(format!(
                    "the admin API answered {status} with something that is not JSON; is \
                     {} the admin API?",
                    self.endpoint
                ))
            })?
        };
        if status.is_success() {
            return Ok(Answer {
                body,
                next_page_token,
            });
        }
        let error = &body["error"];
        Err(Failure::Refused {
            status: status.as_u16(),
            message: error["message"]
                .as_str()
                .unwrap_or("the admin API refused the request")
                .to_owned(),
            reason: error["reason"].as_str().map(str::to_owned),
        })
    }
}

/// `--traits`, with `--email` as its `email`.
fn traits_of(traits: Option<&str>, email: Option<&str>) -> Result<Map<String, Value>, Failure> {
    let mut traits = match traits {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(traits)) => traits,
            _ => return Err(Failure::Other("--traits must be a JSON object".to_owned())),
        },
    };
    if let Some(email) = email {
        traits.insert("email".into(), json!(email));
    }
    Ok(traits)
}

fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| Failure::Other(format!("cannot read the password: {error}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The `page_token` of the `rel="next"` link.
fn next_page_token(link: &str) -> Option<String> {
    link.split(',')
        .find(|part| part.contains("rel=\"next\""))
        .and_then(|part| part.split_once('<'))
        .and_then(|(_, rest)| rest.split_once('>'))
        .and_then(|(url, _)| Url::parse(url).ok())
        .and_then(|url| {
            url.query_pairs()
                .find(|(name, _)| name == "page_token")
                .map(|(_, value)| value.into_owned())
        })
}

fn identity_text(identity: &Value) -> String {
    let addresses: Vec<String> = identity["verifiable_addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|address| {
            let verified = if address["verified"] == true {
                "verified"
            } else {
                "not verified"
            };
            format!(
                "{} ({}, {verified})",
                text(&address["value"]),
                text(&address["via"])
            )
        })
        .collect();
    let mut lines = vec![
        format!("id:        {}", text(&identity["id"])),
        format!("schema:    {}", text(&identity["schema_id"])),
        format!("state:     {}", text(&identity["state"])),
        format!("traits:    {}", identity["traits"]),
    ];
    if !addresses.is_empty() {
        lines.push(format!("addresses: {}", addresses.join(", ")));
    }
    lines.push(format!("created:   {}", text(&identity["created_at"])));
    lines.join("\n")
}

fn list_text(answer: &Answer) -> String {
    let mut lines: Vec<String> = answer
        .body
        .as_array()
        .into_iter()
        .flatten()
        .map(|identity| {
            format!(
                "{}  {:8}  {}",
                text(&identity["id"]),
                text(&identity["state"]),
                identity["traits"]
            )
        })
        .collect();
    if lines.is_empty() {
        lines.push("no identities".to_owned());
    }
    if let Some(token) = &answer.next_page_token {
        lines.push(format!("more: --page-token {token}"));
    }
    lines.join("\n")
}

/// One line per event: when, what (and why), who, the identity, flow, address and request.
fn audit_text(answer: &Answer) -> String {
    let mut lines: Vec<String> = answer
        .body
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| {
            let mut action = text(&event["action"]);
            if let Some(reason) = event["reason"].as_str() {
                action = format!("{action} ({reason})");
            }
            let mut line = format!(
                "{}  {action:40}  by {}",
                text(&event["occurred_at"]),
                text(&event["actor"])
            );
            for field in ["identity_id", "flow_id", "client_address", "request_id"] {
                if let Some(value) = event[field].as_str() {
                    line.push_str(&format!("  {}={value}", field.trim_end_matches("_id")));
                }
            }
            line
        })
        .collect();
    if lines.is_empty() {
        lines.push("no events".to_owned());
    }
    if let Some(token) = &answer.next_page_token {
        lines.push(format!("more: --page-token {token}"));
    }
    lines.join("\n")
}

fn code_text(issued: &Value, with_qr: bool) -> String {
    let link = text(&issued["recovery_link"]);
    let mut out = format!(
        "recovery code: {}\nrecovery link: {link}\nexpires at:    {}",
        text(&issued["recovery_code"]),
        text(&issued["expires_at"]),
    );
    if with_qr && let Ok(code) = QrCode::new(link.as_bytes()) {
        // Light modules drawn, dark ones left blank: it reads on the usual dark terminal.
        let qr = code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .build();
        out.push_str("\n\n");
        out.push_str(&qr);
    }
    out
}

/// A JSON string as text; anything else as JSON.
fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_read_from_the_link_header() {
        let link = "<http://a/admin/identities?page_size=1>; rel=\"first\",\
                    <http://a/admin/identities?page_size=1&page_token=0193>; rel=\"next\"";
        assert_eq!(next_page_token(link).as_deref(), Some("0193"));
        assert_eq!(
            next_page_token("<http://a/x?page_size=1>; rel=\"first\""),
            None
        );
    }

    #[test]
    fn traits_take_the_email_and_must_be_an_object() {
        let traits = traits_of(Some(r#"{"name": "Ada"}"#), Some("a@b.co")).unwrap();
        assert_eq!(
            Value::Object(traits),
            json!({"name": "Ada", "email": "a@b.co"})
        );
        assert!(traits_of(Some("[1]"), None).is_err());
    }

    #[test]
    fn a_code_is_printed_with_its_link_as_a_qr_code() {
        let issued = json!({"recovery_code": "123456",
            "recovery_link": "https://id.example.com/recovery?flow=0193", "expires_at": "2026-12-03T15:00:00.000Z"});
        let out = code_text(&issued, true);
        assert!(out.starts_with(
            "recovery code: 123456\nrecovery link: https://id.example.com/recovery?flow=0193\n"
        ));
        assert!(
            out.contains('█') || out.contains('▀') || out.contains('▄'),
            "{out}"
        );
        assert!(!code_text(&issued, false).contains('▀'));
    }
}
