//! The alarm's retention pass (README "Personal data"): purge what fell due, in bounded
//! batches, with the same erasure of each assessment as a request's.

use super::*;

impl Tenant {
    /// One retention pass (from the alarm): purge up to [`PURGE_BATCH`] final assessments
    /// whose final state is older than the tenant's `retention_days`, and as many delivered
    /// events' bodies. Returns when the alarm should run again for retention (at once while a
    /// batch came back full; else when the oldest remaining item falls due), or None.
    pub(in crate::tenant) fn retention_pass(&self) -> ApiResult<Option<i64>> {
        let cfg = self.load_config()?;
        let day_ms = privacy::retention_day_ms(
            self.config().test_only_retention_day_ms,
            self.config().allow_insecure,
        );
        let t = now();
        let Some(cutoff) = privacy::retention_cutoff(t, cfg.retention_days, day_ms) else {
            return Ok(None);
        };
        let sql = self.sql();
        let finals = final_statuses();
        let due: Vec<Candidate> = sql
            .exec(
                &format!("SELECT {CANDIDATE_COLS} FROM assessments WHERE status IN ({finals}) AND final_at < ? AND json_extract(record, '$.personalDataErased') IS NULL ORDER BY final_at LIMIT ?"),
                vec![V::Integer(cutoff), V::Integer(PURGE_BATCH as i64)],
            )
            .and_then(|c| c.to_array())
            .context("retention candidates")?;
        let mut counts = Counts::default();
        for a in &due {
            counts.add(erase_assessment(&sql, a, Reason::Retention, t)?);
            self.read_state.borrow_mut().stop(&a.id);
        }
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        let old_events: Vec<Id> = sql
            .exec(
                // Only once no endpoint still has it pending (README "Webhook endpoints").
                "SELECT id FROM events WHERE state = 'delivered' AND delivered_at < ? AND body != ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.state = 'pending') LIMIT ?",
                vec![V::Integer(cutoff), ERASED_BODY.into(), V::Integer(PURGE_BATCH as i64)],
            )
            .and_then(|c| c.to_array())
            .context("retention events")?;
        for e in &old_events {
            sql.exec(
                "UPDATE events SET body = ? WHERE id = ?",
                vec![ERASED_BODY.into(), e.id.clone().into()],
            )
            .context("purge event")?;
            sql.exec(
                "UPDATE attempts SET response = NULL WHERE event_id = ? OR event_id IN (SELECT id FROM deliveries WHERE event_id = ?)",
                vec![e.id.clone().into(), e.id.clone().into()],
            )
            .context("purge attempts")?;
        }
        if counts.assessments + old_events.len() > 0 {
            worker::console_log!(
                "{}",
                serde_json::json!({
                    "msg": "retention purge",
                    "tenant": cfg.id,
                    "assessments": counts.assessments,
                    "events": counts.events + old_events.len(),
                })
            );
        }
        if due.len() == PURGE_BATCH || old_events.len() == PURGE_BATCH {
            return Ok(Some(t + 1_000));
        }
        #[derive(Deserialize)]
        struct Oldest {
            at: Option<i64>,
        }
        let oldest = |q: &str, args: Vec<V>| -> ApiResult<Option<i64>> {
            sql.exec(q, args)
                .and_then(|c| c.one::<Oldest>())
                .map(|o| o.at)
                .context("retention next")
        };
        let next_final = oldest(
            &format!("SELECT min(final_at) AS at FROM assessments WHERE status IN ({finals}) AND json_extract(record, '$.personalDataErased') IS NULL"),
            vec![],
        )?;
        let next_event = oldest(
            "SELECT min(delivered_at) AS at FROM events WHERE state = 'delivered' AND body != ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.state = 'pending')",
            vec![ERASED_BODY.into()],
        )?;
        Ok(next_final
            .into_iter()
            .chain(next_event)
            .min()
            .and_then(|o| privacy::purge_due_at(o, cfg.retention_days, day_ms))
            // A moment after the item falls due, so the pass finds it past the cutoff.
            .map(|at| at.max(t) + 1_000))
    }
}
