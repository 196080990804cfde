//! The Greenhouse job listing through Harvest (`GET /v1/tenants/{t}/greenhouse/jobs`, README
//! "Order enrichment"): the listing URL, the `Link` header's next cursor, one page.

use super::*;

/// `GET /v1/tenants/{t}/greenhouse/jobs?status=&cursor=` → the Harvest listing URL: the first
/// page `jobs?per_page=100[&status=open|closed|draft]`, a later one `jobs?cursor=…` alone.
pub(super) fn jobs_request(
    c: &CredentialSource,
    query: &[(String, String)],
    insecure: bool,
) -> ApiResult<String> {
    let get = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let base = setting_url(c, API_BASE_SETTING, DEFAULT_API_BASE, insecure)?;
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(cursor) = get("cursor") {
        if cursor.len() > 2048
            || !cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~=+/%".contains(&b))
        {
            return Err(ApiError::invalid_field(
                "cursor",
                "must be a next_cursor value from an earlier page",
            ));
        }
        q.append_pair("cursor", cursor);
    } else {
        q.append_pair("per_page", &JOBS_PER_PAGE.to_string());
        match get("status") {
            None => {}
            Some(s @ ("open" | "closed" | "draft")) => {
                q.append_pair("status", s);
            }
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "status",
                    "must be open, closed or draft",
                ))
            }
        }
    }
    Ok(format!("{base}/{JOBS}?{}", q.finish()))
}

/// The `cursor` of the `Link` header's `rel="next"` URL.
pub fn next_cursor(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        if !params
            .split(';')
            .any(|p| p.trim().trim_start_matches("rel=").trim_matches('"') == "next")
        {
            return None;
        }
        let url = url.trim().trim_start_matches('<').trim_end_matches('>');
        let u = crate::weburl::WebUrl::parse(url)?;
        let found = u
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned());
        found
    })
}

/// One page of jobs → `{"data": [{id, name, requisitionId, status, departments[], offices[]}],
/// "next_cursor"}`; Harvest's refusals become 502s naming the scope or the credentials.
pub(super) fn jobs_page(a: &ReadAnswer) -> ApiResult<Value> {
    if !matches!(a.status, Some(200..=299)) {
        return Err(ApiError::new(
            502,
            "harvest_refused",
            format!("{}.", read_failure("jobs", JOBS, a)),
        ));
    }
    let list = items(&a.body).ok_or_else(|| {
        ApiError::upstream(
            "Harvest v3 answered the job listing with something other than a list of jobs.",
        )
    })?;
    let names = |j: &Value, k: &str| -> Vec<Value> {
        j.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| text(d, "name"))
                    .map(Value::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let data: Vec<Value> = list
        .iter()
        .map(|j| {
            json!({
                "id": id_of(j),
                "name": text(j, "name"),
                "requisitionId": text(j, "requisition_id"),
                "status": text(j, "status"),
                "departments": names(j, "departments"),
                "offices": names(j, "offices"),
            })
        })
        .collect();
    Ok(json!({
        "data": data,
        "next_cursor": a.link.as_deref().and_then(next_cursor),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn job_listing_requests_and_pages() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            jobs_request(&full(), &q(&[("status", "open")]), true).unwrap(),
            "http://127.0.0.1:9/v3/jobs?per_page=100&status=open"
        );
        assert_eq!(
            jobs_request(&full(), &q(&[("status", "open"), ("cursor", "abc=")]), true).unwrap(),
            "http://127.0.0.1:9/v3/jobs?cursor=abc%3D"
        );
        for bad in [q(&[("status", "opened")]), q(&[("cursor", "a b")])] {
            assert_eq!(jobs_request(&full(), &bad, true).unwrap_err().status, 422);
        }
        let page = jobs_page(&ReadAnswer {
            link: Some(r#"<https://api.greenhouse.io/v3/jobs?cursor=n3xt>; rel="next", <https://api.greenhouse.io/v3/jobs?cursor=pr3v>; rel="prev""#.into()),
            ..ok(job())
        })
        .unwrap();
        assert_eq!(page["next_cursor"], "n3xt");
        assert_eq!(
            page["data"],
            json!([{"id": "501", "name": "Backend Engineer", "requisitionId": "REQ-7",
            "status": null, "departments": ["Engineering"], "offices": ["Berlin"]}])
        );
        assert!(jobs_page(&ok(json!([]))).unwrap()["next_cursor"].is_null());
        let e = jobs_page(&status(403)).unwrap_err();
        assert_eq!((e.status, e.code), (502, "harvest_refused"));
        assert!(e.message.contains("harvest:jobs:list"), "{}", e.message);
        assert_eq!(
            next_cursor(r#"<https://x.example/jobs?cursor=a>; rel="prev""#),
            None
        );
    }

    proptest::proptest! {
        #[test]
        fn answers_never_panic(body in ".{0,200}", s in 0u16..600) {
            let mut run = enrich(&record(Some("77"), Some("a@b.c")), &full(), true).unwrap();
            while run.next().is_some() {
                run.answer(&ReadAnswer { status: Some(s), body: body.clone(), ..Default::default() });
            }
            let _ = run.outcome(true);
            let _ = token_answer(Some(s), &body);
            let _ = jobs_page(&ReadAnswer { status: Some(s), body: body.clone(), link: Some(body.clone()), ..Default::default() });
            let _ = next_cursor(&body);
        }
    }
}
