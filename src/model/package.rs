//! The tenant's package catalogue and order kinds (README "What the ATSs call" and
//! "Background-check and reference-check vendors").

use serde::{Deserialize, Serialize};

use super::{opt_string, scalar_string};

/// What an order asks the vendor for (README "Background-check and reference-check
/// vendors"). Some ATSs' partner APIs name kinds with the same three words (see the provider
/// files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// A test, interview or other assessment (the default).
    #[default]
    Assessment,
    BackgroundCheck,
    ReferenceCheck,
}

impl OrderKind {
    pub const ALL: [OrderKind; 3] = [
        OrderKind::Assessment,
        OrderKind::BackgroundCheck,
        OrderKind::ReferenceCheck,
    ];
    /// The wire word: `assessment`, `background_check`, `reference_check`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Assessment => "assessment",
            OrderKind::BackgroundCheck => "background_check",
            OrderKind::ReferenceCheck => "reference_check",
        }
    }
    pub fn parse(s: &str) -> Option<OrderKind> {
        OrderKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The event envelope's `syncDataType`: reference checks count as background checks.
    pub fn sync_data_type(self) -> &'static str {
        match self {
            OrderKind::Assessment => "ats_assessments",
            OrderKind::BackgroundCheck | OrderKind::ReferenceCheck => "ats_background_checks",
        }
    }
}

/// The message for an invalid kind, naming the accepted words.
pub const KIND_WORDS: &str = "must be one of assessment, background_check, reference_check";

/// Parse an optional kind (absent or null → None).
pub fn opt_kind(v: Option<&serde_json::Value>) -> Result<Option<OrderKind>, &'static str> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => OrderKind::parse(s).map(Some).ok_or(KIND_WORDS),
        Some(_) => Err(KIND_WORDS),
    }
}

/// One package the vendor offers (README "What the ATSs call": `PUT …/packages` and
/// `packages_url`; kinds: "Background-check and reference-check vendors").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The vendor's free-form type (e.g. `CODE`), passed through as `assessmentPackage.type`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub package_type: Option<String>,
    /// What the package orders; None: the tenant's `default_kind` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<OrderKind>,
    /// What the package scores separately: criteria an ATS may offer recruiters to pick (see
    /// the provider files; README "What the ATSs call").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<Criterion>,
}

/// One thing a package scores separately: `{"id","label"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: String,
    pub label: String,
}

impl Package {
    /// The package's kind, or `default` when it names none.
    pub fn kind_or(&self, default: OrderKind) -> OrderKind {
        self.kind.unwrap_or(default)
    }
}

/// Parse and validate a package list (`[{"id","name","description"?,"type"?,"kind"?}]`). Used
/// for the admin `PUT` and for the vendor's `packages_url` answer, so both get the same checks.
/// Errors name the offending element and field, e.g. "`[2].kind` must be one of …".
pub fn parse_packages(v: &serde_json::Value) -> Result<Vec<Package>, String> {
    let arr = v
        .as_array()
        .ok_or_else(|| "the body must be a JSON array of packages".to_string())?;
    if arr.len() > 1000 {
        return Err("at most 1000 packages are allowed".into());
    }
    let mut out = Vec::with_capacity(arr.len());
    let mut seen = std::collections::HashSet::new();
    for (i, p) in arr.iter().enumerate() {
        let obj = p
            .as_object()
            .ok_or_else(|| format!("`[{i}]` must be an object"))?;
        let id = scalar_string(obj.get("id"))
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or_else(|| format!("`[{i}].id` is required (a non-empty string)"))?;
        let name = scalar_string(obj.get("name"))
            .filter(|s| !s.is_empty() && s.len() <= 512)
            .ok_or_else(|| format!("`[{i}].name` is required (a non-empty string)"))?;
        let description = opt_string(obj.get("description"))
            .map_err(|_| format!("`[{i}].description` must be a string"))?;
        let package_type =
            opt_string(obj.get("type")).map_err(|_| format!("`[{i}].type` must be a string"))?;
        let kind = opt_kind(obj.get("kind")).map_err(|m| format!("`[{i}].kind` {m}"))?;
        if !seen.insert(id.clone()) {
            return Err(format!("`[{i}].id` repeats the id `{id}`"));
        }
        let criteria =
            parse_criteria(obj.get("criteria")).map_err(|why| format!("`[{i}].criteria{why}"))?;
        out.push(Package {
            id,
            name,
            description,
            package_type,
            kind,
            criteria,
        });
    }
    Ok(out)
}

/// A package's optional `criteria: [{"id","label"}]` (at most 50, ids unique). The error
/// continues the field path (`[2].label` is required …).
fn parse_criteria(v: Option<&serde_json::Value>) -> Result<Vec<Criterion>, String> {
    let arr = match v {
        None | Some(serde_json::Value::Null) => return Ok(vec![]),
        Some(serde_json::Value::Array(a)) if a.len() <= 50 => a,
        Some(_) => {
            return Err("` must be an array of at most 50 `{\"id\",\"label\"}` objects".into())
        }
    };
    let mut seen = std::collections::HashSet::new();
    arr.iter()
        .enumerate()
        .map(|(j, c)| {
            let field = |k: &str| {
                scalar_string(c.get(k))
                    .filter(|s| !s.is_empty() && s.len() <= 256)
                    .ok_or_else(|| format!("[{j}].{k}` is required (a non-empty string)"))
            };
            let (id, label) = (field("id")?, field("label")?);
            if !seen.insert(id.clone()) {
                return Err(format!("[{j}].id` repeats the id `{id}`"));
            }
            Ok(Criterion { id, label })
        })
        .collect()
}

