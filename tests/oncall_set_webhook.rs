//! `loadshed set-webhook` against a wiremock Telegram: with the secrets and URL given, and with
//! everything read from the deployed stack (moto's CloudFormation) and its SSM parameters.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod oncall_support;

use aws_sdk_ssm::types::ParameterType;
use oncall_support::{aws, cli, moto_endpoint, stack, stderr, stdout, unique};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "4242:set-webhook_test";

async fn telegram() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/bot{TOKEN}/getMe")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "result": {"id": 4242, "is_bot": true, "first_name": "loadshed", "username": "loadshed_test_bot"}
        })))
        .mount(&server)
        .await;
    for method_name in ["setWebhook", "setMyCommands"] {
        Mock::given(method("POST"))
            .and(path(format!("/bot{TOKEN}/{method_name}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    server
}

async fn body_of(server: &MockServer, method_name: &str) -> Value {
    let request = server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.url.path().ends_with(method_name))
        .unwrap_or_else(|| panic!("no {method_name} request"));
    serde_json::from_slice(&request.body).expect("JSON body")
}

#[tokio::test]
async fn registers_the_given_url_with_the_secret_and_sets_the_menu() {
    let telegram = telegram().await;
    let output = cli(
        // Nothing listens here: with everything given, no AWS call is made.
        "http://127.0.0.1:9",
        &[
            "set-webhook",
            "--url",
            "https://abc.lambda-url.af-south-1.on.aws/",
        ],
        &[
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_WEBHOOK_SECRET", "given_secret-1"),
            ("TELEGRAM_API_BASE_URL", &telegram.uri()),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(
            "@loadshed_test_bot: webhook set to https://abc.lambda-url.af-south-1.on.aws/"
        )
    );

    let webhook = body_of(&telegram, "setWebhook").await;
    assert_eq!(webhook["url"], "https://abc.lambda-url.af-south-1.on.aws/");
    assert_eq!(webhook["secret_token"], "given_secret-1");
    assert_eq!(
        webhook["allowed_updates"],
        json!(["message", "callback_query", "my_chat_member"])
    );
    let menu = body_of(&telegram, "setMyCommands").await;
    let commands: Vec<&str> = menu["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .filter_map(|c| c["command"].as_str())
        .collect();
    assert_eq!(
        commands,
        [
            "subscribe",
            "unsubscribe",
            "status",
            "calendar",
            "refresh",
            "settings",
            "help"
        ]
    );
}

#[tokio::test]
async fn reads_the_url_and_the_secrets_from_the_deployed_stack() {
    let endpoint = moto_endpoint();
    let ssm = aws_sdk_ssm::Client::new(&aws(&endpoint).await);
    let token_parameter = format!("/{}/token", unique("loadshed-test"));
    let secret_parameter = format!("/{}/secret", unique("loadshed-test"));
    for (name, value) in [
        (&token_parameter, TOKEN),
        (&secret_parameter, "from-ssm_secret"),
    ] {
        ssm.put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .send()
            .await
            .expect("put the parameter");
    }
    let stack = stack(
        &endpoint,
        &[("WebhookUrl", "https://stack.lambda-url.af-south-1.on.aws/")],
        &[
            ("TelegramBotTokenParameter", &token_parameter),
            ("TelegramWebhookSecretParameter", &secret_parameter),
            ("BotUsername", "someone_else_bot"),
        ],
    )
    .await;
    let telegram = telegram().await;
    let output = cli(
        &endpoint,
        &["set-webhook", "--stack", &stack],
        &[("TELEGRAM_API_BASE_URL", &telegram.uri())],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let webhook = body_of(&telegram, "setWebhook").await;
    assert_eq!(
        webhook["url"],
        "https://stack.lambda-url.af-south-1.on.aws/"
    );
    assert_eq!(webhook["secret_token"], "from-ssm_secret");
    // The stack was deployed for another bot: the command still registers, and says so.
    assert!(
        stderr(&output).contains("BotUsername someone_else_bot"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn without_a_stack_or_secrets_it_fails_and_says_what_is_missing() {
    let endpoint = moto_endpoint();
    let output = cli(
        &endpoint,
        &["set-webhook", "--stack", "no-such-stack"],
        &[("TELEGRAM_BOT_TOKEN", TOKEN)],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("DescribeStacks"),
        "{}",
        stderr(&output)
    );
}
