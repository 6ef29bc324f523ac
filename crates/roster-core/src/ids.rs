//! Caller-chosen ids (accounts, principals, groups, roles, resources) and their rules.

/// Whether `id` is 1–128 characters of `[A-Za-z0-9_.:@-]`, as the API requires.
pub fn is_valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'@' | b'-'))
}

/// A caller-chosen id that follows the API's rules ([`is_valid_id`]). Only
/// [`Id::parse`] (or deserializing, which calls it) makes one, so holding an `Id` proves
/// the text was checked: the edge parses once and passes the proof along.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

/// Text that is not a valid [`Id`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid id (1-128 characters of A-Z a-z 0-9 _ . : @ -)")]
pub struct InvalidId(pub String);

impl Id {
    /// Checks `text` against the id rules.
    pub fn parse(text: impl Into<String>) -> Result<Id, InvalidId> {
        let text = text.into();
        if is_valid_id(&text) { Ok(Id(text)) } else { Err(InvalidId(text)) }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Id {
    type Error = InvalidId;

    fn try_from(text: String) -> Result<Id, InvalidId> {
        Id::parse(text)
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}

impl std::ops::Deref for Id {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a resource name `"<type>:<id>"`; `None` when it has no type or no id.
pub fn split_resource(name: &str) -> Option<(&str, &str)> {
    let (ty, id) = name.split_once(':')?;
    (!ty.is_empty() && !id.is_empty()).then_some((ty, id))
}

/// The name of an account's own node in resource positions.
pub const ACCOUNT_RESOURCE: &str = "account";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_api_alphabet() {
        assert!(is_valid_id("user@example.com"));
        assert!(is_valid_id("a"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("has space"));
        assert!(!is_valid_id(&"x".repeat(129)));
        assert_eq!(split_resource("pickaxe:42"), Some(("pickaxe", "42")));
        assert_eq!(split_resource("pickaxe"), None);
    }

    #[test]
    fn an_id_is_made_only_from_valid_text() {
        assert_eq!(Id::parse("s1").map(|id| id.to_string()), Ok("s1".to_owned()));
        assert_eq!(Id::parse("has space"), Err(InvalidId("has space".into())));
        let parsed: Result<Id, _> = serde_json::from_str("\"no/slash\"");
        assert!(parsed.is_err_and(|e| e.to_string().contains("not a valid id")));
    }
}
