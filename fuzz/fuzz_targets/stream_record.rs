//! A DynamoDB Streams record as Lambda delivers it, decoded into the change the tasks act on.
#![no_main]

use aws_lambda_events::dynamodb::EventRecord;
use libfuzzer_sys::fuzz_target;
use loadshed_core::tasks::stream::change_of;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = serde_json::from_slice::<EventRecord>(data) {
        let _ = change_of(&record);
    }
});
