//! The pure rules of enrichment (README "Order enrichment"): the reads' budget, when a cached
//! token may be used, what to do after an answer (401 refresh, `Retry-After`), when the alarm
//! resumes a run. Host-tested.

use super::*;

/// All reads of one order, retries and `Retry-After` waits included, end within this: 20 s.
pub const READS_BUDGET_MS: i64 = 20_000;
/// A cached token is not used in its last minute.
pub const TOKEN_MARGIN_MS: i64 = 60_000;
/// A `running` enrichment no live task owns is run again by the alarm this long after the
/// order (longer than `READS_BUDGET_MS`, so a live run has ended by then): 30 s.
pub const RESUME_AFTER_MS: i64 = 30_000;
/// Runs of one order's reads before the record is completed as `failed`.
pub const MAX_RUNS: i64 = 3;

/// Whether a token that expires at `expires_at` may still be sent at `now` (ms).
pub fn token_usable(expires_at: i64, now: i64) -> bool {
    now + TOKEN_MARGIN_MS < expires_at
}

/// What to do after a read's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Hand the answer to the provider.
    Take,
    /// 401: get a new token and read again (once per run).
    RefreshToken,
    /// 429 (or 503) with a `Retry-After` that ends before the budget: wait this long, read again.
    Wait(i64),
}

/// The decision after an answer at `now`, given whether the token was already refreshed and
/// when the reads' budget ends. A 429 without `Retry-After` waits 1 s.
pub fn after_answer(a: &ReadAnswer, refreshed: bool, now: i64, budget_end: i64) -> Next {
    match a.status {
        Some(401) if !refreshed => Next::RefreshToken,
        Some(429 | 503) => {
            let wait = a
                .retry_after
                .as_deref()
                .and_then(|v| retry_after_ms(v, now))
                .unwrap_or(1_000);
            if now + wait < budget_end {
                Next::Wait(wait)
            } else {
                Next::Take
            }
        }
        _ => Next::Take,
    }
}

/// Whether the alarm should run an enrichment's reads again: still `running`, old enough that
/// a live run would have ended, and no task of this instance owns it.
pub fn resume_due(created_at: i64, now: i64, live: bool) -> bool {
    !live && created_at + RESUME_AFTER_MS <= now
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ENRICH_BUDGET_MS;

    fn answer(status: u16, retry_after: Option<&str>) -> ReadAnswer {
        ReadAnswer {
            status: Some(status),
            retry_after: retry_after.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn tokens_are_used_until_a_minute_before_expiry() {
        assert!(token_usable(100_000, 0));
        assert!(token_usable(100_000, 100_000 - TOKEN_MARGIN_MS - 1));
        assert!(!token_usable(100_000, 100_000 - TOKEN_MARGIN_MS));
        assert!(!token_usable(100_000, 200_000));
    }

    #[test]
    fn a_401_refreshes_the_token_once() {
        assert_eq!(
            after_answer(&answer(401, None), false, 0, 10_000),
            Next::RefreshToken
        );
        assert_eq!(
            after_answer(&answer(401, None), true, 0, 10_000),
            Next::Take
        );
        assert_eq!(
            after_answer(&answer(200, None), false, 0, 10_000),
            Next::Take
        );
        assert_eq!(
            after_answer(&answer(403, None), false, 0, 10_000),
            Next::Take
        );
    }

    #[test]
    fn retry_after_is_honoured_within_the_budget() {
        assert_eq!(
            after_answer(&answer(429, Some("2")), false, 0, 10_000),
            Next::Wait(2_000)
        );
        assert_eq!(
            after_answer(&answer(429, None), false, 0, 10_000),
            Next::Wait(1_000)
        );
        assert_eq!(
            after_answer(&answer(503, Some("1")), false, 0, 10_000),
            Next::Wait(1_000)
        );
        // Past the budget: the provider gets the 429 and names it.
        assert_eq!(
            after_answer(&answer(429, Some("120")), false, 0, 10_000),
            Next::Take
        );
        assert_eq!(
            after_answer(&answer(429, Some("9")), false, 1_000, 10_000),
            Next::Take
        );
        let date = "Wed, 02 Dec 2026 10:00:05 GMT";
        let at = 1_796_205_600_000; // 2026-12-02T10:00:00Z
        assert_eq!(
            after_answer(&answer(429, Some(date)), false, at, at + 10_000),
            Next::Wait(5_000)
        );
    }

    #[test]
    fn only_orphaned_old_enrichments_are_resumed() {
        assert!(!resume_due(0, RESUME_AFTER_MS - 1, false));
        assert!(resume_due(0, RESUME_AFTER_MS, false));
        assert!(
            !resume_due(0, RESUME_AFTER_MS * 10, true),
            "a live task owns it"
        );
        const { assert!(READS_BUDGET_MS < RESUME_AFTER_MS) };
        const { assert!(ENRICH_BUDGET_MS < READS_BUDGET_MS) };
    }
}
