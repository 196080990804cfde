//! `GET /v1/providers` (README "What the recruiter sees"): every registered provider as its
//! [`Spec`] declares it — the surface to hand the ATS, the result fields the ATS shows and
//! where, its limits and its status mapping. Generated from the registry, never written twice;
//! the README table is rendered from this answer by [`recruiter_table`] and a unit test keeps
//! the two equal.

use serde_json::{json, Map, Value};

use super::{Handler, Provider, Spec, Surface};

/// The answer of `GET /v1/providers`: `{"providers": [ … ]}` in registry order. `origin` is the
/// bridge's public origin (`PUBLIC_BASE_URL` or the request's); tenant-scoped URLs keep the
/// `{tenant}` placeholder.
pub fn all(origin: &str) -> Value {
    json!({ "providers": Provider::all().map(|p| one(p, origin)).collect::<Vec<_>>() })
}

/// One provider's entry (shape in openapi/openapi.json, `Provider` schema).
fn one(p: Provider, origin: &str) -> Value {
    let spec: &Spec = p.spec();
    let base = p.base_url(origin, "{tenant}");
    let urls: Vec<Value> = spec
        .operations
        .iter()
        // A cancel link is minted per order and handed to the ATS by the bridge itself.
        .filter(|op| !matches!(op.handler, Handler::CancelLink { .. }))
        .map(|op| {
            let suffix = format!("/{}", op.segment);
            let label = spec
                .setup
                .urls
                .iter()
                .find(|u| u.suffix == suffix)
                .map(|u| u.label)
                .unwrap_or(op.segment);
            json!({
                "label": label,
                "kind": op.handler.kind().as_str(),
                "method": op.method.as_str(),
                "url": format!("{base}{suffix}"),
            })
        })
        .collect();
    let status_mapping: Map<String, Value> = spec
        .facts
        .status_mapping
        .iter()
        .map(|(s, word)| (s.as_str().to_string(), json!(word)))
        .collect();
    json!({
        "name": spec.name,
        "title": spec.title,
        "surface": {
            "kind": match spec.surface {
                Surface::TenantScoped => "tenant_scoped",
                Surface::PartnerLevel => "partner_level",
            },
            "baseUrl": base,
            "urls": urls,
            "key": {
                "label": spec.setup.key_label,
                "prefix": spec.key_prefix,
                "issuedBy": "POST /v1/tenants/{tenant}/secrets",
            },
        },
        "credentials": spec.credentials.iter().map(|c| json!({
            "field": format!("{}.{}", spec.name, c.name),
            "secret": c.secret,
        })).collect::<Vec<_>>(),
        "settings": spec.settings.iter().map(|s| json!({
            "env": s.env,
            "default": s.default,
        })).collect::<Vec<_>>(),
        "resultFields": spec.facts.result_fields.iter().map(|(field, shown_as)| json!({
            "field": field,
            "shownAs": shown_as,
        })).collect::<Vec<_>>(),
        "limits": {
            "score": spec.facts.score.as_str(),
            "attachments": spec.facts.attachments,
            "finalResultChangeable": spec.facts.final_result_changeable,
            "metadataLevels": spec.facts.metadata_levels,
            "other": spec.facts.limits.iter().map(|(what, limit)| json!({
                "what": what,
                "limit": limit,
            })).collect::<Vec<_>>(),
        },
        "statusMapping": status_mapping,
    })
}

/// The README's "What the recruiter sees" table, rendered from a `GET /v1/providers` answer:
/// one row per provider and result field it shows, then its score, attachments and finality.
/// Only the README check needs it.
#[cfg(test)]
pub fn recruiter_table(answer: &Value) -> String {
    let mut out =
        String::from("| ATS | Result field | Where the recruiter sees it |\n|---|---|---|\n");
    let empty = Vec::new();
    for p in answer["providers"].as_array().unwrap_or(&empty) {
        let title = p["title"].as_str().unwrap_or_default();
        for f in p["resultFields"].as_array().unwrap_or(&empty) {
            out.push_str(&format!(
                "| {title} | `{}` | {} |\n",
                f["field"].as_str().unwrap_or_default(),
                f["shownAs"]
                    .as_str()
                    .unwrap_or_default()
                    .replace('|', "\\|"),
            ));
        }
        let l = &p["limits"];
        out.push_str(&format!(
            "| {title} | limits | score: {}; attachments: {}; final result can change: {} |\n",
            l["score"].as_str().unwrap_or_default(),
            l["attachments"],
            if l["finalResultChangeable"] == json!(true) {
                "yes"
            } else {
                "no"
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;

    #[test]
    fn every_provider_is_listed_with_its_surface_and_facts() {
        let v = all("https://bridge.example");
        let list = v["providers"].as_array().unwrap();
        assert_eq!(list.len(), super::super::REGISTRY.len());
        for (entry, spec) in list.iter().zip(super::super::REGISTRY) {
            assert_eq!(entry["name"], spec.name);
            let base = entry["surface"]["baseUrl"].as_str().unwrap();
            assert!(base.starts_with("https://bridge.example/"), "{base}");
            let urls = entry["surface"]["urls"].as_array().unwrap();
            assert!(!urls.is_empty(), "{}", spec.name);
            for u in urls {
                assert!(u["url"].as_str().unwrap().starts_with(base), "{u}");
            }
            assert_eq!(entry["surface"]["key"]["prefix"], spec.key_prefix);
            assert_eq!(
                entry["statusMapping"].as_object().unwrap().len(),
                Status::ALL.len()
            );
            assert_eq!(
                entry["resultFields"].as_array().unwrap().len(),
                spec.facts.result_fields.len()
            );
            assert_eq!(entry["limits"]["attachments"], spec.facts.attachments);
        }
    }

    /// The README section between the `recruiter-sees` markers is the table rendered from the
    /// endpoint's answer: change a provider's facts and this fails until the README follows.
    #[test]
    fn readme_table_equals_the_endpoint_answer() {
        let readme = include_str!("../../README.md");
        let start = "<!-- recruiter-sees:start -->\n";
        let end = "<!-- recruiter-sees:end -->";
        let from = readme.find(start).expect("README has the start marker") + start.len();
        let to = readme.find(end).expect("README has the end marker");
        let expected = recruiter_table(&all("https://bridge.example"));
        assert_eq!(
            &readme[from..to],
            expected,
            "README \"What the recruiter sees\" is out of date; it should read:\n{expected}"
        );
    }
}
