//! The one delivery engine of the tenant object (README "Webhooks you receive", "Results back
//! to the ATS"). Webhook deliveries (`tenant/outbox/`: the tenant's `webhook` and its extra
//! endpoints) and outbound provider calls (`tenant/provider_calls/`) are all *deliveries*:
//! rows with the same scheduling columns, the same states (`delivery::state::State`), one
//! lease/enqueue/sweep ([`leases`]) and one attempt path, here:
//!
//! ```text
//! load ──► gate (state::gate) ──► claim (lease) ──► send ──► judge ──► write (state::write)
//!                                                                      └─► show (the channel)
//!                                                                      └─► enqueue what is due
//! ```
//!
//! What differs between them is a [`Channel`]: what is sent (a signed event, an ATS call),
//! how its answer is judged (`attempt::classify`, or the provider's `Spec::call_answer`),
//! and where the outcome is shown (the attempt log and the record's next event, or the
//! assessment's `providerSync`).

pub(crate) mod leases;

use crate::delivery::state::{self, Current, Gate, Transition};
use crate::delivery::QueueMsg;
use crate::error::ApiResult;
use crate::tenant::now;
use leases::{Route, Scheduled};

/// A message to put on `DELIVERIES` after the attempt's write: (delivery id, attempt number,
/// due at ms).
pub(crate) type Enqueue = (String, i64, i64);

/// One kind of delivery, as the engine drives it.
pub(crate) trait Channel {
    /// A delivery loaded for an attempt (its row and what sending it needs).
    type Item;
    /// What an attempt came to: the wire result and the channel's reading of it.
    type Sent;

    /// The table its deliveries are kept in, and their queue message kind.
    fn scheduled(&self) -> Scheduled<'_>;

    /// Load delivery `id` with everything its gate and its send need (None: gone).
    fn load(&self, id: &str) -> ApiResult<Option<Self::Item>>;

    /// The gate's view of a loaded delivery.
    fn current<'a>(&self, item: &'a Self::Item) -> Current<'a>;

    /// Its `next_attempt_at` (ms; None while held) and the retries made in this cycle.
    fn due(&self, item: &Self::Item) -> (Option<i64>, i64);

    /// Send attempt `n` (already claimed). Never fails: a failure is what it came to.
    async fn send(&self, item: &Self::Item, n: i64) -> Self::Sent;

    /// How the answer is judged at `t1` (ms): the transition, and the error or note the row
    /// shows (`last_error`).
    fn judge(
        &self,
        item: &Self::Item,
        sent: &Self::Sent,
        t1: i64,
    ) -> ApiResult<(Transition, Option<String>)>;

    /// Where the outcome is shown: the attempt's record and anything the transition does
    /// beyond the row (an endpoint disabled, a held delivery released). Runs right after the
    /// row's write, in the same synchronous block. Returns further messages to enqueue.
    fn show(
        &self,
        item: &Self::Item,
        n: i64,
        t0: i64,
        sent: &Self::Sent,
        transition: &Transition,
        t1: i64,
    ) -> ApiResult<Vec<Enqueue>>;

    /// What a delivery held behind `behind` (its record's head, by delivery id; for a provider
    /// call, the earliest pending call of its assessment) shows as `lastError`: by default the
    /// head as it is named.
    fn waiting_note(&self, _item: &Self::Item, behind: &str) -> String {
        waiting_note(behind, None)
    }
}

/// What an attempt that could not be made is logged as.
fn not_made<C: Channel>(ch: &C, id: &str, e: &crate::error::ApiError) {
    worker::console_error!("{}: attempt for {id} not made: {e}", ch.scheduled().table);
}

/// Make one attempt of delivery `id` if it is still due. `expected_n` (from a queue message)
/// must match the next attempt number, so duplicate or stale messages are dropped.
pub(crate) async fn attempt<C: Channel>(ch: &C, id: &str, expected_n: Option<i64>) {
    let run = async {
        match ch.load(id)? {
            Some(item) => gate_and_send(ch, id, &item, expected_n).await,
            None => Ok(()),
        }
    };
    if let Err(e) = run.await {
        not_made(ch, id, &e);
    }
}

