//! The webhook over HTTP: who may call, what is read, and what Telegram is answered.

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use tracing::{error, info, warn};

use super::handler::Webhook;
use super::secret::WebhookSecret;
use super::update::Update;
use crate::errors::Named;

/// Telegram's header with the secret set by `setWebhook`. `http` header names are lowercase and
/// matched case-insensitively, whatever case the client sent.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Far above any real update (a message is at most 4096 characters, with entities and a quoted
/// reply a few tens of KiB), far below what would cost us to read.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The webhook's HTTP face. Build once at start.
#[derive(Debug, Clone)]
pub struct Endpoint {
    secret: WebhookSecret,
    webhook: Webhook,
    max_body_bytes: usize,
}

impl Endpoint {
    pub fn new(secret: WebhookSecret, webhook: Webhook) -> Self {
        Endpoint {
            secret,
            webhook,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }

    pub fn with_max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Answers one request. Statuses:
    /// - 401: no or wrong secret; nothing else is looked at.
    /// - 405: not a POST.
    /// - 413: body over the limit, not parsed. Only Telegram knows the secret and no real update is
    ///   that large, so this is a bug worth the redeliveries and the error `getWebhookInfo` shows.
    /// - 503: the store is unreachable; nothing was done, Telegram redelivers, and every effect is
    ///   idempotent, so the redelivery is safe.
    /// - 200: everything else, including bodies we cannot read (redelivering those cannot help),
    ///   with the reply, if any, as a Bot API call in the body.
    pub async fn serve<B: AsRef<[u8]>>(&self, request: &Request<B>) -> Response<String> {
        let presented = request
            .headers()
            .get(SECRET_HEADER)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        if !self.secret.matches(presented) {
            warn!(method = %request.method(), has_header = request.headers().contains_key(SECRET_HEADER), "request without the webhook secret refused");
            return status(StatusCode::UNAUTHORIZED);
        }
        if request.method() != Method::POST {
            let mut response = status(StatusCode::METHOD_NOT_ALLOWED);
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        let body = request.body().as_ref();
        if body.len() > self.max_body_bytes {
            error!(
                bytes = body.len(),
                limit = self.max_body_bytes,
                "update body over the limit refused"
            );
            return status(StatusCode::PAYLOAD_TOO_LARGE);
        }
        let update: Update = match serde_json::from_slice(body) {
            Ok(update) => update,
            Err(err) => {
                // The body holds people's messages, and serde_json's message quotes the value it
                // choked on: log only the kind of error and where it is.
                warn!(
                    bytes = body.len(),
                    kind = ?err.classify(),
                    line = err.line(),
                    column = err.column(),
                    "unreadable update ignored"
                );
                return status(StatusCode::OK);
            }
        };
        let reply = match self.webhook.handle(&update).await {
            Ok(reply) => reply,
            Err(err) => {
                error!(update_id = update.update_id, error_name = %err.error_name(), error = %err, "update not handled; Telegram will redeliver");
                return status(StatusCode::SERVICE_UNAVAILABLE);
            }
        };
        let Some(reply) = reply else {
            info!(update_id = update.update_id, "update handled, no reply");
            return status(StatusCode::OK);
        };
        match reply.webhook_body() {
            Ok(body) => {
                info!(
                    update_id = update.update_id,
                    "update handled, reply in the response"
                );
                let mut response = Response::new(body.to_string());
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
            Err(err) => {
                error!(update_id = update.update_id, error = %err, "reply could not be encoded");
                status(StatusCode::OK)
            }
        }
    }
}

fn status(code: StatusCode) -> Response<String> {
    let mut response = Response::new(String::new());
    *response.status_mut() = code;
    response
}
