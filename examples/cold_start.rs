//! Cold starts of the Lambda functions (`make bench`): each function is started fresh against a
//! local Lambda Runtime API, once per run, and timed from spawn to the moment its first answer
//! (response or error) reaches the Runtime API; its peak RSS (`VmHWM`) is read at that moment.
//!
//! Scenarios: a payload each function answers without any I/O (an `InvalidInput` error for the
//! tasks, a 401 for the webhook, a 405 for the web pages), and the stage task's real work: GetStatus from a local Eskom
//! stand-in and the conditional write of the new stage to moto's DynamoDB
//! (`LOADSHED_TEST_AWS_ENDPOINT`, set by `scripts/with-moto`; without it that scenario is skipped
//! and says so). The real work is also timed warm: each of its processes gets a second
//! invocation, timed from its first answer to its second, so the table shows what the start costs
//! beyond the work (whose floor is moto, a Python server, and the stand-in).
//!
//!   cargo run --example cold_start -- [BINARY_DIR]   (default: target/release; COLD_START_RUNS=15,
//!   COLD_START_ONLY=loadshed-stage,... to time only some functions)
//!
//! The binaries are whatever BINARY_DIR holds: `make bench` builds each function on its own with
//! `cargo build --release -p ...`, as it ships. This driver itself may be a debug build: it only
//! spawns processes and receives a request per run, and its share of a measurement is the time
//! from the function's write to the mock server's handler, well under a millisecond.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use loadshed_core::adapters::dynamo::{ClientSettings, DynamoStore, create_table};
use serde_json::{Value, json};
use tokio::process::Command;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const PATIENCE: Duration = Duration::from_secs(30);
const SECRET: &str = "bench-secret_value";

/// What the Runtime API saw of one run.
struct Answer {
    at: Instant,
    /// `response`, `error` (invocation error) or `init/error`.
    kind: String,
    body: Value,
}

/// Takes the time a request arrives, before anything else is done with it.
struct Recorder(Mutex<UnboundedSender<Answer>>);

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let at = Instant::now();
        let segments: Vec<&str> = request.url.path().rsplit('/').take(2).collect();
        let kind = match segments.as_slice() {
            ["error", "init"] => "init/error".to_owned(),
            [last, ..] => (*last).to_owned(),
            [] => String::new(),
        };
        let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        if let Ok(sender) = self.0.lock() {
            sender.send(Answer { at, kind, body }).ok();
        }
        ResponseTemplate::new(202)
    }
}

struct Run {
    elapsed: Duration,
    /// With [`Scenario::warm`]: the second invocation of the same process, from the first answer
    /// to the second: the same work without the start.
    warm: Option<(Duration, Answer)>,
    peak_rss_kib: u64,
    answer: Answer,
}

struct Scenario {
    function: &'static str,
    what: &'static str,
    env: Vec<(String, String)>,
    /// The payload of run `i`.
    payload: Box<dyn Fn(usize) -> Value>,
    /// Whether an answer is the one this scenario expects (a run that is not fails the bench).
    expect: fn(&Answer) -> bool,
    /// Whether each process is also given a second invocation (of payload `i + runs`), timed as
    /// the warm figure: what the cold figure costs beyond the work itself.
    warm: bool,
}

