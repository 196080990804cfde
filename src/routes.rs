//! The URL map (SPEC §3/§5) as data: one place decides which endpoint a method + path is,
//! or which 404/405 it gets. The worker uses it to authenticate and pick the tenant object;
//! the tenant object uses the same match to dispatch. Pure, so it is unit-tested on the host.

use crate::error::ApiError;
use crate::model::{is_valid_slug, Provider};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Other,
}

impl Method {
    pub fn parse(m: &str) -> Method {
        match m {
            "GET" | "HEAD" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }
}

/// Every `/v1` endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    CreateTenant,
    ListTenants,
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
    CreateConnectLink(String),
    ListConnectLinks(String),
    RevokeConnectLink(String, String),
}

impl Admin {
    /// The tenant the endpoint is scoped to (None for `POST /v1/tenants`).
    pub fn tenant(&self) -> Option<&str> {
        use Admin::*;
        match self {
            CreateTenant | ListTenants => None,
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
            | CreateConnectLink(t)
            | ListConnectLinks(t)
            | RevokeConnectLink(t, _) => Some(t),
        }
    }
    /// The route as a template, for logs and the OpenAPI check.
    pub fn template(&self) -> &'static str {
        use Admin::*;
        match self {
            CreateTenant => "POST /v1/tenants",
            ListTenants => "GET /v1/tenants",
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
            CreateConnectLink(_) => "POST /v1/tenants/{tenant}/connect-links",
            ListConnectLinks(_) => "GET /v1/tenants/{tenant}/connect-links",
            RevokeConnectLink(..) => "DELETE /v1/tenants/{tenant}/connect-links/{id}",
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
        )
    }
}

/// Pick the route, or say 404 (no such path) / 405 (path exists, method does not).
fn pick<T>(method: Method, options: Vec<(Method, T)>) -> Result<T, ApiError> {
    let allowed: Vec<&str> = options
        .iter()
        .map(|(m, _)| match m {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Other => "?",
        })
        .collect();
    let allowed = allowed.join(", ");
    options
        .into_iter()
        .find(|(m, _)| *m == method)
        .map(|(_, r)| r)
        .ok_or_else(|| ApiError::method_not_allowed(&allowed))
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
        ["tenants", t, "events"] => pick(method, vec![(Get, Admin::ListEvents(tenant(t)?))]),
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
        _ => Err(ApiError::route_not_found()),
    }
}

/// The provider methods ATSs call on `/t/{tenant}/{provider}/{method}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeCall {
    GreenhouseListTests,
    GreenhouseSendTest,
    GreenhouseTestStatus,
    GreenhouseResponseError,
    AshbyList,
    AshbyStart,
    AshbyCancel,
}

