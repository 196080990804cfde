//! The tenant object's enrichment entry points: the job listing (`GET …/{provider}/jobs`),
//! the reads after an order's answer, and the alarm's sweep of unfinished runs.

use super::*;

impl Tenant {
    /// `GET /v1/tenants/{t}/{provider}/jobs?status=&cursor=` (README "Order enrichment"): one
    /// page of the customer's jobs through the provider's read API.
    pub(in crate::tenant) async fn list_jobs(
        &self,
        provider: Provider,
        call: &TenantRequest,
    ) -> ApiResult<Response> {
        self.load_config()?;
        let api = provider.spec().read_api.ok_or_else(|| {
            let with: Vec<&str> = Provider::all()
                .filter(|p| p.spec().read_api.is_some())
                .map(|p| p.as_str())
                .collect();
            ApiError::new(
                404,
                "read_api_not_available",
                format!(
                    "The bridge reads no jobs from {}; it does from: {}.",
                    provider.spec().title,
                    with.join(", ")
                ),
            )
        })?;
        let creds = self.credentials().await?.source(provider);
        let insecure = self.config().allow_insecure;
        let query = crate::admin::query::pairs(call.query.as_deref());
        let url = (api.jobs_request)(&creds, &query, insecure)?;
        if (api.token_request)(&creds, insecure).is_none() {
            return Err(ApiError::new(
                422,
                "read_api_not_configured",
                format!(
                    "{}'s read API is not configured for this tenant: {}",
                    provider.spec().title,
                    api.not_configured
                ),
            ));
        }
        let state = self.read_state.clone();
        let refused = |why: String| ApiError::new(502, "read_api_refused", format!("{why}."));
        let mut tok = token(&state, api, &creds, insecure, false)
            .await
            .map_err(refused)?;
        let read = Read { url, cache_ms: 0 };
        let mut a = get(&state, &tok, &read).await;
        if after_answer(&a, false, now(), now()) == Next::RefreshToken {
            tok = token(&state, api, &creds, insecure, true)
                .await
                .map_err(refused)?;
            a = get(&state, &tok, &read).await;
        }
        if a.status == Some(429) {
            let secs = a
                .retry_after
                .as_deref()
                .and_then(|v| retry_after_ms(v, now()))
                .map(|ms| (ms + 999) / 1000)
                .unwrap_or(1);
            let e = ApiError::new(
                503,
                "rate_limited",
                format!(
                    "{} is rate limiting this tenant's reads; try again in {secs} s.",
                    provider.spec().title
                ),
            );
            return Ok(http::with_header(
                http::error(&e),
                "retry-after",
                &secs.to_string(),
            ));
        }
        Ok(http::json(200, &(api.jobs_page)(&a)?))
    }

    /// After an order with enrichment is committed (held `record.new`, `enrichments` row):
    /// start the reads after the answer.
    pub(in crate::tenant) fn enrich_after_answer(
        &self,
        e: Enrichment,
        run: Box<dyn EnrichRun>,
        deadline: i64,
    ) {
        self.state.wait_until(e.run(run, deadline));
    }

    /// The alarm's part: run again the reads of enrichments left `running` with no live task
    /// (the object restarted), or complete them as `failed` after `MAX_RUNS`. Returns when
    /// the alarm should look again (None: nothing running).
    pub(in crate::tenant) async fn enrich_sweep(&self) -> ApiResult<Option<i64>> {
        let sql = self.sql();
        let t = now();
        let rows: Vec<Row> = sql
            .exec(
                "SELECT assessment_id, provider, event_id, runs, created_at FROM enrichments WHERE state = 'running' ORDER BY created_at LIMIT 20",
                None,
            )
            .and_then(|c| c.to_array())
            .context("running enrichments")?;
        let mut next: Option<i64> = None;
        for row in rows {
            let live = self
                .read_state
                .borrow()
                .live
                .contains_key(&row.assessment_id);
            if !resume_due(row.created_at, t, live) {
                let at = if live {
                    t + RESUME_AFTER_MS
                } else {
                    row.created_at + RESUME_AFTER_MS
                };
                next = Some(next.map_or(at, |n| n.min(at)));
                continue;
            }
            let Some(provider) = Provider::parse(&row.provider) else {
                mark_done(&sql, &row.assessment_id)?;
                continue;
            };
            let Some(api) = provider.spec().read_api else {
                mark_done(&sql, &row.assessment_id)?;
                continue;
            };
            let Some(a) = assessments::get(&sql, &row.assessment_id)? else {
                mark_done(&sql, &row.assessment_id)?;
                continue;
            };
            let record = a.record()?;
            sql.exec(
                "UPDATE enrichments SET runs = runs + 1, created_at = ?, updated_at = ? WHERE assessment_id = ?",
                vec![V::Integer(t), V::Integer(t), row.assessment_id.clone().into()],
            )
            .context("count enrichment run")?;
            let creds = self.credentials().await?.source(provider);
            let insecure = self.config().allow_insecure;
            let e = Enrichment {
                sql: self.sql(),
                outbox: self.outbox()?,
                state: self.read_state.clone(),
                api,
                credentials: creds.clone(),
                allow_insecure: insecure,
                secrets: self.load_secrets(&self.load_config()?.id).await?,
                assessment_id: row.assessment_id.clone(),
                event_id: row.event_id.clone(),
            };
            let Some(mut run) = (api.enrich)(&record, &creds, insecure) else {
                // Credentials removed since the order: complete it as it is.
                e.finish(Enriched {
                    enrichment: record.enrichment.clone().unwrap_or_default(),
                    ..Default::default()
                })
                .await;
                continue;
            };
            if row.runs >= MAX_RUNS {
                run.give_up(&format!(
                    "the reads were interrupted {} times (the bridge restarted)",
                    row.runs
                ));
            } else {
                let registration = self.read_state.borrow_mut().begin(&row.assessment_id);
                // Aborted by an erasure of the assessment (README "Personal data").
                let _ =
                    Abortable::new(e.reads(&mut *run, now() + READS_BUDGET_MS), registration).await;
                self.read_state.borrow_mut().end(&row.assessment_id);
            }
            e.finish(run.outcome(true)).await;
        }
        Ok(next)
    }
}
