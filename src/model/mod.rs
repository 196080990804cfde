//! Domain types shared by the admin API, the providers and the delivery engine.
//! Pure data + parsing: no `worker` runtime here, so everything is unit-testable on the host.
//!
//! `assessment` is the normalized record (README "Webhooks you receive"), `package` the tenant's
//! catalogue and order kinds, `result` a vendor's result, `event` the webhook envelope, `time` RFC
//! 3339 instants.

mod assessment;
mod event;
mod metadata;
mod package;
mod result;
mod time;

pub use assessment::*;
pub use event::*;
pub use metadata::*;
pub use package::*;
pub use result::*;
pub use time::*;

use serde::{Deserialize, Serialize};

pub use crate::providers::Provider;

/// Assessment status (README "Results back to the ATS"; the record's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    NotSpecified,
    Pending,
    Started,
    InProgress,
    Completed,
    Rejected,
    Expired,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::NotSpecified,
        Status::Pending,
        Status::Started,
        Status::InProgress,
        Status::Completed,
        Status::Rejected,
        Status::Expired,
        Status::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotSpecified => "NOT_SPECIFIED",
            Status::Pending => "PENDING",
            Status::Started => "STARTED",
            Status::InProgress => "IN_PROGRESS",
            Status::Completed => "COMPLETED",
            Status::Rejected => "REJECTED",
            Status::Expired => "EXPIRED",
            Status::Cancelled => "CANCELLED",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
    /// Final statuses accept no further result (README "Results back to the ATS").
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Completed | Status::Rejected | Status::Expired | Status::Cancelled
        )
    }
}

/// A string, or a number rendered as a string (providers once sent numeric ids).
pub fn scalar_string(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Absent or null → None; string → Some; anything else is an error.
pub fn opt_string(v: Option<&serde_json::Value>) -> Result<Option<String>, &'static str> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err("must be a string"),
    }
}

/// Tenant slug rule: `[a-z0-9][a-z0-9-]{0,62}` (docs/contract.md "URLs and tenant ids").
pub fn is_valid_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(is_valid_slug("acme"));
        assert!(is_valid_slug("a"));
        assert!(is_valid_slug("0-acme-9"));
        assert!(is_valid_slug(&"a".repeat(63)));
        assert!(!is_valid_slug(&"a".repeat(64)));
        assert!(!is_valid_slug("-acme"));
        assert!(!is_valid_slug("Acme"));
        assert!(!is_valid_slug("ac_me"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug("acmé"));
    }

    #[test]
    fn statuses_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("completed"), None);
        assert!(Status::Cancelled.is_final());
        assert!(!Status::InProgress.is_final());
    }
}
