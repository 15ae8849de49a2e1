//! `infra/template.yaml` against the code it deploys: what cfn-lint and `sam validate` cannot see.
//!
//! - each stream filter matches the items the DynamoDB store really writes for its entity, and no
//!   other entity's (needs moto: `LOADSHED_TEST_AWS_ENDPOINT`, set by `scripts/with-moto`);
//! - each function's environment satisfies its binary's start-up, and names secrets only as SSM
//!   parameters;
//! - every schedule's target exists and accepts the schedule's input;
//! - the state machine's substitutions are exactly the definition's placeholders, and it may invoke
//!   exactly the functions they name;
//! - the table has the key schema, stream and TTL attribute the store is written for.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

mod infra_support;
mod support;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{NaiveDate, TimeZone, Utc};
use loadshed_core::adapters::dynamo::{
    ClientSettings, DynamoStore, create_table, keys, schedule_from_image, schedule_written_at,
    stage_from_image, stage_refresh_from_image,
};
use loadshed_core::domain::{Area, ChatId, Schedule, Slot, Stage};
use loadshed_core::ports::{
    DeliveryKey, DeliveryLedger, Leases, ScheduleStore, StageRefresh, StageStore, SubscriptionStore,
};
use loadshed_core::runtime::secrets::{PARAMETER_SUFFIX, SecretVar};
use loadshed_core::runtime::{TABLE_ENV, telegram, upstream};
use loadshed_core::tasks::Invocation;
use serde_json::{Value, json};

use infra_support::binaries::{self, Start};
use infra_support::pattern;
use infra_support::template::{Template, definition_path, referenced_id};

const ENDPOINT_ENV: &str = "LOADSHED_TEST_AWS_ENDPOINT";

/// The functions whose binaries are task handlers (they take `Invocation`s); the webhook takes
/// HTTP requests.
const TASK_BINARIES: &[&str] = &["loadshed-stage", "loadshed-schedule", "loadshed-notify"];

// ------------------------------------------------------------------------------------------------
// Stream filters against real store writes.

/// Writes one item of every entity with the real store on a fresh moto table, and returns the raw
/// items as DynamoDB holds them, by entity.
async fn items_by_entity() -> BTreeMap<String, Vec<BTreeMap<String, AttributeValue>>> {
    let endpoint = std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| {
        panic!(
            "{ENDPOINT_ENV} is not set, so there is no DynamoDB-compatible server to write to: run \
             `make test`, or `scripts/with-moto cargo test -p loadshed --test infra_template`"
        )
    });
    let store = DynamoStore::connect(
        format!("loadshed-infra-{}", uuid::Uuid::new_v4()),
        &ClientSettings::with_endpoint(&endpoint),
    )
    .await;
    create_table(&store).await.expect("create the table");

    let now = Utc
        .with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
        .single()
        .expect("instant");
    let stage = Stage::new(4).expect("stage");
    let area = Area::eskom(64106, "Bertiburg", "Swartland", "Western Cape", 9, 0);
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let slot = Slot::parse_on(day, "16:00 - 18:30").expect("slot");
    let schedule = Schedule::from_days(area.id.clone(), stage, [(day, vec![slot])]);

    store
        .put_stage(
            &loadshed_core::domain::Timelines::national_only(stage),
            None,
            now,
            None,
        )
        .await
        .expect("put stage");
    assert!(
        store
            .put_schedule(&schedule, now)
            .await
            .expect("put schedule"),
        "a new schedule is written"
    );
    store
        .subscribe(ChatId(42), &area, now)
        .await
        .expect("subscribe");
    let delivery = DeliveryKey {
        chat: ChatId(42),
        message: "stage:4@2026-12-01T08:00Z".into(),
    };
    store
        .record_delivery(&delivery, now, now + chrono::Duration::days(2))
        .await
        .expect("record delivery");
    store
        .try_claim("refresh:42", now, now + chrono::Duration::minutes(1))
        .await
        .expect("claim lease");
    let claimed = DeliveryKey {
        chat: ChatId(43),
        message: "stage:4@2026-12-01T08:00Z#1".into(),
    };
    store
        .claim_delivery(
            &claimed,
            "wf:test",
            now,
            now + chrono::Duration::seconds(90),
        )
        .await
        .expect("claim delivery");
    store
        .put_stage_refresh(&StageRefresh {
            stage,
            stage_updated_at: now,
            previous: None,
            refreshed_at: now,
        })
        .await
        .expect("put stage refresh marker");

    // The SDK's own client reads the items back: independent of the adapter that wrote them.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .load()
        .await;
    let scanned = aws_sdk_dynamodb::Client::new(&sdk)
        .scan()
        .table_name(store.table())
        .send()
        .await
        .expect("scan the test table");
    let mut by_entity: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for item in scanned.items() {
        let entity = match item.get(keys::ENTITY) {
            Some(AttributeValue::S(entity)) => entity.clone(),
            other => panic!(
                "item without a string {} attribute: {other:?} in {item:?}",
                keys::ENTITY
            ),
        };
        by_entity
            .entry(entity)
            .or_default()
            .push(item.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    }
    by_entity
}

