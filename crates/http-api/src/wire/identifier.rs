//! How the sign-in form asks for the identifier: as the default identity schema marks it.

use domain::identity_schema::IdentitySchemas;

use crate::wire::texts;
use crate::wire::ui::{Autocomplete, InputAttributes, InputType, UiText};

/// The identifier input of the sign-in forms, JSON and HTML.
#[derive(Debug, Clone)]
pub(crate) struct IdentifierField {
    /// The identifier trait's title in the schema, if it has one.
    title: Option<String>,
    /// The identifier is an email address (else a name).
    pub(crate) email: bool,
}

impl IdentifierField {
    pub(crate) fn of(schemas: &IdentitySchemas) -> Self {
        let schema = schemas.default_schema();
        Self {
            title: schema.identifier_title().map(str::to_owned),
            email: schema.signs_in_with_email(),
        }
    }

    /// What the page's label says.
    pub(crate) fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(if self.email {
            "Email address"
        } else {
            "Username"
        })
    }

    /// The node's label, as Kratos words it.
    pub(crate) fn text(&self) -> UiText {
        texts::identifier_label(self.title.as_deref())
    }

    /// The node's attributes. An email identifier is filled in as `email` (what every released
    /// Kratos client accepts); a name gets no hint, as `username` is not among Kratos's values.
    pub(crate) fn attributes(&self) -> InputAttributes {
        let mut attributes =
            InputAttributes::required("identifier", InputType::Text, Autocomplete::Email);
        if !self.email {
            attributes.autocomplete = None;
        }
        attributes
    }
}
