//! What the local system takes from `infra/template.yaml`: each function's timeout, its DynamoDB
//! stream event sources (filters, batching, retries) and its schedules. Read from the template
//! itself, built into the binary, so the local run and the deployment cannot drift apart.

use std::time::Duration;

use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::cron::{Cron, CronError};
use super::filter::{self, Unsupported};

/// The SAM template the stack is deployed from.
pub const TEMPLATE: &str = include_str!("../../infra/template.yaml");

/// Lambda's defaults where the template says nothing.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
const DEFAULT_STREAM_BATCH_SIZE: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("the template is not YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("{at}: {detail}")]
    Invalid { at: String, detail: String },
    #[error("{at}: {source}")]
    Filter {
        at: String,
        #[source]
        source: Unsupported,
    },
    #[error("{at}: {source}")]
    Schedule {
        at: String,
        #[source]
        source: CronError,
    },
}

/// One Lambda function of the template.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The logical id, e.g. `NotifyFunction`.
    pub id: String,
    /// The binary cargo-lambda builds, which is also the name the local engine invokes it by.
    pub name: String,
    pub timeout: Duration,
    pub streams: Vec<StreamSource>,
    pub schedules: Vec<ScheduleSource>,
}

/// A `Type: DynamoDB` event: an event source mapping on the table's stream.
#[derive(Debug, Clone)]
pub struct StreamSource {
    /// `Function.Event`, e.g. `NotifyFunction.ScheduleChanged`.
    pub id: String,
    /// FilterCriteria patterns; a record passes when any matches (none: every record passes).
    pub filters: Vec<Value>,
    pub batch_size: usize,
    pub batching_window: Duration,
    /// `None`: retried until the record expires (Lambda's -1).
    pub max_retry_attempts: Option<u32>,
    /// `None`: records never expire (Lambda's -1).
    pub max_record_age: Option<Duration>,
    pub bisect_on_error: bool,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub partial_batch_response: bool,
}

/// A `Type: ScheduleV2` event: an EventBridge Scheduler schedule invoking the function.
#[derive(Debug, Clone)]
pub struct ScheduleSource {
    pub id: String,
    pub expression: Cron,
    pub timezone: Tz,
    pub input: Value,
}