/// The stream record Lambda filters: the item as the new image, in DynamoDB JSON.
fn stream_record(event_name: &str, item: &BTreeMap<String, AttributeValue>) -> Value {
    let image = serde_dynamo::Item::from(
        item.iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::HashMap<_, _>>(),
    );
    let image = serde_json::to_value(&image).expect("the image as DynamoDB JSON");
    json!({"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": {"NewImage": image}})
}

/// `(function id, parsed filter pattern)` for every stream event source in the template.
fn stream_filters(template: &Template) -> Vec<(String, Value)> {
    let mut filters = Vec::new();
    for function in template.functions() {
        for (event_id, event) in function.events("DynamoDB") {
            let list = event["Properties"]["FilterCriteria"]["Filters"]
                .as_array()
                .unwrap_or_else(|| {
                    panic!(
                        "{}.{event_id}: a stream event without FilterCriteria",
                        function.id
                    )
                });
            assert_eq!(
                list.len(),
                1,
                "{}.{event_id}: one filter per stream",
                function.id
            );
            let text = list[0]["Pattern"]
                .as_str()
                .expect("Pattern is a JSON string");
            let parsed: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{}.{event_id}: Pattern is not JSON: {e}", function.id));
            filters.push((function.id.to_owned(), parsed));
        }
    }
    filters
}

#[tokio::test]
async fn stream_filters_match_exactly_the_entities_their_consumers_handle() {
    let template = Template::load();
    let filters = stream_filters(&template);
    let consumers: BTreeSet<&str> = filters.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        consumers,
        BTreeSet::from(["NotifyFunction", "ScheduleFunction"]),
        "stage changes feed schedule, schedule changes feed notify"
    );
    // What each consumer decodes; every other entity must be filtered out before it.
    let wanted = BTreeMap::from([
        ("ScheduleFunction", vec![keys::entity::STAGE]),
        (
            "NotifyFunction",
            vec![keys::entity::SCHEDULE, keys::entity::STAGE_REFRESH],
        ),
    ]);

    let items = items_by_entity().await;
    for entity in [
        keys::entity::STAGE,
        keys::entity::STAGE_REFRESH,
        keys::entity::SCHEDULE,
        keys::entity::SUBSCRIPTION,
        keys::entity::SUBSCRIBER,
        keys::entity::AREA,
        keys::entity::DELIVERY,
        keys::entity::LEASE,
    ] {
        assert!(
            items.contains_key(entity),
            "the store wrote no {entity} item: {:?}",
            items.keys()
        );
    }

    for (entity, entity_items) in &items {
        for item in entity_items {
            for event_name in ["INSERT", "MODIFY", "REMOVE"] {
                let record = stream_record(event_name, item);
                for (consumer, filter) in &filters {
                    let matched = pattern::matches(filter, &record)
                        .unwrap_or_else(|e| panic!("{consumer}: {e:?}"));
                    let expected = wanted[consumer.as_str()].contains(&entity.as_str())
                        && event_name != "REMOVE";
                    assert_eq!(
                        matched, expected,
                        "{consumer}'s filter on a {event_name} of a {entity} item: {record}"
                    );
                }
            }
        }
    }

    // The records that pass are ones the consumers can decode.
    for item in &items[keys::entity::STAGE] {
        let image = stream_record("MODIFY", item)["dynamodb"]["NewImage"].clone();
        let image: serde_dynamo::Item = serde_json::from_value(image).expect("image");
        let stage = stage_from_image(image).expect("the schedule task decodes the stage");
        assert_eq!(stage.stage.number(), 4);
    }
    for item in &items[keys::entity::SCHEDULE] {
        let image = stream_record("INSERT", item)["dynamodb"]["NewImage"].clone();
        let image: serde_dynamo::Item = serde_json::from_value(image).expect("image");
        schedule_from_image(image.clone()).expect("the notify task decodes the schedule");
        schedule_written_at(image).expect("and when it was written");
    }
    for item in &items[keys::entity::STAGE_REFRESH] {
        let image = stream_record("INSERT", item)["dynamodb"]["NewImage"].clone();
        let image: serde_dynamo::Item = serde_json::from_value(image).expect("image");
        let marker = stage_refresh_from_image(image).expect("the notify task decodes the marker");
        assert_eq!(marker.stage.number(), 4);
    }
}

