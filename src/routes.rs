//! The URL map (SPEC §3/§5) as data: one place decides which endpoint a method + path is,
//! or which 404/405 it gets. The worker uses it to authenticate and pick the tenant object;
//! the tenant object uses the same match to dispatch. Pure, so it is unit-tested on the host.

use crate::error::ApiError;
use crate::model::is_valid_slug;
use crate::providers::{Operation, Provider, Surface};

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
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Other => "?",
        }
    }
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
            | CreateConnectLink(t)
            | ListConnectLinks(t)
            | RevokeConnectLink(t, _)
            | Erasure(t)
            | CreateEndpoint(t)
            | ListEndpoints(t)
            | GetEndpoint(t, _)
            | PatchEndpoint(t, _)
            | DeleteEndpoint(t, _)
            | ListEndpointDeliveries(t, _) => Some(t),
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

/// Pick the route, or say 404 (no such path) / 405 (path exists, method does not).
fn pick<T>(method: Method, options: Vec<(Method, T)>) -> Result<T, ApiError> {
    let allowed: Vec<&str> = options.iter().map(|(m, _)| m.as_str()).collect();
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
        ["tenants", t, "events"] => pick(method, vec![(Get, Admin::ListEvents(tenant(t)?))]),
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
        ["tenants", t, "erasure"] => pick(method, vec![(Post, Admin::Erasure(tenant(t)?))]),
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

/// A provider operation an ATS calls: which provider, which of its operations.
#[derive(Clone, Copy)]
pub struct EdgeCall {
    pub provider: Provider,
    pub op: &'static Operation,
}

impl EdgeCall {
    /// The operation's path segment, as logged (`send_test`, `assessment.start`).
    pub fn name(self) -> &'static str {
        self.op.segment
    }
    pub fn takes_body(self) -> bool {
        self.op.takes_body()
    }
    /// Every operation of every registered provider.
    #[cfg(test)]
    pub fn all() -> impl Iterator<Item = EdgeCall> {
        Provider::all().flat_map(|provider| {
            provider
                .spec()
                .operations
                .iter()
                .map(move |op| EdgeCall { provider, op })
        })
    }
    /// `METHOD /t/{tenant}/x/op` or `METHOD /p/x/op`, for the OpenAPI check.
    #[cfg(test)]
    pub fn template(self) -> String {
        format!(
            "{} {}",
            self.op.method.as_str(),
            self.provider.template(self.op)
        )
    }
}

impl PartialEq for EdgeCall {
    fn eq(&self, other: &EdgeCall) -> bool {
        self.provider == other.provider && self.op.segment == other.op.segment
    }
}
impl Eq for EdgeCall {}
impl std::fmt::Debug for EdgeCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EdgeCall({}/{})",
            self.provider.as_str(),
            self.op.segment
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub tenant: String,
    pub call: EdgeCall,
}

/// The operation `segment` of the provider named `provider` on `surface`, or 404; then the
/// method, or 405.
fn match_call(
    method: Method,
    surface: Surface,
    provider: &str,
    segment: &str,
) -> Result<EdgeCall, ApiError> {
    let provider = Provider::parse(provider)
        .filter(|p| p.spec().surface == surface)
        .ok_or_else(ApiError::route_not_found)?;
    // A segment may serve several methods (one operation each).
    let ops: Vec<(Method, EdgeCall)> = provider
        .spec()
        .operations
        .iter()
        .filter(|o| o.segment == segment)
        .map(|op| (op.method, EdgeCall { provider, op }))
        .collect();
    if ops.is_empty() {
        return Err(ApiError::route_not_found());
    }
    pick(method, ops)
}

/// Match `/t/{tenant}/{provider}/{operation}` (segments after `t`). A malformed tenant answers
/// the same 401 as a bad key (SPEC §10), so tenant ids cannot be probed.
pub fn match_edge(method: Method, segs: &[&str]) -> Result<Edge, ApiError> {
    let [tenant, provider, segment] = segs else {
        return Err(ApiError::route_not_found());
    };
    let call = match_call(method, Surface::TenantScoped, provider, segment)?;
    if !is_valid_slug(tenant) {
        return Err(ApiError::unauthorized_edge(call.provider.spec().edge_auth));
    }
    Ok(Edge {
        tenant: tenant.to_string(),
        call,
    })
}

/// Match `/p/{provider}/{operation}` (segments after `p`): partner-level providers, whose
/// tenant comes from the presented key (SPEC §12).
pub fn match_partner(method: Method, segs: &[&str]) -> Result<EdgeCall, ApiError> {
    let [provider, segment] = segs else {
        return Err(ApiError::route_not_found());
    };
    match_call(method, Surface::PartnerLevel, provider, segment)
}

