//! The delivery state machine, as pure rules (README "Webhooks you receive", "Webhook
//! endpoints"). A *delivery* is one event on its way to one endpoint: the tenant's `webhook`
//! (its state kept on the `events` row) or one of its extra endpoints (a `deliveries` row).
//! Every delivery goes through the same states and the same attempt path
//! (`tenant/engine/`), which asks these functions what to do:
//!
//! ```text
//!            emit ──► [start] ── Claimed ──► attempt 1 at once
//!                             ── Held    (an earlier event of the record is pending here)
//!                             ── Parked  (the endpoint is disabled by a 410)
//! pending ──[gate]── Go ──► attempt ──[after_attempt]── Delivered ─► delivered (releases next)
//!                                                    ── Failed    ─► failed    (releases next)
//!                                                    ── RetryAt   ─► pending, due later
//!                                                    ── Disable   ─► pending, endpoint disabled
//!                                                    ── Retarget  ─► pending, due now (new URL)
//! delivered / failed ──replay──► pending (fresh retry cycle, same webhook-id)
//! ```
//!
//! Outbound provider calls (README "Results back to the ATS") are deliveries too: the same
//! states, start, gate and transitions, ordered per assessment instead of per record (a call
//! starts `Held` and its gate holds it while an earlier call of its assessment is pending; the
//! end of that one releases it) and with no endpoint to disable (an ATS's answer is judged by
//! its provider, `Spec::call_answer`, so a call never makes `Disable`).
//! [`write`] turns a transition into the columns every delivery table keeps.

use super::attempt::Next;

/// A delivery's state, as every delivery table stores it (`events`, `deliveries`, `calls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for an attempt (due, held, parked, or leased by one in flight).
    Pending,
    /// The endpoint took it (a 2xx, or the ATS accepted the call).
    Delivered,
    /// Given up: a final refusal or the schedule used up (a webhook delivery is replayable).
    Failed,
}

impl State {
    /// The stored and shown name: `pending`, `delivered`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Failed => "failed",
        }
    }

    /// The state a stored name means; anything unknown is `failed` (never attempted again).
    /// `done` is how provider calls spelled `delivered` before schema step 6.
    pub fn parse(s: &str) -> State {
        match s {
            "pending" => State::Pending,
            "delivered" | "done" => State::Delivered,
            _ => State::Failed,
        }
    }
}

/// Where a delivery starts when its event is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Attempt 1 is claimed in the insert and made right after the answer.
    Claimed,
    /// An earlier event of the same record is pending at this endpoint: no due time until
    /// that one is delivered or has failed (README "Order per record", per endpoint).
    Held,
    /// The endpoint is disabled (410): due, not claimed; re-enabling the endpoint sends it.
    Parked,
}

/// Pure rule: how a new delivery starts. Waiting for an earlier event comes first, so a
/// re-enabled endpoint still gets a record's events in order.
pub fn start(endpoint_disabled: bool, earlier_pending: bool) -> Start {
    match (earlier_pending, endpoint_disabled) {
        (true, _) => Start::Held,
        (false, true) => Start::Parked,
        (false, false) => Start::Claimed,
    }
}

/// What a stored delivery looks like to the attempt path.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    /// Its id (event id for the `webhook`, delivery id for an endpoint, call id).
    pub id: &'a str,
    pub state: State,
    pub attempt_count: i64,
    /// Until when an attempt in flight holds it (ms).
    pub lease_until: i64,
    /// Its event's personal data was erased (README "Personal data").
    pub erased: bool,
    /// The earliest pending delivery of its record at the same endpoint, if any.
    pub record_head: Option<&'a str>,
    /// Its endpoint is disabled by a 410.
    pub endpoint_disabled: bool,
}

/// What to do with a delivery about to be attempted (queue message, replay, sweep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Not pending, leased by an attempt in flight, erased, or a stale message: nothing.
    Skip,
    /// An earlier event of its record is pending at this endpoint: clear its due time and
    /// note it waits for `behind`; that one's end releases it.
    Hold { behind: String },
    /// The endpoint is disabled: stays pending until it is re-enabled.
    Parked,
    /// Claim and make attempt `attempt_count + 1`.
    Go,
}