#[tokio::main]
async fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(default_binary_dir);
    let runs: usize = std::env::var("COLD_START_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(15)
        .max(1);
    let mut scenarios = no_io_scenarios();
    // The stand-in must outlive every run of the scenario.
    let eskom = MockServer::start().await;
    match real_work_scenario(&eskom).await {
        Some(scenario) => scenarios.push(scenario),
        None => eprintln!(
            "cold_start: LOADSHED_TEST_AWS_ENDPOINT is not set, so the stage task's real work \
             (GetStatus + write to moto) is skipped: run `make bench`, or this under scripts/with-moto"
        ),
    }

    println!(
        "cold start, spawn -> first answer at the Runtime API, {runs} fresh starts each ({})",
        dir.display()
    );
    println!(
        "| function | payload | median ms | min-max ms | peak RSS median MiB | peak RSS max MiB |"
    );
    println!("|---|---|---|---|---|---|");
    // COLD_START_ONLY=loadshed-stage,loadshed-web times only those functions.
    if let Ok(only) = std::env::var("COLD_START_ONLY") {
        let only: Vec<&str> = only.split(',').map(str::trim).collect();
        scenarios.retain(|s| only.contains(&s.function));
    }
    let mut failed = false;
    for scenario in &scenarios {
        let binary = dir.join(scenario.function);
        if !binary.exists() {
            eprintln!(
                "cold_start: {} is missing: build it first",
                binary.display()
            );
            std::process::exit(2);
        }
        let mut results = Vec::with_capacity(runs);
        for i in 0..runs {
            let second = scenario.warm.then(|| (scenario.payload)(i + runs));
            let run = one_run(&binary, &scenario.env, (scenario.payload)(i), second).await;
            if !(scenario.expect)(&run.answer) {
                eprintln!(
                    "cold_start: {} ({}) run {i} answered {} {}",
                    scenario.function, scenario.what, run.answer.kind, run.answer.body
                );
                failed = true;
            }
            if let Some((_, second)) = &run.warm
                && !(scenario.expect)(second)
            {
                eprintln!(
                    "cold_start: {} ({}) run {i}, second invocation, answered {} {}",
                    scenario.function, scenario.what, second.kind, second.body
                );
                failed = true;
            }
            results.push(run);
        }
        let mut millis: Vec<f64> = results
            .iter()
            .map(|r| r.elapsed.as_secs_f64() * 1000.0)
            .collect();
        let mut rss: Vec<f64> = results
            .iter()
            .map(|r| r.peak_rss_kib as f64 / 1024.0)
            .collect();
        millis.sort_by(f64::total_cmp);
        rss.sort_by(f64::total_cmp);
        println!(
            "| {} | {} | {:.1} | {:.1}-{:.1} | {:.1} | {:.1} |",
            scenario.function,
            scenario.what,
            median(&millis),
            millis[0],
            millis[millis.len() - 1],
            median(&rss),
            rss[rss.len() - 1],
        );
        let mut warm: Vec<f64> = results
            .iter()
            .filter_map(|r| r.warm.as_ref())
            .map(|(d, _)| d.as_secs_f64() * 1000.0)
            .collect();
        if !warm.is_empty() {
            warm.sort_by(f64::total_cmp);
            println!(
                "| {} | the same, warm: a second invocation of the process | {:.1} | {:.1}-{:.1} | - | - |",
                scenario.function,
                median(&warm),
                warm[0],
                warm[warm.len() - 1],
            );
        }
    }
    if failed {
        std::process::exit(1);
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// `target/release`, beside this example's own `target/<profile>/examples/` directory.
fn default_binary_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the driver's path");
    exe.parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|target| target.join("release"))
        .expect("the target directory")
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A configuration each function accepts at start; nothing it names is reachable, and no
/// scenario below makes it try.
fn base_env() -> Vec<(String, String)> {
    vars(&[
        ("LOADSHED_TABLE", "loadshed-bench"),
        ("TELEGRAM_BOT_TOKEN", "123:bench-token"),
        ("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/"),
        ("ESKOM_BASE_URL", "http://127.0.0.1:9/"),
        ("BOT_USERNAME", "loadshed_bot"),
        (
            "STATE_MACHINE_ARN",
            "arn:aws:states:af-south-1:123456789012:stateMachine:refresh",
        ),
        ("TELEGRAM_WEBHOOK_SECRET", SECRET),
    ])
}

fn invalid_input(answer: &Answer) -> bool {
    answer.kind == "error" && answer.body["errorType"] == "InvalidInput"
}

fn no_io_scenarios() -> Vec<Scenario> {
    let mut scenarios: Vec<Scenario> = ["loadshed-stage", "loadshed-schedule", "loadshed-notify"]
        .into_iter()
        .map(|function| Scenario {
            function,
            what: "foreign payload -> InvalidInput",
            env: base_env(),
            payload: Box::new(|_| json!({"unexpected": "shape"})),
            expect: invalid_input,
            warm: false,
        })
        .collect();
    scenarios.push(Scenario {
        function: "loadshed-webhook",
        what: "update without the secret -> 401",
        env: base_env(),
        payload: Box::new(|_| {
            json!({
                "version": "2.0", "rawPath": "/", "rawQueryString": "",
                "headers": {"content-type": "application/json"},
                "requestContext": {"http": {"method": "POST", "path": "/"}, "timeEpoch": 1},
                "body": "{\"update_id\": 1}", "isBase64Encoded": false
            })
        }),
        expect: |answer| answer.kind == "response" && answer.body["statusCode"] == 401,
        warm: false,
    });
    scenarios.push(Scenario {
        function: "loadshed-web",
        what: "POST to a page -> 405",
        env: base_env(),
        payload: Box::new(|_| {
            json!({
                "version": "2.0", "rawPath": "/", "rawQueryString": "",
                "headers": {"host": "pages.example"},
                "requestContext": {"http": {"method": "POST", "path": "/"}, "timeEpoch": 1},
                "isBase64Encoded": false
            })
        }),
        expect: |answer| answer.kind == "response" && answer.body["statusCode"] == 405,
        warm: false,
    });
    scenarios
}

/// The stage task reading GetStatus from a local stand-in and writing to moto. The stand-in
/// alternates between two stages, so every run finds a change and makes the conditional write.
async fn real_work_scenario(eskom: &MockServer) -> Option<Scenario> {
    let endpoint = std::env::var("LOADSHED_TEST_AWS_ENDPOINT").ok()?;
    let table = format!("loadshed-bench-{}", std::process::id());
    let store =
        DynamoStore::connect(table.clone(), &ClientSettings::with_endpoint(&endpoint)).await;
    create_table(&store)
        .await
        .expect("create the bench table in moto");
    Mock::given(method("GET"))
        .and(path("/LoadShedding/GetStatus"))
        .respond_with(AlternatingStatus(std::sync::atomic::AtomicUsize::new(0)))
        .mount(eskom)
        .await;
    let mut env = base_env();
    env.retain(|(k, _)| k != "LOADSHED_TABLE" && k != "ESKOM_BASE_URL");
    env.extend(vars(&[
        ("LOADSHED_TABLE", &table),
        ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
        ("ESKOM_BASE_URL", &format!("{}/LoadShedding/", eskom.uri())),
    ]));
    Some(Scenario {
        function: "loadshed-stage",
        what: "GetStatus + conditional write to moto",
        env,
        payload: Box::new(|_| json!({"trigger": "schedule"})),
        expect: |answer| answer.kind == "response" && answer.body["changed"] == true,
        warm: true,
    })
}

/// GetStatus numbers stages from 1 ("1" is no loadshedding): answers "3", "4", "3", ...
struct AlternatingStatus(std::sync::atomic::AtomicUsize);

impl Respond for AlternatingStatus {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ResponseTemplate::new(200).set_body_string(format!("{}", 3 + n % 2))
    }
}

