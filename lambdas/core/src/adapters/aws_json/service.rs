//! The AWS services the functions call, as the JSON protocols name them, and where each is reached.

use aws_types::SdkConfig;
use aws_types::service_config::ServiceConfigKey;
use url::Url;

/// One AWS service spoken to over `awsJson1_0` / `awsJson1_1`: every operation is a signed
/// `POST /` whose `X-Amz-Target` names it.
#[derive(Debug, PartialEq, Eq)]
pub struct Service {
    /// SigV4's service name, and the first label of the regional endpoint's host.
    pub signing_name: &'static str,
    /// The SDK's service id, which names its endpoint variable (`AWS_ENDPOINT_URL_<ID>`).
    pub service_id: &'static str,
    /// `X-Amz-Target` is this, a dot, and the operation name.
    pub target_prefix: &'static str,
    pub content_type: &'static str,
}

pub const DYNAMODB: Service = Service {
    signing_name: "dynamodb",
    service_id: "DynamoDB",
    target_prefix: "DynamoDB_20120810",
    content_type: "application/x-amz-json-1.0",
};

pub const SSM: Service = Service {
    signing_name: "ssm",
    service_id: "SSM",
    target_prefix: "AmazonSSM",
    content_type: "application/x-amz-json-1.1",
};

pub const STEP_FUNCTIONS: Service = Service {
    signing_name: "states",
    service_id: "SFN",
    target_prefix: "AWSStepFunctions",
    content_type: "application/x-amz-json-1.0",
};

impl Service {
    /// Where to send this service's requests: `explicit` (a client's own setting, e.g. moto in
    /// tests), else the configuration's endpoint for this service (`AWS_ENDPOINT_URL_<ID>`, then
    /// `AWS_ENDPOINT_URL`, as the SDK reads them), else the regional endpoint. Only http(s) URLs
    /// with a host are accepted: anything else would be signed for one host and sent to another.
    pub fn endpoint(
        &self,
        explicit: Option<&str>,
        config: &SdkConfig,
        region: &str,
    ) -> Result<Url, String> {
        let configured = || {
            config.service_config().and_then(|service| {
                service.load_config(
                    ServiceConfigKey::builder()
                        .service_id(self.service_id)
                        .env("AWS_ENDPOINT_URL")
                        .profile("endpoint_url")
                        .build()
                        .ok()?,
                )
            })
        };
        let chosen = explicit
            .map(str::to_owned)
            .or_else(configured)
            .or_else(|| config.endpoint_url().map(str::to_owned))
            .unwrap_or_else(|| self.regional_endpoint(region));
        let url = Url::parse(&chosen).map_err(|error| format!("endpoint {chosen:?}: {error}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "endpoint {chosen:?} is not an http(s) URL with a host"
            ));
        }
        Ok(url)
    }

    /// `https://<name>.<region>.amazonaws.com`, `.amazonaws.com.cn` in the China regions.
    fn regional_endpoint(&self, region: &str) -> String {
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("https://{}.{region}.{suffix}", self.signing_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::lambda_env_config;
    use aws_types::sdk_config::{RetryConfig, TimeoutConfig};

    fn config(vars: &'static [(&'static str, &'static str)]) -> SdkConfig {
        lambda_env_config::sdk_config_from(
            move |name| {
                vars.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            },
            TimeoutConfig::disabled(),
            RetryConfig::disabled(),
        )
    }

    #[test]
    fn the_regional_endpoint_by_default() {
        let url = DYNAMODB
            .endpoint(None, &config(&[]), "af-south-1")
            .expect("url");
        assert_eq!(url.as_str(), "https://dynamodb.af-south-1.amazonaws.com/");
        let url = STEP_FUNCTIONS
            .endpoint(None, &config(&[]), "cn-north-1")
            .expect("url");
        assert_eq!(url.as_str(), "https://states.cn-north-1.amazonaws.com.cn/");
    }

    #[test]
    fn explicit_then_service_then_general_endpoint() {
        let vars = &[
            ("AWS_ENDPOINT_URL", "http://general:1"),
            ("AWS_ENDPOINT_URL_SSM", "http://ssm-only:2"),
        ];
        let config = config(vars);
        let at = |service: &Service, explicit| {
            service
                .endpoint(explicit, &config, "af-south-1")
                .expect("url")
                .to_string()
        };
        assert_eq!(at(&SSM, Some("http://moto:5000")), "http://moto:5000/");
        assert_eq!(at(&SSM, None), "http://ssm-only:2/");
        assert_eq!(at(&DYNAMODB, None), "http://general:1/");
    }

    #[test]
    fn an_endpoint_that_is_not_http_is_refused() {
        for bad in ["ftp://host", "not a url", "unix:/tmp/socket"] {
            let error = SSM
                .endpoint(Some(bad), &config(&[]), "af-south-1")
                .expect_err(bad);
            assert!(error.contains(bad), "{error}");
        }
    }
}