/// Pure rule: gate an attempt. `expected_n` is the attempt number a queue message carries
/// (None for an immediate attempt or a replay).
pub fn gate(d: &Current<'_>, expected_n: Option<i64>, now: i64) -> Gate {
    if d.state != State::Pending || d.lease_until > now || d.erased {
        return Gate::Skip;
    }
    if expected_n.is_some_and(|n| n != d.attempt_count + 1) {
        return Gate::Skip;
    }
    if let Some(head) = d.record_head.filter(|h| *h != d.id) {
        return Gate::Hold {
            behind: head.to_string(),
        };
    }
    if d.endpoint_disabled {
        return Gate::Parked;
    }
    Gate::Go
}

/// What an attempt's outcome does to the delivery (and its endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// 2xx: `delivered`.
    Delivered,
    /// A final 4xx, or the schedule is exhausted: `failed` (replayable).
    Failed,
    /// Retry at this time (ms), through the queue.
    RetryAt(i64),
    /// 410 from the endpoint's current URL: the endpoint is disabled; the delivery stays
    /// pending (due now) until the endpoint is re-enabled.
    Disable,
    /// 410 from a URL the endpoint has replaced since: the new URL is not disabled by it;
    /// try again there now.
    Retarget,
}

impl Transition {
    /// It ends the delivery, so the record's next held delivery at this endpoint goes.
    pub fn releases_next(&self) -> bool {
        matches!(self, Transition::Delivered | Transition::Failed)
    }

    /// The name in logs (`outcome`).
    pub fn outcome(&self) -> &'static str {
        match self {
            Transition::Delivered => "delivered",
            Transition::Failed => "failed",
            Transition::RetryAt(_) => "retry",
            Transition::Disable => "disabled",
            Transition::Retarget => "retarget",
        }
    }
}

/// Pure rule: the transition an attempt's classified outcome makes. `sent_to_current_url`:
/// the endpoint still has the URL the attempt went to.
pub fn after_attempt(next: Next, sent_to_current_url: bool) -> Transition {
    match next {
        Next::Delivered => Transition::Delivered,
        Next::Failed => Transition::Failed,
        Next::RetryAt(at) => Transition::RetryAt(at),
        Next::Disable if sent_to_current_url => Transition::Disable,
        Next::Disable => Transition::Retarget,
    }
}

/// What a transition writes on the delivery's row (one `UPDATE`, in the attempt's write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub state: State,
    /// When the next attempt is due (ms); None once it ended.
    pub next_attempt_at: Option<i64>,
    /// One more retry of this cycle was scheduled (`cycle_retries + 1`).
    pub retried: bool,
    /// Set when it was delivered (ms): webhook deliveries keep it as `delivered_at`.
    pub delivered_at: Option<i64>,
    /// Set when it ended, delivered or failed (ms): provider calls keep it as `done_at`.
    pub ended_at: Option<i64>,
    /// What the row shows as `last_error` (None: cleared).
    pub last_error: Option<String>,
}

/// Pure rule: the row a transition leaves at time `at` (ms). `error` is what went wrong with
/// the attempt (HTTP status or network failure), or the note a `Disable` or `Retarget` shows.
pub fn write(t: &Transition, error: Option<String>, at: i64) -> Write {
    let pending = |next: i64, retried: bool| Write {
        state: State::Pending,
        next_attempt_at: Some(next),
        retried,
        delivered_at: None,
        ended_at: None,
        last_error: error.clone(),
    };
    match t {
        Transition::Delivered => Write {
            state: State::Delivered,
            next_attempt_at: None,
            retried: false,
            delivered_at: Some(at),
            ended_at: Some(at),
            last_error: None,
        },
        Transition::Failed => Write {
            state: State::Failed,
            next_attempt_at: None,
            retried: false,
            delivered_at: None,
            ended_at: Some(at),
            last_error: error.clone(),
        },
        Transition::RetryAt(when) => pending(*when, true),
        // Due now: at the re-enabled endpoint (Disable waits for that) or at its new URL.
        Transition::Disable | Transition::Retarget => pending(at, false),
    }
}

