//! Secrets (bot token, webhook secret, EskomSePush token) given either as their value or as the
//! name of an SSM SecureString parameter.
//!
//! A deployed function gets `NAME_PARAMETER`, the parameter's name: CloudFormation cannot resolve
//! `ssm-secure` references into Lambda environment variables, and a value there would show in the
//! console and in `GetFunctionConfiguration`. Local runs and tests set `NAME`, the value itself.
//!
//! Parameters are read on first use, never at start: the guide allows no network call before the
//! first invocation, and a read during the init phase would lengthen every cold start and turn an
//! SSM hiccup into a failed start (retried by nobody) instead of one failed, retried invocation.
//! A value read once is kept for the life of the execution environment; rotating a secret takes
//! effect on the next cold start (or a function update, which forces one).

use std::fmt;

use tokio::sync::OnceCell;

use crate::adapters::aws::{AwsFailure, SdkConfig};

use super::env::{self, ConfigError};

/// `NAME` + this suffix names the variable holding the SSM parameter's name.
pub const PARAMETER_SUFFIX: &str = "_PARAMETER";

/// One secret the code reads: the variable for its value, the variable for its SSM parameter's
/// name, and what it is for (shown when both are missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretVar {
    pub name: &'static str,
    pub parameter: &'static str,
    pub purpose: &'static str,
}

impl SecretVar {
    /// Where this secret comes from, if anywhere. Setting both variables is an error: which one
    /// wins would be a guess.
    pub fn source(&self) -> Result<Option<SecretSource>, ConfigError> {
        match (env::optional(self.name), env::optional(self.parameter)) {
            (Some(_), Some(_)) => Err(ConfigError::Invalid {
                name: self.parameter,
                reason: format!("set either {} or {}, not both", self.name, self.parameter),
            }),
            (Some(value), None) => Ok(Some(SecretSource::Value(value))),
            (None, Some(parameter)) => Ok(Some(SecretSource::Parameter(parameter))),
            (None, None) => Ok(None),
        }
    }

    /// As [`SecretVar::source`], but one of the two variables must be set.
    pub fn required_source(&self) -> Result<SecretSource, ConfigError> {
        self.source()?.ok_or(ConfigError::Missing {
            name: self.name,
            purpose: self.purpose,
        })
    }
}

/// Where one secret comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Value(String),
    /// The name of an SSM SecureString parameter holding the value.
    Parameter(String),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
            SecretSource::Parameter(name) => f.debug_tuple("Parameter").field(name).finish(),
        }
    }
}

impl SecretSource {
    /// The value, when it is at hand without a network call.
    pub fn value(&self) -> Option<&str> {
        match self {
            SecretSource::Value(value) => Some(value),
            SecretSource::Parameter(_) => None,
        }
    }
}

/// Why a secret could not be read from SSM. `is_permanent` tells a missing parameter or a
/// missing permission (a person must fix the deployment) from a failure that may pass.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read SSM parameter {parameter}: {detail}")]
    Unreadable {
        parameter: String,
        detail: String,
        permanent: bool,
    },
    #[error("SSM parameter {parameter} has no value")]
    Empty { parameter: String },
}

impl SecretError {
    pub fn is_permanent(&self) -> bool {
        match self {
            SecretError::Unreadable { permanent, .. } => *permanent,
            SecretError::Empty { .. } => true,
        }
    }
}

/// SSM error codes that retrying cannot fix.
const PERMANENT_CODES: &[&str] = &[
    "ParameterNotFound",
    "ParameterVersionNotFound",
    "AccessDeniedException",
    "InvalidKeyId",
    "KMSAccessDeniedException",
    "UnrecognizedClientException",
];

/// Reads secrets, from SSM when they are given as parameter names. The SSM client itself is built
/// on the first such read, so a function whose secrets are all values never builds it.
#[derive(Debug, Clone)]
pub struct SecretReader {
    config: OnceCell<SdkConfig>,
    ssm: OnceCell<aws_sdk_ssm::Client>,
}

