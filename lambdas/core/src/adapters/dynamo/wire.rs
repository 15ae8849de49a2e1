//! Items as DynamoDB's JSON API carries them (`{"S": "text"}`, `{"N": "5"}`, `{"M": {...}}`): the
//! serde form of serde_dynamo's [`AttributeValue`], the same one DynamoDB Streams images arrive in.

use serde::Deserialize;
use serde_dynamo::AttributeValue;
use serde_json::{Map, Value, json};

use super::items::Item;

/// `item` as the `Item`, `Key` or `ExclusiveStartKey` of a request. (Serialising a map with
/// string keys to a `Value` cannot fail.)
pub fn item(item: &Item) -> Value {
    json!(item)
}

/// An item of an answer (`Item`, an element of `Items`). The error says what is wrong with it;
/// the caller names the item.
pub fn parse_item(value: &Value) -> Result<Item, String> {
    Item::deserialize(value).map_err(|error| error.to_string())
}

/// `ExpressionAttributeNames` from `(placeholder, name)` pairs.
pub fn names(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(placeholder, name)| ((*placeholder).to_owned(), json!(name)))
            .collect::<Map<_, _>>(),
    )
}

/// `ExpressionAttributeValues` from `(placeholder, value)` pairs.
pub fn values(pairs: &[(&str, AttributeValue)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(placeholder, value)| ((*placeholder).to_owned(), json!(value)))
            .collect::<Map<_, _>>(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn every_type() -> Item {
        HashMap::from([
            ("s".to_owned(), AttributeValue::S("Bertiburg ✓".into())),
            ("n".to_owned(), AttributeValue::N("-12.5".into())),
            ("bool".to_owned(), AttributeValue::Bool(true)),
            ("null".to_owned(), AttributeValue::Null(true)),
            ("b".to_owned(), AttributeValue::B(vec![0, 159, 255])),
            (
                "m".to_owned(),
                AttributeValue::M(HashMap::from([(
                    "inner".to_owned(),
                    AttributeValue::L(vec![AttributeValue::N("1".into())]),
                )])),
            ),
            (
                "ss".to_owned(),
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            ("bs".to_owned(), AttributeValue::Bs(vec![vec![1], vec![2]])),
        ])
    }

    /// The shapes of DynamoDB's API reference ("AttributeValue").
    #[test]
    fn every_type_in_dynamodb_json() {
        let json = item(&every_type());
        assert_eq!(json["s"], json!({"S": "Bertiburg ✓"}));
        assert_eq!(json["n"], json!({"N": "-12.5"}));
        assert_eq!(json["bool"], json!({"BOOL": true}));
        assert_eq!(json["null"], json!({"NULL": true}));
        assert_eq!(json["b"], json!({"B": "AJ//"}));
        assert_eq!(json["m"], json!({"M": {"inner": {"L": [{"N": "1"}]}}}));
        assert_eq!(json["ss"], json!({"SS": ["a", "b"]}));
        assert_eq!(json["bs"], json!({"BS": ["AQ==", "Ag=="]}));
        assert_eq!(
            values(&[(":n", AttributeValue::N("1".into()))]),
            json!({":n": {"N": "1"}})
        );
        assert_eq!(names(&[("#pk", "PK")]), json!({"#pk": "PK"}));
    }

    #[test]
    fn what_is_written_reads_back() {
        let original = every_type();
        assert_eq!(parse_item(&item(&original)), Ok(original));
    }

    #[test]
    fn a_malformed_item_is_an_error_not_a_guess() {
        for value in [
            json!({"x": {"S": 5}}),
            json!({"x": {"Q": "1"}}),
            json!({"x": {"S": "a", "N": "1"}}),
            json!({"x": {"B": "not base64!"}}),
            json!({"x": "bare"}),
            json!(["not", "an", "item"]),
        ] {
            assert!(parse_item(&value).is_err(), "{value}");
        }
    }
}