impl EdgeCall {
    pub fn provider(self) -> Provider {
        use EdgeCall::*;
        match self {
            GreenhouseListTests
            | GreenhouseSendTest
            | GreenhouseTestStatus
            | GreenhouseResponseError => Provider::Greenhouse,
            AshbyList | AshbyStart | AshbyCancel => Provider::Ashby,
        }
    }
    pub fn name(self) -> &'static str {
        use EdgeCall::*;
        match self {
            GreenhouseListTests => "list_tests",
            GreenhouseSendTest => "send_test",
            GreenhouseTestStatus => "test_status",
            GreenhouseResponseError => "response_error",
            AshbyList => "assessment.list",
            AshbyStart => "assessment.start",
            AshbyCancel => "assessment.cancel",
        }
    }
    pub const ALL: [EdgeCall; 7] = [
        EdgeCall::GreenhouseListTests,
        EdgeCall::GreenhouseSendTest,
        EdgeCall::GreenhouseTestStatus,
        EdgeCall::GreenhouseResponseError,
        EdgeCall::AshbyList,
        EdgeCall::AshbyStart,
        EdgeCall::AshbyCancel,
    ];

    pub fn takes_body(self) -> bool {
        !matches!(
            self,
            EdgeCall::GreenhouseListTests | EdgeCall::GreenhouseTestStatus
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub tenant: String,
    pub call: EdgeCall,
}

/// Match `/t/{tenant}/{provider}/{method}` (segments after `t`). A malformed tenant answers
/// the same 401 as a bad key (SPEC §10), so tenant ids cannot be probed.
pub fn match_edge(method: Method, segs: &[&str]) -> Result<Edge, ApiError> {
    use EdgeCall::*;
    use Method::*;
    let [tenant, provider, call] = segs else {
        return Err(ApiError::route_not_found());
    };
    let (allowed, call) = match (*provider, *call) {
        ("greenhouse", "list_tests") => (Get, GreenhouseListTests),
        ("greenhouse", "send_test") => (Post, GreenhouseSendTest),
        ("greenhouse", "test_status") => (Get, GreenhouseTestStatus),
        ("greenhouse", "response_error") => (Post, GreenhouseResponseError),
        ("ashby", "assessment.list") => (Post, AshbyList),
        ("ashby", "assessment.start") => (Post, AshbyStart),
        ("ashby", "assessment.cancel") => (Post, AshbyCancel),
        _ => return Err(ApiError::route_not_found()),
    };
    let call = pick(method, vec![(allowed, call)])?;
    if !is_valid_slug(tenant) {
        return Err(ApiError::unauthorized_edge());
    }
    Ok(Edge {
        tenant: tenant.to_string(),
        call,
    })
}

/// Split a path into non-empty segments.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
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
        assert_eq!(
            match_admin(Method::Post, &["tenants", "acme", "events", "replay"]),
            Ok(Admin::ReplayFailedEvents("acme".into()))
        );
        assert_eq!(
            match_admin(
                Method::Delete,
                &["tenants", "acme", "connect-links", "cl_1"]
            ),
            Ok(Admin::RevokeConnectLink("acme".into(), "cl_1".into()))
        );
        assert_eq!(
            match_admin(Method::Delete, &["tenants", "acme", "secrets", "ashby"]),
            Ok(Admin::DeleteKey("acme".into(), Provider::Ashby))
        );
        assert_eq!(
            match_admin(Method::Delete, &["tenants", "acme", "secrets", "lever"])
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

    /// Every admin route, one per variant; the match makes the compiler point here when a
    /// variant is added.
    fn every_admin_route() -> Vec<Admin> {
        let all = vec![
            Admin::CreateTenant,
            Admin::ListTenants,
            Admin::GetTenant("t".into()),
            Admin::PatchTenant("t".into()),
            Admin::RotateWebhookSecret("t".into()),
            Admin::TestWebhook("t".into()),
            Admin::CreateKey("t".into()),
            Admin::DeleteKey("t".into(), Provider::Ashby),
            Admin::PutPackages("t".into()),
            Admin::GetPackages("t".into()),
            Admin::ListAssessments("t".into()),
            Admin::GetAssessment("t".into(), "a".into()),
            Admin::PostResult("t".into(), "a".into()),
            Admin::ListEvents("t".into()),
            Admin::GetEvent("t".into(), "e".into()),
            Admin::ReplayEvent("t".into(), "e".into()),
            Admin::ReplayFailedEvents("t".into()),
            Admin::CreateConnectLink("t".into()),
            Admin::ListConnectLinks("t".into()),
            Admin::RevokeConnectLink("t".into(), "c".into()),
        ];
        for a in &all {
            use Admin::*;
            match a {
                CreateTenant
                | ListTenants
                | GetTenant(_)
                | PatchTenant(_)
                | RotateWebhookSecret(_)
                | TestWebhook(_)
                | CreateKey(_)
                | DeleteKey(..)
                | PutPackages(_)
                | GetPackages(_)
                | ListAssessments(_)
                | GetAssessment(..)
                | PostResult(..)
                | ListEvents(_)
                | GetEvent(..)
                | ReplayEvent(..)
                | ReplayFailedEvents(_)
                | CreateConnectLink(_)
                | ListConnectLinks(_)
                | RevokeConnectLink(..) => {}
            }
        }
        all
    }

    fn edge_template(c: EdgeCall) -> String {
        let m = if c.takes_body() || c.provider() == Provider::Ashby {
            "POST"
        } else {
            "GET"
        };
        format!("{m} /t/{{tenant}}/{}/{}", c.provider().as_str(), c.name())
    }

    /// The committed OpenAPI document lists exactly the routes the router serves.
    #[test]
    fn openapi_matches_router() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../openapi/openapi.json")).unwrap();
        let mut documented = std::collections::BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for m in ops.as_object().unwrap().keys() {
                if ["get", "post", "put", "patch", "delete"].contains(&m.as_str()) {
                    documented.insert(format!("{} {path}", m.to_uppercase()));
                }
            }
        }
        let mut served: std::collections::BTreeSet<String> = [
            "GET /healthz".to_string(),
            "GET /v1/openapi.json".to_string(),
        ]
        .into();
        served.extend(every_admin_route().iter().map(|a| a.template().to_string()));
        served.extend(EdgeCall::ALL.iter().map(|c| edge_template(*c)));
        assert_eq!(documented, served);

        // And every documented template really routes to itself.
        for op in &documented {
            let (m, path) = op.split_once(' ').unwrap();
            let concrete = path
                .replace("{tenant}", "acme")
                .replace("{provider}", "ashby")
                .replace("{id}", "ats_ass_1")
                .replace("{eventId}", "evt_1");
            let segs = segments(&concrete);
            let method = Method::parse(m);
            match segs.as_slice() {
                ["v1", "openapi.json"] | ["healthz"] => {}
                ["v1", rest @ ..] => {
                    assert_eq!(match_admin(method, rest).unwrap().template(), op.as_str())
                }
                ["t", rest @ ..] => {
                    assert_eq!(&edge_template(match_edge(method, rest).unwrap().call), op)
                }
                _ => panic!("unexpected documented path {op}"),
            }
        }
    }

    #[test]
    fn edge_routes() {
        assert_eq!(
            match_edge(Method::Post, &["acme", "greenhouse", "send_test"]),
            Ok(Edge {
                tenant: "acme".into(),
                call: EdgeCall::GreenhouseSendTest
            })
        );
        assert_eq!(
            match_edge(Method::Get, &["acme", "greenhouse", "send_test"])
                .unwrap_err()
                .status,
            405
        );
        assert_eq!(
            match_edge(Method::Post, &["ACME!", "ashby", "assessment.start"])
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            match_edge(Method::Post, &["acme", "ashby", "send_test"])
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(segments("/t//acme/"), vec!["t", "acme"]);
    }
}
