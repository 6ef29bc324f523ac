//! AuthZEN request bodies as the spec defines them: unknown fields ignored (the spec
//! requires it, unlike `/v1`), wrong types refused, required fields checked per endpoint
//! (a search's target entity may omit its `id`; an input entity may not).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::http::problem::ApiError;

/// A string of the body, borrowed from it unless it holds escapes (serde's own `Cow`
/// copies every string).
#[derive(Clone, Debug, Default)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Strings;
        impl<'de> serde::de::Visitor<'de> for Strings {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(text))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(text.to_owned()))
            }
            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(text))
            }
        }
        deserializer.deserialize_str(Strings).map(Text)
    }
}

/// A subject or a resource: `{type, id, properties}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Entity<'a> {
    #[serde(rename = "type", borrow, default)]
    pub(crate) ty: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(crate) id: Option<Text<'a>>,
    #[serde(default)]
    pub(crate) properties: Option<Map<String, Value>>,
}

/// An action: `{name, properties}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Action<'a> {
    #[serde(borrow, default)]
    pub(crate) name: Option<Text<'a>>,
    /// Matched against the pack's `[[authzen.action_properties]]`.
    #[serde(default)]
    pub(crate) properties: Option<Map<String, Value>>,
}

/// An entity whose `type` and `id` are both present.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Identified<'e> {
    pub(crate) ty: &'e str,
    pub(crate) id: &'e str,
    pub(crate) properties: Option<&'e Map<String, Value>>,
}

impl<'a> Entity<'a> {
    /// The entity with both `type` and `id`, or a 400 naming the missing one.
    pub(crate) fn identified(&self, field: &str) -> Result<Identified<'_>, ApiError> {
        Ok(Identified {
            ty: self.ty(field)?,
            id: required(field, "id", self.id.as_deref())?,
            properties: self.properties.as_ref(),
        })
    }

    /// The entity's `type` (all a search's target needs), or a 400.
    pub(crate) fn ty(&self, field: &str) -> Result<&str, ApiError> {
        required(field, "type", self.ty.as_deref())
    }
}

impl<'a> Action<'a> {
    /// An action with this `name` and no properties.
    pub(crate) fn named(name: Option<Text<'a>>) -> Action<'a> {
        Action { name, properties: None }
    }

    /// The action's `name`, or a 400.
    pub(crate) fn name(&self, field: &str) -> Result<&str, ApiError> {
        required(field, "name", self.name.as_deref())
    }
}

fn required<'v>(field: &str, sub: &str, value: Option<&'v str>) -> Result<&'v str, ApiError> {
    value.ok_or_else(|| ApiError::invalid(format!("{field}.{sub}: required")))
}

/// The options an evaluations request may carry (`explain` is Roster's own: ask for the
/// reasons in each decision's `context`).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(crate) struct Options {
    #[serde(default)]
    pub(crate) evaluations_semantic: Semantic,
    #[serde(default)]
    pub(crate) explain: bool,
}

/// How an evaluations request runs its items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Semantic {
    /// Every item, every answer.
    #[default]
    ExecuteAll,
    /// Stop after the first deny (or failure), which is the last answer.
    DenyOnFirstDeny,
    /// Stop after the first permit, which is the last answer.
    PermitOnFirstPermit,
}

/// A decision request, and the top level of an evaluations request (its defaults); its
/// items are `I`: each as sent ([`RawValue`], counted against the batch limit, then read
/// one at a time so a bad item fails alone), or `()` once split off.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "I: Deserialize<'de>"))]
pub(crate) struct Evaluation<'a, I = &'a RawValue> {
    #[serde(borrow, default)]
    pub(crate) subject: Option<Entity<'a>>,
    #[serde(borrow, default)]
    pub(crate) action: Option<Action<'a>>,
    #[serde(borrow, default)]
    pub(crate) resource: Option<Entity<'a>>,
    #[serde(borrow, default)]
    pub(crate) context: Option<&'a RawValue>,
    #[serde(default)]
    pub(crate) options: Options,
    #[serde(default = "none")]
    pub(crate) evaluations: Option<Vec<I>>,
    #[serde(default)]
    pub(crate) page: Option<PageRequest<'a>>,
}

