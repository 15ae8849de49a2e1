//! The AWS clients the on-call commands use, built from the standard configuration.

use super::OncallError;

/// The standard chain (environment, profiles, SSO, ...), as the functions load it.
pub async fn config() -> aws_config::SdkConfig {
    loadshed_core::adapters::aws::load_config().await
}

pub async fn step_functions() -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::new(&config().await)
}

pub async fn cloudformation() -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::new(&config().await)
}

/// An SDK error as one line, with the service's own message.
pub fn error<E>(operation: &'static str, error: E) -> OncallError
where
    E: std::error::Error + 'static,
{
    OncallError::Aws {
        operation,
        detail: aws_sdk_sfn::error::DisplayErrorContext(&error).to_string(),
    }
}