/// Pure rule: does an endpoint whose filter is `event_types` take an event of type `ty`?
/// An empty filter takes every type.
pub fn takes(event_types: &[String], ty: &str) -> bool {
    event_types.is_empty() || event_types.iter().any(|t| t == ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending<'a>() -> Current<'a> {
        Current {
            id: "d1",
            state: State::Pending,
            attempt_count: 1,
            lease_until: 0,
            erased: false,
            record_head: Some("d1"),
            endpoint_disabled: false,
        }
    }

    #[test]
    fn a_delivery_starts_claimed_unless_it_waits_or_its_endpoint_is_disabled() {
        assert_eq!(start(false, false), Start::Claimed);
        assert_eq!(start(true, false), Start::Parked);
        assert_eq!(start(false, true), Start::Held);
        assert_eq!(start(true, true), Start::Held, "order first");
    }

    #[test]
    fn gate_goes_only_for_a_due_unleased_pending_head_at_an_enabled_endpoint() {
        assert_eq!(gate(&pending(), None, 10), Gate::Go);
        assert_eq!(gate(&pending(), Some(2), 10), Gate::Go);
        assert_eq!(gate(&pending(), Some(3), 10), Gate::Skip, "stale message");
        let leased = Current {
            lease_until: 11,
            ..pending()
        };
        assert_eq!(gate(&leased, None, 10), Gate::Skip);
        for state in [State::Delivered, State::Failed] {
            assert_eq!(gate(&Current { state, ..pending() }, None, 10), Gate::Skip);
        }
        let erased = Current {
            erased: true,
            ..pending()
        };
        assert_eq!(gate(&erased, None, 10), Gate::Skip);
        let behind = Current {
            record_head: Some("d0"),
            ..pending()
        };
        assert_eq!(
            gate(&behind, None, 10),
            Gate::Hold {
                behind: "d0".into()
            }
        );
        let disabled = Current {
            endpoint_disabled: true,
            ..pending()
        };
        assert_eq!(gate(&disabled, None, 10), Gate::Parked);
        let no_record = Current {
            record_head: None,
            ..pending()
        };
        assert_eq!(gate(&no_record, None, 10), Gate::Go);
    }

    #[test]
    fn outcomes_map_to_transitions() {
        assert_eq!(after_attempt(Next::Delivered, true), Transition::Delivered);
        assert_eq!(after_attempt(Next::Failed, true), Transition::Failed);
        assert_eq!(
            after_attempt(Next::RetryAt(5), true),
            Transition::RetryAt(5)
        );
        assert_eq!(after_attempt(Next::Disable, true), Transition::Disable);
        assert_eq!(after_attempt(Next::Disable, false), Transition::Retarget);
        assert!(Transition::Delivered.releases_next());
        assert!(Transition::Failed.releases_next());
        for t in [
            Transition::RetryAt(1),
            Transition::Disable,
            Transition::Retarget,
        ] {
            assert!(!t.releases_next(), "{t:?} keeps the delivery pending");
        }
    }

    #[test]
    fn states_have_one_spelling_and_old_call_rows_read() {
        for s in [State::Pending, State::Delivered, State::Failed] {
            assert_eq!(State::parse(s.as_str()), s);
        }
        assert_eq!(
            State::parse("done"),
            State::Delivered,
            "calls before step 6"
        );
        assert_eq!(
            State::parse("garbage"),
            State::Failed,
            "never attempted again"
        );
    }

    #[test]
    fn transitions_write_their_rows() {
        let e = || Some("HTTP 500".to_string());
        let w = write(&Transition::Delivered, e(), 7);
        assert_eq!(w.state, State::Delivered);
        assert_eq!(
            (w.next_attempt_at, w.delivered_at, w.ended_at),
            (None, Some(7), Some(7))
        );
        assert_eq!(w.last_error, None, "a delivery clears the error");
        assert!(!w.retried);
        let w = write(&Transition::Failed, e(), 7);
        assert_eq!(w.state, State::Failed);
        assert_eq!(
            (w.next_attempt_at, w.delivered_at, w.ended_at),
            (None, None, Some(7))
        );
        assert_eq!(w.last_error, e());
        let w = write(&Transition::RetryAt(99), e(), 7);
        assert_eq!(w.state, State::Pending);
        assert_eq!((w.next_attempt_at, w.ended_at), (Some(99), None));
        assert!(w.retried, "a retry counts in the cycle");
        assert_eq!(w.last_error, e());
        for t in [Transition::Disable, Transition::Retarget] {
            let w = write(&t, Some("note".into()), 7);
            assert_eq!(w.state, State::Pending);
            assert_eq!(w.next_attempt_at, Some(7), "{t:?}: due now");
            assert!(!w.retried, "{t:?} is not a retry");
            assert_eq!(w.last_error.as_deref(), Some("note"));
        }
    }

    #[test]
    fn an_empty_filter_takes_everything() {
        assert!(takes(&[], "ping"));
        let only = vec!["record.new".to_string()];
        assert!(takes(&only, "record.new"));
        assert!(!takes(&only, "record.modified"));
    }
}
