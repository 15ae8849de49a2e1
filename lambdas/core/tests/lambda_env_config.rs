//! The Lambda functions' AWS configuration (`adapters::lambda_env_config`, used when
//! `loadshed-core` is built without `aws-profiles`) against moto's real DynamoDB and SSM
//! (`scripts/with-moto` sets `LOADSHED_TEST_AWS_ENDPOINT`): region, credentials and endpoints
//! from the variables Lambda sets, signed requests that moto accepts.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_ssm::types::ParameterType;
use aws_types::SdkConfig;
use aws_types::sdk_config::{RetryConfig, TimeoutConfig};
use loadshed_core::adapters::aws_json::{AwsJsonClient, CallPolicy, service};
use loadshed_core::adapters::dynamo::{DynamoStore, create_table};
use loadshed_core::adapters::lambda_env_config::sdk_config_from;
use loadshed_core::domain::Stage;
use loadshed_core::errors::StoreError;
use loadshed_core::ports::{StageStore, StageWrite};
use loadshed_core::runtime::secrets::{SecretReader, SecretSource};

const ENDPOINT_ENV: &str = "LOADSHED_TEST_AWS_ENDPOINT";

fn moto() -> String {
    std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_ENV} is not set, so there is no moto server to test against: run \
             `make test`, or `scripts/with-moto cargo nextest run -p loadshed-core --test lambda_env_config`"
        )
    })
}

fn config(vars: &[(&str, &str)]) -> SdkConfig {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    sdk_config_from(
        move |name| vars.get(name).cloned(),
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(2))
            .operation_timeout(Duration::from_secs(10))
            .build(),
        RetryConfig::standard().with_max_attempts(1),
    )
}

fn lambda_vars<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut vars = vec![
        ("AWS_REGION", "af-south-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing-session"),
    ];
    vars.extend_from_slice(extra);
    vars
}

/// The functions' DynamoDB client on `config`, its endpoint left to the configuration.
fn dynamo_client(config: &SdkConfig) -> AwsJsonClient {
    AwsJsonClient::new(&service::DYNAMODB, config, None, CallPolicy::default())
}

async fn fresh_store(config: &SdkConfig) -> DynamoStore {
    let store = DynamoStore::new(
        dynamo_client(config),
        format!("lambda-env-{}", uuid::Uuid::new_v4()),
    );
    create_table(&store)
        .await
        .expect("create the table in moto");
    store
}

#[tokio::test]
async fn the_store_works_through_the_general_endpoint() {
    let endpoint = moto();
    let config = config(&lambda_vars(&[("AWS_ENDPOINT_URL", &endpoint)]));
    let store = fresh_store(&config).await;
    assert_eq!(store.current_stage().await.expect("read"), None);
    let stage = Stage::new(4).expect("stage 4");
    let now = chrono::Utc::now();
    let written = store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage),
            None,
            now,
            None,
        )
        .await
        .expect("first write");
    assert!(
        matches!(&written, StageWrite::Written(s) if s.version == 1),
        "{written:?}"
    );
    let stored = store.current_stage().await.expect("read").expect("stored");
    assert_eq!(stored.stage, stage);
}

#[tokio::test]
async fn a_service_endpoint_wins_over_the_general_one() {
    let endpoint = moto();
    // Nothing listens on port 9: only DynamoDB's own variable can make the call reach moto.
    let config = config(&lambda_vars(&[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
    ]));
    let store = fresh_store(&config).await;
    assert_eq!(store.current_stage().await.expect("read"), None);
}

#[tokio::test]
async fn a_secure_parameter_reads_back_from_ssm() {
    let endpoint = moto();
    let config = config(&lambda_vars(&[("AWS_ENDPOINT_URL_SSM", &endpoint)]));
    let ssm = aws_sdk_ssm::Client::new(&config);
    let name = format!("/loadshed-test/{}", uuid::Uuid::new_v4());
    ssm.put_parameter()
        .name(&name)
        .value("s3cret")
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect("put the parameter");
    // Read as the functions read it: their SSM client, its endpoint left to the configuration.
    let reader = SecretReader::with_client(AwsJsonClient::new(
        &service::SSM,
        &config,
        None,
        CallPolicy::default(),
    ));
    let read = reader
        .read(&SecretSource::Parameter(name))
        .await
        .expect("get the parameter");
    assert_eq!(read, "s3cret");
}

#[tokio::test]
async fn missing_credentials_are_a_typed_store_error_not_a_panic() {
    let endpoint = moto();
    let config = config(&[
        ("AWS_REGION", "af-south-1"),
        ("AWS_ENDPOINT_URL", &endpoint),
    ]);
    let store = DynamoStore::new(dynamo_client(&config), "no-such-table");
    let error = store.current_stage().await.expect_err("no credentials");
    // Permanent: the function's role, not DynamoDB, is what is missing.
    assert!(
        matches!(&error, StoreError::Misconfigured(detail) if detail.contains("AWS_ACCESS_KEY_ID")),
        "{error:?}"
    );
}
