//! List queries: `limit` (clamped to 100), opaque `cursor`, enum filters.

use crate::error::{ApiError, ApiResult};

pub const MAX_LIMIT: i64 = 100;
pub const DEFAULT_LIMIT: i64 = 50;

/// Parse the query string into key/value pairs (last one wins).
pub fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `limit`: default 50, above 100 clamped to 100, below 1 or non-numeric → 422.
pub fn limit(pairs: &[(String, String)]) -> ApiResult<i64> {
    match get(pairs, "limit") {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(n.min(MAX_LIMIT)),
            Ok(_) => Err(ApiError::invalid_field("limit", "must be at least 1")),
            Err(_) => Err(ApiError::invalid_field("limit", "must be a whole number")),
        },
    }
}

/// Cursors are the row sequence number of the last item, rendered opaquely.
pub fn cursor(pairs: &[(String, String)]) -> ApiResult<Option<i64>> {
    match get(pairs, "cursor") {
        None | Some("") => Ok(None),
        Some(s) => s
            .strip_prefix("c_")
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| ApiError::invalid_field("cursor", "is not a cursor this API returned")),
    }
}

/// The largest row sequence a cursor names: JavaScript's largest safe integer (2^53 − 1), so
/// the value bound to a SQL statement crosses to the runtime exactly (no row ever gets there).
pub const MAX_SEQ: i64 = (1 << 53) - 1;

/// The page start a list query asks for: the row sequence of `cursor` (rows before it), or
/// [`MAX_SEQ`] (the newest) without one; a cursor beyond [`MAX_SEQ`] means the same. Errors as
/// [`cursor`].
pub fn page_start(pairs: &[(String, String)]) -> ApiResult<i64> {
    Ok(cursor(pairs)?.map_or(MAX_SEQ, |c| c.min(MAX_SEQ)))
}

pub fn render_cursor(seq: i64) -> String {
    format!("c_{seq}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors() {
        let p = pairs(Some("limit=500&cursor=c_42&state=pending"));
        assert_eq!(limit(&p).unwrap(), 100);
        assert_eq!(cursor(&p).unwrap(), Some(42));
        assert_eq!(get(&p, "state"), Some("pending"));
        assert_eq!(limit(&pairs(None)).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(&pairs(Some("limit=0"))).unwrap_err().status, 422);
        assert_eq!(limit(&pairs(Some("limit=x"))).unwrap_err().status, 422);
        assert_eq!(cursor(&pairs(Some("cursor=zz"))).unwrap_err().status, 422);
        assert_eq!(render_cursor(7), "c_7");
    }

    #[test]
    fn a_page_starts_at_a_safe_integer() {
        assert_eq!(page_start(&pairs(None)).unwrap(), MAX_SEQ);
        assert_eq!(page_start(&pairs(Some("cursor=c_42"))).unwrap(), 42);
        // Beyond what a JavaScript number holds exactly: the same as no cursor.
        let huge = format!("cursor=c_{}", i64::MAX);
        assert_eq!(page_start(&pairs(Some(&huge))).unwrap(), MAX_SEQ);
        assert_eq!(
            MAX_SEQ as f64 as i64, MAX_SEQ,
            "crosses to JavaScript exactly"
        );
        assert_eq!(
            page_start(&pairs(Some("cursor=c_0"))).unwrap_err().status,
            422
        );
    }
}