/// Whether `/p/{provider}/{operation}` (segments after `p`) is a partner-level provider's cancel
/// link (`Handler::CancelLink`), which a browser may open (README "Recruitee").
pub fn is_cancel_link(segs: &[&str]) -> bool {
    let [provider, segment] = segs else {
        return false;
    };
    Provider::parse(provider)
        .filter(|p| p.spec().surface == Surface::PartnerLevel)
        .is_some_and(|p| {
            p.spec().operations.iter().any(|o| {
                o.segment == *segment
                    && matches!(o.handler, crate::providers::Handler::CancelLink { .. })
            })
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
    fn cancel_links_are_found_from_the_registry() {
        let links: Vec<(&str, &str)> = Provider::all()
            .flat_map(|p| {
                p.spec()
                    .operations
                    .iter()
                    .filter(|o| matches!(o.handler, crate::providers::Handler::CancelLink { .. }))
                    .map(move |o| (p.spec().name, o.segment))
            })
            .collect();
        assert!(
            !links.is_empty(),
            "a registered provider hosts a cancel link"
        );
        for (provider, segment) in links {
            assert!(is_cancel_link(&[provider, segment]));
            assert!(!is_cancel_link(&[provider, "nope"]));
            assert!(!is_cancel_link(&[provider]));
            assert!(!is_cancel_link(&["p", provider, segment]));
        }
        assert!(!is_cancel_link(&["nope", "cancel"]));
    }

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

    /// Every admin route, one per variant; the match makes the compiler point here when a
    /// variant is added.
    fn every_admin_route() -> Vec<Admin> {
        let all = vec![
            Admin::CreateTenant,
            Admin::ListTenants,
            Admin::ListProviders,
            Admin::GetTenant("t".into()),
            Admin::PatchTenant("t".into()),
            Admin::RotateWebhookSecret("t".into()),
            Admin::TestWebhook("t".into()),
            Admin::CreateKey("t".into()),
            Admin::DeleteKey("t".into(), Provider::all().next().unwrap()),
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
            Admin::Erasure("t".into()),
            Admin::CreateEndpoint("t".into()),
            Admin::ListEndpoints("t".into()),
            Admin::GetEndpoint("t".into(), "w".into()),
            Admin::PatchEndpoint("t".into(), "w".into()),
            Admin::DeleteEndpoint("t".into(), "w".into()),
            Admin::ListEndpointDeliveries("t".into(), "w".into()),
        ];
        for a in &all {
            use Admin::*;
            match a {
                CreateTenant
                | ListTenants
                | ListProviders
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
                | RevokeConnectLink(..)
                | Erasure(_)
                | CreateEndpoint(_)
                | ListEndpoints(_)
                | GetEndpoint(..)
                | PatchEndpoint(..)
                | DeleteEndpoint(..)
                | ListEndpointDeliveries(..) => {}
            }
        }
        all
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
        served.extend(EdgeCall::all().map(EdgeCall::template));
        // A cancel link opened in a browser answers a page (router, `web::CancelLinkPage`).
        served.extend(
            EdgeCall::all()
                .filter(|c| matches!(c.op.handler, crate::providers::Handler::CancelLink { .. }))
                .map(|c| format!("GET /p/{}/{}", c.provider.as_str(), c.op.segment)),
        );
        assert_eq!(documented, served);

        // And every documented template really routes to itself.
        for op in &documented {
            let (m, path) = op.split_once(' ').unwrap();
            let concrete = path
                .replace("{tenant}", "acme")
                .replace("{provider}", Provider::all().next().unwrap().as_str())
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
                    assert_eq!(&match_edge(method, rest).unwrap().call.template(), op)
                }
                ["p", rest @ ..] if method == Method::Get && is_cancel_link(rest) => {
                    assert!(
                        match_partner(method, rest).is_err(),
                        "the page is not an operation"
                    )
                }
                ["p", rest @ ..] => {
                    assert_eq!(&match_partner(method, rest).unwrap().template(), op)
                }
                _ => panic!("unexpected documented path {op}"),
            }
        }
    }

    /// Every registered operation routes to itself on its provider's surface, answers 405 to
    /// another method, and 404 on the other surface. (Each provider's file tests its own
    /// routes by name.)
    #[test]
    fn edge_routes() {
        for call in EdgeCall::all() {
            let (p, seg) = (call.provider.as_str(), call.op.segment);
            let other = if call.op.method == Method::Get {
                Method::Delete
            } else {
                Method::Get
            };
            match call.provider.spec().surface {
                Surface::TenantScoped => {
                    let got = match_edge(call.op.method, &["acme", p, seg]).unwrap();
                    assert_eq!(got.call, call);
                    assert_eq!(got.tenant, "acme");
                    let e = match_edge(other, &["acme", p, seg]).unwrap_err();
                    assert_eq!(e.status, 405);
                    assert_eq!(
                        match_edge(call.op.method, &["ACME!", p, seg])
                            .unwrap_err()
                            .status,
                        401
                    );
                    assert_eq!(
                        match_partner(call.op.method, &[p, seg]).unwrap_err().status,
                        404
                    );
                }
                Surface::PartnerLevel => {
                    assert_eq!(match_partner(call.op.method, &[p, seg]).unwrap(), call);
                    assert_eq!(match_partner(other, &[p, seg]).unwrap_err().status, 405);
                    assert_eq!(
                        match_edge(call.op.method, &["acme", p, seg])
                            .unwrap_err()
                            .status,
                        404
                    );
                }
            }
            assert_eq!(
                match_edge(call.op.method, &["acme", p, "no_such_operation"])
                    .unwrap_err()
                    .status,
                404
            );
        }
        assert_eq!(
            match_edge(Method::Post, &["acme", "no-such-ats", "x"])
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(match_partner(Method::Get, &["x"]).unwrap_err().status, 404);
        assert_eq!(segments("/t//acme/"), vec!["t", "acme"]);
    }
}
