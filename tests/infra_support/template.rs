//! `infra/template.yaml` as JSON, with CloudFormation's short-form tags (`!Ref X`, `!GetAtt A.B`)
//! turned into their long forms (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`), so one shape of
//! intrinsic needs handling.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

pub fn template_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/template.yaml"))
}

pub fn definition_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/statemachine/refresh.asl.json"
    ))
}

pub struct Template {
    pub text: String,
    pub doc: Value,
}

impl Template {
    pub fn load() -> Template {
        let path = template_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let doc = loadshed::local::template::template_json(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Template { text, doc }
    }

    pub fn resources(&self) -> &Map<String, Value> {
        self.doc["Resources"]
            .as_object()
            .expect("the template has Resources")
    }

    pub fn resource(&self, id: &str) -> Option<&Value> {
        self.resources().get(id)
    }

    pub fn functions(&self) -> Vec<Function<'_>> {
        self.resources()
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
            .map(|(id, resource)| Function { id, resource })
            .collect()
    }

    pub fn function(&self, id: &str) -> Function<'_> {
        self.functions()
            .into_iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("the template has no function {id}"))
    }

    /// The environment of `function` with every intrinsic replaced by a stand-in value: a
    /// parameter's default, or a made-up name for a resource. An `Fn::If` whose other branch is
    /// `AWS::NoValue` is left out: an optional variable absent is the stricter case for "the
    /// function starts with what the template gives it".
    pub fn environment_with_stand_ins(&self, function: &Function<'_>) -> Vec<(String, String)> {
        function
            .environment()
            .into_iter()
            .filter_map(|(name, value)| self.stand_in(value).map(|v| (name, v)))
            .collect()
    }

    fn stand_in(&self, value: &Value) -> Option<String> {
        if let Some(text) = value.as_str() {
            return Some(text.to_owned());
        }
        if let Some(number) = value.as_number() {
            return Some(number.to_string());
        }
        if let Some(name) = value.get("Ref").and_then(Value::as_str) {
            if name == "AWS::NoValue" {
                return None;
            }
            let default = self.doc["Parameters"][name]
                .get("Default")
                .filter(|d| !d.as_str().is_some_and(str::is_empty));
            return Some(match default {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => format!("stand-in-for-{name}"),
            });
        }
        if let Some(parts) = value.get("Fn::GetAtt") {
            // A Function URL is read as a URL (the webhook parses the web function's).
            if parts[1] == "FunctionUrl" {
                let id = parts[0].as_str().unwrap_or("Function").to_lowercase();
                return Some(format!(
                    "https://stand-in-for-{id}.lambda-url.af-south-1.on.aws/"
                ));
            }
            return Some(format!("stand-in-for-{parts}"));
        }
        if let Some([_, then, otherwise]) = value
            .get("Fn::If")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            return match is_no_value(otherwise) {
                true => None,
                false => self.stand_in(then),
            };
        }
        panic!("no stand-in for the intrinsic {value}")
    }
}

fn is_no_value(value: &Value) -> bool {
    value.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue")
}

pub struct Function<'a> {
    pub id: &'a str,
    pub resource: &'a Value,
}

impl<'a> Function<'a> {
    /// The binary cargo-lambda builds for it.
    pub fn binary(&self) -> &'a str {
        self.resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no Metadata.BuildProperties.Binary", self.id))
    }

    pub fn environment(&self) -> BTreeMap<String, &'a Value> {
        self.resource["Properties"]["Environment"]["Variables"]
            .as_object()
            .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v)).collect())
            .unwrap_or_default()
    }

    /// `(logical id, event)` of each event source of the given `Type`.
    pub fn events(&self, kind: &str) -> Vec<(&'a str, &'a Value)> {
        self.resource["Properties"]["Events"]
            .as_object()
            .map(|events| {
                events
                    .iter()
                    .filter(|(_, e)| e["Type"] == kind)
                    .map(|(id, e)| (id.as_str(), e))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The logical id a `{"Fn::GetAtt": [id, attribute]}` or `{"Ref": id}` points at.
pub fn referenced_id(value: &Value) -> Option<&str> {
    if let Some(id) = value.get("Ref").and_then(Value::as_str) {
        return Some(id);
    }
    value
        .get("Fn::GetAtt")
        .and_then(|parts| parts.get(0))
        .and_then(Value::as_str)
}
