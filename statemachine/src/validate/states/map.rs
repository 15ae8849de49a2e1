//! Map: the item processor (`ItemProcessor`, or the legacy `Iterator`), where items come from, and failure tolerance.

use serde_json::Value;

use super::State;
use crate::validate::checker::{Checker, Obj};
use crate::validate::machine::MachineKind;
use crate::validate::paths::PathKind;

impl Checker<'_> {
    pub(super) fn map(&mut self, state: State<'_>) {
        let obj = state.obj;
        self.exactly_one(obj, &["ItemProcessor", "Iterator"]);
        if let Some(processor) = obj.get("ItemProcessor") {
            let at = obj.at("ItemProcessor");
            self.nested_machine(processor, &at, MachineKind::Processor);
            if let Value::Object(map) = processor {
                self.processor_config(Obj::new(map, &at));
            }
        }
        if let Some(iterator) = obj.get("Iterator") {
            self.nested_machine(iterator, &obj.at("Iterator"), MachineKind::Branch);
        }

        self.at_most_one(obj, &["Parameters", "ItemSelector"]);
        self.data_fields(state);
        if state.jsonpath() {
            self.path_field(obj, "ItemsPath", PathKind::Reference, false);
            if let Some(selector) = obj.get("ItemSelector") {
                self.payload_template(selector, &obj.at("ItemSelector"));
            }
        } else {
            match obj.get("Items") {
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        self.jsonata_template(item, "Items", &obj.at("Items").child(i));
                    }
                }
                Some(items) => self.jsonata_expression(items, "Items", &obj.at("Items")),
                None => {}
            }
            if let Some(selector) = obj.get("ItemSelector") {
                self.jsonata_template(selector, "ItemSelector", &obj.at("ItemSelector"));
            }
        }

        for (field, path_field) in [
            ("MaxConcurrency", "MaxConcurrencyPath"),
            ("ToleratedFailureCount", "ToleratedFailureCountPath"),
            (
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
            ),
        ] {
            self.at_most_one(obj, &[field, path_field]);
            self.path_field(obj, path_field, PathKind::Reference, false);
        }
        self.integer_or_expression(state, "MaxConcurrency", 0, i64::MAX);
        self.integer_or_expression(state, "ToleratedFailureCount", 0, i64::MAX);
        match obj.get("ToleratedFailurePercentage") {
            Some(Value::String(_)) if !state.jsonpath() => {
                self.integer_or_expression(state, "ToleratedFailurePercentage", 0, 100);
            }
            Some(_) => {
                self.number(obj, "ToleratedFailurePercentage", 0.0, 100.0);
            }
            None => {}
        }
        self.string(obj, "Label");

        self.item_reader(state);
        self.item_batcher(state);
        self.result_writer(state);
    }

    fn processor_config(&mut self, processor: Obj<'_>) {
        let Some(config) = self.object(processor, "ProcessorConfig") else {
            return;
        };
        let at = processor.at("ProcessorConfig");
        let config = Obj::new(config, &at);
        self.only_fields(config, &["Mode", "ExecutionType"]);
        let mode = self.one_of(config, "Mode", &["INLINE", "DISTRIBUTED"]);
        self.one_of(config, "ExecutionType", &["STANDARD", "EXPRESS"]);
        if mode == Some("DISTRIBUTED") {
            self.require(config, &["ExecutionType"]);
        }
    }

    /// `Parameters` or `Arguments` of an ItemReader or ResultWriter, by the state's language.
    fn resource_arguments(&mut self, state: State<'_>, obj: Obj<'_>) {
        let field = if state.jsonpath() {
            "Parameters"
        } else {
            "Arguments"
        };
        let Some(value) = obj.get(field) else { return };
        if state.jsonpath() {
            self.payload_template(value, &obj.at(field));
        } else {
            self.jsonata_template(value, field, &obj.at(field));
        }
    }

    fn item_reader(&mut self, state: State<'_>) {
        let Some(reader) = self.object(state.obj, "ItemReader") else {
            return;
        };
        let at = state.obj.at("ItemReader");
        let reader = Obj::new(reader, &at);
        let arguments = if state.jsonpath() {
            "Parameters"
        } else {
            "Arguments"
        };
        self.only_fields(reader, &["Resource", arguments, "ReaderConfig"]);
        self.require(reader, &["Resource"]);
        self.string(reader, "Resource");
        self.resource_arguments(state, reader);
        let Some(config) = self.object(reader, "ReaderConfig") else {
            return;
        };
        let at = reader.at("ReaderConfig");
        let config = Obj::new(config, &at);
        self.only_fields(
            config,
            &[
                "InputType",
                "CSVHeaderLocation",
                "CSVHeaders",
                "MaxItems",
                "MaxItemsPath",
                "CSVDelimiter",
                "ManifestType",
            ],
        );
        self.at_most_one(config, &["MaxItems", "MaxItemsPath"]);
        self.path_field(config, "MaxItemsPath", PathKind::Reference, false);
        if !matches!(config.get("MaxItems"), Some(Value::String(_))) {
            self.integer(config, "MaxItems", 0, 100_000_000);
        }
    }

    fn item_batcher(&mut self, state: State<'_>) {
        let Some(batcher) = self.object(state.obj, "ItemBatcher") else {
            return;
        };
        let at = state.obj.at("ItemBatcher");
        let batcher = Obj::new(batcher, &at);
        self.only_fields(
            batcher,
            &[
                "MaxItemsPerBatch",
                "MaxItemsPerBatchPath",
                "MaxInputBytesPerBatch",
                "MaxInputBytesPerBatchPath",
                "BatchInput",
            ],
        );
        for (field, path_field) in [
            ("MaxItemsPerBatch", "MaxItemsPerBatchPath"),
            ("MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"),
        ] {
            self.at_most_one(batcher, &[field, path_field]);
            self.path_field(batcher, path_field, PathKind::Reference, false);
            if !matches!(batcher.get(field), Some(Value::String(_))) {
                self.integer(batcher, field, 0, i64::MAX);
            }
        }
    }

    fn result_writer(&mut self, state: State<'_>) {
        let Some(writer) = self.object(state.obj, "ResultWriter") else {
            return;
        };
        let at = state.obj.at("ResultWriter");
        let writer = Obj::new(writer, &at);
        let arguments = if state.jsonpath() {
            "Parameters"
        } else {
            "Arguments"
        };
        self.only_fields(writer, &["Resource", arguments, "WriterConfig"]);
        self.string(writer, "Resource");
        self.resource_arguments(state, writer);
    }
}
