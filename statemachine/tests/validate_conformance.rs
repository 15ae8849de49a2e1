//! The validator against outside oracles in `../shared/conformance/asl/`: LocalStack's AWS-recorded validation
//! verdicts, the definitions AWS created and ran in LocalStack's execution and Choice-operator cases, and the
//! statelint, asl-validator and moto corpora (see that folder's SOURCES.md).
//!
//! Every disagreement must be listed in `validate_known_gaps.txt` with its reason, as
//! `corpus/file | codes | reason`, where `codes` is what we report for a definition the oracle accepts (checked, so a
//! new false error still fails), `-` for a definition we accept and the oracle rejects, or `detail` when the verdicts
//! agree but AWS's recorded diagnostic is not reproduced word for word. A listed gap that now agrees fails too, so the
//! list stays true.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use asl::validate::{MachineType, Options, Report, validate, validate_str};
use serde_json::Value;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance/asl");
const KNOWN_GAPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/validate_known_gaps.txt");

/// What the oracle expects of one definition.
struct Case {
    key: String,
    corpus: &'static str,
    valid: bool,
    report: Report,
    /// AWS-recorded diagnostics as (code, message, location), where recorded.
    recorded: Vec<(String, String, Option<String>)>,
}

fn shared_dir(corpus: &str) -> PathBuf {
    let dir = Path::new(SHARED).join(corpus);
    assert!(
        dir.is_dir(),
        "conformance corpus missing: {} (the read-only ../shared folder must sit beside the checkout)",
        dir.display()
    );
    dir
}

