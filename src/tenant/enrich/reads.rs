//! The read API's I/O: access tokens (cached until shortly before expiry) and GETs with the
//! bearer token (cacheable answers kept per token and URL).

use super::*;

/// One read (or token request) gives up after this: 10 s.
const READ_TIMEOUT_MS: u64 = 10_000;
/// The read API's answers are read up to this size (a job listing page: 100 jobs).
const READ_CAP: usize = attempt::PROVIDER_READ_CAP;

/// What the tenant object keeps in memory for read APIs: access tokens by credentials digest
/// (`TokenRequest::cache_key`), cacheable answers by token and URL, and the orders a live task
/// is enriching in this instance (with the handle that aborts its reads).
#[derive(Default)]
pub struct ReadState {
    pub(super) tokens: HashMap<String, (String, i64)>,
    pub(super) answers: HashMap<String, (i64, ReadAnswer)>,
    pub(super) live: HashMap<String, AbortHandle>,
}

impl ReadState {
    /// A live task starts reading for assessment `id`: the registration its reads are made
    /// abortable with ([`ReadState::stop`]).
    pub(super) fn begin(&mut self, id: &str) -> AbortRegistration {
        let (handle, registration) = AbortHandle::new_pair();
        self.live.insert(id.to_string(), handle);
        registration
    }

    /// The live task for `id` ended.
    pub(super) fn end(&mut self, id: &str) {
        self.live.remove(id);
    }

    /// Abort the reads of a live task for assessment `id`, if any (its personal data was
    /// erased, README "Personal data"): a read in flight is dropped, no further read is made.
    pub fn stop(&mut self, id: &str) {
        if let Some(h) = self.live.remove(id) {
            h.abort();
        }
    }

    /// Forget every cached answer that carries `email` (lower-cased) in its URL or body, so
    /// no read answer about an erased person is served again.
    pub fn forget_email(&mut self, email: &str) {
        self.answers.retain(|key, (_, a)| {
            !key.to_lowercase().contains(email) && !a.body.to_lowercase().contains(email)
        });
    }
}

/// A token from the cache or the provider's token endpoint.
pub(super) async fn token(
    state: &Rc<RefCell<ReadState>>,
    api: &ReadApi,
    c: &CredentialSource,
    insecure: bool,
    fresh: bool,
) -> Result<String, String> {
    let req = match (api.token_request)(c, insecure) {
        None => return Err("the read API's credentials are not configured".into()),
        Some(Err(e)) => return Err(e.message),
        Some(Ok(r)) => r,
    };
    let t = now();
    if !fresh {
        if let Some((tok, exp)) = state.borrow().tokens.get(&req.cache_key) {
            if token_usable(*exp, t) {
                return Ok(tok.clone());
            }
        }
    }
    let url = crate::targets::check_target(&req.url, insecure)
        .map_err(|why| format!("the token URL {why}"))?;
    let headers = Headers::new();
    let _ = headers.set("authorization", &req.authorization);
    let _ = headers.set("content-type", "application/x-www-form-urlencoded");
    let _ = headers.set("accept", "application/json");
    let _ = headers.set("user-agent", attempt::USER_AGENT);
    let r = attempt::send_with_timeout(
        Method::Post,
        url.as_str(),
        headers,
        Some(req.form),
        READ_TIMEOUT_MS,
        READ_CAP,
    )
    .await;
    let issued = (api.token_answer)(r.status, &r.body)?;
    let mut s = state.borrow_mut();
    s.tokens.insert(
        req.cache_key,
        (issued.access_token.clone(), t + issued.expires_in_ms),
    );
    Ok(issued.access_token)
}

/// Cached answers are per access token: another account's credentials never see them, and
/// none outlives the token it was read with.
fn cache_key(token: &str, url: &str) -> String {
    format!("{}\n{url}", crate::secrets::hash_key(token))
}

/// One GET with the bearer token (from the answer cache when the read allows it).
pub(super) async fn get(state: &Rc<RefCell<ReadState>>, token: &str, read: &Read) -> ReadAnswer {
    let t = now();
    if read.cache_ms > 0 {
        if let Some((until, a)) = state.borrow().answers.get(&cache_key(token, &read.url)) {
            if *until > t {
                return a.clone();
            }
        }
    }
    let headers = Headers::new();
    let _ = headers.set("authorization", &format!("Bearer {token}"));
    let _ = headers.set("accept", "application/json");
    let _ = headers.set("user-agent", attempt::USER_AGENT);
    let r = attempt::send_with_timeout(
        Method::Get,
        &read.url,
        headers,
        None,
        READ_TIMEOUT_MS,
        READ_CAP,
    )
    .await;
    let a = ReadAnswer {
        status: r.status,
        error: r.error().filter(|_| r.status.is_none()),
        link: r.link.clone(),
        retry_after: r.retry_after.clone(),
        body: r.body,
    };
    if read.cache_ms > 0 && matches!(a.status, Some(200..=299)) {
        let mut s = state.borrow_mut();
        if s.answers.len() > 1_000 {
            s.answers.retain(|_, (until, _)| *until > t);
        }
        s.answers
            .insert(cache_key(token, &read.url), (t + read.cache_ms, a.clone()));
    }
    a
}
