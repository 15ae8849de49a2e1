//! Task `Resource`: an ARN, checked as far as its form goes (AWS also checks that it exists, which needs an account).

use serde_json::Value;

use super::State;
use crate::validate::MachineType;
use crate::validate::checker::Checker;
use crate::validate::placeholders::contains_placeholder;
use crate::validate::report::Code;

/// Service-integration suffixes that Express workflows cannot use.
const EXPRESS_UNSUPPORTED: &[&str] = &[".waitForTaskToken", ".sync"];

/// The parts of `arn:partition:service:region:account:resource` that the checks look at.
struct Arn<'a> {
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn parse_arn(text: &str) -> Option<Arn<'_>> {
    let mut parts = text.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let well_formed = partition.starts_with("aws") && !service.is_empty() && !resource.is_empty();
    well_formed.then_some(Arn {
        service,
        region,
        account,
        resource,
    })
}

fn is_cloudformation_intrinsic(value: &Value) -> bool {
    match value {
        Value::Object(map) if map.len() == 1 => {
            map.keys().all(|k| k == "Ref" || k.starts_with("Fn::"))
        }
        _ => false,
    }
}

/// `function:NAME` or `function:NAME:QUALIFIER` (a version, an alias or `$LATEST`).
fn is_lambda_function(resource: &str) -> bool {
    let Some(rest) = resource.strip_prefix("function:") else {
        return true;
    };
    let mut parts = rest.split(':');
    let name_ok = parts.next().is_some_and(|name| {
        !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    let qualifier_ok = match parts.next() {
        None => true,
        Some("$LATEST") => true,
        Some(q) => {
            !q.is_empty()
                && q.len() <= 128
                && q.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
    };
    name_ok && qualifier_ok && parts.next().is_none()
}

impl Checker<'_> {
    pub(super) fn resource(&mut self, state: State<'_>) {
        let obj = state.obj;
        // A SAM `${Name}` placeholder, or a CloudFormation `{"Ref": ...}`/`{"Fn::GetAtt": ...}` in a definition
        // written inline in a template, only has a value at deploy time (see the `placeholders` module).
        if obj.get("Resource").is_some_and(is_cloudformation_intrinsic) {
            return;
        }
        let Some(resource) = self.string(obj, "Resource") else {
            return;
        };
        if contains_placeholder(resource) {
            return;
        }
        let at = obj.at("Resource");
        let valid = parse_arn(resource)
            .filter(|arn| arn.service != "lambda" || is_lambda_function(arn.resource));
        let Some(arn) = valid else {
            self.error(
                Code::InvalidResource,
                &at,
                format!(
                    "The resource provided {resource} is not recognized. The value is not a valid resource ARN, \
                     or the resource is not available in this region."
                ),
            );
            return;
        };
        let integration =
            arn.service == "states" && arn.region.is_empty() && arn.account.is_empty();
        if integration && self.options.machine_type == MachineType::Express {
            for suffix in EXPRESS_UNSUPPORTED {
                if arn.resource.contains(suffix) {
                    // AWS's message, trailing space included.
                    self.schema(
                        &at,
                        format!(
                            "Express state machine does not support '{suffix}' service integration "
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        assert!(parse_arn("arn:aws:lambda:us-east-1:123456789012:function:f").is_some());
        assert!(parse_arn("arn:aws:states:::lambda:invoke").is_some());
        assert!(parse_arn("arn:aws-cn:states:cn-north-1:1:activity:a").is_some());
        assert!(parse_arn("foo:bar").is_none());
        assert!(parse_arn("${lambdaArn").is_none());
        assert!(parse_arn("arn:aws:lambda:us-east-1:1:").is_none());
    }

    #[test]
    fn cloudformation_intrinsics() {
        assert!(is_cloudformation_intrinsic(
            &serde_json::json!({"Fn::GetAtt": ["F", "Arn"]})
        ));
        assert!(is_cloudformation_intrinsic(
            &serde_json::json!({"Ref": "F"})
        ));
        assert!(!is_cloudformation_intrinsic(
            &serde_json::json!({"Ref": "F", "x": 1})
        ));
        assert!(!is_cloudformation_intrinsic(&serde_json::json!(
            "arn:aws:states:::lambda:invoke"
        )));
    }

    #[test]
    fn lambda_function_names_and_qualifiers() {
        assert!(is_lambda_function("function:my-fn_1"));
        assert!(is_lambda_function("function:my-fn:$LATEST"));
        assert!(is_lambda_function("function:my-fn:prod"));
        assert!(!is_lambda_function("function:FUNCTION_NAME:"));
        assert!(!is_lambda_function("function:FUNCTION_NAME:$*#$7485"));
        assert!(!is_lambda_function("function:"));
    }
}