impl StreamSource {
    /// Whether `record` (a stream record as JSON) passes the filters.
    pub fn passes(&self, record: &Value) -> Result<bool, Unsupported> {
        if self.filters.is_empty() {
            return Ok(true);
        }
        for pattern in &self.filters {
            if filter::matches(pattern, record)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The functions of `text` (a SAM template), with their event sources.
pub fn functions(text: &str) -> Result<Vec<FunctionSpec>, TemplateError> {
    let doc = template_json(text)?;
    let default_timeout = doc["Globals"]["Function"]["Timeout"]
        .as_u64()
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let Some(resources) = doc["Resources"].as_object() else {
        return Err(invalid("Resources", "missing or not a map"));
    };
    let mut functions = Vec::new();
    for (id, resource) in resources {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let name = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| invalid(id, "no Metadata.BuildProperties.Binary"))?
            .to_owned();
        let properties = &resource["Properties"];
        let timeout = match &properties["Timeout"] {
            Value::Null => default_timeout,
            value => Duration::from_secs(
                value
                    .as_u64()
                    .ok_or_else(|| invalid(&format!("{id}.Timeout"), "not a whole number"))?,
            ),
        };
        let mut function = FunctionSpec {
            id: id.clone(),
            name,
            timeout,
            streams: Vec::new(),
            schedules: Vec::new(),
        };
        if let Some(events) = properties["Events"].as_object() {
            for (event_id, event) in events {
                let at = format!("{id}.{event_id}");
                match event["Type"].as_str() {
                    Some("DynamoDB") => function
                        .streams
                        .push(stream_source(at, &event["Properties"])?),
                    Some("ScheduleV2") => function
                        .schedules
                        .push(schedule_source(at, &event["Properties"])?),
                    _ => {}
                }
            }
        }
        functions.push(function);
    }
    Ok(functions)
}

fn stream_source(id: String, properties: &Value) -> Result<StreamSource, TemplateError> {
    let number = |name: &str| -> Result<Option<i64>, TemplateError> {
        match &properties[name] {
            Value::Null => Ok(None),
            value => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| invalid(&format!("{id}.{name}"), "not a whole number")),
        }
    };
    let mut filters = Vec::new();
    if let Some(list) = properties["FilterCriteria"]["Filters"].as_array() {
        for (i, entry) in list.iter().enumerate() {
            let at = format!("{id}.FilterCriteria.Filters[{i}]");
            let text = entry["Pattern"]
                .as_str()
                .ok_or_else(|| invalid(&at, "Pattern is not a JSON string"))?;
            let pattern: Value = serde_json::from_str(text)
                .map_err(|e| invalid(&at, &format!("Pattern is not JSON: {e}")))?;
            filter::check(&pattern).map_err(|source| TemplateError::Filter {
                at: at.clone(),
                source,
            })?;
            filters.push(pattern);
        }
    }
    let unlimited = |value: Option<i64>| value.filter(|v| *v >= 0);
    Ok(StreamSource {
        filters,
        batch_size: number("BatchSize")?.map_or(DEFAULT_STREAM_BATCH_SIZE, |n| n.max(1) as usize),
        batching_window: Duration::from_secs(
            number("MaximumBatchingWindowInSeconds")?
                .unwrap_or(0)
                .max(0) as u64,
        ),
        max_retry_attempts: unlimited(number("MaximumRetryAttempts")?).map(|n| n as u32),
        max_record_age: unlimited(number("MaximumRecordAgeInSeconds")?)
            .map(|n| Duration::from_secs(n as u64)),
        bisect_on_error: properties["BisectBatchOnFunctionError"] == json!(true),
        partial_batch_response: properties["FunctionResponseTypes"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures")),
        id,
    })
}

fn schedule_source(id: String, properties: &Value) -> Result<ScheduleSource, TemplateError> {
    let expression = properties["ScheduleExpression"]
        .as_str()
        .ok_or_else(|| invalid(&id, "no ScheduleExpression"))?;
    let expression = Cron::parse(expression).map_err(|source| TemplateError::Schedule {
        at: id.clone(),
        source,
    })?;
    let timezone = match properties["ScheduleExpressionTimezone"].as_str() {
        None => Tz::UTC,
        Some(name) => name
            .parse()
            .map_err(|_| invalid(&id, &format!("unknown time zone {name:?}")))?,
    };
    // Scheduler passes the Input text as the event; our inputs are JSON.
    let input = match properties["Input"].as_str() {
        None => json!({}),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| invalid(&id, &format!("Input is not JSON: {e}")))?,
    };
    Ok(ScheduleSource {
        id,
        expression,
        timezone,
        input,
    })
}

fn invalid(at: &str, detail: &str) -> TemplateError {
    TemplateError::Invalid {
        at: at.to_owned(),
        detail: detail.to_owned(),
    }
}

/// A SAM template as JSON, with CloudFormation's short-form tags (`!Ref X`, `!GetAtt A.B`) turned
/// into their long forms (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`), so one shape of intrinsic
/// needs handling.
pub fn template_json(text: &str) -> Result<Value, TemplateError> {
    let yaml: serde_norway::Value = serde_norway::from_str(text)?;
    Ok(to_json(&yaml))
}

fn to_json(value: &serde_norway::Value) -> Value {
    use serde_norway::Value as Yaml;
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => json!(b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Yaml::String(s) => json!(s),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s.clone(),
                        other => serde_norway::to_string(other)
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                    };
                    (key, to_json(v))
                })
                .collect::<Map<String, Value>>(),
        ),
        Yaml::Tagged(tagged) => {
            let name = tagged.tag.to_string();
            let name = name.trim_start_matches('!');
            let inner = to_json(&tagged.value);
            match name {
                "Ref" => json!({ "Ref": inner }),
                // `!GetAtt A.B` is the string form of `Fn::GetAtt: [A, B]`.
                "GetAtt" => match inner.as_str().and_then(|s| s.split_once('.')) {
                    Some((id, attribute)) => json!({ "Fn::GetAtt": [id, attribute] }),
                    None => json!({ "Fn::GetAtt": inner }),
                },
                other => json!({ format!("Fn::{other}"): inner }),
            }
        }
    }
}
