//! Secrets given as SSM SecureString parameter names, read from moto's SSM (`scripts/with-moto`
//! sets `LOADSHED_TEST_AWS_ENDPOINT`), and the clients that read them on first use.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use aws_config::BehaviorVersion;
use aws_sdk_ssm::types::ParameterType;
use loadshed_core::domain::{Area, ChatId};
use loadshed_core::ports::{AreaSearch, Message, Messenger, SendError};
use loadshed_core::runtime::secrets::{SecretError, SecretReader, SecretSource};
use loadshed_core::runtime::telegram::TelegramMessenger;
use loadshed_core::runtime::upstream::LazySePush;
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ENDPOINT_ENV: &str = "LOADSHED_TEST_AWS_ENDPOINT";

fn endpoint() -> String {
    std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_ENV} is not set, so there is no SSM-compatible server to test against: run \
             `make test`, or `scripts/with-moto cargo test -p loadshed-core --test secrets_ssm`"
        )
    })
}

async fn aws() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .load()
        .await
}

/// The SDK's SSM client: the tests' own, to put and delete parameters as a person would.
async fn ssm() -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&aws().await)
}

/// A reader whose SSM client is the one the functions use, on moto.
async fn reader() -> SecretReader {
    SecretReader::with_client(ssm().await)
}

/// A SecureString parameter under a name no other test uses.
async fn secure_parameter(ssm: &aws_sdk_ssm::Client, value: &str) -> String {
    let name = format!("/loadshed-test/{}", uuid::Uuid::new_v4());
    ssm.put_parameter()
        .name(&name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .expect("put the test parameter");
    name
}

#[tokio::test]
async fn reads_and_trims_a_secure_string() {
    let ssm = ssm().await;
    let name = secure_parameter(&ssm, "  123:from-ssm \n").await;
    let reader = reader().await;
    let value = reader
        .read(&SecretSource::Parameter(name))
        .await
        .expect("read the parameter");
    assert_eq!(value, "123:from-ssm");
}

#[tokio::test]
async fn a_missing_parameter_is_a_permanent_error_naming_it() {
    let reader = reader().await;
    let error = reader
        .read(&SecretSource::Parameter("/loadshed-test/absent".into()))
        .await
        .expect_err("no such parameter");
    assert!(
        matches!(&error, SecretError::Unreadable { parameter, .. } if parameter == "/loadshed-test/absent"),
        "{error:?}"
    );
    assert!(error.is_permanent(), "{error}");
    assert!(
        error.to_string().contains("/loadshed-test/absent"),
        "{error}"
    );
}

#[tokio::test]
async fn the_telegram_messenger_sends_with_the_token_from_ssm() {
    let ssm = ssm().await;
    let name = secure_parameter(&ssm, "4242:token_from-ssm").await;
    let telegram = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/bot4242:token_from-ssm/sendMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {"message_id": 7, "date": 1, "chat": {"id": 42, "type": "private"}, "text": "hi"}
        })))
        .expect(2)
        .mount(&telegram)
        .await;
    let messenger = TelegramMessenger::new(
        SecretSource::Parameter(name.clone()),
        telegram.uri(),
        reader().await,
    )
    .expect("nothing is read at construction");
    let sent = messenger
        .send(ChatId(42), &Message::plain("hi"))
        .await
        .expect("sent");
    assert_eq!(sent.message_id, 7);

    // Read once per execution environment: the second message needs no SSM.
    ssm.delete_parameter()
        .name(&name)
        .send()
        .await
        .expect("delete the parameter");
    messenger
        .send(ChatId(42), &Message::plain("hi"))
        .await
        .expect("sent with the kept token");
}

#[tokio::test]
async fn the_telegram_messenger_without_its_parameter_is_unauthorized() {
    let telegram = MockServer::start().await;
    let messenger = TelegramMessenger::new(
        SecretSource::Parameter("/loadshed-test/no-token".into()),
        telegram.uri(),
        reader().await,
    )
    .expect("nothing is read at construction");
    let error = messenger
        .send(ChatId(42), &Message::plain("hi"))
        .await
        .expect_err("no token");
    assert_eq!(error, SendError::Unauthorized);
    assert!(
        telegram
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn eskomsepush_gets_the_token_from_ssm() {
    let ssm = ssm().await;
    let name = secure_parameter(&ssm, "ESP-TOKEN-1").await;
    let sepush = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/areas_search"))
        .and(query_param("text", "milnerton"))
        .and(header("Token", "ESP-TOKEN-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "areas": [{"id": "eskde-14-milnerton", "name": "Milnerton (14)", "region": "Eskom Direct, City of Cape Town"}]
        })))
        .expect(1)
        .mount(&sepush)
        .await;
    let lazy = LazySePush::new(
        SecretSource::Parameter(name),
        Some(format!("{}/", sepush.uri())),
        reader().await,
    );
    let areas: Vec<Area> = lazy.search("milnerton", 5).await.expect("search");
    assert_eq!(areas.len(), 1, "{areas:?}");
}

#[tokio::test]
async fn an_unreachable_ssm_is_a_transient_error() {
    // A port nothing listens on: every attempt is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_initial_backoff(std::time::Duration::from_millis(10)),
        )
        .load()
        .await;
    let error = SecretReader::with_client(aws_sdk_ssm::Client::new(&config))
        .read(&SecretSource::Parameter("/loadshed-test/any".into()))
        .await
        .expect_err("nothing listens");
    assert!(!error.is_permanent(), "{error}");
}
