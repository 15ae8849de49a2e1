//! What the deployed stack tells: its outputs (the state machine, the webhook URL) and the
//! parameters it was deployed with (the SSM parameter names of the secrets).

use std::collections::BTreeMap;

use super::{OncallError, aws};

/// Output keys of `infra/template.yaml`.
pub const STATE_MACHINE_ARN: &str = "StateMachineArn";
pub const WEBHOOK_URL: &str = "WebhookUrl";
/// Parameter keys of `infra/template.yaml`.
pub const BOT_TOKEN_PARAMETER: &str = "TelegramBotTokenParameter";
pub const WEBHOOK_SECRET_PARAMETER: &str = "TelegramWebhookSecretParameter";
pub const BOT_USERNAME: &str = "BotUsername";

pub struct Stack {
    pub name: String,
    pub outputs: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
}

impl Stack {
    pub async fn describe(name: &str) -> Result<Stack, OncallError> {
        let answer = aws::cloudformation()
            .await
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| aws::error("DescribeStacks", e))?;
        let stack = answer.stacks().first().ok_or_else(|| OncallError::Aws {
            operation: "DescribeStacks",
            detail: format!("no stack named {name}"),
        })?;
        let outputs = stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect();
        let parameters = stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value()?.to_owned(),
                ))
            })
            .collect();
        Ok(Stack {
            name: name.to_owned(),
            outputs,
            parameters,
        })
    }

    pub fn output(&self, key: &'static str) -> Result<&str, OncallError> {
        self.outputs
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| OncallError::MissingOutput {
                stack: self.name.clone(),
                key,
            })
    }
}
