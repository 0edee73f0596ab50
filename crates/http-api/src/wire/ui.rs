//! Kratos's `uiContainer`: the form a flow asks a front-end to render, as nodes with typed
//! attributes, and the messages that say what went wrong or right.

use serde::Serialize;
use utoipa::ToSchema;

/// `uiContainer`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = uiContainer)]
pub(crate) struct UiContainer {
    /// Where the form is submitted.
    pub(crate) action: String,
    pub(crate) method: FormMethod,
    pub(crate) nodes: Vec<UiNode>,
    /// Messages about the whole form.
    pub(crate) messages: Vec<UiText>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = uiContainerMethod)]
pub(crate) enum FormMethod {
    #[serde(rename = "POST")]
    Post,
}

/// `uiNode`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = uiNode)]
pub(crate) struct UiNode {
    #[serde(rename = "type")]
    pub(crate) node_type: NodeType,
    pub(crate) group: NodeGroup,
    pub(crate) attributes: NodeAttributes,
    /// Messages about this node's value.
    pub(crate) messages: Vec<UiText>,
    pub(crate) meta: NodeMeta,
}

impl UiNode {
    /// An input node of `group`, labelled `label`.
    pub(crate) fn input(group: NodeGroup, attributes: InputAttributes, label: UiText) -> Self {
        Self {
            node_type: NodeType::Input,
            group,
            attributes: NodeAttributes::Input(attributes),
            messages: Vec::new(),
            meta: NodeMeta { label: Some(label) },
        }
    }

    /// The input's name.
    pub(crate) fn name(&self) -> &str {
        match &self.attributes {
            NodeAttributes::Input(input) => &input.name,
        }
    }
}

/// `uiNode.type`: only inputs are rendered here.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = uiNodeType)]
#[serde(rename_all = "lowercase")]
pub(crate) enum NodeType {
    Input,
}

/// `uiNode.group`: the method a node belongs to.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = uiNodeGroup)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NodeGroup {
    Default,
    Password,
    Code,
}

/// `uiNodeAttributes`: one variant per `node_type`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = uiNodeAttributes)]
#[serde(tag = "node_type", rename_all = "lowercase")]
pub(crate) enum NodeAttributes {
    Input(InputAttributes),
}

/// `uiNodeInputAttributes`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = uiNodeInputAttributes)]
pub(crate) struct InputAttributes {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) input_type: InputType,
    pub(crate) disabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) maxlength: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) autocomplete: Option<Autocomplete>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) value: Option<String>,
}

impl InputAttributes {
    /// An enabled input with no constraints.
    pub(crate) fn new(name: &str, input_type: InputType) -> Self {
        Self {
            name: name.to_owned(),
            input_type,
            disabled: false,
            required: None,
            pattern: None,
            maxlength: None,
            autocomplete: None,
            value: None,
        }
    }

    /// A required input, filled in as `autocomplete` says.
    pub(crate) fn required(name: &str, input_type: InputType, autocomplete: Autocomplete) -> Self {
        Self {
            required: Some(true),
            autocomplete: Some(autocomplete),
            ..Self::new(name, input_type)
        }
    }

    /// The submit button that names `method`.
    pub(crate) fn submit(method: &str) -> Self {
        Self {
            value: Some(method.to_owned()),
            ..Self::new("method", InputType::Submit)
        }
    }
}

/// `uiNodeInputAttributes.type`, as far as these forms use it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = uiNodeInputAttributesType)]
#[serde(rename_all = "lowercase")]
pub(crate) enum InputType {
    Text,
    Password,
    Submit,
}

/// `uiNodeInputAttributes.autocomplete`. Only values every released Kratos client accepts:
/// `username` joined Kratos's enum later, and clients generated before refuse a whole flow
/// that carries it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = uiNodeInputAttributesAutocomplete)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Autocomplete {
    Email,
    CurrentPassword,
    NewPassword,
    OneTimeCode,
}

/// `uiNodeMeta`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = uiNodeMeta)]
pub(crate) struct NodeMeta {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(crate) label: Option<UiText>,
}

/// `uiText`: a message with Kratos's numeric id, so front-ends can translate it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = uiText)]
pub(crate) struct UiText {
    pub(crate) id: u32,
    pub(crate) text: String,
    #[serde(rename = "type")]
    pub(crate) text_type: TextType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = uiTextType)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TextType {
    Info,
    Error,
    Success,
}

impl UiText {
    pub(crate) fn info(id: u32, text: impl Into<String>) -> Self {
        Self {
            id,
            text: text.into(),
            text_type: TextType::Info,
        }
    }

    pub(crate) fn error(id: u32, text: impl Into<String>) -> Self {
        Self {
            id,
            text: text.into(),
            text_type: TextType::Error,
        }
    }

    pub(crate) fn success(id: u32, text: impl Into<String>) -> Self {
        Self {
            id,
            text: text.into(),
            text_type: TextType::Success,
        }
    }
}

impl UiContainer {
    /// A form posted to `action`.
    pub(crate) fn post(action: String, nodes: Vec<UiNode>) -> Self {
        Self {
            action,
            method: FormMethod::Post,
            nodes,
            messages: Vec::new(),
        }
    }

    /// Adds `message` to the node named `name` when there is one, else to the whole form.
    pub(crate) fn add_message(&mut self, name: Option<&str>, message: UiText) {
        let node = name.and_then(|name| self.nodes.iter_mut().find(|node| node.name() == name));
        match node {
            Some(node) => node.messages.push(message),
            None => self.messages.push(message),
        }
    }
}
