//! Every error code the bridge answers with, in one place (docs/contract.md "Bad input"). A
//! provider's own codes (e.g. for missing write-back credentials) are declared in its file.

/// 400: the body is not JSON.
pub const MALFORMED_JSON: &str = "malformed_json";
/// 400: the body could not be read.
pub const UNREADABLE_BODY: &str = "unreadable_body";
/// 401: missing or wrong admin token, edge key or connect token.
pub const UNAUTHORIZED: &str = "unauthorized";
/// 401: a link that is its own credential (a cancel link an ATS offers its recruiters) has a
/// missing, altered or unknown token (README "Authentication").
pub const INVALID_LINK: &str = "invalid_link";
/// 404: no such object (tenant, assessment, event, …).
pub const NOT_FOUND: &str = "not_found";
/// 404: no such endpoint.
pub const ROUTE_NOT_FOUND: &str = "route_not_found";
/// 405: the endpoint exists; the method does not.
pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
/// 409: a tenant with that id exists.
pub const TENANT_EXISTS: &str = "tenant_exists";
/// 409: the assessment already has a final result (a provider's cancel may answer it as
/// a 422 its ATS shows its user).
pub const ASSESSMENT_FINAL: &str = "assessment_final";
/// 409: an `Idempotency-Key` already used with another request body (README "Results back to
/// the ATS").
pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
/// 400: the `Idempotency-Key` header is empty, too long or not printable ASCII.
pub const INVALID_IDEMPOTENCY_KEY: &str = "invalid_idempotency_key";
/// 409: the record's personal data was erased, so it cannot be sent again (an event's
/// replay, README "Personal data"; a provider call's replay, README "Replaying a write-back").
pub const ERASED: &str = "erased";
/// 409: a provider-call replay found no call stored for the assessment (README "Replaying a
/// write-back").
pub const NOTHING_TO_REPLAY: &str = "nothing_to_replay";
/// 409: a provider-call replay found the assessment's latest call still pending (due, waiting
/// behind an earlier call, being retried or in flight; README "Replaying a write-back").
pub const PROVIDER_SYNC_PENDING: &str = "provider_sync_pending";
/// 409: a provider-call replay of a call the ATS's own cancellation of the assessment stopped
/// or overtook (README "The ATS cancels", "Replaying a write-back"); also the `error.code` of
/// such a call's `providerSync`.
pub const PROVIDER_SYNC_CANCELLED: &str = "provider_sync_cancelled";
/// 409: the tenant already has the most webhook endpoints it may have (README "Webhook
/// endpoints").
pub const WEBHOOK_LIMIT_REACHED: &str = "webhook_limit_reached";
/// 413: the body is over 256 KB.
pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
/// 422: a field is missing or invalid; the message names it.
pub const INVALID_FIELD: &str = "invalid_field";
/// 422: a deployment variable makes the request impossible (e.g. an API base URL).
pub const INVALID_CONFIGURATION: &str = "invalid_configuration";
/// 422: the ATS refused the credentials a connect page was given (the message says why).
pub const CREDENTIALS_REJECTED: &str = "credentials_rejected";
/// 409: a connect link that already connected its ATS was given credentials again; a new
/// link is needed to change them (README "Connect links").
pub const CONNECT_LINK_USED: &str = "connect_link_used";
/// 502: an upstream the bridge needed (the vendor's `packages_url`) failed.
pub const UPSTREAM_FAILED: &str = "upstream_failed";
/// 503: `ADMIN_TOKEN` is not configured.
pub const ADMIN_DISABLED: &str = "admin_disabled";
/// 500: a fault inside the bridge (logged with its detail).
pub const INTERNAL_ERROR: &str = "internal_error";
