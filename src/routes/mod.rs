//! The URL map (docs/contract.md "URLs and tenant ids"; README) as data: one place decides which
//! endpoint a method + path is, or which 404/405 it gets. The worker uses it to authenticate and
//! pick the tenant object;
//! the tenant object uses the same match to dispatch. Pure, so it is unit-tested on the host.
//! `admin` is the `/v1` map, `edge` the ATSs' routes (from the provider registry).

mod admin;
mod edge;

pub use admin::*;
pub use edge::*;

use crate::error::ApiError;

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

/// Split a path into non-empty segments.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::Provider;

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
            Admin::ReplayProviderSync("t".into(), "a".into()),
            Admin::ReplayFailedProviderSyncs("t".into()),
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
            Admin::ListJobs("t".into(), Provider::all().next().unwrap()),
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
                | ReplayProviderSync(..)
                | ReplayFailedProviderSyncs(_)
                | CreateConnectLink(_)
                | ListConnectLinks(_)
                | RevokeConnectLink(..)
                | Erasure(_)
                | CreateEndpoint(_)
                | ListEndpoints(_)
                | GetEndpoint(..)
                | PatchEndpoint(..)
                | DeleteEndpoint(..)
                | ListEndpointDeliveries(..)
                | ListJobs(..) => {}
            }
        }
        all
    }

    /// The committed OpenAPI document lists exactly the routes the router serves.
    #[test]
    fn openapi_matches_router() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
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
        served.extend(EdgeRoute::all().map(EdgeRoute::template));
        // A cancel link opened in a browser answers a page (router, `web::CancelLinkPage`).
        served.extend(
            EdgeRoute::all()
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
                    assert_eq!(&match_edge(method, rest).unwrap().route.template(), op)
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
}
