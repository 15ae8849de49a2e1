//! Duplicate member names in the definition text.
//!
//! A JSON object with the same name twice parses without complaint into a map that keeps one of them, so two states
//! of the same name in one `States` object would silently become one. This reader builds the same
//! `serde_json::Value` as `serde_json::from_str` but records every repeated name on the way.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::pointer::Pointer;

/// A member name that appears more than once in the object at `parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Duplicate {
    pub(crate) parent: Pointer,
    pub(crate) name: String,
    /// The object is a `States` member: the repeated name is a state's.
    pub(crate) is_state: bool,
}

/// Parses `text` like `serde_json::from_str`, also returning the repeated member names.
pub(crate) fn parse(text: &str) -> Result<(Value, Vec<Duplicate>), serde_json::Error> {
    let mut duplicates = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = Reader {
        at: Pointer::root(),
        is_states: false,
        duplicates: &mut duplicates,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok((value, duplicates))
}

struct Reader<'d> {
    at: Pointer,
    is_states: bool,
    duplicates: &'d mut Vec<Duplicate>,
}

impl<'de> DeserializeSeed<'de> for Reader<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Reader<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let reader = Reader {
                at: self.at.child(items.len()),
                is_states: false,
                duplicates: &mut *self.duplicates,
            };
            match seq.next_element_seed(reader)? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        let mut seen = HashSet::new();
        while let Some(name) = access.next_key::<String>()? {
            if !seen.insert(name.clone()) {
                self.duplicates.push(Duplicate {
                    parent: self.at.clone(),
                    name: name.clone(),
                    is_state: self.is_states,
                });
            }
            let reader = Reader {
                at: self.at.child(&name),
                is_states: name == "States",
                duplicates: &mut *self.duplicates,
            };
            let value = access.next_value_seed(reader)?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_same_value_as_serde_json() {
        let text = r#"{"a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": 18446744073709551615}"#;
        let (value, duplicates) = parse(text).expect("valid JSON");
        assert_eq!(
            value,
            serde_json::from_str::<Value>(text).expect("valid JSON")
        );
        assert!(duplicates.is_empty());
    }

    #[test]
    fn records_repeated_names_and_whether_they_are_states() {
        let text = r#"{"States": {"A": {"x": 1, "x": 2}, "A": {}}, "Comment": "", "Comment": ""}"#;
        let (_, duplicates) = parse(text).expect("valid JSON");
        let found: Vec<(String, &str, bool)> = duplicates
            .iter()
            .map(|d| (d.parent.to_string(), d.name.as_str(), d.is_state))
            .collect();
        assert_eq!(
            found,
            [
                ("/States/A".to_owned(), "x", false),
                ("/States".to_owned(), "A", true),
                ("/".to_owned(), "Comment", false),
            ]
        );
    }

    #[test]
    fn syntax_errors_are_serde_json_errors() {
        assert!(parse("{\"a\": }").is_err());
        assert!(parse("{} trailing").is_err());
    }
}
