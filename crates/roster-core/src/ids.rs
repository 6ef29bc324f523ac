//! Caller-chosen ids (accounts, principals, groups, roles, resources) and their rules.

/// Whether `id` is 1–128 characters of `[A-Za-z0-9_.:@-]`, as the API requires.
pub fn is_valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'@' | b'-'))
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
}
