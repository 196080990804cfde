//! The ATSs' edge routes (`/t/{tenant}/{provider}/{operation}`, `/p/{provider}/{operation}`;
//! docs/architecture.md "The URL map"), all read from the provider registry.

use super::{pick, Method};
use crate::error::ApiError;
use crate::model::is_valid_slug;
use crate::providers::{Operation, Provider, Surface};

/// A provider operation an ATS calls: which provider, which of its operations.
#[derive(Clone, Copy)]
pub struct EdgeRoute {
    pub provider: Provider,
    pub op: &'static Operation,
}

impl EdgeRoute {
    /// The operation's path segment, as logged (`send_test`, `assessment.start`).
    pub fn name(self) -> &'static str {
        self.op.segment
    }
    pub fn takes_body(self) -> bool {
        self.op.takes_body()
    }
    /// Every operation of every registered provider.
    #[cfg(test)]
    pub fn all() -> impl Iterator<Item = EdgeRoute> {
        Provider::all().flat_map(|provider| {
            provider
                .spec()
                .operations
                .iter()
                .map(move |op| EdgeRoute { provider, op })
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

impl PartialEq for EdgeRoute {
    fn eq(&self, other: &EdgeRoute) -> bool {
        self.provider == other.provider && self.op.segment == other.op.segment
    }
}

impl Eq for EdgeRoute {}

impl std::fmt::Debug for EdgeRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EdgeRoute({}/{})",
            self.provider.as_str(),
            self.op.segment
        )
    }
}

/// A tenant-scoped edge route matched with the tenant its path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedRoute {
    pub tenant: String,
    pub route: EdgeRoute,
}

/// The operation `segment` of the provider named `provider` on `surface`, or 404; then the
/// method, or 405. Once the provider is known, those errors answer in its shape
/// (`providers::Spec::error_shape`, README "What the ATSs call"), including an unknown operation
/// and a method it does not take, like every other error on its paths.
fn match_route(
    method: Method,
    surface: Surface,
    provider: &str,
    segment: &str,
) -> Result<EdgeRoute, ApiError> {
    let provider = Provider::parse(provider)
        .filter(|p| p.spec().surface == surface)
        .ok_or_else(ApiError::route_not_found)?;
    match_operation(method, provider, segment).map_err(|e| e.shaped(provider.spec().error_shape))
}

fn match_operation(
    method: Method,
    provider: Provider,
    segment: &str,
) -> Result<EdgeRoute, ApiError> {
    // A segment may serve several methods (one operation each).
    let ops: Vec<(Method, EdgeRoute)> = provider
        .spec()
        .operations
        .iter()
        .filter(|o| o.segment == segment)
        .map(|op| (op.method, EdgeRoute { provider, op }))
        .collect();
    if ops.is_empty() {
        return Err(ApiError::route_not_found());
    }
    // A cancel link also answers GET (its confirmation page, served by the router), so a
    // 405 there names GET too.
    let link = ops
        .iter()
        .any(|(_, r)| matches!(r.op.handler, crate::providers::Handler::CancelLink { .. }));
    if link && !ops.iter().any(|(m, _)| *m == method) {
        let allowed: Vec<&str> = std::iter::once("GET")
            .chain(ops.iter().map(|(m, _)| m.as_str()))
            .collect();
        return Err(ApiError::method_not_allowed(&allowed.join(", ")));
    }
    pick(method, ops)
}

/// Match `/t/{tenant}/{provider}/{operation}` (segments after `t`). A malformed tenant answers
/// the same 401 as a bad key (docs/contract.md "Bad input"), so tenant ids cannot be probed.
pub fn match_edge(method: Method, segs: &[&str]) -> Result<ScopedRoute, ApiError> {
    let [tenant, provider, segment] = segs else {
        return Err(ApiError::route_not_found());
    };
    let route = match_route(method, Surface::TenantScoped, provider, segment)?;
    if !is_valid_slug(tenant) {
        let spec = route.provider.spec();
        return Err(ApiError::unauthorized_edge(spec.edge_auth).shaped(spec.error_shape));
    }
    Ok(ScopedRoute {
        tenant: tenant.to_string(),
        route,
    })
}

/// Match `/p/{provider}/{operation}` (segments after `p`): partner-level providers, whose
/// tenant comes from the presented key (docs/contract.md "Keys").
pub fn match_partner(method: Method, segs: &[&str]) -> Result<EdgeRoute, ApiError> {
    let [provider, segment] = segs else {
        return Err(ApiError::route_not_found());
    };
    match_route(method, Surface::PartnerLevel, provider, segment)
}

/// Whether `/p/{provider}/{operation}` (segments after `p`) is a partner-level provider's cancel
/// link (`Handler::CancelLink`), which a browser may open (docs/architecture.md, "The URL map").
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::segments;

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
            let e = match_partner(Method::Put, &[provider, segment]).unwrap_err();
            assert_eq!(e.status, 405);
            assert!(
                e.message.starts_with("This endpoint accepts GET, "),
                "{}",
                e.message
            );
            assert!(is_cancel_link(&[provider, segment]));
            assert!(!is_cancel_link(&[provider, "nope"]));
            assert!(!is_cancel_link(&[provider]));
            assert!(!is_cancel_link(&["p", provider, segment]));
        }
        assert!(!is_cancel_link(&["nope", "cancel"]));
    }

    /// Once the path names a provider, a wrong operation (404), method (405) or tenant (401)
    /// answers in that provider's error shape, like the rest of its paths.
    #[test]
    fn route_errors_take_the_providers_shape() {
        use crate::error::ErrorShape;
        for p in Provider::all() {
            let spec = p.spec();
            let seg = spec.operations[0].segment;
            let (wrong_op, wrong_method) = match spec.surface {
                Surface::TenantScoped => (
                    match_edge(Method::Post, &["acme", p.as_str(), "no_such_operation"])
                        .unwrap_err(),
                    match_edge(Method::Patch, &["acme", p.as_str(), seg]).unwrap_err(),
                ),
                Surface::PartnerLevel => (
                    match_partner(Method::Post, &[p.as_str(), "no_such_operation"]).unwrap_err(),
                    match_partner(Method::Patch, &[p.as_str(), seg]).unwrap_err(),
                ),
            };
            assert_eq!(
                (wrong_op.status, wrong_method.status),
                (404, 405),
                "{}",
                spec.name
            );
            let mut errors = vec![wrong_op, wrong_method];
            if spec.surface == Surface::TenantScoped {
                errors.push(match_edge(Method::Get, &["ACME!", p.as_str(), seg]).unwrap_err());
            }
            for e in errors {
                let body: serde_json::Value = serde_json::from_str(&e.body()).unwrap();
                match spec.error_shape {
                    ErrorShape::ErrorList => assert!(body["errors"][0].is_string(), "{body}"),
                    ErrorShape::Bridge | ErrorShape::ValidationMessage => {
                        assert!(body["error"]["code"].is_string(), "{body}")
                    }
                }
            }
        }
    }

    /// Every registered operation routes to itself on its provider's surface, answers 405 to
    /// another method, and 404 on the other surface. (Each provider's file tests its own
    /// routes by name.)
    #[test]
    fn edge_routes() {
        for call in EdgeRoute::all() {
            let (p, seg) = (call.provider.as_str(), call.op.segment);
            let other = if call.op.method == Method::Get {
                Method::Delete
            } else {
                Method::Get
            };
            match call.provider.spec().surface {
                Surface::TenantScoped => {
                    let got = match_edge(call.op.method, &["acme", p, seg]).unwrap();
                    assert_eq!(got.route, call);
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
