//! What the forms share (rendered by `templates/form.html`): the message above the fields, and
//! how each field points at its hint and at the error.

/// The message above a form's fields.
pub(super) enum Notice<'a> {
    /// Announced at once; the fields are marked invalid and point at it.
    Error(&'a str),
    Info(&'a str),
}

impl<'a> Notice<'a> {
    /// From the `(text, is_error)` pair the routes pass.
    pub(super) fn new((text, is_error): (&'a str, bool)) -> Self {
        if is_error {
            Self::Error(text)
        } else {
            Self::Info(text)
        }
    }
}

/// The id of the error paragraph in `form.html`.
const ERROR_ID: &str = "form-error";

/// How a field is tied to its hint (the id of the element, if it has one) and to the error.
pub(super) struct Aria {
    hint: Option<&'static str>,
    pub(super) invalid: bool,
}

impl Aria {
    pub(super) fn new(hint: Option<&'static str>, notice: Option<&Notice<'_>>) -> Self {
        Self {
            hint,
            invalid: matches!(notice, Some(Notice::Error(_))),
        }
    }

    /// The value of `aria-describedby`, if the field has anything to point at.
    pub(super) fn described_by(&self) -> Option<String> {
        let ids: Vec<&str> = self
            .hint
            .into_iter()
            .chain(self.invalid.then_some(ERROR_ID))
            .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}