/// `candidateAssessment.assessmentPackage` (README "Webhooks you receive").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssessmentPackage {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub meta_data: Option<serde_json::Value>,
    /// The vendor's free-form type from the catalogue.
    #[serde(rename = "type")]
    pub package_type: Option<String>,
    /// What was ordered. Records stored before kinds existed read as `assessment`.
    #[serde(default)]
    pub kind: OrderKind,
}

/// The tenant's packages as an order sees them: the list (None when its source failed) and
/// the kind of a package that names none or is not in the list (the tenant's `default_kind`).
/// `Catalogue::default()`: no list known, kind `assessment`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Catalogue<'a> {
    pub packages: Option<&'a [Package]>,
    pub default_kind: OrderKind,
}

impl AssessmentPackage {
    /// The package `id` as ordered, named (and its kind taken) from the tenant's catalogue when
    /// it is known there; otherwise name and description are null and the kind is the default.
    pub fn from_catalogue(id: &str, catalogue: Catalogue<'_>) -> Self {
        let p = catalogue
            .packages
            .and_then(|c| c.iter().find(|p| p.id == id));
        AssessmentPackage {
            id: Some(id.to_string()),
            name: p.map(|p| p.name.clone()),
            description: p.and_then(|p| p.description.clone()),
            meta_data: None,
            package_type: p.and_then(|p| p.package_type.clone()),
            kind: p.map_or(catalogue.default_kind, |p| {
                p.kind_or(catalogue.default_kind)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_parse_and_default() {
        for k in OrderKind::ALL {
            assert_eq!(OrderKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(OrderKind::parse("Background_Check"), None);
        assert_eq!(opt_kind(Some(&json!(null))), Ok(None));
        assert!(opt_kind(Some(&json!(3))).is_err());
        // A record stored before kinds existed reads as an assessment.
        let old: AssessmentPackage = serde_json::from_value(
            json!({"id":"p","name":null,"description":null,"metaData":null,"type":"CODE"}),
        )
        .unwrap();
        assert_eq!(old.kind, OrderKind::Assessment);
        let cat = vec![
            Package {
                id: "bg".into(),
                name: "Check".into(),
                description: None,
                package_type: Some("CRIMINAL".into()),
                kind: Some(OrderKind::BackgroundCheck),
                criteria: vec![],
            },
            Package {
                id: "plain".into(),
                name: "Plain".into(),
                description: None,
                package_type: None,
                kind: None,
                criteria: vec![],
            },
        ];
        let with = |default_kind| Catalogue {
            packages: Some(&cat),
            default_kind,
        };
        let bg = AssessmentPackage::from_catalogue("bg", with(OrderKind::Assessment));
        assert_eq!(bg.kind, OrderKind::BackgroundCheck);
        assert_eq!(bg.package_type.as_deref(), Some("CRIMINAL"));
        let plain = AssessmentPackage::from_catalogue("plain", with(OrderKind::ReferenceCheck));
        assert_eq!(plain.kind, OrderKind::ReferenceCheck);
        let unknown = AssessmentPackage::from_catalogue("nope", with(OrderKind::BackgroundCheck));
        assert_eq!(unknown.kind, OrderKind::BackgroundCheck);
        assert_eq!(unknown.name, None);
        let failed = AssessmentPackage::from_catalogue(
            "bg",
            Catalogue {
                packages: None,
                default_kind: OrderKind::Assessment,
            },
        );
        assert_eq!(failed.kind, OrderKind::Assessment);
    }

    #[test]
    fn packages() {
        let p = parse_packages(&json!([{"id":"p1","name":"One","type":"CODE"},{"id":2,"name":"Two","description":null}])).unwrap();
        assert_eq!(p[0].package_type.as_deref(), Some("CODE"));
        assert_eq!(p[0].kind, None);
        assert_eq!(p[1].id, "2");
        let k = parse_packages(&json!([{"id":"b","name":"B","kind":"background_check"}])).unwrap();
        assert_eq!(k[0].kind, Some(OrderKind::BackgroundCheck));
        let e = parse_packages(
            &json!([{"id":"a","name":"A"},{"id":"b","name":"B","kind":"drug_test"}]),
        )
        .unwrap_err();
        assert!(e.contains("`[1].kind`"), "{e}");
        assert!(parse_packages(&json!([{"id":"b","name":"B","kind":true}])).is_err());
        assert!(parse_packages(&json!({"id":"x"})).is_err());
        assert!(parse_packages(&json!([{"id":"x"}]))
            .unwrap_err()
            .contains("[0].name"));
        assert!(
            parse_packages(&json!([{"id":"x","name":"a"},{"id":"x","name":"b"}]))
                .unwrap_err()
                .contains("repeats")
        );
        assert!(parse_packages(&json!([{"id":"x","name":"a","type":5}])).is_err());
        let c =
            parse_packages(&json!([{"id":"x","name":"a","criteria":[{"id":"c1","label":"SQL"}]}]))
                .unwrap();
        assert_eq!(
            c[0].criteria,
            vec![Criterion {
                id: "c1".into(),
                label: "SQL".into()
            }]
        );
        assert!(p[0].criteria.is_empty());
        for (bad, says) in [
            (
                json!([{"id":"x","name":"a","criteria":{}}]),
                "`[0].criteria` must be an array",
            ),
            (
                json!([{"id":"x","name":"a","criteria":[{"id":"c"}]}]),
                "`[0].criteria[0].label` is required",
            ),
            (
                json!([{"id":"x","name":"a","criteria":[{"id":"c","label":"A"},{"id":"c","label":"B"}]}]),
                "`[0].criteria[1].id` repeats",
            ),
        ] {
            let e = parse_packages(&bad).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }
}
