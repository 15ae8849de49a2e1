//! Items between our form (serde_dynamo's [`AttributeValue`], the one stream images arrive in and
//! the in-memory store keeps) and the SDK's.
//!
//! Towards the SDK, serde_dynamo's own conversion (feature `aws-sdk-dynamodb+1`). Back from it,
//! our own: serde_dynamo's panics on a variant it does not know (the SDK's type is
//! `#[non_exhaustive]` and has `Unknown`, for a type DynamoDB might add), and an answer we cannot
//! read must be a `StoreCorrupt`, never a panic.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue as Sdk;
use serde_dynamo::AttributeValue;

use super::items::Item;

pub type SdkItem = HashMap<String, Sdk>;

pub fn to_sdk(item: Item) -> SdkItem {
    item.into_iter()
        .map(|(name, value)| (name, Sdk::from(value)))
        .collect()
}

pub fn value_to_sdk(value: AttributeValue) -> Sdk {
    Sdk::from(value)
}

/// An item of an answer. The error names the attribute that is of no known type.
pub fn from_sdk(item: SdkItem) -> Result<Item, String> {
    item.into_iter()
        .map(|(name, value)| match value_from_sdk(value) {
            Some(value) => Ok((name, value)),
            None => Err(format!(
                "attribute {name:?} is of a type this version cannot read"
            )),
        })
        .collect()
}

fn value_from_sdk(value: Sdk) -> Option<AttributeValue> {
    Some(match value {
        Sdk::N(n) => AttributeValue::N(n),
        Sdk::S(s) => AttributeValue::S(s),
        Sdk::Bool(b) => AttributeValue::Bool(b),
        Sdk::B(blob) => AttributeValue::B(blob.into_inner()),
        Sdk::Null(null) => AttributeValue::Null(null),
        Sdk::M(map) => AttributeValue::M(
            map.into_iter()
                .map(|(name, value)| value_from_sdk(value).map(|value| (name, value)))
                .collect::<Option<_>>()?,
        ),
        Sdk::L(list) => AttributeValue::L(
            list.into_iter()
                .map(value_from_sdk)
                .collect::<Option<_>>()?,
        ),
        Sdk::Ss(ss) => AttributeValue::Ss(ss),
        Sdk::Ns(ns) => AttributeValue::Ns(ns),
        Sdk::Bs(bs) => AttributeValue::Bs(bs.into_iter().map(|b| b.into_inner()).collect()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
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
            ("ns".to_owned(), AttributeValue::Ns(vec!["1".into()])),
            ("bs".to_owned(), AttributeValue::Bs(vec![vec![1], vec![2]])),
        ])
    }

    #[test]
    fn what_goes_to_the_sdk_comes_back_the_same() {
        let original = every_type();
        assert_eq!(from_sdk(to_sdk(original.clone())), Ok(original));
    }
}
