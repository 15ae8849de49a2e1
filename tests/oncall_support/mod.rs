//! Shared by the on-call command tests: the CLI run against moto, and what they set up there.

use std::process::Output;
use std::time::Duration;

use aws_config::BehaviorVersion;

pub const ENDPOINT_ENV: &str = "LOADSHED_TEST_AWS_ENDPOINT";
const CLI: &str = env!("CARGO_BIN_EXE_loadshed");

/// The moto server `scripts/with-moto` started.
pub fn moto_endpoint() -> String {
    std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_ENV} is not set, so there is no Step Functions-compatible server to test against: run \
             `make test`, or `scripts/with-moto cargo test -p loadshed --test oncall_workflow`"
        )
    })
}

pub async fn aws(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("af-south-1"))
        .load()
        .await
}

/// Runs `loadshed ARGS` with every AWS client pointed at `endpoint` and the given extra variables;
/// none of the on-call variables leak in from the test's own environment.
pub async fn cli(endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(CLI);
    command
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "af-south-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE");
    for name in [
        "LOADSHED_STATE_MACHINE_ARN",
        "LOADSHED_STACK",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BOT_TOKEN_PARAMETER",
        "TELEGRAM_WEBHOOK_SECRET",
        "TELEGRAM_WEBHOOK_SECRET_PARAMETER",
        "TELEGRAM_API_BASE_URL",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the CLI finished within 60 s")
        .expect("run the CLI")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A unique name for things the tests create on the shared server.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A CloudFormation stack in moto with the given outputs and parameters, shaped like ours.
pub async fn stack(
    endpoint: &str,
    outputs: &[(&str, &str)],
    parameters: &[(&str, &str)],
) -> String {
    let mut template = String::from("AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n");
    for (key, _) in parameters {
        template.push_str(&format!("  {key}:\n    Type: String\n"));
    }
    if parameters.is_empty() {
        template.push_str("  Unused:\n    Type: String\n    Default: x\n");
    }
    template.push_str("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\nOutputs:\n");
    for (key, value) in outputs {
        template.push_str(&format!("  {key}:\n    Value: '{value}'\n"));
    }
    let name = unique("loadshed-test");
    let cloudformation = aws_sdk_cloudformation::Client::new(&aws(endpoint).await);
    let mut create = cloudformation
        .create_stack()
        .stack_name(&name)
        .template_body(template);
    for (key, value) in parameters {
        create = create.parameters(
            aws_sdk_cloudformation::types::Parameter::builder()
                .parameter_key(*key)
                .parameter_value(*value)
                .build(),
        );
    }
    create.send().await.expect("create the test stack");
    name
}
