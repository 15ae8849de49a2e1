//! `loadshed asl test-state --cli-input-json FILE`: the TestState API offline, with the AWS CLI's flag. FILE (a path,
//! or `file://PATH` as the AWS CLI takes it) holds a request in the API's JSON shape; stdout gets the response in the
//! API's shape (exit 0), or `{"Error": {"Code", "Message"}}` for a request AWS would reject (exit 2).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use asl::test_state::{Rejection, test_state};
use serde_json::Value;

#[derive(Debug, clap::Args)]
pub struct TestStateArgs {
    /// The TestState request as JSON: a path, or file://PATH.
    #[arg(long = "cli-input-json", value_name = "FILE")]
    cli_input_json: String,
}

fn read_request(argument: &str) -> Result<Value, Rejection> {
    let path = PathBuf::from(argument.strip_prefix("file://").unwrap_or(argument));
    let text = std::fs::read_to_string(&path).map_err(|e| Rejection {
        code: "ValidationException",
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    serde_json::from_str(&text).map_err(|e| Rejection {
        code: "ValidationException",
        message: format!("{} is not a JSON request: {e}", path.display()),
    })
}

pub async fn run(args: TestStateArgs) -> ExitCode {
    run_into(&args, &mut std::io::stdout()).await
}

async fn run_into(args: &TestStateArgs, out: &mut (dyn Write + Send)) -> ExitCode {
    let answer = match read_request(&args.cli_input_json) {
        Ok(request) => test_state(&request).await,
        Err(rejection) => Err(rejection),
    };
    let (body, code) = match answer {
        Ok(response) => (response, ExitCode::SUCCESS),
        Err(rejection) => (rejection.to_json(), ExitCode::from(2)),
    };
    let printed = serde_json::to_string_pretty(&body)
        .map_err(std::io::Error::other)
        .and_then(|text| writeln!(out, "{text}"));
    match printed {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("loadshed asl test-state: cannot write the response: {error}");
            ExitCode::FAILURE
        }
        _ => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(request: &str, prefix: &str) -> (ExitCode, Value) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("request.json");
        std::fs::write(&path, request).expect("request written");
        let args = TestStateArgs {
            cli_input_json: format!("{prefix}{}", path.display()),
        };
        let mut out = Vec::new();
        let code = run_into(&args, &mut out).await;
        (code, serde_json::from_slice(&out).expect("JSON on stdout"))
    }

    #[tokio::test]
    async fn answers_a_request_from_a_path_or_a_file_url() {
        let request = r#"{"definition": "{\"Type\": \"Pass\", \"Result\": {\"a\": 1}, \"Next\": \"B\"}",
                          "input": "{}", "inspectionLevel": "DEBUG"}"#;
        for prefix in ["", "file://"] {
            let (code, body) = answer(request, prefix).await;
            assert_eq!(code, ExitCode::SUCCESS);
            assert_eq!(body["status"], "SUCCEEDED");
            assert_eq!(body["output"], r#"{"a":1}"#);
            assert_eq!(body["nextState"], "B");
            assert_eq!(body["inspectionData"]["result"], r#"{"a":1}"#);
        }
    }

    #[tokio::test]
    async fn a_request_aws_rejects_prints_its_error_and_exits_2() {
        let request = r#"{"definition": "{\"Type\": \"Pass\", \"End\": true}",
                          "mock": {"result": "{}"}}"#;
        let (code, body) = answer(request, "").await;
        assert_eq!(code, ExitCode::from(2));
        assert_eq!(body["Error"]["Code"], "ValidationException");
        assert_eq!(
            body["Error"]["Message"],
            "State type 'Pass' is not supported when a mock is specified"
        );
        let (code, body) = answer("not json", "").await;
        assert_eq!(code, ExitCode::from(2));
        assert_eq!(body["Error"]["Code"], "ValidationException");
    }
}