/// A queue message arrived: attempt if it is the due, current copy (a message that arrives
/// early is put back; stale and duplicate copies are dropped).
pub(crate) async fn on_message<C: Channel>(ch: &C, msg: &QueueMsg) -> ApiResult<()> {
    let Some(item) = ch.load(&msg.id)? else {
        return Ok(());
    };
    let current = ch.current(&item);
    let (next_attempt_at, _) = ch.due(&item);
    let route = ch
        .scheduled()
        .route(msg, current.state, current.attempt_count, next_attempt_at)
        .await;
    if let Route::Attempt(n) = route {
        // Nothing awaited since the load when the message is due: the row is as read.
        if let Err(e) = gate_and_send(ch, &msg.id, &item, Some(n)).await {
            not_made(ch, &msg.id, &e);
        }
    }
    Ok(())
}

async fn gate_and_send<C: Channel>(
    ch: &C,
    id: &str,
    item: &C::Item,
    expected_n: Option<i64>,
) -> ApiResult<()> {
    let t0 = now();
    let current = ch.current(item);
    match state::gate(&current, expected_n, t0) {
        // Parked: stays pending until the endpoint's URL is PATCHed (re-enabled).
        Gate::Skip | Gate::Parked => Ok(()),
        // An earlier delivery of the record is pending at this endpoint (e.g. a replay), or an
        // earlier call of the assessment: wait for it; its end releases this one.
        Gate::Hold { behind } => ch.scheduled().hold(id, &ch.waiting_note(item, &behind)),
        Gate::Go => {
            let n = ch.scheduled().claim(id, current.attempt_count, t0)?;
            send_claimed(ch, id, item, n).await
        }
    }
}

/// Send attempt `n` of a delivery whose lease is already taken (by [`attempt`], or in the
/// insert that stored it), then record it: the row's transition, what the channel shows,
/// and the queue messages that follow — written with no await in between, sent after. A
/// delivery its end released is attempted right after, from here, not through the queue.
pub(crate) async fn send_claimed<C: Channel>(
    ch: &C,
    id: &str,
    item: &C::Item,
    n: i64,
) -> ApiResult<()> {
    let t0 = now();
    let sent = ch.send(item, n).await;
    let t1 = now();
    let (transition, error) = ch.judge(item, &sent, t1)?;
    let scheduled = ch.scheduled();
    scheduled.write(id, &state::write(&transition, error, t1))?;
    let mut enqueue = ch.show(item, n, t0, &sent, &transition, t1)?;
    match transition {
        Transition::RetryAt(when) => enqueue.insert(0, (id.to_string(), n + 1, when)),
        Transition::Retarget => enqueue.insert(0, (id.to_string(), n + 1, t1)),
        _ => {}
    }
    for (next, next_n, when) in enqueue {
        if next != id && when <= t1 {
            // A delivery this one's end released (the next of its record or assessment): its
            // attempt goes from here at once. A queue message would wait out the consumer's
            // batch window (`max_batch_timeout`) for every link of a chain; if this object
            // goes away first, the row is pending and due, and the sweep sends it.
            Box::pin(attempt(ch, &next, Some(next_n))).await;
        } else {
            scheduled.enqueue(&next, next_n, when, t1).await;
        }
    }
    Ok(())
}

/// What a held delivery shows as `lastError` while an earlier one of its record is pending
/// (README "Order per record"): the earlier event (`evt_…`), and at an extra endpoint that
/// endpoint (`we_…`), never a delivery id.
pub(crate) fn waiting_note(earlier_event: &str, endpoint: Option<&str>) -> String {
    match endpoint {
        None => format!(
            "waiting for {earlier_event}, an earlier event of the same record, to be delivered or fail"
        ),
        Some(ep) => format!(
            "waiting for {earlier_event}, an earlier event of the same record, to be delivered to endpoint {ep} or fail"
        ),
    }
}
