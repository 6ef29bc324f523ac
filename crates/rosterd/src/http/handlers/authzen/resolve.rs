//! AuthZEN's subject, action and resource mapped onto the engine: a principal, a permission
//! (through the pack's `[[authzen.action_properties]]` and `[authzen.actions]`), and a stored resource, the account, a child
//! account, or a resource Roster does not store (decided under its parent, owned by the
//! principal its owner property names). Anything that maps to nothing is a deny, never an
//! error; an error is a question the caller may not ask or cannot be read.

use std::collections::HashMap;

use roster_core::engine::Transient;
use roster_core::management::Actor;
use roster_core::{Engine, Pack};
use serde_json::{Map, Value, json};

use super::request::Identified;
use crate::http::app::App;
use crate::http::problem::ApiError;

/// Subject types that name a principal.
pub(crate) const SUBJECT_TYPES: [&str; 2] = ["user", "principal"];

/// One decision as AuthZEN returns it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Outcome {
    pub(crate) decision: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) context: Option<Value>,
}

impl Outcome {
    /// A deny, with its reason when reasons were asked for.
    pub(crate) fn deny(explain: bool, why: String) -> Outcome {
        Outcome { decision: false, context: explain.then(|| json!({ "reason_admin": { "summary": why } })) }
    }

    /// A failed item of an evaluations request: denied, the error in its context.
    pub(crate) fn failed(error: &ApiError) -> Outcome {
        let context = json!({ "error": { "status": error.code.status(), "message": error.detail } });
        Outcome { decision: false, context: Some(context) }
    }
}

/// Owners named by email, resolved before the engine is read: email → principal id (`None`
/// when several principals share the email, so none of them is the owner).
#[derive(Debug, Default)]
pub(crate) struct Owners(HashMap<String, Option<String>>);

impl Owners {
    /// Looks up every owner property in `resources` that could be an email.
    pub(crate) async fn look_up<'r>(
        app: &App,
        pack: &Pack,
        resources: impl Iterator<Item = Identified<'r>>,
    ) -> Result<Owners, ApiError> {
        let property = pack.authzen_owner_property();
        let mut emails: Vec<&str> =
            resources.filter_map(|r| owner_value(r.properties, property)).filter(|v| v.contains('@')).collect();
        emails.sort_unstable();
        emails.dedup();
        let mut owners = Owners::default();
        for (email, id) in app.store.principals_by_email(&emails).await? {
            owners.0.entry(email).and_modify(|found| *found = None).or_insert(Some(id));
        }
        Ok(owners)
    }

    /// The owner's principal id: the value itself when it is a principal Roster knows,
    /// else the one principal with that stored email.
    fn resolve<'v>(&'v self, engine: &Engine, value: &'v str) -> Option<&'v str> {
        if engine.has_principal(value) {
            return Some(value);
        }
        self.0.get(value).and_then(|id| id.as_deref())
    }
}

fn owner_value<'p>(properties: Option<&'p Map<String, Value>>, property: &str) -> Option<&'p str> {
    properties.and_then(|p| p.get(property)).and_then(Value::as_str)
}

/// Where a resource sits, as the engine asks about it.
pub(crate) enum Place<'q> {
    /// The account asked in (`account`: this one or a child account), itself.
    Account(&'q str),
    /// A stored resource of the account: its `type:id` name.
    Stored(String),
    /// A resource Roster does not store, under `parent` (a stored resource) or the account.
    Transient { ty: &'q str, id: &'q str, parent: Option<String>, owner: Option<&'q str> },
}

impl Place<'_> {
    /// The account the question is asked in, and the stored resource it names there
    /// (a transient resource's parent; `None` for the account itself).
    pub(crate) fn asked<'p>(&'p self, account: &'p str) -> (&'p str, Option<&'p str>) {
        match self {
            Place::Account(a) => (a, None),
            Place::Stored(name) => (account, Some(name.as_str())),
            Place::Transient { parent, .. } => (account, parent.as_deref()),
        }
    }

    /// The engine's view of a transient place.
    pub(crate) fn transient(&self) -> Option<Transient<'_>> {
        match self {
            Place::Transient { ty, id, parent, owner } => {
                Some(Transient { ty, id, parent: parent.as_deref(), owner: *owner })
            }
            _ => None,
        }
    }
}

/// The question asked in `account`: the account or child account to ask in, and where.
pub(crate) fn place<'q>(
    engine: &'q Engine,
    pack: &'q Pack,
    account: &'q str,
    resource: &Identified<'q>,
    owners: &'q Owners,
) -> Result<Result<Place<'q>, String>, ApiError> {
    let (ty, id) = (resource.ty, resource.id);
    let Some(type_index) = pack.resource_type(ty) else {
        return Ok(Err(format!("resource type `{ty}` is not a type of pack `{}`", pack.id())));
    };
    if pack.types()[usize::from(type_index)].account {
        return Ok(if id == account || (engine.account_within(id, account) && engine.has_account(id)) {
            Ok(Place::Account(id))
        } else {
            Err(format!("account `{id}` does not exist under `{account}`"))
        });
    }
    let name = format!("{ty}:{id}");
    if engine.has_resource(account, &name) {
        return Ok(Ok(Place::Stored(name)));
    }
    let parent = match resource.properties.and_then(|p| p.get("parent")) {
        None | Some(Value::Null) => None,
        Some(value) => {
            let parent = parent_name(value)?;
            if !engine.has_resource(account, &parent) {
                return Err(ApiError::invalid(format!(
                    "resource.properties.parent: `{parent}` is not a resource of account `{account}`"
                )));
            }
            Some(parent)
        }
    };
    let owner = owner_value(resource.properties, pack.authzen_owner_property()).and_then(|v| owners.resolve(engine, v));
    Ok(Ok(Place::Transient { ty, id, parent, owner }))
}

/// Whether the caller may ask about `place` (for `subject`, when one is named): the
/// platform always; a principal only about the account, or a stored resource, it may view,
/// never an inline one (it would be naming its owner itself). So for a principal a stored
/// resource it cannot see answers exactly as one that does not exist: a deny, or nothing.
pub(crate) fn in_sight(
    engine: &Engine,
    actor: &Actor,
    place: &Place<'_>,
    account: &str,
    subject: Option<&str>,
    now: i64,
) -> bool {
    match actor {
        Actor::Service => true,
        Actor::Principal(_) => {
            let (ask_in, on) = place.asked(account);
            place.transient().is_none() && engine.may_ask(actor, ask_in, subject, on, now).is_ok()
        }
    }
}

/// `properties.parent`: `"type:id"` or `{"type": …, "id": …}`.
fn parent_name(value: &Value) -> Result<String, ApiError> {
    let bad = || ApiError::invalid("resource.properties.parent: must be \"type:id\" or {\"type\", \"id\"}");
    match value {
        Value::String(name) if name.contains(':') => Ok(name.clone()),
        Value::Object(fields) => {
            match (fields.get("type").and_then(Value::as_str), fields.get("id").and_then(Value::as_str)) {
                (Some(ty), Some(id)) => Ok(format!("{ty}:{id}")),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}