/// An invocation as the Runtime API hands it out.
fn invocation(request_id: &str, payload: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("Lambda-Runtime-Aws-Request-Id", request_id)
        .insert_header("Lambda-Runtime-Deadline-Ms", "4102444800000")
        .insert_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:af-south-1:123456789012:function:bench",
        )
        .set_body_json(payload)
}

async fn one_run(
    binary: &Path,
    env: &[(String, String)],
    payload: Value,
    second: Option<Value>,
) -> Run {
    let api = MockServer::start().await;
    let (sender, mut answers) = unbounded_channel();
    // wiremock answers with the first mounted mock that matches and is not used up.
    Mock::given(method("GET"))
        .and(path(NEXT))
        .respond_with(invocation("bench-1", payload))
        .up_to_n_times(1)
        .mount(&api)
        .await;
    let warm = second.is_some();
    if let Some(second) = second {
        Mock::given(method("GET"))
            .and(path(NEXT))
            .respond_with(invocation("bench-2", second))
            .up_to_n_times(1)
            .mount(&api)
            .await;
    }
    // After its answer the function asks for the next invocation and waits here until killed.
    Mock::given(method("GET"))
        .and(path(NEXT))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(
            "^/2018-06-01/runtime/(invocation/bench-[12]/(response|error)|init/error)$",
        ))
        .respond_with(Recorder(Mutex::new(sender)))
        .mount(&api)
        .await;

    let address = api.address();
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs([
            ("AWS_LAMBDA_FUNCTION_NAME", "bench"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_REGION", "af-south-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("{}:{}", address.ip(), address.port()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let spawned = Instant::now();
    let mut child = command.spawn().expect("start the function");
    let answer = tokio::time::timeout(PATIENCE, answers.recv())
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{} did not answer within 30 s", binary.display()));
    // Read before a second invocation can raise it: the peak of the cold start alone.
    let peak_rss_kib = child.id().map(peak_rss_kib).unwrap_or_default();
    let warm = if warm {
        let second = tokio::time::timeout(PATIENCE, answers.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                panic!(
                    "{} did not answer a second time within 30 s",
                    binary.display()
                )
            });
        Some((second.at - answer.at, second))
    } else {
        None
    };
    child.kill().await.ok();
    Run {
        elapsed: answer.at - spawned,
        warm,
        peak_rss_kib,
        answer,
    }
}

/// The process's peak resident set so far (`VmHWM` in /proc/PID/status), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or_default()
}
