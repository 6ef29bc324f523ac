//! Strict parsing of what a request carries: JSON bodies, ids and identity headers (each
//! failure names the offending field or header).

use serde::Deserialize;

use super::problem::ApiError;

/// Parses a JSON body strictly; the error names the field (`owner.email: invalid type …`).
pub(crate) fn json<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::invalid("the request needs a JSON body"));
    }
    let is_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    // A body that reads is read in one pass, straight into `T`.
    if is_object && let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    // Otherwise find out why: syntax first (a pass that builds nothing), so malformed JSON
    // is reported as such rather than as a field error; then the field at fault.
    serde_json::from_slice::<serde::de::IgnoredAny>(body)
        .map_err(|e| ApiError::invalid(format!("body: not valid JSON: {e}")))?;
    if !is_object {
        return Err(ApiError::invalid("body: must be a JSON object"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::invalid(format!("body: {inner}"))
        } else {
            ApiError::invalid(format!("{path}: {inner}"))
        }
    })?;
    Ok(value)
}

/// Checks an id from the path or body against the API's id alphabet.
pub(crate) fn id<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if roster_core::ids::is_valid_id(value) {
        Ok(value)
    } else {
        Err(ApiError::invalid(format!(
            "{field}: `{value}` is not a valid id (1-128 characters of A-Z a-z 0-9 _ . : @ -)"
        )))
    }
}

/// The value of a header that may be sent at most once, read strictly: a repeated header
/// or a value that is not printable ASCII is refused with a 400 naming the header, never
/// treated as absent.
pub(crate) fn single_header<'a>(headers: &'a hyper::HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(ApiError::invalid(format!("header {name}: sent more than once")));
    }
    value.to_str().map(Some).map_err(|_| ApiError::invalid(format!("header {name}: must be printable ASCII")))
}