#[test]
fn the_local_notify_deadline_is_the_functions_timeout() {
    let template = Template::load();
    let functions = template.functions();
    let notify = functions
        .iter()
        .find(|f| f.id == "NotifyFunction")
        .expect("NotifyFunction");
    let timeout = notify.resource["Properties"]["Timeout"]
        .as_u64()
        .expect("NotifyFunction has a Timeout");
    assert_eq!(
        std::time::Duration::from_secs(timeout),
        loadshed::local::tasks::NOTIFY_TIMEOUT
    );
}

// ------------------------------------------------------------------------------------------------
// Environments against the binaries.

#[tokio::test]
async fn every_binary_starts_with_the_environment_the_template_gives_it() {
    let template = Template::load();
    let functions = template.functions();
    assert_eq!(
        functions.len(),
        5,
        "stage, schedule, notify, webhook and web"
    );
    for function in &functions {
        let env = template.environment_with_stand_ins(function);
        match binaries::start(function.binary(), &env).await {
            Start::Ready => {}
            Start::Exited { status, stderr } => panic!(
                "{} ({}) does not start with the template's environment {env:?}: {status}\n{stderr}",
                function.id,
                function.binary()
            ),
        }
    }
}

#[tokio::test]
async fn a_binary_missing_its_table_refuses_to_start() {
    // The check above can fail: without LOADSHED_TABLE a task binary exits and says why.
    let template = Template::load();
    let function = template.function("StageFunction");
    let env: Vec<_> = template
        .environment_with_stand_ins(&function)
        .into_iter()
        .filter(|(name, _)| name != TABLE_ENV)
        .collect();
    match binaries::start(function.binary(), &env).await {
        Start::Ready => panic!("the stage binary started without {TABLE_ENV}"),
        Start::Exited { stderr, .. } => {
            assert!(
                stderr.contains(TABLE_ENV),
                "the error names the variable: {stderr}"
            )
        }
    }
}

#[tokio::test]
async fn the_webhook_takes_a_list_of_channel_admins_and_refuses_a_bad_one() {
    let template = Template::load();
    let function = template.function("WebhookFunction");
    let with = |admins: &str| {
        let mut env: Vec<_> = template
            .environment_with_stand_ins(&function)
            .into_iter()
            .filter(|(name, _)| name != "CHANNEL_ADMINS")
            .collect();
        env.push(("CHANNEL_ADMINS".to_owned(), admins.to_owned()));
        env
    };
    match binaries::start(function.binary(), &with("12345, 67890")).await {
        Start::Ready => {}
        Start::Exited { status, stderr } => panic!("a valid list is refused: {status}\n{stderr}"),
    }
    match binaries::start(function.binary(), &with("12345,@alice")).await {
        Start::Ready => panic!("the webhook started with CHANNEL_ADMINS=12345,@alice"),
        Start::Exited { stderr, .. } => {
            assert!(
                stderr.contains("CHANNEL_ADMINS") && stderr.contains("@alice"),
                "the error names the variable and the bad id: {stderr}"
            )
        }
    }
}

