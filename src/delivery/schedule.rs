//! When the next delivery attempt happens: the retry schedule (README "Webhooks you receive"),
//! jitter and `Retry-After`. Pure functions of their inputs; the caller supplies time and
//! randomness.

/// Default seconds between attempts (≈ 4 days in all).
pub const DEFAULT_SCHEDULE: [u32; 15] = [
    5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 43200, 43200, 43200, 43200, 43200,
];

/// `Retry-After` is honoured up to this many seconds (docs/contract.md "Delivery": 12 h).
pub const MAX_RETRY_AFTER_SECS: u64 = 12 * 3600;

/// Parse `RETRY_SCHEDULE` ("5,30,120"). Empty/unset → the default. Entries must be whole
/// seconds; a malformed value is an operator error, reported rather than silently ignored.
pub fn parse_schedule(raw: Option<&str>) -> Result<Vec<u32>, String> {
    let raw = raw.map(str::trim).unwrap_or("");
    if raw.is_empty() {
        return Ok(DEFAULT_SCHEDULE.to_vec());
    }
    raw.split(',')
        .map(|p| {
            let p = p.trim();
            p.parse::<u32>()
                .ok()
                .filter(|s| *s <= 7 * 86_400)
                .ok_or_else(|| format!("RETRY_SCHEDULE entry `{p}` is not a number of seconds"))
        })
        .collect()
}

/// Delay before retry number `retry` (1-based: the retry after the first attempt is 1), with
/// ±20 % jitter from `unit` ∈ [0,1). None once the schedule is exhausted.
pub fn retry_delay_ms(schedule: &[u32], retry: usize, unit: f64) -> Option<i64> {
    let base = *schedule.get(retry.checked_sub(1)?)? as f64 * 1000.0;
    let factor = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    Some((base * factor).round() as i64)
}

/// Parse `Retry-After` as delta-seconds or an HTTP date, relative to `now_ms`; capped at 12 h.
pub fn retry_after_ms(value: &str, now_ms: i64) -> Option<i64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some((secs.min(MAX_RETRY_AFTER_SECS) * 1000) as i64);
    }
    let at = parse_http_date(v)?;
    Some((at - now_ms).clamp(0, MAX_RETRY_AFTER_SECS as i64 * 1000))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) → epoch ms.
fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == parts[2])? + 1;
    let iso = format!(
        "{}-{:02}-{:02}T{}Z",
        parts[3],
        month,
        parts[1].parse::<u32>().ok()?,
        parts[4]
    );
    crate::model::parse_rfc3339(&iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_parsing() {
        assert_eq!(parse_schedule(None).unwrap(), DEFAULT_SCHEDULE.to_vec());
        assert_eq!(
            parse_schedule(Some(" ")).unwrap(),
            DEFAULT_SCHEDULE.to_vec()
        );
        assert_eq!(parse_schedule(Some("1, 2,3")).unwrap(), vec![1, 2, 3]);
        assert!(parse_schedule(Some("1,x")).is_err());
        assert!(parse_schedule(Some("-1")).is_err());
        let total: u32 = DEFAULT_SCHEDULE.iter().sum();
        assert!((3 * 86_400..5 * 86_400).contains(&total), "≈ 4 days");
    }

    #[test]
    fn jitter_bounds() {
        let s = [10u32, 20];
        assert_eq!(retry_delay_ms(&s, 1, 0.0), Some(8_000));
        assert_eq!(retry_delay_ms(&s, 1, 0.5), Some(10_000));
        assert_eq!(retry_delay_ms(&s, 1, 1.0), Some(12_000));
        assert_eq!(retry_delay_ms(&s, 2, 0.5), Some(20_000));
        assert_eq!(retry_delay_ms(&s, 3, 0.5), None);
        assert_eq!(retry_delay_ms(&s, 0, 0.5), None);
    }

    #[test]
    fn retry_after() {
        assert_eq!(retry_after_ms("7", 0), Some(7_000));
        assert_eq!(retry_after_ms("999999", 0), Some(12 * 3600 * 1000));
        let now = crate::model::parse_rfc3339("1994-11-06T08:49:30Z").unwrap();
        assert_eq!(
            retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(7_000)
        );
        assert_eq!(retry_after_ms("soon", 0), None);
    }
}
