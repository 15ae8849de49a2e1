//! SigV4 signing of one request, by aws-sigv4 (the SDK's own signer).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign as sigv4};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use hyper::body::Bytes;

use super::error::CallError;

/// `request` with the signature headers (`authorization`, `x-amz-date`, and
/// `x-amz-security-token` for temporary credentials) added. Every header already set is signed.
pub fn sign(
    mut request: http::Request<Bytes>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<http::Request<Bytes>, CallError> {
    let failed = |error: &dyn std::fmt::Display| CallError::Request(format!("signing: {error}"));
    let identity = Identity::from(credentials.clone());
    let params = SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| failed(&error))?
        .into();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            value
                .to_str()
                .map(|value| (name.as_str(), value))
                .map_err(|error| failed(&error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|error| failed(&error))?;
    let (instructions, _signature) = sigv4(signable, &params)
        .map_err(|error| failed(&error))?
        .into_parts();
    instructions.apply_to_request_http1x(&mut request);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn header(request: &http::Request<Bytes>, name: &str) -> String {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// `post-vanilla` of AWS's SigV4 test suite: its keys, time, region and service give the
    /// signature the suite publishes (5da7c1...), so what this module hands the signer (method,
    /// URI, headers, body) is what AWS signs.
    #[test]
    fn the_signature_of_the_aws_test_suite() {
        let request = http::Request::post("https://example.amazonaws.com/")
            .header("host", "example.amazonaws.com")
            .body(Bytes::new())
            .expect("request");
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
        let signed = sign(request, &credentials, "us-east-1", "service", time).expect("signed");
        assert_eq!(header(&signed, "x-amz-date"), "20150830T123600Z");
        assert_eq!(
            header(&signed, "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn the_target_the_body_and_the_session_token_are_signed() {
        let request = |body: &[u8]| {
            http::Request::post("https://dynamodb.af-south-1.amazonaws.com/")
                .header("host", "dynamodb.af-south-1.amazonaws.com")
                .header("content-type", "application/x-amz-json-1.0")
                .header("x-amz-target", "DynamoDB_20120810.GetItem")
                .body(Bytes::copy_from_slice(body))
                .expect("request")
        };
        let credentials =
            Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test");
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let signed = |body: &[u8]| {
            sign(request(body), &credentials, "af-south-1", "dynamodb", time).expect("signed")
        };
        let first = signed(br#"{"TableName":"t"}"#);
        assert_eq!(header(&first, "x-amz-security-token"), "token");
        let authorization = header(&first, "authorization");
        assert!(
            authorization.contains(
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"
            ),
            "{authorization}"
        );
        assert_eq!(
            header(&signed(br#"{"TableName":"t"}"#), "authorization"),
            authorization
        );
        assert_ne!(
            header(&signed(br#"{"TableName":"u"}"#), "authorization"),
            authorization
        );
    }
}
