//! The JSON Teamtailor renders for the recruiter (its partner docs, "Config" and "Activation"):
//! the package picker and the activation form.

use super::*;

/// The `config` answer (Teamtailor's "Webhook config" doc): a required `select` field `test`
/// listing the packages, and `assessment-criteria` when packages carry criteria (each id once,
/// first label wins). No packages: the select comes with an `error` field saying so.
pub fn config(packages: &[Package]) -> Value {
    let options: Vec<Value> = packages
        .iter()
        .map(|p| json!({ "id": p.id, "label": p.name }))
        .collect();
    let mut fields = vec![json!({
        "id": "test",
        "label": "Test",
        "placeholder": "Select a test",
        "type": "select",
        "required": true,
        "options": options,
    })];
    if packages.is_empty() {
        fields.push(json!({
            "type": "error",
            "message": "No tests are available for this account yet. Ask your assessment provider to publish them, then set up the trigger again.",
        }));
    }
    let mut config = json!({ "fields": fields });
    let mut seen = std::collections::HashSet::new();
    let criteria: Vec<Value> = packages
        .iter()
        .flat_map(|p| p.criteria.iter())
        .filter(|c| seen.insert(c.id.clone()))
        .map(|c| json!({ "id": c.id, "label": c.label }))
        .collect();
    if !criteria.is_empty() {
        config["assessment-criteria"] = Value::Array(criteria);
    }
    json!({ "config": config })
}

/// The dynamic activation form (Teamtailor's "Webhook activation config" doc): an infobox and
/// one required text field `key` for the customer's `tt_…` key, validated at
/// [`VALIDATE_ENDPOINT`]. `validateEndpoint` is given both beside and inside `config`, the two
/// places Teamtailor's examples show it.
pub fn activation_form() -> Value {
    json!({
        "config": {
            "fields": [
                {
                    "type": "infobox",
                    "icon": "info",
                    "content": "Paste the Teamtailor key your assessment provider issued for your account. It starts with tt_ and is shown to them only once: if it is lost, ask for a new one.",
                },
                {
                    "id": KEY_FIELD,
                    "type": "text",
                    "label": "Key",
                    "placeholder": "tt_…",
                    "required": true,
                    "description": "The key your assessment provider issued for Teamtailor",
                },
            ],
            "validateEndpoint": VALIDATE_ENDPOINT,
        },
        "validateEndpoint": VALIDATE_ENDPOINT,
    })
}

/// The validate endpoint's answer for a valid key (`200`).
pub fn activation_valid() -> Value {
    json!({ "valid": true })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Criterion;

    #[test]
    fn config_lists_packages_and_criteria() {
        let pkgs = vec![
            Package {
                id: "p1".into(),
                name: "Backend".into(),
                description: None,
                package_type: None,
                kind: None,
                criteria: vec![
                    Criterion {
                        id: "c-sql".into(),
                        label: "SQL".into(),
                    },
                    Criterion {
                        id: "c-api".into(),
                        label: "API design".into(),
                    },
                ],
            },
            Package {
                id: "p2".into(),
                name: "Frontend".into(),
                description: None,
                package_type: None,
                kind: None,
                criteria: vec![Criterion {
                    id: "c-sql".into(),
                    label: "SQL again".into(),
                }],
            },
        ];
        let c = config(&pkgs);
        let f = &c["config"]["fields"][0];
        assert_eq!(f["id"], "test");
        assert_eq!(f["type"], "select");
        assert_eq!(
            f["options"],
            json!([{"id": "p1", "label": "Backend"}, {"id": "p2", "label": "Frontend"}])
        );
        assert_eq!(
            c["config"]["assessment-criteria"],
            json!([{"id": "c-sql", "label": "SQL"}, {"id": "c-api", "label": "API design"}])
        );
        let mut plain = pkgs.clone();
        plain.iter_mut().for_each(|p| p.criteria.clear());
        assert!(config(&plain)["config"]
            .get("assessment-criteria")
            .is_none());
        let empty = config(&[]);
        assert_eq!(empty["config"]["fields"][0]["options"], json!([]));
        assert_eq!(empty["config"]["fields"][1]["type"], "error");
    }

    #[test]
    fn activation_form_has_one_key_field() {
        let f = activation_form();
        let inputs: Vec<&Value> = f["config"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x.get("id").is_some())
            .collect();
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0]["id"], "key");
        assert_eq!(inputs[0]["type"], "text");
        assert_eq!(f["config"]["fields"][0]["type"], "infobox");
        assert_eq!(f["validateEndpoint"], VALIDATE_ENDPOINT);
    }
}