#[test]
fn environments_name_the_variables_the_code_reads() {
    let template = Template::load();
    let needs: &[(&str, &[&str], &[SecretVar])] = &[
        ("StageFunction", &[TABLE_ENV], &[]),
        ("ScheduleFunction", &[TABLE_ENV], &[]),
        ("NotifyFunction", &[TABLE_ENV], &[telegram::BOT_TOKEN]),
        (
            "WebhookFunction",
            &[TABLE_ENV, "WEB_BASE_URL"],
            &[telegram::BOT_TOKEN, telegram::WEBHOOK_SECRET],
        ),
        ("WebFunction", &[TABLE_ENV, "BOT_USERNAME"], &[]),
    ];
    for (id, plain, secrets) in needs {
        let env = template.function(id).environment();
        for name in *plain {
            assert!(env.contains_key(*name), "{id} lacks {name}");
        }
        for secret in *secrets {
            assert!(
                env.contains_key(secret.parameter),
                "{id} must get {} (the SSM parameter's name)",
                secret.parameter
            );
        }
    }
    // The optional EskomSePush token goes to every function that talks to upstream, or to none.
    let with_sepush: BTreeSet<&str> = template
        .functions()
        .into_iter()
        .filter(|f| {
            f.environment()
                .contains_key(upstream::SEPUSH_TOKEN.parameter)
        })
        .map(|f| f.id)
        .collect();
    assert_eq!(
        with_sepush,
        BTreeSet::from(["ScheduleFunction", "StageFunction", "WebhookFunction"]),
        "the EskomSePush token reaches stage, schedule and the webhook's area search"
    );
}

