//! How an ATS's answer to an outbound provider call is read (README "Results back to the
//! ATS"): each provider judges its own answers (`Spec::call_answer`), with the plain HTTP
//! reading as the default; and the next step of a call from that judgement.

use super::attempt::{classify, snippet, AttemptResult, Next};

/// An HTTP status a provider call may retry on (README "Results back to the ATS"): 429 and 5xx.
/// Network errors and timeouts retry too; any other answer is the provider's to judge (see
/// `ProviderAnswer`).
pub fn is_transient_status(status: u16) -> bool {
    status == 429 || status >= 500
}

/// What an ATS's answer to an outbound result call means. Each provider decides this for its
/// own answers (README "Results back to the ATS": a body that is not what that ATS sends on
/// success is not a success), in a pure function in its file, named by its `Spec::call_answer`.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderAnswer {
    /// The ATS took the update; `warnings` it attached are kept on the assessment's sync state.
    Accepted { warnings: Vec<String> },
    /// Worth another attempt on the retry schedule (429, 5xx).
    Transient(ProviderFault),
    /// Refused for good: not retried, shown on the assessment.
    Refused(ProviderFault),
}

/// The plain HTTP reading of an answer, for ATSs whose answer is only a status code (a
/// completion callback) and as the fallback for answers an ATS's own format does not
/// explain: 2xx accepted, 429/5xx transient, anything else (3xx included) refused.
pub fn answer_from_status(status: u16, body: &str) -> ProviderAnswer {
    let fault = || ProviderFault {
        code: None,
        message: match snippet(body.trim()) {
            b if b.is_empty() => format!("HTTP {status}"),
            b => format!("HTTP {status}: {b}"),
        },
        request_id: None,
    };
    match status {
        200..=299 => ProviderAnswer::Accepted { warnings: vec![] },
        s if is_transient_status(s) => ProviderAnswer::Transient(fault()),
        _ => ProviderAnswer::Refused(fault()),
    }
}

/// `answer_from_status` in the shape of `Spec::call_answer`, for ATSs whose answer is only
/// its status code.
pub fn answer_by_status(status: u16, body: &str, _complete: bool) -> ProviderAnswer {
    answer_from_status(status, body)
}

/// The next step of a provider call: `answer` is the provider's reading of the HTTP answer
/// (None when none arrived: network error or timeout, retried). Transient failures follow the
/// retry schedule (and `Retry-After`) until it is exhausted; refusals are final.
pub fn classify_provider_call(
    r: &AttemptResult,
    answer: Option<&ProviderAnswer>,
    schedule_secs: &[u32],
    retries_done: usize,
    now_ms: i64,
    unit: f64,
) -> Next {
    match answer {
        Some(ProviderAnswer::Accepted { .. }) => Next::Delivered,
        Some(ProviderAnswer::Refused(_)) => Next::Failed,
        Some(ProviderAnswer::Transient(_)) | None => {
            // `classify` treats a 2xx as delivered; a transient answer never is.
            let as_failure = AttemptResult {
                status: r.status.filter(|s| !(200..300).contains(s)),
                ..r.clone()
            };
            match classify(&as_failure, schedule_secs, retries_done, now_ms, unit) {
                Next::Delivered | Next::Disable => Next::Failed,
                n => n,
            }
        }
    }
}

/// An ATS's account of a failed call: its own code, message and request id when it sent them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderFault {
    /// The ATS's error code (e.g. `errorInfo.code` in an answer envelope).
    pub code: Option<String>,
    /// A human sentence: the ATS's message, or what was wrong with its answer.
    pub message: String,
    /// The ATS's request id (e.g. `errorInfo.requestId`), for its support desk.
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::attempt::tests::res;

    #[test]
    fn provider_call_classification() {
        let s = [10u32];
        let c = |st: Option<u16>| {
            let answer = st.map(|s| answer_from_status(s, ""));
            classify_provider_call(&res(st, None), answer.as_ref(), &s, 0, 0, 0.5)
        };
        assert_eq!(c(Some(204)), Next::Delivered);
        assert_eq!(c(Some(500)), Next::RetryAt(10_000));
        assert_eq!(c(Some(429)), Next::RetryAt(10_000));
        assert_eq!(c(None), Next::RetryAt(10_000));
        assert_eq!(c(Some(401)), Next::Failed);
        assert_eq!(c(Some(403)), Next::Failed);
        assert_eq!(c(Some(404)), Next::Failed);
        assert_eq!(c(Some(410)), Next::Failed);
        assert_eq!(c(Some(302)), Next::Failed, "redirects are not followed");
        assert_eq!(
            classify_provider_call(
                &res(Some(503), None),
                Some(&answer_from_status(503, "")),
                &s,
                1,
                0,
                0.5
            ),
            Next::Failed
        );
        // The provider's reading wins over the status: a 200 it refuses is final, a 200 it
        // calls transient is retried, and Retry-After still stretches the wait.
        let refused = ProviderAnswer::Refused(ProviderFault::default());
        assert_eq!(
            classify_provider_call(&res(Some(200), None), Some(&refused), &s, 0, 0, 0.5),
            Next::Failed
        );
        let transient = ProviderAnswer::Transient(ProviderFault::default());
        assert_eq!(
            classify_provider_call(&res(Some(200), None), Some(&transient), &s, 0, 0, 0.5),
            Next::RetryAt(10_000)
        );
        assert_eq!(
            classify_provider_call(&res(Some(429), Some("60")), Some(&transient), &s, 0, 0, 0.5),
            Next::RetryAt(60_000)
        );
    }

    #[test]
    fn status_answers() {
        assert_eq!(
            answer_from_status(204, ""),
            ProviderAnswer::Accepted { warnings: vec![] }
        );
        match answer_from_status(403, "nope") {
            ProviderAnswer::Refused(f) => assert_eq!(f.message, "HTTP 403: nope"),
            other => panic!("{other:?}"),
        }
        match answer_from_status(502, "") {
            ProviderAnswer::Transient(f) => assert_eq!(f.message, "HTTP 502"),
            other => panic!("{other:?}"),
        }
        // What the record keeps is cut; the body itself is not.
        let long = "x".repeat(5000);
        match answer_from_status(400, &long) {
            ProviderAnswer::Refused(f) => assert!(f.message.len() < 2100),
            other => panic!("{other:?}"),
        }
    }
}
