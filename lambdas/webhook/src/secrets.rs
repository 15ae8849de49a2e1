//! Secrets given either as their value or as the name of an SSM SecureString parameter.
//!
//! The SAM template keeps secrets out of the function's environment by passing parameter names
//! (`..._PARAMETER`); local runs and tests pass the values. Parameters are read once, on the first
//! invocation, so start-up stays free of network calls.

use aws_sdk_ssm::error::DisplayErrorContext;
use loadshed_core::runtime::ConfigError;
use loadshed_core::runtime::env;

/// Where one secret comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Value(String),
    Parameter(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
            SecretSource::Parameter(name) => f.debug_tuple("Parameter").field(name).finish(),
        }
    }
}

impl SecretSource {
    /// `name` holds the value, `parameter` (conventionally `<name>_PARAMETER`) the SSM parameter's
    /// name; at most one may be set.
    pub fn from_env(
        name: &'static str,
        parameter: &'static str,
    ) -> Result<Option<SecretSource>, ConfigError> {
        match (env::optional(name), env::optional(parameter)) {
            (Some(_), Some(_)) => Err(ConfigError::Invalid {
                name: parameter,
                reason: format!("set either {name} or {parameter}, not both"),
            }),
            (Some(value), None) => Ok(Some(SecretSource::Value(value))),
            (None, Some(parameter)) => Ok(Some(SecretSource::Parameter(parameter))),
            (None, None) => Ok(None),
        }
    }

    pub fn required(
        name: &'static str,
        parameter: &'static str,
        purpose: &'static str,
    ) -> Result<SecretSource, ConfigError> {
        Self::from_env(name, parameter)?.ok_or(ConfigError::Missing { name, purpose })
    }

    /// The value, if it is at hand without a network call.
    pub fn value(&self) -> Option<&str> {
        match self {
            SecretSource::Value(value) => Some(value),
            SecretSource::Parameter(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read SSM parameter {parameter}: {detail}")]
    Unreadable { parameter: String, detail: String },
    #[error("SSM parameter {parameter} has no value")]
    Empty { parameter: String },
}

/// Reads parameters through one SSM client, built at start.
#[derive(Debug, Clone)]
pub struct SecretReader {
    ssm: aws_sdk_ssm::Client,
}

impl SecretReader {
    pub fn new(ssm: aws_sdk_ssm::Client) -> Self {
        SecretReader { ssm }
    }

    pub async fn read(&self, source: &SecretSource) -> Result<String, SecretError> {
        let parameter = match source {
            SecretSource::Value(value) => return Ok(value.clone()),
            SecretSource::Parameter(parameter) => parameter,
        };
        let answer = self
            .ssm
            .get_parameter()
            .name(parameter)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| SecretError::Unreadable {
                parameter: parameter.clone(),
                detail: DisplayErrorContext(&e).to_string(),
            })?;
        answer
            .parameter()
            .and_then(|p| p.value())
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_owned())
            .ok_or_else(|| SecretError::Empty {
                parameter: parameter.clone(),
            })
    }
}