fn read_json(path: &Path) -> Value {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn validate_file(path: &Path) -> Report {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    validate_str(&text, &Options::default())
}

/// `... Invalid State Machine Definition: 'CODE: message at /location'` from a CreateStateMachine exception.
fn parse_exception(text: &str) -> Option<(String, String, Option<String>)> {
    let inner = text
        .split("Invalid State Machine Definition: '")
        .nth(1)?
        .strip_suffix('\'')?;
    let (code, rest) = inner.split_once(": ")?;
    let (message, location) = match rest.rsplit_once(" at /") {
        Some((message, location)) => (message.to_owned(), Some(format!("/{location}"))),
        None => (rest.to_owned(), None),
    };
    Some((code.to_owned(), message, location))
}

fn localstack_validation() -> Vec<Case> {
    let dir = shared_dir("localstack-validation");
    let mut cases = Vec::new();
    for path in sorted_json_files(&dir) {
        let case = read_json(&path);
        let options = Options {
            machine_type: match case["state_machine_type"].as_str() {
                Some("EXPRESS") => MachineType::Express,
                _ => MachineType::Standard,
            },
            ..Options::default()
        };
        let report = match case["definition_raw_string"].as_str() {
            Some(raw) => validate_str(raw, &options),
            None => validate(&case["definition"], &options),
        };
        let expected = &case["expected"];
        let (valid, recorded) = if let Some(response) = expected.get("validation_response") {
            let recorded = response["diagnostics"]
                .as_array()
                .map(|ds| {
                    ds.iter()
                        .map(|d| {
                            (
                                d["code"].as_str().unwrap_or_default().to_owned(),
                                d["message"].as_str().unwrap_or_default().to_owned(),
                                d["location"].as_str().map(str::to_owned),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            (response["result"] == "OK", recorded)
        } else {
            let exception = expected["exception"]["exception_value"]
                .as_str()
                .unwrap_or_default();
            (false, parse_exception(exception).into_iter().collect())
        };
        cases.push(Case {
            key: format!("localstack-validation/{}", file_name(&path)),
            corpus: "localstack-validation",
            valid,
            report,
            recorded,
        });
    }
    cases
}

/// statelint's fixtures use `"Resource": "foo:bar"` as a stand-in, which AWS (and this validator) rejects as not an
/// ARN. The fixtures test other rules, so the stand-in becomes a Lambda ARN and those rules alone decide the verdict.
fn with_arn_resources(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "Resource" && item == "foo:bar" {
                    *item = Value::from("arn:aws:lambda:us-east-1:123456789012:function:foo-bar");
                } else {
                    with_arn_resources(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(with_arn_resources),
        _ => {}
    }
}

fn manifest_corpus(corpus: &'static str) -> Vec<Case> {
    let dir = shared_dir(corpus);
    let manifest = read_json(&dir.join("manifest.json"));
    let entries = manifest["cases"].as_array().cloned().unwrap_or_default();
    assert!(!entries.is_empty(), "{corpus}/manifest.json lists no cases");
    entries
        .iter()
        .map(|entry| {
            let file = entry["file"].as_str().expect("manifest entry has a file");
            let path = dir.join(file);
            Case {
                key: format!("{corpus}/{}", file_name(&path)),
                corpus,
                valid: entry["verdict"] == "valid",
                report: if corpus == "statelint" {
                    let mut definition = read_json(&path);
                    with_arn_resources(&mut definition);
                    validate(&definition, &Options::default())
                } else {
                    validate_file(&path)
                },
                recorded: Vec::new(),
            }
        })
        .collect()
}

/// LocalStack's executions recorded on AWS: AWS created every one of these state machines, so each must be valid.
fn localstack_executions() -> Vec<Case> {
    let dir = shared_dir("localstack");
    sorted_json_files(&dir)
        .into_iter()
        .map(|path| {
            let case = read_json(&path);
            Case {
                key: format!("localstack/{}", file_name(&path)),
                corpus: "localstack (created on AWS)",
                valid: true,
                report: validate(&case["definition"], &Options::default()),
                recorded: Vec::new(),
            }
        })
        .collect()
}

/// LocalStack's Choice operator cases: every run's definition (the operand inlined or not) executed on AWS.
fn localstack_choice_operators() -> Vec<Case> {
    let dir = shared_dir("localstack-choice-operators");
    let mut cases = Vec::new();
    for path in sorted_json_files(&dir) {
        let case = read_json(&path);
        let runs = case["runs"].as_array().cloned().unwrap_or_default();
        assert!(!runs.is_empty(), "{} has no runs", path.display());
        for (i, run) in runs.iter().enumerate() {
            let definition = run.get("definition").unwrap_or(&case["definition"]);
            cases.push(Case {
                key: format!("localstack-choice-operators/{}#{i}", file_name(&path)),
                corpus: "localstack-choice-operators (run on AWS)",
                valid: true,
                report: validate(definition, &Options::default()),
                recorded: Vec::new(),
            });
        }
    }
    cases
}

/// moto runs every one of its templates, so each must be valid.
fn moto() -> Vec<Case> {
    let dir = shared_dir("moto").join("definitions");
    sorted_json_files(&dir)
        .into_iter()
        .map(|path| Case {
            key: format!("moto/{}", file_name(&path)),
            corpus: "moto",
            valid: true,
            report: validate_file(&path),
            recorded: Vec::new(),
        })
        .collect()
}

fn sorted_json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// How we differ from the oracle on one definition, in the gap file's `codes` notation.
fn disagreement(case: &Case) -> Option<String> {
    let ours_valid = case.report.is_ok();
    if case.valid && !ours_valid {
        let codes: BTreeSet<&str> = case.report.errors().map(|d| d.code.as_str()).collect();
        return Some(codes.into_iter().collect::<Vec<_>>().join(","));
    }
    if !case.valid && ours_valid {
        return Some("-".to_owned());
    }
    let reproduced = case.recorded.iter().all(|(code, message, location)| {
        case.report.diagnostics.iter().any(|d| {
            d.code.as_str() == code
                && &d.message == message
                && d.location.as_ref() == location.as_ref()
        })
    });
    (!reproduced).then(|| "detail".to_owned())
}

fn known_gaps() -> BTreeMap<String, String> {
    let text =
        fs::read_to_string(KNOWN_GAPS).unwrap_or_else(|e| panic!("cannot read {KNOWN_GAPS}: {e}"));
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut parts = line.splitn(3, '|').map(str::trim);
            let (Some(key), Some(codes), Some(reason)) = (parts.next(), parts.next(), parts.next())
            else {
                panic!("known gap without `key | codes | reason`: {line}");
            };
            assert!(!reason.is_empty(), "known gap without a reason: {line}");
            (key.to_owned(), codes.to_owned())
        })
        .collect()
}

#[test]
fn validator_agrees_with_the_oracles_except_for_listed_gaps() {
    let cases: Vec<Case> = [
        localstack_validation(),
        localstack_executions(),
        localstack_choice_operators(),
        manifest_corpus("statelint"),
        manifest_corpus("asl-validator"),
        moto(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let gaps = known_gaps();

    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut unlisted = Vec::new();
    let mut seen = BTreeSet::new();
    for case in &cases {
        let count = counts.entry(case.corpus).or_default();
        count.1 += 1;
        let Some(ours) = disagreement(case) else {
            count.0 += 1;
            continue;
        };
        seen.insert(case.key.clone());
        match gaps.get(&case.key) {
            Some(listed) if *listed == ours => {}
            listed => unlisted.push(format!(
                "{} | {ours} | (listed as {listed:?}) oracle says {}, we say:\n{}",
                case.key,
                if case.valid { "valid" } else { "invalid" },
                case.report
                    .diagnostics
                    .iter()
                    .map(|d| format!("    {d}\n"))
                    .collect::<String>()
            )),
        }
    }
    for (corpus, (agree, total)) in &counts {
        println!("{corpus}: {agree}/{total} agree");
    }
    let stale: Vec<&String> = gaps.keys().filter(|key| !seen.contains(*key)).collect();

    assert!(
        unlisted.is_empty(),
        "unlisted disagreements:\n{}",
        unlisted.join("\n")
    );
    assert!(
        stale.is_empty(),
        "listed in validate_known_gaps.txt but now agreeing (remove them): {stale:?}"
    );
}
