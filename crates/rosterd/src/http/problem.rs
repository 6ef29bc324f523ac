//! RFC 9457 problem+json errors. Every way a request is refused is an [`ApiError`] with a
//! stable [`Code`]; the code alone decides the HTTP status, in one place.

use roster_core::management::ErrorKind;
use roster_core::{ManagementError, QueryError};
use roster_store::StoreError;

/// The stable machine words of API.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Code {
    InvalidInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PolicyViolation,
    PayloadTooLarge,
    RequestTimeout,
    Stale,
    /// A change-feed position older than the feed's retention: resync from a snapshot.
    Gone,
    Internal,
}

impl Code {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Code::InvalidInput => "invalid_input",
            Code::Unauthenticated => "unauthenticated",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::Conflict => "conflict",
            Code::PolicyViolation => "policy_violation",
            Code::PayloadTooLarge => "payload_too_large",
            Code::RequestTimeout => "request_timeout",
            Code::Stale => "stale",
            Code::Gone => "gone",
            Code::Internal => "internal",
        }
    }

    pub(crate) fn status(self) -> u16 {
        match self {
            Code::InvalidInput => 400,
            Code::Unauthenticated => 401,
            Code::Forbidden => 403,
            Code::NotFound => 404,
            Code::MethodNotAllowed => 405,
            Code::Conflict | Code::Stale => 409,
            Code::RequestTimeout => 408,
            Code::Gone => 410,
            Code::PayloadTooLarge => 413,
            Code::PolicyViolation => 422,
            Code::Internal => 500,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Code::InvalidInput => "Invalid input",
            Code::Unauthenticated => "Authentication required",
            Code::Forbidden => "Not allowed",
            Code::NotFound => "Not found",
            Code::MethodNotAllowed => "Method not allowed",
            Code::Conflict => "Conflict",
            Code::Gone => "Past the change feed's retention",
            Code::PolicyViolation => "Refused by the pack's policy",
            Code::PayloadTooLarge => "Request body too large",
            Code::RequestTimeout => "Request timeout",
            Code::Stale => "Revision not reached",
            Code::Internal => "Internal error",
        }
    }
}

/// A refused request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) code: Code,
    pub(crate) detail: String,
}

impl ApiError {
    pub(crate) fn new(code: Code, detail: impl Into<String>) -> Self {
        ApiError { code, detail: detail.into() }
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Self::new(Code::InvalidInput, detail)
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::new(Code::NotFound, detail)
    }

    pub(crate) fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, detail)
    }

    pub(crate) fn conflict(detail: impl Into<String>) -> Self {
        Self::new(Code::Conflict, detail)
    }

    /// The problem document.
    pub(crate) fn body(&self) -> serde_json::Value {
        let problem = Problem {
            kind: format!("https://roster.dev/problems/{}", self.code.as_str()),
            title: self.code.title().to_owned(),
            status: self.code.status(),
            detail: self.detail.clone(),
            code: self.code,
        };
        serde_json::to_value(problem).unwrap_or_default()
    }
}

/// A refusal as the API sends it (RFC 9457 problem+json).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Problem {
    /// `https://roster.dev/problems/<code>`.
    #[serde(rename = "type")]
    kind: String,
    /// A short summary of the code.
    title: String,
    /// The HTTP status.
    status: u16,
    /// What was refused and why, naming the field or header at fault.
    detail: String,
    /// The stable machine word: what a client branches on.
    code: Code,
}

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.code.status())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let content_type = [(axum::http::header::CONTENT_TYPE, "application/problem+json")];
        let mut response = (status, content_type, self.body().to_string()).into_response();
        if self.code == Code::Unauthenticated {
            // RFC 6750: a 401 names the scheme the client must use.
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"roster\""),
            );
        }
        response
    }
}

impl From<ManagementError> for ApiError {
    fn from(error: ManagementError) -> Self {
        let code = match error.kind() {
            ErrorKind::InvalidInput => Code::InvalidInput,
            ErrorKind::NotFound => Code::NotFound,
            ErrorKind::Forbidden => Code::Forbidden,
            ErrorKind::Conflict => Code::Conflict,
            ErrorKind::PolicyViolation => Code::PolicyViolation,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        let code = match error {
            QueryError::UnknownAccount(_) | QueryError::UnknownResource { .. } => Code::NotFound,
            QueryError::UnknownPermission { .. }
            | QueryError::UnknownResourceType { .. }
            | QueryError::TransientAccount { .. }
            | QueryError::MisplacedResource { .. } => Code::InvalidInput,
        };
        ApiError::new(code, error.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            // The database's own text names tables and columns: logged, not answered.
            StoreError::Constraint(detail) => {
                tracing::warn!(%detail, "write refused by a database constraint");
                ApiError::conflict("the write conflicts with the stored state; nothing was written")
            }
            StoreError::Precondition(detail) => ApiError::conflict(detail),
            // Every failure of the database itself: the caller learns nothing of it but
            // that nothing was written; the log has the detail.
            other @ (StoreError::Database(_)
            | StoreError::Io { .. }
            | StoreError::Corrupt(_)
            | StoreError::InvalidWrite(_)) => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(Code::Internal, "the request could not be stored; nothing was written")
            }
        }
    }
}