#[test]
fn secrets_reach_functions_only_as_ssm_parameter_names_they_may_read() {
    let template = Template::load();
    for function in template.functions() {
        let env = function.environment();
        for (name, value) in &env {
            let Some(secret) = name.strip_suffix(PARAMETER_SUFFIX) else {
                continue;
            };
            assert!(
                !env.contains_key(secret),
                "{}: {secret} holds the value itself; only {name} may be set",
                function.id
            );
            // The value is a template parameter naming an SSM parameter, possibly behind a condition.
            let parameter = value
                .get("Ref")
                .or_else(|| {
                    value
                        .get("Fn::If")
                        .and_then(|v| v.get(1))
                        .and_then(|v| v.get("Ref"))
                })
                .and_then(Value::as_str)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: {name} must be a !Ref to a template parameter",
                        function.id
                    )
                });
            assert!(
                template.doc["Parameters"].get(parameter).is_some(),
                "{}: {name} refers to {parameter}, which is no template parameter",
                function.id
            );
            // The function's policies allow ssm:GetParameter on exactly that parameter.
            let policies = serde_json::to_string(&function.resource["Properties"]["Policies"])
                .expect("policies");
            assert!(
                policies.contains(&format!("parameter${{{parameter}}}")),
                "{}: no ssm:GetParameter on the parameter named by {parameter}",
                function.id
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Schedules.

#[test]
fn every_schedule_targets_a_task_that_accepts_its_input() {
    let template = Template::load();
    let mut schedules = 0;
    for function in template.functions() {
        for (event_id, event) in function.events("ScheduleV2") {
            schedules += 1;
            let properties = &event["Properties"];
            assert!(
                TASK_BINARIES.contains(&function.binary()),
                "{}.{event_id}: {} takes no schedule input",
                function.id,
                function.binary()
            );
            assert_eq!(
                properties["ScheduleExpressionTimezone"], "Africa/Johannesburg",
                "{}.{event_id}",
                function.id
            );
            let input: Value = serde_json::from_str(
                properties["Input"]
                    .as_str()
                    .expect("Input is a JSON string"),
            )
            .unwrap_or_else(|e| panic!("{}.{event_id}: Input is not JSON: {e}", function.id));
            match Invocation::parse(input) {
                Ok(Invocation::Schedule(_)) => {}
                other => panic!(
                    "{}.{event_id}: the input is not a schedule invocation: {other:?}",
                    function.id
                ),
            }
            let dead_letters = referenced_id(&properties["DeadLetterConfig"]["Arn"]);
            assert_eq!(
                dead_letters
                    .and_then(|id| template.resource(id))
                    .map(|r| &r["Type"]),
                Some(&json!("AWS::SQS::Queue")),
                "{}.{event_id}: undeliverable invocations go to a queue of this stack",
                function.id
            );
        }
    }
    assert_eq!(
        schedules, 3,
        "stage poll, daily schedule refresh, reminders"
    );

    // Schedules declared as resources of their own must target something that exists.
    for (id, resource) in template.resources() {
        if resource["Type"] == "AWS::Scheduler::Schedule" {
            let target = referenced_id(&resource["Properties"]["Target"]["Arn"]);
            assert!(
                target.is_some_and(|t| template.resource(t).is_some()),
                "{id}: the target {target:?} is not in the template"
            );
        }
    }
}

#[test]
fn stream_sources_read_the_tables_stream_with_partial_batch_failures() {
    let template = Template::load();
    for function in template.functions() {
        for (event_id, event) in function.events("DynamoDB") {
            let p = &event["Properties"];
            let table = referenced_id(&p["Stream"]).expect("Stream is !GetAtt Table.StreamArn");
            assert_eq!(
                template.resource(table).map(|r| &r["Type"]),
                Some(&json!("AWS::DynamoDB::Table")),
                "{}.{event_id}",
                function.id
            );
            assert_eq!(
                p["FunctionResponseTypes"],
                json!(["ReportBatchItemFailures"])
            );
            assert_eq!(p["BisectBatchOnFunctionError"], json!(true));
            assert!(
                p["MaximumRetryAttempts"]
                    .as_i64()
                    .is_some_and(|n| (0..=10).contains(&n))
            );
            assert_eq!(p["DestinationConfig"]["OnFailure"]["Type"], "SQS");
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The state machine.

#[test]
fn substitutions_are_exactly_the_definitions_placeholders() {
    let template = Template::load();
    let machines = asl::validate::sam::state_machines(&template.text).expect("state machines");
    assert_eq!(machines.len(), 1);
    let machine = &machines[0];
    assert_eq!(
        machine.definition_uri.as_deref(),
        Some("../statemachine/refresh.asl.json")
    );
    let definition = std::fs::read_to_string(definition_path()).expect("read the definition");
    let placeholders: BTreeSet<String> = asl::validate::placeholders(&definition)
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert!(!placeholders.is_empty());
    assert_eq!(machine.substitutions, placeholders);
}

#[test]
fn the_state_machine_invokes_exactly_the_three_tasks() {
    let template = Template::load();
    let machine = &template.resources()["RefreshStateMachine"]["Properties"];
    let substituted: BTreeSet<&str> = machine["DefinitionSubstitutions"]
        .as_object()
        .expect("substitutions")
        .values()
        .map(|v| referenced_id(v).expect("each substitution is a !GetAtt"))
        .collect();
    let task_functions: BTreeSet<&str> = template
        .functions()
        .into_iter()
        .filter(|f| TASK_BINARIES.contains(&f.binary()))
        .map(|f| f.id)
        .collect();
    assert_eq!(substituted, task_functions);

    let invocable: BTreeSet<&str> = machine["Policies"]
        .as_array()
        .expect("policies")
        .iter()
        .filter_map(|p| p["Statement"].as_array())
        .flatten()
        .filter(|s| s["Action"] == "lambda:InvokeFunction")
        .filter_map(|s| s["Resource"].as_array())
        .flatten()
        .map(|r| referenced_id(r).expect("a function reference"))
        .collect();
    assert_eq!(invocable, task_functions);

    // Only the webhook may start executions.
    for function in template.functions() {
        let policies =
            serde_json::to_string(&function.resource["Properties"]["Policies"]).expect("policies");
        assert_eq!(
            policies.contains("states:StartExecution"),
            function.id == "WebhookFunction",
            "{}",
            function.id
        );
    }
}

// ------------------------------------------------------------------------------------------------
// The public web pages.

#[test]
fn the_web_function_only_reads_and_anyone_may_call_its_url() {
    let template = Template::load();
    let web = template.function("WebFunction");
    let properties = &web.resource["Properties"];
    assert_eq!(web.binary(), "loadshed-web");
    assert_eq!(properties["FunctionUrlConfig"]["AuthType"], "NONE");
    // Like every function: arm64 on provided.al2023 (from Globals, not overridden).
    assert!(properties.get("Architectures").is_none() && properties.get("Runtime").is_none());
    assert_eq!(
        template.doc["Globals"]["Function"]["Architectures"],
        json!(["arm64"])
    );
    assert_eq!(
        template.doc["Globals"]["Function"]["Runtime"],
        "provided.al2023"
    );
    // Its reserved concurrency is a parameter with a bound.
    let reserved = referenced_id(&properties["ReservedConcurrentExecutions"])
        .expect("reserved concurrency from a parameter");
    let parameter = &template.doc["Parameters"][reserved];
    assert_eq!(parameter["Type"], "Number");
    assert!(parameter["MinValue"].as_i64().is_some_and(|min| min >= 1));
    // Its own log group.
    let group = referenced_id(&properties["LoggingConfig"]["LogGroup"]).expect("a log group");
    assert_eq!(template.resources()[group]["Type"], "AWS::Logs::LogGroup");
    let others: Vec<_> = template
        .functions()
        .into_iter()
        .filter(|f| f.id != web.id)
        .filter_map(|f| referenced_id(&f.resource["Properties"]["LoggingConfig"]["LogGroup"]))
        .collect();
    assert!(
        !others.contains(&group),
        "{group} is the web function's own"
    );
    // Least privilege: one statement, GetItem and Query on the table's stage, registry and area
    // partitions, nothing else.
    assert_eq!(
        properties["Policies"],
        json!([{"Statement": [{
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:Query"],
            "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["STAGE", "AREAS", "AREA#*"]}}
        }]}])
    );
    assert!(web.events("DynamoDB").is_empty() && web.events("ScheduleV2").is_empty());
    // The stack outputs its URL, and the bot links it.
    assert_eq!(
        template.doc["Outputs"]["WebUrl"]["Value"],
        json!({"Fn::GetAtt": ["WebFunctionUrl", "FunctionUrl"]})
    );
    assert_eq!(
        *template.function("WebhookFunction").environment()["WEB_BASE_URL"],
        json!({"Fn::GetAtt": ["WebFunctionUrl", "FunctionUrl"]})
    );
}

// ------------------------------------------------------------------------------------------------
// The table.

#[test]
fn the_table_is_the_one_the_store_is_written_for() {
    let template = Template::load();
    let table = &template.resources()["Table"]["Properties"];
    assert_eq!(
        table["KeySchema"],
        json!([
            {"AttributeName": keys::PK, "KeyType": "HASH"},
            {"AttributeName": keys::SK, "KeyType": "RANGE"}
        ])
    );
    assert_eq!(
        table["AttributeDefinitions"],
        json!([
            {"AttributeName": keys::PK, "AttributeType": "S"},
            {"AttributeName": keys::SK, "AttributeType": "S"}
        ])
    );
    assert_eq!(
        table["TimeToLiveSpecification"],
        json!({"AttributeName": keys::EXPIRES_AT, "Enabled": true})
    );
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}

// ------------------------------------------------------------------------------------------------
// Hardening: reserved concurrency, key-scoped table access, the stale-schedule alarm.

#[test]
fn every_function_has_reserved_concurrency_from_a_documented_parameter() {
    let template = Template::load();
    for function in template.functions() {
        let reserved = &function.resource["Properties"]["ReservedConcurrentExecutions"];
        // `!If [Reserves…, !Ref Param, !Ref AWS::NoValue]`, or a plain `!Ref Param` (always reserved).
        let parameter = reserved
            .get("Fn::If")
            .and_then(|v| v.get(1))
            .unwrap_or(reserved)
            .get("Ref")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: no reserved concurrency parameter", function.id));
        let declared = &template.doc["Parameters"][parameter];
        assert!(
            declared["Default"].as_i64().is_some_and(|d| d >= 1),
            "{parameter}: a default of at least 1"
        );
        assert!(
            declared["Description"]
                .as_str()
                .is_some_and(|d| d.len() > 40),
            "{parameter}: documented"
        );
    }
    // One notify at a time is what keeps Telegram's global message rate.
    assert_eq!(
        template.doc["Parameters"]["NotifyReservedConcurrency"]["Default"],
        1
    );
}

/// The `dynamodb:LeadingKeys` patterns of each DynamoDB statement of `function`, by action.
fn leading_keys(
    function: &infra_support::template::Function<'_>,
) -> Vec<(Vec<String>, Vec<String>)> {
    let mut found = Vec::new();
    for policy in function.resource["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for statement in policy["Statement"].as_array().into_iter().flatten() {
            let actions: Vec<String> = match &statement["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            };
            if !actions.iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            let keys: Vec<String> =
                statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                    .as_array()
                    .unwrap_or_else(|| {
                        panic!("{}: a DynamoDB statement without LeadingKeys", function.id)
                    })
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
            found.push((actions, keys));
        }
    }
    found
}

#[test]
fn table_access_is_scoped_to_the_partitions_each_function_uses() {
    let template = Template::load();
    // Every pattern names a partition the store really writes: a fixed key, or a prefix with `*`.
    let known = [keys::STAGE_PK, keys::REGISTRY_PK];
    let prefixes = [
        keys::prefix::AREA,
        keys::prefix::CHAT,
        keys::prefix::DELIVERY,
        keys::prefix::LEASE,
    ];
    for function in template.functions() {
        let statements = leading_keys(&function);
        assert!(!statements.is_empty(), "{}: no table access", function.id);
        for (_, patterns) in &statements {
            for pattern in patterns {
                let ok = known.contains(&pattern.as_str())
                    || prefixes
                        .iter()
                        .any(|p| pattern.starts_with(p) && pattern.ends_with('*'));
                assert!(
                    ok,
                    "{}: {pattern} is no partition of the key design",
                    function.id
                );
            }
        }
    }
    let all_keys = |id: &str| -> BTreeSet<String> {
        leading_keys(&template.function(id))
            .into_iter()
            .flat_map(|(_, k)| k)
            .collect()
    };
    assert_eq!(
        all_keys("StageFunction"),
        BTreeSet::from(["STAGE".to_owned()])
    );
    // Only notify keeps the delivery ledger; only the webhook its cooldowns and search counts.
    for id in ["StageFunction", "ScheduleFunction", "WebhookFunction"] {
        assert!(
            !all_keys(id)
                .iter()
                .any(|k| k.starts_with(keys::prefix::DELIVERY)),
            "{id}"
        );
    }
    assert!(
        !all_keys("NotifyFunction")
            .iter()
            .any(|k| k.starts_with(keys::prefix::LEASE))
    );
    assert!(all_keys("WebhookFunction").contains("LEASE#refresh-cooldown:*"));
}

#[test]
fn stale_schedules_raise_an_alarm_from_what_the_schedule_task_logs() {
    let template = Template::load();
    let filter = template
        .resource("StaleSchedulesMetric")
        .expect("metric filter");
    let pattern = filter["Properties"]["FilterPattern"]
        .as_str()
        .expect("pattern");
    // The field the schedule task logs after every run (lambdas/core/src/tasks/schedule.rs).
    assert!(pattern.contains("$.fields.stale_areas"), "{pattern}");
    assert_eq!(
        filter["Properties"]["MetricTransformations"][0]["MetricValue"],
        "$.fields.stale_areas"
    );
    let alarm = template.resource("StaleSchedulesAlarm").expect("alarm");
    assert_eq!(alarm["Properties"]["MetricName"], "StaleAreas");
    let env = template.function("ScheduleFunction").environment();
    assert!(env.contains_key("STALE_SCHEDULE_HOURS"));
}
