//! The admin and results API's routes (`/v1/…`, docs/contract.md "Admin API").

use super::{pick, Method};
use crate::error::ApiError;
use crate::model::is_valid_slug;
use crate::providers::Provider;

/// Every `/v1` endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    CreateTenant,
    ListTenants,
    /// `GET /v1/providers`: answered by the worker from the registry (README "What the
    /// recruiter sees").
    ListProviders,
    GetTenant(String),
    PatchTenant(String),
    RotateWebhookSecret(String),
    TestWebhook(String),
    CreateKey(String),
    DeleteKey(String, Provider),
    PutPackages(String),
    GetPackages(String),
    ListAssessments(String),
    GetAssessment(String, String),
    PostResult(String, String),
    ListEvents(String),
    GetEvent(String, String),
    ReplayEvent(String, String),
    ReplayFailedEvents(String),
    /// `POST /v1/tenants/{t}/assessments/{id}/provider-sync/replay`: re-send the assessment's
    /// latest provider call (README "Replaying a write-back").
    ReplayProviderSync(String, String),
    /// `POST /v1/tenants/{t}/provider-sync/replay`: re-send every latest provider call that
    /// failed for good (README "Replaying a write-back").
    ReplayFailedProviderSyncs(String),
    CreateConnectLink(String),
    ListConnectLinks(String),
    RevokeConnectLink(String, String),
    Erasure(String),
    CreateEndpoint(String),
    ListEndpoints(String),
    GetEndpoint(String, String),
    PatchEndpoint(String, String),
    DeleteEndpoint(String, String),
    ListEndpointDeliveries(String, String),
    /// `GET /v1/tenants/{t}/{provider}/jobs`: the customer's jobs through the provider's read
    /// API (README "Order enrichment"); the tenant object answers 404 for a provider without one.
    ListJobs(String, Provider),
}

impl Admin {
    /// The tenant the endpoint is scoped to (None for `POST /v1/tenants`).
    pub fn tenant(&self) -> Option<&str> {
        use Admin::*;
        match self {
            CreateTenant | ListTenants | ListProviders => None,
            GetTenant(t)
            | PatchTenant(t)
            | RotateWebhookSecret(t)
            | TestWebhook(t)
            | CreateKey(t)
            | DeleteKey(t, _)
            | PutPackages(t)
            | GetPackages(t)
            | ListAssessments(t)
            | GetAssessment(t, _)
            | PostResult(t, _)
            | ListEvents(t)
            | GetEvent(t, _)
            | ReplayEvent(t, _)
            | ReplayFailedEvents(t)
            | ReplayProviderSync(t, _)
            | ReplayFailedProviderSyncs(t)
            | CreateConnectLink(t)
            | ListConnectLinks(t)
            | RevokeConnectLink(t, _)
            | Erasure(t)
            | CreateEndpoint(t)
            | ListEndpoints(t)
            | GetEndpoint(t, _)
            | PatchEndpoint(t, _)
            | DeleteEndpoint(t, _)
            | ListEndpointDeliveries(t, _)
            | ListJobs(t, _) => Some(t),
        }
    }
    /// The route as a template, for logs and the OpenAPI check.
    pub fn template(&self) -> &'static str {
        use Admin::*;
        match self {
            CreateTenant => "POST /v1/tenants",
            ListTenants => "GET /v1/tenants",
            ListProviders => "GET /v1/providers",
            GetTenant(_) => "GET /v1/tenants/{tenant}",
            PatchTenant(_) => "PATCH /v1/tenants/{tenant}",
            RotateWebhookSecret(_) => "POST /v1/tenants/{tenant}/webhook/secret",
            TestWebhook(_) => "POST /v1/tenants/{tenant}/webhook/test",
            CreateKey(_) => "POST /v1/tenants/{tenant}/secrets",
            DeleteKey(..) => "DELETE /v1/tenants/{tenant}/secrets/{provider}",
            PutPackages(_) => "PUT /v1/tenants/{tenant}/packages",
            GetPackages(_) => "GET /v1/tenants/{tenant}/packages",
            ListAssessments(_) => "GET /v1/tenants/{tenant}/assessments",
            GetAssessment(..) => "GET /v1/tenants/{tenant}/assessments/{id}",
            PostResult(..) => "POST /v1/tenants/{tenant}/assessments/{id}/result",
            ListEvents(_) => "GET /v1/tenants/{tenant}/events",
            GetEvent(..) => "GET /v1/tenants/{tenant}/events/{eventId}",
            ReplayEvent(..) => "POST /v1/tenants/{tenant}/events/{eventId}/replay",
            ReplayFailedEvents(_) => "POST /v1/tenants/{tenant}/events/replay",
            ReplayProviderSync(..) => {
                "POST /v1/tenants/{tenant}/assessments/{id}/provider-sync/replay"
            }
            ReplayFailedProviderSyncs(_) => "POST /v1/tenants/{tenant}/provider-sync/replay",
            CreateConnectLink(_) => "POST /v1/tenants/{tenant}/connect-links",
            ListConnectLinks(_) => "GET /v1/tenants/{tenant}/connect-links",
            RevokeConnectLink(..) => "DELETE /v1/tenants/{tenant}/connect-links/{id}",
            Erasure(_) => "POST /v1/tenants/{tenant}/erasure",
            CreateEndpoint(_) => "POST /v1/tenants/{tenant}/webhooks",
            ListEndpoints(_) => "GET /v1/tenants/{tenant}/webhooks",
            GetEndpoint(..) => "GET /v1/tenants/{tenant}/webhooks/{id}",
            PatchEndpoint(..) => "PATCH /v1/tenants/{tenant}/webhooks/{id}",
            DeleteEndpoint(..) => "DELETE /v1/tenants/{tenant}/webhooks/{id}",
            ListEndpointDeliveries(..) => "GET /v1/tenants/{tenant}/webhooks/{id}/deliveries",
            ListJobs(..) => "GET /v1/tenants/{tenant}/{provider}/jobs",
        }
    }

    /// Whether the endpoint takes a JSON body.
    pub fn takes_body(&self) -> bool {
        matches!(
            self,
            Admin::CreateTenant
                | Admin::PatchTenant(_)
                | Admin::CreateKey(_)
                | Admin::PutPackages(_)
                | Admin::PostResult(..)
                | Admin::CreateConnectLink(_)
                | Admin::Erasure(_)
                | Admin::CreateEndpoint(_)
                | Admin::PatchEndpoint(..)
        )
    }
}