/// A search's page: the previous page's `next_token`, and how many results.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageRequest<'a> {
    #[serde(borrow, default)]
    pub(crate) token: Option<Text<'a>>,
    #[serde(default)]
    pub(crate) limit: Option<u64>,
}

/// One item of an evaluations request: any entity it leaves out comes whole from the top
/// level (no merging of fields).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Item<'a> {
    #[serde(borrow, default)]
    pub(crate) subject: Option<Entity<'a>>,
    #[serde(borrow, default)]
    pub(crate) action: Option<Action<'a>>,
    #[serde(borrow, default)]
    pub(crate) resource: Option<Entity<'a>>,
    #[serde(borrow, default)]
    pub(crate) context: Option<&'a RawValue>,
}

fn none<T>() -> Option<T> {
    None
}

impl<'a, I: Deserialize<'a>> Evaluation<'a, I> {
    /// Reads a body: JSON with `Content-Type: application/json`, an object, fields of the
    /// right types (unknown ones ignored), `context` an object when present.
    pub(crate) fn parse(content_type: Option<&str>, body: &'a [u8]) -> Result<Self, ApiError> {
        require_json(content_type)?;
        let evaluation: Evaluation<'a, I> = crate::http::request::json(body)?;
        object("context", evaluation.context)?;
        Ok(evaluation)
    }
}

impl<'a> Evaluation<'a, ()> {
    /// A request of these entities alone: no context, default options, no items.
    pub(crate) fn of_entities(
        subject: Option<Entity<'a>>,
        action: Option<Action<'a>>,
        resource: Option<Entity<'a>>,
    ) -> Evaluation<'a, ()> {
        Evaluation {
            subject,
            action,
            resource,
            context: None,
            options: Options::default(),
            evaluations: None,
            page: None,
        }
    }
}

impl<'a, I> Evaluation<'a, I> {
    /// The top level alone, and the items.
    pub(crate) fn split(self) -> (Evaluation<'a, ()>, Option<Vec<I>>) {
        let Evaluation { subject, action, resource, context, options, evaluations, page } = self;
        (Evaluation { subject, action, resource, context, options, evaluations: None, page }, evaluations)
    }
}

impl<'a> Item<'a> {
    /// Reads one item of `evaluations`, borrowing from the body.
    pub(crate) fn parse(raw: &'a RawValue) -> Result<Self, ApiError> {
        if !raw.get().trim_start().starts_with('{') {
            return Err(ApiError::invalid("must be an object"));
        }
        let item: Item = serde_json::from_str(raw.get()).map_err(|e| ApiError::invalid(e.to_string()))?;
        item.checked()
    }

    /// The item, if its `context` is an object (or absent).
    pub(crate) fn checked(self) -> Result<Self, ApiError> {
        object("context", self.context)?;
        Ok(self)
    }
}

/// Refuses a body that is not declared as JSON (`application/json`, parameters allowed).
pub(crate) fn require_json(content_type: Option<&str>) -> Result<(), ApiError> {
    let essence = content_type.and_then(|c| c.split(';').next()).map(str::trim);
    match essence {
        Some(essence) if essence.eq_ignore_ascii_case("application/json") => Ok(()),
        Some(other) => Err(ApiError::invalid(format!("Content-Type: `{other}`; send application/json"))),
        None => Err(ApiError::invalid("Content-Type: missing; send application/json")),
    }
}

fn object(field: &str, raw: Option<&RawValue>) -> Result<(), ApiError> {
    match raw {
        Some(raw) if !raw.get().trim_start().starts_with('{') => {
            Err(ApiError::invalid(format!("{field}: must be an object")))
        }
        _ => Ok(()),
    }
}
