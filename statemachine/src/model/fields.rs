//! Field types shared by several state types, with ASL's absent-versus-null distinctions.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::template::{Template, TemplateError, compile_expression};
use crate::path::{Path, ReferencePath};

/// `InputPath` / `OutputPath`: absent means `$`; `null` means an empty object `{}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum IoPath {
    #[default]
    Root,
    Path(Path),
    Null,
}

impl<'de> Deserialize<'de> for IoPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(IoPath::Null),
            Some(text) if text == "$" => Ok(IoPath::Root),
            Some(text) => Path::parse(&text)
                .map(IoPath::Path)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// `ResultPath`: absent means `$` (the result replaces the input); `null` discards the result.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ResultPath {
    #[default]
    Root,
    Path(ReferencePath),
    Discard,
}

impl<'de> Deserialize<'de> for ResultPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(ResultPath::Discard),
            Some(text) if text == "$" => Ok(ResultPath::Root),
            Some(text) => ReferencePath::parse(&text)
                .map(ResultPath::Path)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// A payload template field (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateField(pub Template);

impl<'de> Deserialize<'de> for TemplateField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Template::compile(&value)
            .map(TemplateField)
            .map_err(serde::de::Error::custom)
    }
}

/// `ErrorPath` / `CausePath`: a path or an intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression(pub Template);

impl<'de> Deserialize<'de> for Expression {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        compile_expression("", &text)
            .map(Expression)
            .map_err(|e: TemplateError| serde::de::Error::custom(e))
    }
}

/// A `*Path` field that must be a Reference Path (`ItemsPath`, `SecondsPath`, `TimeoutSecondsPath`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct RefPath(pub ReferencePath);

impl<'de> Deserialize<'de> for RefPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ReferencePath::parse(&text)
            .map(RefPath)
            .map_err(serde::de::Error::custom)
    }
}

/// `QueryLanguage`: JSONPath (default) or JSONata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum QueryLanguage {
    #[default]
    JSONPath,
    JSONata,
}