impl SecretReader {
    /// Builds the SSM client on `config` (the process's, loaded in `main`) when first needed.
    pub fn new(config: &SdkConfig) -> Self {
        SecretReader {
            config: OnceCell::new_with(Some(config.clone())),
            ssm: OnceCell::new(),
        }
    }

    /// Loads the AWS configuration ([`crate::adapters::aws::load_config`]) only if a secret is
    /// read from SSM: the CLI, whose offline runs must not look for AWS at all.
    pub fn lazy() -> Self {
        SecretReader {
            config: OnceCell::new(),
            ssm: OnceCell::new(),
        }
    }

    /// Uses `client`, an SSM client (e.g. one pointed at moto).
    pub fn with_client(client: aws_sdk_ssm::Client) -> Self {
        SecretReader {
            config: OnceCell::new(),
            ssm: OnceCell::new_with(Some(client)),
        }
    }

    /// The secret's value: as given, or the decrypted parameter, trimmed.
    pub async fn read(&self, source: &SecretSource) -> Result<String, SecretError> {
        let parameter = match source {
            SecretSource::Value(value) => return Ok(value.clone()),
            SecretSource::Parameter(parameter) => parameter,
        };
        let ssm = self
            .ssm
            .get_or_init(|| async {
                let config = self
                    .config
                    .get_or_init(crate::adapters::aws::load_config)
                    .await;
                aws_sdk_ssm::Client::new(config)
            })
            .await;
        let answer = ssm
            .get_parameter()
            .name(parameter)
            .with_decryption(true)
            .send()
            .await
            .map_err(|error| unreadable(parameter, &AwsFailure::from_sdk(&error)))?;
        answer
            .parameter
            .and_then(|parameter| parameter.value)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| SecretError::Empty {
                parameter: parameter.clone(),
            })
    }
}

fn unreadable(parameter: &str, failure: &AwsFailure) -> SecretError {
    let permanent = match failure.code() {
        Some(code) => PERMANENT_CODES.contains(&code),
        // No credentials or an unusable endpoint: the deployment must change.
        None => !failure.is_transient(),
    };
    SecretError::Unreadable {
        parameter: parameter.to_owned(),
        detail: failure.to_string(),
        permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_print() {
        let source = SecretSource::Value("123:very-secret".into());
        assert_eq!(format!("{source:?}"), "Value(<redacted>)");
        let parameter = SecretSource::Parameter("/loadshed/token".into());
        assert_eq!(format!("{parameter:?}"), "Parameter(\"/loadshed/token\")");
    }

    #[test]
    fn parameter_variables_are_the_names_with_the_suffix() {
        // The SAM template and its test rely on `NAME_PARAMETER` naming `NAME`'s parameter.
        for var in [
            crate::runtime::telegram::BOT_TOKEN,
            crate::runtime::telegram::WEBHOOK_SECRET,
            crate::runtime::upstream::SEPUSH_TOKEN,
        ] {
            assert_eq!(var.parameter, format!("{}{PARAMETER_SUFFIX}", var.name));
        }
    }

    #[tokio::test]
    async fn a_value_is_read_without_any_client() {
        let reader = SecretReader::new(&SdkConfig::builder().build());
        let value = reader
            .read(&SecretSource::Value("abc".into()))
            .await
            .expect("value");
        assert_eq!(value, "abc");
        assert!(reader.ssm.get().is_none(), "no SSM client was built");
    }

    #[test]
    fn permanence_follows_the_error() {
        let empty = SecretError::Empty {
            parameter: "/x".into(),
        };
        assert!(empty.is_permanent());
        let throttled = SecretError::Unreadable {
            parameter: "/x".into(),
            detail: "ThrottlingException".into(),
            permanent: false,
        };
        assert!(!throttled.is_permanent());
    }
}
