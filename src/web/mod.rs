//! The two web pages the worker serves (README "Console and connect page"): the operator
//! console at `/console` and the customer connect page at `/connect/{tenant}/{token}`. The
//! pages are static files built from `web/` by `scripts/build-web.mjs` and bundled into the
//! worker's JavaScript ([`bundle`]); every answer carries a strict Content-Security-Policy (no
//! inline script or style, nothing from another origin, no framing) and the other security
//! headers.

use worker::{Env, Headers, Request, Response};

use crate::admin::connect::is_token_shaped;
use crate::error::ApiError;
use crate::model::is_valid_slug;
use crate::router::{config, forward, origin, read_body, Mount, H_ORIGIN, H_REQUEST_ID};
use crate::routes::Method;

pub mod bundle;
mod cancel_link;
pub use cancel_link::*;

/// The Content-Security-Policy of every page: scripts, styles and API calls from this origin
/// only, no inline code, no plugins, never inside a frame.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The Content-Security-Policy of the cancel-link pages: [`CSP`], except that the page's one
/// form may post back to this origin.
pub const CSP_FORM: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every page and page asset carries, as (name, value).
pub const SECURITY_HEADERS: [(&str, &str); 7] = [
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    // The connect page's URL holds its token: never send it anywhere as a referrer.
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
];

/// The content type for an asset file name, or None for a kind the pages never use.
pub fn content_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => return None,
    })
}

/// Whether a path segment may name an asset file: `[a-z0-9-]+.[a-z]+`, so no `..`, no
/// hidden files and nothing outside the page's own folder.
pub fn is_asset_name(seg: &str) -> bool {
    match seg.split_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && stem
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !ext.is_empty()
                && ext.bytes().all(|b| b.is_ascii_lowercase())
        }
        None => false,
    }
}

/// The asset a `/console/…` path names: the app for `/console` itself (hash routing keeps
/// every screen on that one URL), else a file of the console's folder.
pub fn console_asset(rest: &[&str]) -> Option<String> {
    match rest {
        [] => Some("console/index.html".into()),
        [f] if is_asset_name(f) && content_type(f).is_some() => Some(format!("console/{f}")),
        _ => None,
    }
}

/// Serve `/console[/file]`: `GET` only.
pub fn console(method: Method, rest: &[&str]) -> Result<Response, ApiError> {
    let path = console_asset(rest).ok_or_else(ApiError::route_not_found)?;
    if method != Method::Get {
        return Err(ApiError::method_not_allowed("GET"));
    }
    serve(&path, 200)
}

/// Serve `/connect/{file}` (the page's script and style).
pub fn connect_asset(method: Method, file: &str) -> Result<Response, ApiError> {
    if !is_asset_name(file) || content_type(file).is_none() {
        return Err(ApiError::route_not_found());
    }
    if method != Method::Get {
        return Err(ApiError::method_not_allowed("GET"));
    }
    serve(&format!("connect/{file}"), 200)
}

/// Serve the connect page (`200`) or, for a link that does not open it, the page that says so
/// (`404`).
pub fn connect_page(usable: bool) -> Result<Response, ApiError> {
    if usable {
        serve("connect/index.html", 200)
    } else {
        serve("connect/gone.html", 404)
    }
}

/// Everything under `/connect/`: the page's files, the page itself (`GET /connect/{tenant}/{token}`,
/// checked with the tenant's object, which holds the link's hash) and the page's own calls
/// (`POST /connect/{tenant}/{token}/session|complete`, answered by that object). The tenant id
/// in the path picks the object with no lookup; a malformed one is just a link that does not
/// exist.
pub(crate) async fn connect(
    req: &mut Request,
    env: &Env,
    url: &Mount<'_>,
    method: Method,
    rest: &[&str],
    request_id: &str,
) -> Result<Response, ApiError> {
    match rest {
        [file] => connect_asset(method, file),
        [tenant, token, action @ ..] if action.len() <= 1 => {
            let page = action.is_empty() && method == Method::Get;
            if !is_valid_slug(tenant) || !is_token_shaped(token) {
                return if page {
                    connect_page(false)
                } else {
                    Err(ApiError::new(
                        404,
                        "connect_link_not_found",
                        "This connect link does not exist, has expired or was revoked.",
                    ))
                };
            }
            let body = if method == Method::Post {
                Some(read_body(req).await?)
            } else {
                None
            };
            let headers = Headers::new();
            let _ = headers.set(H_ORIGIN, &origin(&config(env), url));
            let _ = headers.set(H_REQUEST_ID, request_id);
            let resp = forward(env, tenant, req, url, headers, body).await?;
            if page {
                connect_page(resp.status_code() == 200)
            } else {
                Ok(resp)
            }
        }
        _ => Err(ApiError::route_not_found()),
    }
}

/// Answer one bundled web file ([`bundle::file`]) with the security headers; `404
/// route_not_found` for a file the build does not have.
pub fn serve(path: &str, status: u16) -> Result<Response, ApiError> {
    serve_filled(path, status, CSP, &[])
}

/// [`serve`] with another Content-Security-Policy (the other security headers stay) and
/// placeholders in the file replaced (fixed text, never request data).
fn serve_filled(
    path: &str,
    status: u16,
    csp: &str,
    fill: &[(&str, String)],
) -> Result<Response, ApiError> {
    let ct = content_type(path).ok_or_else(ApiError::route_not_found)?;
    let mut text = bundle::file(path).ok_or_else(ApiError::route_not_found)?;
    for (from, to) in fill {
        text = text.replace(from, to);
    }
    let headers = Headers::new();
    let _ = headers.set("content-type", ct);
    // Pages are tiny; revalidating every time keeps a deploy visible at once.
    let _ = headers.set("cache-control", "no-cache");
    for (k, v) in SECURITY_HEADERS {
        let _ = headers.set(k, v);
    }
    let _ = headers.set("content-security-policy", csp);
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(text.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_paths() {
        assert_eq!(console_asset(&[]).as_deref(), Some("console/index.html"));
        assert_eq!(
            console_asset(&["app.js"]).as_deref(),
            Some("console/app.js")
        );
        for bad in [
            &["..", "openapi.json"][..],
            &["openapi.json"],
            &[".env.js"],
            &["app.wasm"],
            &["a", "b.js"],
            &["App.js"],
        ] {
            assert_eq!(console_asset(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn csp_is_strict() {
        assert!(CSP.contains("frame-ancestors 'none'"));
        assert!(CSP.contains("script-src 'self';"));
        assert!(!CSP.contains("unsafe"));
        assert!(!CSP.contains("http"));
        assert_eq!(content_type("x.html"), Some("text/html; charset=utf-8"));
        assert_eq!(content_type("x"), None);
    }
}
