//! AWS-recorded TestState calls (`../shared/conformance/asl/localstack-test-state/`) answered by `asl::test_state`,
//! compared as that folder's README says: JSON-string fields are parsed (when the snapshot decoded them) or compared
//! as parsed text, placeholders (`<resource:N>`, `<uuid:N>`, `date`, ...) match any value. Calls that still differ are
//! listed with a reason in `tests/test_state_known_gaps.txt`; a listed call that passes fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/asl/localstack-test-state"
);
const KNOWN_GAPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/test_state_known_gaps.txt"
);

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(SHARED);
    assert!(
        dir.is_dir(),
        "the TestState corpus {} is missing: this test needs ../shared (present in CI) next to the checkout",
        dir.display()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn placeholder_match(expected: &str, actual: &str) -> bool {
    if ["date", "start-date"].contains(&expected) {
        return true;
    }
    let Ok(token) = regex::Regex::new(r"<[A-Za-z0-9_:\-]+>") else {
        return false;
    };
    if !token.is_match(expected) {
        return false;
    }
    let mut pattern = String::from("(?s)^");
    let mut last = 0;
    for m in token.find_iter(expected) {
        pattern.push_str(&regex::escape(&expected[last..m.start()]));
        pattern.push_str(".*");
        last = m.end();
    }
    pattern.push_str(&regex::escape(&expected[last..]));
    pattern.push('$');
    regex::Regex::new(&pattern).is_ok_and(|re| re.is_match(actual))
}

fn loosely_equal(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) => e == a || placeholder_match(e, a),
        (Value::String(e), _) if ["date", "start-date"].contains(&e.as_str()) => true,
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| loosely_equal(e, a))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|av| loosely_equal(v, av)))
        }
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        (e, a) => e == a,
    }
}

/// Parses the JSON-string fields of a response (`output`, `inspectionData.*` except numbers and errorDetails).
fn decode_strings(response: &Value) -> Value {
    let decode = |v: &Value| match v {
        Value::String(text) => serde_json::from_str(text).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    };
    let mut response = response.clone();
    if let Some(output) = response.get("output").map(decode) {
        response["output"] = output;
    }
    if let Some(Value::Object(data)) = response.get_mut("inspectionData") {
        for (key, value) in data.iter_mut() {
            if key != "errorDetails" {
                *value = decode(value);
            }
        }
    }
    response
}

async fn check(case: &Value) -> Result<(), String> {
    let actual = match asl::test_state::test_state(&case["request"]).await {
        Ok(response) => decode_strings(&response),
        Err(rejection) => rejection.to_json(),
    };
    let expected = decode_strings(&case["expected"]);
    if loosely_equal(&expected, &actual) {
        Ok(())
    } else {
        let mut why = format!("expected {expected}, got {actual}");
        why.truncate(600);
        Err(why)
    }
}

fn known_gaps() -> BTreeMap<String, String> {
    std::fs::read_to_string(KNOWN_GAPS)
        .unwrap_or_else(|e| panic!("cannot read {KNOWN_GAPS}: {e}"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (case, reason) = line
                .split_once(" -- ")
                .unwrap_or_else(|| panic!("gap line without ' -- reason': {line}"));
            (case.trim().to_owned(), reason.trim().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn recorded_test_state_calls_match() {
    let mut failures = BTreeMap::new();
    let files = cases();
    for file in &files {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("case")).expect("JSON");
        let id = case["id"].as_str().expect("id").to_owned();
        if let Err(why) = check(&case).await {
            failures.insert(id, why);
        }
    }
    let total = files.len();
    println!(
        "TestState conformance: {} / {total} recorded calls",
        total - failures.len()
    );
    let gaps = known_gaps();
    let unexpected: Vec<String> = failures
        .iter()
        .filter(|(id, _)| !gaps.contains_key(*id))
        .map(|(id, why)| format!("{id} -- {why}"))
        .collect();
    let fixed: Vec<&String> = gaps
        .keys()
        .filter(|id| !failures.contains_key(*id))
        .collect();
    assert!(
        unexpected.is_empty(),
        "calls failing that are not in test_state_known_gaps.txt:\n{}",
        unexpected.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "calls listed in test_state_known_gaps.txt now pass; remove them: {fixed:?}"
    );
}