/// Match `/v1/...` (segments after `v1`).
pub fn match_admin(method: Method, segs: &[&str]) -> Result<Admin, ApiError> {
    use Method::*;
    let tenant = |t: &str| -> Result<String, ApiError> {
        if is_valid_slug(t) {
            Ok(t.to_string())
        } else {
            Err(ApiError::not_found("tenant"))
        }
    };
    match segs {
        ["providers"] => pick(method, vec![(Get, Admin::ListProviders)]),
        ["tenants"] => pick(
            method,
            vec![(Post, Admin::CreateTenant), (Get, Admin::ListTenants)],
        ),
        ["tenants", t] => {
            let t = tenant(t)?;
            pick(
                method,
                vec![
                    (Get, Admin::GetTenant(t.clone())),
                    (Patch, Admin::PatchTenant(t)),
                ],
            )
        }
        ["tenants", t, "webhook", "secret"] => {
            pick(method, vec![(Post, Admin::RotateWebhookSecret(tenant(t)?))])
        }
        ["tenants", t, "webhook", "test"] => {
            pick(method, vec![(Post, Admin::TestWebhook(tenant(t)?))])
        }
        ["tenants", t, "secrets"] => pick(method, vec![(Post, Admin::CreateKey(tenant(t)?))]),
        ["tenants", t, "secrets", p] => {
            let t = tenant(t)?;
            let p = Provider::parse(p).ok_or_else(ApiError::route_not_found)?;
            pick(method, vec![(Delete, Admin::DeleteKey(t, p))])
        }
        ["tenants", t, "packages"] => {
            let t = tenant(t)?;
            pick(
                method,
                vec![
                    (Put, Admin::PutPackages(t.clone())),
                    (Get, Admin::GetPackages(t)),
                ],
            )
        }
        ["tenants", t, "assessments"] => {
            pick(method, vec![(Get, Admin::ListAssessments(tenant(t)?))])
        }
        ["tenants", t, "assessments", id] => pick(
            method,
            vec![(Get, Admin::GetAssessment(tenant(t)?, id.to_string()))],
        ),
        ["tenants", t, "assessments", id, "result"] => pick(
            method,
            vec![(Post, Admin::PostResult(tenant(t)?, id.to_string()))],
        ),
        ["tenants", t, "assessments", id, "provider-sync", "replay"] => pick(
            method,
            vec![(Post, Admin::ReplayProviderSync(tenant(t)?, id.to_string()))],
        ),
        ["tenants", t, "provider-sync", "replay"] => pick(
            method,
            vec![(Post, Admin::ReplayFailedProviderSyncs(tenant(t)?))],
        ),
        ["tenants", t, "events"] => pick(method, vec![(Get, Admin::ListEvents(tenant(t)?))]),
        ["tenants", t, "erasure"] => pick(method, vec![(Post, Admin::Erasure(tenant(t)?))]),
        ["tenants", t, "webhooks"] => {
            let t = tenant(t)?;
            pick(
                method,
                vec![
                    (Post, Admin::CreateEndpoint(t.clone())),
                    (Get, Admin::ListEndpoints(t)),
                ],
            )
        }
        ["tenants", t, "webhooks", id] => {
            let (t, id) = (tenant(t)?, id.to_string());
            pick(
                method,
                vec![
                    (Get, Admin::GetEndpoint(t.clone(), id.clone())),
                    (Patch, Admin::PatchEndpoint(t.clone(), id.clone())),
                    (Delete, Admin::DeleteEndpoint(t, id)),
                ],
            )
        }
        ["tenants", t, "webhooks", id, "deliveries"] => pick(
            method,
            vec![(
                Get,
                Admin::ListEndpointDeliveries(tenant(t)?, id.to_string()),
            )],
        ),
        ["tenants", t, "events", "replay"] => {
            pick(method, vec![(Post, Admin::ReplayFailedEvents(tenant(t)?))])
        }
        ["tenants", t, "connect-links"] => {
            let t = tenant(t)?;
            pick(
                method,
                vec![
                    (Post, Admin::CreateConnectLink(t.clone())),
                    (Get, Admin::ListConnectLinks(t)),
                ],
            )
        }
        ["tenants", t, "connect-links", id] => pick(
            method,
            vec![(Delete, Admin::RevokeConnectLink(tenant(t)?, id.to_string()))],
        ),
        ["tenants", t, "events", id] => pick(
            method,
            vec![(Get, Admin::GetEvent(tenant(t)?, id.to_string()))],
        ),
        ["tenants", t, "events", id, "replay"] => pick(
            method,
            vec![(Post, Admin::ReplayEvent(tenant(t)?, id.to_string()))],
        ),
        ["tenants", t, p, "jobs"] => {
            let t = tenant(t)?;
            let p = Provider::parse(p).ok_or_else(ApiError::route_not_found)?;
            pick(method, vec![(Get, Admin::ListJobs(t, p))])
        }
        _ => Err(ApiError::route_not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_routes() {
        assert_eq!(
            match_admin(Method::Post, &["tenants"]),
            Ok(Admin::CreateTenant)
        );
        assert_eq!(
            match_admin(Method::Get, &["tenants"]),
            Ok(Admin::ListTenants)
        );
        assert_eq!(
            match_admin(Method::Delete, &["tenants"])
                .unwrap_err()
                .status,
            405
        );
        for p in Provider::all() {
            assert_eq!(
                match_admin(Method::Delete, &["tenants", "acme", "secrets", p.as_str()]),
                Ok(Admin::DeleteKey("acme".into(), p))
            );
        }
        assert_eq!(
            match_admin(Method::Post, &["tenants", "acme", "events", "replay"]),
            Ok(Admin::ReplayFailedEvents("acme".into()))
        );
        assert_eq!(
            match_admin(
                Method::Post,
                &[
                    "tenants",
                    "acme",
                    "assessments",
                    "ats_ass_1",
                    "provider-sync",
                    "replay"
                ]
            ),
            Ok(Admin::ReplayProviderSync("acme".into(), "ats_ass_1".into()))
        );
        assert_eq!(
            match_admin(
                Method::Post,
                &["tenants", "acme", "provider-sync", "replay"]
            ),
            Ok(Admin::ReplayFailedProviderSyncs("acme".into()))
        );
        for segs in [
            &[
                "tenants",
                "acme",
                "assessments",
                "a",
                "provider-sync",
                "replay",
            ][..],
            &["tenants", "acme", "provider-sync", "replay"][..],
        ] {
            let e = match_admin(Method::Get, segs).unwrap_err();
            assert_eq!((e.status, e.allow.as_deref()), (405, Some("POST")));
        }
        assert_eq!(
            match_admin(
                Method::Delete,
                &["tenants", "acme", "connect-links", "cl_1"]
            ),
            Ok(Admin::RevokeConnectLink("acme".into(), "cl_1".into()))
        );
        assert_eq!(
            match_admin(
                Method::Delete,
                &["tenants", "acme", "secrets", "no-such-ats"]
            )
            .unwrap_err()
            .status,
            404
        );
        assert_eq!(
            match_admin(Method::Get, &["tenants", "Bad_Slug"])
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            match_admin(Method::Get, &["nope"]).unwrap_err().code,
            "route_not_found"
        );
        let e = match_admin(Method::Put, &["tenants", "acme"]).unwrap_err();
        assert_eq!(e.status, 405);
        assert!(e.message.contains("GET, PATCH"));
    }
}
