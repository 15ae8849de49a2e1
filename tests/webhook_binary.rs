//! The webhook binary against a local Lambda Runtime API, served Function URL events: the wiring
//! starts with no network, checks the secret, answers in the response, and reads secrets given as
//! SSM parameter names (from moto's SSM when `scripts/with-moto` runs the tests).

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod support;

use serde_json::{Value, json};
use support::runtime_api::{RuntimeApi, binary, vars};

const BINARY: &str = "loadshed-webhook";
const SECRET: &str = "runtime-test_secret";

/// A Function URL (payload format 2.0) POST with `body` and, if given, the secret header.
fn function_url_event(secret: Option<&str>, body: &Value) -> Value {
    let mut headers =
        json!({"content-type": "application/json", "host": "abc.lambda-url.af-south-1.on.aws"});
    if let Some(secret) = secret {
        headers["x-telegram-bot-api-secret-token"] = json!(secret);
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc",
            "domainName": "abc.lambda-url.af-south-1.on.aws",
            "domainPrefix": "abc",
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "149.154.167.197", "userAgent": "TelegramBot"},
            "requestId": "r-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "28/Nov/2026:08:00:00 +0000",
            "timeEpoch": 1795852800000_i64
        },
        "body": body.to_string(),
        "isBase64Encoded": false
    })
}

fn help_update() -> Value {
    json!({"update_id": 1, "message": {"message_id": 1, "date": 1,
        "chat": {"id": 42, "type": "private"}, "text": "/help",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}})
}

/// The environment of a configured function; nothing it names is reachable.
fn base_env() -> Vec<(String, String)> {
    vars(&[
        ("LOADSHED_TABLE", "loadshed-test"),
        (
            "STATE_MACHINE_ARN",
            "arn:aws:states:af-south-1:123456789012:stateMachine:refresh",
        ),
        ("BOT_USERNAME", "loadshed_bot"),
        ("TELEGRAM_BOT_TOKEN", "123:test-token"),
        ("TELEGRAM_WEBHOOK_SECRET", SECRET),
        ("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/"),
        ("ESKOM_BASE_URL", "http://127.0.0.1:9/"),
    ])
}

/// Serves one invocation with `event` and returns the HTTP response the function sent back.
async fn invoke(env: &[(String, String)], event: Value) -> Value {
    let api = RuntimeApi::serving(Some(event)).await;
    let mut child = api.spawn(BINARY, env);
    let posted = api.posted().await;
    child.kill().await.ok();
    assert_eq!(
        posted.kind, "response",
        "expected a response, got: {}",
        posted.body
    );
    posted.body
}

#[tokio::test]
async fn an_authorised_update_is_answered_in_the_response() {
    let response = invoke(
        &base_env(),
        function_url_event(Some(SECRET), &help_update()),
    )
    .await;
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: Value =
        serde_json::from_str(response["body"].as_str().expect("a body")).expect("JSON");
    assert_eq!(body["method"], "sendMessage");
    assert_eq!(body["chat_id"], 42);
}

#[tokio::test]
async fn a_request_without_the_secret_is_refused() {
    let response = invoke(&base_env(), function_url_event(None, &help_update())).await;
    assert_eq!(response["statusCode"], 401, "{response}");
}

#[tokio::test]
async fn a_missing_variable_stops_the_start_with_its_name() {
    for missing in [
        "BOT_USERNAME",
        "STATE_MACHINE_ARN",
        "TELEGRAM_WEBHOOK_SECRET",
        "LOADSHED_TABLE",
    ] {
        let env: Vec<_> = base_env()
            .into_iter()
            .filter(|(k, _)| k != missing)
            .collect();
        let output = tokio::process::Command::new(binary(BINARY))
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_FUNCTION_NAME", BINARY)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            // No Runtime API: a binary that got past its configuration would fail differently.
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .output()
            .await
            .expect("run the binary");
        assert!(!output.status.success(), "{missing}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(missing), "{missing} not named in: {stderr}");
    }
}

#[tokio::test]
async fn secrets_given_as_ssm_parameters_are_read_on_first_use() {
    let endpoint = std::env::var("LOADSHED_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "LOADSHED_TEST_AWS_ENDPOINT is not set, so there is no SSM-compatible server to test against: \
             run `make test`, or `scripts/with-moto cargo test -p loadshed --test webhook_binary`"
        )
    });
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(aws_config::Region::new("af-south-1"))
        .load()
        .await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let unique = std::process::id();
    let parameter = format!("/loadshed/test-{unique}/webhook-secret");
    ssm.put_parameter()
        .name(&parameter)
        .value(SECRET)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("put the parameter into moto");

    let mut env: Vec<_> = base_env()
        .into_iter()
        .filter(|(k, _)| k != "TELEGRAM_WEBHOOK_SECRET")
        .collect();
    env.push(("TELEGRAM_WEBHOOK_SECRET_PARAMETER".into(), parameter));
    env.push(("AWS_ENDPOINT_URL_SSM".into(), endpoint.clone()));
    let response = invoke(&env, function_url_event(Some(SECRET), &help_update())).await;
    assert_eq!(response["statusCode"], 200, "{response}");

    // A parameter that does not exist: the function cannot check anyone, and says so with a 5xx
    // that makes Telegram try again later.
    env.retain(|(k, _)| k != "TELEGRAM_WEBHOOK_SECRET_PARAMETER");
    env.push((
        "TELEGRAM_WEBHOOK_SECRET_PARAMETER".into(),
        "/loadshed/absent".into(),
    ));
    let response = invoke(&env, function_url_event(Some(SECRET), &help_update())).await;
    assert_eq!(response["statusCode"], 500, "{response}");
}
