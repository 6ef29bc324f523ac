//! The AuthZEN shapes as the OpenAPI document describes them (the handlers read bodies
//! through `request.rs`, which ignores unknown fields as the spec requires).

use serde::Serialize;
use serde_json::{Map, Value};

/// A PDP's metadata (`/.well-known/authzen-configuration/…`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Metadata {
    /// The PDP's base URL: `{server.public_url}/authzen/{account}`.
    pub(crate) policy_decision_point: String,
    pub(crate) access_evaluation_endpoint: String,
    pub(crate) access_evaluations_endpoint: String,
    pub(crate) search_subject_endpoint: String,
    pub(crate) search_resource_endpoint: String,
    pub(crate) search_action_endpoint: String,
}

/// A subject (`user` or `principal`: a principal id) or a resource (a type of the
/// account's pack; `id` a stored resource's id, or any id with `properties` saying where
/// it sits (`parent`) and who owns it (the pack's owner property, default `owner`)).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EntityDoc {
    #[serde(rename = "type")]
    ty: String,
    id: Option<String>,
    properties: Option<Map<String, Value>>,
}

/// An action: a name from the pack's `[authzen.actions]`, or a permission id; its
/// `properties` can select another permission (the pack's `[[authzen.action_properties]]`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ActionDoc {
    name: String,
    properties: Option<Map<String, Value>>,
}

/// Options of an evaluations request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OptionsDoc {
    /// `execute_all` (default), `deny_on_first_deny`, `permit_on_first_permit`.
    evaluations_semantic: Option<String>,
    /// Roster's own: put each decision's reasons in its `context.reason_admin`.
    explain: Option<bool>,
}

/// One question. Unknown fields are ignored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EvaluationRequest {
    subject: EntityDoc,
    action: ActionDoc,
    resource: EntityDoc,
    context: Option<Map<String, Value>>,
    options: Option<OptionsDoc>,
}

/// One item of an evaluations request: what it leaves out comes whole from the top level.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ItemDoc {
    subject: Option<EntityDoc>,
    action: Option<ActionDoc>,
    resource: Option<EntityDoc>,
    context: Option<Map<String, Value>>,
}

/// Many questions: top-level defaults and the items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EvaluationsRequest {
    subject: Option<EntityDoc>,
    action: Option<ActionDoc>,
    resource: Option<EntityDoc>,
    context: Option<Map<String, Value>>,
    options: Option<OptionsDoc>,
    evaluations: Option<Vec<ItemDoc>>,
}

/// A decision; `context` holds an item's error, or the reasons when asked for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Decision {
    decision: bool,
    context: Option<Map<String, Value>>,
}

/// The decisions of an evaluations request, in request order (cut after the first deny
/// or permit under the short-circuit semantics).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Decisions {
    evaluations: Vec<Decision>,
}

/// What an evaluations request answers: the decisions, or one decision when it sent no
/// `evaluations` (the spec's backwards-compatible form).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Describes the reply in the OpenAPI document; the handler writes `Outcome`s.
pub(crate) enum EvaluationsReply {
    Many(Decisions),
    One(Decision),
}

/// A search page request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PageDoc {
    /// The previous page's `next_token`.
    token: Option<String>,
    /// 1 to 1000 (default 100).
    limit: Option<u64>,
}

/// A search: the entity searched for gives only its `type` (the action search leaves
/// `action` out).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SearchRequest {
    subject: EntityDoc,
    action: Option<ActionDoc>,
    resource: EntityDoc,
    context: Option<Map<String, Value>>,
    page: Option<PageDoc>,
}

/// The page's continuation: empty when there is no more.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PageOut {
    next_token: String,
}

/// One page of results: `{type, id}` entities, or `{name}` actions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SearchResults {
    results: Vec<Map<String, Value>>,
    page: PageOut,
}
