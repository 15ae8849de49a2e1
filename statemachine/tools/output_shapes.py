#!/usr/bin/env python3
"""Writes statemachine/src/test_state/output_shapes.json: the output shapes of the service operations whose mocked
results `asl test-state` validates (TestState's `fieldValidationMode`), taken from botocore's service models.

Only what the validation uses is kept: type, required members, members, list/map members, numeric min/max,
length min/max and enum values. Patterns are left out (AWS's TestState answers record no pattern check).

Run: python3 statemachine/tools/output_shapes.py  (needs botocore; `pip install botocore`).
"""

import json
import pathlib

import botocore
import botocore.session

# TestState resource (after `arn:<partition>:states:::`) -> (botocore service, operation).
OPERATIONS = {
    "lambda:invoke": ("lambda", "Invoke"),
    "states:startExecution": ("stepfunctions", "StartExecution"),
    "states:startExecution.sync": ("stepfunctions", "DescribeExecution"),
    # "when testing `startExecution.sync:2`, your mock must match the `DescribeExecution` response schema" (developer
    # guide, Testing Activity, .sync, and .waitForTaskToken states); :2 hands the child's Input and Output over as JSON.
    "states:startExecution.sync:2": ("stepfunctions", "DescribeExecution"),
    "events:putEvents": ("events", "PutEvents"),
    "dynamodb:getItem": ("dynamodb", "GetItem"),
    "dynamodb:putItem": ("dynamodb", "PutItem"),
    "dynamodb:updateItem": ("dynamodb", "UpdateItem"),
    "dynamodb:deleteItem": ("dynamodb", "DeleteItem"),
    "sqs:sendMessage": ("sqs", "SendMessage"),
    "sns:publish": ("sns", "Publish"),
    "aws-sdk:kms:encrypt": ("kms", "Encrypt"),
    "aws-sdk:kms:decrypt": ("kms", "Decrypt"),
    "aws-sdk:lambda:getFunction": ("lambda", "GetFunction"),
    "aws-sdk:s3:getObject": ("s3", "GetObject"),
    "aws-sdk:s3:putObject": ("s3", "PutObject"),
    "aws-sdk:sfn:describeExecution": ("stepfunctions", "DescribeExecution"),
    "aws-sdk:dynamodb:getItem": ("dynamodb", "GetItem"),
    "aws-sdk:dynamodb:putItem": ("dynamodb", "PutItem"),
}

# Step Functions' optimised integrations hand some fields over as JSON rather than as the API's type.
AS_JSON = {
    ("lambda:invoke", "Payload"),
    ("states:startExecution.sync:2", "Input"),
    ("states:startExecution.sync:2", "Output"),
}

# Where TestState was recorded enforcing a different limit than today's model, the recording wins: on 2025-12-03
# TestState refused `Configuration.MemorySize: 10241` from lambda:getFunction as "exceeds the maximum value"
# (localstack-test-state corpus); later models raise the maximum to 32768.
PINNED = {
    "lambda.MemorySize": {"max": 10240},
}


def pascal(name):
    """Step Functions hands service responses over with PascalCase field names (`executionArn` -> `ExecutionArn`)."""
    return name[:1].upper() + name[1:]


OUT = pathlib.Path(__file__).resolve().parent.parent / "src" / "test_state" / "output_shapes.json"


def walk(service, shape, shapes):
    name = f"{service}.{shape.name}"
    if name in shapes:
        return name
    entry = {"type": shape.type_name}
    shapes[name] = entry
    meta = shape.metadata
    for key in ("min", "max"):
        if key in meta:
            entry[key] = meta[key]
    if getattr(shape, "enum", None):
        entry["enum"] = list(shape.enum)
    if shape.type_name == "structure":
        entry["required"] = [pascal(m) for m in shape.required_members if m in shape.members]
        entry["members"] = {pascal(m): walk(service, s, shapes) for m, s in shape.members.items()}
    elif shape.type_name == "list":
        entry["member"] = walk(service, shape.member, shapes)
    elif shape.type_name == "map":
        entry["value"] = walk(service, shape.value, shapes)
    entry.update(PINNED.get(name, {}))
    return name


def main():
    session = botocore.session.get_session()
    shapes = {"json": {"type": "json"}}
    operations = {}
    for resource, (service, operation) in OPERATIONS.items():
        model = session.get_service_model(service).operation_model(operation)
        top = walk(service, model.output_shape, shapes)
        # A field an optimised integration hands over as JSON: that resource gets its own copy of the top shape.
        if any(r == resource for r, _ in AS_JSON):
            own = f"{top}#{resource}"
            shapes[own] = dict(shapes[top])
            shapes[own]["members"] = {
                m: ("json" if (resource, m) in AS_JSON else s) for m, s in shapes[top]["members"].items()
            }
            top = own
        operations[resource] = top
    document = {
        "source": f"botocore {botocore.__version__} service models (output shapes), written by statemachine/tools/output_shapes.py",
        "operations": operations,
        "shapes": dict(sorted(shapes.items())),
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"{OUT}: {len(operations)} operations, {len(shapes)} shapes")


if __name__ == "__main__":
    main()
