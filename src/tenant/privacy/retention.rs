//! Retention (README "Personal data"): how long a final assessment's personal data is kept,
//! when it falls due, and which delivery attempts of an event are kept.

use super::*;

/// Days a final assessment's personal data is kept when the tenant set nothing.
pub const DEFAULT_RETENTION_DAYS: u32 = 180;

/// The shortest retention: longer than any registered ATS keeps asking for an order's status
/// (the longest a provider file documents is 8 weeks after the order).
pub const MIN_RETENTION_DAYS: u32 = 60;

/// The longest explicit retention (ten years); `null` keeps data without limit.
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// One day in milliseconds (the production length of a retention day).
pub const DAY_MS: i64 = 86_400_000;

/// Assessments (and, separately, delivered events) purged per alarm; the alarm re-arms at
/// once while a batch comes back full.
pub const PURGE_BATCH: usize = 50;

/// Attempts kept per event: the first one and the latest `ATTEMPTS_KEPT - 1`. The event's
/// `attemptCount` stays exact.
pub const ATTEMPTS_KEPT: i64 = 10;

/// Parse `retention_days` from a tenant PATCH: an integer from 60 to 3650, or `null` (keep
/// without limit).
///
/// # Errors
/// `422 invalid_field` naming `retention_days`.
pub fn parse_retention_days(v: &Value) -> ApiResult<Option<u32>> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .filter(|d| (MIN_RETENTION_DAYS as u64..=MAX_RETENTION_DAYS as u64).contains(d))
            .map(|d| Some(d as u32))
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "retention_days",
                    "must be a whole number of days from 60 to 3650, or null to keep data",
                )
            }),
        _ => Err(ApiError::invalid_field(
            "retention_days",
            "must be a number of days or null",
        )),
    }
}

/// Serde default of the tenant setting: [`DEFAULT_RETENTION_DAYS`].
pub fn default_retention_days() -> Option<u32> {
    Some(DEFAULT_RETENTION_DAYS)
}

/// The length of a retention day in ms: a day, unless the test-only variable
/// `TEST_ONLY_RETENTION_DAY_MS` is set **and** `ALLOW_INSECURE_TARGETS` is `"true"` (which a
/// production deployment never sets: it would let webhooks reach private networks).
pub fn retention_day_ms(test_only_day_ms: Option<i64>, allow_insecure: bool) -> i64 {
    match test_only_day_ms {
        Some(ms) if allow_insecure && ms > 0 => ms,
        _ => DAY_MS,
    }
}

/// The time (ms) before which a final assessment's (or a delivered event's) personal data is
/// due for purging, or None when the tenant keeps data (`retention_days: null`).
pub fn retention_cutoff(now: i64, retention_days: Option<u32>, day_ms: i64) -> Option<i64> {
    retention_days.map(|d| now.saturating_sub((d as i64).saturating_mul(day_ms)))
}

/// When the oldest not-yet-purged item (final or delivered at `oldest`) becomes due.
pub fn purge_due_at(oldest: i64, retention_days: Option<u32>, day_ms: i64) -> Option<i64> {
    retention_days.map(|d| oldest.saturating_add((d as i64).saturating_mul(day_ms)))
}

/// After attempt `latest` of an event is stored, the attempt numbers to delete so that only
/// the first and the latest `keep - 1` remain: an inclusive range, or None when nothing goes.
pub fn attempts_to_drop(latest: i64, keep: i64) -> Option<(i64, i64)> {
    let hi = latest - (keep - 1);
    (keep >= 2 && hi >= 2).then_some((2, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_days_is_60_to_3650_or_null() {
        assert_eq!(parse_retention_days(&json!(60)).unwrap(), Some(60));
        assert_eq!(parse_retention_days(&json!(3650)).unwrap(), Some(3650));
        assert_eq!(parse_retention_days(&Value::Null).unwrap(), None);
        for bad in [
            json!(59),
            json!(0),
            json!(-1),
            json!(3651),
            json!(90.5),
            json!("90"),
        ] {
            let e = parse_retention_days(&bad).unwrap_err();
            assert_eq!(e.status, 422);
            assert!(e.message.contains("retention_days"), "{}", e.message);
        }
        assert_eq!(default_retention_days(), Some(180));
    }

    #[test]
    fn the_test_clock_needs_insecure_targets() {
        assert_eq!(retention_day_ms(Some(50), true), 50);
        assert_eq!(retention_day_ms(Some(50), false), DAY_MS);
        assert_eq!(retention_day_ms(None, true), DAY_MS);
        assert_eq!(retention_day_ms(Some(0), true), DAY_MS);
        assert_eq!(retention_day_ms(Some(-5), true), DAY_MS);
    }

    #[test]
    fn cutoff_and_due_times() {
        assert_eq!(
            retention_cutoff(100 * DAY_MS, Some(60), DAY_MS),
            Some(40 * DAY_MS)
        );
        assert_eq!(retention_cutoff(100, None, DAY_MS), None);
        assert_eq!(purge_due_at(5, Some(60), 10), Some(605));
        assert_eq!(purge_due_at(5, None, 10), None);
        assert_eq!(retention_cutoff(0, Some(3650), i64::MAX), Some(-i64::MAX));
    }

    #[test]
    fn attempts_keep_the_first_and_the_latest() {
        assert_eq!(attempts_to_drop(1, 10), None);
        assert_eq!(attempts_to_drop(10, 10), None);
        assert_eq!(attempts_to_drop(11, 10), Some((2, 2)));
        assert_eq!(attempts_to_drop(16, 10), Some((2, 7)));
        // After dropping, attempts 1 and 8..=16 remain: ten of them.
        let kept: Vec<i64> = (1..=16).filter(|n| !(2..=7).contains(n)).collect();
        assert_eq!(kept.len(), 10);
        assert_eq!(attempts_to_drop(5, 1), None);
    }
}
